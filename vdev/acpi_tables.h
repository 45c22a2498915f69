/*
 * ACPI tables the hypervisor writes into a Linux VM's memory (ACPI 6.4
 * chapter 5): RSDP, XSDT and RSDT, FADT with FACS and a DSDT holding
 * \_S0, \_S5 and, when the VM has a PCI bus, the PCI root bridge
 * \_SB.PCI0; MADT; and MCFG when the VM has an ECAM window.
 *
 * The constants below are the contract with the device models: the
 * tables promise these ports, values and bits, and the PM1 and reset
 * device models must implement them.
 */
#ifndef VDEV_ACPI_TABLES_H
#define VDEV_ACPI_TABLES_H

#include "core/types.h"

/*
 * Guest-physical region the tables live in; the loader reserves it in the
 * guest's e820 map. The RSDP sits at its start, where a scan of the BIOS
 * area (ACPI 6.4 5.2.5.1) finds it first.
 */
#define ACPI_TABLES_BASE 0xE0000u
#define ACPI_TABLES_END 0x100000u
#define ACPI_TABLES_RSDP ACPI_TABLES_BASE

/*
 * APIC IDs 0..254 fit the xAPIC Processor Local APIC entry; 255 and up
 * would need x2APIC and x2APIC NMI entries (5.2.12.12, 5.2.12.13) and,
 * in the guest, interrupt remapping to be reachable.
 */
#define ACPI_TABLES_MAX_CPUS 255u

/* The SCI is ISA IRQ 9, level-triggered, active-high (MADT override). */
#define ACPI_SCI_IRQ 9u

/* RESET_REG: one byte written to this I/O port (4.8.3.6). */
#define ACPI_RESET_PORT 0xCF9u
#define ACPI_RESET_VALUE 0x06u

/* Block lengths in bytes the FADT gives (5.2.9, 4.8.3). */
#define ACPI_PM1_EVT_LEN 4u     /* PM1_STS (16 bits), then PM1_EN (16 bits) */
#define ACPI_PM1_CNT_LEN 2u
#define ACPI_PM_TMR_LEN 4u

/* PM1_CNT bits (4.8.3.2.1, Table 4.13). */
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

/* SLP_TYP values the DSDT's \_S0 and \_S5 packages hold (7.4.2). */
#define ACPI_SLP_TYP_S0 0u
#define ACPI_SLP_TYP_S5 5u

/* What the tables describe. All addresses are guest-physical. */
struct guest_acpi_desc {
	unsigned ncpus;         /* vCPUs, 1..ACPI_TABLES_MAX_CPUS; APIC ID = index */
	uint8_t ioapic_id;
	uint32_t ioapic_base;   /* MMIO base, usually 0xFEC00000; GSIs start at 0 */
	uint16_t pm1a_evt;      /* I/O port of PM1a_EVT_BLK, ACPI_PM1_EVT_LEN bytes */
	uint16_t pm1a_cnt;      /* I/O port of PM1a_CNT_BLK, ACPI_PM1_CNT_LEN bytes */
	uint16_t pm_tmr;        /* I/O port of PM_TMR_BLK, ACPI_PM_TMR_LEN bytes */
	bool pm_tmr_32;         /* timer counts 32 bits, not 24 (TMR_VAL_EXT) */
	bool has_pic;           /* 8259 pair present (MADT PCAT_COMPAT) */
	bool has_rtc;           /* CMOS RTC at ports 0x70/0x71 */
	uint64_t ecam_base;     /* ECAM address of bus 0 (PCI FW 3.2 4.1.2); 0: no MCFG */
	uint8_t bus_start, bus_end;  /* buses the ECAM window and the root bridge decode */
	bool pci_root;          /* a PCI root bridge \_SB.PCI0 (PNP0A08) for those buses */
	uint32_t pci_mem_base;  /* its memory window for BARs, below 4 GiB... */
	uint32_t pci_mem_size;  /* ...of this many bytes; 0: none */
};

/*
 * Write the tables into guest RAM: @mem is the host mapping of guest
 * physical address 0 and @mem_size its length. Everything goes into
 * [ACPI_TABLES_BASE, ACPI_TABLES_END), which is cleared first. Returns 0;
 * -EINVAL, with guest memory untouched, for a descriptor that cannot be
 * described; or -ENOSPC when the tables do not fit the part of the region
 * the guest's RAM covers, with that part left cleared. The console says
 * what was wrong.
 */
int acpi_tables_build(uint8_t *mem, uint64_t mem_size, const struct guest_acpi_desc *d);

/*
 * AML PkgLength (ACPI 6.4 20.2.4) for a package whose contents after the
 * PkgLength are @body bytes: the encoding counts itself, in 1 to 4 bytes.
 * Writes it to @out and returns its size, or 0 when it cannot be encoded
 * (2^28 bytes or more). Exported for the unit test.
 */
unsigned aml_encode_pkglength(uint32_t body, uint8_t out[4]);

#endif
