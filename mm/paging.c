/*
 * The generic radix page-table walker (see mm/paging.h).
 *
 * Each level has 512 entries; level L maps 4 KiB << 9 * (L - 1) bytes per
 * entry. Mapping and unmapping recurse from the root, one table at a
 * time. An entry is written with one aligned 64-bit store, so a hardware
 * walker on another CPU sees either the old or the new entry, and a new
 * table is fully filled before it is linked in.
 *
 * Failure: pt_map and pt_unmap work from low to high addresses. When a
 * table page cannot be allocated they stop with -ENOMEM. Everything below
 * the failing address then has the new state, everything above the old
 * one; at most some empty tables or split large pages were added, which
 * translate exactly as before. Nothing half-written is ever visible.
 *
 * TLBs and paging-structure caches are the caller's business. Note that
 * a table freed here (a larger leaf replacing it, or an unmap covering
 * it) goes straight back to the frame allocator: callers editing live
 * tables must flush before anything else can reuse that frame.
 *
 * Formats must give 0 as a non-present entry, and entry_attr must decode
 * every attribute make_leaf encodes, because splitting a large page
 * copies its attributes into the smaller leaves.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "mm/mm.h"
#include "mm/paging.h"
#include "mm/pmm.h"

#define PT_ENTRIES 512u
#define PT_LEVEL_BITS 9u
/* Physical addresses stop at 52 bits on x86 (SDM Vol. 3A 4.1.4). */
#define PT_PA_LIMIT (1ULL << 52)

static uint64_t level_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + PT_LEVEL_BITS * (level - 1));
}

static unsigned level_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (PAGE_SHIFT + PT_LEVEL_BITS * (level - 1))) & (PT_ENTRIES - 1);
}

/* The first address the root can no longer translate. */
static uint64_t pt_va_limit(const struct pt_format *fmt)
{
	return level_size(fmt->levels + 1);
}

static uint64_t *table_of(paddr_t table)
{
	return phys_to_virt(table);
}

static uint64_t entry_read(const uint64_t *slot)
{
	return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

static void entry_write(uint64_t *slot, uint64_t e)
{
	__atomic_store_n(slot, e, __ATOMIC_RELAXED);
}

/* Level-1 entries are always leaves; no leaf sits above max_leaf_level. */
static bool entry_is_leaf(const struct pt_format *fmt, uint64_t e, unsigned level)
{
	return level == 1 || (level <= fmt->max_leaf_level && fmt->is_leaf(e, level));
}

static bool entry_is_table(const struct pt_format *fmt, uint64_t e, unsigned level)
{
	return fmt->is_present(e) && !entry_is_leaf(fmt, e, level);
}

/* Free the table at @level and every table below it. */
static void table_free(const struct pt_format *fmt, paddr_t table, unsigned level)
{
	const uint64_t *t = table_of(table);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = entry_read(&t[i]);

		if (level > 1 && entry_is_table(fmt, e, level))
			table_free(fmt, fmt->entry_addr(e, level), level - 1);
	}
	pmm_free(table, 1);
}

/* Set @slot to @e and free the table subtree it pointed to, if any. */
static void entry_replace(const struct pt_format *fmt, uint64_t *slot, unsigned level, uint64_t e)
{
	uint64_t old = entry_read(slot);

	entry_write(slot, e);
	if (entry_is_table(fmt, old, level))
		table_free(fmt, fmt->entry_addr(old, level), level - 1);
}

/*
 * Replace the large leaf in @slot by a table of leaves one level down
 * that map the same memory with the same attributes. The page size
 * changes but the translation does not (SDM Vol. 3A 4.10.2.3).
 */
static int leaf_split(const struct pt_format *fmt, uint64_t *slot, unsigned level)
{
	uint64_t e = entry_read(slot);
	paddr_t pa = fmt->entry_addr(e, level);
	uint32_t attr = fmt->entry_attr(e, level);
	paddr_t table = pmm_alloc_page();
	uint64_t *t;

	if (!table)
		return -ENOMEM;
	t = table_of(table);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = fmt->make_leaf(pa + i * level_size(level - 1), level - 1, attr);
	entry_write(slot, fmt->make_table(table));
	return 0;
}

/* Make @slot at @level (> 1) point to a table: allocate or split one. */
static int entry_descend(const struct pt_format *fmt, uint64_t *slot, unsigned level,
			 paddr_t *table)
{
	uint64_t e = entry_read(slot);
	int err = 0;

	if (!fmt->is_present(e)) {
		paddr_t t = pmm_alloc_page();

		if (!t)
			return -ENOMEM;
		entry_write(slot, fmt->make_table(t));
	} else if (entry_is_leaf(fmt, e, level)) {
		err = leaf_split(fmt, slot, level);
	}
	if (!err)
		*table = fmt->entry_addr(entry_read(slot), level);
	return err;
}

/* Can one leaf at @level map @va -> @pa with @end still ahead? */
static bool can_map_leaf(const struct pt_format *fmt, unsigned level, uint64_t va,
			 paddr_t pa, uint64_t end)
{
	uint64_t size = level_size(level);

	return level <= fmt->max_leaf_level && IS_ALIGNED(va | pa, size) && end - va >= size;
}

