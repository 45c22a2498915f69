UNIT_TESTS += loader
# boot/mb2.c reads back the Multiboot2 boot information the loader writes.
unit_loader_SRCS := core/loader.c core/loader_elf.c core/loader_mb.c \
	core/loader_mb2.c boot/mb2.c
