/*
 * Host tests for the Linux bzImage loader (core/loader_linux.c). Images
 * are built byte by byte from the setup header table of
 * Documentation/arch/x86/boot.rst; boot_params is checked byte by byte
 * against the offsets of Documentation/arch/x86/zero-page.rst, written
 * out here independently of the loader.
 *
 * Guest RAM is poisoned before each load, so the tests see every byte the
 * loader writes. Then one thing at a time is broken and the test checks
 * the return value, the console message, and that guest RAM was left
 * untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/errno.h"
#include "core/guest_abi.h"
#include "core/loader.h"
#include "core/loader_linux.h"
#include "tests/unit/unit.h"

#define RAM_SIZE (64u << 20)
#define POISON 0xa5
#define IMG_MAX (0x20000 + PM_LEN + TRAILER)
#define CMDLINE "console=ttyS0 hv.cmd=\"nproc\""
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* boot.rst, "The Real-Mode Kernel Header" (offsets in the file and in boot_params). */
#define H_SETUP_SECTS 0x1f1
#define H_SYSSIZE 0x1f4
#define H_BOOT_FLAG 0x1fe
#define H_JUMP 0x200
#define H_HEADER 0x202
#define H_VERSION 0x206
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_CODE32_START 0x214
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21c
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_ADDR_MAX 0x22c
#define H_KERNEL_ALIGNMENT 0x230
#define H_RELOCATABLE 0x234
#define H_MIN_ALIGNMENT 0x235
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_SETUP_DATA 0x250
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
#define H_HANDOVER 0x264
#define H_KERNEL_INFO 0x268
#define H_END 0x26c

/* zero-page.rst */
#define ZP_ACPI_RSDP 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_SENTINEL 0x1ef
#define ZP_E820_TABLE 0x2d0

/* Where the loader promises to put things (core/loader_linux.h). */
#define ZP 0x8000u
#define CMDLINE_GPA 0x9000u
#define GDT_GPA 0xa000u

#define PM_LEN 0x2000u          /* protected-mode kernel in the images */
#define TRAILER 0x40u           /* bytes after it (a signature): not loaded */
#define PREF 0x1000000ull
#define INIT_SIZE 0x400000u

static uint8_t *ram;
static struct guest_mem mem;
static uint8_t img[IMG_MAX];
static size_t img_len;
static struct guest_entry ent;
static uint8_t initrd[2u << 20];
static uint8_t want_zp[4096];

/* ---- byte helpers ------------------------------------------------------ */

static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, sizeof(v)); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, sizeof(v)); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, sizeof(v)); }

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t ram64(uint64_t gpa) { return get64(ram + gpa); }
static uint32_t ram32(uint64_t gpa) { return get32(ram + gpa); }

static int ram_is(uint64_t gpa, uint64_t n, uint8_t v)
{
	return n == 0 || (ram[gpa] == v && memcmp(ram + gpa, ram + gpa + 1, n - 1) == 0);
}

static uint8_t pattern(size_t off) { return (uint8_t)(off * 13 + 7); }

static size_t pm_off_of(uint8_t sects) { return ((size_t)(sects ? sects : 4) + 1) * 512; }

/*
 * A bzImage as Debian's 6.1 kernel lays it out, scaled down: protocol
 * 2.15, relocatable, 64-bit entry, loadable above 4 GiB, a setup_data
 * pointer and kernel_info_offset set to junk the loader must not trust.
 */
static void bz_build(uint8_t sects)
{
	size_t pm = pm_off_of(sects);

	img_len = pm + PM_LEN + TRAILER;
	for (size_t i = 0; i < img_len; i++)
		img[i] = pattern(i);
	img[H_SETUP_SECTS] = sects;
	put32(H_SYSSIZE, PM_LEN / 16);
	put16(H_BOOT_FLAG, 0xaa55);
	img[H_JUMP] = 0xeb;
	img[H_JUMP + 1] = H_END - 0x202;
	memcpy(img + H_HEADER, "HdrS", 4);
	put16(H_VERSION, 0x020f);
	img[H_TYPE_OF_LOADER] = 0;
	img[H_LOADFLAGS] = 0x01;                 /* LOADED_HIGH */
	put32(H_CODE32_START, 0x100000);
	put32(H_RAMDISK_IMAGE, 0);
	put32(H_RAMDISK_SIZE, 0);
	put32(H_CMD_LINE_PTR, 0);
	put32(H_INITRD_ADDR_MAX, 0x7fffffff);
	put32(H_KERNEL_ALIGNMENT, 0x200000);
	img[H_RELOCATABLE] = 1;
	img[H_MIN_ALIGNMENT] = 21;
	put16(H_XLOADFLAGS, 0x3);                /* KERNEL_64, CAN_BE_LOADED_ABOVE_4G */
	put32(H_CMDLINE_SIZE, 0x7ff);
	put64(H_SETUP_DATA, 0x123456789abcull);
	put64(H_PREF_ADDRESS, PREF);
	put32(H_INIT_SIZE, INIT_SIZE);
	put32(H_HANDOVER, 0x190);
	put32(H_KERNEL_INFO, 0x1234);
}

