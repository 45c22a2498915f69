/*
 * Host tests for the multiboot2 parser: BIOS-like and UEFI-like MBIs as
 * GRUB builds them, then one broken detail at a time, checking both what
 * the parser kept and what it said about the rest.
 */
#include <stdint.h>
#include <string.h>

#include "boot/mb2.h"
#include "core/errno.h"
#include "core/printk.h"
#include "tests/unit/unit.h"

#define MBI_PHYS 0x9000u

/* An MBI under construction, 8-byte aligned as spec 3.6 requires. */
static union {
	uint64_t align;
	uint8_t b[64 * 1024];
} mbi;
static uint32_t mbi_len;
static struct boot_info bi;

static void mbi_begin(void)
{
	memset(mbi.b, 0xa5, sizeof(mbi.b)); /* padding is not zero in real life */
	mbi_len = 8;
}

static void mbi_set_total(uint32_t total)
{
	memcpy(mbi.b, &total, 4);
	memset(mbi.b + 4, 0, 4);
}

/* Appends a tag header; returns the tag for the caller to fill in. */
static uint8_t *mbi_tag(uint32_t type, uint32_t size)
{
	uint8_t *t = mbi.b + mbi_len;

	memcpy(t, &type, 4);
	memcpy(t + 4, &size, 4);
	mbi_len += (size + 7) & ~7u;
	return t;
}

static void mbi_put32(uint8_t *t, uint32_t off, uint32_t v)
{
	memcpy(t + off, &v, 4);
}

static void mbi_put64(uint8_t *t, uint32_t off, uint64_t v)
{
	memcpy(t + off, &v, 8);
}

static uint32_t mbi_offset(const void *p)
{
	return (uint32_t)((const uint8_t *)p - mbi.b);
}

static uint8_t *mbi_string(uint32_t type, const char *s)
{
	uint32_t len = (uint32_t)strlen(s) + 1;
	uint8_t *t = mbi_tag(type, 8 + len);

	memcpy(t + 8, s, len);
	return t;
}

static uint8_t *mbi_module(uint32_t start, uint32_t end, const char *cmdline)
{
	uint32_t len = (uint32_t)strlen(cmdline) + 1;
	uint8_t *t = mbi_tag(3, 16 + len);

	mbi_put32(t, 8, start);
	mbi_put32(t, 12, end);
	memcpy(t + 16, cmdline, len);
	return t;
}

static void mbi_meminfo(uint32_t lower, uint32_t upper)
{
	uint8_t *t = mbi_tag(4, 16);

	mbi_put32(t, 8, lower);
	mbi_put32(t, 12, upper);
}

struct test_mmap { uint64_t base, len; uint32_t type; };

static uint8_t *mbi_mmap(const struct test_mmap *e, uint32_t n, uint32_t entry_size)
{
	uint8_t *t = mbi_tag(6, 16 + n * entry_size);

	mbi_put32(t, 8, entry_size);
	mbi_put32(t, 12, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *p = t + 16 + i * entry_size;
		mbi_put64(p, 0, e[i].base);
		mbi_put64(p, 8, e[i].len);
		mbi_put32(p, 16, e[i].type);
		mbi_put32(p, 20, 0);
	}
	return t;
}

struct test_efi { uint32_t type; uint64_t start, pages; };

static uint8_t *mbi_efi_mmap(const struct test_efi *d, uint32_t n, uint32_t desc_size)
{
	uint8_t *t = mbi_tag(17, 16 + n * desc_size);

	mbi_put32(t, 8, desc_size);
	mbi_put32(t, 12, 1);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *p = t + 16 + i * desc_size;
		memset(p, 0, desc_size);
		mbi_put32(p, 0, d[i].type);
		mbi_put64(p, 8, d[i].start);
		mbi_put64(p, 16, 0xffff800000000000ull + d[i].start);
		mbi_put64(p, 24, d[i].pages);
		mbi_put64(p, 32, 0xf);
	}
	return t;
}

/* An RSDP-shaped payload of @len bytes; byte 15 tells old from new. */
static uint8_t *mbi_rsdp(uint32_t type, uint32_t len)
{
	uint8_t *t = mbi_tag(type, 8 + len);

	memset(t + 8, 0, len);
	memcpy(t + 8, "RSD PTR ", 8);
	t[8 + 15] = type == 15 ? 2 : 0;
	return t;
}

