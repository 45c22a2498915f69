/*
 * Linux bzImage kernels through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"; the fields of
 * struct boot_params from Documentation/arch/x86/zero-page.rst).
 *
 * The image is a real-mode setup part of (setup_sects + 1) sectors, whose
 * setup header at 0x1f1 describes the kernel, followed by the
 * protected-mode kernel of syssize paragraphs (anything after it, such as
 * a Secure Boot signature, is not loaded). We load the protected-mode
 * kernel only, build boot_params from the setup header as the protocol
 * says, and enter at the kernel's load address + 0x200 in 64-bit mode.
 *
 * Everything is checked before anything is written, so a refused image
 * leaves guest RAM as it was.
 */
#include "core/errno.h"
#include "core/loader_int.h"
#include "core/loader_linux.h"
#include "core/printk.h"

/* Setup header fields: offsets in the image and in boot_params alike. */
#define HDR_START 0x1f1          /* setup_sects: the header's first byte */
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP_LEN 0x201       /* the header ends at 0x202 + this byte */
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_SETUP_DATA 0x250
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_END_MIN 0x268        /* protocol 2.12 ends after handover_offset */
#define HDR_END_MAX 0x290        /* the setup header's hole in boot_params */

/* boot_params fields outside the setup header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_SIZE 0x1000

#define BOOT_FLAG 0xaa55
#define HDRS_MAGIC 0x53726448u   /* "HdrS" */
#define PROTOCOL_MIN 0x020c      /* 2.12: xloadflags */
#define LOADED_HIGH (1u << 0)
#define XLF_KERNEL_64 (1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)
#define TYPE_OF_LOADER_UNDEFINED 0xff
#define ENTRY_64_OFFSET 0x200
#define SECTOR 512u
#define PARAGRAPH 16u

/* Where a relocatable kernel goes when its pref_address will not do. */
#define FALLBACK_LOAD MIB(16)
/* LONG64 guests reach the first 512 GiB (core/guest_abi.h). */
#define LONG64_LIMIT GIB(512)

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 5
#define BIOS_AREA_GPA 0xe0000u   /* [0xe0000, 1 MiB): RSDP, reserved */

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __packed;

BUILD_ASSERT(sizeof(struct e820_entry) == 20);
BUILD_ASSERT(BP_E820_TABLE + E820_MAX * sizeof(struct e820_entry) <= BP_SIZE);
/* Our part of the boot area lies above what the other formats use. */
BUILD_ASSERT(LINUX_ZERO_PAGE_GPA >= BOOT_MBI_END);
BUILD_ASSERT(LINUX_ZERO_PAGE_GPA + BP_SIZE <= LINUX_CMDLINE_GPA);
BUILD_ASSERT(LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX <= LINUX_GDT_GPA);
BUILD_ASSERT(LINUX_CMDLINE_MAX <= LOADER_CMDLINE_MAX);
BUILD_ASSERT(LINUX_GDT_GPA + 0x20 <= HV_BOOT_AREA_END);

/*
 * boot.rst: __BOOT_CS (0x10) and __BOOT_DS (0x18), flat 4 GiB, code
 * execute/read and data read/write. Encodings as in core/loader.c: 0x9b
 * code, 0x93 data, accessed preset; flags 0xa = G, L and 0xc = G, D/B.
 */
static const uint64_t linux_gdt[] = {
	0,
	0,
	0x00af9b000000ffffull, /* 0x10: 64-bit code */
	0x00cf93000000ffffull, /* 0x18: data */
};

BUILD_ASSERT(LINUX_BOOT_CS == 2 * 8 && LINUX_BOOT_DS == 3 * 8);

/* What the setup header says, checked. */
struct bz_hdr {
	uint64_t hdr_end;        /* the header is [HDR_START, hdr_end) */
	uint64_t pm_off, pm_len; /* the protected-mode kernel in the file */
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t kernel_alignment;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint16_t xloadflags;
	bool relocatable;
};

/* Where things go in guest RAM. */
struct bz_layout {
	uint64_t load;           /* the protected-mode kernel */
	uint64_t initrd_gpa, initrd_len;
	uint64_t acpi_rsdp;
	const void *initrd;
};

bool loader_is_bzimage(const void *image, size_t len)
{
	const uint8_t *p = image;
	uint16_t flag;
	uint32_t magic;

	if (!image || len < HDR_MAGIC + sizeof(magic))
		return false;
	memcpy(&flag, p + HDR_BOOT_FLAG, sizeof(flag));
	memcpy(&magic, p + HDR_MAGIC, sizeof(magic));
	return flag == BOOT_FLAG && magic == HDRS_MAGIC;
}

