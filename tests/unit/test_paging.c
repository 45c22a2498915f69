/*
 * Page-table walker tests, through the x86 format. Table pages come from
 * the frame allocator over fake memory; mapped addresses need not exist.
 * The tables are also read raw, to check which leaf level was chosen and
 * the exact entry bits (SDM Vol. 3A 4.5).
 */
#include "arch/x86/pgtable.h"
#include "core/errno.h"
#include "mm/mm.h"
#include "mm/paging.h"
#include "mm/pmm.h"
#include "tests/unit/unit.h"

#define RWX (PT_R | PT_W | PT_X)
#define MAX_HELD 4096u

static const struct mem_region ram[] = { { MIB(1), MIB(8), MEM_AVAILABLE } };
static paddr_t held[MAX_HELD];

static void setup(void)
{
	fake_phys_init(MIB(1), MIB(8));
	if (pmm_init(ram, 1, NULL, 0) != 0)
		CHECK(!"pmm_init failed");
}

/* The raw entry for @va at @level, or 0 if the walk stops above it. */
static uint64_t raw_entry(const struct pt *pt, uint64_t va, unsigned want)
{
	paddr_t table = pt->root;

	for (unsigned level = 4; level > 0; level--) {
		const uint64_t *t = phys_to_virt(table);
		uint64_t e = t[(va >> (12 + 9 * (level - 1))) & 511];

		if (level == want)
			return e;
		if (!(e & X86_PTE_P) || (level <= 3 && (e & X86_PTE_PS)))
			return 0;
		table = e & X86_PTE_ADDR_MASK;
	}
	return 0;
}

/* The level of the leaf translating @va, or 0 if none. */
static unsigned leaf_level(const struct pt *pt, uint64_t va)
{
	for (unsigned level = 4; level > 0; level--) {
		uint64_t e = raw_entry(pt, va, level);

		if (!(e & X86_PTE_P))
			return 0;
		if (level == 1 || (level <= 3 && (e & X86_PTE_PS)))
			return level;
	}
	return 0;
}

static bool maps_to(const struct pt *pt, uint64_t va, paddr_t want_pa, uint32_t want_attr)
{
	paddr_t pa;
	uint32_t attr;

	return pt_lookup(pt, va, &pa, &attr) == 0 && pa == want_pa && attr == want_attr;
}

static unsigned hold_all_frames(void)
{
	unsigned n = 0;

	while (n < MAX_HELD && (held[n] = pmm_alloc(1, PAGE_SIZE, 0)) != 0)
		n++;
	return n;
}

static void release(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pmm_free(held[i], 1);
}

TEST(x86_leaf_bits)
{
	const struct pt_format *f = &x86_hv_format;

	CHECK_EQ(f->make_leaf(0x1000, 1, PT_R | PT_W), 0x8000000000001003ULL);
	CHECK_EQ(f->make_leaf(0x200000, 2, PT_R | PT_X), 0x200081);
	CHECK_EQ(f->make_leaf(0x40000000, 3, RWX | PT_UC | PT_GLOBAL), 0x4000019b);
	CHECK_EQ(f->make_leaf(0x5000, 1, PT_R | PT_USER), 0x8000000000005005ULL);
	CHECK_EQ(f->make_leaf(0xffffffffff000ULL, 1, RWX), 0xffffffffff003ULL);
	CHECK_EQ(f->make_table(0x123000), 0x123003);
	CHECK_EQ(x86_hv_format.max_leaf_level, 3);
	CHECK_EQ(x86_hv_format_2m.max_leaf_level, 2);
}

