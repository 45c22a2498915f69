/* Guest MSR accesses that exit: an allow-list, #GP for the rest. */
#ifndef ARCH_X86_MSR_H
#define ARCH_X86_MSR_H

#include "core/vm.h"

bool msr_guest_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val);
bool msr_guest_write(struct vcpu *vcpu, uint32_t msr, uint64_t val);

#endif
