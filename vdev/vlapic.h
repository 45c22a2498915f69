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
	uint32_t icr_hi;           /* xAPIC: ICR bits 63:32 until the low half is written */
	uint64_t apic_base;
	/* Timer (SDM 11.5.4): the APIC clock is the TSC's, as CPUID 0x15 says. */
	uint32_t timer_initial, timer_divide;
	uint64_t timer_deadline;   /* TSC value of the next expiry, 0 = none */
	uint64_t timer_period;     /* TSC ticks, periodic mode */
	uint64_t tsc_deadline_msr;
};

void vlapic_reset(struct vcpu *vcpu);
bool vlapic_msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val);
bool vlapic_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t val);

/* Raise @vector on @vcpu (any CPU may call this); kicks its CPU. */
void vlapic_set_irq(struct vcpu *vcpu, uint8_t vector);
/*
 * Deliver the message-signalled interrupt @data written to @addr (SDM
 * Vol. 3A 11.11) to the vCPUs it addresses; any CPU may call this.
 * Fixed and lowest-priority messages are delivered, the latter to one
 * vCPU. Returns -EINVAL, delivering nothing, for an address outside
 * 0xFEExxxxx, a vector below 16 or another delivery mode: the caller
 * says so once, naming its device.
 */
int vlapic_deliver_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* Highest requested vector the priorities let through, or -1. */
int vlapic_pending(struct vcpu *vcpu);
/* The guest is being given @vector: request -> in service. */
void vlapic_accept(struct vcpu *vcpu, uint8_t vector);
/* Fire the timer if it is due and re-arm this CPU's host timer; called
 * on the vCPU's own CPU after a host interrupt or a HLT. */
void vlapic_timer_check(struct vcpu *vcpu);

#endif