/* A window load_full() passes for the e820 map to reserve (the PCI ECAM). */
static uint64_t reserved_gpa, reserved_size;

static int load_full(uint64_t ram_size, const char *cmdline, size_t ilen, uint64_t rsdp)
{
	struct guest_load_args a = {
		.image = img, .image_len = img_len, .cmdline = cmdline,
		.vm_id = 1, .ncpus = 2,
		.reserved_gpa = reserved_gpa, .reserved_size = reserved_size,
	};

	memset(ram, POISON, RAM_SIZE);
	memset(&ent, 0x5a, sizeof(ent));
	mem = (struct guest_mem){ ram, ram_size };
	return loader_load_linux("vmlinuz", &a, ilen ? initrd : NULL, ilen, rsdp, &mem, &ent);
}

static int load(void) { return load_full(RAM_SIZE, CMDLINE, 0, 0); }

static int refused_as(int want_err, const char *msg, uint64_t ram_size, const char *cmdline,
		      size_t ilen)
{
	int err = load_full(ram_size, cmdline, ilen, 0);
	int ok = err == want_err && log_has(msg) && log_has("loader: vmlinuz: ") &&
		 ram_is(0, RAM_SIZE, POISON) && ent.rip == 0 && ent.format &&
		 ent.format[0] == '\0';

	if (!ok)
		fprintf(stderr, "  got %d, log: %s", err, log_text());
	return ok;
}

static int refused(int want_err, const char *msg)
{
	return refused_as(want_err, msg, RAM_SIZE, CMDLINE, 0);
}

/* ---- what a correct boot_params holds ---------------------------------- */

static void want_put32(size_t off, uint32_t v) { memcpy(want_zp + off, &v, sizeof(v)); }
static void want_put64(size_t off, uint64_t v) { memcpy(want_zp + off, &v, sizeof(v)); }

static void want_e820(unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	size_t o = ZP_E820_TABLE + 20 * i;

	memcpy(want_zp + o, &addr, 8);
	memcpy(want_zp + o + 8, &size, 8);
	memcpy(want_zp + o + 16, &type, 4);
}

/* The whole 4 KiB zero page the loader should have written. */
static void want_zero_page(uint64_t load, uint64_t ram_size, uint64_t rd, uint64_t rdlen,
			   uint64_t rsdp)
{
	memset(want_zp, 0, sizeof(want_zp));
	memcpy(want_zp + H_SETUP_SECTS, img + H_SETUP_SECTS, H_END - H_SETUP_SECTS);
	want_zp[H_TYPE_OF_LOADER] = 0xff;
	want_put32(H_CODE32_START, (uint32_t)load);
	want_put32(H_CMD_LINE_PTR, CMDLINE_GPA);
	want_put32(H_RAMDISK_IMAGE, (uint32_t)rd);
	want_put32(H_RAMDISK_SIZE, (uint32_t)rdlen);
	want_put32(ZP_EXT_RAMDISK_IMAGE, (uint32_t)(rd >> 32));
	want_put32(ZP_EXT_RAMDISK_SIZE, (uint32_t)(rdlen >> 32));
	want_put64(H_SETUP_DATA, 0);
	want_put64(ZP_ACPI_RSDP, rsdp);
	want_zp[ZP_E820_ENTRIES] = 4;
	want_e820(0, 0, 0x9fc00, 1);
	want_e820(1, 0x9fc00, 0x400, 2);
	want_e820(2, 0xe0000, 0x20000, 2);
	want_e820(3, 0x100000, ram_size - 0x100000, 1);
}

