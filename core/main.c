/*
 * The boot sequence on the boot CPU: console, boot information, memory,
 * ACPI, this CPU's tables, the other CPUs, then the summary line.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/lapic.h"
#include "arch/x86/power.h"
#include "arch/x86/smp.h"
#include "arch/x86/traps.h"
#include "arch/x86/tsc.h"
#include "arch/x86/uart.h"
#include "arch/x86/virt_probe.h"
#include "boot/layout.h"
#include "boot/mb2.h"
#include "core/console.h"
#include "core/options.h"
#include "core/panic.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/selftest.h"
#include "core/string.h"
#include "mm/hvmap.h"
#include "mm/pmm.h"

#define HV_VERSION "0.1.0"

extern char __image_start[], __image_end[], boot_stack[];

static struct boot_info boot_info;
static uint8_t rsdp_copy[64];
static size_t rsdp_len;

__noreturn void boot_main(uint32_t magic, uint32_t mbi_phys);

static void boot_cpu_early(void)
{
	struct pcpu *c = &pcpus[0];

	c->stack_bottom = (uint64_t)(uintptr_t)boot_stack;
	c->stack_top = c->stack_bottom + BOOT_STACK_SIZE;
	idt_init();
	cpu_setup_this(c);
	ncpus_online = 1;
}

static void boot_console(const struct boot_info *bi)
{
	options_parse(bi->cmdline);
	uart_init();
	console_start();
}

/* Remember the RSDP before page 0 (which holds the EBDA pointer) goes. */
static void boot_save_rsdp(const struct boot_info *bi)
{
	const void *rsdp = bi->rsdp;
	size_t len = bi->rsdp_len;

	if (!rsdp) {
		rsdp = acpi_find_rsdp_bios();
		len = 36;
	}
	if (!rsdp)
		return;
	rsdp_len = MIN(len, sizeof(rsdp_copy));
	memcpy(rsdp_copy, rsdp, rsdp_len);
}

static unsigned boot_reserved(const struct boot_info *bi, struct phys_range *r, unsigned max)
{
	unsigned n = 0;

	r[n++] = (struct phys_range){ (uint64_t)(uintptr_t)__image_start,
				      (uint64_t)(__image_end - __image_start) };
	r[n++] = (struct phys_range){ bi->mbi_phys, bi->mbi_size };
	for (unsigned i = 0; i < bi->nmodules && n < max; i++)
		r[n++] = (struct phys_range){ bi->modules[i].start,
					      bi->modules[i].end - bi->modules[i].start };
	return n;
}

static void boot_memory(const struct boot_info *bi)
{
	struct phys_range reserved[2 + MB2_MAX_MODULES];
	unsigned n = boot_reserved(bi, reserved, ARRAY_SIZE(reserved));

	if (pmm_init(bi->mem, bi->nmem, reserved, n))
		panic("mm: no usable memory for the frame allocator");
	if (hvmap_init(bi))
		panic("mm: cannot switch to the hypervisor page tables");
	/* The TSS is read at each exception: filling it in now is enough. */
	if (cpu_alloc_stacks(&pcpus[0]))
		panic("mm: no memory for the boot CPU's exception stacks");
}

static void boot_acpi(void)
{
	if (!rsdp_len) {
		pr_warn("acpi: no RSDP from the boot loader or the BIOS areas; "
			"running on the boot CPU only, without power-off\n");
		return;
	}
	if (acpi_parse(rsdp_copy, rsdp_len, &acpi))
		pr_warn("acpi: tables unusable; running on the boot CPU only\n");
}

static void boot_print_modules(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->nmodules; i++) {
		const struct boot_module *m = &bi->modules[i];

		pr_info("boot: module %u '%s' at %#llx, %llu bytes\n", i + 1, m->cmdline,
			(unsigned long long)m->start, (unsigned long long)(m->end - m->start));
	}
}

static void boot_summary(void)
{
	char iommu[16] = "none";

	if (acpi.dmar_units)
		snprintf(iommu, sizeof(iommu), "%u", acpi.dmar_units);
	pr_info("hv: ready cpus=%u vmx=%s ept=%s iommu=%s mem_free_mib=%llu\n", ncpus_online,
		virt_has_vmx() ? "yes" : "no", virt_has_ept() ? "yes" : "no", iommu,
		(unsigned long long)(pmm_free_pages() * PAGE_SIZE >> 20));
}

static __noreturn void boot_idle(void)
{
	if (hv_opts.on_idle == IDLE_POWEROFF)
		power_off();
	else if (hv_opts.on_idle == IDLE_REBOOT)
		power_reset();
	pr_info("hv: nothing to run; cpu0 halted\n");
	cpu_idle();
}

__noreturn void boot_main(uint32_t magic, uint32_t mbi_phys)
{
	boot_cpu_early();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("boot: not started by a multiboot2 loader (magic %#x)", magic);
	mb2_parse((const void *)(uintptr_t)mbi_phys, mbi_phys, &boot_info);
	boot_console(&boot_info);
	pr_info("hv: hypervisor " HV_VERSION " booting (loader '%s', cmdline '%s')\n",
		boot_info.loader_name, boot_info.cmdline);
	boot_print_modules(&boot_info);
	boot_save_rsdp(&boot_info);
	boot_memory(&boot_info);
	boot_acpi();
	lapic_init();
	pcpus[0].apic_id = lapic_id();
	tsc_calibrate();
	virt_probe_this_cpu();
	if (hv_opts.maxcpus)
		smp_set_max_cpus(hv_opts.maxcpus);
	smp_boot(&boot_info);
	virt_probe_report();
	boot_summary();
	if (hv_opts.selftest)
		selftest_run(hv_opts.selftest, hv_opts.selftest_len);
	boot_idle();
}
