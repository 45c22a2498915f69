UNIT_TESTS += dmar
unit_dmar_SRCS := iommu/dmar.c
