/* The x86 part of each CPU's private data (embedded in struct pcpu). */
#ifndef ARCH_X86_PCPU_ARCH_H
#define ARCH_X86_PCPU_ARCH_H

#include "core/types.h"
#include "arch/x86/lapic.h"

/* 64-bit TSS, SDM Vol. 3A 8.7. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

#define IST_NMI 1
#define IST_DF 2
#define IST_MC 3

/* What this CPU's VMX (or SVM) capability MSRs say. */
struct virt_caps {
	bool vmx;          /* VT-x usable: present and allowed by firmware */
	bool vmx_locked_off;
	bool ept, ept_2m, ept_1g, ept_wb, invept;
	bool vpid, unrestricted, preempt_timer, posted_intr;
	bool apic_virt, virt_intr_delivery, x2apic_virt;
	uint32_t vmcs_revision;
	bool svm, npt;     /* AMD-V, reported only */
};

struct pcpu_arch {
	uint64_t gdt[5];   /* null, code, data, TSS (two slots) */
	struct tss64 tss;
	struct virt_caps caps;
	bool x2apic;
	uint64_t timer_deadline[LAPIC_TIMER_USERS];   /* TSC; 0 = none */
	bool timer_set_up;         /* divide and LVT written for the host timer */
};

#endif
