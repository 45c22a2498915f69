/*
 * Physical frame allocator: two bitmaps with one bit per 4 KiB frame.
 *
 *   used  - 1 when the frame is not free: allocated, reserved, outside
 *           available RAM, or holding these bitmaps.
 *   owned - 1 when the frame is RAM this allocator may hand out. Frees
 *           are checked against it, so freeing a reserved frame or a
 *           bitmap frame panics instead of poisoning the pool.
 * Invariant: a frame that is not used is owned.
 *
 * Building the map: start with every frame used, clear the whole pages
 * inside each available entry, then set every page that any
 * non-available entry or reserved range touches. Order, not sorting,
 * resolves overlaps: any non-available type wins over available.
 *
 * Allocation searches from the top of memory down, so low memory (below
 * 4 GiB, for devices and APs) stays free for callers that ask for it
 * with a limit.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "mm/mm.h"
#include "mm/pmm.h"

/* The bitmaps cost 64 MiB at this bound; RAM above it is ignored. */
#define PMM_PHYS_LIMIT (1ULL << 40)
#define PMM_LOW_LIMIT MIB(1)
#define PMM_NONE UINT64_MAX
#define BITS 64u

struct pmm_map {
	const struct mem_region *mem;
	unsigned nmem;
	const struct phys_range *res;
	unsigned nres;
};

static struct {
	spinlock_t lock;
	uint64_t *used;
	uint64_t *owned;
	uint64_t nframes;   /* frames [0, nframes) are covered by the bitmaps */
	uint64_t nwords;    /* words in each bitmap */
	uint64_t free;
	uint64_t total;
} pmm = { .lock = SPINLOCK_INIT };

/* ---- bitmap helpers ------------------------------------------------------ */

/* Word index and mask of the first piece of [*lo, hi); advances *lo. */
static uint64_t word_chunk(uint64_t *lo, uint64_t hi, uint64_t *mask)
{
	uint64_t off = *lo % BITS;
	uint64_t n = MIN(BITS - off, hi - *lo);
	uint64_t idx = *lo / BITS;

	*mask = (n == BITS) ? ~0ULL : ((1ULL << n) - 1) << off;
	*lo += n;
	return idx;
}

static void bits_assign(uint64_t *map, uint64_t lo, uint64_t hi, bool val)
{
	uint64_t mask;

	while (lo < hi) {
		uint64_t i = word_chunk(&lo, hi, &mask);

		if (val)
			map[i] |= mask;
		else
			map[i] &= ~mask;
	}
}

/* Highest frame in [lo, hi) whose bit equals @val, or PMM_NONE. */
static uint64_t bits_find_last(const uint64_t *map, uint64_t lo, uint64_t hi, bool val)
{
	while (hi > lo) {
		uint64_t i = (hi - 1) / BITS;
		uint64_t base = i * BITS;
		uint64_t w = val ? map[i] : ~map[i];
		unsigned top = (unsigned)((hi - 1) % BITS);

		if (top != BITS - 1)
			w &= (1ULL << (top + 1)) - 1;
		if (base < lo)
			w &= ~0ULL << (lo - base);
		if (w)
			return base + BITS - 1 - (uint64_t)__builtin_clzll(w);
		hi = base;
	}
	return PMM_NONE;
}

/* ---- memory map helpers -------------------------------------------------- */

/* End of [base, base+len), saturated at the bound (so overflow is safe). */
static uint64_t clip_end(uint64_t base, uint64_t len)
{
	uint64_t b = MIN(base, PMM_PHYS_LIMIT);

	return len >= PMM_PHYS_LIMIT - b ? PMM_PHYS_LIMIT : b + len;
}

/* An available entry we trust: non-empty and not wrapping past 2^64. */
static bool is_usable_entry(const struct mem_region *r)
{
	return r->type == MEM_AVAILABLE && r->len && !range_overflows(r->base, r->len);
}

static bool is_blocking_entry(const struct mem_region *r)
{
	return r->type != MEM_AVAILABLE && r->len;
}

/* Top of trusted available RAM below the bound; warns about what is cut. */
static uint64_t map_top(const struct pmm_map *m)
{
	uint64_t top = 0, last = 0;

	for (unsigned i = 0; i < m->nmem; i++) {
		const struct mem_region *r = &m->mem[i];

		if (r->type == MEM_AVAILABLE && r->len && !is_usable_entry(r))
			pr_warn("pmm: memory map entry %u (0x%llx+0x%llx) wraps past 2^64, ignored\n",
				i, (unsigned long long)r->base, (unsigned long long)r->len);
		if (!is_usable_entry(r))
			continue;
		if (r->base < PMM_PHYS_LIMIT)
			top = MAX(top, clip_end(r->base, r->len));
		/* The last byte, as base + len may be exactly 2^64. */
		if (r->base + (r->len - 1) >= PMM_PHYS_LIMIT)
			last = MAX(last, r->base + (r->len - 1));
	}
	if (last)
		pr_warn("pmm: RAM above 1 TiB (up to 0x%llx) ignored\n", (unsigned long long)last);
	return ALIGN_DOWN(top, PAGE_SIZE);
}

