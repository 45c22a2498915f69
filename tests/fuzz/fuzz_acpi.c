/*
 * libFuzzer target for the ACPI table parser (arch/x86/acpi.c).
 *
 * Input: one control byte (bit 0: fix checksums; bit 2: tables layout,
 * else bit 1: BIOS layout, else direct), then the layout's bytes.
 *  - direct: a 36-byte RSDP copy, then a memory image that becomes
 *    physical memory from address 0, so table addresses in the input are
 *    offsets into the image;
 *  - tables: the image is a run of tables, each as long as its header
 *    says (clamped to what is left), at physical 0x1000; the harness adds
 *    an XSDT listing them and an RSDP, so the fuzzer reaches the table
 *    parsers at once;
 *  - BIOS: the image sits at 0xE0000 (zero-filled to 128 KiB) and the
 *    RSDP is found by acpi_find_rsdp_bios().
 *
 * acpi_map() returns a fresh heap copy of exactly the bytes asked for, so
 * ASan catches any read past what the parser mapped. Checksums are hard
 * for a fuzzer to hit, so one control bit makes acpi_map (and the RSDP
 * copy) carry correct ones; the other inputs still cover the bad-sum paths.
 *
 * Build and run (from the repository root):
 *   mkdir -p build && clang -DHOST_TEST -I. -g -O1 \
 *       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       tests/fuzz/fuzz_acpi.c arch/x86/acpi.c tests/fuzz/fuzz_host.c \
 *       -o build/fuzz_acpi
 *   build/fuzz_acpi -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/types.h"
#include "arch/x86/acpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CTL_FIX_SUMS 0x01
#define CTL_BIOS_MODE 0x02
#define CTL_TABLES_MODE 0x04

#define BIOS_BASE 0xe0000u
#define BIOS_LEN 0x20000u
#define MAX_MAPS (1u << 14)
#define MAX_TABLES 64
#define TABLES_BASE 0x1000u     /* keeps the first table off address 0 */

static const uint8_t *image;
static size_t image_len;
static paddr_t image_base;
static int fix_sums;

static void *maps[MAX_MAPS];
static unsigned nmaps;

/* Make the bytes at @p sum to zero by adjusting the one at @p[@at]. */
static void fix_sum(uint8_t *p, size_t len, size_t at)
{
	uint8_t s = 0;

	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)(0 - s);
}

/* A table header mapped whole: give it a correct checksum. */
static void fix_table_sum(uint8_t *p, size_t len)
{
	uint32_t tlen;

	if (len < 36)
		return;
	memcpy(&tlen, p + 4, sizeof(tlen));
	if (tlen == len)
		fix_sum(p, len, 9);
}

const void *acpi_map(paddr_t pa, size_t len)
{
	uint8_t *copy;

	if (len == 0 || pa < image_base || len > image_len ||
	    pa - image_base > image_len - len || nmaps == MAX_MAPS)
		return NULL;
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, image + (pa - image_base), len);
	if (fix_sums)
		fix_table_sum(copy, len);
	maps[nmaps++] = copy;
	return copy;
}

static void maps_free(void)
{
	while (nmaps)
		free(maps[--nmaps]);
}

/* What the parser promises about its output, whatever the input. */
static void check_info(const struct acpi_info *info)
{
	if (info->ncpus > ACPI_MAX_CPUS || info->nioapics > ACPI_MAX_IOAPICS ||
	    info->nisos > ACPI_MAX_ISOS || info->nmcfg > ACPI_MAX_MCFG)
		abort();
	if (info->s5_valid && (info->s5_typa > 7 || info->s5_typb > 7))
		abort();
	if (info->oem_id[6] != '\0')
		abort();
	for (unsigned i = 0; i < info->nmcfg; i++)
		if (info->mcfg[i].bus_end < info->mcfg[i].bus_start)
			abort();
}

static void fix_rsdp(uint8_t *r, size_t len)
{
	uint32_t rlen;

	if (len < 20)
		return;
	fix_sum(r, 20, 8);
	if (len < 36 || r[15] < 2)
		return;
	memcpy(&rlen, r + 20, sizeof(rlen));
	if (rlen >= 36 && rlen <= len)
		fix_sum(r, rlen, 32);
}

static void run_direct(const uint8_t *data, size_t size)
{
	static struct acpi_info info;
	uint8_t rsdp[36];
	size_t rlen = MIN(size, sizeof(rsdp));

	memcpy(rsdp, data, rlen);
	if (fix_sums)
		fix_rsdp(rsdp, rlen);
	image = data + rlen;
	image_len = size - rlen;
	image_base = 0;
	acpi_parse(rsdp, rlen, &info);
	check_info(&info);
}

static void run_bios(const uint8_t *data, size_t size)
{
	static struct acpi_info info;
	uint8_t *area = calloc(1, MAX(size, (size_t)BIOS_LEN));
	const uint8_t *r;

	if (!area)
		abort();
	memcpy(area, data, size);
	for (size_t off = 0; fix_sums && off + 36 <= BIOS_LEN; off += 16)
		if (memcmp(area + off, "RSD PTR ", 8) == 0)
			fix_rsdp(area + off, 36);
	image = area;
	image_len = MAX(size, (size_t)BIOS_LEN);
	image_base = BIOS_BASE;
	r = acpi_find_rsdp_bios();
	if (r) {
		acpi_parse(r, r[15] >= 2 ? 36 : 20, &info);
		check_info(&info);
	}
	maps_free();
	free(area);
}

/* Where each table starts: back to back, as long as each header says. */
static unsigned split_tables(const uint8_t *img, size_t len, uint64_t *addr)
{
	unsigned n = 0;
	size_t off = 0;

	while (off + 36 <= len && n < MAX_TABLES) {
		uint32_t tlen;

		memcpy(&tlen, img + off + 4, sizeof(tlen));
		if (tlen < 36 || tlen > len - off)
			tlen = (uint32_t)(len - off);
		addr[n++] = TABLES_BASE + off;
		off += tlen;
	}
	return n;
}

static void run_tables(const uint8_t *data, size_t size)
{
	static struct acpi_info info;
	uint64_t addr[MAX_TABLES];
	unsigned n = split_tables(data, size, addr);
	size_t xsdt = ALIGN_UP(size, 8), xlen = 36 + 8 * (size_t)n;
	uint8_t *mem = calloc(1, xsdt + xlen);
	uint8_t rsdp[36] = "RSD PTR \0FUZZ  ";
	uint32_t len32 = (uint32_t)xlen, rlen = 36;
	uint64_t xaddr = TABLES_BASE + xsdt;

	if (!mem)
		abort();
	memcpy(mem, data, size);
	memcpy(mem + xsdt, "XSDT", 4);
	memcpy(mem + xsdt + 4, &len32, 4);
	memcpy(mem + xsdt + 36, addr, 8 * (size_t)n);
	fix_sum(mem + xsdt, xlen, 9);
	rsdp[15] = 2;
	memcpy(rsdp + 20, &rlen, 4);
	memcpy(rsdp + 24, &xaddr, 8);
	fix_rsdp(rsdp, sizeof(rsdp));
	image = mem;
	image_len = xsdt + xlen;
	image_base = TABLES_BASE;
	acpi_parse(rsdp, sizeof(rsdp), &info);
	check_info(&info);
	maps_free();
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fix_sums = data[0] & CTL_FIX_SUMS;
	if (data[0] & CTL_TABLES_MODE)
		run_tables(data + 1, size - 1);
	else if (data[0] & CTL_BIOS_MODE)
		run_bios(data + 1, size - 1);
	else
		run_direct(data + 1, size - 1);
	maps_free();
	return 0;
}
