/* The hypervisor's view of physical memory: everything is identity mapped. */
#ifndef MM_MM_H
#define MM_MM_H

#include "core/types.h"

#ifndef HOST_TEST
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)pa; }
static inline paddr_t virt_to_phys(const void *va) { return (paddr_t)(uintptr_t)va; }
#else
/* Host unit tests provide their own mapping onto a fake physical memory. */
void *phys_to_virt(paddr_t pa);
paddr_t virt_to_phys(const void *va);
#endif

#endif
