/*
 * Host tests for the guest loader (core/loader*.c). Images are built
 * byte by byte here from the ELF, Multiboot 0.6.96 and Multiboot2 layouts,
 * written out independently of the loader's own structures. Guest RAM is
 * poisoned before each load, so the tests see every byte the loader
 * writes (and bss it forgets to clear); the produced Multiboot2 boot
 * information is read back with boot/mb2.c's parser.
 *
 * Then one thing at a time is broken and the test checks the return
 * value, the console message, and that guest RAM was left untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/mb2.h"
#include "core/errno.h"
#include "core/guest_abi.h"
#include "core/loader.h"
#include "tests/unit/unit.h"

#define RAM_SIZE (16u << 20)
#define POISON 0xa5
#define IMG_MAX 0x4000
#define CMDLINE "console=uart quiet"

#define ELF64_EH 64
#define ELF64_PH 56
#define ELF32_EH 52
#define ELF32_PH 32
#define PT_LOAD 1
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1
#define PF_W 2
#define PF_R 4

/* Offsets of the program header table entries of the images below. */
#define PH64(i) (ELF64_EH + (i) * ELF64_PH)
#define PH32(i) (ELF32_EH + (i) * ELF32_PH)

static uint8_t *ram;
static struct guest_mem mem;
static uint8_t img[IMG_MAX];
static size_t img_len;
static struct guest_entry ent;
static struct boot_info mbi;

/* ---- byte helpers ------------------------------------------------------ */

static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, sizeof(v)); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, sizeof(v)); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, sizeof(v)); }

static uint64_t ram64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, sizeof(v));
	return v;
}

static uint32_t ram32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + gpa, sizeof(v));
	return v;
}

/* All @n bytes at @gpa equal @v: the first does, and each equals the next. */
static int ram_is(uint64_t gpa, uint64_t n, uint8_t v)
{
	return n == 0 || (ram[gpa] == v && memcmp(ram + gpa, ram + gpa + 1, n - 1) == 0);
}

/* The file byte at @off, as the images carry it. */
static uint8_t pattern(size_t off) { return (uint8_t)(off * 7 + 3); }

static void img_reset(size_t len)
{
	memset(img, 0, sizeof(img));
	for (size_t i = 0; i < len; i++)
		img[i] = pattern(i);
	img_len = len;
}

static int img_matches(uint64_t gpa, size_t off, size_t n)
{
	return memcmp(ram + gpa, img + off, n) == 0;
}

static int load_as(uint64_t ram_size, const char *cmdline)
{
	struct guest_load_args a = {
		.image = img, .image_len = img_len, .cmdline = cmdline,
		.vm_id = 3, .ncpus = 2,
	};

	memset(ram, POISON, RAM_SIZE);
	memset(&ent, 0x5a, sizeof(ent));
	mem = (struct guest_mem){ ram, ram_size };
	return loader_load("t.img", &a, &mem, &ent);
}

static int load(void) { return load_as(RAM_SIZE, CMDLINE); }

/* A refused image: the error, the message, RAM untouched, entry cleared. */
static int refused(int want_err, const char *msg)
{
	int err = load();
	int ok = err == want_err && log_has(msg) && ram_is(0, RAM_SIZE, POISON) &&
		 ent.rip == 0 && ent.format && ent.format[0] == '\0';

	if (!ok)
		fprintf(stderr, "  got %d, log: %s", err, log_text());
	return ok;
}

/* ---- ELF builders ------------------------------------------------------ */

