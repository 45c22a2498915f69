/*
 * EPT through the shared walker: the entry bits of SDM Vol. 3C 29.3.2
 * (R/W/X in bits 2:0, memory type in 5:3, PS in bit 7), the page sizes
 * chosen for guest RAM, and that nothing outside the mapped range
 * translates.
 */
#include "arch/x86/ept.h"
#include "core/errno.h"
#include "mm/mm.h"
#include "mm/paging.h"
#include "mm/pmm.h"
#include "tests/unit/unit.h"

#define RWX (PT_R | PT_W | PT_X)

static const struct mem_region ram[] = { { MIB(1), MIB(8), MEM_AVAILABLE } };

static void setup(void)
{
	fake_phys_init(MIB(1), MIB(8));
	if (pmm_init(ram, 1, NULL, 0) != 0)
		CHECK(!"pmm_init failed");
}

static uint64_t raw_entry(const struct pt *pt, uint64_t gpa, unsigned want)
{
	paddr_t table = pt->root;

	for (unsigned level = 4; level >= want; level--) {
		const uint64_t *t = phys_to_virt(table);
		uint64_t e = t[(gpa >> (12 + 9 * (level - 1))) & 511];

		if (level == want)
			return e;
		if (!(e & 7) || (e & 0x80))
			return 0;
		table = e & 0x000ffffffffff000ull;
	}
	return 0;
}

/* Guest RAM of 1 GiB + 6 MiB at host 2 GiB: one 1G page, then 2M pages. */
TEST(guest_ram_uses_large_pages)
{
	struct pt pt;

	setup();
	CHECK_EQ(pt_init(&pt, &ept_format_1g), 0);
	CHECK_EQ(pt_map(&pt, 0, GIB(2), GIB(1) + MIB(6), RWX), 0);
	CHECK_EQ(raw_entry(&pt, 0, 3), GIB(2) | 0x80 | (6 << 3) | 7);
	CHECK_EQ(raw_entry(&pt, GIB(1), 2), GIB(3) | 0x80 | (6 << 3) | 7);
	CHECK_EQ(raw_entry(&pt, GIB(1) + MIB(4), 2), (GIB(3) + MIB(4)) | 0x80 | (6 << 3) | 7);
	/* Intermediate entries grant everything; leaves decide. */
	CHECK_EQ(raw_entry(&pt, GIB(1), 3) & 0xff, 7);
	pt_destroy(&pt);
}

TEST(nothing_beyond_ram_translates)
{
	struct pt pt;
	paddr_t pa;

	setup();
	CHECK_EQ(pt_init(&pt, &ept_format_2m), 0);
	CHECK_EQ(pt_map(&pt, 0, MIB(64), MIB(16), RWX), 0);
	CHECK_EQ(pt_lookup(&pt, MIB(16) - 1, &pa, NULL), 0);
	CHECK_EQ(pa, MIB(80) - 1);
	CHECK_EQ(pt_lookup(&pt, MIB(16), &pa, NULL), -ENOENT);
	CHECK_EQ(pt_lookup(&pt, GIB(4) - PAGE_SIZE, &pa, NULL), -ENOENT);
	CHECK_EQ(pt_lookup(&pt, 0xfee00000, &pa, NULL), -ENOENT);
	/* The 2M format never makes a 1G leaf. */
	CHECK_EQ(raw_entry(&pt, 0, 3) & 0x80, 0);
	pt_destroy(&pt);
}

TEST(mmio_is_uncached_and_attrs_round_trip)
{
	struct pt pt;
	paddr_t pa;
	uint32_t attr;

	setup();
	CHECK_EQ(pt_init(&pt, &ept_format_4k), 0);
	CHECK_EQ(pt_map(&pt, 0xfee00000, 0xfee00000, PAGE_SIZE, PT_R | PT_W | PT_UC), 0);
	CHECK_EQ(raw_entry(&pt, 0xfee00000, 1), 0xfee00000ull | (0 << 3) | 3);
	CHECK_EQ(pt_lookup(&pt, 0xfee00010, &pa, &attr), 0);
	CHECK_EQ(pa, 0xfee00010);
	CHECK_EQ(attr, PT_R | PT_W | PT_UC);
	CHECK_EQ(pt_map(&pt, 0x1000, 0x5000, PAGE_SIZE, PT_R | PT_X), 0);
	CHECK_EQ(raw_entry(&pt, 0x1000, 1), 0x5000ull | (6 << 3) | 5);
	pt_destroy(&pt);
}

int main(void)
{
	RUN(guest_ram_uses_large_pages);
	RUN(nothing_beyond_ram_translates);
	RUN(mmio_is_uncached_and_attrs_round_trip);
	return unit_done();
}
