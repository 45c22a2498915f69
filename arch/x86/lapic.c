/*
 * Local APIC access. x2APIC (MSRs 0x800 + reg/16) when CPUID.1:ECX[21]
 * says so, else xAPIC MMIO at the base in IA32_APIC_BASE. The mode is
 * chosen once on the boot CPU and used on every CPU.
 */
#include "arch/x86/lapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/irq.h"
#include "core/assert.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "mm/hvmap.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_BSP (1ull << 8)

#define REG_ID 0x20
#define REG_TPR 0x80
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ESR 0x280
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERROR 0x370

#define SVR_ENABLE 0x100
#define LVT_MASKED 0x10000
#define ICR_BUSY (1u << 12)

static bool use_x2apic;
static bool mode_chosen;
static volatile uint32_t *xapic_mmio;

static uint32_t lapic_read(uint32_t reg)
{
	if (use_x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return xapic_mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (use_x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		xapic_mmio[reg / 4] = v;
}

static int lapic_choose_mode(void)
{
	struct cpuid_regs r;
	paddr_t base = rdmsr(MSR_IA32_APIC_BASE) & ~0xfffull & ((1ull << 52) - 1);

	cpuid_count(1, 0, &r);
	use_x2apic = r.ecx & (1u << 21);
	if (!use_x2apic) {
		xapic_mmio = hvmap_mmio(base, 4096);
		if (!xapic_mmio)
			return -ENOMEM;
	}
	mode_chosen = true;
	pr_info("lapic: %s mode\n", use_x2apic ? "x2APIC" : "xAPIC");
	return 0;
}

int lapic_init(void)
{
	uint64_t base;
	int err;

	if (!mode_chosen && (err = lapic_choose_mode()))
		return err;
	base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE;
	/* xAPIC -> x2APIC must go through enabled xAPIC (SDM Vol. 3A 11.12.5). */
	wrmsr(MSR_IA32_APIC_BASE, base);
	if (use_x2apic)
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	lapic_write(REG_TPR, 0);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	this_cpu()->arch.timer_set_up = false;
	lapic_write(REG_LVT_ERROR, LVT_MASKED);
	lapic_write(REG_LVT_LINT0, LVT_MASKED);
	/* LINT1 is NMI on PCs; keep it so a front-panel NMI still reaches us. */
	lapic_write(REG_LVT_LINT1, 0x400);
	lapic_write(REG_SVR, SVR_ENABLE | 0xff);
	this_cpu()->arch.x2apic = use_x2apic;
	return 0;
}

bool lapic_is_ready(void)
{
	return mode_chosen;
}

bool lapic_is_x2apic(void)
{
	return use_x2apic;
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(REG_ID);

	return use_x2apic ? id : id >> 24;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr)
{
	if (use_x2apic) {
		/* One 64-bit write; no delivery-status bit in x2APIC mode. */
		wrmsr(0x800 + (REG_ICR_LO >> 4), ((uint64_t)apic_id << 32) | icr);
		return;
	}
	lapic_write(REG_ICR_HI, apic_id << 24);
	lapic_write(REG_ICR_LO, icr);
	for (unsigned i = 0; i < 1000000 && (lapic_read(REG_ICR_LO) & ICR_BUSY); i++)
		cpu_relax();
}

void lapic_send_nmi_others(void)
{
	lapic_send_ipi(0, ICR_NMI | ICR_LEVEL_ASSERT | ICR_DEST_ALL_BUT_SELF);
}

/* End of interrupt: any write to EOI (SDM Vol. 3A 11.8.5). */
void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

static unsigned kick_vector;

static void lapic_kick_handler(unsigned vector, void *ctx)
{
	(void)vector, (void)ctx;   /* waking up (or exiting the guest) was the point */
}

/* A vector whose only job is to make a CPU leave its guest or its HLT. */
uint32_t lapic_kick_vector(void)
{
	return kick_vector;
}

int lapic_kick_init(void)
{
	int v = irq_alloc_vector(lapic_kick_handler, NULL);

	if (v < 0)
		return v;
	kick_vector = (unsigned)v;
	return 0;
}

/*
 * The host timer, one-shot, divide by 1, firing the kick vector, so that
 * the CPU leaves its guest (or its HLT) when something is due. Several
 * users share it: the vCPU's APIC timer and the console input poll. Each
 * CPU keeps a deadline per user and programs the earliest; whoever runs
 * after the kick (vcpu_timers_check) looks at its own deadline and arms
 * again. Its rate is measured once against the TSC.
 */
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0

static uint64_t timer_khz;

void lapic_timer_calibrate(void)
{
	uint64_t khz = tsc_khz_get(), t0;
	uint32_t left;

	if (!khz)
		return;
	lapic_write(REG_TIMER_DIV, 0xb);           /* divide by 1 */
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	this_cpu()->arch.timer_set_up = false;
	lapic_write(REG_TIMER_INIT, 0xffffffffu);
	t0 = rdtsc();
	while (rdtsc() - t0 < khz * 10)            /* 10 ms */
		cpu_relax();
	left = lapic_read(REG_TIMER_CUR);
	lapic_write(REG_TIMER_INIT, 0);
	timer_khz = (0xffffffffull - left) / 10;
	pr_info("lapic: timer at %llu kHz\n", (unsigned long long)timer_khz);
}

static void lapic_timer_program(uint64_t tsc_deadline)
{
	uint64_t now = rdtsc(), khz = tsc_khz_get(), count;

	if (!tsc_deadline || !timer_khz || !khz) {
		lapic_write(REG_TIMER_INIT, 0);
		return;
	}
	count = tsc_deadline > now ? (tsc_deadline - now) * timer_khz / khz : 1;
	if (!this_cpu()->arch.timer_set_up) {
		lapic_write(REG_TIMER_DIV, 0xb);
		lapic_write(REG_LVT_TIMER, kick_vector);   /* one-shot, unmasked */
		this_cpu()->arch.timer_set_up = true;
	}
	lapic_write(REG_TIMER_INIT, (uint32_t)MIN(MAX(count, 1), 0xffffffffull));
}

void lapic_timer_arm(enum lapic_timer_user who, uint64_t tsc_deadline)
{
	uint64_t *d = this_cpu()->arch.timer_deadline, first = 0;

	ASSERT(who < LAPIC_TIMER_USERS);
	d[who] = tsc_deadline;
	for (unsigned i = 0; i < LAPIC_TIMER_USERS; i++)
		if (d[i] && (!first || d[i] < first))
			first = d[i];
	lapic_timer_program(first);
}

uint64_t lapic_timer_deadline(enum lapic_timer_user who)
{
	ASSERT(who < LAPIC_TIMER_USERS);
	return this_cpu()->arch.timer_deadline[who];
}