static int zero_page_is_wanted(void)
{
	for (size_t i = 0; i < sizeof(want_zp); i++) {
		if (ram[ZP + i] != want_zp[i]) {
			fprintf(stderr, "  boot_params byte 0x%zx: 0x%02x, want 0x%02x\n", i,
				ram[ZP + i], want_zp[i]);
			return 0;
		}
	}
	return 1;
}

/* ---- accepted images ---------------------------------------------------- */

TEST(loads_protected_mode_kernel_at_pref_address)
{
	static const uint8_t sects[] = { 0, 1, 4, 27, 39, 255 };

	for (size_t i = 0; i < sizeof(sects); i++) {
		size_t pm;

		bz_build(sects[i]);
		pm = pm_off_of(sects[i]);
		CHECK_EQ(load(), 0);
		CHECK(memcmp(ram + PREF, img + pm, PM_LEN) == 0);
		/* syssize ends the kernel: the trailer stays out. */
		CHECK(ram_is(PREF + PM_LEN, 0x1000, POISON));
		CHECK(ram_is(0x100000, PREF - 0x100000, POISON));
		CHECK(ram_is(PREF + PM_LEN, RAM_SIZE - PREF - PM_LEN, POISON));
		CHECK_EQ(ent.rip, PREF + 0x200);
	}
}

TEST(entry_state)
{
	bz_build(39);
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.mode, GUEST_BOOT_LONG64);
	CHECK_EQ(ent.rip, PREF + 0x200);
	CHECK_EQ(ent.rsi, ZP);
	CHECK_EQ(ent.rdi, 0);
	CHECK_EQ(ent.rax, 0);
	CHECK_EQ(ent.rbx, 0);
	CHECK_EQ(ent.cr3, 0x1000);
	CHECK_EQ(ent.gdt_base, GDT_GPA);
	CHECK_EQ(ent.gdt_limit, 4 * 8 - 1);
	CHECK_EQ(ent.cs, 0x10);
	CHECK_EQ(ent.ds, 0x18);
	CHECK_STR(ent.format, "Linux bzImage");
}

/* boot.rst: __BOOT_CS 0x10 and __BOOT_DS 0x18, flat; SDM Vol. 3A 3.4.5. */
TEST(gdt_boot_cs_and_ds)
{
	uint64_t cs, ds;

	bz_build(4);
	CHECK_EQ(load(), 0);
	cs = ram64(GDT_GPA + 0x10);
	ds = ram64(GDT_GPA + 0x18);
	CHECK_EQ(ram64(GDT_GPA), 0);
	CHECK_EQ(cs & 0xffff, 0xffff);            /* limit 15:0 */
	CHECK_EQ((cs >> 48) & 0xf, 0xf);          /* limit 19:16 */
	CHECK_EQ((cs >> 16) & 0xffffff, 0);       /* base 23:0 */
	CHECK_EQ(cs >> 56, 0);                    /* base 31:24 */
	CHECK_EQ((cs >> 40) & 0xff, 0x9b);        /* P, DPL 0, S, code exec/read, accessed */
	CHECK_EQ((cs >> 52) & 0xf, 0xa);          /* G, L */
	CHECK_EQ(ds & 0xffff, 0xffff);
	CHECK_EQ((ds >> 16) & 0xffffff, 0);
	CHECK_EQ((ds >> 40) & 0xff, 0x93);        /* P, S, data read/write, accessed */
	CHECK_EQ((ds >> 52) & 0xf, 0xc);          /* G, D/B */
}

TEST(identity_tables)
{
	bz_build(4);
	CHECK_EQ(load(), 0);
	CHECK_EQ(ram64(0x1000), 0x2000 | 0x3);
	CHECK(ram_is(0x1008, 4096 - 8, 0));
	for (uint64_t i = 0; i < 512; i++)
		CHECK_EQ(ram64(0x2000 + 8 * i), (i << 30) | 0x83);
}

