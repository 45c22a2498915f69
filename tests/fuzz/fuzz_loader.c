/*
 * libFuzzer target for the guest loader (core/loader*.c). The input bytes
 * are the image; guest RAM is an exactly 4 MiB zeroed heap block, so any
 * write outside it trips ASan. libFuzzer's own input buffer is exactly
 * the input's size, so any read past the image trips ASan too.
 *
 * After each load the target checks what the loader promises:
 *   - refused: guest RAM is still all zero, the entry state is cleared;
 *   - accepted: the entry state is one of the three formats, its RIP and
 *     boot structures lie in guest RAM, and a Multiboot2 boot information
 *     parses cleanly with boot/mb2.c.
 *
 * Build and run from the repository root:
 *   clang -DHOST_TEST -I. -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all tests/fuzz/fuzz_loader.c \
 *       core/loader.c core/loader_elf.c core/loader_mb.c core/loader_mb2.c \
 *       boot/mb2.c tests/fuzz/fuzz_host.c -o build/fuzz_loader
 *   build/fuzz_loader -max_total_time=60
 * The 8-byte magics are found quickly through libFuzzer's comparison
 * tracing; a corpus of real kernels (ELF64, multiboot 1 and 2) helps more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/mb2.h"
#include "core/guest_abi.h"
#include "core/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RAM (4u << 20)

static int ram_is_zero(const uint8_t *ram)
{
	return ram[0] == 0 && memcmp(ram, ram + 1, FUZZ_RAM - 1) == 0;
}

static void check_refused(const uint8_t *ram, const struct guest_entry *e)
{
	if (!ram_is_zero(ram) || e->rip != 0 || !e->format || e->format[0] != '\0')
		abort();
}

static void check_mb2_info(const uint8_t *ram, const struct guest_entry *e)
{
	static struct boot_info bi;

	if (e->rax != MB2_BOOTLOADER_MAGIC || e->rbx % 8 || e->rbx > FUZZ_RAM - 8)
		abort();
	if (mb2_parse(ram + e->rbx, e->rbx, &bi) != 0 || bi.ntags_bad || bi.nmem == 0)
		abort();
	if (strcmp(bi.cmdline, "console=uart fuzz") != 0 || strcmp(bi.loader_name, "hv") != 0)
		abort();
}

static void check_accepted(const uint8_t *ram, const struct guest_entry *e)
{
	if (e->rip >= FUZZ_RAM || e->gdt_base >= FUZZ_RAM || !e->format)
		abort();
	if (e->mode == GUEST_BOOT_LONG64) {
		if (strcmp(e->format, "ELF64") || e->rdi != HV_BOOT_MAGIC ||
		    e->rsi >= FUZZ_RAM || e->cr3 >= FUZZ_RAM || e->rax || e->rbx)
			abort();
	} else if (e->mode == GUEST_BOOT_PROT32) {
		if (e->rdi || e->rsi || e->cr3)
			abort();
		if (strcmp(e->format, "multiboot2") == 0)
			check_mb2_info(ram, e);
		else if (strcmp(e->format, "multiboot") || e->rax != 0x2badb002u ||
			 e->rbx >= FUZZ_RAM)
			abort();
	} else {
		abort();
	}
}

/*
 * One exact-size block for the whole run: a refused load leaves it zero
 * (checked), an accepted one is zeroed again for the next input.
 */
static uint8_t *fuzz_ram(void)
{
	static uint8_t *ram;

	if (!ram)
		ram = calloc(1, FUZZ_RAM);
	if (!ram)
		abort();
	return ram;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *ram = fuzz_ram();
	struct guest_mem mem = { ram, FUZZ_RAM };
	struct guest_load_args a = {
		.image = data, .image_len = size, .cmdline = "console=uart fuzz",
		.vm_id = 1, .ncpus = 2,
	};
	struct guest_entry e;

	if (loader_load("fuzz.img", &a, &mem, &e) == 0) {
		check_accepted(ram, &e);
		memset(ram, 0, FUZZ_RAM);
	} else {
		check_refused(ram, &e);
	}
	return 0;
}