static uint8_t img_read8(const struct loader_ctx *c, uint64_t off)
{
	ASSERT(off < c->len);
	return c->img[off];
}

static unsigned long long mib_up(uint64_t n)
{
	return (unsigned long long)((n >> 20) + ((n & (MIB(1) - 1)) != 0));
}

/* The magic, the protocol version and the header's own length. */
static int bz_check_magic(const struct loader_ctx *c, struct bz_hdr *h)
{
	uint16_t version;

	if (!loader_is_bzimage(c->img, c->len)) {
		pr_err("loader: %s: not a Linux kernel (no boot_flag 0xAA55 and \"HdrS\" at 0x1fe)\n",
		       c->name);
		return -ENOEXEC;
	}
	if (c->len < HDR_END_MIN) {
		pr_err("loader: %s: truncated: the image is 0x%llx bytes, too short for a setup header\n",
		       c->name, (unsigned long long)c->len);
		return -ENOEXEC;
	}
	version = img_read16(c, HDR_VERSION);
	if (version < PROTOCOL_MIN) {
		pr_err("loader: %s: boot protocol %u.%02u is older than 2.12, the first with a 64-bit entry point\n",
		       c->name, version >> 8, version & 0xffu);
		return -ENOEXEC;
	}
	h->hdr_end = 0x202u + img_read8(c, HDR_JUMP_LEN);
	if (h->hdr_end < HDR_END_MIN || h->hdr_end > HDR_END_MAX) {
		pr_err("loader: %s: setup header ends at 0x%llx, outside [0x%x, 0x%x] (byte 0x201)\n",
		       c->name, (unsigned long long)h->hdr_end, HDR_END_MIN, HDR_END_MAX);
		return -ENOEXEC;
	}
	if (c->len < h->hdr_end) {
		pr_err("loader: %s: truncated: the image is 0x%llx bytes, the setup header ends at 0x%llx\n",
		       c->name, (unsigned long long)c->len, (unsigned long long)h->hdr_end);
		return -ENOEXEC;
	}
	return 0;
}

/* setup_sects and syssize: where the protected-mode kernel lies in the file. */
static int bz_check_extent(const struct loader_ctx *c, struct bz_hdr *h)
{
	uint8_t sects = img_read8(c, HDR_START);

	h->pm_off = ((uint64_t)(sects ? sects : 4) + 1) * SECTOR;
	h->pm_len = (uint64_t)img_read32(c, HDR_SYSSIZE) * PARAGRAPH;
	if (c->len < h->pm_off) {
		pr_err("loader: %s: truncated: the setup code ends at 0x%llx but the image is 0x%llx bytes\n",
		       c->name, (unsigned long long)h->pm_off, (unsigned long long)c->len);
		return -ENOEXEC;
	}
	if (h->pm_len == 0) {
		pr_err("loader: %s: syssize is 0: no protected-mode kernel\n", c->name);
		return -ENOEXEC;
	}
	if (h->pm_len > c->len - h->pm_off) {
		pr_err("loader: %s: truncated: the protected-mode kernel is 0x%llx bytes (syssize) but only 0x%llx follow the setup code\n",
		       c->name, (unsigned long long)h->pm_len,
		       (unsigned long long)(c->len - h->pm_off));
		return -ENOEXEC;
	}
	return 0;
}

/* loadflags, xloadflags, alignment and init_size. */
static int bz_check_kernel(const struct loader_ctx *c, struct bz_hdr *h)
{
	h->xloadflags = img_read16(c, HDR_XLOADFLAGS);
	h->relocatable = img_read8(c, HDR_RELOCATABLE) != 0;
	h->kernel_alignment = img_read32(c, HDR_KERNEL_ALIGNMENT);
	h->pref_address = img_read64(c, HDR_PREF_ADDRESS);
	h->init_size = img_read32(c, HDR_INIT_SIZE);
	h->initrd_addr_max = img_read32(c, HDR_INITRD_ADDR_MAX);
	h->cmdline_size = img_read32(c, HDR_CMDLINE_SIZE);
	if (!(img_read8(c, HDR_LOADFLAGS) & LOADED_HIGH)) {
		pr_err("loader: %s: not a bzImage (loadflags LOADED_HIGH clear)\n", c->name);
		return -ENOEXEC;
	}
	if (!(h->xloadflags & XLF_KERNEL_64)) {
		pr_err("loader: %s: no 64-bit entry point (xloadflags XLF_KERNEL_64 clear)\n", c->name);
		return -ENOEXEC;
	}
	if (h->relocatable && (h->kernel_alignment == 0 ||
			       (h->kernel_alignment & (h->kernel_alignment - 1)))) {
		pr_err("loader: %s: kernel_alignment 0x%x is not a power of two\n",
		       c->name, h->kernel_alignment);
		return -ENOEXEC;
	}
	if (h->init_size < h->pm_len) {
		pr_err("loader: %s: init_size 0x%x is smaller than the protected-mode kernel (0x%llx bytes)\n",
		       c->name, h->init_size, (unsigned long long)h->pm_len);
		return -ENOEXEC;
	}
	return 0;
}

