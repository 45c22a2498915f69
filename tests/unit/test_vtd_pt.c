/*
 * The VT-d second-level format (iommu/vtd_pt.c) through the shared
 * walker: raw entry bits (VT-d 9.8: R bit 0, W bit 1, PS bit 7, address
 * 51:12), the table depth for 3- and 4-level domains, and large pages
 * used only where CAP.SLLPS allows them.
 */
#include "core/errno.h"
#include "iommu/vtd_pt.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "tests/unit/unit.h"

static const struct mem_region ram[] = { { MIB(1), MIB(8), MEM_AVAILABLE } };

static void setup(void)
{
	fake_phys_init(MIB(1), MIB(8));
	if (pmm_init(ram, 1, NULL, 0) != 0)
		CHECK(!"pmm_init failed");
}

/* The raw entry at @want for @iova, walking @levels levels. */
static uint64_t raw(const struct pt *pt, unsigned levels, uint64_t iova, unsigned want)
{
	paddr_t table = pt->root;

	for (unsigned level = levels; level > 0; level--) {
		const uint64_t *t = phys_to_virt(table);
		uint64_t e = t[(iova >> (12 + 9 * (level - 1))) & 511];

		if (level == want)
			return e;
		if (!(e & 3) || (e & 0x80))
			return 0;
		table = e & 0x000ffffffffff000ULL;
	}
	return 0;
}

TEST(leaf_bits_3level)
{
	struct pt_format f;
	struct pt pt;
	paddr_t pa;
	uint32_t attr;

	setup();
	vtd_pt_format_init(&f, 3, 0);
	CHECK_EQ(f.levels, 3);
	CHECK_EQ(f.max_leaf_level, 1);
	CHECK_EQ(pt_init(&pt, &f), 0);
	CHECK_EQ(pt_map(&pt, 0x100000, 0x7654000, 0x2000, PT_R | PT_W), 0);
	CHECK_EQ(raw(&pt, 3, 0x101000, 1), 0x7655000 | 3);
	CHECK_EQ(raw(&pt, 3, 0x100000, 2) & 3, 3);      /* tables are R|W */
	CHECK_EQ(pt_map(&pt, 0x200000, 0x9000, 0x1000, PT_R), 0);
	CHECK_EQ(raw(&pt, 3, 0x200000, 1), 0x9000 | 1);
	CHECK_EQ(pt_lookup(&pt, 0x200123, &pa, &attr), 0);
	CHECK_EQ(pa, 0x9123);
	CHECK_EQ(attr, PT_R);
	/* 2^39 is beyond a 3-level table. */
	CHECK_EQ(pt_map(&pt, 1ULL << 39, 0, 0x1000, PT_R), -EINVAL);
	CHECK_EQ(pt_unmap(&pt, 0x100000, 0x1000), 0);
	CHECK_EQ(pt_lookup(&pt, 0x100000, NULL, NULL), -ENOENT);
	pt_destroy(&pt);
}

TEST(large_pages_when_allowed)
{
	struct pt_format f;
	struct pt pt;

	setup();
	vtd_pt_format_init(&f, 4, 3);
	CHECK_EQ(f.max_leaf_level, 3);
	CHECK_EQ(pt_init(&pt, &f), 0);
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(2), GIB(1) + MIB(2), PT_R | PT_W), 0);
	CHECK_EQ(raw(&pt, 4, GIB(1), 3), GIB(2) | 0x80 | 3);
	CHECK_EQ(raw(&pt, 4, GIB(2), 2), GIB(3) | 0x80 | 3);
	/* A 4K write-protect inside the 2M page splits it, keeping the rest. */
	CHECK_EQ(pt_map(&pt, GIB(2) + 0x3000, GIB(3) + 0x3000, 0x1000, PT_R), 0);
	CHECK_EQ(raw(&pt, 4, GIB(2) + 0x3000, 1), (GIB(3) + 0x3000) | 1);
	CHECK_EQ(raw(&pt, 4, GIB(2) + 0x4000, 1), (GIB(3) + 0x4000) | 3);
	pt_destroy(&pt);
	vtd_pt_format_init(&f, 4, 1);
	CHECK_EQ(f.max_leaf_level, 2);
	vtd_pt_format_init(&f, 3, 3);
	CHECK_EQ(f.max_leaf_level, 2);   /* never a leaf in the root */
}

int main(void)
{
	RUN(leaf_bits_3level);
	RUN(large_pages_when_allowed);
	return unit_done();
}
