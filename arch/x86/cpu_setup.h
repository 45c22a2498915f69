/* Bringing one CPU's descriptor tables and per-CPU data up. */
#ifndef ARCH_X86_CPU_SETUP_H
#define ARCH_X86_CPU_SETUP_H

#include "core/pcpu.h"

int cpu_alloc_stacks(struct pcpu *c);
void cpu_setup_this(struct pcpu *c);

#endif
