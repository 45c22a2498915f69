/*
 * ACPI tables for a Linux guest, written into its RAM (ACPI 6.4 chapter 5).
 *
 * Layout in [ACPI_TABLES_BASE, ACPI_TABLES_END):
 *   RSDP (its 36 bytes reserved first, written last, so that a failed
 *   build leaves no RSDP behind), FACS, DSDT, FADT, MADT, MCFG, XSDT, RSDT.
 * Tables start on 16-byte boundaries, the FACS on a 64-byte one (5.2.10).
 *
 * The writer records an overflow instead of failing at each step; the
 * build checks it once at the end. Guest memory is only ever written
 * inside the region.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/types.h"
#include "arch/x86/acpi_defs.h"
#include "vdev/acpi_tables.h"

#define OEM_ID "HVX86 "
#define OEM_TABLE_ID "HVX86VM "
#define OEM_REVISION 1
#define CREATOR_ID "HVX8"
#define CREATOR_REVISION 1

#define LAPIC_BASE 0xFEE00000u
#define TABLE_ALIGN 16
#define FACS_ALIGN 64
#define IO_PORT_END 0x10000u

/* ---- Layouts, ACPI 6.4 chapter 5 ---------------------------------------- */

/* RSDP, SDT header, FADT, MADT entries and MCFG entry: arch/x86/acpi_defs.h. */

/* GAS, 5.2.3.2: address spaces (Table 5.1) and access sizes. */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

struct facs {                           /* 5.2.10, no checksum */
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __packed;

BUILD_ASSERT(sizeof(struct facs) == 64);

#define FADT_REVISION 6
#define FADT_MINOR_VERSION 4            /* ACPI 6.4 */

/* Fixed feature flags, Table 5.10. */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)       /* set: no fixed-hardware sleep button */
#define FADT_FIX_RTC (1u << 6)          /* set: no RTC wake status in PM1_STS */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)

/* IA-PC boot architecture flags, 5.2.9.3 (Table 5.11). */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)             /* left clear: no keyboard controller */
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_MSI_NOT_SUPPORTED (1u << 3) /* left clear: MSI works */
#define BOOT_PCIE_ASPM_CONTROLS (1u << 4)
#define BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Table 5.9: latencies above these mean "C2/C3 not supported". */
#define P_LVL2_LAT_NONE 101
#define P_LVL3_LAT_NONE 1001

#define MADT_REVISION 5
#define MADT_PCAT_COMPAT (1u << 0)

struct madt_lapic_nmi {                 /* type 4, 5.2.12.7 */
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __packed;

BUILD_ASSERT(sizeof(struct madt_lapic_nmi) == 6);

#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_UID_ALL 0xFFu              /* NMI entry: every processor */

/* MPS INTI flags, Table 5.26: polarity bits 1:0, trigger mode bits 3:2. */
#define INTI_CONFORMS 0x0000u
#define INTI_HIGH_EDGE 0x0005u
#define INTI_HIGH_LEVEL 0x000Du

struct mcfg_fixed {                     /* PCI Firmware 3.2, 4.1.2 */
	struct sdt_hdr hdr;
	uint8_t reserved[8];
} __packed;

BUILD_ASSERT(sizeof(struct mcfg_fixed) == 44);

/* ---- Writing into the region ------------------------------------------- */

#define MAX_LISTED 8                    /* tables the XSDT and RSDT list */

struct acpi_out {
	uint8_t *mem;                   /* guest RAM at GPA 0 */
	uint32_t pos, end;              /* next free GPA, end of the region */
	bool overflow;
	uint32_t listed[MAX_LISTED];    /* GPAs for the XSDT and RSDT */
	unsigned nlisted;
};

/* Claim @len bytes aligned to @align; 0 (never a table GPA) on overflow. */
static uint32_t out_alloc(struct acpi_out *o, uint32_t len, uint32_t align)
{
	uint32_t at = ALIGN_UP(o->pos, align);

	if (o->overflow || at > o->end || len > o->end - at) {
		o->overflow = true;
		return 0;
	}
	o->pos = at + len;
	return at;
}

static void out_put(struct acpi_out *o, const void *src, uint32_t len)
{
	uint32_t at = out_alloc(o, len, 1);

	if (at)
		memcpy(o->mem + at, src, len);
}

static void out_byte(struct acpi_out *o, uint8_t b)
{
	out_put(o, &b, 1);
}

static uint8_t checksum_fix(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)(0 - sum);
}

