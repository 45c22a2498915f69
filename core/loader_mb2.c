/*
 * Multiboot2 kernels (Multiboot2 Specification 2.0): the header and its
 * tags (3.1), the i386 machine state (3.3) and the boot information (3.6).
 *
 * A header tag without the optional flag is a requirement (3.1.3). We
 * honour the address and entry address tags, accept those that ask
 * nothing we lack, and refuse a required tag we cannot satisfy
 * (framebuffer, console information, EFI boot services) or do not know.
 * An information request may name any tag type the spec defines: one we
 * have no information for is simply absent (3.1.4).
 */
#include "boot/mb2.h"
#include "core/errno.h"
#include "core/loader_int.h"
#include "core/printk.h"

#define MB2_HEADER_MAGIC 0xe85250d6u
#define MB2_ARCH_I386 0u
#define MB2_SEARCH_LEN 32768u /* the header lies in the first 32 KiB */
#define MB2_HEADER_ALIGN 8u
#define MB2_HEADER_FIXED 16u  /* magic, architecture, header_length, checksum */
#define MB2_TAG_HDR 8u        /* u16 type, u16 flags, u32 size */
#define MB2_TAG_OPTIONAL 1u
#define MB2_CONSOLE_REQUIRED 1u /* console_flags bit 0, 3.1.9 */
#define MB2_LOAD_FROM_START 0xffffffffu /* load_addr -1, 3.1.5 */
#define MB2_INFO_TYPE_MAX 21u /* image load base address, 3.6.23 */

/* Boot information tags we write (3.6). */
#define MBI_CMDLINE 1u
#define MBI_LOADER_NAME 2u
#define MBI_MEMINFO 4u
#define MBI_MMAP 6u
#define MBI_END 0u

/* Header tag types, 3.1.3 to 3.1.13. */
enum mb2_htag_type {
	MB2H_END = 0,
	MB2H_INFO_REQUEST = 1,
	MB2H_ADDRESS = 2,
	MB2H_ENTRY = 3,
	MB2H_CONSOLE = 4,
	MB2H_FRAMEBUFFER = 5,
	MB2H_MODULE_ALIGN = 6,
	MB2H_EFI_BS = 7,
	MB2H_EFI32_ENTRY = 8,
	MB2H_EFI64_ENTRY = 9,
	MB2H_RELOCATABLE = 10,
};

struct mb2_htag {
	uint64_t off; /* in the image */
	uint16_t type, flags;
	uint32_t size;
};

/* What the header asks of us. */
struct mb2_request {
	struct mb_addr addr;
	bool has_addr, has_entry;
};

struct mb2_mmap_entry { /* 3.6.8 */
	uint64_t base_addr, length;
	uint32_t type, reserved;
};

struct mb2_mmap_payload {
	uint32_t entry_size, entry_version;
	struct mb2_mmap_entry e[LOADER_MAP_MAX];
};

static const char mb2_loader_name[] = "hv";

BUILD_ASSERT(sizeof(struct mb2_mmap_entry) == 24);
/* The MBI: fixed part, command line, name, meminfo, map, end. */
BUILD_ASSERT(8 + (8 + LOADER_CMDLINE_MAX + 7) + 16 + 16 +
	     sizeof(struct mb2_mmap_payload) + 8 + 8 <= BOOT_MBI_END - BOOT_MBI_GPA);

static bool htag_is_optional(const struct mb2_htag *t)
{
	return t->flags & MB2_TAG_OPTIONAL;
}

/* 3.1.4: a required request may only name tag types the spec defines. */
static int take_info_request(const struct loader_ctx *c, const struct mb2_htag *t,
			     struct mb2_request *r)
{
	(void)r;
	if (htag_is_optional(t))
		return 0;
	for (uint32_t i = 0; i < (t->size - MB2_TAG_HDR) / 4; i++) {
		uint32_t type = img_read32(c, t->off + MB2_TAG_HDR + 4 * i);

		if (type > MB2_INFO_TYPE_MAX) {
			pr_err("loader: %s: multiboot2 information request at offset 0x%llx requires tag type %u, which is unknown\n",
			       c->name, (unsigned long long)t->off, type);
			return -ENOEXEC;
		}
	}
	return 0;
}

