/*
 * The AMD SVM virtual machine control block (APM Vol. 2 Appendix B).
 * Only arch/x86/svm*.c include this: nothing else sees a VMCB.
 */
#ifndef ARCH_X86_SVM_H
#define ARCH_X86_SVM_H

#include "core/types.h"

struct vmcb_seg {
	uint16_t sel;
	uint16_t attrib;   /* type S DPL P in 7:0, AVL L DB G in 11:8 */
	uint32_t limit;
	uint64_t base;
} __packed;

struct vmcb {
	/* Control area, offset 0 (Table B-1). */
	uint32_t intercept_cr;        /* 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;        /* 0x004 */
	uint32_t intercept_exc;       /* 0x008 */
	uint32_t intercept_misc1;     /* 0x00c */
	uint32_t intercept_misc2;     /* 0x010 */
	uint32_t intercept_misc3;     /* 0x014 */
	uint8_t reserved0[0x3c - 0x18];
	uint16_t pause_thresh;        /* 0x03c */
	uint16_t pause_count;         /* 0x03e */
	uint64_t iopm_pa;             /* 0x040 */
	uint64_t msrpm_pa;            /* 0x048 */
	uint64_t tsc_offset;          /* 0x050 */
	uint32_t asid;                /* 0x058 */
	uint8_t tlb_control;          /* 0x05c */
	uint8_t reserved1[3];
	uint32_t int_ctl;             /* 0x060: V_TPR, V_IRQ (bit 8), V_INTR_MASKING (24) */
	uint32_t int_vector;          /* 0x064 */
	uint64_t int_state;           /* 0x068: interrupt shadow in bit 0 */
	uint64_t exit_code;           /* 0x070 */
	uint64_t exit_info1;          /* 0x078 */
	uint64_t exit_info2;          /* 0x080 */
	uint64_t exit_int_info;       /* 0x088 */
	uint64_t np_enable;           /* 0x090 */
	uint64_t avic_bar;            /* 0x098 */
	uint64_t ghcb_pa;             /* 0x0a0 */
	uint64_t event_inj;           /* 0x0a8 */
	uint64_t n_cr3;               /* 0x0b0 */
	uint64_t virt_ext;            /* 0x0b8 */
	uint32_t clean;               /* 0x0c0 */
	uint32_t reserved2;
	uint64_t next_rip;            /* 0x0c8 */
	uint8_t insn_len;             /* 0x0d0 */
	uint8_t insn_bytes[15];
	uint8_t reserved3[0x400 - 0xe0];
	/* State save area, offset 0x400 (Table B-2). */
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	uint8_t reserved4[0x4cb - 0x4a0];
	uint8_t cpl;                  /* 0x4cb */
	uint32_t reserved5;
	uint64_t efer;                /* 0x4d0 */
	uint8_t reserved6[0x548 - 0x4d8];
	uint64_t cr4;                 /* 0x548 */
	uint64_t cr3;                 /* 0x550 */
	uint64_t cr0;                 /* 0x558 */
	uint64_t dr7;                 /* 0x560 */
	uint64_t dr6;                 /* 0x568 */
	uint64_t rflags;              /* 0x570 */
	uint64_t rip;                 /* 0x578 */
	uint8_t reserved7[0x5d8 - 0x580];
	uint64_t rsp;                 /* 0x5d8 */
	uint8_t reserved8[0x5f8 - 0x5e0];
	uint64_t rax;                 /* 0x5f8 */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;    /* 0x600 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;       /* 0x628 */
	uint64_t cr2;                 /* 0x640 */
	uint8_t reserved9[0x668 - 0x648];
	uint64_t g_pat;               /* 0x668 */
	uint8_t reserved10[0x1000 - 0x670];
} __packed;

_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
_Static_assert(__builtin_offsetof(struct vmcb, exit_code) == 0x70, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, next_rip) == 0xc8, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, cpl) == 0x4cb, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, rip) == 0x578, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB layout");

/* Intercept vector 3 (misc1) and 4 (misc2), APM Vol. 2 Table B-1. */
#define SVM_INT_INTR (1u << 0)
#define SVM_INT_NMI (1u << 1)
#define SVM_INT_INIT (1u << 3)
#define SVM_INT_VINTR (1u << 4)
#define SVM_INT_RDPMC (1u << 15)
#define SVM_INT_CPUID (1u << 18)
#define SVM_INT_INVD (1u << 22)
#define SVM_INT_HLT (1u << 24)
#define SVM_INT_INVLPGA (1u << 26)
#define SVM_INT_IOIO (1u << 27)
#define SVM_INT_MSR (1u << 28)
#define SVM_INT_TASK_SWITCH (1u << 29)
#define SVM_INT_SHUTDOWN (1u << 31)
#define SVM_INT2_VMRUN (1u << 0)
#define SVM_INT2_VMMCALL (1u << 1)
#define SVM_INT2_VMLOAD (1u << 2)
#define SVM_INT2_VMSAVE (1u << 3)
#define SVM_INT2_STGI (1u << 4)
#define SVM_INT2_CLGI (1u << 5)
#define SVM_INT2_SKINIT (1u << 6)
#define SVM_INT2_MONITOR (1u << 10)
#define SVM_INT2_MWAIT (1u << 11)
#define SVM_INT2_MWAIT_COND (1u << 12)
#define SVM_INT2_XSETBV (1u << 13)

/* Exit codes, APM Vol. 2 Appendix C. */
#define SVM_EXIT_EXC_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID (~0ull)

/* EVENTINJ / EXITINTINFO (APM Vol. 2 15.20). */
#define SVM_EVT_VALID (1u << 31)
#define SVM_EVT_ERR_VALID (1u << 11)
#define SVM_EVT_TYPE_EXC (3u << 8)

#define EFER_SVME (1ull << 12)

#endif