static int bz_check_cmdline(const struct loader_ctx *c, const struct bz_hdr *h)
{
	uint32_t max = MIN(h->cmdline_size, LINUX_CMDLINE_MAX - 1);

	if (c->cmdline_len > max) {
		pr_err("loader: %s: command line is %u bytes, the kernel takes at most %u (cmdline_size)\n",
		       c->name, c->cmdline_len, max);
		return -E2BIG;
	}
	return 0;
}

static int bz_read_header(const struct loader_ctx *c, struct bz_hdr *h)
{
	int err = bz_check_magic(c, h);

	if (!err)
		err = bz_check_extent(c, h);
	if (!err)
		err = bz_check_kernel(c, h);
	if (!err)
		err = bz_check_cmdline(c, h);
	return err;
}

/* Would the kernel's init_size range at @load be in RAM and in reach? */
static bool bz_fits_at(const struct loader_ctx *c, const struct bz_hdr *h, uint64_t load)
{
	return load >= MIB(1) && !range_overflows(load, h->init_size) &&
	       load + h->init_size <= MIN(c->mem->size, c->limit);
}

/*
 * boot.rst, pref_address: a relocatable kernel should go there if
 * possible, a non-relocatable one must. The kernel runs at its load
 * address rounded up to kernel_alignment, so a fallback is aligned.
 */
static int bz_place_kernel(const struct loader_ctx *c, const struct bz_hdr *h, uint64_t *load)
{
	uint64_t pref = h->pref_address;
	bool aligned = !h->relocatable || IS_ALIGNED(pref, (uint64_t)h->kernel_alignment);

	if (!h->relocatable && pref < MIB(1)) {
		pr_err("loader: %s: pref_address 0x%llx of a non-relocatable kernel lies below 1 MiB\n",
		       c->name, (unsigned long long)pref);
		return -ENOEXEC;
	}
	*load = pref;
	if (!(aligned && bz_fits_at(c, h, pref)) && h->relocatable)
		*load = ALIGN_UP(FALLBACK_LOAD, (uint64_t)h->kernel_alignment);
	if (range_overflows(*load, h->init_size) || *load + h->init_size > c->limit) {
		pr_err("loader: %s: kernel [0x%llx, +init_size 0x%x) ends above %s\n",
		       c->name, (unsigned long long)*load, h->init_size, c->limit_why);
		return -ENOEXEC;
	}
	if (*load + h->init_size > c->mem->size) {
		pr_err("loader: %s: kernel needs %llu MiB of RAM (at 0x%llx with init_size 0x%x) but the VM has %llu MiB\n",
		       c->name, mib_up(*load + h->init_size), (unsigned long long)*load,
		       h->init_size, mib_up(c->mem->size));
		return -ENOMEM;
	}
	return loader_check_range(c, "kernel", *load, h->init_size);
}

/* The highest page-aligned start for @len bytes ending at or below @top, if >= @low. */
static bool initrd_slot(uint64_t low, uint64_t top, uint64_t len, uint64_t *gpa)
{
	if (top < len || ALIGN_DOWN(top - len, PAGE_SIZE) < low)
		return false;
	*gpa = ALIGN_DOWN(top - len, PAGE_SIZE);
	return true;
}

/*
 * Near the top of RAM, page aligned, above the kernel's init_size range
 * and with its last byte at or below initrd_addr_max. A kernel that says
 * XLF_CAN_BE_LOADED_ABOVE_4G may get it above 4 GiB when it does not fit
 * below initrd_addr_max.
 */
