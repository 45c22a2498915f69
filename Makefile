# The hypervisor image, its ISO, the emulator run and the test suite.
# `make` builds build/hv.elf; see README.md for the rest.

BUILD    ?= build
CC       := gcc
HOSTCC   ?= gcc
PYTHON   := /usr/bin/python3
EMU      ?=
CPUS     ?= 3
MEM      ?= 512
CMDLINE  ?= console=com1 loglevel=info
CONFIG   ?= configs/default.conf
JOBS     ?= 2

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wvla -Wpointer-arith -Wundef -Wcast-align \
	-Wno-address-of-packed-member

CFLAGS := -std=gnu11 -O2 -g $(WARN) -I. -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mcmodel=small \
	-mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing -fcf-protection=none \
	-MMD -MP
ASFLAGS := -I. -D__ASSEMBLY__ -MMD -MP
LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	-T linker.ld -Wl,--build-id=none -Wl,-z,noexecstack

SRCDIRS := boot arch/x86 core mm iommu vdev
C_SRCS  := $(foreach d,$(SRCDIRS),$(wildcard $(d)/*.c))
S_SRCS  := $(foreach d,$(SRCDIRS),$(wildcard $(d)/*.S))
OBJS    := $(patsubst %,$(BUILD)/obj/%.o,$(S_SRCS) $(C_SRCS))

.PHONY: all iso run test unit check bench clean deps guests fuzz
all: $(BUILD)/hv.elf

$(BUILD)/hv.elf: $(OBJS) linker.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) -lgcc
	@tools/check-image.sh $@

$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(ASFLAGS) -c -o $@ $<

-include $(OBJS:.o=.d)

# --- ISO and emulator --------------------------------------------------------
deps:
	@tools/deps.sh build

# The ISO carries CONFIG (CONFIG= for none) and every image it names.
# Images under build/linux/ that it names are made by
# tests/linux/build-guest.sh (as root) when they are missing.
CONFIG_LINUX := $(if $(CONFIG),$(shell sed -n -E 's/^[[:space:]]*(kernel|initrd)[[:space:]]*=[[:space:]]*"*(build\/linux\/[^"\#[:space:]]*).*/\2/p' $(CONFIG) 2>/dev/null))

build/linux/%:
	sh tests/linux/build-guest.sh

iso: $(BUILD)/hv.elf guests $(CONFIG_LINUX)
	@tools/deps.sh iso
	tools/mkiso.sh $(BUILD)/hv.iso $(BUILD)/hv.elf "$(CMDLINE)" \
		$(if $(CONFIG),$$(tools/config-modules.sh $(CONFIG)))

run: iso
	@tools/deps.sh run
	tools/run.sh $(BUILD)/hv.iso "$(EMU)" "$(CPUS)" "$(MEM)"

# --- Host unit tests ---------------------------------------------------------
# Each tests/unit/<name>.mk adds <name> to UNIT_TESTS and sets
# unit_<name>_SRCS to the hypervisor sources compiled into that test.
.SECONDEXPANSION:
UNIT_TESTS :=
include $(wildcard tests/unit/*.mk)

HOST_CFLAGS := -std=gnu11 -O1 -g $(WARN) -I. -DHOST_TEST \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_BINS := $(patsubst %,$(BUILD)/unit/%,$(UNIT_TESTS))

$(BUILD)/unit/%: tests/unit/test_%.c tests/unit/host.c tests/unit/unit.h $$(unit_$$*_SRCS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) $(unit_$*_CFLAGS) -o $@ tests/unit/test_$*.c tests/unit/host.c $(unit_$*_SRCS)

unit: $(UNIT_BINS)
	@tools/run-unit.sh $(UNIT_BINS)

include tests/fuzz/fuzz.mk
include tests/guests/guests.mk

# --- The whole suite ---------------------------------------------------------
test: all guests
	@tools/deps.sh test
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory fuzz
	$(PYTHON) -m pytest -n $(JOBS) tests

# --- Benchmarks (Bochs instruction counts; see tools/bench.py) --------------
bench: all guests
	@tools/deps.sh run
	$(PYTHON) tools/bench.py

clean:
	rm -rf $(BUILD)
