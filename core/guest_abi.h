/*
 * What the hypervisor promises a guest: the hypercall ABI, the boot
 * state of ELF64 guests and the I/O ports of the virtual platform.
 * Included by the hypervisor and by the test guests (tests/guests/).
 *
 * Hypercalls: VMCALL (VMMCALL on AMD) from CPL 0 with RAX = number and
 * arguments in RDI, RSI, RDX. The result comes back in RAX: >= 0 on
 * success, a negative errno (core/errno.h values) on failure. Other
 * registers are preserved. From CPL > 0 a hypercall gets #UD.
 */
#ifndef CORE_GUEST_ABI_H
#define CORE_GUEST_ABI_H

#define HV_ABI_VERSION 1

#define HC_VERSION 0        /* () -> HV_ABI_VERSION */
#define HC_CONSOLE_WRITE 1  /* (gpa, len) -> bytes written; len <= 4096 */
#define HC_VM_ID 2          /* () -> this VM's id (0-based, config order) */
#define HC_VM_NAME 3        /* (gpa, size) -> name length; NUL-terminated copy */
#define HC_YIELD 4          /* () -> 0 */
#define HC_SHUTDOWN 5       /* (status) -> does not return */
#define HC_MAX 6

#define HC_CONSOLE_WRITE_MAX 4096

/*
 * ELF64 guests start in 64-bit mode at the ELF entry point with:
 *   RDI = HV_BOOT_MAGIC, RSI = GPA of a struct hv_boot_info,
 *   CR3 = identity page tables covering the first 512 GiB (1 GiB pages),
 *   CS = 0x08 (64-bit code), DS/ES/SS = 0x10, interrupts off,
 *   RSP = 0 (the guest sets its own stack).
 * The hypervisor's boot area (boot info, page tables, GDT) lies in
 * [HV_BOOT_AREA, HV_BOOT_AREA_END); images must not overlap it.
 */
#define HV_BOOT_MAGIC 0x4856424f4f543031ull /* "HVBOOT01" */
#define HV_BOOT_AREA 0x1000u
#define HV_BOOT_AREA_END 0x10000u

#ifndef __ASSEMBLY__
#include <stdint.h>

struct hv_boot_info {
	uint64_t magic;         /* HV_BOOT_MAGIC */
	uint64_t mem_size;      /* guest RAM: [0, mem_size) */
	uint64_t cmdline_gpa;   /* NUL-terminated */
	uint32_t vm_id;
	uint32_t ncpus;
};
#endif

/* Platform ports. */
#define HV_PORT_COM1 0x3f8   /* virtual 16550 (console = uart) */

#endif
