/*
 * panic(): print why, stop every other CPU with an NMI, then stop this
 * one. A second CPU that panics meanwhile just stops: the first message is
 * the one that matters.
 */
#include <stdarg.h>
#include "core/panic.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/traps.h"

static volatile uint32_t panicking;
static volatile uint32_t cpus_stopped;

bool panic_in_progress(void)
{
	return __atomic_load_n(&panicking, __ATOMIC_ACQUIRE) != 0;
}

__noreturn void panic_stop_this_cpu(void)
{
	__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_ACQ_REL);
	cpu_halt_forever();
}

static void panic_stop_others(void)
{
	unsigned others = ncpus_online ? ncpus_online - 1 : 0;

	if (!others || !lapic_is_ready())
		return;
	lapic_send_nmi_others();
	for (unsigned long i = 0; i < 100000000ul; i++) {
		if (__atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE) >= others)
			return;
		cpu_relax();
	}
	pr_err("panic: %u of %u other CPUs did not stop\n",
	       others - cpus_stopped, others);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL))
		panic_stop_this_cpu();
	printk(LOG_ERR, "PANIC on cpu%u: ", this_cpu_id());
	va_start(ap, fmt);
	vprintk(LOG_ERR, fmt, ap);
	va_end(ap);
	printk(LOG_ERR, "\n");
	dump_stack_trace((uint64_t)(uintptr_t)__builtin_return_address(0),
			 (uint64_t)(uintptr_t)__builtin_frame_address(0));
	panic_stop_others();
	pr_err("all CPUs stopped\n");
	cpu_halt_forever();
}
