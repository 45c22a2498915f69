UNIT_TESTS += paging
unit_paging_SRCS := mm/paging.c mm/pmm.c arch/x86/pgtable.c
