/*
 * libFuzzer target for the DMAR parser (iommu/dmar.c).
 *
 * Input: one control byte, then the table. With control bit 0 set the
 * harness writes the right length into the header and fixes the
 * checksum, so the fuzzer gets past the header at once and spends its
 * time on the remapping structures and device scopes; without it the
 * header checks themselves are fuzzed. The table is parsed from a heap
 * copy of exactly its size, so ASan sees any read past the end.
 *
 * After each parse the output must keep the parser's promises: counts
 * within bounds, every scope list inside the scope array, every path
 * 1..DMAR_MAX_PATH hops of valid device/function numbers, every RMRR
 * ordered and page-granular, and nothing at all after a rejection.
 *
 * Build and run (from the repository root):
 *   clang -DHOST_TEST -I. -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all tests/fuzz/fuzz_dmar.c iommu/dmar.c \
 *       tests/fuzz/fuzz_host.c -o build/fuzz/dmar
 *   build/fuzz/dmar -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/types.h"
#include "iommu/dmar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dmar_info info;

static void check_list(struct dmar_scope_list l)
{
	if (l.first + l.count > info.nscopes)
		abort();
	for (unsigned i = 0; i < l.count; i++) {
		const struct dmar_scope *s = dmar_scope_at(&info, l, i);

		if (s->npath < 1 || s->npath > DMAR_MAX_PATH || s->type < 1 || s->type > 5)
			abort();
		for (unsigned j = 0; j < s->npath; j++)
			if (s->path[j].dev > 31 || s->path[j].fn > 7)
				abort();
	}
}

static void check_info(int err)
{
	if (err) {
		if (info.nunits || info.nscopes || info.nrmrrs)
			abort();
		return;
	}
	if (!info.nunits || info.nunits > DMAR_MAX_UNITS || info.nrmrrs > DMAR_MAX_RMRRS ||
	    info.natsrs > DMAR_MAX_ATSRS || info.nscopes > DMAR_MAX_SCOPES || info.haw < 32)
		abort();
	for (unsigned i = 0; i < info.nunits; i++) {
		if (!info.units[i].base || (info.units[i].base & 0xfff))
			abort();
		check_list(info.units[i].scopes);
	}
	for (unsigned i = 0; i < info.nrmrrs; i++) {
		if (info.rmrrs[i].limit < info.rmrrs[i].base || (info.rmrrs[i].base & 0xfff))
			abort();
		check_list(info.rmrrs[i].scopes);
	}
	for (unsigned i = 0; i < info.natsrs; i++)
		check_list(info.atsrs[i].scopes);
}

static void fix_header(uint8_t *t, size_t len)
{
	uint32_t l = (uint32_t)len;
	uint8_t sum = 0;

	if (len < 10)
		return;
	memcpy(t, "DMAR", 4);
	memcpy(t + 4, &l, 4);
	t[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	t[9] = (uint8_t)-sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t;

	if (size < 1)
		return 0;
	t = malloc(size - 1 ? size - 1 : 1);
	if (!t)
		abort();
	memcpy(t, data + 1, size - 1);
	if (data[0] & 1)
		fix_header(t, size - 1);
	check_info(dmar_parse(t, size - 1, &info));
	free(t);
	return 0;
}
