UNIT_TESTS += loader_linux
# core/loader.c brings the range checks and boot-area writes every format
# shares, and with them the other formats' files.
unit_loader_linux_SRCS := core/loader_linux.c core/loader.c core/loader_elf.c \
	core/loader_mb.c core/loader_mb2.c
