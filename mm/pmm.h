/*
 * Physical frame allocator. One bit per 4 KiB frame over all RAM the
 * memory map reports available. Everything in @reserved (the hypervisor
 * image, the MBI, modules, ACPI tables) and the low 1 MiB is never
 * handed out. Failure returns 0, never a frame in use.
 */
#ifndef MM_PMM_H
#define MM_PMM_H

#include "core/types.h"
#include "boot/mb2.h"

struct phys_range {
	uint64_t base;
	uint64_t len;
};

/* Build the allocator. Returns 0 or -ENOMEM if no room for the bitmap. */
int pmm_init(const struct mem_region *mem, unsigned nmem,
	     const struct phys_range *reserved, unsigned nreserved);

/*
 * Allocate @npages contiguous frames aligned to @align bytes (a power of
 * two, at least PAGE_SIZE), below @limit (0 means anywhere). Returns the
 * physical address, or 0 when none is free. Frames are not zeroed.
 */
paddr_t pmm_alloc(uint64_t npages, uint64_t align, paddr_t limit);
paddr_t pmm_alloc_page(void);          /* one frame, zeroed */
void pmm_free(paddr_t pa, uint64_t npages);

/* Take frames out of the free pool after init (e.g. the AP trampoline). */
void pmm_reserve(paddr_t pa, uint64_t len);

uint64_t pmm_free_pages(void);
uint64_t pmm_total_pages(void);

#endif