static void mbi_finish(void)
{
	mbi_tag(0, 8);
	mbi_set_total(mbi_len);
}

static int parse(void)
{
	return mb2_parse(mbi.b, MBI_PHYS, &bi);
}

static bool mem_is(unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
	return i < bi.nmem && bi.mem[i].base == base && bi.mem[i].len == len &&
	       bi.mem[i].type == type;
}

static const struct test_mmap bios_map[] = {
	{ 0x0, 0x9fc00, 1 },
	{ 0x9fc00, 0x400, 2 },
	{ 0xf0000, 0x10000, 2 },
	{ 0x100000, 0x1fee0000, 1 },
	{ 0x1ffe0000, 0x20000, 3 },
	{ 0xfffc0000, 0x40000, 2 },
	{ 0x100000000, 0x40000000, 1 },
	{ 0xfd00000000, 0x300000000, 7 }, /* unknown type: reserved */
};

TEST(bios_mbi)
{
	uint8_t *rsdp;

	mbi_begin();
	mbi_string(1, "console=com1 loglevel=info");
	mbi_string(2, "GRUB 2.06");
	mbi_module(0x200000, 0x280000, "guest.elf mem=256M");
	mbi_module(0x280000, 0x281234, "");
	mbi_meminfo(639, 523136);
	mbi_tag(5, 20);
	mbi_mmap(bios_map, ARRAY_SIZE(bios_map), 24);
	mbi_tag(8, 32); /* framebuffer */
	mbi_tag(10, 28); /* APM */
	rsdp = mbi_rsdp(14, 20);
	mbi_tag(21, 12); /* load base */
	mbi_tag(99, 13); /* unknown, odd size */
	mbi_finish();

	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.mbi_phys, MBI_PHYS);
	CHECK_EQ(bi.mbi_size, mbi_len);
	CHECK_STR(bi.cmdline, "console=com1 loglevel=info");
	CHECK_STR(bi.loader_name, "GRUB 2.06");
	CHECK_EQ(bi.nmodules, 2);
	CHECK_EQ(bi.modules[0].start, 0x200000);
	CHECK_EQ(bi.modules[0].end, 0x280000);
	CHECK_STR(bi.modules[0].cmdline, "guest.elf mem=256M");
	CHECK_STR(bi.modules[1].cmdline, "");
	CHECK_EQ(bi.nmem, ARRAY_SIZE(bios_map));
	CHECK(mem_is(0, 0, 0x9fc00, MEM_AVAILABLE));
	CHECK(mem_is(4, 0x1ffe0000, 0x20000, MEM_ACPI_RECLAIMABLE));
	CHECK(mem_is(7, 0xfd00000000, 0x300000000, MEM_RESERVED));
	CHECK(!bi.mem_from_efi);
	CHECK(bi.rsdp == rsdp + 8);
	CHECK_EQ(bi.rsdp_len, 20);
	CHECK_EQ(bi.ntags_bad, 0);
	CHECK(!log_has("ignored") && !log_has("stopped") && !log_has("end tag"));
	CHECK(log_has("unknown tag (type 99)"));
}

static const struct test_efi uefi_map[] = {
	{ 3, 0x0, 0xa0 },             /* boot services code */
	{ 7, 0x100000, 0x7000 },      /* conventional */
	{ 1, 0x7100000, 0x100 },      /* loader code */
	{ 2, 0x7200000, 0x100 },      /* loader data */
	{ 4, 0x7300000, 0x100 },      /* boot services data */
	{ 5, 0x7400000, 0x10 },       /* runtime services code */
	{ 6, 0x7410000, 0x10 },       /* runtime services data */
	{ 9, 0x7f000000, 0x10 },      /* ACPI reclaim */
	{ 10, 0x7f010000, 0x20 },     /* ACPI NVS */
	{ 8, 0x7f100000, 0x1 },       /* unusable */
	{ 11, 0xfec00000, 0x1 },      /* MMIO */
	{ 12, 0xcf8, 0x1 },           /* MMIO port space */
	{ 0, 0x7f200000, 0x1 },       /* reserved */
	{ 13, 0x7f300000, 0x1 },      /* PAL code */
	{ 14, 0x100000000, 0x100000 }, /* persistent */
	{ 15, 0x200000000, 0x1 },     /* unaccepted (UEFI 2.9+) */
	{ 0x80000000, 0x300000000, 0x1 }, /* OEM range */
};