TEST(boot_params_byte_by_byte)
{
	bz_build(27);
	CHECK_EQ(load_full(RAM_SIZE, CMDLINE, 0, 0), 0);
	want_zero_page(PREF, RAM_SIZE, 0, 0, 0);
	CHECK(zero_page_is_wanted());
	/* The same fields, read at their zero-page.rst offsets. */
	CHECK_EQ(ram[ZP + H_TYPE_OF_LOADER], 0xff);
	CHECK_EQ(ram32(ZP + H_CMD_LINE_PTR), CMDLINE_GPA);
	CHECK_EQ(ram32(ZP + ZP_EXT_CMD_LINE_PTR), 0);
	CHECK_EQ(ram32(ZP + H_RAMDISK_IMAGE), 0);
	CHECK_EQ(ram32(ZP + H_RAMDISK_SIZE), 0);
	CHECK_EQ(ram64(ZP + ZP_ACPI_RSDP), 0);
	CHECK_EQ(ram64(ZP + H_SETUP_DATA), 0);
	CHECK_EQ(ram[ZP + ZP_SENTINEL], 0);
	CHECK_EQ(ram32(ZP + H_INIT_SIZE), INIT_SIZE);
	CHECK_EQ(ram64(ZP + H_PREF_ADDRESS), PREF);
	CHECK_EQ(ram32(ZP + H_KERNEL_INFO), 0x1234);   /* copied up to the header's end */
	CHECK_EQ(ram[ZP + H_END], 0);                   /* and no further */
	CHECK(memcmp(ram + CMDLINE_GPA, CMDLINE, sizeof(CMDLINE)) == 0);
}

TEST(e820_describes_exactly_the_ram)
{
	static const uint64_t sizes[] = { 24 * MiB, 64 * MiB, 0x3ff2000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bz_build(4);
		put32(H_INIT_SIZE, 0x200000);
		CHECK_EQ(load_full(sizes[i], "", 0, 0), 0);
		CHECK_EQ(ram[ZP + ZP_E820_ENTRIES], 4);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 0), 0);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 8), 0x9fc00);
		CHECK_EQ(ram32(ZP + ZP_E820_TABLE + 16), 1);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 20), 0x9fc00);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 28), 0x400);
		CHECK_EQ(ram32(ZP + ZP_E820_TABLE + 36), 2);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 40), 0xe0000);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 48), 0x20000);
		CHECK_EQ(ram32(ZP + ZP_E820_TABLE + 56), 2);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 60), 0x100000);
		CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 68), sizes[i] - 0x100000);
		CHECK_EQ(ram32(ZP + ZP_E820_TABLE + 76), 1);
		CHECK(ram_is(ZP + ZP_E820_TABLE + 80, 20, 0));
	}
}

/* The ECAM window above RAM, reserved after it, so that Linux uses it. */
TEST(e820_reserves_the_window_it_is_given)
{
	bz_build(4);
	reserved_gpa = 0xe0000000;
	reserved_size = MiB;
	CHECK_EQ(load_full(RAM_SIZE, "", 0, 0), 0);
	reserved_gpa = reserved_size = 0;
	CHECK_EQ(ram[ZP + ZP_E820_ENTRIES], 5);
	CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 60), 0x100000);
	CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 68), RAM_SIZE - 0x100000);
	CHECK_EQ(ram32(ZP + ZP_E820_TABLE + 76), 1);
	CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 80), 0xe0000000);
	CHECK_EQ(ram64(ZP + ZP_E820_TABLE + 88), MiB);
	CHECK_EQ(ram32(ZP + ZP_E820_TABLE + 96), 2);
	CHECK(ram_is(ZP + ZP_E820_TABLE + 100, 20, 0));
}

TEST(acpi_rsdp_only_when_given)
{
	bz_build(4);
	CHECK_EQ(load_full(RAM_SIZE, "", 0, 0xe0000), 0);
	CHECK_EQ(ram64(ZP + ZP_ACPI_RSDP), 0xe0000);
	CHECK_EQ(load_full(RAM_SIZE, "", 0, 0), 0);
	CHECK_EQ(ram64(ZP + ZP_ACPI_RSDP), 0);
}

TEST(initrd_at_top_of_ram)
{
	size_t n = (1u << 20) + 5;
	uint64_t gpa = (RAM_SIZE - n) & ~0xfffull;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 31 + 1);
	bz_build(4);
	CHECK_EQ(load_full(RAM_SIZE, CMDLINE, n, 0xe0000), 0);
	CHECK(memcmp(ram + gpa, initrd, n) == 0);
	CHECK(ram_is(gpa + n, RAM_SIZE - gpa - n, POISON));
	CHECK(ram_is(PREF + PM_LEN, gpa - PREF - PM_LEN, POISON));
	CHECK_EQ(ram32(ZP + H_RAMDISK_IMAGE), gpa);
	CHECK_EQ(ram32(ZP + H_RAMDISK_SIZE), n);
	CHECK_EQ(ram32(ZP + ZP_EXT_RAMDISK_IMAGE), 0);
	CHECK_EQ(ram32(ZP + ZP_EXT_RAMDISK_SIZE), 0);
	want_zero_page(PREF, RAM_SIZE, gpa, n, 0xe0000);
	CHECK(zero_page_is_wanted());
}

