/*
 * The local APIC each vCPU sees, in x2APIC mode through MSRs 0x800-0x8ff
 * (SDM Vol. 3A 11.12): interrupt request and in-service registers with
 * priorities, TPR, EOI, self-IPIs and IPIs between the VM's vCPUs. The
 * back-end asks vlapic_pending() before each entry and injects.
 */
#ifndef VDEV_VLAPIC_H
#define VDEV_VLAPIC_H

#include "core/vm.h"

#define VLAPIC_BASE_DEFAULT 0xfee00000ull

struct vlapic {
	uint32_t irr[8], isr[8];   /* 256 bits each */
	uint32_t tpr, svr, esr, lvt[7], ldr;
	uint64_t apic_base;
	volatile uint32_t irr_lock;
};

void vlapic_reset(struct vcpu *vcpu);
bool vlapic_msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val);
bool vlapic_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t val);

/* Raise @vector on @vcpu (any CPU may call this); kicks its CPU. */
void vlapic_set_irq(struct vcpu *vcpu, uint8_t vector);
/* Highest requested vector the priorities let through, or -1. */
int vlapic_pending(struct vcpu *vcpu);
/* The guest is being given @vector: request -> in service. */
void vlapic_accept(struct vcpu *vcpu, uint8_t vector);

#endif
