/*
 * Frame allocator tests. Every test builds the allocator from a memory
 * map, and the exhaustive ones drain it, checking each frame handed out
 * against an independent (128-bit, frame by frame) reading of the map.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/errno.h"
#include "mm/pmm.h"
#include "tests/unit/unit.h"

#define MAX_FRAMES 32768u

typedef unsigned __int128 u128;

struct layout {
	const struct mem_region *mem;
	unsigned nmem;
	const struct phys_range *res;
	unsigned nres;
};

static paddr_t got[MAX_FRAMES];
static unsigned char seen[MAX_FRAMES];

static int layout_init(const struct layout *l)
{
	return pmm_init(l->mem, l->nmem, l->res, l->nres);
}

static bool is_blocked(const struct layout *l, u128 lo, u128 hi)
{
	for (unsigned i = 0; i < l->nmem; i++) {
		u128 b = l->mem[i].base, e = b + l->mem[i].len;

		if (l->mem[i].type != MEM_AVAILABLE && b < hi && lo < e)
			return true;
	}
	for (unsigned i = 0; i < l->nres; i++) {
		u128 b = l->res[i].base, e = b + l->res[i].len;

		if (b < hi && lo < e)
			return true;
	}
	return false;
}

/* The frame lies in one available entry that fits in 64 bits, above 1 MiB. */
static bool frame_usable(const struct layout *l, uint64_t frame)
{
	u128 lo = (u128)frame << 12, hi = lo + 4096;
	bool avail = false;

	if (lo < MIB(1) || hi > ((u128)1 << 40))
		return false;
	for (unsigned i = 0; i < l->nmem; i++) {
		u128 b = l->mem[i].base, e = b + l->mem[i].len;

		if (l->mem[i].type == MEM_AVAILABLE && e <= ((u128)1 << 64) && b <= lo && hi <= e)
			avail = true;
	}
	return avail && !is_blocked(l, lo, hi);
}

static unsigned count_usable(const struct layout *l, uint64_t nframes)
{
	unsigned n = 0;

	for (uint64_t f = 0; f < nframes; f++)
		n += frame_usable(l, f);
	return n;
}

/* Take single zeroed frames until none is left; returns how many. */
static unsigned drain(void)
{
	unsigned n = 0;
	paddr_t pa;

	while (n < MAX_FRAMES && (pa = pmm_alloc_page()) != 0)
		got[n++] = pa;
	return n;
}

static void release(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pmm_free(got[i], 1);
}

/* Every drained frame is usable, distinct and not the bitmap frame. */
static void check_drained(const struct layout *l, unsigned n, paddr_t bitmap)
{
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		uint64_t f = got[i] >> 12;

		CHECK((got[i] & 0xfff) == 0);
		CHECK(f < MAX_FRAMES && frame_usable(l, f));
		CHECK(got[i] != bitmap);
		if (f < MAX_FRAMES) {
			CHECK(!seen[f]);
			seen[f] = 1;
		}
	}
}

/* Run @fn in a child; did it die on a signal (an ASSERT's abort)? */
static bool dies(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status);
}

/* A PC-like map: holes, ACPI at the top, unaligned reserved ranges. */
static const struct mem_region pc_mem[] = {
	{ 0x0, 0x9fc00, MEM_AVAILABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0xf0000, 0x10000, MEM_RESERVED },
	{ 0x100000, 0x3de0000, MEM_AVAILABLE },
	{ 0x3ee0000, 0x120000, MEM_ACPI_RECLAIMABLE },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
};
static const struct phys_range pc_res[] = {
	{ 0x100000, 0x200000 },  /* hypervisor image */
	{ 0x400123, 0x800 },     /* MBI, unaligned */
	{ 0x500000, 0xff001 },   /* module, ends one byte into a page */
};
static const struct layout pc = { pc_mem, 6, pc_res, 3 };

