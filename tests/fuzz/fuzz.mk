# libFuzzer targets: tests/fuzz/fuzz_<name>.c plus the hypervisor sources
# in fuzz_<name>_SRCS, with tests/fuzz/fuzz_host.c for printk and panic.
# Included by the Makefile after .SECONDEXPANSION.
#
#   make fuzz                    each target for FUZZ_SECONDS (default 10)
#   make fuzz FUZZ_SECONDS=300   longer
#   make build/fuzz/config       build one; run it by hand with any
#                                libFuzzer flags
#
# Each target keeps its corpus in build/fuzz/corpus-<name>, so later runs
# start from what earlier ones found. A crash is saved as
# build/fuzz/<name>-crash-<sha1>; reproduce it with
# `build/fuzz/<name> build/fuzz/<name>-crash-<sha1>`.

FUZZ_TARGETS := mb2 acpi config dmar loader decode
FUZZ_SECONDS ?= 10
FUZZ_CC ?= clang

fuzz_mb2_SRCS := boot/mb2.c
fuzz_acpi_SRCS := arch/x86/acpi.c
fuzz_config_SRCS := core/config.c core/cmdline.c
fuzz_dmar_SRCS := iommu/dmar.c
fuzz_loader_SRCS := core/loader.c core/loader_elf.c core/loader_mb.c core/loader_mb2.c boot/mb2.c
fuzz_decode_SRCS := arch/x86/decode.c arch/x86/guest_walk.c
FUZZ_TARGETS += loader_linux
fuzz_loader_linux_SRCS := core/loader_linux.c core/loader.c core/loader_elf.c core/loader_mb.c core/loader_mb2.c
FUZZ_TARGETS += virtq
fuzz_virtq_SRCS := vdev/virtq.c
FUZZ_TARGETS += virtio_blk_req
fuzz_virtio_blk_req_SRCS := vdev/virtio_blk_req.c
# The target #includes vdev/vpci.c (its state, its static functions).
FUZZ_TARGETS += vpci
fuzz_vpci_SRCS :=
$(BUILD)/fuzz/vpci: vdev/vpci.c vdev/vpci.h vdev/vlapic.h vdev/acpi_pm.h
# Optional, per target: a libFuzzer dictionary of words the parser looks
# for, and a directory of seed inputs. Random mutation alone takes long
# to build a whole valid VM section, and without one the checks on valid
# VMs never run.
fuzz_config_DICT := $(BUILD)/fuzz/config.dict
fuzz_config_SEEDS := $(BUILD)/fuzz/seed-config

# Without -fno-sanitize-recover=all UBSan only prints and the fuzzer
# carries on instead of saving the input.
FUZZ_CFLAGS := -std=gnu11 -DHOST_TEST -I. -g -O1 $(WARN) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))
FUZZ_DICTS := $(foreach t,$(FUZZ_TARGETS),$(fuzz_$(t)_DICT))
FUZZ_SEED_STAMPS := $(foreach t,$(FUZZ_TARGETS),$(if $(fuzz_$(t)_SEEDS),$(fuzz_$(t)_SEEDS)/.stamp))

$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_host.c $$(fuzz_$$*_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_$*_SRCS) tests/fuzz/fuzz_host.c

# One token a line, in libFuzzer's quoted dictionary syntax.
$(BUILD)/fuzz/config.dict: tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	@printf '"%s"\n' '[vm ' ']' '=' ' = ' ',' '-' '#' '\"' '\\\\' '\\\"' \
		'cpus' 'memory' 'kernel' 'cmdline' 'console' 'on_crash' \
		'on_poweroff' 'on_reboot' 'debug_exit' 'virtio_rng' 'yes' 'no' 'uart' 'none' 'stop' 'restart' \
		'disk' 'empty:' 'readonly' ', readonly' \
		'0x' 'K' 'M' 'G' '2M' '64G' '0x3f8' '63' '64' > $@
	@printf '"\\x0a"\n"\\x0d\\x0a"\n' >> $@

# Valid files in the format of core/config.h, and near misses.
$(BUILD)/fuzz/seed-config/.stamp: tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	@{ printf '%s\n' '# three VMs' '[vm a]' 'cpus = 0-1' 'memory = 64M' \
		'kernel = a.elf' 'cmdline = "x y \" z \\ w"  # comment' \
		'console = uart' 'on_crash = restart' 'on_poweroff = stop' \
		'debug_exit = 0xf4' 'virtio_rng = yes' 'disk = a.img' 'disk = empty:64M, readonly' ''; \
	  printf '%s\r\n' '[vm b-2]' 'cpus = 2,3' 'memory = 2M' 'kernel = b' \
		'console = none' 'debug_exit = 0x3f8' 'disk = a.img, readonly' 'disk = a.elf'; \
	  printf '%s\n' '[vm C_3]' 'cpus=4' 'memory=1G'; \
	  printf '%s' 'kernel=c'; } > $(dir $@)three.conf
	@printf '%s\n' '[vm a]' 'cpus = 0' 'memory = 2M' 'kernel = k' \
		'[vm b]' 'cpus = 1,0' 'memory = 4M' 'kernel = k' \
		'[vm a]' 'cpus = 5' 'memory = 2M' 'kernel = k' > $(dir $@)conflict.conf
	@touch $@

# A single input running longer than this (seconds) is a hang: a failure.
FUZZ_INPUT_TIMEOUT ?= 10

# Shell code that runs target $(1) and counts it in $pass or $fail.
fuzz_run = \
	dir=$(BUILD)/fuzz/corpus-$(1); log=$(BUILD)/fuzz/$(1).log; \
	mkdir -p $$dir; \
	if $(BUILD)/fuzz/$(1) -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_INPUT_TIMEOUT) \
		$(if $(fuzz_$(1)_DICT),-dict=$(fuzz_$(1)_DICT)) \
		-artifact_prefix=$(BUILD)/fuzz/$(1)- $$dir $(fuzz_$(1)_SEEDS) > $$log 2>&1; then \
		pass=$$((pass + 1)); \
		echo "fuzz_$(1): passed, $$(ls $$dir | wc -l) inputs in the corpus"; \
	else \
		fail=$$((fail + 1)); \
		tail -n 40 $$log; \
		echo "fuzz_$(1): FAILED, log in $$log"; \
	fi;

# Runs every target, even after one fails, then prints one total line.
.PHONY: fuzz
fuzz: $(FUZZ_BINS) $(FUZZ_DICTS) $(FUZZ_SEED_STAMPS)
	@pass=0; fail=0; \
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t))) \
	echo "fuzz: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]
