UNIT_TESTS += mb2
unit_mb2_SRCS := boot/mb2.c