/* The end of the entry at @level that covers @va, capped at @end. */
static uint64_t entry_end(uint64_t va, unsigned level, uint64_t end)
{
	return MIN(end, ALIGN_DOWN(va, level_size(level)) + level_size(level));
}

static int map_range(const struct pt_format *fmt, paddr_t table, unsigned level,
		     uint64_t va, uint64_t end, paddr_t pa, uint32_t attr);

/* Map [va, next), all inside the entry @slot at @level, to @pa. */
static int map_entry(const struct pt_format *fmt, uint64_t *slot, unsigned level,
		     uint64_t va, uint64_t next, paddr_t pa, uint32_t attr)
{
	paddr_t sub;
	int err;

	if (can_map_leaf(fmt, level, va, pa, next)) {
		entry_replace(fmt, slot, level, fmt->make_leaf(pa, level, attr));
		return 0;
	}
	err = entry_descend(fmt, slot, level, &sub);
	return err ? err : map_range(fmt, sub, level - 1, va, next, pa, attr);
}

static int map_range(const struct pt_format *fmt, paddr_t table, unsigned level,
		     uint64_t va, uint64_t end, paddr_t pa, uint32_t attr)
{
	uint64_t *t = table_of(table);

	while (va < end) {
		uint64_t next = entry_end(va, level, end);
		int err = map_entry(fmt, &t[level_index(va, level)], level, va, next, pa, attr);

		if (err)
			return err;
		pa += next - va;
		va = next;
	}
	return 0;
}

static int unmap_range(const struct pt_format *fmt, paddr_t table, unsigned level,
		       uint64_t va, uint64_t end);

/* Unmap [va, next), all inside the present entry @slot at @level. */
static int unmap_entry(const struct pt_format *fmt, uint64_t *slot, unsigned level,
		       uint64_t va, uint64_t next)
{
	paddr_t sub;
	int err;

	if (next - va == level_size(level)) {
		entry_replace(fmt, slot, level, 0);
		return 0;
	}
	err = entry_descend(fmt, slot, level, &sub);
	return err ? err : unmap_range(fmt, sub, level - 1, va, next);
}

static int unmap_range(const struct pt_format *fmt, paddr_t table, unsigned level,
		       uint64_t va, uint64_t end)
{
	uint64_t *t = table_of(table);

	while (va < end) {
		uint64_t next = entry_end(va, level, end);
		uint64_t *slot = &t[level_index(va, level)];

		if (fmt->is_present(entry_read(slot))) {
			int err = unmap_entry(fmt, slot, level, va, next);

			if (err)
				return err;
		}
		va = next;
	}
	return 0;
}

/* Page-aligned, non-empty, and inside what the root can translate. */
static bool is_valid_va_range(const struct pt *pt, uint64_t va, uint64_t size)
{
	uint64_t limit = pt_va_limit(pt->fmt);

	return size && IS_ALIGNED(va | size, PAGE_SIZE) && size <= limit && va <= limit - size;
}

int pt_init(struct pt *pt, const struct pt_format *fmt)
{
	ASSERT(fmt->levels >= 2 && fmt->levels <= 4);
	ASSERT(fmt->max_leaf_level >= 1 && fmt->max_leaf_level < fmt->levels);
	pt->fmt = fmt;
	pt->root = pmm_alloc_page();
	return pt->root ? 0 : -ENOMEM;
}

int pt_map(struct pt *pt, uint64_t va, paddr_t pa, uint64_t size, uint32_t attr)
{
	if (!is_valid_va_range(pt, va, size) || !IS_ALIGNED(pa, PAGE_SIZE) ||
	    size > PT_PA_LIMIT || pa > PT_PA_LIMIT - size)
		return -EINVAL;
	return map_range(pt->fmt, pt->root, pt->fmt->levels, va, va + size, pa, attr);
}

int pt_unmap(struct pt *pt, uint64_t va, uint64_t size)
{
	if (!is_valid_va_range(pt, va, size))
		return -EINVAL;
	return unmap_range(pt->fmt, pt->root, pt->fmt->levels, va, va + size);
}

int pt_lookup(const struct pt *pt, uint64_t va, paddr_t *pa, uint32_t *attr)
{
	const struct pt_format *fmt = pt->fmt;
	paddr_t table = pt->root;

	if (va >= pt_va_limit(fmt))
		return -ENOENT;
	for (unsigned level = fmt->levels; level > 0; level--) {
		uint64_t e = entry_read(&table_of(table)[level_index(va, level)]);

		if (!fmt->is_present(e))
			return -ENOENT;
		if (!entry_is_leaf(fmt, e, level)) {
			table = fmt->entry_addr(e, level);
			continue;
		}
		if (pa)
			*pa = fmt->entry_addr(e, level) + (va & (level_size(level) - 1));
		if (attr)
			*attr = fmt->entry_attr(e, level);
		return 0;
	}
	return -ENOENT; /* not reached: level-1 entries are leaves */
}

void pt_destroy(struct pt *pt)
{
	if (!pt->root)
		return;
	table_free(pt->fmt, pt->root, pt->fmt->levels);
	pt->root = 0;
}
