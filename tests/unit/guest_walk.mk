UNIT_TESTS += guest_walk
unit_guest_walk_SRCS := arch/x86/guest_walk.c
