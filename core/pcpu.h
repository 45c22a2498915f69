/*
 * Per-CPU data: one page-aligned struct pcpu per CPU, reached through
 * the GS base, whose first word points at the struct itself.
 */
#ifndef CORE_PCPU_H
#define CORE_PCPU_H

#include "core/types.h"
#include "arch/x86/pcpu_arch.h"

#define MAX_CPUS 64

struct vcpu;

struct pcpu {
	struct pcpu *self;        /* must stay first: %gs:0 */
	uint32_t id;              /* dense index, 0 = boot CPU */
	uint32_t apic_id;
	uint64_t stack_top;       /* main stack */
	uint64_t stack_bottom;
	volatile bool online;
	volatile bool go;         /* set by cpu0 once VMs are set up */
	struct vcpu *vcpu;        /* what this CPU runs, or NULL */
	/* The NMI that stops this CPU's VM waits while stop_hold is non-zero
	 * (core/console_input.c); stop_pending says it came. */
	volatile unsigned stop_hold;
	volatile bool stop_pending;
	struct pcpu_arch arch;
} __aligned(4096);

extern struct pcpu pcpus[MAX_CPUS];
extern unsigned int ncpus_online;

static inline struct pcpu *this_cpu(void)
{
	struct pcpu *p;

	asm volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Valid before per-CPU setup too: reports 0 until GS is set up. */
unsigned int this_cpu_id(void);

#endif