TEST(x86_decode)
{
	const struct pt_format *f = &x86_hv_format;

	/* In a PTE bit 7 is PAT, not PS; in a 2M leaf bit 12 is PAT. */
	CHECK(f->is_leaf(0x1081, 1));
	CHECK_EQ(f->entry_addr(0x1081, 1), 0x1000);
	CHECK_EQ(f->entry_addr(0x201081, 2), 0x200000);
	CHECK_EQ(f->entry_addr(0x40201081ULL, 3), 0x40000000);
	CHECK_EQ(f->entry_addr(0x201003, 2), 0x201000);
	CHECK(f->is_leaf(0x81, 2) && f->is_leaf(0x81, 3));
	CHECK(!f->is_leaf(0x3, 2) && !f->is_leaf(0x81, 4));
	CHECK(f->is_present(0x1) && !f->is_present(0x8000000000001002ULL));
	/* PCD alone is UC- and PWT alone WT: neither reads back as PT_UC. */
	CHECK_EQ(f->entry_attr(0x11, 1), PT_R | PT_X);
	CHECK_EQ(f->entry_attr(0x9, 1), PT_R | PT_X);
	for (uint32_t a = 0; a < 64; a++) {
		for (unsigned level = 1; level <= 3; level++) {
			uint64_t e = f->make_leaf(GIB(1), level, a | PT_R);

			CHECK_EQ(f->entry_attr(e, level), a | PT_R);
			CHECK_EQ(f->entry_addr(e, level), GIB(1));
		}
	}
}

TEST(map_picks_largest_leaf)
{
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, 0x1000, 0x7000, PAGE_SIZE, RWX), 0);
	CHECK_EQ(pt_map(&pt, MIB(2), GIB(1), MIB(2), PT_R), 0);
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(5), GIB(1), PT_R | PT_W), 0);
	/* 4K up to 2M, one 2M, then 4K again. */
	CHECK_EQ(pt_map(&pt, GIB(3) - 0x1000, GIB(7) - 0x1000, MIB(2) + 0x2000, PT_R), 0);
	CHECK_EQ(leaf_level(&pt, 0x1000), 1);
	CHECK_EQ(leaf_level(&pt, MIB(2) + 0x5000), 2);
	CHECK_EQ(leaf_level(&pt, GIB(1) + MIB(300)), 3);
	CHECK_EQ(leaf_level(&pt, GIB(3) - 0x1000), 1);
	CHECK_EQ(leaf_level(&pt, GIB(3) + MIB(1)), 2);
	CHECK_EQ(leaf_level(&pt, GIB(3) + MIB(2)), 1);
	CHECK_EQ(leaf_level(&pt, GIB(3) + MIB(2) + 0x1000), 0);
	CHECK(maps_to(&pt, 0x1000, 0x7000, RWX));
	CHECK(maps_to(&pt, 0x1abc, 0x7abc, RWX));
	CHECK(maps_to(&pt, MIB(3) + 0x123, GIB(1) + MIB(1) + 0x123, PT_R));
	CHECK(maps_to(&pt, GIB(2) - 8, GIB(6) - 8, PT_R | PT_W));
	CHECK(maps_to(&pt, GIB(3) + MIB(2), GIB(7) + MIB(2), PT_R));
	CHECK_EQ(pt_lookup(&pt, 0, NULL, NULL), -ENOENT);
	CHECK_EQ(pt_lookup(&pt, 0x2000, NULL, NULL), -ENOENT);
	CHECK_EQ(pt_lookup(&pt, GIB(4), NULL, NULL), -ENOENT);
	pt_destroy(&pt);
}

TEST(pa_alignment_limits_leaf)
{
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	/* va is 1G-aligned but pa only 2M-aligned: 2M leaves. */
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(8) + MIB(2), GIB(1), RWX), 0);
	CHECK_EQ(leaf_level(&pt, GIB(1)), 2);
	CHECK_EQ(leaf_level(&pt, GIB(2) - PAGE_SIZE), 2);
	CHECK(maps_to(&pt, GIB(2) - PAGE_SIZE, GIB(9) + MIB(2) - PAGE_SIZE, RWX));
	pt_destroy(&pt);
}

TEST(format_without_1g)
{
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format_2m), 0);
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(1), GIB(1), RWX), 0);
	CHECK_EQ(leaf_level(&pt, GIB(1)), 2);
	CHECK_EQ(leaf_level(&pt, GIB(2) - 1), 2);
	CHECK(maps_to(&pt, GIB(2) - 1, GIB(2) - 1, RWX));
	pt_destroy(&pt);
}