static const uint32_t uefi_types[] = {
	MEM_AVAILABLE, MEM_AVAILABLE, MEM_AVAILABLE, MEM_AVAILABLE, MEM_AVAILABLE,
	MEM_RESERVED, MEM_RESERVED, MEM_ACPI_RECLAIMABLE, MEM_NVS, MEM_BADRAM,
	MEM_RESERVED, MEM_RESERVED, MEM_RESERVED, MEM_RESERVED, MEM_RESERVED,
	MEM_RESERVED, MEM_RESERVED,
};

TEST(uefi_mbi)
{
	uint8_t *rsdp_new;

	mbi_begin();
	mbi_string(1, "");
	mbi_string(2, "GRUB 2.12");
	mbi_tag(12, 16); /* EFI64 system table */
	mbi_tag(20, 16); /* EFI64 image handle */
	mbi_efi_mmap(uefi_map, ARRAY_SIZE(uefi_map), 48);
	rsdp_new = mbi_rsdp(15, 36);
	mbi_rsdp(14, 20);
	mbi_tag(13, 40); /* SMBIOS */
	mbi_finish();

	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "");
	CHECK_STR(bi.loader_name, "GRUB 2.12");
	CHECK(bi.mem_from_efi);
	CHECK_EQ(bi.nmem, ARRAY_SIZE(uefi_map));
	for (unsigned i = 0; i < ARRAY_SIZE(uefi_map) && i < bi.nmem; i++) {
		CHECK_EQ(bi.mem[i].type, uefi_types[i]);
		CHECK_EQ(bi.mem[i].base, uefi_map[i].start);
		CHECK_EQ(bi.mem[i].len, uefi_map[i].pages * 4096);
	}
	CHECK(bi.rsdp == rsdp_new + 8);
	CHECK_EQ(bi.rsdp_len, 36);
	CHECK_EQ(bi.ntags_bad, 0);
	CHECK(!log_has("ignored"));
}

TEST(header_rejected)
{
	mbi_begin();
	CHECK_EQ(mb2_parse(NULL, 0, &bi), -EINVAL);
	CHECK(log_has("multiboot2: no boot information"));
	CHECK_STR(bi.cmdline, "");

	mbi_finish();
	log_reset();
	CHECK_EQ(mb2_parse(mbi.b + 4, MBI_PHYS + 4, &bi), -EINVAL);
	CHECK(log_has("not 8-byte aligned"));
	log_reset();
	CHECK_EQ(mb2_parse(mbi.b, MBI_PHYS + 4, &bi), -EINVAL);
	CHECK(log_has("0x9004 is not 8-byte aligned"));

	mbi_set_total(7);
	log_reset();
	CHECK_EQ(parse(), -EINVAL);
	CHECK(log_has("total_size 7 is out of range"));
	CHECK_EQ(bi.nmem, 0);

	mbi_set_total((1u << 20) + 8);
	log_reset();
	CHECK_EQ(parse(), -EINVAL);
	CHECK(log_has("total_size 1048584 is out of range"));
}

TEST(minimal_mbi)
{
	mbi_begin();
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.mbi_size, 16);
	CHECK_STR(bi.cmdline, "");
	CHECK_STR(bi.loader_name, "");
	CHECK_EQ(bi.nmem, 0);
	CHECK(bi.rsdp == NULL);
	CHECK(log_has("multiboot2: no usable memory map"));

	/* A bare header is usable too, but has no end tag. */
	mbi_set_total(8);
	log_reset();
	CHECK_EQ(parse(), 0);
	CHECK(log_has("no end tag within total_size 8"));
}

TEST(tag_past_total)
{
	mbi_begin();
	mbi_string(1, "ok");
	mbi_string(2, "GRUB");
	mbi_finish();
	/* Cut total_size into the loader name tag. */
	mbi_set_total(24 + 8);
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "ok");
	CHECK_STR(bi.loader_name, "");
	CHECK_EQ(bi.ntags_bad, 1);
	CHECK(log_has("boot loader name tag (type 2) at offset 24: size 13 runs past total_size; walk stopped"));
	CHECK(!log_has("no end tag"));
}

TEST(tag_size_zero)
{
	uint8_t *t;

	mbi_begin();
	t = mbi_tag(8, 0);
	mbi_len += 8;
	mbi_string(1, "unreachable");
	mbi_finish();
	(void)t;
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "");
	CHECK_EQ(bi.ntags_bad, 1);
	CHECK(log_has("framebuffer info tag (type 8) at offset 8: size 0 is smaller than a tag header; walk stopped"));
}