static int htag_once(const struct loader_ctx *c, const struct mb2_htag *t, bool *seen)
{
	if (*seen) {
		pr_err("loader: %s: multiboot2 header tag type %u at offset 0x%llx is repeated\n",
		       c->name, t->type, (unsigned long long)t->off);
		return -ENOEXEC;
	}
	*seen = true;
	return 0;
}

/* 3.1.5: the a.out kludge fields; used whether or not marked optional. */
static int take_address(const struct loader_ctx *c, const struct mb2_htag *t,
			struct mb2_request *r)
{
	int err = htag_once(c, t, &r->has_addr);

	if (err)
		return err;
	r->addr.header_addr = img_read32(c, t->off + 8);
	r->addr.load_addr = img_read32(c, t->off + 12);
	r->addr.load_end_addr = img_read32(c, t->off + 16);
	r->addr.bss_end_addr = img_read32(c, t->off + 20);
	r->addr.load_from_start = r->addr.load_addr == MB2_LOAD_FROM_START;
	return 0;
}

/* 3.1.6 */
static int take_entry(const struct loader_ctx *c, const struct mb2_htag *t,
		      struct mb2_request *r)
{
	int err = htag_once(c, t, &r->has_entry);

	if (!err)
		r->addr.entry_addr = img_read32(c, t->off + 8);
	return err;
}

static int refuse_htag(const struct loader_ctx *c, const struct mb2_htag *t,
		       const char *what)
{
	pr_err("loader: %s: multiboot2 header requires %s (tag type %u at offset 0x%llx), which this hypervisor does not provide\n",
	       c->name, what, t->type, (unsigned long long)t->off);
	return -ENOEXEC;
}

/* 3.1.9: bit 0 asks for a console described in the MBI; we have none. */
static int take_console(const struct loader_ctx *c, const struct mb2_htag *t,
			struct mb2_request *r)
{
	(void)r;
	if (htag_is_optional(t) || !(img_read32(c, t->off + 8) & MB2_CONSOLE_REQUIRED))
		return 0;
	return refuse_htag(c, t, "a console");
}

/* 3.1.10 */
static int take_framebuffer(const struct loader_ctx *c, const struct mb2_htag *t,
			    struct mb2_request *r)
{
	(void)r;
	return htag_is_optional(t) ? 0 : refuse_htag(c, t, "a framebuffer");
}

/* 3.1.12 */
static int take_efi_bs(const struct loader_ctx *c, const struct mb2_htag *t,
		       struct mb2_request *r)
{
	(void)r;
	return htag_is_optional(t) ? 0 : refuse_htag(c, t, "EFI boot services");
}

struct mb2_htag_rule {
	uint32_t min_size;
	int (*take)(const struct loader_ctx *c, const struct mb2_htag *t,
		    struct mb2_request *r);
};

/*
 * Known header tags; the end tag never reaches this table. No handler:
 * nothing to do. Module alignment asks nothing of a loader without
 * modules; the EFI entry tags only count with EFI boot services (3.1.7,
 * 3.1.8); relocatable (3.1.13) permits a move but does not require one.
 */
static const struct mb2_htag_rule mb2_htag_rules[] = {
	[MB2H_INFO_REQUEST] = { 8, take_info_request },
	[MB2H_ADDRESS] = { 24, take_address },
	[MB2H_ENTRY] = { 12, take_entry },
	[MB2H_CONSOLE] = { 12, take_console },
	[MB2H_FRAMEBUFFER] = { 20, take_framebuffer },
	[MB2H_MODULE_ALIGN] = { 8, NULL },
	[MB2H_EFI_BS] = { 8, take_efi_bs },
	[MB2H_EFI32_ENTRY] = { 12, NULL },
	[MB2H_EFI64_ENTRY] = { 12, NULL },
	[MB2H_RELOCATABLE] = { 24, NULL },
};

static int mb2_take_htag(const struct loader_ctx *c, const struct mb2_htag *t,
			 struct mb2_request *r)
{
	const struct mb2_htag_rule *rule;

