/*
 * Guest image loading: ELF64 images entered in 64-bit mode, and
 * multiboot kernels (version 1 and 2) entered in 32-bit protected mode
 * with the machine state and boot information their specifications
 * promise. The image is hostile input: every header, offset and size is
 * checked against the image and against guest RAM.
 */
#ifndef CORE_LOADER_H
#define CORE_LOADER_H

#include "core/types.h"

/* Guest RAM as the loader sees it: GPA [0, size) at host address @hva. */
struct guest_mem {
	uint8_t *hva;
	uint64_t size;
};

enum guest_boot_mode {
	GUEST_BOOT_LONG64,   /* ELF64: 64-bit mode, paging on */
	GUEST_BOOT_PROT32,   /* multiboot: 32-bit protected mode, paging off */
	GUEST_BOOT_REAL16,   /* a secondary vCPU after SIPI: real mode at CS:0 */
};

/* The vCPU state at the first guest instruction. */
struct guest_entry {
	enum guest_boot_mode mode;
	uint64_t rip;
	uint64_t rax, rbx, rdi, rsi;
	uint64_t cr3;          /* LONG64: the identity tables the loader built */
	uint64_t gdt_base;     /* GDT the loader wrote into guest RAM */
	uint16_t gdt_limit;
	uint16_t cs, ds;       /* selectors into that GDT */
	const char *format;    /* "ELF64", "multiboot", "multiboot2" */
};

struct guest_load_args {
	const void *image;
	size_t image_len;
	const char *cmdline;   /* "" if none */
	uint32_t vm_id;
	uint32_t ncpus;
	/* Linux: a device window outside RAM that the e820 map marks reserved
	 * (the PCI ECAM, which Linux accepts only so); size 0: none. */
	uint64_t reserved_gpa, reserved_size;
};

/*
 * Load @a->image into @mem (already zeroed) and fill @entry. Returns 0,
 * or a negative error after printing what is wrong with the image
 * ("loader: hello.elf: program header 2 lies outside guest RAM").
 * @name names the image in messages.
 */
int loader_load(const char *name, const struct guest_load_args *a,
		struct guest_mem *mem, struct guest_entry *entry);

#endif