TEST(missing_end_tag)
{
	mbi_begin();
	mbi_string(1, "quiet");
	mbi_set_total(mbi_len);
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "quiet");
	CHECK_EQ(bi.ntags_bad, 0);
	CHECK(log_has("multiboot2: no end tag within total_size 24"));

	/* Four stray bytes where the end tag should be. */
	mbi_set_total(mbi_len + 4);
	log_reset();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.ntags_bad, 1);
	CHECK(log_has("4 bytes at offset 24 are too few for a tag; walk stopped"));
}

TEST(end_tag_odd_size)
{
	uint8_t *t;

	mbi_begin();
	mbi_string(1, "a");
	t = mbi_tag(0, 16);
	mbi_string(1, "after the end");
	mbi_set_total(mbi_len);
	(void)t;
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "a");
	CHECK(log_has("end tag at offset 24 has size 16, not 8"));
	CHECK(!log_has("repeated"));
}

TEST(unterminated_strings)
{
	uint8_t *t;

	mbi_begin();
	t = mbi_tag(1, 8 + 4);
	memcpy(t + 8, "abcd", 4);
	t = mbi_tag(2, 8);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "");
	CHECK_STR(bi.loader_name, "");
	CHECK_EQ(bi.ntags_bad, 2);
	CHECK(log_has("multiboot2: command line tag at offset 8: not NUL-terminated; ignored"));
	CHECK(log_has("multiboot2: boot loader name tag at offset 24: not NUL-terminated; ignored"));
}

TEST(bad_then_good_cmdline)
{
	uint8_t *t;

	mbi_begin();
	t = mbi_tag(1, 8 + 3);
	memcpy(t + 8, "abc", 3);
	mbi_string(1, "second");
	mbi_string(1, "third");
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "second");
	CHECK_EQ(bi.ntags_bad, 2);
	CHECK(log_has("command line tag at offset 40 (size 14): repeated; ignored"));
}

TEST(bad_modules)
{
	uint8_t *t;

	mbi_begin();
	mbi_module(0x300000, 0x200000, "backwards");
	mbi_module(0x300000, 0x300000, "empty");
	t = mbi_tag(3, 16 + 5);
	mbi_put32(t, 8, 0x100000);
	mbi_put32(t, 12, 0x200000);
	memcpy(t + 16, "nonul", 5);
	mbi_tag(3, 12);
	mbi_module(0x400000, 0x500000, "good");
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmodules, 1);
	CHECK_EQ(bi.modules[0].start, 0x400000);
	CHECK_STR(bi.modules[0].cmdline, "good");
	CHECK_EQ(bi.ntags_bad, 4);
	CHECK(log_has("multiboot2: module 0 ('backwards'): start lies above end; ignored"));
	CHECK(log_has("multiboot2: module 1 ('empty'): empty; ignored"));
	CHECK(log_has("multiboot2: module 2 ('nonul'): command line not NUL-terminated; ignored"));
	CHECK(log_has("multiboot2: module tag at offset 88 (size 12): too small; ignored"));
}

TEST(too_many_modules)
{
	char name[16];

	mbi_begin();
	for (unsigned i = 0; i < MB2_MAX_MODULES + 2; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		mbi_module(0x1000000 + i * 0x1000, 0x1000000 + (i + 1) * 0x1000, name);
	}
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmodules, MB2_MAX_MODULES);
	CHECK_STR(bi.modules[MB2_MAX_MODULES - 1].cmdline, "m31");
	CHECK_EQ(bi.ntags_bad, 0);
	CHECK(log_has("multiboot2: module 32 ('m32'): more than 32 modules; ignored"));
	CHECK(log_has("multiboot2: module 33 ('m33'): more than 32 modules; ignored"));
}

TEST(rsdp_order)
{
	uint8_t *rsdp_new;

	mbi_begin();
	mbi_rsdp(14, 20);
	rsdp_new = mbi_rsdp(15, 36);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(bi.rsdp == rsdp_new + 8);
	CHECK_EQ(bi.rsdp_len, 36);

	mbi_begin();
	rsdp_new = mbi_rsdp(15, 36);
	mbi_rsdp(14, 20);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(bi.rsdp == rsdp_new + 8);
	CHECK_EQ(bi.rsdp_len, 36);
	CHECK_EQ(bi.ntags_bad, 0);
}

