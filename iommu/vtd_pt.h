/* The VT-d second-level page-table format for mm/paging.c (VT-d 9.8). */
#ifndef IOMMU_VTD_PT_H
#define IOMMU_VTD_PT_H

#include "core/types.h"
#include "mm/paging.h"

/*
 * Fill @f for @levels (3: 39-bit, 4: 48-bit) with the large pages in
 * @sllps (CAP.SLLPS: bit 0 2 MiB, bit 1 1 GiB). Only PT_R and PT_W are
 * encoded; an attribute without either maps nothing.
 */
void vtd_pt_format_init(struct pt_format *f, unsigned levels, unsigned sllps);

#endif
