UNIT_TESTS += kmem
unit_kmem_SRCS := mm/kmem.c mm/pmm.c
