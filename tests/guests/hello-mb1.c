/*
 * A multiboot 1 kernel: checks the machine state the spec promises
 * (multiboot 0.6.96, 3.2: EAX = 0x2BADB002, EBX = info) and walks the
 * information structure (3.3): flags, mem_lower/mem_upper, cmdline and
 * the memory map. Exit status = failed checks.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hello-mb1");

#define MB1_BOOT_MAGIC 0x2badb002
#define MB1_INFO_MEM (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MMAP (1u << 6)
#define MB1_MEM_AVAILABLE 1
/* Far more than any loader writes; a bound on a garbage mmap_length. */
#define MMAP_MAX 0x10000u

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower;     /* KiB below 1 MiB */
	uint32_t mem_upper;     /* KiB from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
};

/* "size" does not count itself (spec 3.3). */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t base;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

extern char __image_end[];

/* Walk the memory map; returns failed checks. */
static int walk_mmap(const struct mb1_info *mi)
{
	uint32_t p = mi->mmap_addr, end = mi->mmap_addr + mi->mmap_length;
	int covers_image = 0, n = 0, bad = 0;

	if (mi->mmap_length > MMAP_MAX || end < p)
		return check(0, "mmap_length %u at 0x%x is implausible", mi->mmap_length, p);
	while (p < end) {
		const struct mb1_mmap_entry *e = (const void *)(uintptr_t)p;

		if (end - p < sizeof(*e) || e->size < sizeof(*e) - 4 ||
		    e->size > end - p - 4) {
			bad = 1;
			break;
		}
		printf("hello-mb1: mmap 0x%llx-0x%llx type %u\n", (unsigned long long)e->base,
		       (unsigned long long)(e->base + e->len), e->type);
		if (e->type == MB1_MEM_AVAILABLE && e->base <= 0x100000 &&
		    e->base + e->len >= (uintptr_t)__image_end)
			covers_image = 1;
		n++;
		p += e->size + 4;
	}
	if (check(!bad && n > 0, "memory map well formed (%d entries)", n))
		return 1;
	return check(covers_image, "memory map has RAM under the image [0x100000, %p)",
		     (void *)__image_end);
}

int mb_main(uint32_t magic, uint32_t info)
{
	const struct mb1_info *mi = (const void *)(uintptr_t)info;
	char cmdline[200] = "";
	int fail = 0;

	printf("hello-mb1: start\n");
	if (magic != MB1_BOOT_MAGIC) {
		check(0, "EAX magic 0x%x (want 0x%x)", magic, MB1_BOOT_MAGIC);
		return 1;
	}
	printf("hello-mb1: info at 0x%x flags 0x%x\n", info, mi->flags);
	if (mi->flags & MB1_INFO_CMDLINE)
		str_printable(cmdline, sizeof(cmdline), (const char *)(uintptr_t)mi->cmdline);
	printf("hello-mb1: magic ok mem_upper=%u cmdline='%s'\n",
	       (mi->flags & MB1_INFO_MEM) ? mi->mem_upper : 0, cmdline);

	fail += check(mi->flags & MB1_INFO_MEM, "memory info present (header asked for it)");
	if (mi->flags & MB1_INFO_MEM) {
		fail += check(mi->mem_lower <= 640, "mem_lower=%u KiB <= 640", mi->mem_lower);
		fail += check(0x100000 + (uint64_t)mi->mem_upper * 1024 >= (uintptr_t)__image_end,
			      "mem_upper=%u KiB covers the image", mi->mem_upper);
	}
	if (mi->flags & MB1_INFO_MMAP)
		fail += walk_mmap(mi);
	else
		printf("hello-mb1: no memory map (flags bit 6 clear)\n");
	printf("hello-mb1: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}
