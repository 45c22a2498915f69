/* EPT entry formats, by the largest page the CPU supports. */
#ifndef ARCH_X86_EPT_H
#define ARCH_X86_EPT_H

#include "mm/paging.h"

extern const struct pt_format ept_format_1g, ept_format_2m, ept_format_4k;

/* EPTP: write-back paging structures, 4-level walk (SDM 25.6.11). */
static inline uint64_t ept_pointer(paddr_t root)
{
	return root | (3u << 3) | 6u;
}

#endif
