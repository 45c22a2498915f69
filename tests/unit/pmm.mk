UNIT_TESTS += pmm
unit_pmm_SRCS := mm/pmm.c