/* Does any non-available entry, reserved range or the low 1 MiB touch [lo, hi)? */
static bool map_is_blocked(const struct pmm_map *m, uint64_t lo, uint64_t hi)
{
	if (lo < PMM_LOW_LIMIT)
		return true;
	for (unsigned i = 0; i < m->nmem; i++) {
		const struct mem_region *r = &m->mem[i];

		if (is_blocking_entry(r) && r->base < hi && lo < clip_end(r->base, r->len))
			return true;
	}
	for (unsigned i = 0; i < m->nres; i++) {
		const struct phys_range *r = &m->res[i];

		if (r->len && r->base < hi && lo < clip_end(r->base, r->len))
			return true;
	}
	return false;
}

/* Is [lo, hi) inside one available entry and touched by nothing else? */
static bool map_is_free(const struct pmm_map *m, uint64_t lo, uint64_t hi)
{
	if (hi > PMM_PHYS_LIMIT || lo >= hi || map_is_blocked(m, lo, hi))
		return false;
	for (unsigned i = 0; i < m->nmem; i++) {
		const struct mem_region *r = &m->mem[i];

		if (is_usable_entry(r) && r->base <= lo && hi <= clip_end(r->base, r->len))
			return true;
	}
	return false;
}

/*
 * Lowest place for @size bytes of bitmap. A free run starts either where
 * an available entry starts or where something blocking ends, so those
 * are the only candidates worth trying.
 */
static paddr_t map_find_room(const struct pmm_map *m, uint64_t size)
{
	paddr_t best = PMM_NONE;

	for (unsigned i = 0; i < m->nmem; i++) {
		uint64_t c = ALIGN_UP(MIN(m->mem[i].base, PMM_PHYS_LIMIT), PAGE_SIZE);
		uint64_t e = ALIGN_UP(clip_end(m->mem[i].base, m->mem[i].len), PAGE_SIZE);

		if (c < best && map_is_free(m, c, c + size))
			best = c;
		if (e < best && map_is_free(m, e, e + size))
			best = e;
	}
	for (unsigned i = 0; i < m->nres; i++) {
		uint64_t e = ALIGN_UP(clip_end(m->res[i].base, m->res[i].len), PAGE_SIZE);

		if (e < best && map_is_free(m, e, e + size))
			best = e;
	}
	if (best > PMM_LOW_LIMIT && map_is_free(m, PMM_LOW_LIMIT, PMM_LOW_LIMIT + size))
		best = PMM_LOW_LIMIT;
	return best == PMM_NONE ? 0 : best;
}

/*
 * Mark the bytes [lo, hi) used (every page they touch) or free (only the
 * pages wholly inside), clipped to the frames the bitmaps cover. Both
 * ends are at most PMM_PHYS_LIMIT, so rounding up cannot wrap.
 */
static void pmm_mark(uint64_t lo, uint64_t hi, bool used)
{
	uint64_t f0 = used ? lo >> PAGE_SHIFT : ALIGN_UP(lo, PAGE_SIZE) >> PAGE_SHIFT;
	uint64_t f1 = used ? ALIGN_UP(hi, PAGE_SIZE) >> PAGE_SHIFT : hi >> PAGE_SHIFT;

	f1 = MIN(f1, pmm.nframes);
	if (f0 < f1)
		bits_assign(pmm.used, f0, f1, used);
}

static void pmm_build(const struct pmm_map *m)
{
	memset(pmm.used, 0xff, pmm.nwords * sizeof(uint64_t));
	for (unsigned i = 0; i < m->nmem; i++) {
		if (is_usable_entry(&m->mem[i]))
			pmm_mark(MIN(m->mem[i].base, PMM_PHYS_LIMIT),
				 clip_end(m->mem[i].base, m->mem[i].len), false);
	}
	for (unsigned i = 0; i < m->nmem; i++) {
		if (is_blocking_entry(&m->mem[i]))
			pmm_mark(MIN(m->mem[i].base, PMM_PHYS_LIMIT),
				 clip_end(m->mem[i].base, m->mem[i].len), true);
	}
	for (unsigned i = 0; i < m->nres; i++) {
		if (m->res[i].len)
			pmm_mark(MIN(m->res[i].base, PMM_PHYS_LIMIT),
				 clip_end(m->res[i].base, m->res[i].len), true);
	}
	pmm_mark(0, PMM_LOW_LIMIT, true);
}

/* Count free frames and derive owned = ~used. */
static uint64_t pmm_seal(void)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < pmm.nwords; i++) {
		pmm.owned[i] = ~pmm.used[i];
		n += (uint64_t)__builtin_popcountll(pmm.owned[i]);
	}
	return n;
}

