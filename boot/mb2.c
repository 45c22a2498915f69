/*
 * Multiboot2 boot information parser (Multiboot2 spec 1.0, section 3.6).
 *
 * The MBI is written by the boot loader and is hostile input. Every read
 * stays inside [mbi, mbi + total_size): the tag walk checks each tag's
 * size before looking past its header, and each handler checks its own
 * payload against that size. A tag whose size is wrong leaves the rest
 * of the walk unreachable, so the walk stops there; a tag whose payload
 * is wrong is reported and skipped. Only an unusable header fails.
 *
 * The memory map has three possible sources, used in this order: the
 * memory map tag, the EFI memory map tag, the basic meminfo tag. They
 * may come in any order, so the walk only records them and the map is
 * built once the walk is done.
 */
#include "boot/mb2.h"
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"

/* Far beyond anything GRUB builds; a larger size is corruption. */
#define MB2_MAX_TOTAL MIB(1)
#define MB2_HEADER_SIZE 8
#define MB2_TAG_ALIGN 8
/* Module command lines quoted in messages are cut to this many bytes. */
#define MB2_SHOW_MAX 40
/* "Maximum possible value for lower memory is 640 kilobytes" (3.6.8). */
#define MB2_MEM_LOWER_MAX_KIB 640

enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER_NAME = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MEMINFO = 4,
	MB2_TAG_MMAP = 6,
	MB2_TAG_RSDP_OLD = 14,
	MB2_TAG_RSDP_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
};

struct mb2_tag {
	uint32_t type;
	uint32_t size; /* header included, padding to 8 bytes not */
};

struct mb2_tag_module { /* 3.6.6 */
	struct mb2_tag h;
	uint32_t mod_start;
	uint32_t mod_end;
	char cmdline[];
};

struct mb2_tag_meminfo { /* 3.6.8 */
	struct mb2_tag h;
	uint32_t mem_lower; /* KiB from 0 */
	uint32_t mem_upper; /* KiB from 1 MiB */
};

struct mb2_tag_mmap { /* 3.6.8; the EFI memory map tag (3.6.17) shares it */
	struct mb2_tag h;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

/* EFI_MEMORY_DESCRIPTOR, UEFI 2.10 section 7.2.3 (GetMemoryMap). */
struct efi_mem_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages; /* of 4 KiB, whatever the CPU's page size */
	uint64_t attribute;
};

BUILD_ASSERT(sizeof(struct mb2_tag_module) == 16);
BUILD_ASSERT(sizeof(struct mb2_tag_mmap) == 16);
BUILD_ASSERT(sizeof(struct mb2_mmap_entry) == 24);
BUILD_ASSERT(sizeof(struct efi_mem_desc) == 40);

#define EFI_PAGE_SHIFT 12

/* EFI_MEMORY_TYPE values, UEFI 2.10 table 7.10. */
enum efi_mem_type {
	EFI_LOADER_CODE = 1,
	EFI_LOADER_DATA = 2,
	EFI_BOOT_SERVICES_CODE = 3,
	EFI_BOOT_SERVICES_DATA = 4,
	EFI_CONVENTIONAL_MEMORY = 7,
	EFI_UNUSABLE_MEMORY = 8,
	EFI_ACPI_RECLAIM_MEMORY = 9,
	EFI_ACPI_MEMORY_NVS = 10,
};

struct mb2_ctx {
	struct boot_info *bi;
	const uint8_t *base;
	uint32_t total;
	uint32_t once_seen; /* bit per single-instance tag type accepted */
	unsigned nmodule_tags; /* module tags met, good or bad */
	bool end_seen;
	bool rsdp_new;
	const struct mb2_tag_mmap *mmap;
	const struct mb2_tag_mmap *efi_mmap;
	const struct mb2_tag_meminfo *meminfo;
};

/* Tags start 8-byte aligned in an 8-byte aligned MBI (3.6.1). */
static const struct mb2_tag *tag_at(const struct mb2_ctx *c, uint32_t off)
{
	ASSERT(IS_ALIGNED(off, MB2_TAG_ALIGN));
	return (const void *)(c->base + off);
}

static uint32_t tag_offset(const struct mb2_ctx *c, const void *tag)
{
	return (uint32_t)((const uint8_t *)tag - c->base);
}

/* The string at byte @start of the tag, or NULL if unterminated there. */
static const char *tag_string(const struct mb2_tag *t, uint32_t start)
{
	const char *s;
	uint32_t room;

	if (start >= t->size)
		return NULL;
	s = (const char *)t + start;
	room = t->size - start;
	return strnlen(s, room) < room ? s : NULL;
}