TEST(rsdp_too_small)
{
	uint8_t *rsdp_old;

	mbi_begin();
	mbi_rsdp(15, 20); /* a v1-sized copy in the new tag */
	rsdp_old = mbi_rsdp(14, 20);
	mbi_rsdp(14, 16);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(bi.rsdp == rsdp_old + 8);
	CHECK_EQ(bi.rsdp_len, 20);
	CHECK_EQ(bi.ntags_bad, 2);
	CHECK(log_has("multiboot2: ACPI new RSDP tag at offset 8 (size 28): too small; ignored"));
	CHECK(log_has("multiboot2: ACPI old RSDP tag at offset 72 (size 24): too small; ignored"));
}

TEST(efi_map_edge_cases)
{
	static const struct test_efi map[] = {
		{ 7, 0x100000, 0 },                       /* no pages */
		{ 7, 0x1000, 1ull << 52 },                /* pages * 4096 overflows */
		{ 7, 0xfffffffffffff000ull, 2 },          /* wraps */
		{ 7, 0xfffffffffffff000ull, 1 },          /* ends exactly at 2^64 */
		{ 7, 0x200000, 0x100 },
	};

	mbi_begin();
	mbi_efi_mmap(map, ARRAY_SIZE(map), 40);
	mbi_meminfo(639, 1024);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(bi.mem_from_efi);
	CHECK_EQ(bi.nmem, 2);
	CHECK(mem_is(0, 0xfffffffffffff000ull, 0x1000, MEM_AVAILABLE));
	CHECK(mem_is(1, 0x200000, 0x100000, MEM_AVAILABLE));
	CHECK(log_has("EFI memory map entry 0 (base 0x100000, length 0x0): zero length; skipped"));
	CHECK(log_has("EFI memory map entry 1 (base 0x1000): 4503599627370496 pages overflow 64 bits; skipped"));
	CHECK(log_has("EFI memory map entry 2 (base 0xfffffffffffff000, length 0x2000): wraps past 2^64; skipped"));
}

TEST(efi_map_bad_descriptor_size)
{
	static const struct test_efi map[] = { { 7, 0x100000, 0x100 } };

	mbi_begin();
	mbi_efi_mmap(map, 1, 32);
	mbi_meminfo(600, 2048);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(!bi.mem_from_efi);
	CHECK_EQ(bi.nmem, 2);
	CHECK(mem_is(0, 0, 600 * 1024, MEM_AVAILABLE));
	CHECK(mem_is(1, 0x100000, 2048 * 1024, MEM_AVAILABLE));
	CHECK_EQ(bi.ntags_bad, 1);
	CHECK(log_has("EFI memory map tag at offset 8: descriptor_size 32 is not a multiple of 8 of at least 40; ignored"));
}

TEST(mmap_preferred_over_efi)
{
	static const struct test_efi efi[] = { { 7, 0x100000, 0x100 } };
	static const struct test_mmap map[] = { { 0x100000, 0x200000, 1 } };

	mbi_begin();
	mbi_efi_mmap(efi, 1, 48);
	mbi_mmap(map, 1, 24);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(!bi.mem_from_efi);
	CHECK_EQ(bi.nmem, 1);
	CHECK(mem_is(0, 0x100000, 0x200000, MEM_AVAILABLE));
}

TEST(mmap_bad_entry_size)
{
	static const struct test_mmap map[] = { { 0x100000, 0x200000, 1 } };

	mbi_begin();
	mbi_mmap(map, 1, 20);
	mbi_mmap(map, 1, 28);
	mbi_meminfo(640, 4096);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmem, 2);
	CHECK(mem_is(1, 0x100000, 4096 * 1024, MEM_AVAILABLE));
	CHECK_EQ(bi.ntags_bad, 2);
	CHECK(log_has("memory map tag at offset 8: entry_size 20 is not a multiple of 8 of at least 24; ignored"));
	CHECK(log_has("memory map tag at offset 48: entry_size 28 is not"));
}