TEST(pc_layout_drain)
{
	/* top 0x3ee0000: 16096 frames, 2 x 2016 bytes of bitmap = 1 page */
	unsigned usable = count_usable(&pc, 0x4000);
	unsigned n;

	fake_phys_init(0, MIB(64));
	CHECK_EQ(layout_init(&pc), 0);
	CHECK(log_has("bitmap at 0x300000"));
	CHECK_EQ(pmm_total_pages(), usable);
	CHECK_EQ(pmm_free_pages(), usable - 1);
	n = drain();
	CHECK_EQ(n, usable - 1);
	CHECK_EQ(got[0], 0x3ee0000 - 0x1000); /* top down */
	check_drained(&pc, n, 0x300000);
	CHECK(!seen[0x400] && !seen[0x5ff] && seen[0x600] && !seen[0x2ff]);
	CHECK_EQ(pmm_free_pages(), 0);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), 0);
	release(n);
	CHECK_EQ(pmm_free_pages(), usable - 1);
}

static const struct mem_region flat_mem[] = {
	{ 0x0, 0xa0000, MEM_AVAILABLE },
	{ MIB(1), MIB(63), MEM_AVAILABLE },
};
static const struct layout flat = { flat_mem, 2, NULL, 0 };

TEST(alignment_and_limit)
{
	paddr_t pa;

	fake_phys_init(0, MIB(64));
	CHECK_EQ(layout_init(&flat), 0);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), MIB(64) - PAGE_SIZE);
	pa = pmm_alloc(16, KIB(64), 0);
	CHECK(pa && pa % KIB(64) == 0 && pa + KIB(64) <= MIB(64) - PAGE_SIZE);
	pa = pmm_alloc(512, MIB(2), 0);
	CHECK(pa && pa % MIB(2) == 0 && pa + MIB(2) <= MIB(64));
	pa = pmm_alloc(3, PAGE_SIZE, MIB(16));
	CHECK_EQ(pa, MIB(16) - 3 * PAGE_SIZE);
	/* An unaligned limit still bounds the end of the block. */
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, MIB(16) + 0xfff), MIB(16) - 4 * PAGE_SIZE);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, MIB(1)), 0);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, MIB(1) + PAGE_SIZE), 0); /* the bitmap */
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, MIB(1) + 2 * PAGE_SIZE), MIB(1) + PAGE_SIZE);
	CHECK_EQ(pmm_alloc(0, PAGE_SIZE, 0), 0);
	CHECK_EQ(pmm_alloc(MIB(64) / PAGE_SIZE, PAGE_SIZE, 0), 0);
	CHECK_EQ(pmm_alloc(1, GIB(1), 0), 0);
}

TEST(free_realloc_counts)
{
	uint64_t free0;
	paddr_t a, b, c;

	fake_phys_init(0, MIB(64));
	CHECK_EQ(layout_init(&flat), 0);
	free0 = pmm_free_pages();
	CHECK_EQ(pmm_total_pages(), free0 + 1);
	CHECK_EQ(free0, (MIB(63) - PAGE_SIZE) / PAGE_SIZE);
	a = pmm_alloc_page();
	b = pmm_alloc_page();
	c = pmm_alloc(4, PAGE_SIZE, 0);
	CHECK(a && b && c && a != b);
	CHECK_EQ(pmm_free_pages(), free0 - 6);
	pmm_free(b, 1);
	CHECK_EQ(pmm_free_pages(), free0 - 5);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), b);
	pmm_free(c, 4);
	CHECK_EQ(pmm_alloc(4, PAGE_SIZE, 0), c);
	pmm_free(a, 1);
	pmm_free(b, 1);
	pmm_free(c, 4);
	CHECK_EQ(pmm_free_pages(), free0);
}

TEST(zeroed_page)
{
	unsigned char *mem = fake_phys_init(0, MIB(64));
	paddr_t pa;

	CHECK_EQ(layout_init(&flat), 0);
	pa = pmm_alloc(1, PAGE_SIZE, 0);
	memset(mem + pa, 0xa5, PAGE_SIZE);
	pmm_free(pa, 1);
	CHECK_EQ(pmm_alloc_page(), pa);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		CHECK(mem[pa + i] == 0);
}

