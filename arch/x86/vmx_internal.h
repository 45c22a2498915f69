/* State shared by the VT-x back-end's files (arch/x86/vmx*.c). */
#ifndef ARCH_X86_VMX_INTERNAL_H
#define ARCH_X86_VMX_INTERNAL_H

#include "arch/x86/vmx.h"
#include "core/vm.h"

struct vmx_vcpu {
	paddr_t vmcs;
	bool launched;
	uint32_t proc_ctls;
	uint32_t entry_ctls;
};

/* Fixed-bit rules for guest CR0/CR4, read once (SDM Appendix A.7, A.8). */
struct vmx_fixed {
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};
extern struct vmx_fixed vmx_fixed;

static inline struct vmx_vcpu *to_vmx(struct vcpu *v)
{
	return v->arch;
}

void vmx_exit_handler(struct guest_regs *regs);
__noreturn void vmx_enter_first(struct guest_regs *regs);
__noreturn void vmx_entry_failed(struct guest_regs *regs);

/* Guest CR0/CR4 writes and paging-mode changes (arch/x86/vmx_cr.c). */
bool vmx_set_cr0(struct vcpu *vcpu, uint64_t val);
bool vmx_set_cr4(struct vcpu *vcpu, uint64_t val);
bool vmx_set_efer(struct vcpu *vcpu, uint64_t val);

void vmx_dump_guest(struct vcpu *vcpu);
/* Interrupt delivery from the vLAPIC (arch/x86/vmx_exit.c). */
void vmx_deliver_interrupt(struct vcpu *vcpu);

#endif