/* The last byte at or below initrd_addr_max (boot.rst: "highest safe byte"). */
TEST(initrd_below_initrd_addr_max)
{
	size_t n = 0x20000;

	bz_build(4);
	put32(H_INITRD_ADDR_MAX, (uint32_t)(48 * MiB - 1));
	CHECK_EQ(load_full(RAM_SIZE, "", n, 0), 0);
	CHECK_EQ(ram32(ZP + H_RAMDISK_IMAGE), 48 * MiB - n);
	CHECK(memcmp(ram + 48 * MiB - n, initrd, n) == 0);
	CHECK(ram_is(48 * MiB, RAM_SIZE - 48 * MiB, POISON));
}

/* Exactly from the end of the kernel's init_size range to the end of RAM. */
TEST(initrd_fills_ram_above_kernel)
{
	uint64_t ram_size = PREF + INIT_SIZE + sizeof(initrd);

	bz_build(4);
	CHECK_EQ(load_full(ram_size, "", sizeof(initrd), 0), 0);
	CHECK_EQ(ram32(ZP + H_RAMDISK_IMAGE), PREF + INIT_SIZE);
	CHECK(refused_as(-ENOMEM, "initrd of 2049 KiB does not fit", ram_size, "",
			 sizeof(initrd) + 1));
}

TEST(initrd_refused)
{
	bz_build(4);
	/* RAM ends 1 MiB above the kernel's range. */
	CHECK(refused_as(-ENOMEM, "initrd of 2048 KiB does not fit between the kernel's end 0x1400000",
			 PREF + INIT_SIZE + MiB, "", sizeof(initrd)));
	/* initrd_addr_max inside the kernel's range. */
	put32(H_INITRD_ADDR_MAX, (uint32_t)(PREF + 0x1000));
	CHECK(refused_as(-ENOMEM, "initrd of 4 KiB does not fit", RAM_SIZE, "", 4096));
	CHECK(refused_as(-ENOMEM, "initrd of 1 KiB does not fit", RAM_SIZE, "", 1));
}

/* A relocatable kernel whose pref_address does not fit goes to 16 MiB, aligned. */
TEST(relocatable_fallback)
{
	bz_build(4);
	put64(H_PREF_ADDRESS, 0x40000000);
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, 16 * MiB + 0x200);
	CHECK(memcmp(ram + 16 * MiB, img + pm_off_of(4), PM_LEN) == 0);
	CHECK_EQ(ram32(ZP + H_CODE32_START), 16 * MiB);

	bz_build(4);
	put32(H_KERNEL_ALIGNMENT, 0x1000000 * 2);  /* 32 MiB */
	put64(H_PREF_ADDRESS, 0x1100000);          /* not aligned to it */
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, 32 * MiB + 0x200);

	bz_build(4);
	put64(H_PREF_ADDRESS, 0);                  /* "if nonzero" */
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, 16 * MiB + 0x200);

	bz_build(4);
	put64(H_PREF_ADDRESS, 0x2000000);          /* fits: used */
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, 32 * MiB + 0x200);
}

TEST(non_relocatable_at_pref_address)
{
	bz_build(4);
	img[H_RELOCATABLE] = 0;
	put32(H_KERNEL_ALIGNMENT, 3);              /* ignored when not relocatable */
	put64(H_PREF_ADDRESS, 0x2100000);
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, 0x2100000 + 0x200);
	CHECK(memcmp(ram + 0x2100000, img + pm_off_of(4), PM_LEN) == 0);

	put64(H_PREF_ADDRESS, 0x3e00000);          /* + 4 MiB init_size > 64 MiB */
	CHECK(refused(-ENOMEM, "kernel needs 66 MiB of RAM (at 0x3e00000 with init_size 0x400000) but the VM has 64 MiB"));
	put64(H_PREF_ADDRESS, 0x80000);
	CHECK(refused(-ENOEXEC, "pref_address 0x80000 of a non-relocatable kernel lies below 1 MiB"));
	put64(H_PREF_ADDRESS, 0xfffffffffff00000ull);
	CHECK(refused(-ENOEXEC, "ends above 512 GiB"));
}