static int bz_place_initrd(const struct loader_ctx *c, const struct bz_hdr *h,
			   struct bz_layout *l)
{
	uint64_t low = l->load + h->init_size;
	uint64_t top = MIN(c->mem->size, (uint64_t)h->initrd_addr_max + 1);

	if (!l->initrd_len)
		return 0;
	if (!initrd_slot(low, top, l->initrd_len, &l->initrd_gpa) &&
	    !((h->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) &&
	      initrd_slot(MAX(low, GIB(4)), MIN(c->mem->size, LONG64_LIMIT),
			  l->initrd_len, &l->initrd_gpa))) {
		pr_err("loader: %s: initrd of %llu KiB does not fit between the kernel's end 0x%llx and 0x%llx (end of RAM or initrd_addr_max)\n",
		       c->name, (unsigned long long)((l->initrd_len + 1023) >> 10),
		       (unsigned long long)low, (unsigned long long)top);
		return -ENOMEM;
	}
	return loader_check_range(c, "initrd", l->initrd_gpa, l->initrd_len);
}

static void zp_write8(const struct loader_ctx *c, uint32_t off, uint8_t v)
{
	loader_write(c, LINUX_ZERO_PAGE_GPA + off, &v, sizeof(v));
}

static void zp_write32(const struct loader_ctx *c, uint32_t off, uint32_t v)
{
	loader_write(c, LINUX_ZERO_PAGE_GPA + off, &v, sizeof(v));
}

static void zp_write64(const struct loader_ctx *c, uint32_t off, uint64_t v)
{
	loader_write(c, LINUX_ZERO_PAGE_GPA + off, &v, sizeof(v));
}

static void e820_add(struct e820_entry *map, unsigned *n, uint64_t base, uint64_t end,
		     uint32_t type)
{
	ASSERT(*n < E820_MAX);
	if (end > base)
		map[(*n)++] = (struct e820_entry){ base, end - base, type };
}

/*
 * Exactly the VM's RAM: conventional memory, the EBDA-to-640K hole and
 * the BIOS area where the ACPI RSDP lives reserved, [640K, 0xe0000) a
 * hole (VGA and option ROMs on a PC), the rest from 1 MiB usable. Then
 * the caller's reserved window above RAM: the PCI ECAM, which Linux uses
 * only when the firmware reserves it (PCI Firmware 3.2 4.1.2, note on
 * MCFG resources; Linux checks E820 when ACPI has no motherboard
 * resource for it).
 */
static void bz_write_e820(const struct loader_ctx *c)
{
	struct e820_entry map[E820_MAX];
	uint64_t ram = c->mem->size;
	unsigned n = 0;

	e820_add(map, &n, 0, MIN(ram, (uint64_t)LOADER_EBDA_GPA), E820_RAM);
	e820_add(map, &n, LOADER_EBDA_GPA, MIN(ram, (uint64_t)KIB(LOADER_LOW_KIB)), E820_RESERVED);
	e820_add(map, &n, BIOS_AREA_GPA, MIN(ram, MIB(1)), E820_RESERVED);
	e820_add(map, &n, MIB(1), ram, E820_RAM);
	if (c->args->reserved_size)
		e820_add(map, &n, c->args->reserved_gpa,
			 c->args->reserved_gpa + c->args->reserved_size, E820_RESERVED);
	loader_write(c, LINUX_ZERO_PAGE_GPA + BP_E820_TABLE, map, n * sizeof(map[0]));
	zp_write8(c, BP_E820_ENTRIES, (uint8_t)n);
}

/*
 * boot.rst, 64-bit Boot Protocol: the setup header copied from the image,
 * then the fields a boot loader writes. setup_data is cleared: we pass
 * none, and the kernel must not follow a pointer the image carried.
 */
static void bz_write_zero_page(const struct loader_ctx *c, const struct bz_hdr *h,
			       const struct bz_layout *l)
{
	loader_write(c, LINUX_ZERO_PAGE_GPA + HDR_START, c->img + HDR_START,
		     h->hdr_end - HDR_START);
	zp_write8(c, HDR_TYPE_OF_LOADER, TYPE_OF_LOADER_UNDEFINED);
	if (l->load < GIB(4))
		zp_write32(c, HDR_CODE32_START, (uint32_t)l->load);
	zp_write32(c, HDR_CMD_LINE_PTR, LINUX_CMDLINE_GPA);
	zp_write32(c, BP_EXT_CMD_LINE_PTR, 0);
	zp_write32(c, HDR_RAMDISK_IMAGE, (uint32_t)l->initrd_gpa);
	zp_write32(c, BP_EXT_RAMDISK_IMAGE, (uint32_t)(l->initrd_gpa >> 32));
	zp_write32(c, HDR_RAMDISK_SIZE, (uint32_t)l->initrd_len);
	zp_write32(c, BP_EXT_RAMDISK_SIZE, (uint32_t)(l->initrd_len >> 32));
	zp_write64(c, HDR_SETUP_DATA, 0);
	zp_write64(c, BP_ACPI_RSDP_ADDR, l->acpi_rsdp);
	bz_write_e820(c);
}

