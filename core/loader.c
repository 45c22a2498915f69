/*
 * Guest image loading: format detection, the checks every loaded range
 * goes through, the boot area, and the ELF64 boot ABI of core/guest_abi.h.
 *
 * Detection follows the specifications' own search rules: a Multiboot2
 * header in the first 32 KiB, 8-byte aligned (Multiboot2 3.1.1); else a
 * Multiboot header in the first 8 KiB, 4-byte aligned (MB 0.6.96 3.1.1);
 * else the image must be an ELF64 x86-64 executable, entered in 64-bit
 * mode. The first magic found decides: a header with a bad checksum is
 * reported, never skipped, so a broken multiboot kernel is not started in
 * the wrong mode.
 *
 * Every format checks the whole image before writing anything, so a
 * refused image leaves guest RAM as it was. The boot area is written
 * last; no loaded range may overlap it.
 */
#include "core/errno.h"
#include "core/loader_int.h"
#include "core/printk.h"

/* LONG64 guests see the first 512 GiB identity mapped (core/guest_abi.h). */
#define LONG64_LIMIT GIB(512)
#define PDPT_ENTRIES 512

/* Paging-structure entry bits, SDM Vol. 3A 4.5 (PML4E, 1-GByte PDPTE). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

/*
 * Flat descriptors, base 0, limit 0xfffff in 4 KiB units (SDM Vol. 3A
 * 3.4.5): 0x9b is present, DPL 0, code, execute/read, accessed; 0x93 is
 * data, read/write, accessed. Accessed is preset so the CPU never has to
 * write the table. Flags nibble: 0xa = G, L (64-bit code); 0xc = G, D/B.
 */
static const uint64_t loader_gdt[LOADER_GDT_ENTRIES] = {
	0,
	0x00af9b000000ffffull, /* 0x08: 64-bit code */
	0x00cf93000000ffffull, /* 0x10: data, 4 GiB */
	0x00cf9b000000ffffull, /* 0x18: 32-bit code, 4 GiB */
};

BUILD_ASSERT(LOADER_SEL_CODE64 == 1 * 8 && LOADER_SEL_DATA == 2 * 8 &&
	     LOADER_SEL_CODE32 == 3 * 8);

/* [gpa, gpa + size) must be in RAM, in reach and clear of the boot area. */
int loader_check_range(const struct loader_ctx *c, const char *what,
		       uint64_t gpa, uint64_t size)
{
	unsigned long long b = gpa, e = gpa + size;

	if (range_overflows(gpa, size)) {
		pr_err("loader: %s: %s: 0x%llx + 0x%llx wraps past 2^64\n",
		       c->name, what, b, (unsigned long long)size);
		return -ENOEXEC;
	}
	if (e > c->mem->size) {
		pr_err("loader: %s: %s [0x%llx, 0x%llx) lies outside guest RAM [0, 0x%llx)\n",
		       c->name, what, b, e, (unsigned long long)c->mem->size);
		return -ENOMEM;
	}
	if (e > c->limit) {
		pr_err("loader: %s: %s [0x%llx, 0x%llx) ends above %s\n",
		       c->name, what, b, e, c->limit_why);
		return -ENOEXEC;
	}
	if (ranges_overlap(gpa, size, HV_BOOT_AREA, HV_BOOT_AREA_END - HV_BOOT_AREA)) {
		pr_err("loader: %s: %s [0x%llx, 0x%llx) overlaps the boot area [0x%x, 0x%x)\n",
		       c->name, what, b, e, HV_BOOT_AREA, HV_BOOT_AREA_END);
		return -ENOEXEC;
	}
	return 0;
}

/* Callers have checked both ranges; these asserts only guard that. */
void loader_write(const struct loader_ctx *c, uint64_t gpa, const void *src, uint64_t n)
{
	ASSERT(gpa <= c->mem->size && n <= c->mem->size - gpa);
	memcpy(c->mem->hva + gpa, src, n);
}

/*
 * File bytes, then zeroes up to memsz: guest RAM is zeroed, bss is said.
 * With no file bytes, @off means nothing (a bss-only segment's p_offset
 * may point anywhere) and is not looked at.
 */
void loader_copy(const struct loader_ctx *c, uint64_t gpa, uint64_t off,
		 uint64_t filesz, uint64_t memsz)
{
	ASSERT(filesz <= memsz && gpa <= c->mem->size && memsz <= c->mem->size - gpa);
	if (filesz) {
		ASSERT(off <= c->len && filesz <= c->len - off);
		memcpy(c->mem->hva + gpa, c->img + off, filesz);
	}
	memset(c->mem->hva + gpa + filesz, 0, memsz - filesz);
}

/* Whatever was in the boot area goes; then the GDT every mode uses. */
void loader_write_boot_area(const struct loader_ctx *c)
{
	memset(c->mem->hva + HV_BOOT_AREA, 0, HV_BOOT_AREA_END - HV_BOOT_AREA);
	loader_write(c, BOOT_GDT_GPA, loader_gdt, sizeof(loader_gdt));
}

static void map_add(struct loader_region *map, unsigned *n, uint64_t base,
		    uint64_t end, uint32_t type)
{
	if (end > base)
		map[(*n)++] = (struct loader_region){ base, end - base, type };
}

/*
 * A PC-like map of exactly the guest's RAM: conventional memory, the
 * EBDA-to-1-MiB hole reserved (where BIOSes keep their data and ROMs),
 * the rest available. Types as in MB 0.6.96 3.3 and Multiboot2 3.6.8.
 */
