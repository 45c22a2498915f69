/*
 * A multiboot 2 kernel: checks the machine state the spec promises
 * (multiboot 2.0, 3.3: EAX = 0x36D76289, EBX = 8-byte aligned info) and
 * walks the boot information tags (3.6): command line, boot loader name,
 * basic memory information and the memory map, with every size checked
 * against total_size. Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hello-mb2");

#define MB2_BOOT_MAGIC 0x36d76289
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_MEM_AVAILABLE 1
/* Far more than any loader writes; a bound on a garbage total_size. */
#define INFO_MAX 0x10000u

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_meminfo {
	struct mb2_tag tag;
	uint32_t mem_lower;
	uint32_t mem_upper;
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_seen {
	int end, meminfo, covers_image, mmap_entries;
	uint32_t mem_upper;
	char cmdline[200];
	char loader[64];
};

extern char __image_end[];

/* A string tag must be NUL-terminated within its size; returns failed checks. */
static int copy_string_tag(char *dst, size_t size, const struct mb2_tag *t)
{
	const char *s = (const char *)(t + 1);
	uint32_t n = t->size - sizeof(*t);

	if (n == 0 || s[n - 1] != '\0')
		return check(0, "string tag type %u is not NUL-terminated", t->type);
	str_printable(dst, size, s);
	return 0;
}

static int walk_mmap(const struct mb2_tag_mmap *m, struct mb2_seen *seen)
{
	uint32_t off = sizeof(*m);

	if (m->tag.size < sizeof(*m) || m->entry_size < sizeof(struct mb2_mmap_entry))
		return check(0, "mmap tag: size %u entry_size %u", m->tag.size, m->entry_size);
	for (; off + m->entry_size <= m->tag.size; off += m->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)((const char *)m + off);

		printf("hello-mb2: mmap 0x%llx-0x%llx type %u\n", (unsigned long long)e->base,
		       (unsigned long long)(e->base + e->len), e->type);
		if (e->type == MB2_MEM_AVAILABLE && e->base <= 0x100000 &&
		    e->base + e->len >= (uintptr_t)__image_end)
			seen->covers_image = 1;
		seen->mmap_entries++;
	}
	return 0;
}

/* One tag; returns failed checks. */
static int take_tag(const struct mb2_tag *t, struct mb2_seen *seen)
{
	switch (t->type) {
	case MB2_TAG_CMDLINE:
		return copy_string_tag(seen->cmdline, sizeof(seen->cmdline), t);
	case MB2_TAG_LOADER:
		return copy_string_tag(seen->loader, sizeof(seen->loader), t);
	case MB2_TAG_MEMINFO:
		if (t->size < sizeof(struct mb2_tag_meminfo))
			return check(0, "meminfo tag size %u", t->size);
		seen->meminfo = 1;
		seen->mem_upper = ((const struct mb2_tag_meminfo *)t)->mem_upper;
		return 0;
	case MB2_TAG_MMAP:
		return walk_mmap((const struct mb2_tag_mmap *)t, seen);
	default:
		printf("hello-mb2: tag type %u size %u\n", t->type, t->size);
		return 0;
	}
}

/* Walk the tags after the 8-byte fixed part; returns failed checks. */
static int walk_tags(uint32_t info, struct mb2_seen *seen)
{
	uint32_t total = *(const uint32_t *)(uintptr_t)info, off = 8;
	int fail = 0;

	if (total < 8 || total > INFO_MAX)
		return check(0, "total_size %u is not in [8, %u]", total, INFO_MAX);
	while (off + sizeof(struct mb2_tag) <= total) {
		const struct mb2_tag *t = (const void *)(uintptr_t)(info + off);

		if (t->size < sizeof(*t) || t->size > total - off)
			return fail + check(0, "tag at +%u: type %u size %u overruns total_size %u",
					    off, t->type, t->size, total);
		if (t->type == MB2_TAG_END) {
			seen->end = 1;
			break;
		}
		fail += take_tag(t, seen);
		off += (t->size + 7) & ~7u;
	}
	return fail;
}

int mb_main(uint32_t magic, uint32_t info)
{
	struct mb2_seen seen = { 0 };
	int fail = 0;

	printf("hello-mb2: start\n");
	if (magic != MB2_BOOT_MAGIC) {
		check(0, "EAX magic 0x%x (want 0x%x)", magic, MB2_BOOT_MAGIC);
		return 1;
	}
	printf("hello-mb2: info at 0x%x total_size %u\n", info, *(const uint32_t *)(uintptr_t)info);
	fail += check(!(info & 7), "info at 0x%x is 8-byte aligned", info);
	fail += walk_tags(info, &seen);
	printf("hello-mb2: magic ok mem_upper=%u cmdline='%s'\n", seen.mem_upper, seen.cmdline);
	if (seen.loader[0])
		printf("hello-mb2: boot loader '%s'\n", seen.loader);
	fail += check(seen.end, "end tag found within total_size");
	fail += check(seen.meminfo, "basic memory information tag present");
	if (seen.meminfo)
		fail += check(0x100000 + (uint64_t)seen.mem_upper * 1024 >= (uintptr_t)__image_end,
			      "mem_upper=%u KiB covers the image", seen.mem_upper);
	if (seen.mmap_entries)
		fail += check(seen.covers_image, "memory map has RAM under the image");
	else
		printf("hello-mb2: no memory map tag\n");
	printf("hello-mb2: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}
