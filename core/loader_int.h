/*
 * Shared between the loader's files (core/loader*.c) and nobody else:
 * the image being loaded, bounded reads from it, bounded writes into
 * guest RAM, the layout of the boot area and the steps each format
 * borrows from the others.
 */
#ifndef CORE_LOADER_INT_H
#define CORE_LOADER_INT_H

#include "core/assert.h"
#include "core/guest_abi.h"
#include "core/loader.h"
#include "core/string.h"
#include "core/types.h"

/*
 * The boot area [HV_BOOT_AREA, HV_BOOT_AREA_END) as the loader fills it.
 * No loaded range may overlap the area, so none of this can be
 * overwritten by the image, whatever order things are written in.
 */
#define BOOT_PML4_GPA 0x1000u    /* LONG64: one PML4 page */
#define BOOT_PDPT_GPA 0x2000u    /* LONG64: one PDPT page */
#define BOOT_GDT_GPA 0x3000u     /* every mode */
#define BOOT_INFO_GPA 0x3100u    /* LONG64: struct hv_boot_info */
#define BOOT_CMDLINE_GPA 0x4000u /* LONG64 and multiboot 1: the copy */
#define BOOT_MBI_GPA 0x5000u     /* multiboot 1 or 2 boot information */
#define BOOT_MBI_END 0x8000u

/* Command lines are copied whole, NUL included, or refused. */
#define LOADER_CMDLINE_MAX 4096u

BUILD_ASSERT(BOOT_PML4_GPA >= HV_BOOT_AREA);
BUILD_ASSERT(BOOT_CMDLINE_GPA + LOADER_CMDLINE_MAX <= BOOT_MBI_GPA);
BUILD_ASSERT(BOOT_MBI_END <= HV_BOOT_AREA_END);

/* GDT selectors (SDM Vol. 3A 3.4.2); the same table serves every mode. */
#define LOADER_SEL_CODE64 0x08
#define LOADER_SEL_DATA 0x10
#define LOADER_SEL_CODE32 0x18
#define LOADER_GDT_ENTRIES 4

/* What a multiboot memory map says about guest RAM (both versions). */
#define LOADER_MAP_MAX 3
#define LOADER_EBDA_GPA 0x9fc00u /* [EBDA, 1 MiB) is reported reserved */
#define LOADER_LOW_KIB 640u      /* mem_lower (MB 0.6.96 3.3) */

struct loader_region {
	uint64_t base, len;
	uint32_t type; /* multiboot memory type: 1 available, 2 reserved */
};

struct loader_ctx {
	const char *name;      /* the image, in messages */
	const uint8_t *img;
	uint64_t len;
	struct guest_mem *mem;
	const struct guest_load_args *args;
	const char *cmdline;   /* never NULL */
	uint32_t cmdline_len;  /* below LOADER_CMDLINE_MAX, NUL excluded */
	uint64_t limit;        /* loaded ranges end at or below: what the entry mode reaches */
	const char *limit_why; /* "4 GiB, the reach of 32-bit protected mode" */
};

/*
 * Where a multiboot kernel asked to be loaded when it did not leave it to
 * its ELF headers: the a.out kludge of MB 0.6.96 3.1.3 and the address
 * and entry tags of Multiboot2 3.1.5 and 3.1.6 (the same fields).
 */
struct mb_addr {
	uint64_t header_off;   /* where the multiboot header lies in the image */
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
	bool load_from_start;  /* Multiboot2: load_addr -1, load from offset 0 */
};

/* Reads the caller has bounds-checked against the image. */
static inline uint32_t img_read32(const struct loader_ctx *c, uint64_t off)
{
	uint32_t v;

	ASSERT(off <= c->len && c->len - off >= sizeof(v));
	memcpy(&v, c->img + off, sizeof(v));
	return v;
}

static inline uint16_t img_read16(const struct loader_ctx *c, uint64_t off)
{
	uint16_t v;

	ASSERT(off <= c->len && c->len - off >= sizeof(v));
	memcpy(&v, c->img + off, sizeof(v));
	return v;
}

static inline uint64_t img_read64(const struct loader_ctx *c, uint64_t off)
{
	uint64_t v;

	ASSERT(off <= c->len && c->len - off >= sizeof(v));
	memcpy(&v, c->img + off, sizeof(v));
	return v;
}

/* Multiboot kernels start with paging off: nothing above 4 GiB is reachable. */
static inline void loader_limit_prot32(struct loader_ctx *c)
{
	c->limit = GIB(4);
	c->limit_why = "4 GiB, the reach of 32-bit protected mode";
}

/* loader.c */
int loader_check_range(const struct loader_ctx *c, const char *what,
		       uint64_t gpa, uint64_t size);
void loader_copy(const struct loader_ctx *c, uint64_t gpa, uint64_t off,
		 uint64_t filesz, uint64_t memsz);
void loader_write(const struct loader_ctx *c, uint64_t gpa, const void *src, uint64_t n);
void loader_write_boot_area(const struct loader_ctx *c);
/* PML4 + PDPT at BOOT_PML4_GPA: 1 GiB pages identity-mapping 512 GiB. */
void loader_write_identity_tables(const struct loader_ctx *c);
unsigned loader_mem_map(uint64_t ram, struct loader_region map[LOADER_MAP_MAX]);
void loader_enter_prot32(struct guest_entry *e, uint64_t rip, uint32_t eax,
			 uint32_t ebx, const char *format);

/* loader_elf.c */
bool elf_has_magic(const struct loader_ctx *c);
int elf_load(const struct loader_ctx *c, bool multiboot, const uint32_t *entry_gpa,
	     uint64_t *rip);

/* loader_mb.c */
int mb_load_aout(const struct loader_ctx *c, const struct mb_addr *a, uint64_t *rip);
int mb1_find_header(const struct loader_ctx *c, uint64_t *off);
int mb1_load(struct loader_ctx *c, uint64_t off, struct guest_entry *e);
uint32_t mb_mem_lower_kib(uint64_t ram);
uint32_t mb_mem_upper_kib(uint64_t ram);

/* loader_mb2.c */
int mb2_find_header(const struct loader_ctx *c, uint64_t *off);
int mb2_load(struct loader_ctx *c, uint64_t off, struct guest_entry *e);

#endif