TEST(mmap_wide_entries_and_version)
{
	static const struct test_mmap map[] = {
		{ 0x0, 0x1000, 1 },
		{ 0x100000, 0, 1 },
		{ 0xffffffffffff0000ull, 0x20000, 2 },
		{ 0x200000, 0x1000, 5 },
	};
	uint8_t *t;

	mbi_begin();
	t = mbi_mmap(map, ARRAY_SIZE(map), 32);
	mbi_put32(t, 12, 1);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmem, 2);
	CHECK(mem_is(0, 0, 0x1000, MEM_AVAILABLE));
	CHECK(mem_is(1, 0x200000, 0x1000, MEM_BADRAM));
	CHECK(log_has("memory map tag at offset 8: entry_version 1, reading it as version 0"));
	CHECK(log_has("memory map entry 1 (base 0x100000, length 0x0): zero length; skipped"));
	CHECK(log_has("memory map entry 2 (base 0xffffffffffff0000, length 0x20000): wraps past 2^64; skipped"));
}

TEST(mmap_stray_bytes)
{
	static const struct test_mmap map[] = { { 0x0, 0x1000, 1 }, { 0x2000, 0x1000, 1 } };
	uint8_t *t;

	mbi_begin();
	t = mbi_mmap(map, 2, 24);
	mbi_put32(t, 4, 16 + 24 + 16); /* second entry cut short */
	mbi_len -= 8;
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmem, 1);
	CHECK(log_has("memory map: 16 stray bytes after the last entry"));
	CHECK_EQ(bi.ntags_bad, 0);
	CHECK(!log_has("walk stopped"));
}

TEST(mmap_too_many_entries)
{
	static struct test_mmap map[MB2_MAX_MEM + 3];

	for (unsigned i = 0; i < ARRAY_SIZE(map); i++)
		map[i] = (struct test_mmap){ (uint64_t)i << 20, 1 << 20, 1 };
	mbi_begin();
	mbi_mmap(map, ARRAY_SIZE(map), 24);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmem, MB2_MAX_MEM);
	CHECK(mem_is(MB2_MAX_MEM - 1, (uint64_t)(MB2_MAX_MEM - 1) << 20, 1 << 20, MEM_AVAILABLE));
	char want[80];

	snprintf(want, sizeof(want), "multiboot2: memory map: more than %u entries, 3 ignored",
		 MB2_MAX_MEM);
	CHECK(log_has(want));
}

TEST(meminfo_fallback)
{
	mbi_begin();
	mbi_meminfo(700, 0);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmem, 1);
	CHECK(mem_is(0, 0, 640 * 1024, MEM_AVAILABLE));
	CHECK(log_has("mem_lower 700 KiB is above 640; using 640"));

	mbi_begin();
	mbi_meminfo(0, 0xffffffffu);
	mbi_finish();
	log_reset();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nmem, 1);
	CHECK(mem_is(0, 0x100000, 0xffffffffull * 1024, MEM_AVAILABLE));
}

TEST(mmap_all_bad_falls_back)
{
	static const struct test_mmap map[] = { { 0x1000, 0, 1 } };
	static const struct test_efi efi[] = { { 7, 0x100000, 0x10 } };

	mbi_begin();
	mbi_mmap(map, 1, 24);
	mbi_efi_mmap(efi, 1, 48);
	mbi_finish();
	CHECK_EQ(parse(), 0);
	CHECK(bi.mem_from_efi);
	CHECK(mem_is(0, 0x100000, 0x10000, MEM_AVAILABLE));
}

TEST(tags_fill_total_exactly)
{
	uint8_t *t;

	/* A tag at the very end whose padding would run past total_size. */
	mbi_begin();
	t = mbi_string(1, "abc");
	mbi_set_total(mbi_offset(t) + 12);
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "abc");
	CHECK(log_has("no end tag within total_size 20"));
}

int main(void)
{
	RUN(bios_mbi);
	RUN(uefi_mbi);
	RUN(header_rejected);
	RUN(minimal_mbi);
	RUN(tag_past_total);
	RUN(tag_size_zero);
	RUN(missing_end_tag);
	RUN(end_tag_odd_size);
	RUN(unterminated_strings);
	RUN(bad_then_good_cmdline);
	RUN(bad_modules);
	RUN(too_many_modules);
	RUN(rsdp_order);
	RUN(rsdp_too_small);
	RUN(efi_map_edge_cases);
	RUN(efi_map_bad_descriptor_size);
	RUN(mmap_preferred_over_efi);
	RUN(mmap_bad_entry_size);
	RUN(mmap_wide_entries_and_version);
	RUN(mmap_stray_bytes);
	RUN(mmap_too_many_entries);
	RUN(meminfo_fallback);
	RUN(mmap_all_bad_falls_back);
	RUN(tags_fill_total_exactly);
	return unit_done();
}
