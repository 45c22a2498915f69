UNIT_TESTS += vtd_pt
unit_vtd_pt_SRCS := iommu/vtd_pt.c mm/paging.c mm/pmm.c
