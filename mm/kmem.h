/* Small allocator for hypervisor objects, on top of the frame allocator. */
#ifndef MM_KMEM_H
#define MM_KMEM_H

#include "core/types.h"

/* Zeroed memory, aligned to the smallest power of two >= size (max a page). */
void *kzalloc(size_t size);
void kfree(void *p);

#endif
