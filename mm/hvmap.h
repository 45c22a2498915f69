/*
 * The hypervisor's own address space: an identity map of the machine
 * with W^X for the image, RAM write-back, and device memory uncached.
 */
#ifndef MM_HVMAP_H
#define MM_HVMAP_H

#include "core/types.h"
#include "boot/mb2.h"

/* Build the final page tables from the memory map and switch to them. */
int hvmap_init(const struct boot_info *bi);
/* The root for other CPUs to load (below 4 GiB, for the AP trampoline). */
paddr_t hvmap_root(void);
/* Make [pa, pa+len) reachable uncached; returns its address or NULL. */
void *hvmap_mmio(paddr_t pa, uint64_t len);
/* Change the attributes (PT_*) of an identity-mapped range; flushes this
 * CPU's TLB for it. Only for boot-time changes. */
int hvmap_protect(paddr_t pa, uint64_t len, uint32_t attr);
/* Make [pa, pa+len) reachable read-only, cached (firmware tables). */
const void *hvmap_ro(paddr_t pa, uint64_t len);

#endif
