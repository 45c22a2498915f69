/*
 * TSC frequency: CPUID leaf 0x15/0x16 when the CPU states it, otherwise
 * measured against the ACPI PM timer (3.579545 MHz, ACPI 6.4 4.8.3.3), or
 * against PIT channel 2 when there is no PM timer.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/acpi.h"
#include "arch/x86/tsc.h"
#include "core/printk.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define CALIBRATE_MS 20

static uint64_t tsc_khz;

uint64_t tsc_khz_get(void)
{
	return tsc_khz;
}

void udelay(uint64_t us)
{
	uint64_t khz = tsc_khz ? tsc_khz : 3000000; /* before calibration: assume fast */
	uint64_t end = rdtsc() + us * khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

static uint64_t tsc_measure_pm_timer(void)
{
	uint32_t mask = acpi.pm_tmr_32bit ? 0xffffffffu : 0xffffffu;
	uint16_t port = (uint16_t)acpi.pm_tmr;
	uint64_t want = PM_TIMER_HZ * CALIBRATE_MS / 1000, elapsed = 0;
	uint32_t last = inl(port) & mask;
	uint64_t t0 = rdtsc();

	while (elapsed < want) {
		uint32_t now = inl(port) & mask;

		elapsed += (now - last) & mask;
		last = now;
	}
	return (rdtsc() - t0) * PM_TIMER_HZ / elapsed / 1000;
}

static uint64_t tsc_measure_pit(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
	uint64_t t0;

	/* Gate channel 2 on, speaker off; mode 0 one-shot, then poll OUT2. */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	t0 = rdtsc();
	for (unsigned long i = 0; !(inb(0x61) & 0x20); i++) {
		if (i > 100000000ul)
			return 0;
	}
	return (rdtsc() - t0) * PIT_HZ / count / 1000;
}

static uint64_t tsc_from_cpuid(void)
{
	struct cpuid_regs r;

	cpuid_count(0, 0, &r);
	if (r.eax < 0x15)
		return 0;
	cpuid_count(0x15, 0, &r);
	if (r.eax && r.ebx && r.ecx)
		return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
	return 0;
}

void tsc_calibrate(void)
{
	const char *how = "CPUID 0x15";

	tsc_khz = tsc_from_cpuid();
	if (!tsc_khz && acpi.pm_tmr) {
		how = "the ACPI PM timer";
		tsc_khz = tsc_measure_pm_timer();
	}
	if (!tsc_khz) {
		how = "PIT channel 2";
		tsc_khz = tsc_measure_pit();
	}
	if (!tsc_khz) {
		pr_warn("tsc: calibration failed; assuming 1 GHz\n");
		tsc_khz = 1000000;
		return;
	}
	pr_info("tsc: %llu.%03llu MHz, measured with %s\n",
		(unsigned long long)(tsc_khz / 1000), (unsigned long long)(tsc_khz % 1000), how);
}
