/*
 * Multiboot kernels, version 1 (Multiboot Specification 0.6.96), and the
 * parts version 2 shares with it: the a.out kludge load (explicit load
 * addresses instead of ELF headers) and the memory sizes.
 *
 * The header's flags 0-15 are requirements (3.1.2): we meet bit 0 (no
 * modules to align) and bit 1 (memory information); bit 2 (video mode
 * information) and the undefined bits are refused. Bit 16 selects the
 * address fields of 3.1.3 over the ELF headers, as the spec says.
 */
#include "core/errno.h"
#include "core/loader_int.h"
#include "core/printk.h"

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_BOOT_MAGIC 0x2badb002u /* EAX at entry, 3.2 */
#define MB1_SEARCH_LEN 8192u       /* the header lies in the first 8 KiB */
#define MB1_HEADER_MIN 12u         /* magic, flags, checksum */
#define MB1_HEADER_AOUT 32u        /* ... and the address fields */

#define MB1_FLAG_PAGE_ALIGN (1u << 0)
#define MB1_FLAG_MEMORY (1u << 1)
#define MB1_FLAG_VIDEO (1u << 2)
#define MB1_FLAG_AOUT (1u << 16)
#define MB1_FLAGS_REQUIRED 0xffffu
#define MB1_FLAGS_MET (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY)

/* multiboot_info flags, 3.3 */
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MMAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)

/* Where the pieces of the boot information go, inside the boot area. */
#define MB1_INFO_GPA BOOT_MBI_GPA
#define MB1_MMAP_GPA (BOOT_MBI_GPA + 0x100)
#define MB1_NAME_GPA (BOOT_MBI_GPA + 0x200)

static const char mb_loader_name[] = "hv";

struct mb1_info { /* 3.3, up to the VBE fields */
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};

/* 3.3: size counts the bytes after itself; base_addr is not aligned. */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __packed;

BUILD_ASSERT(sizeof(struct mb1_info) == 88);
BUILD_ASSERT(offsetof(struct mb1_info, mmap_length) == 44);
BUILD_ASSERT(offsetof(struct mb1_info, boot_loader_name) == 64);
BUILD_ASSERT(sizeof(struct mb1_mmap_entry) == 24);
BUILD_ASSERT(MB1_INFO_GPA + sizeof(struct mb1_info) <= MB1_MMAP_GPA);
BUILD_ASSERT(MB1_MMAP_GPA + LOADER_MAP_MAX * sizeof(struct mb1_mmap_entry) <= MB1_NAME_GPA);

/* 3.3: at most 640 KiB of lower memory, from address 0. */
uint32_t mb_mem_lower_kib(uint64_t ram)
{
	return (uint32_t)MIN(ram >> 10, (uint64_t)LOADER_LOW_KIB);
}

/* 3.3: upper memory from 1 MiB; the field is 32 bits of KiB. */
uint32_t mb_mem_upper_kib(uint64_t ram)
{
	if (ram <= MIB(1))
		return 0;
	return (uint32_t)MIN((ram - MIB(1)) >> 10, (uint64_t)UINT32_MAX);
}

/* ---- a.out kludge: MB 0.6.96 3.1.3, Multiboot2 3.1.5 ------------------ */

/* Image offset and GPA of the first byte to load. */
static int aout_start(const struct loader_ctx *c, const struct mb_addr *a,
		      uint64_t *file_off, uint64_t *load_addr)
{
	uint64_t delta = (uint64_t)a->header_addr - a->load_addr;

	if (a->load_from_start) {
		delta = a->header_off;
		if (a->header_addr < delta)
			goto bad;
	} else if (a->load_addr > a->header_addr || delta > a->header_off) {
		goto bad;
	}
	*file_off = a->header_off - delta;
	*load_addr = (uint64_t)a->header_addr - delta;
	return 0;
bad:
	pr_err("loader: %s: header_addr 0x%x, load_addr 0x%x: the load would start before the image (header at offset 0x%llx)\n",
	       c->name, a->header_addr, a->load_addr, (unsigned long long)a->header_off);
	return -ENOEXEC;
}

