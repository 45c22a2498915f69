/*
 * One page-table walker for every 4-level radix format the hypervisor
 * builds: its own page tables now, EPT and VT-d second-level tables later.
 * A format supplies only its entry encoding; the walker allocates tables,
 * picks the largest page that fits, splits large pages when a smaller
 * mapping lands inside one, and frees nothing it did not allocate.
 */
#ifndef MM_PAGING_H
#define MM_PAGING_H

#include "core/types.h"

/* Format-neutral attributes. */
#define PT_R (1u << 0)
#define PT_W (1u << 1)
#define PT_X (1u << 2)
#define PT_USER (1u << 3)
#define PT_UC (1u << 4)   /* uncacheable (MMIO); default is write-back */
#define PT_GLOBAL (1u << 5)

/* Levels: 1 = 4 KiB leaf, 2 = 2 MiB, 3 = 1 GiB, 4 = root. */
struct pt_format {
	const char *name;
	unsigned levels;         /* 4 */
	unsigned max_leaf_level; /* 3 if 1G pages, 2 if only 2M, 1 if 4K only */
	uint64_t (*make_table)(paddr_t table);
	uint64_t (*make_leaf)(paddr_t pa, unsigned level, uint32_t attr);
	bool (*is_present)(uint64_t e);
	bool (*is_leaf)(uint64_t e, unsigned level);
	paddr_t (*entry_addr)(uint64_t e, unsigned level);
	uint32_t (*entry_attr)(uint64_t e, unsigned level);
};

struct pt {
	const struct pt_format *fmt;
	paddr_t root;
};

int pt_init(struct pt *pt, const struct pt_format *fmt);  /* -ENOMEM */
/* Map [va, va+size) to [pa, pa+size); all 4K-aligned. Replaces old leaves. */
int pt_map(struct pt *pt, uint64_t va, paddr_t pa, uint64_t size, uint32_t attr);
int pt_unmap(struct pt *pt, uint64_t va, uint64_t size);
/* Translate @va; returns 0 and fills @pa/@attr, or -ENOENT. */
int pt_lookup(const struct pt *pt, uint64_t va, paddr_t *pa, uint32_t *attr);
/* Free every table page (not the mapped memory). */
void pt_destroy(struct pt *pt);

#endif
