/*
 * Starting the other CPUs named in the MADT, one at a time: INIT, then
 * two STARTUPs (SDM Vol. 3A 9.4.4.1), then wait for the CPU to say it is
 * online. A CPU that does not answer is reported and left alone.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/irq.h"
#include "arch/x86/lapic.h"
#include "arch/x86/smp.h"
#include "arch/x86/virt_probe.h"
#include "arch/x86/virt.h"
#include "boot/layout.h"
#include "core/console_input.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/string.h"
#include "mm/hvmap.h"
#include "mm/mm.h"
#include "mm/paging.h"
#include "mm/pmm.h"

extern char trampoline_start[], trampoline_end[];
extern char tramp_cr3[], tramp_stack[], tramp_pcpu[], tramp_entry[];
extern char tramp_gdt_base[], tramp_pm_ptr[], tramp_gdt[], tramp_pm[];
extern char tramp_lm_ptr[], tramp_lm[];

#define AP_START_TIMEOUT_US 200000

static paddr_t tramp_page;
static unsigned int max_cpus = MAX_CPUS;

void smp_set_max_cpus(unsigned int n)
{
	max_cpus = n ? MIN(n, MAX_CPUS) : 1;
}

__noreturn void ap_entry64(struct pcpu *c);

__noreturn void ap_entry64(struct pcpu *c)
{
	cpu_setup_this(c);
	lapic_init();
	virt_probe_this_cpu();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	/* Sleep while cpu0 sets up the VMs (they say which vCPU runs here);
	 * its kick IPI wakes us. STI's one-instruction shadow makes
	 * "sti; hlt" atomic: a kick sent before the HLT still wakes it. */
	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		asm volatile("sti; hlt; cli" ::: "memory");
	if (c->vcpu)
		cpu_run_vcpu();
	cpu_idle();
}

static void tramp_set(char *field, uint64_t v, size_t size)
{
	memcpy((char *)phys_to_virt(tramp_page) + (field - trampoline_start), &v, size);
}

static void tramp_install(const struct boot_info *bi)
{
	(void)bi;
	memcpy(phys_to_virt(tramp_page), trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	tramp_set(tramp_gdt_base, tramp_page + (uint64_t)(tramp_gdt - trampoline_start), 4);
	tramp_set(tramp_pm_ptr, tramp_page + (uint64_t)(tramp_pm - trampoline_start), 4);
	tramp_set(tramp_lm_ptr, tramp_page + (uint64_t)(tramp_lm - trampoline_start), 4);
	tramp_set(tramp_cr3, hvmap_root(), 8);
	tramp_set(tramp_entry, (uint64_t)(uintptr_t)ap_entry64, 8);
}

static bool smp_wait_online(struct pcpu *c)
{
	for (unsigned us = 0; us < AP_START_TIMEOUT_US; us += 10) {
		if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
			return true;
		udelay(10);
	}
	return false;
}

static int smp_start_one(struct pcpu *c)
{
	int err = cpu_alloc_stacks(c);
	paddr_t stack = pmm_alloc(HV_STACK_SIZE / PAGE_SIZE, PAGE_SIZE, 0);

	if (err || !stack)
		return -ENOMEM;
	c->stack_bottom = stack;
	c->stack_top = stack + HV_STACK_SIZE;
	tramp_set(tramp_stack, c->stack_top - HV_STACK_GUEST_REGS, 8);
	tramp_set(tramp_pcpu, (uint64_t)(uintptr_t)c, 8);
	lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		lapic_send_ipi(c->apic_id, ICR_STARTUP | (uint32_t)(tramp_page >> 12));
		udelay(200);
	}
	return smp_wait_online(c) ? 0 : -ETIMEDOUT;
}