/* Bytes to copy from the image and bytes of memory the kernel occupies. */
static int aout_sizes(const struct loader_ctx *c, const struct mb_addr *a,
		      uint64_t file_off, uint64_t load_addr, uint64_t *filesz,
		      uint64_t *memsz)
{
	*filesz = a->load_end_addr ? a->load_end_addr - load_addr : c->len - file_off;
	if (a->load_end_addr && (a->load_end_addr <= load_addr ||
				 *filesz > c->len - file_off)) {
		pr_err("loader: %s: load_end_addr 0x%x: [0x%llx, 0x%x) is empty or longer than the 0x%llx image bytes from offset 0x%llx\n",
		       c->name, a->load_end_addr, (unsigned long long)load_addr,
		       a->load_end_addr, (unsigned long long)(c->len - file_off),
		       (unsigned long long)file_off);
		return -ENOEXEC;
	}
	*memsz = a->bss_end_addr ? a->bss_end_addr - load_addr : *filesz;
	if (a->bss_end_addr && a->bss_end_addr < load_addr + *filesz) {
		pr_err("loader: %s: bss_end_addr 0x%x lies below the end of the loaded bytes 0x%llx\n",
		       c->name, a->bss_end_addr, (unsigned long long)(load_addr + *filesz));
		return -ENOEXEC;
	}
	return 0;
}

int mb_load_aout(const struct loader_ctx *c, const struct mb_addr *a, uint64_t *rip)
{
	uint64_t off, gpa, filesz, memsz;
	int err;

	err = aout_start(c, a, &off, &gpa);
	if (!err)
		err = aout_sizes(c, a, off, gpa, &filesz, &memsz);
	if (!err)
		err = loader_check_range(c, "load range", gpa, memsz);
	if (err)
		return err;
	if (a->entry_addr < gpa || a->entry_addr - gpa >= filesz) {
		pr_err("loader: %s: entry_addr 0x%x lies outside the loaded bytes [0x%llx, 0x%llx)\n",
		       c->name, a->entry_addr, (unsigned long long)gpa,
		       (unsigned long long)(gpa + filesz));
		return -ENOEXEC;
	}
	loader_copy(c, gpa, off, filesz, memsz);
	*rip = a->entry_addr;
	return 0;
}

/* ---- Multiboot 1 ------------------------------------------------------- */

/* 3.1.1: the first magic, 4-byte aligned, in the first 8 KiB. */
int mb1_find_header(const struct loader_ctx *c, uint64_t *off)
{
	uint64_t end = MIN(c->len, (uint64_t)MB1_SEARCH_LEN);

	for (uint64_t o = 0; o + 4 <= end; o += 4) {
		if (img_read32(c, o) == MB1_HEADER_MAGIC) {
			*off = o;
			return 0;
		}
	}
	return -ENOENT;
}

/* 3.1.1: the whole header lies in the image and in the first 8 KiB. */
static int mb1_check_size(const struct loader_ctx *c, uint64_t off, uint32_t need)
{
	if (off + need <= MIN(c->len, (uint64_t)MB1_SEARCH_LEN))
		return 0;
	pr_err("loader: %s: multiboot header at offset 0x%llx: its %u bytes are cut short by the %s\n",
	       c->name, (unsigned long long)off, need,
	       off + need > MB1_SEARCH_LEN ? "8 KiB search limit" : "end of the image");
	return -ENOEXEC;
}

