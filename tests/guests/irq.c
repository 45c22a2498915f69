/*
 * Interrupt delivery through the virtual x2APIC (SDM Vol. 3A 11.12):
 * self-IPIs by the SELF IPI register and by the ICR, delivery held back
 * while RFLAGS.IF is clear and given as soon as it is set (the
 * interrupt-window path), the highest priority first, and TPR masking
 * lower classes. Handlers count each vector and send EOI.
 * Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("irq");

#define MSR_APIC_BASE 0x1b
#define X2APIC_TPR 0x808
#define X2APIC_EOI 0x80b
#define X2APIC_SVR 0x80f
#define X2APIC_IRR0 0x820
#define X2APIC_ICR 0x830
#define X2APIC_SELF_IPI 0x83f
#define ICR_SELF (1ull << 18)

volatile uint32_t hits[256];
volatile uint8_t order[8];
volatile uint32_t norder;

void irq_record(uint64_t vector);

void irq_record(uint64_t vector)
{
	hits[vector]++;
	if (norder < ARRAY_SIZE(order))
		order[norder++] = (uint8_t)vector;
}

/* One stub per vector: save what C clobbers, record, EOI, return. */
#define IRQ_STUB(vec)                                                           \
	__asm__(".globl irq_stub_" #vec "\n"                                     \
		"irq_stub_" #vec ":\n\t"                                          \
		"push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n\t"      \
		"push %r8; push %r9; push %r10; push %r11\n\t"                    \
		"mov $" #vec ", %edi\n\t"                                         \
		"call irq_record\n\t"                                             \
		"mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n\t"    \
		"pop %r11; pop %r10; pop %r9; pop %r8\n\t"                        \
		"pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n\t"           \
		"iretq")
IRQ_STUB(0x40);
IRQ_STUB(0x41);
IRQ_STUB(0x50);
extern char irq_stub_0x40[], irq_stub_0x41[], irq_stub_0x50[];

/* In xAPIC mode EOI is an MMIO write to 0xFEE000B0 (SDM 11.8.5). */
__asm__(".globl irq_stub_xapic\n"
	"irq_stub_xapic:\n\t"
	"push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n\t"
	"push %r8; push %r9; push %r10; push %r11\n\t"
	"mov $0x42, %edi\n\t"
	"call irq_record\n\t"
	"mov $0xfee000b0, %eax; movl $0, (%rax)\n\t"
	"pop %r11; pop %r10; pop %r9; pop %r8\n\t"
	"pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n\t"
	"iretq");
extern char irq_stub_xapic[];

/* Keep the library's exception gates, add ours above them. */
static void idt_extend(void)
{
	guest_set_interrupt_gate(0x40, irq_stub_0x40);
	guest_set_interrupt_gate(0x41, irq_stub_0x41);
	guest_set_interrupt_gate(0x50, irq_stub_0x50);
	guest_set_interrupt_gate(0x42, irq_stub_xapic);
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void sti_nop(void) { __asm__ volatile("sti; nop" ::: "memory"); }
static void cli(void) { __asm__ volatile("cli" ::: "memory"); }

static int check_setup(void)
{
	int fail = 0;
	uint64_t base = rdmsr(MSR_APIC_BASE);

	fail += check(cpuid(1, 0).ecx & (1u << 21), "CPUID.1:ECX x2APIC = 1");
	fail += check((base & 0xc00) == 0xc00, "IA32_APIC_BASE 0x%lx: enabled, x2APIC mode", base);
	fail += check(guest_try_wrmsr(MSR_APIC_BASE, base & ~0x400ull) == VEC_GP,
		      "leaving x2APIC mode -> #GP");
	wrmsr(X2APIC_SVR, 0x1ff);
	return fail;
}

static int check_self_ipi(void)
{
	int fail = 0;

	sti_nop();
	wrmsr(X2APIC_SELF_IPI, 0x40);
	fail += check(hits[0x40] == 1, "SELF IPI 0x40 delivered at once (hits %u)", hits[0x40]);
	wrmsr(X2APIC_ICR, ICR_SELF | 0x41);
	fail += check(hits[0x41] == 1, "ICR self IPI 0x41 delivered (hits %u)", hits[0x41]);
	return fail;
}

static int check_masked_by_if(void)
{
	int fail = 0;

	cli();
	wrmsr(X2APIC_SELF_IPI, 0x40);
	fail += check(hits[0x40] == 1, "IF=0 holds 0x40 back (hits %u)", hits[0x40]);
	fail += check(rdmsr(X2APIC_IRR0 + 2) & 1, "0x40 waits in IRR");
	sti_nop();
	fail += check(hits[0x40] == 2, "STI lets 0x40 through (hits %u)", hits[0x40]);
	return fail;
}

static int check_priority_and_tpr(void)
{
	int fail = 0;

	cli();
	norder = 0;
	wrmsr(X2APIC_SELF_IPI, 0x41);
	wrmsr(X2APIC_SELF_IPI, 0x50);
	sti_nop();
	fail += check(norder == 2 && order[0] == 0x50 && order[1] == 0x41,
		      "higher class first: got %u: 0x%x 0x%x", norder, order[0], order[1]);
	wrmsr(X2APIC_TPR, 0x50);
	wrmsr(X2APIC_SELF_IPI, 0x41);
	fail += check(hits[0x41] == 2, "TPR 0x50 masks 0x41 (hits %u)", hits[0x41]);
	wrmsr(X2APIC_TPR, 0);
	fail += check(hits[0x41] == 3, "TPR 0 lets 0x41 through (hits %u)", hits[0x41]);
	return fail;
}

static volatile uint32_t *xapic_reg(unsigned off)
{
	return (volatile uint32_t *)(uintptr_t)(0xfee00000u + off);
}

/* Leave x2APIC mode the architectural way (through disabled) and use
 * the MMIO page: ID, self-IPI through the two ICR halves, EOI. */
static int check_xapic_mode(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	int fail = 0;

	fail += check(guest_try_wrmsr(MSR_APIC_BASE, base & ~0x400ull) == VEC_GP,
		      "x2APIC -> xAPIC directly -> #GP");
	wrmsr(MSR_APIC_BASE, base & ~0xc00ull);               /* disabled */
	wrmsr(MSR_APIC_BASE, (base & ~0xc00ull) | 0x800);     /* xAPIC */
	fail += check((rdmsr(MSR_APIC_BASE) & 0xc00) == 0x800, "now in xAPIC mode");
	fail += check(*xapic_reg(0x20) == 0, "xAPIC ID register reads 0x%x", *xapic_reg(0x20));
	fail += check(guest_try_rdmsr(X2APIC_TPR, &base) == VEC_GP, "x2APIC MSRs -> #GP in xAPIC mode");
	*xapic_reg(0xf0) = 0x1ff;                             /* SVR */
	sti_nop();
	*xapic_reg(0x310) = 0;                                /* ICR high: APIC 0 */
	*xapic_reg(0x300) = 0x42;                             /* ICR low: fixed, sends */
	fail += check(hits[0x42] == 1, "xAPIC ICR IPI 0x42 delivered (hits %u)", hits[0x42]);
	fail += check(*xapic_reg(0x100 + 0x40 / 32 * 0x10) == 0, "ISR clear after MMIO EOI");
	cli();
	return fail;
}

int main(const struct hv_boot_info *bi)
{
	int fail;

	(void)bi;
	idt_extend();
	fail = check_setup();
	fail += check_self_ipi();
	fail += check_masked_by_if();
	fail += check_priority_and_tpr();
	cli();
	fail += check_xapic_mode();
	check(!fail, "%d failure(s)", fail);
	return fail;
}
