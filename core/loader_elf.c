/*
 * ELF executables: ELF64 x86-64 for 64-bit guests, and ELF32 i386 or
 * ELF64 x86-64 for multiboot kernels. Layouts from the System V gABI,
 * chapter 4 (ELF Header) and chapter 5 (Program Header); the ELF-64
 * Object File Format 1.5 gives the 64-bit offsets.
 *
 * Segments go to their physical addresses (p_paddr), as GRUB does for
 * multiboot kernels; LONG64 guests are identity mapped, so the same holds
 * there. The entry point is a virtual address, so it is translated
 * through the executable segment that holds it.
 *
 * All program headers are checked before any byte is copied.
 */
#include "core/errno.h"
#include "core/loader_int.h"
#include "core/printk.h"

#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1

/* Far more than any kernel has; bounds the work a hostile image causes. */
#define ELF_MAX_PHNUM 64

/* Where the fields we use lie, per class; the two differ in order too. */
struct elf_class {
	const char *name;
	uint16_t machine;
	uint8_t word;             /* bytes in an address or offset */
	uint8_t ehsize, phentsize;
	uint8_t e_entry, e_phoff, e_phentsize, e_phnum;
	uint8_t p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
};

static const struct elf_class elf_class32 = {
	.name = "ELF32", .machine = EM_386, .word = 4,
	.ehsize = 52, .phentsize = 32,
	.e_entry = 24, .e_phoff = 28, .e_phentsize = 42, .e_phnum = 44,
	.p_flags = 24, .p_offset = 4, .p_vaddr = 8, .p_paddr = 12,
	.p_filesz = 16, .p_memsz = 20,
};

static const struct elf_class elf_class64 = {
	.name = "ELF64", .machine = EM_X86_64, .word = 8,
	.ehsize = 64, .phentsize = 56,
	.e_entry = 24, .e_phoff = 32, .e_phentsize = 54, .e_phnum = 56,
	.p_flags = 4, .p_offset = 8, .p_vaddr = 16, .p_paddr = 24,
	.p_filesz = 32, .p_memsz = 40,
};

struct elf_hdr {
	const struct elf_class *cls;
	uint64_t entry, phoff;
	uint16_t phentsize, phnum;
};

struct elf_seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static uint64_t elf_read_word(const struct loader_ctx *c, const struct elf_class *k,
			      uint64_t off)
{
	return k->word == 8 ? img_read64(c, off) : img_read32(c, off);
}

bool elf_has_magic(const struct loader_ctx *c)
{
	return c->len >= 4 && memcmp(c->img, "\177ELF", 4) == 0;
}

/* e_ident: class, data encoding, version. Picks the layout. */
static int elf_check_ident(const struct loader_ctx *c, bool multiboot,
			   const struct elf_class **cls)
{
	uint8_t class;

	if (c->len < EI_NIDENT) {
		pr_err("loader: %s: ELF identification truncated (%llu bytes)\n",
		       c->name, (unsigned long long)c->len);
		return -ENOEXEC;
	}
	class = c->img[EI_CLASS];
	if (class == ELFCLASS32 && !multiboot) {
		pr_err("loader: %s: ELF32 image without a multiboot header; only ELF64 images start in 64-bit mode\n",
		       c->name);
		return -ENOEXEC;
	}
	if (class != ELFCLASS32 && class != ELFCLASS64) {
		pr_err("loader: %s: ELF class %u is neither 32-bit nor 64-bit\n", c->name, class);
		return -ENOEXEC;
	}
	if (c->img[EI_DATA] != ELFDATA2LSB || c->img[EI_VERSION] != EV_CURRENT) {
		pr_err("loader: %s: ELF data encoding %u / version %u: need little-endian, version 1\n",
		       c->name, c->img[EI_DATA], c->img[EI_VERSION]);
		return -ENOEXEC;
	}
	*cls = class == ELFCLASS64 ? &elf_class64 : &elf_class32;
	return 0;
}

static int elf_read_hdr(const struct loader_ctx *c, const struct elf_class *k,
			struct elf_hdr *h)
{
	uint16_t type, machine;

	if (c->len < k->ehsize) {
		pr_err("loader: %s: %s header truncated (%llu of %u bytes)\n",
		       c->name, k->name, (unsigned long long)c->len, k->ehsize);
		return -ENOEXEC;
	}
	type = img_read16(c, 16);
	machine = img_read16(c, 18);
	if (type != ET_EXEC || machine != k->machine) {
		pr_err("loader: %s: %s type %u machine %u: need an executable (type %u) for machine %u\n",
		       c->name, k->name, type, machine, ET_EXEC, k->machine);
		return -ENOEXEC;
	}
	*h = (struct elf_hdr){
		.cls = k,
		.entry = elf_read_word(c, k, k->e_entry),
		.phoff = elf_read_word(c, k, k->e_phoff),
		.phentsize = img_read16(c, k->e_phentsize),
		.phnum = img_read16(c, k->e_phnum),
	};
	return 0;
}

