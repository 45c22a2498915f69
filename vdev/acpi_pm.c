/*
 * The VM's ACPI platform: the tables written into its RAM at
 * [0xE0000, 0x100000) (vdev/acpi_tables.c), the PM1 event and control
 * blocks and the PM timer they describe (ACPI 6.4 4.8.3), and the reset
 * register at 0xCF9 (reached through the PCI ports, vdev/vpci.c). A
 * guest's "poweroff" writes SLP_TYP=S5 with SLP_EN and powers the VM
 * off; its "reboot" writes the reset value and the VM restarts. ACPI is
 * always enabled: SCI_EN reads as set.
 */
#include "arch/x86/cpu.h"
#include "core/unit.h"
#include "core/vm.h"
#include "core/printk.h"
#include "mm/mm.h"
#include "vdev/acpi_pm.h"
#include "vdev/acpi_tables.h"
#include "vdev/vpci.h"

#define PM1_EVT 0x600
#define PM1_CNT 0x604
#define PM_TMR 0x608
#define PM_TIMER_HZ 3579545u
#define IOAPIC_BASE 0xfec00000u

struct acpi_pm {
	uint16_t sts, en, cnt;
};

static struct acpi_pm pms[CONFIG_MAX_VMS];

/* The PM timer counts at 3.579545 MHz; derive it from the TSC. */
static uint32_t pm_timer_now(void)
{
	unsigned __int128 t = (unsigned __int128)rdtsc() * PM_TIMER_HZ;
	uint64_t khz = tsc_khz_get();

	return khz ? (uint32_t)(t / ((unsigned __int128)khz * 1000)) : 0;
}

static void pm1_cnt_write(struct vcpu *vcpu, struct acpi_pm *pm, uint16_t v)
{
	pm->cnt = (uint16_t)((v & ~ACPI_PM1_CNT_SLP_EN) | ACPI_PM1_CNT_SCI_EN);
	if (!(v & ACPI_PM1_CNT_SLP_EN))
		return;
	if (((v & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT) == ACPI_SLP_TYP_S5)
		vm_poweroff(vcpu, 0, "ACPI power-off (S5)");
	pr_warn("vm %s: sleep state %u requested; only S5 (off) is supported\n",
		vcpu->vm->name, (v & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT);
}

static enum io_result acpi_pm_io(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				 void *opaque)
{
	struct acpi_pm *pm = opaque;
	uint64_t port = PM1_EVT + off;

	if (port == PM_TMR) {
		a->value = a->write ? a->value : pm_timer_now();
		return IO_HANDLED;
	}
	if (!a->write) {
		a->value = port == PM1_CNT ? pm->cnt : port == PM1_EVT + 2 ? pm->en : pm->sts;
		return IO_HANDLED;
	}
	if (port == PM1_EVT)
		pm->sts &= (uint16_t)~a->value;          /* write one to clear */
	else if (port == PM1_EVT + 2)
		pm->en = (uint16_t)a->value;
	else if (port == PM1_CNT)
		pm1_cnt_write(vcpu, pm, (uint16_t)a->value);
	return IO_HANDLED;
}

/*
 * Reset control register 0xCF9: bit 2 starts the reset (ICH9 datasheet
 * 13.7.5). The PCI bus owns ports 0xCF8-0xCFF and passes its byte here.
 */
enum io_result acpi_pm_reset_io(struct vcpu *vcpu, struct io_access *a)
{
	if (!a->write) {
		a->value = 0;
		return IO_HANDLED;
	}
	if (a->value & 4)
		vm_reboot(vcpu, "reset through port 0xcf9");
	return IO_HANDLED;
}

static int acpi_pm_tables(struct vm *vm)
{
	struct guest_acpi_desc d = {
		.ncpus = vm->nvcpus, .ioapic_id = 0, .ioapic_base = IOAPIC_BASE,
		.pm1a_evt = PM1_EVT, .pm1a_cnt = PM1_CNT, .pm_tmr = PM_TMR, .pm_tmr_32 = true,
		.ecam_base = vpci_ecam_base(vm), .bus_start = 0, .bus_end = 0,
		.pci_root = true,
		.pci_mem_base = vpci_has_hole(vm) ? (uint32_t)VPCI_MMIO_BASE : 0,
		.pci_mem_size = vpci_has_hole(vm) ? (uint32_t)VPCI_MMIO_SIZE : 0,
	};

	return acpi_tables_build(phys_to_virt(vm->ram_hpa), vm->ram_size, &d);
}

static void acpi_pm_reset(struct vm *vm)
{
	pms[vm->id] = (struct acpi_pm){ .cnt = ACPI_PM1_CNT_SCI_EN };
	if (acpi_pm_tables(vm))
		pr_err("vm %s: cannot write its ACPI tables\n", vm->name);
}

static int acpi_pm_vm_create(struct vm *vm)
{
	int err;

	pms[vm->id] = (struct acpi_pm){ .cnt = ACPI_PM1_CNT_SCI_EN };
	err = acpi_pm_tables(vm);
	return err ?: io_register(&vm->pio, PM1_EVT, 12, acpi_pm_io, &pms[vm->id]);
}

DEFINE_UNIT(acpi_pm, .vm_create = acpi_pm_vm_create, .vm_reset = acpi_pm_reset);