/* Without XLF_CAN_BE_LOADED_ABOVE_4G everything stays below 4 GiB. */
TEST(below_4g_without_xlf_above_4g)
{
	bz_build(4);
	img[H_RELOCATABLE] = 0;
	put16(H_XLOADFLAGS, 0x1);
	put64(H_PREF_ADDRESS, 4 * GiB - 0x200000);
	/* Guest RAM claimed to be 8 GiB: a refusal writes nothing. */
	CHECK(refused_as(-ENOEXEC, "ends above 4 GiB (xloadflags XLF_CAN_BE_LOADED_ABOVE_4G clear)",
			 8 * GiB, "", 0));
}

/* An initrd that fits only above 4 GiB goes there if the kernel allows it. */
TEST(initrd_above_4g)
{
	uint64_t size = 4 * GiB + 64 * MiB;
	size_t n = sizeof(initrd);
	uint8_t *big = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct guest_load_args a;
	uint64_t gpa = (size - n) & ~0xfffull;

	CHECK(big != MAP_FAILED);
	if (big == MAP_FAILED)
		return;
	bz_build(4);
	put32(H_INITRD_ADDR_MAX, 21 * MiB - 1);    /* 1 MiB above the kernel's range */
	a = (struct guest_load_args){ .image = img, .image_len = img_len, .cmdline = "" };
	mem = (struct guest_mem){ big, size };
	CHECK_EQ(loader_load_linux("vmlinuz", &a, initrd, n, 0, &mem, &ent), 0);
	CHECK(memcmp(big + gpa, initrd, n) == 0);
	CHECK_EQ(get32(big + ZP + H_RAMDISK_IMAGE), (uint32_t)gpa);
	CHECK_EQ(get32(big + ZP + ZP_EXT_RAMDISK_IMAGE), gpa >> 32);
	CHECK_EQ(get32(big + ZP + H_RAMDISK_SIZE), n);
	CHECK_EQ(get32(big + ZP + ZP_EXT_RAMDISK_SIZE), 0);
	CHECK_EQ(get64(big + ZP + ZP_E820_TABLE + 68), size - MiB);

	/* Without XLF_CAN_BE_LOADED_ABOVE_4G: refused, nothing written. */
	put16(H_XLOADFLAGS, 0x1);
	memset(big, 0, 0x10000);
	memset(big + gpa, 0, n);
	log_reset();
	CHECK_EQ(loader_load_linux("vmlinuz", &a, initrd, n, 0, &mem, &ent), -ENOMEM);
	CHECK(log_has("initrd of 2048 KiB does not fit"));
	CHECK(big[ZP + H_TYPE_OF_LOADER] == 0 && big[gpa] == 0);
	munmap(big, size);
}

TEST(cmdline_size)
{
	char line[4200];

	bz_build(4);
	put32(H_CMDLINE_SIZE, 10);
	CHECK_EQ(load_full(RAM_SIZE, "0123456789", 0, 0), 0);
	CHECK(memcmp(ram + CMDLINE_GPA, "0123456789", 11) == 0);
	CHECK(refused_as(-E2BIG, "command line is 11 bytes, the kernel takes at most 10 (cmdline_size)",
			 RAM_SIZE, "0123456789a", 0));

	/* Our buffer holds 4095 characters whatever cmdline_size says. */
	put32(H_CMDLINE_SIZE, 0xffffffff);
	memset(line, 'x', sizeof(line));
	line[4095] = '\0';
	CHECK_EQ(load_full(RAM_SIZE, line, 0, 0), 0);
	CHECK(memcmp(ram + CMDLINE_GPA, line, 4096) == 0);
	line[4095] = 'x';
	line[4199] = '\0';
	CHECK(refused_as(-E2BIG, "the kernel takes at most 4095", RAM_SIZE, line, 0));

	/* No command line: an empty string, still pointed to. */
	CHECK_EQ(load_full(RAM_SIZE, NULL, 0, 0), 0);
	CHECK_EQ(ram[CMDLINE_GPA], 0);
	CHECK_EQ(ram32(ZP + H_CMD_LINE_PTR), CMDLINE_GPA);
}

/* The numbers of Debian's 6.1 cloud kernel: 16 MiB + 51.5 MiB init_size. */
TEST(init_size_beyond_ram)
{
	bz_build(39);
	put32(H_INIT_SIZE, 0x3378000);
	CHECK(refused(-ENOMEM, "kernel needs 68 MiB of RAM (at 0x1000000 with init_size 0x3378000) but the VM has 64 MiB"));
	put32(H_INIT_SIZE, 0x2000000);
	CHECK(refused_as(-ENOMEM, "kernel needs 48 MiB of RAM (at 0x1000000 with init_size 0x2000000) but the VM has 32 MiB",
			 32 * MiB, "", 0));
	CHECK_EQ(load_full(48 * MiB, "", 0, 0), 0);
}

