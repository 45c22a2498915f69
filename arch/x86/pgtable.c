/*
 * IA-32e paging-structure entries (SDM Vol. 3A 4.5, the PML4E, PDPTE,
 * PDE and PTE formats). Only the encoding lives here; mm/paging.c walks.
 */
#include "core/assert.h"
#include "arch/x86/pgtable.h"

static uint64_t page_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

/* In a 2 MiB/1 GiB leaf, bit 12 is PAT and the low address bits must be 0. */
static uint64_t addr_mask(uint64_t e, unsigned level)
{
	if (level > 1 && (e & X86_PTE_PS))
		return X86_PTE_ADDR_MASK & ~(page_size(level) - 1);
	return X86_PTE_ADDR_MASK;
}

static uint64_t hv_make_table(paddr_t table)
{
	ASSERT((table & ~X86_PTE_ADDR_MASK) == 0);
	return table | X86_PTE_P | X86_PTE_RW;
}

/*
 * PT_UC sets PCD|PWT, i.e. PAT entry 3, which is UC in the power-on
 * IA32_PAT value (SDM Vol. 3A 11.12.4, Table 11-12). Without it the
 * entry selects PAT entry 0, WB.
 */
static uint64_t hv_make_leaf(paddr_t pa, unsigned level, uint32_t attr)
{
	uint64_t e = pa | X86_PTE_P;

	ASSERT(level >= 1 && level <= 3);
	if (level > 1)
		e |= X86_PTE_PS;
	ASSERT((pa & ~addr_mask(e, level)) == 0);
	if (attr & PT_W)
		e |= X86_PTE_RW;
	if (!(attr & PT_X))
		e |= X86_PTE_XD;
	if (attr & PT_USER)
		e |= X86_PTE_US;
	if (attr & PT_UC)
		e |= X86_PTE_PCD | X86_PTE_PWT;
	if (attr & PT_GLOBAL)
		e |= X86_PTE_G;
	return e;
}

static bool hv_is_present(uint64_t e)
{
	return e & X86_PTE_P;
}

/* PS exists only in PDPTEs and PDEs; in a PTE bit 7 is PAT. */
static bool hv_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || ((level == 2 || level == 3) && (e & X86_PTE_PS));
}

static paddr_t hv_entry_addr(uint64_t e, unsigned level)
{
	return e & addr_mask(e, level);
}

static uint32_t hv_entry_attr(uint64_t e, unsigned level)
{
	uint32_t attr = PT_R;

	(void)level;
	if (e & X86_PTE_RW)
		attr |= PT_W;
	if (!(e & X86_PTE_XD))
		attr |= PT_X;
	if (e & X86_PTE_US)
		attr |= PT_USER;
	if ((e & X86_PTE_PCD) && (e & X86_PTE_PWT))
		attr |= PT_UC;
	if (e & X86_PTE_G)
		attr |= PT_GLOBAL;
	return attr;
}

const struct pt_format x86_hv_format = {
	.name = "x86-64",
	.levels = 4,
	.max_leaf_level = 3,
	.make_table = hv_make_table,
	.make_leaf = hv_make_leaf,
	.is_present = hv_is_present,
	.is_leaf = hv_is_leaf,
	.entry_addr = hv_entry_addr,
	.entry_attr = hv_entry_attr,
};

const struct pt_format x86_hv_format_2m = {
	.name = "x86-64 (no 1G pages)",
	.levels = 4,
	.max_leaf_level = 2,
	.make_table = hv_make_table,
	.make_leaf = hv_make_leaf,
	.is_present = hv_is_present,
	.is_leaf = hv_is_leaf,
	.entry_addr = hv_entry_addr,
	.entry_attr = hv_entry_attr,
};

/*
 * AMD nested page tables use this same format, but every guest access
 * is checked as a user access (APM Vol. 2 15.25.5): tables and leaves
 * carry U/S, and the format keeps nothing else different.
 */
static uint64_t npt_make_table(paddr_t table)
{
	return hv_make_table(table) | X86_PTE_US;
}

static uint64_t npt_make_leaf(paddr_t pa, unsigned level, uint32_t attr)
{
	return hv_make_leaf(pa, level, attr | PT_USER);
}

#define NPT_FORMAT(label, max_level) {                                        \
		.name = label, .levels = 4, .max_leaf_level = (max_level),    \
		.make_table = npt_make_table, .make_leaf = npt_make_leaf,     \
		.is_present = hv_is_present, .is_leaf = hv_is_leaf,           \
		.entry_addr = hv_entry_addr, .entry_attr = hv_entry_attr,     \
	}

const struct pt_format x86_npt_format = NPT_FORMAT("npt", 3);
const struct pt_format x86_npt_format_2m = NPT_FORMAT("npt (no 1G pages)", 2);