static void sdt_hdr_init(struct sdt_hdr *h, const char sig[4], uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = OEM_REVISION;
	memcpy(h->creator_id, CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = CREATOR_REVISION;
}

/* Start a table with its header and fixed part @fixed; returns its GPA. */
static uint32_t sdt_begin(struct acpi_out *o, const void *fixed, uint32_t len)
{
	uint32_t at = out_alloc(o, len, TABLE_ALIGN);

	if (at)
		memcpy(o->mem + at, fixed, len);
	return at;
}

/* Everything written since sdt_begin() is the table: set length and checksum. */
static uint32_t sdt_end(struct acpi_out *o, uint32_t at)
{
	struct sdt_hdr *h;

	if (o->overflow)
		return 0;
	h = (struct sdt_hdr *)(o->mem + at);
	h->length = o->pos - at;
	h->checksum = 0;
	h->checksum = checksum_fix(o->mem + at, h->length);
	return at;
}

/* Add a finished table to the XSDT and RSDT. */
static void sdt_list(struct acpi_out *o, uint32_t at)
{
	if (!at)
		return;
	ASSERT(o->nlisted < MAX_LISTED);
	o->listed[o->nlisted++] = at;
}

/* ---- AML, ACPI 6.4 chapter 20 ------------------------------------------ */

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_QWORD_PREFIX 0x0E
#define AML_PACKAGE_OP 0x12
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_EXT_OP_PREFIX 0x5B
#define AML_EXT_DEVICE_OP 0x82
#define AML_ROOT_CHAR '\\'

#define PKGLENGTH_MAX ((1u << 28) - 1)

unsigned aml_encode_pkglength(uint32_t body, uint8_t out[4])
{
	unsigned extra = 0;
	uint32_t len = body + 1;

	if (body > PKGLENGTH_MAX - 4)
		return 0;
	if (len <= 0x3f) {
		out[0] = (uint8_t)len;
		return 1;
	}
	/* With @extra more bytes the lead keeps 4 bits and each adds 8. */
	do {
		extra++;
		len = body + 1 + extra;
	} while (len >> (4 + 8 * extra));
	out[0] = (uint8_t)(extra << 6 | (len & 0xf));
	for (unsigned i = 0; i < extra; i++)
		out[1 + i] = (uint8_t)(len >> (4 + 8 * i));
	return 1 + extra;
}

/* Reserve one byte of PkgLength; aml_pkg_end() fills it in. */
static uint32_t aml_pkg_begin(struct acpi_out *o)
{
	uint32_t at = o->pos;

	out_byte(o, 0);
	return at;
}

/* The package runs from @at to here; a longer encoding moves the body up. */
static void aml_pkg_end(struct acpi_out *o, uint32_t at)
{
	uint32_t body = o->pos - at - 1;
	uint8_t enc[4];
	unsigned n;

	if (o->overflow)
		return;
	n = aml_encode_pkglength(body, enc);
	ASSERT(n);              /* the region is far below 2^28 bytes */
	if (n > 1 && !out_alloc(o, n - 1, 1))
		return;
	memmove(o->mem + at + n, o->mem + at + 1, body);
	memcpy(o->mem + at, enc, n);
}

/* Integer constant (20.2.3), in the shortest form as iasl writes it. */
static void aml_integer(struct acpi_out *o, uint64_t v)
{
	static const struct { uint64_t max; uint8_t op; uint8_t size; } forms[] = {
		{ 0xff, AML_BYTE_PREFIX, 1 },
		{ 0xffff, AML_WORD_PREFIX, 2 },
		{ 0xffffffffu, AML_DWORD_PREFIX, 4 },
		{ UINT64_MAX, AML_QWORD_PREFIX, 8 },
	};
	unsigned i = 0;

	if (v <= 1) {
		out_byte(o, v ? AML_ONE_OP : AML_ZERO_OP);
		return;
	}
	while (v > forms[i].max)
		i++;
	out_byte(o, forms[i].op);
	out_put(o, &v, forms[i].size);  /* x86 is little-endian, as AML is */
}

/* DefName (20.2.5.1): NameOp NameSeg, then the caller writes the object. */
static void aml_name(struct acpi_out *o, const char seg[4])
{
	out_byte(o, AML_NAME_OP);
	out_put(o, seg, 4);
}

/* Name(@seg, Package(n){v...}) of small integers (DefPackage, 20.2.5.4). */
static void aml_name_package(struct acpi_out *o, const char seg[4], const uint8_t *v,
			     uint8_t n)
{
	uint32_t pkg;

	aml_name(o, seg);
	out_byte(o, AML_PACKAGE_OP);
	pkg = aml_pkg_begin(o);
	out_byte(o, n);         /* NumElements */
	for (unsigned i = 0; i < n; i++)
		aml_integer(o, v[i]);
	aml_pkg_end(o, pkg);
}

/* Name(@seg, Buffer(){@len bytes}) (DefBuffer, 20.2.5.4). */
static void aml_name_buffer(struct acpi_out *o, const char seg[4], const void *bytes,
			    uint32_t len)
{
	uint32_t pkg;

	aml_name(o, seg);
	out_byte(o, AML_BUFFER_OP);
	pkg = aml_pkg_begin(o);
	aml_integer(o, len);    /* BufferSize */
	out_put(o, bytes, len);
	aml_pkg_end(o, pkg);
}

/* Name(@seg, @v) of an integer. */
static void aml_name_integer(struct acpi_out *o, const char seg[4], uint64_t v)
{
	aml_name(o, seg);
	aml_integer(o, v);
}

/*
 * Scope(@path) or Device(@seg) (DefScope 20.2.5.1, DefDevice 20.2.5.2):
 * the opcode, a PkgLength, the name; the caller writes the contents and
 * closes with aml_pkg_end() on what this returns.
 */
static uint32_t aml_scope_begin(struct acpi_out *o, const char *path)
{
	uint32_t pkg;

	out_byte(o, AML_SCOPE_OP);
	pkg = aml_pkg_begin(o);
	out_put(o, path, (uint32_t)strlen(path));
	return pkg;
}

static uint32_t aml_device_begin(struct acpi_out *o, const char seg[4])
{
	uint32_t pkg;

	out_byte(o, AML_EXT_OP_PREFIX);
	out_byte(o, AML_EXT_DEVICE_OP);
	pkg = aml_pkg_begin(o);
	out_put(o, seg, 4);
	return pkg;
}

/*
 * EisaId("PNP0A08") (19.6.35): three upper-case letters of five bits each
 * ('A' = 1) and four hex digits, in the byte order of the EISA ID.
 */
static uint32_t eisa_id(const char id[7])
{
	uint32_t letters = (uint32_t)(id[0] - '@') << 10 | (uint32_t)(id[1] - '@') << 5 |
			   (uint32_t)(id[2] - '@');
	uint32_t digits = 0;

	for (unsigned i = 3; i < 7; i++)
		digits = digits << 4 | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
	return (letters >> 8) | (letters & 0xff) << 8 | (digits >> 8) << 16 | (digits & 0xff) << 24;
}

/* ---- Resource descriptors for _CRS (6.4.3) ------------------------------ */

#define RES_WORD_ADDR 0x88              /* 6.4.3.5.3 */
#define RES_DWORD_ADDR 0x87             /* 6.4.3.5.2 */
#define RES_MEM32_FIXED 0x86            /* 6.4.3.4 */
#define RES_END_TAG 0x79                /* 6.4.2.9; checksum 0: "treated as correct" */
#define RES_TYPE_MEMORY 0
#define RES_TYPE_BUS 2
/* General flags (Table 6.47): producer, positive decode, min and max fixed. */
#define RES_FLAGS_PRODUCER_FIXED 0x0c
#define RES_MEM_RW 0x01                 /* memory: read-write, non-cacheable */
#define RES_MEM32_RW 0x01               /* Memory32Fixed: read-write */

struct res_word_addr {
	uint8_t tag;
	uint16_t len;                   /* bytes after this field */
	uint8_t type, flags, type_flags;
	uint16_t granularity, min, max, translation, length;
} __packed;

struct res_dword_addr {
	uint8_t tag;
	uint16_t len;
	uint8_t type, flags, type_flags;
	uint32_t granularity, min, max, translation, length;
} __packed;

struct res_mem32_fixed {
	uint8_t tag;
	uint16_t len;
	uint8_t info;                   /* bit 0: read-write */
	uint32_t base, length;
} __packed;

BUILD_ASSERT(sizeof(struct res_word_addr) == 16);
BUILD_ASSERT(sizeof(struct res_dword_addr) == 26);
BUILD_ASSERT(sizeof(struct res_mem32_fixed) == 12);

/* A resource template being built: descriptors, then the end tag. */
struct res_buf {
	uint8_t b[64];
	uint32_t n;
};

static void res_put(struct res_buf *r, const void *desc, uint32_t len)
{
	ASSERT(len <= sizeof(r->b) - r->n);
	memcpy(r->b + r->n, desc, len);
	r->n += len;
}

static void res_end(struct res_buf *r)
{
	static const uint8_t end[2] = { RES_END_TAG, 0 };

	res_put(r, end, sizeof(end));
}

/* ---- The tables --------------------------------------------------------- */

/* FACS (5.2.10): required with fixed hardware; holds the global lock. */
static uint32_t build_facs(struct acpi_out *o)
{
	struct facs f = { .length = sizeof(f), .version = 2 };
	uint32_t at = out_alloc(o, sizeof(f), FACS_ALIGN);

	memcpy(f.signature, "FACS", sizeof(f.signature));
	if (at)
		memcpy(o->mem + at, &f, sizeof(f));
	return at;
}

/*
 * The PCI root bridge (PCI Firmware 3.2 4.1.1, ACPI 6.4 6.1.5): a PCI
 * Express host bridge, compatible with a PCI one, decoding buses
 * bus_start-bus_end and, when it has one, the memory window for BARs.
 * Linux on x86 finds PCI buses through such a device only: without it,
 * ACPI mode scans no bus at all. No I/O window (the bus has no I/O
 * BARs), no _OSC (the OS keeps no PCIe features it could ask for), no
 * _PRT (no INTx yet: devices interrupt through MSI-X).
 */
static void build_pci_root(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	struct res_word_addr bus = {
		RES_WORD_ADDR, sizeof(bus) - 3, RES_TYPE_BUS, RES_FLAGS_PRODUCER_FIXED, 0,
		0, d->bus_start, d->bus_end, 0, (uint16_t)(d->bus_end - d->bus_start + 1),
	};
	struct res_dword_addr mem = {
		RES_DWORD_ADDR, sizeof(mem) - 3, RES_TYPE_MEMORY, RES_FLAGS_PRODUCER_FIXED,
		RES_MEM_RW, 0, d->pci_mem_base, d->pci_mem_base + d->pci_mem_size - 1, 0,
		d->pci_mem_size,
	};
	struct res_buf crs = { .n = 0 };
	uint32_t dev = aml_device_begin(o, "PCI0");

	res_put(&crs, &bus, sizeof(bus));
	if (d->pci_mem_size)
		res_put(&crs, &mem, sizeof(mem));
	res_end(&crs);
	aml_name_integer(o, "_HID", eisa_id("PNP0A08"));
	aml_name_integer(o, "_CID", eisa_id("PNP0A03"));
	aml_name_integer(o, "_UID", 0);
	aml_name_integer(o, "_BBN", d->bus_start);
	aml_name_buffer(o, "_CRS", crs.b, crs.n);
	aml_pkg_end(o, dev);
}

/*
 * The ECAM window is a motherboard resource (PCI Firmware 3.2 4.1.2:
 * the MCFG range is reserved through a PNP0C02 device's _CRS). Described
 * when it lies below 4 GiB, the reach of a Memory32Fixed descriptor.
 */
static void build_ecam_resource(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	uint64_t size = MIB(d->bus_end + 1u - d->bus_start);
	struct res_mem32_fixed ecam = {
		RES_MEM32_FIXED, sizeof(ecam) - 3, RES_MEM32_RW,
		(uint32_t)(d->ecam_base + MIB(d->bus_start)), (uint32_t)size,
	};
	struct res_buf crs = { .n = 0 };
	uint32_t dev;

	if (d->ecam_base + MIB(d->bus_start) + size > GIB(4))
		return;
	dev = aml_device_begin(o, "MRES");
	res_put(&crs, &ecam, sizeof(ecam));
	res_end(&crs);
	aml_name_integer(o, "_HID", eisa_id("PNP0C02"));
	aml_name_integer(o, "_UID", 0);
	aml_name_buffer(o, "_CRS", crs.b, crs.n);
	aml_pkg_end(o, dev);
}

static void build_sb(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	static const char sb[] = { AML_ROOT_CHAR, '_', 'S', 'B', '_', 0 };
	uint32_t scope;

	if (!d->pci_root && !d->ecam_base)
		return;
	scope = aml_scope_begin(o, sb);
	if (d->pci_root)
		build_pci_root(o, d);
	if (d->ecam_base)
		build_ecam_resource(o, d);
	aml_pkg_end(o, scope);
}

/*
 * \_S0 and \_S5 (7.4.2): SLP_TYPa, SLP_TYPb (unused: there is no PM1b
 * block), two reserved. The device model powers the VM off when the guest
 * writes PM1a_CNT with SLP_EN and SLP_TYP 5. Then \_SB with the PCI root
 * bridge.
 */
static uint32_t build_dsdt(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	static const uint8_t s0[4] = { ACPI_SLP_TYP_S0, 0, 0, 0 };
	static const uint8_t s5[4] = { ACPI_SLP_TYP_S5, 0, 0, 0 };
	struct sdt_hdr h = { 0 };
	uint32_t at;

	sdt_hdr_init(&h, "DSDT", 2);    /* revision 2: 64-bit integers */
	at = sdt_begin(o, &h, sizeof(h));
	aml_name_package(o, "_S0_", s0, ARRAY_SIZE(s0));
	aml_name_package(o, "_S5_", s5, ARRAY_SIZE(s5));
	build_sb(o, d);
	return sdt_end(o, at);
}

static struct acpi_gas gas_io(uint16_t port, uint8_t bytes, uint8_t access)
{
	struct acpi_gas g = {
		.space_id = GAS_SYSTEM_IO,
		.bit_width = (uint8_t)(bytes * 8),
		.access_size = access,
		.address = port,
	};

	return g;
}

static uint16_t fadt_boot_arch(const struct guest_acpi_desc *d)
{
	/* The UART and the PIT are ISA devices; nothing sits at VGA's addresses. */
	uint16_t arch = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT | BOOT_PCIE_ASPM_CONTROLS;

	if (!d->has_rtc)
		arch |= BOOT_CMOS_RTC_NOT_PRESENT;
	return arch;
}

/*
 * A fixed power button (PWR_BUTTON clear) lets the device model ask for
 * an orderly shutdown through PM1_STS.PWRBTN_STS later.
 */
static uint32_t fadt_flags(const struct guest_acpi_desc *d)
{
	uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC |
			 FADT_RESET_REG_SUP;

	if (d->pm_tmr_32)
		flags |= FADT_TMR_VAL_EXT;
	return flags;
}

/*
 * SMI_CMD 0 says ACPI is always enabled (5.2.9), so the device model
 * starts PM1a_CNT with SCI_EN set. FIRMWARE_CTRL and X_FIRMWARE_CTRL may
 * not both be non-zero; the FACS is below 4 GiB.
 */
static uint32_t build_fadt(struct acpi_out *o, const struct guest_acpi_desc *d,
			   uint32_t facs, uint32_t dsdt)
{
	struct fadt f = {
		.firmware_ctrl = facs,
		.dsdt = dsdt,
		.sci_int = ACPI_SCI_IRQ,
		.pm1a_evt_blk = d->pm1a_evt,
		.pm1a_cnt_blk = d->pm1a_cnt,
		.pm_tmr_blk = d->pm_tmr,
		.pm1_evt_len = ACPI_PM1_EVT_LEN,
		.pm1_cnt_len = ACPI_PM1_CNT_LEN,
		.pm_tmr_len = ACPI_PM_TMR_LEN,
		.p_lvl2_lat = P_LVL2_LAT_NONE,
		.p_lvl3_lat = P_LVL3_LAT_NONE,
		.iapc_boot_arch = fadt_boot_arch(d),
		.flags = fadt_flags(d),
		.reset_reg = gas_io(ACPI_RESET_PORT, 1, GAS_ACCESS_BYTE),
		.reset_value = ACPI_RESET_VALUE,
		.minor_version = FADT_MINOR_VERSION,
		.x_dsdt = dsdt,
		.x_pm1a_evt_blk = gas_io(d->pm1a_evt, ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD),
		.x_pm1a_cnt_blk = gas_io(d->pm1a_cnt, ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD),
		.x_pm_tmr_blk = gas_io(d->pm_tmr, ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD),
	};

	sdt_hdr_init(&f.hdr, "FACP", FADT_REVISION);
	return sdt_end(o, sdt_begin(o, &f, sizeof(f)));
}

static void madt_put_iso(struct acpi_out *o, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	struct madt_iso e = { 2, sizeof(e), 0, irq, gsi, flags };  /* bus 0: ISA */

	out_put(o, &e, sizeof(e));
}

/*
 * One enabled Local APIC per vCPU, UID and APIC ID its index, the boot
 * vCPU first; the IOAPIC with GSIs from 0; the PIT on pin 2 as on real
 * chipsets; the SCI level/high; NMI on every LINT1.
 */
static uint32_t build_madt(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	struct madt_fixed f = { .lapic_addr = LAPIC_BASE };
	struct madt_ioapic io = { 1, sizeof(io), d->ioapic_id, 0, d->ioapic_base, 0 };
	struct madt_lapic_nmi nmi = { 4, sizeof(nmi), MADT_UID_ALL, INTI_HIGH_EDGE, 1 };
	uint32_t at;

	sdt_hdr_init(&f.hdr, "APIC", MADT_REVISION);
	if (d->has_pic)
		f.flags = MADT_PCAT_COMPAT;
	at = sdt_begin(o, &f, sizeof(f));
	for (unsigned i = 0; i < d->ncpus; i++) {
		struct madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i, MADT_LAPIC_ENABLED };

		out_put(o, &l, sizeof(l));
	}
	out_put(o, &io, sizeof(io));
	madt_put_iso(o, 0, 2, INTI_CONFORMS);
	madt_put_iso(o, ACPI_SCI_IRQ, ACPI_SCI_IRQ, INTI_HIGH_LEVEL);
	out_put(o, &nmi, sizeof(nmi));
	return sdt_end(o, at);
}

