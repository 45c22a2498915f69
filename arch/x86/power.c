/*
 * Power-off through the ACPI PM1 control registers with the \_S5 sleep
 * type (ACPI 6.4 4.8.3.2 and 7.4.2), and reset through every mechanism a
 * PC may honour, in order of preference.
 */
#include "arch/x86/power.h"
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "core/printk.h"
#include "mm/hvmap.h"

#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)

/* Firmware that boots in legacy mode wants ACPI_ENABLE written to SMI_CMD
 * before the PM1 registers do anything (ACPI 6.4 4.8.2.1.1 / 16.3.1). */
static void acpi_enable_mode(void)
{
	uint16_t cnt = (uint16_t)acpi.pm1a_cnt;

	if (inw(cnt) & PM1_SCI_EN || !acpi.smi_cmd || !acpi.acpi_enable)
		return;
	outb((uint16_t)acpi.smi_cmd, acpi.acpi_enable);
	for (int i = 0; i < 300 && !(inw(cnt) & PM1_SCI_EN); i++)
		udelay(1000);
}

void power_off(void)
{
	if (!acpi.have_fadt || acpi.hw_reduced || !acpi.pm1a_cnt || !acpi.s5_valid) {
		pr_err("power: cannot power off: %s\n",
		       !acpi.have_fadt ? "no FADT" :
		       acpi.hw_reduced ? "hardware-reduced ACPI is not supported" :
		       !acpi.pm1a_cnt ? "no PM1a control block" : "no \\_S5 object in the DSDT");
		return;
	}
	pr_info("hv: powering off (ACPI S5)\n");
	acpi_enable_mode();
	outw((uint16_t)acpi.pm1a_cnt, (uint16_t)((acpi.s5_typa << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	if (acpi.pm1b_cnt)
		outw((uint16_t)acpi.pm1b_cnt,
		     (uint16_t)((acpi.s5_typb << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	udelay(500000);
	pr_err("power: the machine is still on after the ACPI S5 request\n");
}

/* ACPI 6.4 4.8.3.6: the reset register is I/O, memory or PCI config. */
static void reset_fadt(void)
{
	const struct acpi_gas *r = &acpi.reset_reg;
	volatile uint8_t *mmio;

	if (!acpi.reset_valid)
		return;
	if (r->space_id == 1) {
		outb((uint16_t)r->address, acpi.reset_value);
	} else if (r->space_id == 0 && (mmio = hvmap_mmio(r->address, 1))) {
		*mmio = acpi.reset_value;
	} else if (r->space_id == 2) {
		/* address: device << 32 | function << 16 | offset, bus 0 */
		uint32_t dev = (uint32_t)(r->address >> 32) & 0x1f;
		uint32_t fn = (uint32_t)(r->address >> 16) & 0x7;
		uint32_t off = (uint32_t)r->address & 0xff;

		outl(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (off & 0xfc));
		outb((uint16_t)(0xcfc + (off & 3)), acpi.reset_value);
	}
	udelay(100000);
}

__noreturn void power_reset(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed no_idt = { 0, 0 };

	pr_info("hv: rebooting\n");
	reset_fadt();
	outb(0xcf9, 0x02);          /* 0xCF9 reset control: hard reset */
	udelay(10);
	outb(0xcf9, 0x06);
	udelay(100000);
	for (int i = 0; i < 10000 && (inb(0x64) & 0x02); i++)
		udelay(10);
	outb(0x64, 0xfe);           /* keyboard controller: pulse reset */
	udelay(100000);
	/* Last resort: an empty IDT turns the next exception into a triple fault. */
	asm volatile("lidt %0; int3" ::"m"(no_idt));
	cpu_halt_forever();
}
