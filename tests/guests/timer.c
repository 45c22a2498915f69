/*
 * The virtual APIC timer in its three modes (SDM Vol. 3A 11.5.4), timed
 * with the TSC, whose frequency CPUID leaf 0x15 states: TSC-deadline,
 * one-shot and periodic, each waited for with HLT so the vCPU really
 * sleeps. Also the frequency leaves and the feature bits Linux needs.
 * Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("timer");

#define X2APIC_EOI 0x80b
#define X2APIC_SVR 0x80f
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_TIMER_INIT 0x838
#define X2APIC_TIMER_CUR 0x839
#define X2APIC_TIMER_DIV 0x83e
#define MSR_TSC_DEADLINE 0x6e0
#define VEC 0x60

volatile uint32_t ticks;
volatile uint64_t tick_tsc[8];

void timer_irq(void);

void timer_irq(void)
{
	if (ticks < ARRAY_SIZE(tick_tsc))
		tick_tsc[ticks] = rdtsc();
	ticks++;
}

__asm__(".globl timer_stub\n"
	"timer_stub:\n\t"
	"push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n\t"
	"push %r8; push %r9; push %r10; push %r11\n\t"
	"call timer_irq\n\t"
	"mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n\t"
	"pop %r11; pop %r10; pop %r9; pop %r8\n\t"
	"pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n\t"
	"iretq");
extern char timer_stub[];

static void idt_setup(void)
{
	guest_set_interrupt_gate(VEC, timer_stub);
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

/* Sleep with HLT until @n timer interrupts have arrived (or give up). */
static void wait_ticks(uint32_t n, uint64_t limit)
{
	uint64_t t0 = rdtsc();

	while (ticks < n && rdtsc() - t0 < limit)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static int check_cpuid(uint64_t *hz)
{
	struct cpuid_regs l15 = cpuid(0x15, 0), l1 = cpuid(1, 0), l6 = cpuid(6, 0);
	int fail = 0;

	*hz = l15.eax ? (uint64_t)l15.ecx * l15.ebx / l15.eax : 0;
	fail += check(*hz > 1000000, "CPUID 0x15 states the TSC frequency: %lu Hz", *hz);
	fail += check(l1.ecx & (1u << 24), "CPUID.1:ECX TSC-deadline timer");
	fail += check(l6.eax & (1u << 2), "CPUID.6:EAX ARAT");
	return fail;
}

static int check_deadline(uint64_t ms)
{
	uint64_t t0;

	ticks = 0;
	wrmsr(X2APIC_LVT_TIMER, (2u << 17) | VEC);
	t0 = rdtsc();
	wrmsr(MSR_TSC_DEADLINE, t0 + 2 * ms);
	wait_ticks(1, 200 * ms);
	return check(ticks == 1 && tick_tsc[0] >= t0 + 2 * ms && tick_tsc[0] < t0 + 100 * ms,
		     "TSC-deadline 2 ms: %u interrupt(s), after %lu us", ticks,
		     (tick_tsc[0] - t0) * 1000 / ms);
}

static int check_oneshot(uint64_t ms)
{
	uint64_t t0;
	int fail;

	ticks = 0;
	wrmsr(X2APIC_LVT_TIMER, VEC);                  /* one-shot */
	wrmsr(X2APIC_TIMER_DIV, 0xb);                   /* divide by 1 */
	t0 = rdtsc();
	wrmsr(X2APIC_TIMER_INIT, 3 * ms);
	fail = check(rdmsr(X2APIC_TIMER_CUR) <= 3 * ms, "current count counts down");
	wait_ticks(1, 40 * ms);
	/* Spin, interrupts on, for 6 ms more: a one-shot timer stays quiet. */
	for (uint64_t t = rdtsc(); rdtsc() - t < 6 * ms;)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	fail += check(ticks == 1 && tick_tsc[0] >= t0 + 3 * ms,
		      "one-shot 3 ms: %u interrupt(s), first after %lu us", ticks,
		      (tick_tsc[0] - t0) * 1000 / ms);
	return fail;
}

static int check_periodic(uint64_t ms)
{
	uint64_t t0;

	ticks = 0;
	wrmsr(X2APIC_LVT_TIMER, (1u << 17) | VEC);     /* periodic */
	t0 = rdtsc();
	wrmsr(X2APIC_TIMER_INIT, 2 * ms);
	wait_ticks(5, 500 * ms);
	wrmsr(X2APIC_TIMER_INIT, 0);                    /* stop */
	return check(ticks >= 5 && tick_tsc[4] >= t0 + 10 * ms,
		     "periodic 2 ms: %u interrupts, fifth after %lu us", ticks,
		     (tick_tsc[4] - t0) * 1000 / ms);
}

int main(const struct hv_boot_info *bi)
{
	uint64_t hz;
	int fail;

	(void)bi;
	idt_setup();
	wrmsr(X2APIC_SVR, 0x1ff);
	fail = check_cpuid(&hz);
	if (hz) {
		fail += check_deadline(hz / 1000);
		fail += check_oneshot(hz / 1000);
		fail += check_periodic(hz / 1000);
	}
	check(!fail, "%d failure(s)", fail);
	return fail;
}
