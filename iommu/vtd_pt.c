/*
 * VT-d second-level paging entries (VT-d 9.8, legacy mode) as a struct
 * pt_format for the shared walker in mm/paging.c. Bit 0 is read, bit 1
 * write, bit 7 marks a 2 MiB or 1 GiB leaf (only where CAP.SLLPS says),
 * bits 51:12 hold the address. An entry with neither R nor W is not
 * present. Tables are R|W so that the leaves alone decide access.
 *
 * Why the EPT tables are not shared with the IOMMU, although the two
 * formats agree on R, W, PS and the address bits:
 *  - DMA faults cannot be retried. EPT is for the CPU: it may
 *    write-protect guest pages (dirty logging, introspection) or leave
 *    pages out to fault them in on demand; a device hitting such a page
 *    loses data, so device tables must be fully populated and writable
 *    wherever the guest may DMA.
 *  - EPT maps what the CPU needs that devices must not reach, e.g.
 *    pages the hypervisor shares with the guest for emulated devices.
 *  - The unit must walk the same geometry: a 4-level table needs SAGAW
 *    48-bit on every unit, each EPT large page size must be in SLLPS,
 *    and without ECAP.C every EPT edit would need a cache flush.
 *  - EPT's bits 5:3 (memory type), 6 (ignore PAT) and 10 (user execute)
 *    are ignored here, but bit 11 is reserved without ECAP.SC (snoop
 *    control), which EPT leaves to software.
 * So each domain gets its own tables, built by the same walker; sharing
 * can be revisited for guests with fully pinned, never write-protected
 * memory on units with matching capabilities.
 */
#include "core/assert.h"
#include "iommu/vtd_pt.h"

#define SL_R (1ULL << 0)
#define SL_W (1ULL << 1)
#define SL_PS (1ULL << 7)
#define SL_ADDR_MASK 0x000ffffffffff000ULL

static uint64_t sl_page_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static uint64_t sl_make_table(paddr_t table)
{
	ASSERT((table & ~SL_ADDR_MASK) == 0);
	return table | SL_R | SL_W;
}

static uint64_t sl_make_leaf(paddr_t pa, unsigned level, uint32_t attr)
{
	uint64_t e = pa;

	ASSERT(level >= 1 && level <= 3);
	ASSERT((pa & ~SL_ADDR_MASK) == 0 && IS_ALIGNED(pa, sl_page_size(level)));
	if (level > 1)
		e |= SL_PS;
	if (attr & PT_R)
		e |= SL_R;
	if (attr & PT_W)
		e |= SL_W;
	return e;
}

static bool sl_is_present(uint64_t e)
{
	return e & (SL_R | SL_W);
}

static bool sl_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (e & SL_PS);
}

static paddr_t sl_entry_addr(uint64_t e, unsigned level)
{
	if (level > 1 && (e & SL_PS))
		return e & SL_ADDR_MASK & ~(sl_page_size(level) - 1);
	return e & SL_ADDR_MASK;
}

static uint32_t sl_entry_attr(uint64_t e, unsigned level)
{
	(void)level;
	return (e & SL_R ? PT_R : 0) | (e & SL_W ? PT_W : 0);
}

void vtd_pt_format_init(struct pt_format *f, unsigned levels, unsigned sllps)
{
	unsigned max_leaf = sllps & 2 ? 3 : sllps & 1 ? 2 : 1;

	ASSERT(levels == 3 || levels == 4);
	*f = (struct pt_format){
		.name = levels == 4 ? "vt-d 4-level" : "vt-d 3-level",
		.levels = levels,
		/* The walker puts no leaf in the root. */
		.max_leaf_level = MIN(max_leaf, levels - 1),
		.make_table = sl_make_table,
		.make_leaf = sl_make_leaf,
		.is_present = sl_is_present,
		.is_leaf = sl_is_leaf,
		.entry_addr = sl_entry_addr,
		.entry_attr = sl_entry_attr,
	};
}
