/*
 * VT-d remapping hardware: register offsets and bit fields (Intel VT-d
 * specification chapter 10), and the in-memory structures the unit reads
 * (chapter 9: root and context entries, interrupt remapping table entries,
 * invalidation descriptors, fault records). Legacy (not scalable) mode.
 */
#ifndef IOMMU_VTD_REGS_H
#define IOMMU_VTD_REGS_H

#include "core/types.h"

#define BIT64(n) (1ULL << (n))
#define FIELD64(v, lo, bits) (((v) >> (lo)) & ((1ULL << (bits)) - 1))

/* Register offsets, 10.4. */
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44
#define VTD_PMEN 0x64
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define VTD_ICS 0x9c
#define VTD_IECTL 0xa0
#define VTD_IQERCD 0xb0
#define VTD_IRTA 0xb8
/* At ECAP.IRO * 16: invalidate address, then the IOTLB register. */
#define VTD_IOTLB_IVA 0x0
#define VTD_IOTLB_REG 0x8

/* CAP, 10.4.2. */
#define CAP_ND(c) FIELD64(c, 0, 3)
#define CAP_RWBF BIT64(4)
#define CAP_PLMR BIT64(5)
#define CAP_PHMR BIT64(6)
#define CAP_CM BIT64(7)
#define CAP_SAGAW(c) FIELD64(c, 8, 5)
#define CAP_MGAW(c) (FIELD64(c, 16, 6) + 1)
#define CAP_FRO(c) (FIELD64(c, 24, 10) * 16)
#define CAP_SLLPS(c) FIELD64(c, 34, 4)   /* bit 0: 2 MiB, bit 1: 1 GiB */
#define CAP_PSI BIT64(39)
#define CAP_NFR(c) (FIELD64(c, 40, 8) + 1)
#define CAP_DWD BIT64(54)
#define CAP_DRD BIT64(55)
#define CAP_PI BIT64(59)
#define SAGAW_39 (1u << 1)                /* 3-level tables */
#define SAGAW_48 (1u << 2)                /* 4-level tables */

/* ECAP, 10.4.3. */
#define ECAP_C BIT64(0)                   /* page walks snoop the CPU caches */
#define ECAP_QI BIT64(1)
#define ECAP_DT BIT64(2)
#define ECAP_IR BIT64(3)
#define ECAP_EIM BIT64(4)
#define ECAP_PT BIT64(6)
#define ECAP_SC BIT64(7)
#define ECAP_IRO(e) (FIELD64(e, 8, 10) * 16)
#define ECAP_NEST BIT64(26)
#define ECAP_PASID BIT64(40)
#define ECAP_SMTS BIT64(43)
#define ECAP_SLTS BIT64(46)

/* GCMD / GSTS, 10.4.4 and 10.4.5: the same bit positions. */
#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)
#define GCMD_SFL (1u << 29)
#define GCMD_EAFL (1u << 28)
#define GCMD_WBF (1u << 27)
#define GCMD_QIE (1u << 26)
#define GCMD_IRE (1u << 25)
#define GCMD_SIRTP (1u << 24)
#define GCMD_CFI (1u << 23)
/* One-shot commands: never written back from GSTS (10.4.4). */
#define GCMD_ONE_SHOT (GCMD_SRTP | GCMD_SFL | GCMD_WBF | GCMD_SIRTP)

/* CCMD, 10.4.7. */
#define CCMD_ICC BIT64(63)
#define CCMD_GLOBAL (1ULL << 61)
#define CCMD_DOMAIN (2ULL << 61)
#define CCMD_DEVICE (3ULL << 61)
#define CCMD_SID(s) ((uint64_t)(s) << 16)

/* IOTLB register, 10.4.8.1. */
#define IOTLB_IVT BIT64(63)
#define IOTLB_GLOBAL (1ULL << 60)
#define IOTLB_DOMAIN (2ULL << 60)
#define IOTLB_DR BIT64(49)
#define IOTLB_DW BIT64(48)
#define IOTLB_DID(d) ((uint64_t)(d) << 32)