TEST(fragmented_runs)
{
	unsigned n;

	fake_phys_init(0, MIB(64));
	CHECK_EQ(layout_init(&flat), 0);
	n = drain();
	/* got[] is top down: give back every other frame, then a run of 4. */
	for (unsigned i = 0; i < 64; i += 2)
		pmm_free(got[i], 1);
	for (unsigned i = 101; i < 105; i++)
		pmm_free(got[i], 1);
	CHECK_EQ(pmm_alloc(4, PAGE_SIZE, 0), got[104]);
	CHECK_EQ(pmm_alloc(2, PAGE_SIZE, 0), 0);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), got[0]);
	(void)n;
}

/*
 * Unsorted and overlapping entries, a reserved hole inside RAM, a
 * sub-page ACPI entry, zero lengths, an available entry that wraps past
 * 2^64 and a reserved one that runs to the end of the address space.
 */
static const struct mem_region bad_mem[] = {
	{ MIB(32), MIB(16), MEM_AVAILABLE },
	{ MIB(1), MIB(39), MEM_AVAILABLE },
	{ MIB(8), MIB(1), MEM_RESERVED },
	{ MIB(20) + 0x800, 0x800, MEM_ACPI_RECLAIMABLE },
	{ MIB(16), 0, MEM_RESERVED },
	{ MIB(100), 0, MEM_AVAILABLE },
	{ 0xffffffffffffe000ULL, 0x4000, MEM_AVAILABLE },
	{ 0xfffffffffffff000ULL, 0x1000, MEM_AVAILABLE },
	{ MIB(44), UINT64_MAX, MEM_BADRAM },
	{ MIB(12), MIB(1), MEM_NVS },
};
static const struct phys_range bad_res[] = {
	{ 0xfffffffffffff000ULL, 0x2000 },
	{ MIB(3), 0 },
};
static const struct layout bad = { bad_mem, 10, bad_res, 2 };

TEST(malformed_map)
{
	unsigned usable = count_usable(&bad, MIB(48) >> 12);
	unsigned n;

	/* Sanity of the reading itself: [1M,44M) less 1M, 1M and one page. */
	CHECK_EQ(usable, (MIB(41) >> 12) - 1);
	fake_phys_init(0, MIB(48));
	CHECK_EQ(layout_init(&bad), 0);
	CHECK(log_has("wraps past 2^64"));
	CHECK(log_has("above 1 TiB"));
	CHECK(log_has("bitmap at 0x100000"));
	CHECK_EQ(pmm_total_pages(), usable);
	n = drain();
	CHECK_EQ(n, usable - 1);
	check_drained(&bad, n, MIB(1));
	CHECK_EQ(got[0], MIB(44) - PAGE_SIZE);
	CHECK(!seen[MIB(20) >> 12] && !seen[MIB(8) >> 12] && !seen[(MIB(13) >> 12) - 1]);
	CHECK(seen[MIB(16) >> 12] && seen[MIB(3) >> 12]);
}

/* RAM beyond 1 TiB is cut off with a warning; the bitmap spans 1 TiB. */
TEST(above_1tib)
{
	static const struct mem_region mem[] = {
		{ MIB(1), MIB(79), MEM_AVAILABLE },
		{ GIB(1024) - MIB(4), MIB(8), MEM_AVAILABLE },
		{ GIB(4096), GIB(1), MEM_AVAILABLE },
	};
	uint64_t bitmap_pages = MIB(64) >> 12; /* 2 bitmaps x 2^28 bits */

	fake_phys_init(0, MIB(80));
	CHECK_EQ(pmm_init(mem, 3, NULL, 0), 0);
	CHECK(log_has("above 1 TiB"));
	CHECK_EQ(pmm_free_pages(), ((MIB(79) - MIB(64)) >> 12) + (MIB(4) >> 12));
	CHECK_EQ(pmm_total_pages(), pmm_free_pages() + bitmap_pages);
	CHECK_EQ(pmm_alloc(1024, PAGE_SIZE, 0), GIB(1024) - MIB(4));
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), MIB(80) - PAGE_SIZE);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, GIB(4)), MIB(80) - 2 * PAGE_SIZE);
	CHECK_EQ(pmm_alloc(3839, PAGE_SIZE, 0), 0);
	CHECK_EQ(pmm_alloc(3838, PAGE_SIZE, 0), MIB(65));
	CHECK_EQ(pmm_free_pages(), 0);
}

