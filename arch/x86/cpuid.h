/* The CPUID view a guest gets. */
#ifndef ARCH_X86_CPUID_H
#define ARCH_X86_CPUID_H

#include "arch/x86/cpu.h"
#include "core/vm.h"

#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_SIGNATURE "HVX86HVX86HV"

void cpuid_guest(struct vcpu *vcpu, uint32_t leaf, uint32_t sub, struct cpuid_regs *out);
/* Is @xcr0 a value XSETBV may load (SDM Vol. 1 13.3)? */
bool cpuid_xcr0_valid(uint64_t xcr0);

#endif