	if (t->type >= ARRAY_SIZE(mb2_htag_rules)) {
		if (htag_is_optional(t))
			return 0;
		pr_err("loader: %s: multiboot2 header tag type %u at offset 0x%llx is required but unknown\n",
		       c->name, t->type, (unsigned long long)t->off);
		return -ENOEXEC;
	}
	rule = &mb2_htag_rules[t->type];
	if (t->size < rule->min_size) {
		pr_err("loader: %s: multiboot2 header tag type %u at offset 0x%llx: size %u, expected at least %u\n",
		       c->name, t->type, (unsigned long long)t->off, t->size, rule->min_size);
		return -ENOEXEC;
	}
	return rule->take ? rule->take(c, t, r) : 0;
}

static void mb2_read_htag(const struct loader_ctx *c, uint64_t off, struct mb2_htag *t)
{
	*t = (struct mb2_htag){
		.off = off,
		.type = img_read16(c, off),
		.flags = img_read16(c, off + 2),
		.size = img_read32(c, off + 4),
	};
}

/* 3.1.3: 8-byte aligned tags up to an end tag, all inside header_length. */
static int mb2_walk_htags(const struct loader_ctx *c, uint64_t off, uint32_t hlen,
			  struct mb2_request *r)
{
	uint64_t pos = off + MB2_HEADER_FIXED, end = off + hlen;
	struct mb2_htag t;
	int err;

	while (pos < end && end - pos >= MB2_TAG_HDR) {
		mb2_read_htag(c, pos, &t);
		if (t.size < MB2_TAG_HDR || t.size > end - pos) {
			pr_err("loader: %s: multiboot2 header tag type %u at offset 0x%llx: size %u does not fit header_length %u\n",
			       c->name, t.type, (unsigned long long)pos, t.size, hlen);
			return -ENOEXEC;
		}
		if (t.type == MB2H_END)
			return 0;
		err = mb2_take_htag(c, &t, r);
		if (err)
			return err;
		pos += ALIGN_UP((uint64_t)t.size, 8);
	}
	pr_err("loader: %s: multiboot2 header at offset 0x%llx has no end tag within header_length %u\n",
	       c->name, (unsigned long long)off, hlen);
	return -ENOEXEC;
}

/* 3.1.1, 3.1.2: the first magic, 8-byte aligned, in the first 32 KiB. */
int mb2_find_header(const struct loader_ctx *c, uint64_t *off)
{
	uint64_t end = MIN(c->len, (uint64_t)MB2_SEARCH_LEN);

	for (uint64_t o = 0; o + 4 <= end; o += MB2_HEADER_ALIGN) {
		if (img_read32(c, o) == MB2_HEADER_MAGIC) {
			*off = o;
			return 0;
		}
	}
	return -ENOENT;
}

/* 3.1.2: checksum, architecture, and a header_length that fits. */
static const char *mb2_header_problem(const struct loader_ctx *c, uint64_t off,
				      uint32_t *hlen)
{
	uint64_t room = MIN(c->len, (uint64_t)MB2_SEARCH_LEN) - off;
	uint32_t arch;

	if (room < MB2_HEADER_FIXED)
		return "cut short by the end of the image or the 32 KiB search limit";
	arch = img_read32(c, off + 4);
	*hlen = img_read32(c, off + 8);
	if (MB2_HEADER_MAGIC + arch + *hlen + img_read32(c, off + 12) != 0)
		return "bad checksum";
	if (arch != MB2_ARCH_I386)
		return "architecture is not i386 (0)";
	if (*hlen < MB2_HEADER_FIXED + MB2_TAG_HDR)
		return "header_length is too small for an end tag";
	if (*hlen > room)
		return "header_length runs past the end of the image or the 32 KiB search limit";
	return NULL;
}

static int mb2_check_header(const struct loader_ctx *c, uint64_t off, uint32_t *hlen)
{
	const char *why = mb2_header_problem(c, off, hlen);

	if (!why)
		return 0;
	pr_err("loader: %s: multiboot2 header at offset 0x%llx: %s\n",
	       c->name, (unsigned long long)off, why);
	return -ENOEXEC;
}

