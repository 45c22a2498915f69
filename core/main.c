/*
 * The boot sequence on the boot CPU: console, boot information, memory,
 * ACPI, this CPU's tables, the other CPUs, then the summary line.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/lapic.h"
#include "arch/x86/pic.h"
#include "arch/x86/power.h"
#include "arch/x86/smp.h"
#include "arch/x86/traps.h"
#include "arch/x86/tsc.h"
#include "arch/x86/uart.h"
#include "arch/x86/virt_probe.h"
#include "boot/layout.h"
#include "boot/mb2.h"
#include "core/config.h"
#include "core/console.h"
#include "core/console_input.h"
#include "core/options.h"
#include "core/panic.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/selftest.h"
#include "core/string.h"
#include "iommu/iommu.h"
#include "core/vm.h"
#include "arch/x86/virt.h"
#include "mm/hvmap.h"
#include "mm/mm.h"
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

	if (iommu_units())
		snprintf(iommu, sizeof(iommu), "%u", iommu_units());
	pr_info("hv: ready cpus=%u vmx=%s ept=%s iommu=%s mem_free_mib=%llu svm=%s npt=%s\n",
		ncpus_online, virt_has_vmx() ? "yes" : "no", virt_has_ept() ? "yes" : "no", iommu,
		(unsigned long long)(pmm_free_pages() * PAGE_SIZE >> 20),
		virt_has_svm() ? "yes" : "no", virt_has_npt() ? "yes" : "no");
}

/* Nothing (more) to run: do what on_idle= says. */
static void hv_idle_action(void)
{
	if (hv_opts.on_idle == IDLE_POWEROFF)
		power_off();
	else if (hv_opts.on_idle == IDLE_REBOOT)
		power_reset();
}

void vm_on_all_stopped(void)
{
	pr_info("hv: all VMs have stopped\n");
	hv_idle_action();
}

static const struct boot_module *boot_find_config(const struct boot_info *bi)
{
	size_t n;

	for (unsigned i = 0; i < bi->nmodules; i++) {
		const char *name = bi->modules[i].cmdline;

		n = strlen(name);
		if (hv_opts.config[0] ? !strcmp(name, hv_opts.config)
				      : n > 5 && !strcmp(name + n - 5, ".conf"))
			return &bi->modules[i];
	}
	return NULL;
}

static struct config vm_config;

/* Parse the configuration and create its VMs; returns how many. */
static unsigned boot_create_vms(const struct boot_info *bi)
{
	const struct boot_module *m = boot_find_config(bi);
	unsigned n;

	if (!m) {
		pr_info("hv: no VM configuration module (%s); nothing to run\n",
			hv_opts.config[0] ? hv_opts.config : "*.conf");
		return 0;
	}
	if (!virt) {
		pr_err("hv: VM configuration '%s' found, but no VMs can run on this machine\n",
		       m->cmdline);
		return 0;
	}
	config_parse(m->cmdline, phys_to_virt(m->start), m->end - m->start, &vm_config);
	n = vm_create_all(&vm_config, m->cmdline, bi);
	pr_info("hv: %u of %u configured VM(s) created\n", n, vm_config.nvms);
	return n;
}

static void boot_release_cpus(void)
{
	for (unsigned i = 1; i < ncpus_online; i++) {
		__atomic_store_n(&pcpus[i].go, true, __ATOMIC_RELEASE);
		lapic_send_ipi(pcpus[i].apic_id, lapic_kick_vector());
	}
}

static __noreturn void boot_idle(unsigned nvms)
{
	boot_release_cpus();
	if (pcpus[0].vcpu)
		cpu_run_vcpu();
	if (!nvms)
		hv_idle_action();
	pr_info("hv: cpu0 idle\n");
	cpu_idle();
}

/* TSC at the hypervisor's first C instruction, for `make bench`. */
uint64_t boot_tsc;

__noreturn void boot_main(uint32_t magic, uint32_t mbi_phys)
{
	unsigned nvms;

	boot_tsc = rdtsc();
	boot_cpu_early();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("boot: not started by a multiboot2 loader (magic %#x)", magic);
	/* The banner goes first into the early log, ahead of any complaint. */
	pr_info("hv: hypervisor " HV_VERSION " booting\n");
	mb2_parse((const void *)(uintptr_t)mbi_phys, mbi_phys, &boot_info);
	pr_info("boot: loader '%s', command line '%s'\n", boot_info.loader_name,
		boot_info.cmdline);
	boot_console(&boot_info);
	boot_print_modules(&boot_info);
	boot_save_rsdp(&boot_info);
	boot_memory(&boot_info);
	boot_acpi();
	pic_disable();
	lapic_init();
	if (lapic_kick_init())
		panic("lapic: no interrupt vector left for the vCPU kick");
	pcpus[0].apic_id = lapic_id();
	tsc_calibrate();
	lapic_timer_calibrate();
	virt_probe_this_cpu();
	if (hv_opts.maxcpus)
		smp_set_max_cpus(hv_opts.maxcpus);
	smp_boot(&boot_info);
	virt_probe_report();
	iommu_init();
	virt_select();
	nvms = boot_create_vms(&boot_info);
	console_input_start();
	boot_summary();
	if (hv_opts.selftest)
		selftest_run(hv_opts.selftest, hv_opts.selftest_len);
	iommu_selftest_run();
	boot_idle(nvms);
}