/* FSTS and FECTL, 10.4.9 and 10.4.10. */
#define FSTS_PFO (1u << 0)
#define FSTS_PPF (1u << 1)
#define FSTS_IQE (1u << 4)
#define FSTS_ICE (1u << 5)
#define FSTS_ITE (1u << 6)
#define FSTS_FRI(f) (((f) >> 8) & 0xff)
#define FECTL_IM (1u << 31)

/* PMEN, 10.4.16. */
#define PMEN_EPM (1u << 31)
#define PMEN_PRS (1u << 0)

/* IQA, 10.4.23; IRTA, 10.4.29. */
#define IQA_QS_4K 0                       /* 2^0 pages: 256 128-bit descriptors */
#define IRTA_EIME (1u << 11)

/* Fault recording register, 10.4.14: the high quadword. */
#define FRCD_HI_F BIT64(63)
#define FRCD_HI_T BIT64(62)               /* 1: read, 0: write */
#define FRCD_HI_FR(h) FIELD64(h, 32, 8)
#define FRCD_HI_SID(h) FIELD64(h, 0, 16)
#define FRCD_HI_PP BIT64(31)
#define FRCD_HI_EXE BIT64(30)

/* Root and context entries, 9.1 and 9.3 (legacy mode). */
struct vtd_entry128 {
	uint64_t lo, hi;
};

#define ROOT_P BIT64(0)
#define CTX_LO_P BIT64(0)
#define CTX_LO_FPD BIT64(1)
#define CTX_LO_TT_UNTRANSLATED (0ULL << 2)   /* translated and ATS requests are blocked */
#define CTX_HI_AW(aw) ((uint64_t)(aw))      /* 1: 39-bit/3-level, 2: 48-bit/4-level */
#define CTX_HI_DID(d) ((uint64_t)(d) << 8)
#define VTD_ADDR_MASK 0x000ffffffffff000ULL

/* Interrupt remapping table entry, 9.10 (remapped format, IM = 0). */
#define IRTE_LO_P BIT64(0)
#define IRTE_LO_FPD BIT64(1)
#define IRTE_LO_IM_POSTED BIT64(15)         /* the posted format, 9.11: not used yet */
#define IRTE_LO_VECTOR(v) ((uint64_t)(v) << 16)
#define IRTE_LO_DST_X2APIC(d) ((uint64_t)(d) << 32)
#define IRTE_LO_DST_XAPIC(d) ((uint64_t)((d) & 0xff) << 40)
#define IRTE_HI_SID(s) ((uint64_t)(s))
#define IRTE_HI_SVT_SID (1ULL << 18)        /* verify the requester against SID/SQ */

/* Remappable-format MSI address, 5.1.5.2. */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_IF_REMAP (1u << 4)
#define MSI_ADDR_SHV (1u << 3)
#define MSI_ADDR_HANDLE(h) ((((h) & 0x7fffu) << 5) | ((((h) >> 15) & 1u) << 2))

/* Invalidation descriptors, 6.5.2 (128-bit). */
#define QI_CC 0x1ULL
#define QI_IOTLB 0x2ULL
#define QI_IEC 0x4ULL
#define QI_WAIT 0x5ULL
#define QI_CC_GLOBAL (1ULL << 4)
#define QI_CC_DEVICE (3ULL << 4)
#define QI_CC_DID(d) ((uint64_t)(d) << 16)
#define QI_CC_SID(s) ((uint64_t)(s) << 32)
#define QI_IOTLB_GLOBAL (1ULL << 4)
#define QI_IOTLB_DOMAIN (2ULL << 4)
#define QI_IOTLB_DW BIT64(6)
#define QI_IOTLB_DR BIT64(7)
#define QI_IOTLB_DID(d) ((uint64_t)(d) << 16)
#define QI_IEC_INDEX BIT64(4)
#define QI_IEC_IIDX(i) ((uint64_t)(i) << 32)
#define QI_WAIT_SW BIT64(5)
#define QI_WAIT_FN BIT64(6)
#define QI_WAIT_DATA(d) ((uint64_t)(d) << 32)

#endif