struct ph {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void elf64_hdr(uint64_t entry, uint16_t phnum)
{
	memset(img, 0, ELF64_EH);
	memcpy(img, "\177ELF", 4);
	img[4] = 2;               /* ELFCLASS64 */
	img[5] = 1;               /* ELFDATA2LSB */
	img[6] = 1;               /* EV_CURRENT */
	put16(16, 2);             /* ET_EXEC */
	put16(18, 62);            /* EM_X86_64 */
	put32(20, 1);
	put64(24, entry);
	put64(32, ELF64_EH);      /* e_phoff */
	put16(52, ELF64_EH);
	put16(54, ELF64_PH);
	put16(56, phnum);
}

static void elf64_ph(unsigned i, const struct ph *p)
{
	size_t o = PH64(i);

	memset(img + o, 0, ELF64_PH);
	put32(o, p->type);
	put32(o + 4, p->flags);
	put64(o + 8, p->offset);
	put64(o + 16, p->vaddr);
	put64(o + 24, p->paddr);
	put64(o + 32, p->filesz);
	put64(o + 40, p->memsz);
	put64(o + 48, 0x1000);
}

static void elf32_hdr(uint32_t entry, uint16_t phnum)
{
	memset(img, 0, ELF32_EH);
	memcpy(img, "\177ELF", 4);
	img[4] = 1;               /* ELFCLASS32 */
	img[5] = 1;
	img[6] = 1;
	put16(16, 2);
	put16(18, 3);             /* EM_386 */
	put32(20, 1);
	put32(24, entry);
	put32(28, ELF32_EH);
	put16(40, ELF32_EH);
	put16(42, ELF32_PH);
	put16(44, phnum);
}

static void elf32_ph(unsigned i, const struct ph *p)
{
	size_t o = PH32(i);

	memset(img + o, 0, ELF32_PH);
	put32(o, p->type);
	put32(o + 4, (uint32_t)p->offset);
	put32(o + 8, (uint32_t)p->vaddr);
	put32(o + 12, (uint32_t)p->paddr);
	put32(o + 16, (uint32_t)p->filesz);
	put32(o + 20, (uint32_t)p->memsz);
	put32(o + 24, p->flags);
	put32(o + 28, 0x1000);
}

/*
 * The standard ELF64 guest: text at 1 MiB, data plus bss at 2 MiB, and a
 * PT_GNU_STACK the loader must skip.
 */
#define TEXT_OFF 0x1000
#define TEXT_GPA 0x100000
#define TEXT_SZ 0x200
#define DATA_OFF 0x1200
#define DATA_GPA 0x200000
#define DATA_SZ 0x100
#define DATA_MEM 0x3000
#define STD_ENTRY (TEXT_GPA + 0x10)

static void std_elf64(void)
{
	img_reset(DATA_OFF + DATA_SZ);
	elf64_hdr(STD_ENTRY, 3);
	elf64_ph(0, &(struct ph){ PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_GPA, TEXT_GPA,
				  TEXT_SZ, TEXT_SZ });
	elf64_ph(1, &(struct ph){ PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_GPA, DATA_GPA,
				  DATA_SZ, DATA_MEM });
	elf64_ph(2, &(struct ph){ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0 });
}

/* ---- multiboot builders ------------------------------------------------ */

#define MB1_MAGIC 0x1badb002u
#define MB2_MAGIC 0xe85250d6u

static void mb1_hdr(size_t off, uint32_t flags)
{
	put32(off, MB1_MAGIC);
	put32(off + 4, flags);
	put32(off + 8, 0u - MB1_MAGIC - flags);
}

static size_t mb2_off, mb2_pos;

static void mb2_begin(size_t off)
{
	mb2_off = off;
	mb2_pos = off + 16;
}

static void mb2_tag(uint16_t type, uint16_t flags, const uint32_t *w, unsigned n)
{
	uint32_t size = 8 + 4 * n;

	put16(mb2_pos, type);
	put16(mb2_pos + 2, flags);
	put32(mb2_pos + 4, size);
	for (unsigned i = 0; i < n; i++)
		put32(mb2_pos + 8 + 4 * i, w[i]);
	mb2_pos += (size + 7) & ~7u;
}

/* The end tag, then header_length and the checksum over the fixed part. */
static void mb2_end(void)
{
	uint32_t hlen;

	mb2_tag(0, 0, NULL, 0);
	hlen = (uint32_t)(mb2_pos - mb2_off);
	put32(mb2_off, MB2_MAGIC);
	put32(mb2_off + 4, 0);
	put32(mb2_off + 8, hlen);
	put32(mb2_off + 12, 0u - MB2_MAGIC - hlen);
}

/* An ELF32 multiboot kernel at 1 MiB; the header sits in its text. */
#define MB_OFF 0x1000
#define MB_GPA 0x100000
#define MB_ENTRY (MB_GPA + 0x40)

static void mb_elf32(void)
{
	img_reset(MB_OFF + 0x400);
	elf32_hdr(MB_ENTRY, 1);
	elf32_ph(0, &(struct ph){ PT_LOAD, PF_R | PF_X, MB_OFF, MB_GPA, MB_GPA, 0x400, 0x800 });
}

/* A flat binary with the a.out kludge header at offset 0x40. */
#define AOUT_HDR 0x40
#define AOUT_GPA 0x100000
#define AOUT_LEN 0x800
#define AOUT_BSS_END 0x102000
#define AOUT_ENTRY 0x100100

static void mb1_aout(void)
{
	img_reset(AOUT_LEN);
	mb1_hdr(AOUT_HDR, (1u << 16) | 3);
	put32(AOUT_HDR + 12, AOUT_GPA + AOUT_HDR);  /* header_addr */
	put32(AOUT_HDR + 16, AOUT_GPA);             /* load_addr */
	put32(AOUT_HDR + 20, AOUT_GPA + AOUT_LEN);  /* load_end_addr */
	put32(AOUT_HDR + 24, AOUT_BSS_END);         /* bss_end_addr */
	put32(AOUT_HDR + 28, AOUT_ENTRY);           /* entry_addr */
}

/* ---- shared checks ----------------------------------------------------- */

/* SDM Vol. 3A 3.4.5: P, S, DPL 0, L and D/B, decoded bit by bit here. */
static void check_gdt(void)
{
	uint64_t code64 = ram64(0x3000 + 8), data = ram64(0x3000 + 16);
	uint64_t code32 = ram64(0x3000 + 24);

	CHECK_EQ(ram64(0x3000), 0);
	CHECK_EQ(code64, 0x00af9b000000ffffull);
	CHECK_EQ(data, 0x00cf93000000ffffull);
	CHECK_EQ(code32, 0x00cf9b000000ffffull);
	CHECK((code64 >> 47) & 1);                      /* present */
	CHECK(((code64 >> 53) & 1) && !((code64 >> 54) & 1)); /* L, not D */
	CHECK(!((code32 >> 53) & 1) && ((code32 >> 54) & 1)); /* D, not L */
	CHECK(((code64 >> 43) & 1) && !((data >> 43) & 1));   /* code / data */
	CHECK_EQ(ent.gdt_base, 0x3000);
	CHECK_EQ(ent.gdt_limit, 31);
}

static void check_prot32(uint64_t rip, uint32_t magic, const char *format)
{
	CHECK_EQ(ent.mode, GUEST_BOOT_PROT32);
	CHECK_EQ(ent.rip, rip);
	CHECK_EQ(ent.rax, magic);
	CHECK_EQ(ent.rbx, 0x5000);
	CHECK_EQ(ent.rdi, 0);
	CHECK_EQ(ent.rsi, 0);
	CHECK_EQ(ent.cr3, 0);
	CHECK_EQ(ent.cs, 0x18);
	CHECK_EQ(ent.ds, 0x10);
	CHECK_STR(ent.format, format);
	check_gdt();
}

/* The map both multiboot versions describe, for 16 MiB of RAM. */
static const struct mem_region want_map[] = {
	{ 0, 0x9fc00, 1 },
	{ 0x9fc00, 0x100000 - 0x9fc00, 2 },
	{ 0x100000, RAM_SIZE - 0x100000, 1 },
};

/* The Multiboot 0.6.96 3.3 info at 0x5000, read by offset. */
static void check_mb1_info(void)
{
	uint64_t mi = 0x5000, mmap;

	CHECK_EQ(ram32(mi), (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
	CHECK_EQ(ram32(mi + 4), 640);
	CHECK_EQ(ram32(mi + 8), (RAM_SIZE - 0x100000) / 1024);
	CHECK_STR((char *)ram + ram32(mi + 16), CMDLINE);
	CHECK_STR((char *)ram + ram32(mi + 64), "hv");
	CHECK_EQ(ram32(mi + 44), 3 * 24);
	mmap = ram32(mi + 48);
	for (unsigned i = 0; i < 3; i++, mmap += 24) {
		CHECK_EQ(ram32(mmap), 20);
		CHECK_EQ(ram64(mmap + 4), want_map[i].base);
		CHECK_EQ(ram64(mmap + 12), want_map[i].len);
		CHECK_EQ(ram32(mmap + 20), want_map[i].type);
	}
}

/* The basic meminfo tag, found by walking the MBI's tags by hand. */
static void check_mb2_meminfo(void)
{
	uint64_t off = 0x5000 + 8, end = 0x5000 + ram32(0x5000);
	int found = 0;

	while (off + 8 <= end && ram32(off) != 0) {
		if (ram32(off) == 4) {
			CHECK_EQ(ram32(off + 4), 16);
			CHECK_EQ(ram32(off + 8), 640);
			CHECK_EQ(ram32(off + 12), (RAM_SIZE - 0x100000) / 1024);
			found = 1;
		}
		off += (ram32(off + 4) + 7) & ~7u;
	}
	CHECK(found);
	CHECK_EQ(ram32(off), 0);           /* end tag ... */
	CHECK_EQ(ram32(off + 4), 8);
	CHECK_EQ(off + 8, end);            /* ... closes total_size */
}

/* Multiboot2 3.6, read back with the hypervisor's own parser. */
static void check_mb2_info(void)
{
	CHECK_EQ(ram32(0x5000) % 8, 0);
	CHECK_EQ(ram32(0x5004), 0);
	CHECK_EQ(mb2_parse(ram + 0x5000, 0x5000, &mbi), 0);
	CHECK_EQ(mbi.ntags_bad, 0);
	CHECK_STR(mbi.cmdline, CMDLINE);
	CHECK_STR(mbi.loader_name, "hv");
	CHECK_EQ(mbi.nmem, 3);
	for (unsigned i = 0; i < 3 && i < mbi.nmem; i++) {
		CHECK_EQ(mbi.mem[i].base, want_map[i].base);
		CHECK_EQ(mbi.mem[i].len, want_map[i].len);
		CHECK_EQ(mbi.mem[i].type, want_map[i].type);
	}
	CHECK(!log_has("multiboot2:"));    /* the parser had nothing to say */
	check_mb2_meminfo();
}

/* ---- ELF64, 64-bit entry ----------------------------------------------- */

TEST(elf64_loads_segments_and_bss)
{
	std_elf64();
	CHECK_EQ(load(), 0);
	CHECK(img_matches(TEXT_GPA, TEXT_OFF, TEXT_SZ));
	CHECK(img_matches(DATA_GPA, DATA_OFF, DATA_SZ));
	CHECK(ram_is(DATA_GPA + DATA_SZ, DATA_MEM - DATA_SZ, 0));
	/* Nothing around the segments, nor the first page, is touched. */
	CHECK(ram_is(TEXT_GPA - 0x100, 0x100, POISON));
	CHECK(ram_is(TEXT_GPA + TEXT_SZ, 0x100, POISON));
	CHECK(ram_is(DATA_GPA + DATA_MEM, 0x100, POISON));
	CHECK(ram_is(0, 0x1000, POISON));
	CHECK(ram_is(0x10000, 0x100, POISON));
}

TEST(elf64_entry_state)
{
	std_elf64();
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.mode, GUEST_BOOT_LONG64);
	CHECK_EQ(ent.rip, STD_ENTRY);
	CHECK_EQ(ent.rdi, HV_BOOT_MAGIC);
	CHECK_EQ(ent.rsi, 0x3100);
	CHECK_EQ(ent.rax, 0);
	CHECK_EQ(ent.rbx, 0);
	CHECK_EQ(ent.cr3, 0x1000);
	CHECK_EQ(ent.cs, 0x08);
	CHECK_EQ(ent.ds, 0x10);
	CHECK_STR(ent.format, "ELF64");
	check_gdt();
}

/* SDM Vol. 3A 4.5: PML4E -> PDPT; each PDPTE maps 1 GiB (PS). */
TEST(elf64_identity_tables)
{
	uint64_t pml4 = 0x1000, pdpt;

	std_elf64();
	CHECK_EQ(load(), 0);
	CHECK_EQ(ram64(pml4) & 0xfff, 0x3);               /* P | RW, no PS */
	pdpt = ram64(pml4) & ~0xfffull;
	CHECK_EQ(pdpt, 0x2000);
	for (unsigned i = 1; i < 512; i++)
		CHECK_EQ(ram64(pml4 + 8 * i), 0);
	for (uint64_t i = 0; i < 512; i++)
		CHECK_EQ(ram64(pdpt + 8 * i), (i << 30) | 0x83);   /* P | RW | PS */
}

TEST(elf64_boot_info)
{
	struct hv_boot_info bi;

	std_elf64();
	CHECK_EQ(load(), 0);
	memcpy(&bi, ram + ent.rsi, sizeof(bi));
	CHECK_EQ(bi.magic, HV_BOOT_MAGIC);
	CHECK_EQ(bi.mem_size, RAM_SIZE);
	CHECK_EQ(bi.vm_id, 3);
	CHECK_EQ(bi.ncpus, 2);
	CHECK(bi.cmdline_gpa >= 0x1000 && bi.cmdline_gpa < 0x10000);
	CHECK_STR((char *)ram + bi.cmdline_gpa, CMDLINE);
}

TEST(elf64_empty_and_long_cmdline)
{
	char *line = malloc(4097);

	std_elf64();
	CHECK_EQ(load_as(RAM_SIZE, NULL), 0);
	CHECK_STR((char *)ram + ram64(ent.rsi + 16), "");
	memset(line, 'x', 4096);
	line[4096] = '\0';
	CHECK_EQ(load_as(RAM_SIZE, line), -E2BIG);
	CHECK(log_has("loader: t.img: command line longer than 4095 bytes"));
	line[4095] = '\0';
	CHECK_EQ(load_as(RAM_SIZE, line), 0);
	CHECK_EQ(strlen((char *)ram + ram64(ent.rsi + 16)), 4095);
	free(line);
}

/* No file bytes: p_offset may point anywhere and is not read. */
TEST(elf64_bss_only_segment)
{
	std_elf64();
	put64(PH64(1) + 8, 0xfffffffffffff000ull);
	put64(PH64(1) + 32, 0);
	CHECK_EQ(load(), 0);
	CHECK(ram_is(DATA_GPA, DATA_MEM, 0));
	CHECK(ram_is(DATA_GPA + DATA_MEM, 0x100, POISON));
}

/* A higher-half link: the entry is translated to where it was loaded. */
TEST(elf64_entry_translated_to_paddr)
{
	uint64_t va = 0xffffffff80000000ull + TEXT_GPA;

	std_elf64();
	put64(24, va + 0x10);
	put64(PH64(0) + 16, va);
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, STD_ENTRY);
}

TEST(small_ram_refused)
{
	std_elf64();
	CHECK_EQ(load_as(0x8000, CMDLINE), -ENOMEM);
	CHECK(log_has("does not hold the boot area"));
}

/* ---- Multiboot 1 ------------------------------------------------------- */

TEST(mb1_elf32)
{
	mb_elf32();
	mb1_hdr(MB_OFF, 3);
	CHECK_EQ(load(), 0);
	check_prot32(MB_ENTRY, 0x2badb002u, "multiboot");
	check_mb1_info();
	CHECK(img_matches(MB_GPA, MB_OFF, 0x400));
	CHECK(ram_is(MB_GPA + 0x400, 0x400, 0));
	CHECK(ram_is(MB_GPA + 0x800, 0x100, POISON));
}

/* An ELF64 file may carry a 32-bit multiboot kernel (GRUB loads those). */
TEST(mb1_elf64)
{
	std_elf64();
	mb1_hdr(TEXT_OFF + 0x20, 2);
	CHECK_EQ(load(), 0);
	check_prot32(STD_ENTRY, 0x2badb002u, "multiboot");
	CHECK(img_matches(DATA_GPA, DATA_OFF, DATA_SZ));
}

TEST(mb1_aout_kludge)
{
	mb1_aout();
	CHECK_EQ(load(), 0);
	check_prot32(AOUT_ENTRY, 0x2badb002u, "multiboot");
	check_mb1_info();
	CHECK(img_matches(AOUT_GPA, 0, AOUT_LEN));
	CHECK(ram_is(AOUT_GPA + AOUT_LEN, AOUT_BSS_END - AOUT_GPA - AOUT_LEN, 0));
	CHECK(ram_is(AOUT_BSS_END, 0x100, POISON));
}

/* load_end_addr 0: the whole file; bss_end_addr 0: no bss (3.1.3). */
TEST(mb1_aout_whole_file)
{
	mb1_aout();
	/* Load from offset 0x20: header_addr - load_addr = 0x20. */
	put32(AOUT_HDR + 16, AOUT_GPA + 0x20);
	put32(AOUT_HDR + 20, 0);
	put32(AOUT_HDR + 24, 0);
	CHECK_EQ(load(), 0);
	CHECK(img_matches(AOUT_GPA + 0x20, 0x20, AOUT_LEN - 0x20));
	CHECK(ram_is(AOUT_GPA + AOUT_LEN, 0x100, POISON));
}

/* Flag 16 wins over the ELF headers (3.1.2). */
TEST(mb1_aout_over_elf)
{
	std_elf64();
	mb1_hdr(TEXT_OFF, (1u << 16) | 2);
	put32(TEXT_OFF + 12, 0x300000 + TEXT_OFF);
	put32(TEXT_OFF + 16, 0x300000);
	put32(TEXT_OFF + 20, 0);
	put32(TEXT_OFF + 24, 0);
	put32(TEXT_OFF + 28, 0x300000 + TEXT_OFF + 0x40);
	CHECK_EQ(load(), 0);
	CHECK_EQ(ent.rip, 0x300000 + TEXT_OFF + 0x40);
	CHECK(img_matches(0x300000, 0, img_len));
	CHECK(ram_is(TEXT_GPA, 0x10, POISON));
}

TEST(mb1_mem_upper_small_ram)
{
	mb1_aout();
	put32(AOUT_HDR + 24, 0);
	CHECK_EQ(load_as(MIB(2), CMDLINE), 0);
	CHECK_EQ(ram32(0x5000 + 8), 1024);
	CHECK_EQ(ram32(0x5000 + 44), 3 * 24);
}

/* ---- Multiboot2 -------------------------------------------------------- */

/*
 * An ELF64 image whose header asks for a raw load: address tag (whole
 * file from header_addr - header offset), entry tag, and tags we accept.
 * The ELF program header points elsewhere; it must be ignored.
 */
#define MB2_FILE_LEN 0x2000
#define MB2_HDR_GPA 0x101000
#define MB2_BSS_END 0x104000
#define MB2_ENTRY 0x101100

static void mb2_elf64_tags(uint16_t fb_flags)
{
	img_reset(MB2_FILE_LEN);
	elf64_hdr(0x500000, 1);
	elf64_ph(0, &(struct ph){ PT_LOAD, PF_R | PF_X, 0, 0x500000, 0x500000, 0x100, 0x100 });
	mb2_begin(0x1000);
	mb2_tag(1, 0, (const uint32_t[]){ 1, 4, 6, 8 }, 4);   /* info request */
	mb2_tag(2, 0, (const uint32_t[]){ MB2_HDR_GPA, MB2_HDR_GPA - 0x1000, 0,
					   MB2_BSS_END }, 4);
	mb2_tag(3, 0, (const uint32_t[]){ MB2_ENTRY }, 1);
	mb2_tag(5, fb_flags, (const uint32_t[]){ 1024, 768, 32 }, 3);
	mb2_tag(4, 1, (const uint32_t[]){ 1 }, 1);             /* console, optional */
	mb2_tag(6, 0, NULL, 0);                                /* module alignment */
	mb2_tag(10, 0, (const uint32_t[]){ 0x100000, 0x1000000, 0x1000, 0 }, 4);
	mb2_tag(77, 1, NULL, 0);                               /* unknown, optional */
	mb2_end();
}

TEST(mb2_address_and_entry_tags)
{
	mb2_elf64_tags(1);
	CHECK_EQ(load(), 0);
	check_prot32(MB2_ENTRY, 0x36d76289u, "multiboot2");
	check_mb2_info();
	CHECK(img_matches(0x100000, 0, MB2_FILE_LEN));
	CHECK_EQ(ram32(MB2_HDR_GPA), MB2_MAGIC);
	CHECK(ram_is(0x100000 + MB2_FILE_LEN, MB2_BSS_END - 0x100000 - MB2_FILE_LEN, 0));
	CHECK(ram_is(MB2_BSS_END, 0x100, POISON));
	CHECK(ram_is(0x500000, 0x100, POISON));
}

/* load_addr -1: from the start of the file (3.1.5). */
TEST(mb2_load_from_file_start)
{
	mb2_elf64_tags(1);
	put32(0x1000 + 16 + 24 + 8 + 4, 0xffffffffu);   /* address tag: load_addr */
	CHECK_EQ(load(), 0);
	CHECK(img_matches(0x100000, 0, MB2_FILE_LEN));
}

/* Entry tag alone: ELF segments by p_paddr, entry from the tag. */
TEST(mb2_elf64_entry_tag_only)
{
	std_elf64();
	mb2_begin(TEXT_OFF + 0x40);
	mb2_tag(3, 0, (const uint32_t[]){ TEXT_GPA + 0x30 }, 1);
	mb2_end();
	CHECK_EQ(load(), 0);
	check_prot32(TEXT_GPA + 0x30, 0x36d76289u, "multiboot2");
	CHECK(img_matches(TEXT_GPA, TEXT_OFF, TEXT_SZ));
	CHECK(ram_is(DATA_GPA + DATA_SZ, DATA_MEM - DATA_SZ, 0));
	check_mb2_info();
}

/* A Multiboot2 header wins over a Multiboot 1 header in the same image. */
TEST(mb2_elf32_plain_over_mb1)
{
	mb_elf32();
	mb1_hdr(MB_OFF, 3);
	mb2_begin(MB_OFF + 0x10);
	mb2_end();
	CHECK_EQ(load(), 0);
	check_prot32(MB_ENTRY, 0x36d76289u, "multiboot2");
	check_mb2_info();
}

/* ---- hostile ELF ------------------------------------------------------- */

TEST(hostile_not_an_image)
{
	img_reset(0x100);
	CHECK(refused(-ENOEXEC, "t.img: neither a multiboot kernel nor an ELF file"));
	img_len = 0;
	CHECK(refused(-ENOEXEC, "the image is empty"));
}

TEST(hostile_truncated_elf_header)
{
	std_elf64();
	img_len = 10;
	CHECK(refused(-ENOEXEC, "ELF identification truncated (10 bytes)"));
	img_len = 40;
	CHECK(refused(-ENOEXEC, "ELF64 header truncated (40 of 64 bytes)"));
}

TEST(hostile_elf_ident)
{
	std_elf64();
	img[4] = 3;
	CHECK(refused(-ENOEXEC, "ELF class 3"));
	std_elf64();
	img[5] = 2;
	CHECK(refused(-ENOEXEC, "need little-endian"));
	mb_elf32();
	CHECK(refused(-ENOEXEC, "ELF32 image without a multiboot header"));
}

TEST(hostile_elf_type_machine)
{
	std_elf64();
	put16(16, 3);  /* ET_DYN */
	CHECK(refused(-ENOEXEC, "ELF64 type 3 machine 62: need an executable"));
	std_elf64();
	put16(18, 3);  /* EM_386 in an ELF64 */
	CHECK(refused(-ENOEXEC, "machine 3: need an executable (type 2) for machine 62"));
}

TEST(hostile_phdr_table)
{
	std_elf64();
	put16(54, 64);
	CHECK(refused(-ENOEXEC, "program header size 64, expected 56"));
	std_elf64();
	put16(56, 65);
	CHECK(refused(-ENOEXEC, "65 program headers; 1 to 64 are accepted"));
	std_elf64();
	put16(56, 0xffff);
	CHECK(refused(-ENOEXEC, "65535 program headers"));
	std_elf64();
	put16(56, 0);
	CHECK(refused(-ENOEXEC, "0 program headers"));
	std_elf64();
	put64(32, img_len - 2 * ELF64_PH);
	CHECK(refused(-ENOEXEC, "program header table [0x1290, +0xa8) runs past the end"));
	std_elf64();
	put64(32, 0xfffffffffffffff0ull);
	CHECK(refused(-ENOEXEC, "runs past the end of the image"));
}

TEST(hostile_segment_file_bytes)
{
	std_elf64();
	put64(PH64(1) + 32, DATA_MEM + 1);
	CHECK(refused(-ENOEXEC, "program header 1: file size 0x3001 exceeds memory size 0x3000"));
	std_elf64();
	put64(PH64(1) + 32, DATA_SZ + 1);
	CHECK(refused(-ENOEXEC, "program header 1: file bytes [0x1200, +0x101) run past the end"));
	std_elf64();
	put64(PH64(0) + 8, 0xffffffffffffff00ull);
	CHECK(refused(-ENOEXEC, "program header 0: file bytes"));
}

TEST(hostile_segment_placement)
{
	std_elf64();
	put64(PH64(1) + 24, 0xfffffffffffff000ull);
	CHECK(refused(-ENOEXEC, "program header 1: 0xfffffffffffff000 + 0x3000 wraps past 2^64"));
	std_elf64();
	put64(PH64(1) + 24, RAM_SIZE - 0x1000);
	CHECK(refused(-ENOMEM, "program header 1 [0xfff000, 0x1002000) lies outside guest RAM [0, 0x1000000)"));
	std_elf64();
	put64(PH64(1) + 24, 0xe000);
	CHECK(refused(-ENOEXEC, "program header 1 [0xe000, 0x11000) overlaps the boot area [0x1000, 0x10000)"));
	std_elf64();
	put64(PH64(0) + 24, 0xf00);   /* text [0xf00, 0x1100) */
	CHECK(refused(-ENOEXEC, "program header 0 [0xf00, 0x1100) overlaps the boot area"));
}

TEST(hostile_no_loadable_segment)
{
	std_elf64();
	put32(PH64(0), 4);
	put32(PH64(1), 4);
	CHECK(refused(-ENOEXEC, "no loadable segment"));
}

TEST(hostile_entry)
{
	std_elf64();
	put64(24, TEXT_GPA + TEXT_SZ);   /* one past the text */
	CHECK(refused(-ENOEXEC, "entry point 0x100200 is not inside a loaded executable segment"));
	std_elf64();
	put64(24, DATA_GPA);             /* data is not executable */
	CHECK(refused(-ENOEXEC, "entry point 0x200000"));
	std_elf64();
	put64(24, DATA_GPA + DATA_SZ);   /* bss of an executable segment */
	put32(PH64(1) + 4, PF_R | PF_X);
	CHECK(refused(-ENOEXEC, "entry point 0x200100"));
}

/* The 4 GiB reach of 32-bit entry, with RAM above it (nothing is written). */
TEST(hostile_multiboot_above_4g)
{
	struct guest_load_args a = { .image = img, .cmdline = "" };
	struct guest_mem big = { ram, GIB(8) };

	std_elf64();
	mb1_hdr(TEXT_OFF, 2);
	put64(PH64(1) + 24, GIB(5));
	a.image_len = img_len;
	CHECK_EQ(loader_load("t.img", &a, &big, &ent), -ENOEXEC);
	CHECK(log_has("program header 1 [0x140000000, 0x140003000) ends above 4 GiB"));
}

/* ---- hostile multiboot 1 ----------------------------------------------- */

TEST(hostile_mb1_header)
{
	mb_elf32();
	mb1_hdr(MB_OFF, 3);
	put32(MB_OFF + 8, 0);
	CHECK(refused(-ENOEXEC, "multiboot header at offset 0x1000: bad checksum"));
	mb_elf32();
	mb1_hdr(MB_OFF, 3 | 4);
	CHECK(refused(-ENOEXEC, "requires flags 0x4 (video mode information)"));
	mb_elf32();
	mb1_hdr(MB_OFF, 3 | 0x20);
	CHECK(refused(-ENOEXEC, "requires flags 0x20 (unknown)"));
	mb_elf32();
	mb1_hdr(MB_OFF, 3 | 0x80000000u);   /* optional bits are ignored */
	CHECK_EQ(load(), 0);
}

TEST(hostile_mb1_truncated)
{
	img_reset(0x108);
	put32(0x100, MB1_MAGIC);
	CHECK(refused(-ENOEXEC, "multiboot header at offset 0x100: its 12 bytes are cut short by the end of the image"));
	mb1_aout();
	img_len = AOUT_HDR + 20;
	CHECK(refused(-ENOEXEC, "its 32 bytes are cut short by the end of the image"));
	img_reset(0x2100);
	mb1_hdr(0x1ff0, 1u << 16);
	CHECK(refused(-ENOEXEC, "cut short by the 8 KiB search limit"));
}

TEST(hostile_mb1_not_elf)
{
	img_reset(0x100);
	mb1_hdr(0x10, 3);
	CHECK(refused(-ENOEXEC, "multiboot header without load addresses (flag 16), and the image is not ELF"));
}

TEST(hostile_mb1_aout)
{
	mb1_aout();
	put32(AOUT_HDR + 16, AOUT_GPA + AOUT_HDR + 4);        /* load_addr > header_addr */
	CHECK(refused(-ENOEXEC, "the load would start before the image"));
	mb1_aout();
	put32(AOUT_HDR + 16, AOUT_GPA - 0x1000);              /* before offset 0 */
	CHECK(refused(-ENOEXEC, "the load would start before the image"));
	mb1_aout();
	put32(AOUT_HDR + 20, AOUT_GPA + AOUT_LEN + 1);
	CHECK(refused(-ENOEXEC, "load_end_addr 0x100801"));
	mb1_aout();
	put32(AOUT_HDR + 20, AOUT_GPA);
	CHECK(refused(-ENOEXEC, "is empty or longer than"));
	mb1_aout();
	put32(AOUT_HDR + 24, AOUT_GPA + 0x10);
	CHECK(refused(-ENOEXEC, "bss_end_addr 0x100010 lies below the end of the loaded bytes 0x100800"));
	mb1_aout();
	put32(AOUT_HDR + 28, AOUT_GPA + AOUT_LEN);            /* in bss */
	CHECK(refused(-ENOEXEC, "entry_addr 0x100800 lies outside the loaded bytes [0x100000, 0x100800)"));
	mb1_aout();
	put32(AOUT_HDR + 24, 0xffffffffu);
	CHECK(refused(-ENOMEM, "load range [0x100000, 0xffffffff) lies outside guest RAM"));
	mb1_aout();
	put32(AOUT_HDR + 12, 0x8000 + AOUT_HDR);
	put32(AOUT_HDR + 16, 0x8000);
	put32(AOUT_HDR + 20, 0x8000 + AOUT_LEN);
	put32(AOUT_HDR + 24, 0);
	put32(AOUT_HDR + 28, 0x8100);
	CHECK(refused(-ENOEXEC, "load range [0x8000, 0x8800) overlaps the boot area"));
}

/* ---- hostile multiboot 2 ----------------------------------------------- */

/* Rewrite the header at 0x1000 with a good checksum over new fields. */
static void mb2_set_fixed(uint32_t arch, uint32_t hlen)
{
	put32(0x1004, arch);
	put32(0x1008, hlen);
	put32(0x100c, 0u - MB2_MAGIC - arch - hlen);
}

TEST(hostile_mb2_fixed_header)
{
	mb2_elf64_tags(1);
	put32(0x100c, 0);
	CHECK(refused(-ENOEXEC, "multiboot2 header at offset 0x1000: bad checksum"));
	mb2_elf64_tags(1);
	mb2_set_fixed(4, 0xa8);
	CHECK(refused(-ENOEXEC, "architecture is not i386"));
	mb2_elf64_tags(1);
	img_len = 0x1008;
	CHECK(refused(-ENOEXEC, "multiboot2 header at offset 0x1000: cut short"));
}

TEST(hostile_mb2_header_length)
{
	mb2_elf64_tags(1);
	mb2_set_fixed(0, 16);
	CHECK(refused(-ENOEXEC, "header_length is too small"));
	mb2_elf64_tags(1);
	mb2_set_fixed(0, MB2_FILE_LEN);
	CHECK(refused(-ENOEXEC, "header_length runs past the end of the image"));
	mb2_elf64_tags(1);
	mb2_set_fixed(0, (uint32_t)(mb2_pos - mb2_off) - 8);   /* cuts off the end tag */
	CHECK(refused(-ENOEXEC, "has no end tag within header_length"));
}

TEST(hostile_mb2_tag_sizes)
{
	mb2_elf64_tags(1);
	put32(0x1010 + 4, 0x1000);             /* first tag overruns */
	CHECK(refused(-ENOEXEC, "tag type 1 at offset 0x1010: size 4096 does not fit header_length"));
	mb2_elf64_tags(1);
	put32(0x1010 + 4, 4);
	CHECK(refused(-ENOEXEC, "size 4 does not fit"));
	mb2_elf64_tags(1);
	put32(0x1010 + 24 + 4, 16);            /* address tag too small */
	CHECK(refused(-ENOEXEC, "tag type 2 at offset 0x1028: size 16, expected at least 24"));
}

TEST(hostile_mb2_required_tags)
{
	mb2_elf64_tags(0);
	CHECK(refused(-ENOEXEC, "multiboot2 header requires a framebuffer (tag type 5 at offset 0x1050)"));
	mb2_elf64_tags(1);
	put16(0x1010 + 24 + 24 + 16 + 24 + 2, 0);   /* console tag: required */
	CHECK(refused(-ENOEXEC, "requires a console"));
	mb2_elf64_tags(1);
	put16(0x1010 + 24 + 24 + 16 + 24 + 16, 7);  /* module alignment -> EFI BS */
	CHECK(refused(-ENOEXEC, "requires EFI boot services"));
	mb2_elf64_tags(1);
	put16(0x1010 + 24 + 24 + 16 + 24 + 16 + 8 + 24 + 2, 0);  /* tag 77 required */
	CHECK(refused(-ENOEXEC, "multiboot2 header tag type 77 at offset 0x1098 is required but unknown"));
	mb2_elf64_tags(1);
	put32(0x1010 + 8 + 12, 99);                 /* info request for type 99 */
	CHECK(refused(-ENOEXEC, "information request at offset 0x1010 requires tag type 99"));
	mb2_elf64_tags(1);
	put16(0x1010 + 2, 1);                       /* ... unless optional */
	put32(0x1010 + 8 + 12, 99);
	CHECK_EQ(load(), 0);
}

TEST(hostile_mb2_address_tags)
{
	mb2_elf64_tags(1);
	put16(0x1010 + 24 + 24, 6);                 /* entry tag -> module align */
	CHECK(refused(-ENOEXEC, "address tag without an entry address tag"));
	img_reset(MB2_FILE_LEN);
	mb2_begin(0x1000);
	mb2_tag(2, 0, (const uint32_t[]){ MB2_HDR_GPA, MB2_HDR_GPA - 0x1000, 0, 0 }, 4);
	mb2_tag(2, 0, (const uint32_t[]){ MB2_HDR_GPA, MB2_HDR_GPA - 0x1000, 0, 0 }, 4);
	mb2_tag(3, 0, (const uint32_t[]){ MB2_ENTRY }, 1);
	mb2_end();
	CHECK(refused(-ENOEXEC, "multiboot2 header tag type 2 at offset 0x1028 is repeated"));
	mb2_elf64_tags(1);
	put32(0x1010 + 24 + 24 + 8, 0x100000 + MB2_FILE_LEN);   /* entry in bss */
	CHECK(refused(-ENOEXEC, "entry_addr 0x102000 lies outside the loaded bytes"));
}

TEST(hostile_mb2_entry_tag_outside)
{
	std_elf64();
	mb2_begin(TEXT_OFF + 0x40);
	mb2_tag(3, 0, (const uint32_t[]){ DATA_GPA }, 1);
	mb2_end();
	CHECK(refused(-ENOEXEC, "entry point 0x200000 is not inside a loaded executable segment"));
	std_elf64();
	mb2_begin(TEXT_OFF + 0x40);
	mb2_end();
	img[0] = 0;
	CHECK(refused(-ENOEXEC, "multiboot2 header without an address tag, and the image is not ELF"));
}

int main(void)
{
	ram = malloc(RAM_SIZE);
	if (!ram)
		return 2;
	RUN(elf64_loads_segments_and_bss);
	RUN(elf64_entry_state);
	RUN(elf64_identity_tables);
	RUN(elf64_boot_info);
	RUN(elf64_empty_and_long_cmdline);
	RUN(elf64_bss_only_segment);
	RUN(elf64_entry_translated_to_paddr);
	RUN(small_ram_refused);
	RUN(mb1_elf32);
	RUN(mb1_elf64);
	RUN(mb1_aout_kludge);
	RUN(mb1_aout_whole_file);
	RUN(mb1_aout_over_elf);
	RUN(mb1_mem_upper_small_ram);
	RUN(mb2_address_and_entry_tags);
	RUN(mb2_load_from_file_start);
	RUN(mb2_elf64_entry_tag_only);
	RUN(mb2_elf32_plain_over_mb1);
	RUN(hostile_not_an_image);
	RUN(hostile_truncated_elf_header);
	RUN(hostile_elf_ident);
	RUN(hostile_elf_type_machine);
	RUN(hostile_phdr_table);
	RUN(hostile_segment_file_bytes);
	RUN(hostile_segment_placement);
	RUN(hostile_no_loadable_segment);
	RUN(hostile_entry);
	RUN(hostile_multiboot_above_4g);
	RUN(hostile_mb1_header);
	RUN(hostile_mb1_truncated);
	RUN(hostile_mb1_not_elf);
	RUN(hostile_mb1_aout);
	RUN(hostile_mb2_fixed_header);
	RUN(hostile_mb2_header_length);
	RUN(hostile_mb2_tag_sizes);
	RUN(hostile_mb2_required_tags);
	RUN(hostile_mb2_address_tags);
	RUN(hostile_mb2_entry_tag_outside);
	free(ram);
	return unit_done();
}