TEST(raw_entries_exact)
{
	struct pt pt;
	uint64_t e;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, MIB(4), MIB(4), MIB(2), PT_R | PT_W | PT_UC | PT_GLOBAL), 0);
	CHECK_EQ(pt_map(&pt, 0x5000, 0x9000, PAGE_SIZE, PT_R | PT_X), 0);
	/* Tables: P|RW only, no U/S, no XD (SDM Vol. 3A 4.6.1: leaves decide). */
	e = raw_entry(&pt, MIB(4), 4);
	CHECK_EQ(e & ~X86_PTE_ADDR_MASK, X86_PTE_P | X86_PTE_RW);
	e = raw_entry(&pt, MIB(4), 3);
	CHECK_EQ(e & ~X86_PTE_ADDR_MASK, X86_PTE_P | X86_PTE_RW);
	CHECK_EQ(raw_entry(&pt, MIB(4), 2), MIB(4) | X86_PTE_P | X86_PTE_RW | X86_PTE_PCD |
		 X86_PTE_PWT | X86_PTE_PS | X86_PTE_G | X86_PTE_XD);
	e = raw_entry(&pt, 0x5000, 2);
	CHECK_EQ(e & ~X86_PTE_ADDR_MASK, X86_PTE_P | X86_PTE_RW);
	CHECK_EQ(raw_entry(&pt, 0x5000, 1), 0x9000 | X86_PTE_P);
	pt_destroy(&pt);
}

TEST(split_2m_keeps_neighbours)
{
	const uint32_t old = RWX | PT_GLOBAL;
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, MIB(2), GIB(2), MIB(2), old), 0);
	CHECK_EQ(pt_map(&pt, MIB(2) + 0x3000, 0x1234000, PAGE_SIZE, PT_R | PT_UC), 0);
	CHECK_EQ(leaf_level(&pt, MIB(2)), 1);
	CHECK(maps_to(&pt, MIB(2) + 0x3000, 0x1234000, PT_R | PT_UC));
	for (uint64_t off = 0; off < MIB(2); off += PAGE_SIZE) {
		if (off != 0x3000)
			CHECK(maps_to(&pt, MIB(2) + off, GIB(2) + off, old));
	}
	pt_destroy(&pt);
}

TEST(split_1g_then_2m)
{
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(4), GIB(1), PT_R | PT_W), 0);
	CHECK_EQ(pt_map(&pt, GIB(1) + MIB(6), 0x5000, PAGE_SIZE, PT_R), 0);
	CHECK_EQ(leaf_level(&pt, GIB(1)), 2);
	CHECK_EQ(leaf_level(&pt, GIB(1) + MIB(4)), 2);
	CHECK_EQ(leaf_level(&pt, GIB(1) + MIB(6)), 1);
	CHECK_EQ(leaf_level(&pt, GIB(1) + MIB(8) - PAGE_SIZE), 1);
	CHECK_EQ(leaf_level(&pt, GIB(1) + MIB(8)), 2);
	CHECK(maps_to(&pt, GIB(1) + MIB(6), 0x5000, PT_R));
	CHECK(maps_to(&pt, GIB(1) + MIB(6) + PAGE_SIZE, GIB(4) + MIB(6) + PAGE_SIZE, PT_R | PT_W));
	CHECK(maps_to(&pt, GIB(1) + MIB(4), GIB(4) + MIB(4), PT_R | PT_W));
	CHECK(maps_to(&pt, GIB(2) - PAGE_SIZE, GIB(5) - PAGE_SIZE, PT_R | PT_W));
	pt_destroy(&pt);
}

