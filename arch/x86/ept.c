/*
 * EPT entries for the shared page-table walker (SDM Vol. 3C 29.3.2).
 * Leaves carry R/W/X and the memory type (bits 5:3): write-back for RAM,
 * uncacheable for MMIO. "Ignore PAT" (bit 6) stays clear so that the
 * guest's own PAT combines with it as on bare metal (SDM 29.3.7.2).
 */
#include "arch/x86/ept.h"
#include "mm/paging.h"

#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_MT_SHIFT 3
#define EPT_MT_UC 0ull
#define EPT_MT_WB 6ull
#define EPT_PS (1ull << 7)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

static uint64_t ept_make_table(paddr_t table)
{
	return table | EPT_R | EPT_W | EPT_X;
}

static uint64_t ept_make_leaf(paddr_t pa, unsigned level, uint32_t attr)
{
	uint64_t e = pa | ((attr & PT_UC ? EPT_MT_UC : EPT_MT_WB) << EPT_MT_SHIFT);

	e |= EPT_R; /* write-only or execute-only pages are not ours to make */
	if (attr & PT_W)
		e |= EPT_W;
	if (attr & PT_X)
		e |= EPT_X;
	return level > 1 ? e | EPT_PS : e;
}

static bool ept_is_present(uint64_t e)
{
	return e & (EPT_R | EPT_W | EPT_X);
}

static bool ept_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (e & EPT_PS);
}

static paddr_t ept_entry_addr(uint64_t e, unsigned level)
{
	(void)level;
	return e & EPT_ADDR_MASK;
}

static uint32_t ept_entry_attr(uint64_t e, unsigned level)
{
	uint32_t attr = PT_R;

	(void)level;
	if (e & EPT_W)
		attr |= PT_W;
	if (e & EPT_X)
		attr |= PT_X;
	if (((e >> EPT_MT_SHIFT) & 7) == EPT_MT_UC)
		attr |= PT_UC;
	return attr;
}

#define EPT_FORMAT(max_level) {                                               \
		.name = "ept", .levels = 4, .max_leaf_level = (max_level),    \
		.make_table = ept_make_table, .make_leaf = ept_make_leaf,     \
		.is_present = ept_is_present, .is_leaf = ept_is_leaf,         \
		.entry_addr = ept_entry_addr, .entry_attr = ept_entry_attr,   \
	}

const struct pt_format ept_format_1g = EPT_FORMAT(3);
const struct pt_format ept_format_2m = EPT_FORMAT(2);
const struct pt_format ept_format_4k = EPT_FORMAT(1);
