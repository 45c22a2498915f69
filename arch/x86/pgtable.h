/*
 * The hypervisor's own page tables: the IA-32e (4-level) paging format,
 * SDM Vol. 3A 4.5, as a struct pt_format for the generic walker.
 *
 * Two formats, pick one at boot and use it for the life of the tables:
 *   x86_hv_format     4 KiB, 2 MiB and 1 GiB leaves
 *   x86_hv_format_2m  4 KiB and 2 MiB leaves, for CPUs without 1 GiB
 *                     pages (CPUID.80000001H:EDX.Page1GB[bit 26] = 0)
 *
 * Leaves without PT_X set XD (bit 63), so IA32_EFER.NXE must be on before
 * these tables are loaded (otherwise bit 63 is reserved, SDM Vol. 3A 4.5).
 * Every present page is readable: PT_R is implied. Tables are P|RW with
 * U/S = 0 and XD = 0, so leaves decide writability and execution; with
 * U/S = 0 above them, PT_USER leaves are still not user-accessible
 * (SDM 4.6.1), which is fine for a hypervisor without ring 3.
 */
#ifndef ARCH_X86_PGTABLE_H
#define ARCH_X86_PGTABLE_H

#include "core/types.h"
#include "mm/paging.h"

#define X86_PTE_P (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_US (1ULL << 2)
#define X86_PTE_PWT (1ULL << 3)
#define X86_PTE_PCD (1ULL << 4)
#define X86_PTE_A (1ULL << 5)
#define X86_PTE_D (1ULL << 6)
#define X86_PTE_PS (1ULL << 7)   /* PDPTE/PDE: 1 GiB / 2 MiB leaf */
#define X86_PTE_G (1ULL << 8)
#define X86_PTE_XD (1ULL << 63)
/* Bits 51:12 hold the address of a table or a 4 KiB page. */
#define X86_PTE_ADDR_MASK 0x000ffffffffff000ULL

extern const struct pt_format x86_hv_format;
extern const struct pt_format x86_hv_format_2m;
/* AMD nested paging: the same entries with U/S everywhere. */
extern const struct pt_format x86_npt_format, x86_npt_format_2m;

#endif
