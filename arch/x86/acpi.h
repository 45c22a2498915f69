/*
 * ACPI tables the hypervisor needs (ACPI 6.4): RSDP -> XSDT (or RSDT),
 * every table length- and checksum-checked, then MADT, FADT (+ \_S5 from
 * the DSDT), MCFG and DMAR. A table that fails its checks is reported and
 * ignored; the others are still used.
 */
#ifndef ARCH_X86_ACPI_H
#define ARCH_X86_ACPI_H

#include "core/types.h"

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_ISOS 32
#define ACPI_MAX_MCFG 8

/* Generic Address Structure, ACPI 6.4 section 5.2.3.2. */
struct acpi_gas {
	uint8_t space_id; /* 0 = system memory, 1 = system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __packed;

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;
	bool enabled;        /* enabled now; online-capable ones are not */
};

struct acpi_ioapic {
	uint32_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct acpi_iso {             /* interrupt source override */
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
};

struct acpi_mcfg {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
};

struct acpi_info {
	uint8_t revision;          /* RSDP revision */
	char oem_id[7];
	/* MADT */
	bool have_madt;
	uint64_t lapic_addr;
	bool pcat_compat;          /* legacy 8259s present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned ncpus;            /* all entries; check .enabled */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nioapics;
	struct acpi_iso isos[ACPI_MAX_ISOS];
	unsigned nisos;
	/* FADT */
	bool have_fadt;
	uint16_t sci_irq;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint64_t pm1a_cnt, pm1b_cnt;   /* I/O ports; 0 if absent */
	uint64_t pm_tmr;               /* I/O port; 0 if absent */
	bool pm_tmr_32bit;
	bool reset_valid;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	bool hw_reduced;
	/* \_S5 sleep type values from the DSDT, for power-off */
	bool s5_valid;
	uint8_t s5_typa, s5_typb;
	/* MCFG */
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];
	unsigned nmcfg;
	/* DMAR, recorded for iommu/ */
	paddr_t dmar_phys;
	uint32_t dmar_len;
	unsigned dmar_units;       /* DRHD structures counted */
};

/*
 * Parse everything reachable from the RSDP at @rsdp (a copy is fine, as
 * multiboot2 gives). Table memory is reached through acpi_map(). Returns
 * 0 or a negative error when no usable root table exists.
 */
int acpi_parse(const void *rsdp, size_t rsdp_len, struct acpi_info *info);

/* Find an RSDP in the legacy BIOS areas (EBDA, 0xE0000-0xFFFFF). */
const void *acpi_find_rsdp_bios(void);

/* Map @len bytes of table memory at @pa for reading; NULL if impossible. */
const void *acpi_map(paddr_t pa, size_t len);

extern struct acpi_info acpi;

#endif
