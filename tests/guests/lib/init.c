/*
 * What runs before main() in a 64-bit guest: the IDT first (so that any
 * fault from here on is reported), the "<name>: start" line, the boot
 * state check against core/guest_abi.h, the hypercall flavour and the
 * command line.
 */
#include "tests/guests/lib/lib_int.h"

const struct hv_boot_info *guest_boot_info;

static void boot_fail(const char *what, uint64_t got)
{
	printf("%s: FAIL boot state: %s (0x%lx)\n", guest_name, what, (unsigned long)got);
	guest_exit(GUEST_EXIT_BAD_BOOT);
}

void guest_lib_init(uint64_t magic, const struct hv_boot_info *bi)
{
	uint64_t bi_magic;

	guest_idt_init();
	printf("%s: start\n", guest_name);
	if (magic != HV_BOOT_MAGIC)
		boot_fail("RDI is not HV_BOOT_MAGIC", magic);
	/* RSI is the hypervisor's word: read through it with a probe. */
	if (guest_try_read64((uintptr_t)&bi->magic, &bi_magic) != -1)
		boot_fail("RSI does not point at readable boot info", (uintptr_t)bi);
	if (bi_magic != HV_BOOT_MAGIC)
		boot_fail("boot info magic is not HV_BOOT_MAGIC", bi_magic);
	if (bi->mem_size < 0x200000)
		boot_fail("boot info mem_size is below 2 MiB", bi->mem_size);
	guest_boot_info = bi;
	hypercall_init();
	cmdline_init(bi);
}
