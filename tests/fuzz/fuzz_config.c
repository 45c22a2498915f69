/*
 * libFuzzer target for the VM configuration parser (core/config.c).
 *
 * The input bytes are the configuration text, copied into a heap buffer
 * of exactly that size with no NUL after it, so any read past the end is
 * the parser's fault and trips ASan. Afterwards the result must keep the
 * promises of core/config.h whatever the input was:
 *  - at most CONFIG_MAX_VMS VMs;
 *  - every name, kernel and cmdline NUL-terminated in its array, every
 *    name 1..15 characters of [A-Za-z0-9_-];
 *  - a valid VM has CPUs, memory (>= 1M, a multiple of 2 MiB, <= 64G)
 *    and a kernel, a name no earlier VM has, and CPUs no other valid VM
 *    has;
 *  - an invalid VM means at least one message was counted.
 *
 * Build and run: `make fuzz` (tests/fuzz/fuzz.mk), or by hand
 *   clang -DHOST_TEST -I. -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all tests/fuzz/fuzz_config.c core/config.c \
 *       core/cmdline.c tests/fuzz/fuzz_host.c -o build/fuzz_config
 *   build/fuzz_config -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int is_terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static void check_name(const struct vm_config *vm)
{
	size_t len;

	if (!is_terminated(vm->name, sizeof(vm->name)))
		abort();
	len = strlen(vm->name);
	if (len == 0 || len >= CONFIG_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(vm->name[i]))
			abort();
}

static void check_valid_vm(const struct vm_config *vm)
{
	if (vm->cpu_mask == 0 || vm->cpus_line == 0)
		abort();
	if (vm->memory < (1ull << 20) || vm->memory > (64ull << 30) ||
	    vm->memory % (2ull << 20) != 0 || vm->memory_line == 0)
		abort();
	if (vm->kernel[0] == '\0' || vm->kernel_line == 0)
		abort();
	/* The keys come after the header. */
	if (vm->line == 0 || vm->cpus_line <= vm->line ||
	    vm->memory_line <= vm->line || vm->kernel_line <= vm->line)
		abort();
	if (vm->debug_exit_port != 0 && vm->console_uart &&
	    vm->debug_exit_port >= 0x3f8 && vm->debug_exit_port <= 0x3ff)
		abort();
}

static void check_vm(const struct config *cfg, unsigned i)
{
	const struct vm_config *vm = &cfg->vms[i];

	check_name(vm);
	if (!is_terminated(vm->kernel, sizeof(vm->kernel)) ||
	    !is_terminated(vm->cmdline, sizeof(vm->cmdline)))
		abort();
	if (!vm->valid) {
		if (cfg->nerrors == 0)
			abort();
		return;
	}
	check_valid_vm(vm);
	for (unsigned j = 0; j < i; j++) {
		if (strcmp(cfg->vms[j].name, vm->name) == 0)
			abort();
		if (cfg->vms[j].valid && (cfg->vms[j].cpu_mask & vm->cpu_mask))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char *text = malloc(size ? size : 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	config_parse("fuzz.conf", text, size, &cfg);
	if (cfg.nvms > CONFIG_MAX_VMS)
		abort();
	for (unsigned i = 0; i < cfg.nvms; i++)
		check_vm(&cfg, i);
	free(text);
	return 0;
}
