UNIT_TESTS += ept
unit_ept_SRCS := arch/x86/ept.c mm/paging.c mm/pmm.c