TEST(larger_leaf_frees_tables)
{
	uint64_t f0;
	struct pt pt;

	setup();
	f0 = pmm_free_pages();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, MIB(2), 0, PAGE_SIZE, PT_R), 0);
	CHECK_EQ(pmm_free_pages(), f0 - 4); /* root, PDPT, PD, PT */
	CHECK_EQ(pt_map(&pt, MIB(2), 0, MIB(2), PT_R), 0);
	CHECK_EQ(pmm_free_pages(), f0 - 3);
	CHECK_EQ(leaf_level(&pt, MIB(2)), 2);
	CHECK_EQ(pt_map(&pt, MIB(2), 0, PAGE_SIZE, PT_R), 0); /* split again */
	CHECK_EQ(pmm_free_pages(), f0 - 4);
	CHECK_EQ(pt_map(&pt, 0, 0, GIB(1), PT_R), 0);
	CHECK_EQ(pmm_free_pages(), f0 - 2);
	CHECK_EQ(leaf_level(&pt, MIB(2)), 3);
	pt_destroy(&pt);
	CHECK_EQ(pmm_free_pages(), f0);
}

TEST(unmap)
{
	uint64_t f0;
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, 0, 0, MIB(4), RWX), 0);
	f0 = pmm_free_pages();
	CHECK_EQ(pt_unmap(&pt, 0x1000, PAGE_SIZE), 0);
	CHECK_EQ(pmm_free_pages(), f0 - 1); /* the split */
	CHECK_EQ(pt_lookup(&pt, 0x1000, NULL, NULL), -ENOENT);
	CHECK(maps_to(&pt, 0, 0, RWX));
	CHECK(maps_to(&pt, 0x2000, 0x2000, RWX));
	CHECK(maps_to(&pt, MIB(2), MIB(2), RWX));
	CHECK_EQ(leaf_level(&pt, MIB(2)), 2);
	/* The first 2M entry goes with its table; the second is split. */
	CHECK_EQ(pt_unmap(&pt, 0, MIB(3)), 0);
	CHECK_EQ(pmm_free_pages(), f0 - 1);
	CHECK_EQ(leaf_level(&pt, MIB(3)), 1);
	CHECK_EQ(pt_lookup(&pt, 0, NULL, NULL), -ENOENT);
	CHECK_EQ(pt_lookup(&pt, MIB(3) - PAGE_SIZE, NULL, NULL), -ENOENT);
	CHECK(maps_to(&pt, MIB(3), MIB(3), RWX));
	CHECK_EQ(pt_unmap(&pt, GIB(100), GIB(1)), 0); /* nothing there */
	CHECK_EQ(pt_unmap(&pt, 0, 1ULL << 48), 0);
	CHECK_EQ(pt_lookup(&pt, MIB(3), NULL, NULL), -ENOENT);
	CHECK_EQ(pmm_free_pages(), f0 + 2); /* PDPT and PD went too */
	pt_destroy(&pt);
}

TEST(invalid_arguments)
{
	uint64_t f0;
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	f0 = pmm_free_pages();
	CHECK_EQ(pt_map(&pt, 0x1001, 0, PAGE_SIZE, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0x1000, 0x10, PAGE_SIZE, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0x1000, 0, 100, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0x1000, 0, 0, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, (1ULL << 48) - PAGE_SIZE, 0, 2 * PAGE_SIZE, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0xfffffffffffff000ULL, 0, 2 * PAGE_SIZE, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0, 0xfffffffffffff000ULL, 2 * PAGE_SIZE, PT_R), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0, 1ULL << 52, PAGE_SIZE, PT_R), -EINVAL);
	CHECK_EQ(pt_unmap(&pt, 0x800, PAGE_SIZE), -EINVAL);
	CHECK_EQ(pt_unmap(&pt, 0, 0x800), -EINVAL);
	CHECK_EQ(pt_unmap(&pt, 0xfffffffffffff000ULL, 2 * PAGE_SIZE), -EINVAL);
	CHECK_EQ(pmm_free_pages(), f0);
	CHECK_EQ(pt_map(&pt, (1ULL << 48) - PAGE_SIZE, (1ULL << 52) - PAGE_SIZE, PAGE_SIZE, PT_R), 0);
	CHECK(maps_to(&pt, (1ULL << 48) - 1, (1ULL << 52) - 1, PT_R));
	CHECK_EQ(pt_lookup(&pt, 1ULL << 48, NULL, NULL), -ENOENT);
	CHECK_EQ(pt_lookup(&pt, 0xffffffffffffffffULL, NULL, NULL), -ENOENT);
	pt_destroy(&pt);
}