static int tag_take_string(struct mb2_ctx *c, const struct mb2_tag *t,
			   const char *what, const char **out)
{
	const char *s = tag_string(t, sizeof(*t));

	if (!s) {
		pr_warn("multiboot2: %s tag at offset %u: not NUL-terminated; ignored\n",
			what, tag_offset(c, t));
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static int tag_cmdline(struct mb2_ctx *c, const struct mb2_tag *t)
{
	return tag_take_string(c, t, "command line", &c->bi->cmdline);
}

static int tag_loader_name(struct mb2_ctx *c, const struct mb2_tag *t)
{
	return tag_take_string(c, t, "boot loader name", &c->bi->loader_name);
}

/* mod_end is one past the module's last byte, as GRUB fills it in. */
static const char *module_problem(const struct mb2_tag_module *m)
{
	if (!tag_string(&m->h, sizeof(*m)))
		return "command line not NUL-terminated";
	if (m->mod_start > m->mod_end)
		return "start lies above end";
	if (m->mod_start == m->mod_end)
		return "empty";
	return NULL;
}

/* Quote at most MB2_SHOW_MAX bytes of a command line that may be unterminated. */
static int module_show_len(const struct mb2_tag_module *m)
{
	uint32_t room = m->h.size - (uint32_t)sizeof(*m);

	return (int)strnlen(m->cmdline, MIN(room, (uint32_t)MB2_SHOW_MAX));
}

static int tag_module(struct mb2_ctx *c, const struct mb2_tag *t)
{
	const struct mb2_tag_module *m = (const struct mb2_tag_module *)t;
	unsigned idx = c->nmodule_tags++;
	const char *why = module_problem(m);
	struct boot_info *bi = c->bi;

	if (why) {
		pr_warn("multiboot2: module %u ('%.*s'): %s; ignored\n", idx,
			module_show_len(m), m->cmdline, why);
		return -EINVAL;
	}
	if (bi->nmodules == MB2_MAX_MODULES) {
		pr_warn("multiboot2: module %u ('%.*s'): more than %d modules; ignored\n",
			idx, module_show_len(m), m->cmdline, MB2_MAX_MODULES);
		return -ENOSPC;
	}
	bi->modules[bi->nmodules++] = (struct boot_module){
		.start = m->mod_start,
		.end = m->mod_end,
		.cmdline = m->cmdline,
	};
	return 0;
}

static int tag_meminfo(struct mb2_ctx *c, const struct mb2_tag *t)
{
	c->meminfo = (const struct mb2_tag_meminfo *)t;
	return 0;
}

/*
 * 3.6.8: entries are entry_size apart, and entry_size is a multiple of 8
 * so the 64-bit fields stay aligned. A later entry_version is promised
 * to be backward compatible, so it is read as version 0, with a note.
 */
static int tag_mmap(struct mb2_ctx *c, const struct mb2_tag *t)
{
	const struct mb2_tag_mmap *m = (const struct mb2_tag_mmap *)t;

	if (m->entry_size < sizeof(struct mb2_mmap_entry) || m->entry_size % 8) {
		pr_warn("multiboot2: memory map tag at offset %u: entry_size %u is not a multiple of 8 of at least 24; ignored\n",
			tag_offset(c, t), m->entry_size);
		return -EINVAL;
	}
	if (m->entry_version != 0)
		pr_warn("multiboot2: memory map tag at offset %u: entry_version %u, reading it as version 0\n",
			tag_offset(c, t), m->entry_version);
	c->mmap = m;
	return 0;
}

/* Descriptors are at least 40 bytes and may grow (UEFI 2.10 7.2.3). */
static int tag_efi_mmap(struct mb2_ctx *c, const struct mb2_tag *t)
{
	const struct mb2_tag_mmap *m = (const struct mb2_tag_mmap *)t;

	if (m->entry_size < sizeof(struct efi_mem_desc) || m->entry_size % 8) {
		pr_warn("multiboot2: EFI memory map tag at offset %u: descriptor_size %u is not a multiple of 8 of at least 40; ignored\n",
			tag_offset(c, t), m->entry_size);
		return -EINVAL;
	}
	c->efi_mmap = m;
	return 0;
}

/* The RSDP is copied into the tag right after its header (3.6.15, 3.6.16). */
static void rsdp_record(struct mb2_ctx *c, const struct mb2_tag *t)
{
	c->bi->rsdp = t + 1;
	c->bi->rsdp_len = t->size - (uint32_t)sizeof(*t);
}

/* The ACPI 2.0+ RSDP wins whichever order the two tags come in. */
static int tag_rsdp_old(struct mb2_ctx *c, const struct mb2_tag *t)
{
	if (c->rsdp_new)
		pr_debug("multiboot2: old RSDP tag at offset %u: new one already found\n",
			 tag_offset(c, t));
	else
		rsdp_record(c, t);
	return 0;
}

static int tag_rsdp_new(struct mb2_ctx *c, const struct mb2_tag *t)
{
	rsdp_record(c, t);
	c->rsdp_new = true;
	return 0;
}

struct mb2_tag_kind {
	const char *name;
	uint32_t min_size; /* header included */
	bool once;         /* a second one is reported and ignored */
	int (*handle)(struct mb2_ctx *c, const struct mb2_tag *t);
};

/*
 * Tag types of spec 3.6. A tag without a handler is skipped: nothing we
 * need is in it. Handlers return 0, -EINVAL for a malformed tag (already
 * reported) or -ENOSPC when we have no room left (already reported).
 */
static const struct mb2_tag_kind mb2_tag_kinds[] = {
	[MB2_TAG_END] = { "end", 8, false, NULL },
	[MB2_TAG_CMDLINE] = { "command line", 8, true, tag_cmdline },
	[MB2_TAG_LOADER_NAME] = { "boot loader name", 8, true, tag_loader_name },
	[MB2_TAG_MODULE] = { "module", 16, false, tag_module },
	[MB2_TAG_MEMINFO] = { "basic meminfo", 16, true, tag_meminfo },
	[5] = { "BIOS boot device", 0, false, NULL },
	[MB2_TAG_MMAP] = { "memory map", 16, true, tag_mmap },
	[7] = { "VBE info", 0, false, NULL },
	[8] = { "framebuffer info", 0, false, NULL },
	[9] = { "ELF symbols", 0, false, NULL },
	[10] = { "APM table", 0, false, NULL },
	[11] = { "EFI 32-bit system table", 0, false, NULL },
	[12] = { "EFI 64-bit system table", 0, false, NULL },
	[13] = { "SMBIOS tables", 0, false, NULL },
	/* RSDP v1 is 20 bytes, v2 36 (ACPI 6.4 5.2.5.3). */
	[MB2_TAG_RSDP_OLD] = { "ACPI old RSDP", 8 + 20, true, tag_rsdp_old },
	[MB2_TAG_RSDP_NEW] = { "ACPI new RSDP", 8 + 36, true, tag_rsdp_new },
	[16] = { "networking info", 0, false, NULL },
	[MB2_TAG_EFI_MMAP] = { "EFI memory map", 16, true, tag_efi_mmap },
	[18] = { "EFI boot services not terminated", 0, false, NULL },
	[19] = { "EFI 32-bit image handle", 0, false, NULL },
	[20] = { "EFI 64-bit image handle", 0, false, NULL },
	[21] = { "image load base address", 0, false, NULL },
};

static const char *tag_name(uint32_t type)
{
	if (type < ARRAY_SIZE(mb2_tag_kinds) && mb2_tag_kinds[type].name)
		return mb2_tag_kinds[type].name;
	return "unknown";
}

/* Size and duplicate checks shared by all handled tags. */
static const char *tag_problem(const struct mb2_ctx *c, const struct mb2_tag *t,
			       const struct mb2_tag_kind *k)
{
	if (t->size < k->min_size)
		return "too small";
	if (k->once && (c->once_seen & (1u << t->type)))
		return "repeated";
	return NULL;
}

static void tag_dispatch(struct mb2_ctx *c, const struct mb2_tag *t)
{
	const struct mb2_tag_kind *k = t->type < ARRAY_SIZE(mb2_tag_kinds) ?
					       &mb2_tag_kinds[t->type] : NULL;
	const char *why;
	int err;

	if (!k || !k->handle) {
		pr_debug("multiboot2: %s tag (type %u) at offset %u skipped\n",
			 tag_name(t->type), t->type, tag_offset(c, t));
		return;
	}
	why = tag_problem(c, t, k);
	if (why) {
		pr_warn("multiboot2: %s tag at offset %u (size %u): %s; ignored\n",
			k->name, tag_offset(c, t), t->size, why);
		c->bi->ntags_bad++;
		return;
	}
	err = k->handle(c, t);
	if (err == 0 && k->once)
		c->once_seen |= 1u << t->type;
	if (err == -EINVAL)
		c->bi->ntags_bad++;
}

/* 3.6.1: a bad size leaves every later tag unreachable. */
static const char *tag_size_problem(const struct mb2_ctx *c, uint32_t off)
{
	const struct mb2_tag *t = tag_at(c, off);

	if (t->size < sizeof(*t))
		return "is smaller than a tag header";
	if (t->size > c->total - off)
		return "runs past total_size";
	return NULL;
}

/* Returns how far the next tag is, or 0 when the walk is over. */
static uint32_t walk_one(struct mb2_ctx *c, uint32_t off)
{
	const struct mb2_tag *t = tag_at(c, off);
	const char *why;

	if (c->total - off < sizeof(*t)) {
		pr_warn("multiboot2: %u bytes at offset %u are too few for a tag; walk stopped\n",
			c->total - off, off);
		c->bi->ntags_bad++;
		return 0;
	}
	why = tag_size_problem(c, off);
	if (why) {
		pr_warn("multiboot2: %s tag (type %u) at offset %u: size %u %s; walk stopped\n",
			tag_name(t->type), t->type, off, t->size, why);
		c->bi->ntags_bad++;
		return 0;
	}
	if (t->type == MB2_TAG_END) {
		if (t->size != sizeof(*t))
			pr_warn("multiboot2: end tag at offset %u has size %u, not 8\n",
				off, t->size);
		c->end_seen = true;
		return 0;
	}
	tag_dispatch(c, t);
	return ALIGN_UP(t->size, MB2_TAG_ALIGN);
}

/* Sizes are at most MB2_MAX_TOTAL, so off + step cannot wrap. */
static void mb2_walk(struct mb2_ctx *c)
{
	uint32_t off = MB2_HEADER_SIZE;
	uint32_t step;

	while (off < c->total) {
		step = walk_one(c, off);
		if (!step)
			break;
		off += step;
	}
	if (!c->end_seen && off >= c->total)
		pr_warn("multiboot2: no end tag within total_size %u\n", c->total);
}

static uint32_t mmap_type(uint32_t type)
{
	/* 3.6.8: values other than 1, 3, 4 and 5 mean reserved. */
	if (type >= MEM_AVAILABLE && type <= MEM_BADRAM)
		return type;
	return MEM_RESERVED;
}

static uint32_t efi_type(uint32_t type)
{
	switch (type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY: return MEM_AVAILABLE;
	case EFI_UNUSABLE_MEMORY: return MEM_BADRAM;
	case EFI_ACPI_RECLAIM_MEMORY: return MEM_ACPI_RECLAIMABLE;
	case EFI_ACPI_MEMORY_NVS: return MEM_NVS;
	default: return MEM_RESERVED; /* runtime services, MMIO, persistent, ... */
	}
}

/* Returns false only when the table is full. Bad entries are reported. */
static bool mem_add(struct boot_info *bi, const char *src, uint32_t idx,
		    uint64_t base, uint64_t len, uint32_t type)
{
	const char *why = len == 0 ? "zero length" :
			  range_overflows(base, len) ? "wraps past 2^64" : NULL;

	if (why) {
		pr_warn("multiboot2: %s entry %u (base 0x%llx, length 0x%llx): %s; skipped\n",
			src, idx, (unsigned long long)base, (unsigned long long)len, why);
		return true;
	}
	if (bi->nmem == MB2_MAX_MEM)
		return false;
	bi->mem[bi->nmem++] = (struct mem_region){ base, len, type };
	return true;
}

static void mem_report_dropped(const char *src, unsigned dropped)
{
	if (dropped)
		pr_warn("multiboot2: %s: more than %d entries, %u ignored\n",
			src, MB2_MAX_MEM, dropped);
}

/* Whole entries only; a partial one at the end of the tag is reported. */
static uint32_t map_count(const char *src, const struct mb2_tag_mmap *m)
{
	uint32_t room = m->h.size - (uint32_t)sizeof(*m);

	if (room % m->entry_size)
		pr_warn("multiboot2: %s: %u stray bytes after the last entry\n",
			src, room % m->entry_size);
	return room / m->entry_size;
}

static const void *map_entry(const struct mb2_tag_mmap *m, uint32_t i)
{
	return (const uint8_t *)(m + 1) + (size_t)i * m->entry_size;
}

static void mem_from_mmap(struct boot_info *bi, const struct mb2_tag_mmap *m)
{
	uint32_t n = map_count("memory map", m);
	unsigned dropped = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct mb2_mmap_entry *e = map_entry(m, i);

		if (!mem_add(bi, "memory map", i, e->base, e->len, mmap_type(e->type)))
			dropped++;
	}
	mem_report_dropped("memory map", dropped);
}

static bool efi_desc_add(struct boot_info *bi, uint32_t idx, const struct efi_mem_desc *d)
{
	if (d->num_pages > (UINT64_MAX >> EFI_PAGE_SHIFT)) {
		pr_warn("multiboot2: EFI memory map entry %u (base 0x%llx): %llu pages overflow 64 bits; skipped\n",
			idx, (unsigned long long)d->phys_start,
			(unsigned long long)d->num_pages);
		return true;
	}
	return mem_add(bi, "EFI memory map", idx, d->phys_start,
		       d->num_pages << EFI_PAGE_SHIFT, efi_type(d->type));
}

static void mem_from_efi(struct boot_info *bi, const struct mb2_tag_mmap *m)
{
	uint32_t n = map_count("EFI memory map", m);
	unsigned dropped = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!efi_desc_add(bi, i, map_entry(m, i)))
			dropped++;
	}
	mem_report_dropped("EFI memory map", dropped);
	bi->mem_from_efi = bi->nmem != 0;
}