/* 3.1.2: the checksum, and the requirements we cannot meet. */
static int mb1_check_header(const struct loader_ctx *c, uint64_t off, uint32_t *flags)
{
	uint32_t unmet;
	int err;

	err = mb1_check_size(c, off, MB1_HEADER_MIN);
	if (err)
		return err;
	*flags = img_read32(c, off + 4);
	if (MB1_HEADER_MAGIC + *flags + img_read32(c, off + 8) != 0) {
		pr_err("loader: %s: multiboot header at offset 0x%llx: bad checksum\n",
		       c->name, (unsigned long long)off);
		return -ENOEXEC;
	}
	unmet = *flags & MB1_FLAGS_REQUIRED & ~MB1_FLAGS_MET;
	if (unmet) {
		pr_err("loader: %s: multiboot header requires flags 0x%x (%s), which this hypervisor cannot meet\n",
		       c->name, unmet, unmet & MB1_FLAG_VIDEO ? "video mode information" : "unknown");
		return -ENOEXEC;
	}
	return mb1_check_size(c, off, *flags & MB1_FLAG_AOUT ? MB1_HEADER_AOUT : MB1_HEADER_MIN);
}

static void mb1_read_addr(const struct loader_ctx *c, uint64_t off, struct mb_addr *a)
{
	*a = (struct mb_addr){
		.header_off = off,
		.header_addr = img_read32(c, off + 12),
		.load_addr = img_read32(c, off + 16),
		.load_end_addr = img_read32(c, off + 20),
		.bss_end_addr = img_read32(c, off + 24),
		.entry_addr = img_read32(c, off + 28),
	};
}

static void mb1_write_mmap(const struct loader_ctx *c, struct mb1_info *mi)
{
	struct loader_region map[LOADER_MAP_MAX];
	unsigned n = loader_mem_map(c->mem->size, map);

	for (unsigned i = 0; i < n; i++) {
		struct mb1_mmap_entry e = {
			.size = sizeof(e) - sizeof(e.size),
			.base_addr = map[i].base,
			.length = map[i].len,
			.type = map[i].type,
		};

		loader_write(c, MB1_MMAP_GPA + i * sizeof(e), &e, sizeof(e));
	}
	mi->mmap_addr = MB1_MMAP_GPA;
	mi->mmap_length = n * (uint32_t)sizeof(struct mb1_mmap_entry);
}

/* 3.3: memory sizes, command line, loader name, memory map. */
static void mb1_write_info(const struct loader_ctx *c)
{
	struct mb1_info mi = {
		.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MMAP |
			 MB1_INFO_LOADER_NAME,
		.mem_lower = mb_mem_lower_kib(c->mem->size),
		.mem_upper = mb_mem_upper_kib(c->mem->size),
		.cmdline = BOOT_CMDLINE_GPA,
		.boot_loader_name = MB1_NAME_GPA,
	};

	mb1_write_mmap(c, &mi);
	loader_write(c, BOOT_CMDLINE_GPA, c->cmdline, c->cmdline_len + 1u);
	loader_write(c, MB1_NAME_GPA, mb_loader_name, sizeof(mb_loader_name));
	loader_write(c, MB1_INFO_GPA, &mi, sizeof(mi));
}

int mb1_load(struct loader_ctx *c, uint64_t off, struct guest_entry *e)
{
	struct mb_addr a;
	uint32_t flags;
	uint64_t rip;
	int err;

	err = mb1_check_header(c, off, &flags);
	if (err)
		return err;
	loader_limit_prot32(c);
	if (flags & MB1_FLAG_AOUT) {
		mb1_read_addr(c, off, &a);
		err = mb_load_aout(c, &a, &rip);
	} else if (!elf_has_magic(c)) {
		pr_err("loader: %s: multiboot header without load addresses (flag 16), and the image is not ELF\n",
		       c->name);
		err = -ENOEXEC;
	} else {
		err = elf_load(c, true, NULL, &rip);
	}
	if (err)
		return err;
	loader_write_boot_area(c);
	mb1_write_info(c);
	loader_enter_prot32(e, rip, MB1_BOOT_MAGIC, MB1_INFO_GPA, "multiboot");
	return 0;
}