static uint32_t build_mcfg(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	struct mcfg_fixed f = { 0 };
	struct mcfg_entry e = { d->ecam_base, 0, d->bus_start, d->bus_end, 0 };
	uint32_t at;

	sdt_hdr_init(&f.hdr, "MCFG", 1);
	at = sdt_begin(o, &f, sizeof(f));
	out_put(o, &e, sizeof(e));
	return sdt_end(o, at);
}

/* XSDT (5.2.8) with 64-bit entries, RSDT (5.2.7) with 32-bit ones. */
static uint32_t build_root(struct acpi_out *o, const char sig[4], uint32_t esize)
{
	struct sdt_hdr h = { 0 };
	uint32_t at;

	sdt_hdr_init(&h, sig, 1);
	at = sdt_begin(o, &h, sizeof(h));
	for (unsigned i = 0; i < o->nlisted; i++) {
		uint64_t pa = o->listed[i];

		out_put(o, &pa, esize); /* little-endian: the low half first */
	}
	return sdt_end(o, at);
}

static void build_rsdp(struct acpi_out *o, uint32_t at, uint32_t xsdt, uint32_t rsdt)
{
	struct rsdp r = {
		.revision = 2,
		.rsdt_addr = rsdt,
		.length = sizeof(r),
		.xsdt_addr = xsdt,
	};

	memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
	memcpy(r.oem_id, OEM_ID, sizeof(r.oem_id));
	r.checksum = checksum_fix((const uint8_t *)&r, RSDP_V1_LEN);
	r.ext_checksum = checksum_fix((const uint8_t *)&r, sizeof(r));
	memcpy(o->mem + at, &r, sizeof(r));
}

