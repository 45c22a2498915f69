/*
 * Linux bzImage guests, started through the 64-bit boot protocol of
 * Documentation/arch/x86/boot.rst (protocol 2.12 or later, XLF_KERNEL_64).
 *
 * The loader writes, inside the boot area [HV_BOOT_AREA, HV_BOOT_AREA_END):
 *   0x1000  PML4 and 0x2000 PDPT: the first 512 GiB identity mapped with
 *           1 GiB pages (the same tables ELF64 guests get)
 *   0x8000  struct boot_params, the "zero page" (4 KiB)
 *   0x9000  the command line, NUL-terminated (at most 4 KiB)
 *   0xa000  a GDT with __BOOT_CS = 0x10 (64-bit code) and __BOOT_DS = 0x18
 * and in guest RAM the protected-mode kernel at pref_address (usually
 * 16 MiB) and the initrd at the top of RAM below initrd_addr_max.
 */
#ifndef CORE_LOADER_LINUX_H
#define CORE_LOADER_LINUX_H

#include "core/loader.h"
#include "core/types.h"

#define LINUX_ZERO_PAGE_GPA 0x8000u
#define LINUX_CMDLINE_GPA 0x9000u
#define LINUX_CMDLINE_MAX 4096u  /* the buffer, NUL included */
#define LINUX_GDT_GPA 0xa000u
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

/* Is @image a Linux kernel with a boot protocol header (0xAA55, "HdrS")? */
bool loader_is_bzimage(const void *image, size_t len);

/*
 * Load the bzImage @a->image into @mem (already zeroed) with the command
 * line @a->cmdline and the initrd [@initrd, @initrd + @initrd_len) (none
 * if @initrd_len is 0), and fill @entry for the 64-bit entry point.
 * @acpi_rsdp is the GPA of the ACPI RSDP the hypervisor wrote, 0 if none;
 * it goes to boot_params.acpi_rsdp_addr.
 *
 * Returns 0, or -ENOEXEC (not a usable bzImage), -ENOMEM (kernel or
 * initrd do not fit in guest RAM) or -E2BIG (command line too long),
 * after printing what is wrong ("loader: vmlinuz: ..."). A refused load
 * leaves guest RAM untouched. @name names the image in messages.
 */
int loader_load_linux(const char *name, const struct guest_load_args *a,
		      const void *initrd, size_t initrd_len, uint64_t acpi_rsdp,
		      struct guest_mem *mem, struct guest_entry *entry);

#endif
