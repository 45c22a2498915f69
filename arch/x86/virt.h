/*
 * The CPU-virtualization back-end interface: VT-x today, SVM beside it
 * later. Generic code (core/, vdev/) calls only these; each back-end
 * decodes its exits into the neutral requests of core/vm.h.
 */
#ifndef ARCH_X86_VIRT_H
#define ARCH_X86_VIRT_H

#include "core/types.h"
#include "core/vm.h"
#include "mm/paging.h"

/* Guest state the generic code may read or write through the back-end. */
enum vreg { VREG_RIP, VREG_RSP, VREG_RFLAGS, VREG_CR0, VREG_CR3, VREG_CR4,
	    VREG_EFER, VREG_PAT, VREG_CPL,
	    VREG_CS_BASE,
	    VREG_CS_ATTR,   /* read-only; SVM layout: L in bit 9, D/B in bit 10 */
};

#define VREG_CS_ATTR_L (1u << 9)
#define VREG_CS_ATTR_D (1u << 10)

struct virt_backend {
	const char *name;                       /* "vmx" */
	const struct pt_format *npt_format;     /* EPT or NPT entries */
	int (*cpu_enable)(void);                /* VMXON on this CPU */
	int (*vcpu_create)(struct vcpu *vcpu);
	/* Load the entry state (registers, control registers, segments). */
	void (*vcpu_reset)(struct vcpu *vcpu);
	/* Enter the guest on this CPU; returns never. */
	__noreturn void (*vcpu_run)(struct vcpu *vcpu);
	/* Queue an exception for the next entry. */
	void (*inject_exception)(struct vcpu *vcpu, unsigned vector, bool has_error,
				 uint32_t error);
	/* Print the guest's state after a crash. */
	void (*dump)(struct vcpu *vcpu);
	uint64_t (*get_reg)(struct vcpu *vcpu, enum vreg reg);
	/* Returns false when the value is not acceptable (caller injects #GP). */
	bool (*set_reg)(struct vcpu *vcpu, enum vreg reg, uint64_t value);
	/* Step over the instruction that caused the current exit. */
	void (*skip_instruction)(struct vcpu *vcpu);
	/* Drop cached guest translations after a change of the NPT. */
	void (*flush_npt)(struct vcpu *vcpu);
	/* Up to @max bytes of the instruction that caused the current exit,
	 * as the CPU fetched them for it (AMD decode assists); 0 when it did
	 * not, and the MMIO emulator fetches them itself. May be NULL. */
	size_t (*exit_insn_bytes)(struct vcpu *vcpu, uint8_t *buf, size_t max);
	/* The name of exit-counter slot @slot (vcpu->exit_counts). */
	const char *(*exit_name)(unsigned slot);
};

/* The back-end chosen at boot, or NULL when the CPU has none usable. */
extern const struct virt_backend *virt;

/* Choose VT-x when usable, else SVM; say why when neither is. */
void virt_select(void);
const struct virt_backend *vmx_backend_get(void);
const struct virt_backend *svm_backend_get(void);

#endif
