# Test guests: small freestanding kernels that run under the hypervisor
# and report over the virtual 16550 (COM1) and the debug-exit port 0xf4.
# Included by the top-level Makefile; `make guests` builds them all into
# $(BUILD)/guests/<name>.elf and `make guests-check` checks the images.
#
# 64-bit guests: ELF64 linked at 1 MiB (tests/guests/guest.ld), entered
# in long mode as core/guest_abi.h says, built from tests/guests/<name>.c
# (plus guest_<name>_EXTRA) and the library in tests/guests/lib/.
# 32-bit guests: multiboot 1/2 ELF32 kernels (tests/guests/guest32.ld).

BUILD ?= build

GUEST_DIR := tests/guests
GUEST_OUT := $(BUILD)/guests

GUESTS64 := hello cpuid msr ports isolation triplefault hcfuzz burner bench irq acpi timer echo virtio_evil
GUESTS32 := hello-mb1 hello-mb2
GUEST_ELFS := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUESTS64) $(GUESTS32))

guest_hcfuzz_EXTRA := hcfuzz_call.S
guest_hello-mb1_EXTRA := lib/mb1_header.S
guest_hello-mb2_EXTRA := lib/mb2_header.S

GUEST_WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wvla -Wpointer-arith -Wundef
# -fno-tree-loop-distribute-patterns: GCC would otherwise turn the loop
# in memset() into a call to memset(). -fno-delete-null-pointer-checks:
# address 0 is guest RAM like any other.
GUEST_CFLAGS := -std=gnu11 -O2 $(GUEST_WARN) -I. -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
	-fno-delete-null-pointer-checks -fcf-protection=none -MMD -MP
GUEST_CFLAGS64 := $(GUEST_CFLAGS) -m64 -mcmodel=small
GUEST_CFLAGS32 := $(GUEST_CFLAGS) -m32 -march=i686
GUEST_ASFLAGS := -I. -D__ASSEMBLY__ -MMD -MP
GUEST_LDFLAGS := -ffreestanding -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--orphan-handling=error

GUEST_LIB64 := lib/crt0.S lib/traps.S lib/trap.c lib/init.c lib/hypercall.c \
	lib/cmdline.c lib/serial.c lib/printf.c lib/string.c lib/exit.c
GUEST_LIB32 := lib/crt32.S lib/serial.c lib/printf.c lib/string.c lib/exit.c

# guest_objs,BITS,SOURCES: object paths under $(GUEST_OUT)/objBITS/.
guest_objs = $(patsubst %,$(GUEST_OUT)/obj$(1)/%.o,$(2))

$(GUEST_OUT)/obj64/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	@$(CC) $(GUEST_CFLAGS64) -c -o $@ $<

$(GUEST_OUT)/obj64/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS64    $<"
	@$(CC) -m64 $(GUEST_ASFLAGS) -c -o $@ $<

$(GUEST_OUT)/obj32/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GUEST_CFLAGS32) -c -o $@ $<

$(GUEST_OUT)/obj32/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	@$(CC) -m32 $(GUEST_ASFLAGS) -c -o $@ $<

# guest_link,NAME,BITS,LDSCRIPT,LIB
define guest_link
guest_$(1)_OBJS := $$(call guest_objs,$(2),$(1).c $$(guest_$(1)_EXTRA) $(4))
$(GUEST_OUT)/$(1).elf: $$(guest_$(1)_OBJS) $(GUEST_DIR)/$(3)
	@echo "  LD$(2)    $$@"
	@$$(CC) -m$(2) $$(GUEST_LDFLAGS) -T $(GUEST_DIR)/$(3) -o $$@ $$(guest_$(1)_OBJS)
GUEST_OBJS += $$(guest_$(1)_OBJS)
endef

GUEST_OBJS :=
$(foreach g,$(GUESTS64),$(eval $(call guest_link,$(g),64,guest.ld,$(GUEST_LIB64))))
$(foreach g,$(GUESTS32),$(eval $(call guest_link,$(g),32,guest32.ld,$(GUEST_LIB32))))

.PHONY: guests guests-check
guests: $(GUEST_ELFS)

guests-check: $(GUEST_ELFS)
	@$(GUEST_DIR)/check-elfs.sh $(GUEST_ELFS)

-include $(sort $(GUEST_OBJS:.o=.d))