/* ---- hostile images ------------------------------------------------------ */

TEST(bad_magic)
{
	bz_build(4);
	put16(H_BOOT_FLAG, 0xaa56);
	CHECK(refused(-ENOEXEC, "not a Linux kernel (no boot_flag 0xAA55 and \"HdrS\" at 0x1fe)"));
	bz_build(4);
	memcpy(img + H_HEADER, "HdrZ", 4);
	CHECK(refused(-ENOEXEC, "not a Linux kernel"));
	bz_build(4);
	memcpy(img, "\177ELF", 4);
	put16(H_BOOT_FLAG, 0);
	CHECK(refused(-ENOEXEC, "not a Linux kernel"));
}

TEST(old_protocol)
{
	bz_build(4);
	put16(H_VERSION, 0x020b);
	CHECK(refused(-ENOEXEC, "boot protocol 2.11 is older than 2.12"));
	put16(H_VERSION, 0x0100);
	CHECK(refused(-ENOEXEC, "boot protocol 1.00 is older than 2.12"));
	put16(H_VERSION, 0x020c);
	CHECK_EQ(load(), 0);
}

TEST(flags)
{
	bz_build(4);
	put16(H_XLOADFLAGS, 0x7e);
	CHECK(refused(-ENOEXEC, "no 64-bit entry point (xloadflags XLF_KERNEL_64 clear)"));
	bz_build(4);
	img[H_LOADFLAGS] = 0x80;
	CHECK(refused(-ENOEXEC, "not a bzImage (loadflags LOADED_HIGH clear)"));
	bz_build(4);
	put32(H_KERNEL_ALIGNMENT, 0x300000);
	CHECK(refused(-ENOEXEC, "kernel_alignment 0x300000 is not a power of two"));
	put32(H_KERNEL_ALIGNMENT, 0);
	CHECK(refused(-ENOEXEC, "kernel_alignment 0x0 is not a power of two"));
}

TEST(header_length)
{
	bz_build(4);
	img[H_JUMP + 1] = 0x65;                    /* ends at 0x267: no handover_offset */
	CHECK(refused(-ENOEXEC, "setup header ends at 0x267, outside [0x268, 0x290] (byte 0x201)"));
	img[H_JUMP + 1] = 0x8f;                    /* 0x291: past the hole in boot_params */
	CHECK(refused(-ENOEXEC, "setup header ends at 0x291"));
	img[H_JUMP + 1] = 0x8e;                    /* 0x290: all of it copied */
	CHECK_EQ(load(), 0);
	CHECK(memcmp(ram + ZP + H_END, img + H_END, 0x290 - H_END) == 0);
	img[H_JUMP + 1] = 0x66;                    /* 0x268: nothing past handover_offset */
	CHECK_EQ(load(), 0);
	CHECK(ram_is(ZP + 0x268, 0x290 - 0x268, 0));
}

TEST(truncated)
{
	size_t full;

	bz_build(39);
	full = img_len;
	img_len = 0x267;
	CHECK(refused(-ENOEXEC, "truncated: the image is 0x267 bytes, too short for a setup header"));
	img_len = 0x205;
	CHECK(refused(-ENOEXEC, "not a Linux kernel"));
	img_len = 0x26b;
	CHECK(refused(-ENOEXEC, "truncated: the image is 0x26b bytes, the setup header ends at 0x26c"));
	img_len = pm_off_of(39) - 1;
	CHECK(refused(-ENOEXEC, "truncated: the setup code ends at 0x5000 but the image is 0x4fff bytes"));
	img_len = pm_off_of(39) + PM_LEN - 1;
	CHECK(refused(-ENOEXEC, "truncated: the protected-mode kernel is 0x2000 bytes (syssize) but only 0x1fff follow the setup code"));
	img_len = pm_off_of(39) + PM_LEN;           /* no trailer: fine */
	CHECK_EQ(load(), 0);
	img_len = full;
	img_len = 0;
	CHECK(refused(-ENOEXEC, "not a Linux kernel"));
}