/* The last resort: conventional memory and the memory above 1 MiB. */
static void mem_from_meminfo(struct boot_info *bi, const struct mb2_tag_meminfo *mi)
{
	uint32_t lower = mi->mem_lower;

	if (lower > MB2_MEM_LOWER_MAX_KIB) {
		pr_warn("multiboot2: basic meminfo: mem_lower %u KiB is above 640; using 640\n",
			lower);
		lower = MB2_MEM_LOWER_MAX_KIB;
	}
	if (lower)
		mem_add(bi, "basic meminfo", 0, 0, KIB(lower), MEM_AVAILABLE);
	if (mi->mem_upper)
		mem_add(bi, "basic meminfo", 1, MIB(1), KIB(mi->mem_upper), MEM_AVAILABLE);
}

/* A source that gave nothing usable falls through to the next one. */
static void mem_build(struct mb2_ctx *c)
{
	struct boot_info *bi = c->bi;

	if (c->mmap)
		mem_from_mmap(bi, c->mmap);
	if (!bi->nmem && c->efi_mmap)
		mem_from_efi(bi, c->efi_mmap);
	if (!bi->nmem && c->meminfo)
		mem_from_meminfo(bi, c->meminfo);
	if (!bi->nmem)
		pr_warn("multiboot2: no usable memory map\n");
}