static void bz_write(const struct loader_ctx *c, const struct bz_hdr *h,
		     const struct bz_layout *l)
{
	loader_copy(c, l->load, h->pm_off, h->pm_len, h->pm_len);
	if (l->initrd_len)
		loader_write(c, l->initrd_gpa, l->initrd, l->initrd_len);
	loader_write_boot_area(c);
	loader_write_identity_tables(c);
	loader_write(c, LINUX_GDT_GPA, linux_gdt, sizeof(linux_gdt));
	loader_write(c, LINUX_CMDLINE_GPA, c->cmdline, c->cmdline_len + 1u);
	bz_write_zero_page(c, h, l);
}

static void bz_enter(struct guest_entry *e, const struct bz_layout *l)
{
	*e = (struct guest_entry){
		.mode = GUEST_BOOT_LONG64,
		.rip = l->load + ENTRY_64_OFFSET,
		.rsi = LINUX_ZERO_PAGE_GPA,
		.cr3 = BOOT_PML4_GPA,
		.gdt_base = LINUX_GDT_GPA,
		.gdt_limit = sizeof(linux_gdt) - 1,
		.cs = LINUX_BOOT_CS,
		.ds = LINUX_BOOT_DS,
		.format = "Linux bzImage",
	};
}

static int bz_ctx_init(struct loader_ctx *c, const char *name, const struct guest_load_args *a,
		       struct guest_mem *mem)
{
	*c = (struct loader_ctx){
		.name = name ? name : "(unnamed image)",
		.img = a->image,
		.len = a->image ? a->image_len : 0,
		.mem = mem,
		.args = a,
		.cmdline = a->cmdline ? a->cmdline : "",
		.limit = LONG64_LIMIT,
		.limit_why = "512 GiB, the reach of the boot page tables",
	};
	c->cmdline_len = (uint32_t)strnlen(c->cmdline, LINUX_CMDLINE_MAX);
	if (!mem->hva || mem->size < HV_BOOT_AREA_END) {
		pr_err("loader: %s: guest RAM of 0x%llx bytes does not hold the boot area [0x%x, 0x%x)\n",
		       c->name, (unsigned long long)mem->size, HV_BOOT_AREA, HV_BOOT_AREA_END);
		return -ENOMEM;
	}
	return 0;
}

/* XLF_CAN_BE_LOADED_ABOVE_4G clear: kernel, boot_params, command line and initrd below 4 GiB. */
static void bz_set_limit(struct loader_ctx *c, const struct bz_hdr *h)
{
	if (!(h->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G)) {
		c->limit = GIB(4);
		c->limit_why = "4 GiB (xloadflags XLF_CAN_BE_LOADED_ABOVE_4G clear)";
	}
}

int loader_load_linux(const char *name, const struct guest_load_args *a,
		      const void *initrd, size_t initrd_len, uint64_t acpi_rsdp,
		      struct guest_mem *mem, struct guest_entry *entry)
{
	struct bz_layout l = { .initrd = initrd, .initrd_len = initrd_len,
			       .acpi_rsdp = acpi_rsdp };
	struct loader_ctx c;
	struct bz_hdr h;
	int err;

	ASSERT(a && mem && entry && (initrd || !initrd_len));
	*entry = (struct guest_entry){ .format = "" };
	err = bz_ctx_init(&c, name, a, mem);
	if (!err)
		err = bz_read_header(&c, &h);
	if (err)
		return err;
	ASSERT(acpi_rsdp < mem->size);
	ASSERT(!a->reserved_size || (a->reserved_gpa >= mem->size &&
				     !range_overflows(a->reserved_gpa, a->reserved_size)));
	bz_set_limit(&c, &h);
	err = bz_place_kernel(&c, &h, &l.load);
	if (!err)
		err = bz_place_initrd(&c, &h, &l);
	if (err)
		return err;
	bz_write(&c, &h, &l);
	bz_enter(entry, &l);
	return 0;
}