TEST(syssize_and_init_size)
{
	bz_build(4);
	put32(H_SYSSIZE, 0);
	CHECK(refused(-ENOEXEC, "syssize is 0: no protected-mode kernel"));
	put32(H_SYSSIZE, 0xffffffff);
	CHECK(refused(-ENOEXEC, "the protected-mode kernel is 0xffffffff0 bytes (syssize)"));
	bz_build(4);
	put32(H_INIT_SIZE, PM_LEN - 1);
	CHECK(refused(-ENOEXEC, "init_size 0x1fff is smaller than the protected-mode kernel (0x2000 bytes)"));
	put32(H_INIT_SIZE, PM_LEN);
	CHECK_EQ(load(), 0);
}

TEST(small_ram_and_no_image)
{
	bz_build(4);
	CHECK(refused_as(-ENOMEM, "does not hold the boot area", 0xffff, "", 0));
	img_len = 0;
	CHECK(refused(-ENOEXEC, "not a Linux kernel"));
}

TEST(is_bzimage)
{
	bz_build(4);
	CHECK(loader_is_bzimage(img, img_len));
	CHECK(loader_is_bzimage(img, 0x206));
	CHECK(!loader_is_bzimage(img, 0x205));
	CHECK(!loader_is_bzimage(NULL, 0x1000));
	img[H_HEADER] = 'h';
	CHECK(!loader_is_bzimage(img, img_len));
}

/* Debian's kernel, if tests/linux/build-guest.sh has fetched it. */
TEST(debian_kernel_if_built)
{
	FILE *f = fopen("build/linux/vmlinuz", "rb");
	uint64_t size = 128 * MiB;
	static uint8_t *k;
	long n;
	struct guest_load_args a = { .cmdline = "console=ttyS0" };
	struct guest_mem m;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	k = malloc((size_t)n);
	m = (struct guest_mem){ calloc(1, size), size };
	CHECK(k && m.hva && fread(k, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	a.image = k;
	a.image_len = (size_t)n;
	CHECK(loader_is_bzimage(k, (size_t)n));
	CHECK_EQ(loader_load_linux("vmlinuz", &a, initrd, 4096, 0xe0000, &m, &ent), 0);
	CHECK_EQ(ent.rip, PREF + 0x200);
	CHECK_EQ(get32(m.hva + ZP + H_RAMDISK_IMAGE), size - 4096);
	/* Cut inside the kernel: refused, clearly. */
	a.image_len = (size_t)n / 2;
	memset(m.hva, 0, size);
	CHECK_EQ(loader_load_linux("vmlinuz", &a, NULL, 0, 0, &m, &ent), -ENOEXEC);
	CHECK(log_has("truncated: the protected-mode kernel is"));
	/* Too little RAM for its init_size. */
	m.size = 64 * MiB;
	CHECK_EQ(loader_load_linux("vmlinuz", &a, NULL, 0, 0, &m, &ent), -ENOEXEC);
	a.image_len = (size_t)n;
	CHECK_EQ(loader_load_linux("vmlinuz", &a, NULL, 0, 0, &m, &ent), -ENOMEM);
	CHECK(log_has("kernel needs 68 MiB of RAM"));
	free(m.hva);
	free(k);
}

int main(void)
{
	ram = malloc(RAM_SIZE);
	if (!ram)
		return 2;
	RUN(loads_protected_mode_kernel_at_pref_address);
	RUN(entry_state);
	RUN(gdt_boot_cs_and_ds);
	RUN(identity_tables);
	RUN(boot_params_byte_by_byte);
	RUN(e820_describes_exactly_the_ram);
	RUN(e820_reserves_the_window_it_is_given);
	RUN(acpi_rsdp_only_when_given);
	RUN(initrd_at_top_of_ram);
	RUN(initrd_below_initrd_addr_max);
	RUN(initrd_fills_ram_above_kernel);
	RUN(initrd_refused);
	RUN(relocatable_fallback);
	RUN(non_relocatable_at_pref_address);
	RUN(below_4g_without_xlf_above_4g);
	RUN(initrd_above_4g);
	RUN(cmdline_size);
	RUN(init_size_beyond_ram);
	RUN(bad_magic);
	RUN(old_protocol);
	RUN(flags);
	RUN(header_length);
	RUN(truncated);
	RUN(syssize_and_init_size);
	RUN(small_ram_and_no_image);
	RUN(is_bzimage);
	RUN(debian_kernel_if_built);
	free(ram);
	return unit_done();
}
