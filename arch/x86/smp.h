/* Bringing up the application processors. */
#ifndef ARCH_X86_SMP_H
#define ARCH_X86_SMP_H

#include "boot/mb2.h"

void smp_boot(const struct boot_info *bi);
void smp_set_max_cpus(unsigned int n);
unsigned int smp_enabled_count(void);
__noreturn void cpu_idle(void);
void cpu_run_vcpu(void);
struct vcpu;
/* A secondary vCPU sleeps here until the guest sends it INIT-SIPI-SIPI. */
void cpu_wait_for_sipi(struct vcpu *v);
/* TSC at the hypervisor's first C instruction (core/main.c). */
extern uint64_t boot_tsc;

#endif