static int mb2_read_request(const struct loader_ctx *c, uint64_t off, struct mb2_request *r)
{
	uint32_t hlen;
	int err;

	*r = (struct mb2_request){ .addr.header_off = off };
	err = mb2_check_header(c, off, &hlen);
	if (!err)
		err = mb2_walk_htags(c, off, hlen, r);
	if (!err && r->has_addr && !r->has_entry) {
		pr_err("loader: %s: multiboot2 address tag without an entry address tag\n", c->name);
		err = -ENOEXEC;
	}
	return err;
}

/* ---- Boot information, 3.6 -------------------------------------------- */

struct mbi_writer {
	const struct loader_ctx *c;
	uint32_t off; /* from BOOT_MBI_GPA */
};

/* 3.6.1: each tag starts 8-byte aligned; padding is the zeroed boot area. */
static void mbi_put_tag(struct mbi_writer *w, uint32_t type, const void *payload,
			uint32_t len)
{
	uint32_t hdr[2] = { type, MB2_TAG_HDR + len };

	ASSERT(BOOT_MBI_GPA + w->off + hdr[1] <= BOOT_MBI_END);
	loader_write(w->c, BOOT_MBI_GPA + w->off, hdr, sizeof(hdr));
	if (len)
		loader_write(w->c, BOOT_MBI_GPA + w->off + MB2_TAG_HDR, payload, len);
	w->off += ALIGN_UP(hdr[1], 8u);
}

/* 3.6.3 basic meminfo, then (3.6.8) the same map multiboot 1 guests get. */
static void mbi_put_memory(struct mbi_writer *w)
{
	struct loader_region map[LOADER_MAP_MAX];
	unsigned n = loader_mem_map(w->c->mem->size, map);
	struct mb2_mmap_payload mm = { sizeof(struct mb2_mmap_entry), 0, { { 0 } } };
	uint32_t meminfo[2] = { mb_mem_lower_kib(w->c->mem->size),
				mb_mem_upper_kib(w->c->mem->size) };

	for (unsigned i = 0; i < n; i++)
		mm.e[i] = (struct mb2_mmap_entry){ map[i].base, map[i].len, map[i].type, 0 };
	mbi_put_tag(w, MBI_MEMINFO, meminfo, sizeof(meminfo));
	mbi_put_tag(w, MBI_MMAP, &mm,
		    (uint32_t)(offsetof(struct mb2_mmap_payload, e) + n * sizeof(mm.e[0])));
}

static void mb2_write_mbi(const struct loader_ctx *c)
{
	struct mbi_writer w = { c, 8 };
	uint32_t fixed[2];

	mbi_put_tag(&w, MBI_CMDLINE, c->cmdline, c->cmdline_len + 1u);
	mbi_put_tag(&w, MBI_LOADER_NAME, mb2_loader_name, sizeof(mb2_loader_name));
	mbi_put_memory(&w);
	mbi_put_tag(&w, MBI_END, NULL, 0);
	fixed[0] = w.off; /* total_size */
	fixed[1] = 0;     /* reserved */
	loader_write(c, BOOT_MBI_GPA, fixed, sizeof(fixed));
}

/* 3.1.5, 3.1.6: explicit addresses win over the ELF headers. */
static int mb2_load_kernel(const struct loader_ctx *c, const struct mb2_request *r,
			   uint64_t *rip)
{
	if (r->has_addr)
		return mb_load_aout(c, &r->addr, rip);
	if (!elf_has_magic(c)) {
		pr_err("loader: %s: multiboot2 header without an address tag, and the image is not ELF\n",
		       c->name);
		return -ENOEXEC;
	}
	return elf_load(c, true, r->has_entry ? &r->addr.entry_addr : NULL, rip);
}

int mb2_load(struct loader_ctx *c, uint64_t off, struct guest_entry *e)
{
	struct mb2_request r;
	uint64_t rip;
	int err;

	err = mb2_read_request(c, off, &r);
	if (err)
		return err;
	loader_limit_prot32(c);
	err = mb2_load_kernel(c, &r, &rip);
	if (err)
		return err;
	loader_write_boot_area(c);
	mb2_write_mbi(c);
	loader_enter_prot32(e, rip, MB2_BOOTLOADER_MAGIC, BOOT_MBI_GPA, "multiboot2");
	return 0;
}