unsigned loader_mem_map(uint64_t ram, struct loader_region map[LOADER_MAP_MAX])
{
	unsigned n = 0;

	map_add(map, &n, 0, MIN(ram, (uint64_t)LOADER_EBDA_GPA), 1);
	map_add(map, &n, LOADER_EBDA_GPA, MIN(ram, MIB(1)), 2);
	map_add(map, &n, MIB(1), ram, 1);
	return n;
}

/* MB 0.6.96 3.2 and Multiboot2 3.3: flat 32-bit segments, paging off. */
void loader_enter_prot32(struct guest_entry *e, uint64_t rip, uint32_t eax,
			 uint32_t ebx, const char *format)
{
	*e = (struct guest_entry){
		.mode = GUEST_BOOT_PROT32,
		.rip = rip,
		.rax = eax,
		.rbx = ebx,
		.gdt_base = BOOT_GDT_GPA,
		.gdt_limit = sizeof(loader_gdt) - 1,
		.cs = LOADER_SEL_CODE32,
		.ds = LOADER_SEL_DATA,
		.format = format,
	};
}

/* One PML4 entry, 512 1-GiB pages: the first 512 GiB, identity mapped. */
void loader_write_identity_tables(const struct loader_ctx *c)
{
	uint64_t pml4e = BOOT_PDPT_GPA | PTE_P | PTE_RW;

	loader_write(c, BOOT_PML4_GPA, &pml4e, sizeof(pml4e));
	for (uint64_t i = 0; i < PDPT_ENTRIES; i++) {
		uint64_t pdpte = (i << 30) | PTE_P | PTE_RW | PTE_PS;

		loader_write(c, BOOT_PDPT_GPA + i * sizeof(pdpte), &pdpte, sizeof(pdpte));
	}
}

static void long64_write_info(const struct loader_ctx *c)
{
	struct hv_boot_info bi = {
		.magic = HV_BOOT_MAGIC,
		.mem_size = c->mem->size,
		.cmdline_gpa = BOOT_CMDLINE_GPA,
		.vm_id = c->args->vm_id,
		.ncpus = c->args->ncpus,
	};

	loader_write(c, BOOT_INFO_GPA, &bi, sizeof(bi));
	loader_write(c, BOOT_CMDLINE_GPA, c->cmdline, c->cmdline_len + 1u);
}

/* core/guest_abi.h: the state an ELF64 guest starts in. */
static void long64_enter(struct guest_entry *e, uint64_t rip)
{
	*e = (struct guest_entry){
		.mode = GUEST_BOOT_LONG64,
		.rip = rip,
		.rdi = HV_BOOT_MAGIC,
		.rsi = BOOT_INFO_GPA,
		.cr3 = BOOT_PML4_GPA,
		.gdt_base = BOOT_GDT_GPA,
		.gdt_limit = sizeof(loader_gdt) - 1,
		.cs = LOADER_SEL_CODE64,
		.ds = LOADER_SEL_DATA,
		.format = "ELF64",
	};
}

static int long64_load(struct loader_ctx *c, struct guest_entry *e)
{
	uint64_t rip;
	int err;

	if (!elf_has_magic(c)) {
		pr_err("loader: %s: neither a multiboot kernel nor an ELF file\n", c->name);
		return -ENOEXEC;
	}
	c->limit = LONG64_LIMIT;
	c->limit_why = "512 GiB, the reach of the boot page tables";
	err = elf_load(c, false, NULL, &rip);
	if (err)
		return err;
	loader_write_boot_area(c);
	loader_write_identity_tables(c);
	long64_write_info(c);
	long64_enter(e, rip);
	return 0;
}

static int loader_ctx_init(struct loader_ctx *c, const char *name,
			   const struct guest_load_args *a, struct guest_mem *mem)
{
	*c = (struct loader_ctx){
		.name = name ? name : "(unnamed image)",
		.img = a->image,
		.len = a->image ? a->image_len : 0,
		.mem = mem,
		.args = a,
		.cmdline = a->cmdline ? a->cmdline : "",
	};
	c->cmdline_len = (uint32_t)strnlen(c->cmdline, LOADER_CMDLINE_MAX);
	if (c->cmdline_len == LOADER_CMDLINE_MAX) {
		pr_err("loader: %s: command line longer than %u bytes\n",
		       c->name, LOADER_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	if (!mem->hva || mem->size < HV_BOOT_AREA_END) {
		pr_err("loader: %s: guest RAM of 0x%llx bytes does not hold the boot area [0x%x, 0x%x)\n",
		       c->name, (unsigned long long)mem->size, HV_BOOT_AREA, HV_BOOT_AREA_END);
		return -ENOMEM;
	}
	if (c->len == 0) {
		pr_err("loader: %s: the image is empty\n", c->name);
		return -ENOEXEC;
	}
	return 0;
}

int loader_load(const char *name, const struct guest_load_args *a,
		struct guest_mem *mem, struct guest_entry *entry)
{
	struct loader_ctx c;
	uint64_t off;
	int err;

	ASSERT(a && mem && entry);
	*entry = (struct guest_entry){ .format = "" };
	err = loader_ctx_init(&c, name, a, mem);
	if (err)
		return err;
	err = mb2_find_header(&c, &off);
	if (err != -ENOENT)
		return err ? err : mb2_load(&c, off, entry);
	err = mb1_find_header(&c, &off);
	if (err != -ENOENT)
		return err ? err : mb1_load(&c, off, entry);
	return long64_load(&c, entry);
}
