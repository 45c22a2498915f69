/*
 * libFuzzer target for the multiboot2 parser. The input bytes become an
 * MBI in an 8-byte-aligned buffer of exactly total_size bytes (as far as
 * the header claims, up to the parser's 1 MiB limit; zero-filled past
 * the input), so any read beyond total_size is the parser's fault and
 * trips ASan. After parsing, every pointer in boot_info must lie inside
 * the buffer and every string must end there.
 *
 * Build and run from the repository root:
 *   clang -DHOST_TEST -I. -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all \
 *       tests/fuzz/fuzz_mb2.c boot/mb2.c tests/fuzz/fuzz_host.c -o build/fuzz_mb2
 *   build/fuzz_mb2 -max_total_time=20
 * Without -fno-sanitize-recover=all UBSan only prints, and the fuzzer
 * carries on instead of saving the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/mb2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_TOTAL (1u << 20) /* the parser's own limit */
#define FUZZ_PHYS 0x10000u

/* total_size as the parser will read it: a short input is zero-padded. */
static uint32_t claimed_size(const uint8_t *data, size_t size)
{
	uint32_t total = 0;

	memcpy(&total, data, size < sizeof(total) ? size : sizeof(total));
	return total <= FUZZ_MAX_TOTAL ? total : 0;
}

static int inside(const uint8_t *buf, size_t len, const void *p, size_t n)
{
	const uint8_t *q = p;

	return q >= buf && q <= buf + len && n <= (size_t)(buf + len - q);
}

static int string_inside(const uint8_t *buf, size_t len, const char *s)
{
	if (s[0] == '\0' && !inside(buf, len, s, 1))
		return 1; /* the parser's own "" default */
	return inside(buf, len, s, 1) &&
	       memchr(s, 0, (size_t)(buf + len - (const uint8_t *)s)) != NULL;
}

static void check_modules(const uint8_t *buf, size_t len, const struct boot_info *bi)
{
	if (bi->nmodules > MB2_MAX_MODULES)
		abort();
	for (unsigned i = 0; i < bi->nmodules; i++) {
		if (bi->modules[i].start >= bi->modules[i].end ||
		    !string_inside(buf, len, bi->modules[i].cmdline))
			abort();
	}
}

static void check_result(const uint8_t *buf, size_t len, const struct boot_info *bi)
{
	if (bi->nmem > MB2_MAX_MEM)
		abort();
	for (unsigned i = 0; i < bi->nmem; i++) {
		if (bi->mem[i].len == 0 || range_overflows(bi->mem[i].base, bi->mem[i].len))
			abort();
	}
	check_modules(buf, len, bi);
	if (!string_inside(buf, len, bi->cmdline) || !string_inside(buf, len, bi->loader_name))
		abort();
	if (bi->rsdp && (bi->rsdp_len < 20 || !inside(buf, len, bi->rsdp, bi->rsdp_len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t total = claimed_size(data, size);
	size_t len = total >= 8 ? total : (size > 8 ? size : 8);
	/* malloc is 16-byte aligned; exactly @len bytes so ASan sees overruns. */
	uint8_t *buf = malloc(len);
	struct boot_info *bi = malloc(sizeof(*bi));

	if (!buf || !bi || ((uintptr_t)buf & 7))
		abort();
	memset(buf, 0, len);
	memcpy(buf, data, size < len ? size : len);
	if (mb2_parse(buf, FUZZ_PHYS, bi) == 0)
		check_result(buf, len, bi);
	free(bi);
	free(buf);
	return 0;
}
