/*
 * Multiboot2 boot information (Multiboot2 spec 1.0, section 3.6).
 * mb2_parse() reads the structure GRUB left in memory, checks every tag
 * against the total size, and fills a struct boot_info that owns no
 * pointers into memory it has not validated. Bad tags are reported and
 * skipped; only an unusable header is fatal to parsing.
 */
#ifndef BOOT_MB2_H
#define BOOT_MB2_H

#include "core/types.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

#define MB2_MAX_MODULES 32
#define MB2_MAX_MEM 512

/* Memory types, as in the multiboot2 memory map tag. */
enum mem_type {
	MEM_AVAILABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_NVS = 4,
	MEM_BADRAM = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type; /* enum mem_type */
};

struct boot_module {
	uint64_t start; /* physical, first byte */
	uint64_t end;   /* physical, one past the last byte */
	const char *cmdline; /* NUL-terminated, inside the MBI; "" if none */
};

struct boot_info {
	uint64_t mbi_phys; /* where the MBI lies, for the allocator to avoid */
	uint32_t mbi_size;
	const char *cmdline;         /* "" if absent */
	const char *loader_name;     /* "" if absent */
	/* Memory map: from the mmap tag, else the EFI mmap, else basic meminfo. */
	struct mem_region mem[MB2_MAX_MEM];
	unsigned nmem;
	bool mem_from_efi;
	struct boot_module modules[MB2_MAX_MODULES];
	unsigned nmodules;
	/* ACPI RSDP copy inside the MBI (new tag preferred over old). */
	const void *rsdp;
	uint32_t rsdp_len;
	unsigned ntags_bad; /* malformed tags reported and skipped */
};

/*
 * Parse the MBI at @mbi (identity mapped). @mbi_phys is its physical
 * address. Returns 0, or -EINVAL when the header itself is unusable.
 */
int mb2_parse(const void *mbi, uint64_t mbi_phys, struct boot_info *bi);

#endif