TEST(out_of_memory)
{
	struct pt pt;
	unsigned n;

	setup();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	CHECK_EQ(pt_map(&pt, 0x1000, 0x1000, PAGE_SIZE, PT_R), 0);
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(1), MIB(2), RWX), 0);
	n = hold_all_frames();
	/* Same table: no allocation needed. */
	CHECK_EQ(pt_map(&pt, 0x2000, 0x2000, PAGE_SIZE, PT_R), 0);
	/* The first page fits the existing table, the second needs a new one. */
	CHECK_EQ(pt_map(&pt, MIB(2) - PAGE_SIZE, 0x9000, 2 * PAGE_SIZE, PT_R), -ENOMEM);
	CHECK(maps_to(&pt, MIB(2) - PAGE_SIZE, 0x9000, PT_R));
	CHECK_EQ(pt_lookup(&pt, MIB(2), NULL, NULL), -ENOENT);
	/* A split that cannot get its table leaves the large page alone. */
	CHECK_EQ(pt_map(&pt, GIB(1) + PAGE_SIZE, 0, PAGE_SIZE, PT_R), -ENOMEM);
	CHECK_EQ(leaf_level(&pt, GIB(1)), 2);
	CHECK(maps_to(&pt, GIB(1) + PAGE_SIZE, GIB(1) + PAGE_SIZE, RWX));
	CHECK_EQ(pt_unmap(&pt, GIB(1) + PAGE_SIZE, PAGE_SIZE), -ENOMEM);
	CHECK(maps_to(&pt, GIB(1) + PAGE_SIZE, GIB(1) + PAGE_SIZE, RWX));
	/* Replacing a whole leaf needs no memory. */
	CHECK_EQ(pt_map(&pt, GIB(1), GIB(3), MIB(2), PT_R), 0);
	CHECK(maps_to(&pt, GIB(1), GIB(3), PT_R));
	{
		struct pt other;

		CHECK_EQ(pt_init(&other, &x86_hv_format), -ENOMEM);
	}
	release(n);
	CHECK_EQ(pt_map(&pt, MIB(2) - PAGE_SIZE, 0x9000, 2 * PAGE_SIZE, PT_R), 0);
	CHECK(maps_to(&pt, MIB(2), 0xa000, PT_R));
	pt_destroy(&pt);
}

TEST(destroy_frees_every_table)
{
	uint64_t f0;
	struct pt pt;

	setup();
	f0 = pmm_free_pages();
	CHECK_EQ(pt_init(&pt, &x86_hv_format), 0);
	for (uint64_t va = 0; va < GIB(4); va += MIB(8) + 5 * PAGE_SIZE)
		CHECK_EQ(pt_map(&pt, va, va, PAGE_SIZE, PT_R), 0);
	CHECK_EQ(pt_map(&pt, 1ULL << 40, 0, GIB(2), RWX), 0);
	CHECK(pmm_free_pages() < f0 - 500);
	pt_destroy(&pt);
	CHECK_EQ(pt.root, 0);
	CHECK_EQ(pmm_free_pages(), f0);
}

int main(void)
{
	RUN(x86_leaf_bits);
	RUN(x86_decode);
	RUN(map_picks_largest_leaf);
	RUN(pa_alignment_limits_leaf);
	RUN(format_without_1g);
	RUN(raw_entries_exact);
	RUN(split_2m_keeps_neighbours);
	RUN(split_1g_then_2m);
	RUN(larger_leaf_frees_tables);
	RUN(unmap);
	RUN(invalid_arguments);
	RUN(out_of_memory);
	RUN(destroy_frees_every_table);
	return unit_done();
}