/* ---- Checking the descriptor -------------------------------------------- */

struct port_block {
	const char *name;
	uint32_t port, len;
};

/* Every block inside the port space, none overlapping another. */
static int desc_check_ports(const struct guest_acpi_desc *d)
{
	const struct port_block b[] = {
		{ "PM1a_EVT_BLK", d->pm1a_evt, ACPI_PM1_EVT_LEN },
		{ "PM1a_CNT_BLK", d->pm1a_cnt, ACPI_PM1_CNT_LEN },
		{ "PM_TMR_BLK", d->pm_tmr, ACPI_PM_TMR_LEN },
		{ "RESET_REG", ACPI_RESET_PORT, 1 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(b); i++) {
		if (!b[i].port || b[i].port + b[i].len > IO_PORT_END) {
			pr_err("acpi_tables: %s at port 0x%x: needs %u ports in 0x1-0xffff\n",
			       b[i].name, b[i].port, b[i].len);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++)
			if (ranges_overlap(b[i].port, b[i].len, b[j].port, b[j].len)) {
				pr_err("acpi_tables: %s at port 0x%x overlaps %s at 0x%x\n",
				       b[i].name, b[i].port, b[j].name, b[j].port);
				return -EINVAL;
			}
	}
	return 0;
}

/* PCI Firmware 3.2 4.1.2: 1 MiB of ECAM per bus, counted from bus 0. */
static int desc_check_ecam(const struct guest_acpi_desc *d)
{
	if (d->pci_root && (uint64_t)d->pci_mem_base + d->pci_mem_size > GIB(4)) {
		pr_err("acpi_tables: PCI window 0x%x+0x%x runs past 4 GiB\n", d->pci_mem_base,
		       d->pci_mem_size);
		return -EINVAL;
	}
	if (!d->ecam_base && !d->pci_root)
		return 0;
	if (d->bus_end < d->bus_start) {
		pr_err("acpi_tables: ECAM buses 0x%x-0x%x: end below start\n",
		       d->bus_start, d->bus_end);
		return -EINVAL;
	}
	if (!d->ecam_base)
		return 0;
	if (!IS_ALIGNED(d->ecam_base, MIB(1)) ||
	    range_overflows(d->ecam_base, MIB(d->bus_end + 1u))) {
		pr_err("acpi_tables: ECAM base 0x%llx: not 1 MiB aligned or runs past 2^64\n",
		       (unsigned long long)d->ecam_base);
		return -EINVAL;
	}
	return 0;
}

static int desc_check(const struct guest_acpi_desc *d)
{
	if (d->ncpus == 0 || d->ncpus > ACPI_TABLES_MAX_CPUS) {
		pr_err("acpi_tables: %u vCPUs; the MADT describes 1 to %u\n",
		       d->ncpus, ACPI_TABLES_MAX_CPUS);
		return -EINVAL;
	}
	if (!d->ioapic_base) {
		pr_err("acpi_tables: no IOAPIC address\n");
		return -EINVAL;
	}
	if (desc_check_ports(d))
		return -EINVAL;
	return desc_check_ecam(d);
}

/* ---- Entry point -------------------------------------------------------- */

static void build_all(struct acpi_out *o, const struct guest_acpi_desc *d)
{
	uint32_t rsdp = out_alloc(o, sizeof(struct rsdp), TABLE_ALIGN);
	uint32_t facs = build_facs(o);
	uint32_t dsdt = build_dsdt(o, d);
	uint32_t xsdt, rsdt;

	sdt_list(o, build_fadt(o, d, facs, dsdt));
	sdt_list(o, build_madt(o, d));
	if (d->ecam_base)
		sdt_list(o, build_mcfg(o, d));
	xsdt = build_root(o, "XSDT", sizeof(uint64_t));
	rsdt = build_root(o, "RSDT", sizeof(uint32_t));
	if (!o->overflow)
		build_rsdp(o, rsdp, xsdt, rsdt);
}

int acpi_tables_build(uint8_t *mem, uint64_t mem_size, const struct guest_acpi_desc *d)
{
	struct acpi_out o = { .mem = mem, .pos = ACPI_TABLES_BASE };
	int ret;

	ASSERT(mem && d);
	ret = desc_check(d);
	if (ret)
		return ret;
	if (mem_size <= ACPI_TABLES_BASE) {
		pr_err("acpi_tables: guest RAM ends at 0x%llx, below the tables at 0x%x\n",
		       (unsigned long long)mem_size, ACPI_TABLES_BASE);
		return -ENOSPC;
	}
	o.end = (uint32_t)MIN(mem_size, (uint64_t)ACPI_TABLES_END);
	memset(mem + o.pos, 0, o.end - o.pos);
	build_all(&o, d);
	if (o.overflow) {
		memset(mem + ACPI_TABLES_BASE, 0, o.end - ACPI_TABLES_BASE);
		pr_err("acpi_tables: tables for %u vCPUs do not fit in [0x%x, 0x%x)\n",
		       d->ncpus, ACPI_TABLES_BASE, o.end);
		return -ENOSPC;
	}
	return 0;
}