/* A page below 1 MiB that the memory map says is free RAM. */
static paddr_t smp_find_tramp_page(const struct boot_info *bi)
{
	for (paddr_t pa = 0x8000; pa < 0x9f000; pa += PAGE_SIZE) {
		for (unsigned i = 0; i < bi->nmem; i++) {
			const struct mem_region *m = &bi->mem[i];

			if (m->type == MEM_AVAILABLE && pa >= m->base &&
			    pa + PAGE_SIZE <= m->base + m->len)
				return pa;
		}
	}
	return 0;
}

static void smp_start_all(void)
{
	unsigned int bsp = pcpus[0].apic_id;

	for (unsigned i = 0; i < acpi.ncpus; i++) {
		const struct acpi_cpu *ac = &acpi.cpus[i];
		struct pcpu *c = &pcpus[ncpus_online];
		int err;

		if (!ac->enabled || ac->apic_id == bsp)
			continue;
		if (ncpus_online >= max_cpus) {
			pr_info("smp: cpu with APIC id %u not started (limit %u)\n",
				ac->apic_id, max_cpus);
			continue;
		}
		c->id = ncpus_online;
		c->apic_id = ac->apic_id;
		err = smp_start_one(c);
		if (err) {
			pr_err("smp: CPU with APIC id %u did not start (%d); going on without it\n",
			       ac->apic_id, err);
			continue;
		}
		ncpus_online++;
	}
}

void smp_boot(const struct boot_info *bi)
{
	tramp_page = smp_find_tramp_page(bi);
	if (!tramp_page) {
		pr_err("smp: no free page below 1 MiB for the start-up code; only cpu0 runs\n");
		return;
	}
	tramp_install(bi);
	/* The start-up code runs from this page with paging on: executable
	 * (and writable, for the per-CPU fields) only while CPUs start. */
	if (hvmap_protect(tramp_page, PAGE_SIZE, PT_R | PT_W | PT_X)) {
		pr_err("smp: cannot map the start-up page; only cpu0 runs\n");
		return;
	}
	smp_start_all();
	hvmap_protect(tramp_page, PAGE_SIZE, PT_R | PT_W);
	pr_info("smp: %u of %u enabled CPUs online\n", ncpus_online, smp_enabled_count());
}

unsigned int smp_enabled_count(void)
{
	unsigned int n = 0;

	for (unsigned i = 0; i < acpi.ncpus; i++)
		n += acpi.cpus[i].enabled;
	return n ? n : 1;
}

/* Enter this CPU's vCPU; only a VM that fails to start comes back. */
/* The SIPI's kick IPI, or the NMI of a VM stop or restart, wakes this CPU. */
void cpu_wait_for_sipi(struct vcpu *v)
{
	while (!__atomic_load_n(&v->sipi_ready, __ATOMIC_ACQUIRE)) {
		if (vm_wants_park(v))
			vm_park(v);
		asm volatile("sti; hlt; cli" ::: "memory");
	}
}

void cpu_run_vcpu(void)
{
	struct vcpu *v = this_cpu()->vcpu;
	int err = virt->cpu_enable();

	if (err) {
		pr_err("cpu%u: cannot enable %s (%d); its VM cannot run\n", this_cpu_id(),
		       virt->name, err);
		return;
	}
	if (v->idx)
		cpu_wait_for_sipi(v);
	console_input_check(v);   /* the console focus VM's CPU starts polling */
	if (!v->idx)
		pr_info("vm %s: entering the guest %llu TSC ticks after hypervisor entry "
			"(TSC %llu)\n", v->vm->name, (unsigned long long)(rdtsc() - boot_tsc),
			(unsigned long long)rdtsc());
	virt->vcpu_run(v);
}

__noreturn void cpu_idle(void)
{
	/* The boot CPU serves device interrupts (IOMMU faults) while idle. */
	if (this_cpu_id() == 0 && irq_is_idle_enabled())
		irq_idle();
	/* Nothing to run yet: halt with interrupts off; NMI still wakes us. */
	cpu_halt_forever();
}
