/*
 * ACPI table layouts shared by the parser of the host's firmware tables
 * (arch/x86/acpi.c) and the builder of a guest's tables
 * (vdev/acpi_tables.c). ACPI 6.4 chapter 5 unless noted; MCFG is from
 * the PCI Firmware Specification 3.2.
 *
 * These are byte images: every structure is packed and its size and the
 * offsets both users rely on are checked at build time.
 */
#ifndef ARCH_X86_ACPI_DEFS_H
#define ARCH_X86_ACPI_DEFS_H

#include "core/assert.h"
#include "core/types.h"
#include "arch/x86/acpi.h"      /* struct acpi_gas, the GAS of 5.2.3.2 */

BUILD_ASSERT(sizeof(struct acpi_gas) == 12);

/* RSDP, ACPI 6.4 5.2.5.3. The first 20 bytes are the ACPI 1.0 part. */
struct rsdp {
	char signature[8];
	uint8_t checksum;               /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_addr;
	uint32_t length;                /* revision >= 2 from here on */
	uint64_t xsdt_addr;
	uint8_t ext_checksum;           /* over all 36 bytes */
	uint8_t reserved[3];
} __packed;

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
BUILD_ASSERT(sizeof(struct rsdp) == RSDP_V2_LEN);

/* System description table header, ACPI 6.4 5.2.6. */
struct sdt_hdr {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __packed;

#define SDT_HDR_LEN 36
BUILD_ASSERT(sizeof(struct sdt_hdr) == SDT_HDR_LEN);

/* FADT, ACPI 6.4 5.2.9 (Table 5.9). */
struct fadt {
	struct sdt_hdr hdr;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk;
	uint32_t pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat;
	uint16_t flush_size, flush_stride;
	uint8_t duty_offset, duty_width;
	uint8_t day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __packed;

/* Offsets from Table 5.9; a slip here would misread or miswrite every FADT. */
BUILD_ASSERT(offsetof(struct fadt, sci_int) == 46);
BUILD_ASSERT(offsetof(struct fadt, pm1a_evt_blk) == 56);
BUILD_ASSERT(offsetof(struct fadt, pm1a_cnt_blk) == 64);
BUILD_ASSERT(offsetof(struct fadt, pm_tmr_blk) == 76);
BUILD_ASSERT(offsetof(struct fadt, pm1_evt_len) == 88);
BUILD_ASSERT(offsetof(struct fadt, iapc_boot_arch) == 109);
BUILD_ASSERT(offsetof(struct fadt, flags) == 112);
BUILD_ASSERT(offsetof(struct fadt, reset_reg) == 116);
BUILD_ASSERT(offsetof(struct fadt, reset_value) == 128);
BUILD_ASSERT(offsetof(struct fadt, minor_version) == 131);
BUILD_ASSERT(offsetof(struct fadt, x_dsdt) == 140);
BUILD_ASSERT(offsetof(struct fadt, x_pm1a_evt_blk) == 148);
BUILD_ASSERT(offsetof(struct fadt, x_pm1a_cnt_blk) == 172);
BUILD_ASSERT(offsetof(struct fadt, x_pm_tmr_blk) == 208);
BUILD_ASSERT(sizeof(struct fadt) == 276);

/* MADT, ACPI 6.4 5.2.12: the fixed part before the entries. */
struct madt_fixed {
	struct sdt_hdr hdr;
	uint32_t lapic_addr;
	uint32_t flags;
} __packed;

/* Interrupt controller structures, 5.2.12.2 onwards. */
struct madt_lapic {                     /* type 0, 5.2.12.2 */
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __packed;

struct madt_ioapic {                    /* type 1, 5.2.12.3 */
	uint8_t type, length, id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __packed;

struct madt_iso {                       /* type 2, 5.2.12.5 */
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __packed;

BUILD_ASSERT(sizeof(struct madt_fixed) == 44);
BUILD_ASSERT(sizeof(struct madt_lapic) == 8);
BUILD_ASSERT(sizeof(struct madt_ioapic) == 12);
BUILD_ASSERT(sizeof(struct madt_iso) == 10);

/* MCFG allocation entry, PCI Firmware Specification 3.2 Table 4-3. */
struct mcfg_entry {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
	uint32_t reserved;
} __packed;

BUILD_ASSERT(sizeof(struct mcfg_entry) == 16);

#endif /* ARCH_X86_ACPI_DEFS_H */