/* 3.6: the MBI is 8-byte aligned and starts with total_size, reserved. */
static int mb2_check_header(const void *mbi, uint64_t mbi_phys)
{
	uint32_t total;

	if (!mbi) {
		pr_err("multiboot2: no boot information\n");
		return -EINVAL;
	}
	if (!IS_ALIGNED((uintptr_t)mbi, 8) || !IS_ALIGNED(mbi_phys, 8)) {
		pr_err("multiboot2: boot information at 0x%llx is not 8-byte aligned\n",
		       (unsigned long long)mbi_phys);
		return -EINVAL;
	}
	total = *(const uint32_t *)mbi;
	if (total < MB2_HEADER_SIZE || total > MB2_MAX_TOTAL ||
	    range_overflows(mbi_phys, total)) {
		pr_err("multiboot2: total_size %u is out of range (8 to %llu bytes)\n",
		       total, (unsigned long long)MB2_MAX_TOTAL);
		return -EINVAL;
	}
	return 0;
}

static void boot_info_init(struct boot_info *bi, uint64_t mbi_phys)
{
	memset(bi, 0, sizeof(*bi));
	bi->mbi_phys = mbi_phys;
	bi->cmdline = "";
	bi->loader_name = "";
}

int mb2_parse(const void *mbi, uint64_t mbi_phys, struct boot_info *bi)
{
	struct mb2_ctx c = { .bi = bi, .base = mbi };
	int err;

	ASSERT(bi);
	boot_info_init(bi, mbi_phys);
	err = mb2_check_header(mbi, mbi_phys);
	if (err)
		return err;
	c.total = *(const uint32_t *)mbi;
	bi->mbi_size = c.total;
	mb2_walk(&c);
	mem_build(&c);
	return 0;
}
