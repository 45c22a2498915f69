UNIT_TESTS += cmdline
unit_cmdline_SRCS := core/cmdline.c