TEST(no_room_for_bitmap)
{
	static const struct mem_region low[] = { { 0, 0xa0000, MEM_AVAILABLE } };
	static const struct mem_region one[] = { { MIB(1), PAGE_SIZE, MEM_AVAILABLE } };
	static const struct phys_range all = { 0, MIB(2) };

	fake_phys_init(0, MIB(2));
	CHECK_EQ(pmm_init(low, 1, NULL, 0), -ENOMEM);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), 0);
	CHECK_EQ(pmm_free_pages(), 0);
	CHECK_EQ(pmm_init(one, 1, &all, 1), -ENOMEM);
	CHECK_EQ(pmm_init(NULL, 0, NULL, 0), -ENOMEM);
	/* One page of RAM holds the bitmap and leaves nothing to hand out. */
	CHECK_EQ(pmm_init(one, 1, NULL, 0), 0);
	CHECK_EQ(pmm_free_pages(), 0);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, 0), 0);
}

TEST(reserve_after_init)
{
	uint64_t free0;
	paddr_t a;

	fake_phys_init(0, MIB(64));
	CHECK_EQ(layout_init(&flat), 0);
	free0 = pmm_free_pages();
	a = pmm_alloc(1, PAGE_SIZE, 0);
	pmm_reserve(MIB(8) + 0x10, 0x2000); /* touches 3 pages */
	CHECK_EQ(pmm_free_pages(), free0 - 4);
	pmm_reserve(a, PAGE_SIZE);          /* already in use: no change */
	CHECK_EQ(pmm_free_pages(), free0 - 4);
	pmm_reserve(GIB(2), MIB(1));        /* not RAM: no change */
	pmm_reserve(0xfffffffffffff000ULL, 0x2000);
	CHECK_EQ(pmm_free_pages(), free0 - 4);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, MIB(8) + 3 * PAGE_SIZE), MIB(8) - PAGE_SIZE);
	CHECK_EQ(pmm_alloc(1, PAGE_SIZE, MIB(8) + 4 * PAGE_SIZE), MIB(8) + 3 * PAGE_SIZE);
	pmm_free(a, 1);
}

static void free_reserved_frame(void)
{
	pmm_free(MIB(8), 1);
}

static void free_bitmap_frame(void)
{
	pmm_free(MIB(1), 1);
}

static void free_twice(void)
{
	paddr_t pa = pmm_alloc(1, PAGE_SIZE, 0);

	pmm_free(pa, 1);
	pmm_free(pa, 1);
}

TEST(bad_free_panics)
{
	fake_phys_init(0, MIB(64));
	CHECK_EQ(layout_init(&flat), 0);
	pmm_reserve(MIB(8), PAGE_SIZE);
	CHECK(dies(free_reserved_frame));
	CHECK(dies(free_bitmap_frame));
	CHECK(dies(free_twice));
}

int main(void)
{
	RUN(pc_layout_drain);
	RUN(alignment_and_limit);
	RUN(free_realloc_counts);
	RUN(zeroed_page);
	RUN(fragmented_runs);
	RUN(malformed_map);
	RUN(above_1tib);
	RUN(no_room_for_bitmap);
	RUN(reserve_after_init);
	RUN(bad_free_panics);
	return unit_done();
}