int pmm_init(const struct mem_region *mem, unsigned nmem,
	     const struct phys_range *reserved, unsigned nreserved)
{
	const struct pmm_map m = { mem, nmem, reserved, nreserved };
	uint64_t top = map_top(&m);
	uint64_t span;
	paddr_t at;

	pmm.nframes = top >> PAGE_SHIFT;
	pmm.nwords = (pmm.nframes + BITS - 1) / BITS;
	pmm.free = pmm.total = 0;
	span = ALIGN_UP(2 * pmm.nwords * sizeof(uint64_t), PAGE_SIZE);
	at = top > PMM_LOW_LIMIT ? map_find_room(&m, span) : 0;
	if (!at) {
		if (top > PMM_LOW_LIMIT)
			pr_err("pmm: no free run of %llu KiB for the frame bitmap\n",
			       (unsigned long long)(span >> 10));
		else
			pr_err("pmm: the memory map has no available RAM above 1 MiB\n");
		pmm.nframes = pmm.nwords = 0;
		return -ENOMEM;
	}
	pmm.used = phys_to_virt(at);
	pmm.owned = pmm.used + pmm.nwords;
	pmm_build(&m);
	pmm_mark(at, at + span, true);
	pmm.free = pmm_seal();
	pmm.total = pmm.free + (span >> PAGE_SHIFT);
	pr_info("pmm: %llu MiB total, %llu MiB free, bitmap at 0x%llx\n",
		(unsigned long long)(pmm.total >> (20 - PAGE_SHIFT)),
		(unsigned long long)(pmm.free >> (20 - PAGE_SHIFT)), (unsigned long long)at);
	return 0;
}

/* ---- allocation ---------------------------------------------------------- */

/*
 * Highest run of @n free frames, starting at a multiple of @align and
 * ending at or below frame @end. On a used frame, drop straight to the
 * highest free frame below it rather than stepping one at a time.
 */
static uint64_t pmm_find_run(uint64_t n, uint64_t align, uint64_t end)
{
	while (end >= n) {
		uint64_t start = ALIGN_DOWN(end - n, align);
		uint64_t u = bits_find_last(pmm.used, start, start + n, true);

		if (u == PMM_NONE)
			return start;
		u = bits_find_last(pmm.used, 0, u, false);
		if (u == PMM_NONE)
			break;
		end = u + 1;
	}
	return PMM_NONE;
}

paddr_t pmm_alloc(uint64_t npages, uint64_t align, paddr_t limit)
{
	uint64_t end, start;

	ASSERT(align >= PAGE_SIZE && (align & (align - 1)) == 0);
	if (!npages)
		return 0;
	spin_lock(&pmm.lock);
	end = limit ? MIN(pmm.nframes, limit >> PAGE_SHIFT) : pmm.nframes;
	start = pmm_find_run(npages, align >> PAGE_SHIFT, end);
	if (start != PMM_NONE) {
		bits_assign(pmm.used, start, start + npages, true);
		pmm.free -= npages;
	}
	spin_unlock(&pmm.lock);
	return start == PMM_NONE ? 0 : start << PAGE_SHIFT;
}

paddr_t pmm_alloc_page(void)
{
	paddr_t pa = pmm_alloc(1, PAGE_SIZE, 0);

	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

void pmm_free(paddr_t pa, uint64_t npages)
{
	uint64_t lo = pa >> PAGE_SHIFT, hi = lo + npages, mask;

	ASSERT(IS_ALIGNED(pa, PAGE_SIZE));
	spin_lock(&pmm.lock);
	ASSERT(hi >= lo && hi <= pmm.nframes);
	while (lo < hi) {
		uint64_t i = word_chunk(&lo, hi, &mask);

		/* Freeing what was never allocated is a caller bug, not input. */
		ASSERT((pmm.used[i] & pmm.owned[i] & mask) == mask);
		pmm.used[i] &= ~mask;
		pmm.free += (uint64_t)__builtin_popcountll(mask);
	}
	spin_unlock(&pmm.lock);
}

/* Frames taken here leave the pool for good: they are no longer owned. */
void pmm_reserve(paddr_t pa, uint64_t len)
{
	uint64_t lo = MIN(pa, PMM_PHYS_LIMIT) >> PAGE_SHIFT, mask;
	uint64_t hi = ALIGN_UP(clip_end(pa, len), PAGE_SIZE) >> PAGE_SHIFT;

	if (!len)
		return;
	spin_lock(&pmm.lock);
	hi = MIN(hi, pmm.nframes);
	while (lo < hi) {
		uint64_t i = word_chunk(&lo, hi, &mask);
		uint64_t taken = mask & ~pmm.used[i];

		pmm.owned[i] &= ~taken;
		pmm.used[i] |= mask;
		pmm.free -= (uint64_t)__builtin_popcountll(taken);
	}
	spin_unlock(&pmm.lock);
}

uint64_t pmm_free_pages(void)
{
	uint64_t n;

	spin_lock(&pmm.lock);
	n = pmm.free;
	spin_unlock(&pmm.lock);
	return n;
}

uint64_t pmm_total_pages(void)
{
	return pmm.total;
}