/* The program header table: entry size, count, and inside the image. */
static int elf_check_phdrs(const struct loader_ctx *c, const struct elf_hdr *h)
{
	uint64_t table = (uint64_t)h->phnum * h->phentsize;

	if (h->phentsize != h->cls->phentsize) {
		pr_err("loader: %s: program header size %u, expected %u for %s\n",
		       c->name, h->phentsize, h->cls->phentsize, h->cls->name);
		return -ENOEXEC;
	}
	if (h->phnum == 0 || h->phnum > ELF_MAX_PHNUM) {
		pr_err("loader: %s: %u program headers; 1 to %u are accepted\n",
		       c->name, h->phnum, ELF_MAX_PHNUM);
		return -ENOEXEC;
	}
	if (h->phoff > c->len || table > c->len - h->phoff) {
		pr_err("loader: %s: program header table [0x%llx, +0x%llx) runs past the end of the image (0x%llx bytes)\n",
		       c->name, (unsigned long long)h->phoff, (unsigned long long)table,
		       (unsigned long long)c->len);
		return -ENOEXEC;
	}
	return 0;
}

static void elf_read_seg(const struct loader_ctx *c, const struct elf_hdr *h,
			 unsigned i, struct elf_seg *s)
{
	const struct elf_class *k = h->cls;
	uint64_t p = h->phoff + (uint64_t)i * h->phentsize;

	*s = (struct elf_seg){
		.type = img_read32(c, p),
		.flags = img_read32(c, p + k->p_flags),
		.offset = elf_read_word(c, k, p + k->p_offset),
		.vaddr = elf_read_word(c, k, p + k->p_vaddr),
		.paddr = elf_read_word(c, k, p + k->p_paddr),
		.filesz = elf_read_word(c, k, p + k->p_filesz),
		.memsz = elf_read_word(c, k, p + k->p_memsz),
	};
}

/* A PT_LOAD: its file bytes in the image, its memory where it may go. */
static int elf_check_seg(const struct loader_ctx *c, unsigned i, const struct elf_seg *s)
{
	char what[32];

	if (s->filesz > s->memsz) {
		pr_err("loader: %s: program header %u: file size 0x%llx exceeds memory size 0x%llx\n",
		       c->name, i, (unsigned long long)s->filesz, (unsigned long long)s->memsz);
		return -ENOEXEC;
	}
	if (s->filesz && (s->offset > c->len || s->filesz > c->len - s->offset)) {
		pr_err("loader: %s: program header %u: file bytes [0x%llx, +0x%llx) run past the end of the image (0x%llx bytes)\n",
		       c->name, i, (unsigned long long)s->offset,
		       (unsigned long long)s->filesz, (unsigned long long)c->len);
		return -ENOEXEC;
	}
	snprintf(what, sizeof(what), "program header %u", i);
	return s->memsz ? loader_check_range(c, what, s->paddr, s->memsz) : 0;
}

static int elf_check_segs(const struct loader_ctx *c, const struct elf_hdr *h)
{
	struct elf_seg s;
	unsigned nload = 0;
	int err;

	for (unsigned i = 0; i < h->phnum; i++) {
		elf_read_seg(c, h, i, &s);
		if (s.type != PT_LOAD)
			continue;
		err = elf_check_seg(c, i, &s);
		if (err)
			return err;
		nload += s.memsz != 0;
	}
	if (nload == 0) {
		pr_err("loader: %s: no loadable segment\n", c->name);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * The entry must lie in the file bytes of an executable PT_LOAD. @entry
 * is virtual (e_entry), or physical when a Multiboot2 entry address tag
 * gave it (3.1.6); either way the result is physical.
 */
static int elf_find_entry(const struct loader_ctx *c, const struct elf_hdr *h,
			  uint64_t entry, bool physical, uint64_t *rip)
{
	struct elf_seg s;
	uint64_t base;

	for (unsigned i = 0; i < h->phnum; i++) {
		elf_read_seg(c, h, i, &s);
		base = physical ? s.paddr : s.vaddr;
		if (s.type != PT_LOAD || !(s.flags & PF_X) || entry < base ||
		    entry - base >= s.filesz)
			continue;
		*rip = s.paddr + (entry - base);
		return 0;
	}
	pr_err("loader: %s: entry point 0x%llx is not inside a loaded executable segment\n",
	       c->name, (unsigned long long)entry);
	return -ENOEXEC;
}

static void elf_copy_segs(const struct loader_ctx *c, const struct elf_hdr *h)
{
	struct elf_seg s;

	for (unsigned i = 0; i < h->phnum; i++) {
		elf_read_seg(c, h, i, &s);
		if (s.type == PT_LOAD && s.memsz)
			loader_copy(c, s.paddr, s.offset, s.filesz, s.memsz);
	}
}

/*
 * Check the whole image, then load it. @multiboot accepts ELF32 i386 as
 * well; @entry_gpa, if set, replaces e_entry. The caller has seen the
 * ELF magic.
 */
int elf_load(const struct loader_ctx *c, bool multiboot, const uint32_t *entry_gpa,
	     uint64_t *rip)
{
	const struct elf_class *k;
	struct elf_hdr h;
	int err;

	err = elf_check_ident(c, multiboot, &k);
	if (!err)
		err = elf_read_hdr(c, k, &h);
	if (!err)
		err = elf_check_phdrs(c, &h);
	if (!err)
		err = elf_check_segs(c, &h);
	if (!err)
		err = elf_find_entry(c, &h, entry_gpa ? *entry_gpa : h.entry,
				     entry_gpa != NULL, rip);
	if (err)
		return err;
	elf_copy_segs(c, &h);
	return 0;
}
