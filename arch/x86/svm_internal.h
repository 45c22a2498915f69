/* State shared by the SVM back-end's files (arch/x86/svm*.c). */
#ifndef ARCH_X86_SVM_INTERNAL_H
#define ARCH_X86_SVM_INTERNAL_H

#include "arch/x86/svm.h"
#include "core/vm.h"

/* VMCB clean bits (APM Vol. 2 15.15.3) we track. */
#define CLEAN_INTERCEPTS (1u << 0)
#define CLEAN_IOPM (1u << 1)
#define CLEAN_ASID (1u << 2)
#define CLEAN_TPR (1u << 3)
#define CLEAN_NP (1u << 4)
#define CLEAN_CRX (1u << 5)
#define CLEAN_DT (1u << 7)
#define CLEAN_SEG (1u << 8)
#define CLEAN_ALL 0xfffu

struct svm_vcpu {
	struct vmcb *vmcb;
	paddr_t vmcb_pa;
	uint32_t dirty;             /* clean bits to drop before the next VMRUN */
	unsigned last_cpu;          /* VMCB caches are per CPU */
	struct guest_regs regs;     /* RAX is in the VMCB */
};

static inline struct svm_vcpu *to_svm(struct vcpu *v)
{
	return v->arch;
}

void svm_handle_exit(struct vcpu *vcpu);
/* arch/x86/svm_entry.S */
void svm_enter(paddr_t vmcb, paddr_t host_area, struct guest_regs *regs);
void svm_skip_instruction(struct vcpu *vcpu);
bool svm_has_nrips(void);
void svm_dump_guest(struct vcpu *vcpu);
void svm_deliver_interrupt(struct vcpu *vcpu);
const char *svm_exit_name(unsigned slot);

/* Exit codes 0x00-0x8f count as themselves; NPF and VMRUN failure after. */
static inline unsigned svm_exit_slot(uint64_t code)
{
	return code < 0x90 ? (unsigned)code : code == SVM_EXIT_NPF ? 0x90 : 0x91;
}

#endif
