/*
 * The VM configuration: a text file handed over as a multiboot2 module
 * and parsed at boot. The format (documented with an example in README.md):
 *
 *   # comment to end of line
 *   [vm NAME]                 one section per VM; NAME: [A-Za-z0-9_-]{1,15}
 *   cpus = 1,2                physical CPU indices, exclusive to this VM
 *   memory = 64M              guest RAM (K/M/G suffix), 2M..3G, a multiple of 2M
 *   kernel = hello.elf        module name of the image (ELF64, multiboot 1/2,
 *                             Linux bzImage)
 *   initrd = initramfs.gz     module name of a Linux initial RAM disk
 *   cmdline = "text"          passed to the kernel (quoted if it has spaces)
 *   console = uart | none     virtual 16550 at COM1 (default uart)
 *   on_crash = stop | restart      what a guest fault does (default stop)
 *   on_poweroff = stop | restart   what a guest shutdown does (default stop)
 *   on_reboot = stop | restart     what a guest reset does (default restart)
 *   debug_exit = 0xf4         I/O port whose write ends the VM with that status
 *                             (it takes four ports, none of the VM's own devices)
 *   virtio_rng = yes | no     a virtio-rng PCI device fed by RDRAND (default no)
 *   virtio_console = yes | no a virtio-console PCI device: the guest's hvc0,
 *                             on the hypervisor console like the UART (default no)
 *   disk = NAME[, readonly]   a virtio-blk disk holding module NAME (the image,
 *                             a multiple of 512 bytes; writable unless readonly);
 *                             a module is the disk of one VM only
 *   disk = empty:SIZE[, readonly]  a zeroed disk of SIZE (K/M/G, a multiple of 512)
 *                             The key repeats: up to 4 disks, vda, vdb, ... in order.
 *
 * Every mistake is reported as "FILE:LINE: message" and marks only that
 * VM as invalid; the other VMs are still returned.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include "core/types.h"

#define CONFIG_MAX_VMS 16
#define CONFIG_NAME_MAX 16      /* including the NUL */
#define CONFIG_MODULE_MAX 64
#define CONFIG_CMDLINE_MAX 256
#define CONFIG_MAX_PCPUS 64
#define CONFIG_MAX_DISKS 4

enum vm_action { VM_ACTION_STOP, VM_ACTION_RESTART };

/* One `disk =` line: a module's image, or an empty disk of @size bytes. */
struct disk_config {
	char module[CONFIG_MODULE_MAX];  /* "" for an empty disk */
	uint64_t size;                   /* empty disk: bytes, a multiple of 512 */
	bool readonly;
	unsigned line;
};

struct vm_config {
	char name[CONFIG_NAME_MAX];
	unsigned line;                   /* line of the [vm ...] header */
	bool valid;                      /* false: a mistake was reported */
	uint64_t cpu_mask;               /* bit n = physical CPU n */
	unsigned cpus_line;
	uint64_t memory;                 /* bytes, multiple of 2 MiB */
	unsigned memory_line;
	char kernel[CONFIG_MODULE_MAX];  /* module name */
	unsigned kernel_line;
	char initrd[CONFIG_MODULE_MAX];  /* module name, "" if none */
	unsigned initrd_line;
	char cmdline[CONFIG_CMDLINE_MAX];
	bool console_uart;
	enum vm_action on_crash;
	enum vm_action on_poweroff;
	enum vm_action on_reboot;
	uint16_t debug_exit_port;        /* 0 = none */
	bool virtio_rng;                 /* a virtio-rng device on the PCI bus */
	bool virtio_console;             /* a virtio-console device on the PCI bus */
	struct disk_config disks[CONFIG_MAX_DISKS];   /* virtio-blk, vda first */
	unsigned ndisks;
};

struct config {
	struct vm_config vms[CONFIG_MAX_VMS];
	unsigned nvms;
	unsigned nerrors;
};

/*
 * Parse @len bytes of @text (not NUL-terminated; may contain anything).
 * @file names the file in messages. Checks what the text alone can tell:
 * syntax, known keys, value ranges, required keys (cpus, memory, kernel),
 * duplicate names, CPUs claimed by two VMs, a disk module named twice or
 * also a kernel or initrd. Resource checks against the
 * machine (CPUs present, free memory, modules present) are the caller's,
 * reported through config_error().
 */
void config_parse(const char *file, const char *text, size_t len, struct config *cfg);

/* Report "FILE:LINE: message" and mark @vm invalid. */
void config_error(const char *file, unsigned line, struct vm_config *vm,
		  const char *fmt, ...) __printf(4, 5);

#endif
