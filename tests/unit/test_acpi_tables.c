/*
 * Host tests for vdev/acpi_tables.c: tables are built into a fake guest
 * RAM and read back two ways, through the hypervisor's own ACPI parser
 * (arch/x86/acpi.c, the same code that reads real firmware) and byte by
 * byte against offsets written out here from ACPI 6.4, independently of
 * both.
 *
 * acpi_map() hands out a heap copy of exactly the bytes asked for, so
 * AddressSanitizer catches the parser reading past a length we wrote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errno.h"
#include "core/types.h"
#include "arch/x86/acpi.h"
#include "vdev/acpi_tables.h"
#include "tests/unit/unit.h"

#define RAM_SIZE (2ull << 20)
#define BASE ACPI_TABLES_BASE
#define END ACPI_TABLES_END

/* Header and FADT offsets, ACPI 6.4 5.2.6 and Table 5.9. */
#define H_LENGTH 4
#define H_REVISION 8
#define H_OEM_ID 10
#define H_OEM_TABLE_ID 16
#define F_FIRMWARE_CTRL 36
#define F_DSDT 40
#define F_SCI_INT 46
#define F_SMI_CMD 48
#define F_PM1A_EVT 56
#define F_PM1B_EVT 60
#define F_PM1A_CNT 64
#define F_PM_TMR 76
#define F_GPE0 80
#define F_PM1_EVT_LEN 88
#define F_PM1_CNT_LEN 89
#define F_PM_TMR_LEN 91
#define F_BOOT_ARCH 109
#define F_FLAGS 112
#define F_RESET_REG 116
#define F_RESET_VALUE 128
#define F_MINOR 131
#define F_X_FIRMWARE_CTRL 132
#define F_X_DSDT 140
#define F_X_PM1A_EVT 148
#define F_X_PM1A_CNT 172
#define F_X_PM_TMR 208

static uint8_t *ram;

/* ---- acpi_map over the fake guest RAM ----------------------------------- */

#define MAX_MAPS 4096

static void *maps[MAX_MAPS];
static unsigned nmaps;

const void *acpi_map(paddr_t pa, size_t len)
{
	void *copy;

	if (len == 0 || len > RAM_SIZE || pa > RAM_SIZE - len)
		return NULL;
	if (nmaps == MAX_MAPS) {
		fprintf(stderr, "%s: too many acpi_map calls\n", unit_current);
		abort();
	}
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, ram + pa, len);
	maps[nmaps++] = copy;
	return copy;
}

static void maps_free(void)
{
	while (nmaps)
		free(maps[--nmaps]);
}

/* ---- Reading guest RAM -------------------------------------------------- */

static uint8_t rd8(uint64_t pa) { return ram[pa]; }

static uint16_t rd16(uint64_t pa)
{
	uint16_t v;

	memcpy(&v, ram + pa, sizeof(v));
	return v;
}

static uint32_t rd32(uint64_t pa)
{
	uint32_t v;

	memcpy(&v, ram + pa, sizeof(v));
	return v;
}

static uint64_t rd64(uint64_t pa)
{
	uint64_t v;

	memcpy(&v, ram + pa, sizeof(v));
	return v;
}

static uint8_t sum_bytes(uint64_t pa, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + ram[pa++]);
	return s;
}

static int region_is(uint8_t byte)
{
	for (uint64_t pa = BASE; pa < END; pa++)
		if (ram[pa] != byte)
			return 0;
	return 1;
}

/* ---- Building ----------------------------------------------------------- */

static struct guest_acpi_desc std_desc(unsigned ncpus)
{
	struct guest_acpi_desc d = {
		.ncpus = ncpus,
		.ioapic_id = 3,
		.ioapic_base = 0xfec00000,
		.pm1a_evt = 0x600,
		.pm1a_cnt = 0x604,
		.pm_tmr = 0x608,
		.pm_tmr_32 = true,
		.has_pic = true,
		.has_rtc = true,
		.ecam_base = 0xb0000000,
		.bus_start = 0,
		.bus_end = 0xff,
	};

	return d;
}

/* Fresh RAM with garbage in it, so that stale bytes would show. */
static void ram_reset(void)
{
	maps_free();
	memset(ram, 0xaa, RAM_SIZE);
}

static struct acpi_info info;

static int build_and_parse(const struct guest_acpi_desc *d)
{
	int ret;

	ram_reset();
	ret = acpi_tables_build(ram, RAM_SIZE, d);
	if (ret)
		return ret;
	return acpi_parse(ram + BASE, 36, &info);
}

static uint64_t xsdt_pa(void) { return rd64(BASE + 24); }
static uint64_t rsdt_pa(void) { return rd32(BASE + 16); }

/* The table the XSDT lists with signature @sig; 0 if none. */
static uint64_t find_table(const char *sig)
{
	uint64_t x = xsdt_pa();
	uint32_t n = (rd32(x + H_LENGTH) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = rd64(x + 36 + 8 * i);

		if (memcmp(ram + pa, sig, 4) == 0)
			return pa;
	}
	return 0;
}

static uint64_t fadt_pa(void) { return find_table("FACP"); }
static uint64_t madt_pa(void) { return find_table("APIC"); }

/* Sealed, in the region, with our OEM and table IDs. */
static void check_table(uint64_t pa, const char *sig, uint8_t revision)
{
	uint32_t len = rd32(pa + H_LENGTH);

	CHECK(pa >= BASE && pa % 16 == 0);
	CHECK(pa + len <= END);
	CHECK(memcmp(ram + pa, sig, 4) == 0);
	CHECK_EQ(rd8(pa + H_REVISION), revision);
	CHECK_EQ(sum_bytes(pa, len), 0);
	CHECK(memcmp(ram + pa + H_OEM_ID, "HVX86 ", 6) == 0);
	CHECK(memcmp(ram + pa + H_OEM_TABLE_ID, "HVX86VM ", 8) == 0);
}

/* ---- MADT ---------------------------------------------------------------- */

static void check_cpus(unsigned n)
{
	struct guest_acpi_desc d = std_desc(n);

	CHECK_EQ(build_and_parse(&d), 0);
	CHECK(info.have_madt);
	CHECK_EQ(info.lapic_addr, 0xfee00000);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.ncpus, n);
	for (unsigned i = 0; i < info.ncpus; i++) {
		CHECK_EQ(info.cpus[i].apic_id, i);
		CHECK_EQ(info.cpus[i].uid, i);
		CHECK(info.cpus[i].enabled);
	}
	check_table(madt_pa(), "APIC", 5);
}

TEST(madt_1_2_8_255_cpus)
{
	check_cpus(1);
	check_cpus(2);
	check_cpus(8);
	check_cpus(ACPI_TABLES_MAX_CPUS);
	/* APIC IDs up to 254 all take the xAPIC entry (5.2.12.12). */
	CHECK_EQ(rd8(madt_pa() + 44), 0);
	CHECK_EQ(rd8(madt_pa() + 44 + 8 * 254 + 3), 254);
}

TEST(madt_ioapic_overrides_nmi)
{
	struct guest_acpi_desc d = std_desc(2);
	static const uint8_t nmi[] = { 4, 6, 0xff, 0x05, 0x00, 1 };
	uint64_t m;
	uint32_t len, off;
	int found = 0;

	CHECK_EQ(build_and_parse(&d), 0);
	CHECK_EQ(info.nioapics, 1);
	CHECK_EQ(info.ioapics[0].id, 3);
	CHECK_EQ(info.ioapics[0].addr, 0xfec00000);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.nisos, 2);
	CHECK_EQ(info.isos[0].bus, 0);
	CHECK_EQ(info.isos[0].source, 0);
	CHECK_EQ(info.isos[0].gsi, 2);
	CHECK_EQ(info.isos[0].flags, 0);
	CHECK_EQ(info.isos[1].bus, 0);
	CHECK_EQ(info.isos[1].source, 9);
	CHECK_EQ(info.isos[1].gsi, 9);
	CHECK_EQ(info.isos[1].flags, 0x000d);
	/* The parser skips NMI entries; look for it by hand. */
	m = madt_pa();
	len = rd32(m + H_LENGTH);
	for (off = 44; off + 2 <= len; off += rd8(m + off + 1)) {
		if (rd8(m + off + 1) < 2)
			break;
		if (rd8(m + off) == 4)
			found += memcmp(ram + m + off, nmi, sizeof(nmi)) == 0;
	}
	CHECK_EQ(off, len);
	CHECK_EQ(found, 1);
}

TEST(madt_no_pic)
{
	struct guest_acpi_desc d = std_desc(1);

	d.has_pic = false;
	CHECK_EQ(build_and_parse(&d), 0);
	CHECK(info.have_madt);
	CHECK(!info.pcat_compat);
	CHECK_EQ(rd32(madt_pa() + 40), 0);
}

/* ---- FADT, FACS, DSDT ---------------------------------------------------- */

static void check_io_gas(uint64_t pa, uint8_t width, uint8_t access, uint64_t port)
{
	CHECK_EQ(rd8(pa), 1);                   /* system I/O */
	CHECK_EQ(rd8(pa + 1), width);
	CHECK_EQ(rd8(pa + 2), 0);
	CHECK_EQ(rd8(pa + 3), access);
	CHECK_EQ(rd64(pa + 4), port);
}

TEST(fadt_parsed)
{
	struct guest_acpi_desc d = std_desc(2);

	CHECK_EQ(build_and_parse(&d), 0);
	CHECK(info.have_fadt);
	CHECK(!info.hw_reduced);
	CHECK_EQ(info.sci_irq, 9);
	CHECK_EQ(info.smi_cmd, 0);
	CHECK_EQ(info.acpi_enable, 0);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm1b_cnt, 0);
	CHECK_EQ(info.pm_tmr, 0x608);
	CHECK(info.pm_tmr_32bit);
	CHECK(info.reset_valid);
	CHECK_EQ(info.reset_reg.space_id, 1);
	CHECK_EQ(info.reset_reg.bit_width, 8);
	CHECK_EQ(info.reset_reg.address, 0xcf9);
	CHECK_EQ(info.reset_value, 0x06);
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 5);
	CHECK_EQ(info.s5_typb, 0);
}

TEST(fadt_bytes)
{
	struct guest_acpi_desc d = std_desc(2);
	uint64_t f;
	uint32_t flags;
	uint16_t arch;

	CHECK_EQ(build_and_parse(&d), 0);
	f = fadt_pa();
	check_table(f, "FACP", 6);
	CHECK_EQ(rd32(f + H_LENGTH), 276);
	CHECK_EQ(rd8(f + F_MINOR) & 0xf, 4);
	CHECK_EQ(rd16(f + F_SCI_INT), 9);
	CHECK_EQ(rd32(f + F_SMI_CMD), 0);
	CHECK_EQ(rd32(f + F_PM1A_EVT), 0x600);
	CHECK_EQ(rd32(f + F_PM1B_EVT), 0);
	CHECK_EQ(rd32(f + F_PM1A_CNT), 0x604);
	CHECK_EQ(rd32(f + F_PM_TMR), 0x608);
	CHECK_EQ(rd32(f + F_GPE0), 0);
	CHECK_EQ(rd8(f + F_PM1_EVT_LEN), 4);
	CHECK_EQ(rd8(f + F_PM1_CNT_LEN), 2);
	CHECK_EQ(rd8(f + F_PM_TMR_LEN), 4);
	check_io_gas(f + F_X_PM1A_EVT, 32, 2, 0x600);
	check_io_gas(f + F_X_PM1A_CNT, 16, 2, 0x604);
	check_io_gas(f + F_X_PM_TMR, 32, 3, 0x608);
	check_io_gas(f + F_RESET_REG, 8, 1, 0xcf9);
	CHECK_EQ(rd8(f + F_RESET_VALUE), 0x06);

	flags = rd32(f + F_FLAGS);
	CHECK(flags & (1u << 0));               /* WBINVD */
	CHECK(flags & (1u << 2));               /* PROC_C1 */
	CHECK(!(flags & (1u << 4)));            /* fixed power button */
	CHECK(flags & (1u << 5));               /* no fixed sleep button */
	CHECK(flags & (1u << 8));               /* TMR_VAL_EXT */
	CHECK(flags & (1u << 10));              /* RESET_REG_SUP */
	CHECK(!(flags & (1u << 20)));           /* not hardware-reduced */

	arch = rd16(f + F_BOOT_ARCH);
	CHECK(!(arch & (1u << 1)));             /* no 8042 */
	CHECK(arch & (1u << 2));                /* no VGA */
	CHECK(!(arch & (1u << 3)));             /* MSI works */
	CHECK(!(arch & (1u << 5)));             /* CMOS RTC present */
}

TEST(fadt_24bit_timer_no_rtc)
{
	struct guest_acpi_desc d = std_desc(1);

	d.pm_tmr_32 = false;
	d.has_rtc = false;
	d.pm1a_evt = 0xb000;
	d.pm1a_cnt = 0xb004;
	d.pm_tmr = 0xb008;
	CHECK_EQ(build_and_parse(&d), 0);
	CHECK(!info.pm_tmr_32bit);
	CHECK_EQ(info.pm1a_cnt, 0xb004);
	CHECK_EQ(info.pm_tmr, 0xb008);
	CHECK(!(rd32(fadt_pa() + F_FLAGS) & (1u << 8)));
	CHECK(rd16(fadt_pa() + F_BOOT_ARCH) & (1u << 5));
}

TEST(facs_and_dsdt)
{
	/* Name(_S0_, Package(4){0,0,0,0}) Name(_S5_, Package(4){5,0,0,0}) */
	static const uint8_t aml[] = {
		0x08, '_', 'S', '0', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
		0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00,
	};
	struct guest_acpi_desc d = std_desc(2);
	uint64_t f, facs, dsdt;

	d.ecam_base = 0;                        /* no PCI: no \_SB */
	CHECK_EQ(build_and_parse(&d), 0);
	f = fadt_pa();
	/* 5.2.9: at most one of FIRMWARE_CTRL and X_FIRMWARE_CTRL non-zero. */
	facs = rd32(f + F_FIRMWARE_CTRL);
	CHECK_EQ(rd64(f + F_X_FIRMWARE_CTRL), 0);
	CHECK(facs >= BASE && facs + 64 <= END && facs % 64 == 0);
	CHECK(memcmp(ram + facs, "FACS", 4) == 0);
	CHECK_EQ(rd32(facs + 4), 64);
	CHECK_EQ(rd8(facs + 32), 2);            /* version */

	dsdt = rd32(f + F_DSDT);
	CHECK_EQ(rd64(f + F_X_DSDT), dsdt);
	check_table(dsdt, "DSDT", 2);
	CHECK_EQ(rd32(dsdt + H_LENGTH), 36 + sizeof(aml));
	CHECK(memcmp(ram + dsdt + 36, aml, sizeof(aml)) == 0);
}

static void check_einval(const struct guest_acpi_desc *d, const char *msg);

/* The DSDT's AML after the header, and its length. */
static const uint8_t *dsdt_aml(uint32_t *len)
{
	uint64_t dsdt = rd32(fadt_pa() + F_DSDT);

	check_table(dsdt, "DSDT", 2);
	*len = rd32(dsdt + H_LENGTH) - 36;
	return ram + dsdt + 36;
}

#define S0_S5_LEN 25                    /* Name(_S0_...) Name(_S5_...), as above */

/*
 * \_SB.PCI0 and \_SB.MRES, byte for byte as ACPI 6.4 chapters 6 and 20
 * encode them (what iasl makes of the ASL in the comments).
 */
TEST(dsdt_pci_root_and_ecam_resource)
{
	static const uint8_t aml[] = {
		0x10, 0x42, 0x09, '\\', '_', 'S', 'B', '_',        /* Scope(\_SB), 146 bytes */
		0x5b, 0x82, 0x4b, 0x05, 'P', 'C', 'I', '0',         /* Device(PCI0), 91 bytes */
		0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08,   /* EisaId("PNP0A08") */
		0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,   /* EisaId("PNP0A03") */
		0x08, '_', 'U', 'I', 'D', 0x00,
		0x08, '_', 'B', 'B', 'N', 0x00,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x2f, 0x0a, 0x2c,   /* Buffer(44) */
		/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0, 0, 1) */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x00,
		/* DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
		 *	       ReadWrite, 0, 0xC0000000, 0xDFFFFFFF, 0, 0x20000000) */
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x20,
		0x79, 0x00,                                          /* EndTag */
		0x5b, 0x82, 0x2c, 'M', 'R', 'E', 'S',               /* Device(MRES), 44 bytes */
		0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0c, 0x02,   /* EisaId("PNP0C02") */
		0x08, '_', 'U', 'I', 'D', 0x00,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e,   /* Buffer(14) */
		/* Memory32Fixed(ReadWrite, 0xE0000000, 0x100000) */
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x10, 0x00,
		0x79, 0x00,
	};
	struct guest_acpi_desc d = std_desc(1);
	const uint8_t *p;
	uint32_t len;

	d.ecam_base = 0xe0000000;
	d.bus_end = 0;
	d.pci_root = true;
	d.pci_mem_base = 0xc0000000;
	d.pci_mem_size = 0x20000000;
	CHECK_EQ(build_and_parse(&d), 0);
	CHECK(info.s5_valid);                   /* the host parser still finds \_S5 */
	CHECK_EQ(info.nmcfg, 1);
	p = dsdt_aml(&len);
	CHECK_EQ(len, S0_S5_LEN + sizeof(aml));
	CHECK(memcmp(p + S0_S5_LEN, aml, sizeof(aml)) == 0);
}

/* No PCI hole: the root bridge decodes its buses but no memory; no ECAM to reserve. */
TEST(dsdt_pci_root_without_window)
{
	static const uint8_t crs[] = {
		0x08, '_', 'C', 'R', 'S', 0x11, 0x15, 0x0a, 0x12,
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x00, 0x79, 0x00,
	};
	struct guest_acpi_desc d = std_desc(1);
	const uint8_t *p;
	uint32_t len;

	d.ecam_base = 0;
	d.bus_end = 0;
	d.pci_root = true;
	CHECK_EQ(build_and_parse(&d), 0);
	CHECK_EQ(info.nmcfg, 0);
	p = dsdt_aml(&len);
	CHECK_EQ(len, S0_S5_LEN + 8 + 8 + 10 + 10 + 6 + 6 + sizeof(crs));
	CHECK_EQ(p[S0_S5_LEN], 0x10);          /* Scope */
	CHECK(memcmp(p + S0_S5_LEN + 12, "PCI0", 4) == 0);
	CHECK(memcmp(p + len - sizeof(crs), crs, sizeof(crs)) == 0);

	d.pci_mem_base = 0xf0000000;            /* a window must end below 4 GiB */
	d.pci_mem_size = 0x10000000;
	CHECK_EQ(build_and_parse(&d), 0);
	d.pci_mem_size = 0x10001000;
	check_einval(&d, "runs past 4 GiB");
	d.pci_mem_size = 0;
	d.bus_start = 1;
	check_einval(&d, "end below start");
}

/* ---- MCFG, roots, RSDP --------------------------------------------------- */

TEST(mcfg)
{
	struct guest_acpi_desc d = std_desc(2);
	uint64_t m;

	d.bus_start = 0;
	d.bus_end = 0x3f;
	CHECK_EQ(build_and_parse(&d), 0);
	CHECK_EQ(info.nmcfg, 1);
	CHECK_EQ(info.mcfg[0].base, 0xb0000000);
	CHECK_EQ(info.mcfg[0].segment, 0);
	CHECK_EQ(info.mcfg[0].bus_start, 0);
	CHECK_EQ(info.mcfg[0].bus_end, 0x3f);
	m = find_table("MCFG");
	check_table(m, "MCFG", 1);
	CHECK_EQ(rd32(m + H_LENGTH), 44 + 16);
	CHECK_EQ(rd64(m + 36), 0);              /* reserved */

	d.ecam_base = 0;
	CHECK_EQ(build_and_parse(&d), 0);
	CHECK_EQ(info.nmcfg, 0);
	CHECK_EQ(find_table("MCFG"), 0);
	CHECK_EQ(rd32(xsdt_pa() + H_LENGTH), 36 + 2 * 8);
}

TEST(rsdp_and_roots)
{
	struct guest_acpi_desc d = std_desc(4);
	uint64_t x, r;
	uint32_t n;

	CHECK_EQ(build_and_parse(&d), 0);
	CHECK(memcmp(ram + BASE, "RSD PTR ", 8) == 0);
	CHECK_EQ(sum_bytes(BASE, 20), 0);
	CHECK_EQ(sum_bytes(BASE, 36), 0);
	CHECK_EQ(rd8(BASE + 15), 2);
	CHECK_EQ(rd32(BASE + 20), 36);
	CHECK(memcmp(ram + BASE + 9, "HVX86 ", 6) == 0);
	CHECK_EQ(info.revision, 2);
	CHECK_STR(info.oem_id, "HVX86 ");
	CHECK(log_has("XSDT at 0x"));

	x = xsdt_pa();
	r = rsdt_pa();
	check_table(x, "XSDT", 1);
	check_table(r, "RSDT", 1);
	n = (rd32(x + H_LENGTH) - 36) / 8;
	CHECK_EQ(n, 3);                         /* FADT, MADT, MCFG */
	CHECK_EQ(rd32(r + H_LENGTH), 36 + 4 * n);
	for (uint32_t i = 0; i < n; i++)
		CHECK_EQ(rd64(x + 36 + 8 * i), rd32(r + 36 + 4 * i));
	/* The parser checked each; check them here too. */
	check_table(fadt_pa(), "FACP", 6);
	check_table(madt_pa(), "APIC", 5);
	check_table(find_table("MCFG"), "MCFG", 1);
	CHECK(!log_has("ignored"));
	CHECK(!log_has("bad"));
}

/* An ACPI 1.0 reader sees only the first 20 bytes and takes the RSDT. */
TEST(rsdt_path)
{
	struct guest_acpi_desc d = std_desc(8);
	uint8_t v1[20], sum = 0;

	ram_reset();
	CHECK_EQ(acpi_tables_build(ram, RAM_SIZE, &d), 0);
	memcpy(v1, ram + BASE, sizeof(v1));
	v1[15] = 0;
	v1[8] = 0;
	for (unsigned i = 0; i < sizeof(v1); i++)
		sum = (uint8_t)(sum + v1[i]);
	v1[8] = (uint8_t)(0 - sum);
	CHECK_EQ(acpi_parse(v1, sizeof(v1), &info), 0);
	CHECK(log_has("RSDT at 0x"));
	CHECK_EQ(info.revision, 0);
	CHECK_EQ(info.ncpus, 8);
	CHECK(info.have_fadt);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 5);
	CHECK_EQ(info.nmcfg, 1);

	/* And a broken XSDT still leaves the RSDT to a 2.0 reader. */
	ram[xsdt_pa()] = 'Y';
	maps_free();
	CHECK_EQ(acpi_parse(ram + BASE, 36, &info), 0);
	CHECK(log_has("falling back to the RSDT"));
	CHECK_EQ(info.ncpus, 8);
	CHECK(info.s5_valid);
}

/* Linux without boot_params.acpi_rsdp_addr scans the BIOS area for it. */
TEST(rsdp_found_by_bios_scan)
{
	struct guest_acpi_desc d = std_desc(2);
	const uint8_t *p;

	ram_reset();
	memset(ram + 0x40e, 0, 2);              /* no EBDA */
	CHECK_EQ(acpi_tables_build(ram, RAM_SIZE, &d), 0);
	p = acpi_find_rsdp_bios();
	CHECK(p != NULL);
	if (p)
		CHECK(memcmp(p, ram + BASE, 36) == 0);
}

/* ---- AML PkgLength ------------------------------------------------------- */

static void check_pkglength(uint32_t body, unsigned n, const uint8_t *want)
{
	uint8_t out[4] = { 0 };

	CHECK_EQ(aml_encode_pkglength(body, out), n);
	CHECK(memcmp(out, want, n) == 0);
}

/* 20.2.4, decoded here on its own to compare with the encoder. */
static uint32_t decode_pkglength(const uint8_t *p, unsigned *n)
{
	unsigned more = p[0] >> 6;
	uint32_t len = more ? p[0] & 0x0fu : p[0] & 0x3fu;

	for (unsigned i = 0; i < more; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + more;
	return len;
}

TEST(aml_pkglength)
{
	static const uint32_t edges[] = { 0, 1, 61, 62, 63, 64, 4093, 4094, 4095,
					  (1u << 20) - 4, (1u << 20) - 3, (1u << 20),
					  (1u << 28) - 5 };
	uint8_t out[4];

	check_pkglength(0, 1, (const uint8_t[]){ 0x01 });
	check_pkglength(62, 1, (const uint8_t[]){ 0x3f });
	check_pkglength(63, 2, (const uint8_t[]){ 0x41, 0x04 });       /* 65 */
	check_pkglength(4093, 2, (const uint8_t[]){ 0x4f, 0xff });     /* 4095 */
	check_pkglength(4094, 3, (const uint8_t[]){ 0x81, 0x00, 0x01 }); /* 4097 */
	check_pkglength((1u << 28) - 5, 4, (const uint8_t[]){ 0xcf, 0xff, 0xff, 0xff });
	CHECK_EQ(aml_encode_pkglength((1u << 28) - 4, out), 0);
	CHECK_EQ(aml_encode_pkglength(UINT32_MAX, out), 0);

	for (unsigned i = 0; i < ARRAY_SIZE(edges); i++) {
		unsigned n = aml_encode_pkglength(edges[i], out), m;
		uint32_t len = decode_pkglength(out, &m);

		CHECK_EQ(m, n);
		CHECK_EQ(len, edges[i] + n);
		/* The shortest encoding: one byte fewer could not hold it. */
		if (n > 1)
			CHECK(len - 1 >= (n == 2 ? 0x40u : 1u << (4 + 8 * (n - 2))));
	}
}

/* ---- Failures ------------------------------------------------------------ */

static void check_einval(const struct guest_acpi_desc *d, const char *msg)
{
	ram_reset();
	log_reset();
	CHECK_EQ(acpi_tables_build(ram, RAM_SIZE, d), -EINVAL);
	CHECK(log_has(msg));
	CHECK(region_is(0xaa));                 /* guest memory untouched */
}

TEST(bad_cpu_counts)
{
	struct guest_acpi_desc d = std_desc(0);

	check_einval(&d, "0 vCPUs");
	d.ncpus = ACPI_TABLES_MAX_CPUS + 1;
	check_einval(&d, "256 vCPUs");
	d.ncpus = 4096;
	check_einval(&d, "4096 vCPUs");
}

TEST(bad_descriptors)
{
	struct guest_acpi_desc d = std_desc(2);

	d.ioapic_base = 0;
	check_einval(&d, "no IOAPIC");

	d = std_desc(2);
	d.pm1a_cnt = 0x602;
	check_einval(&d, "PM1a_CNT_BLK at port 0x602 overlaps PM1a_EVT_BLK");
	d = std_desc(2);
	d.pm_tmr = 0;
	check_einval(&d, "PM_TMR_BLK at port 0x0");
	d = std_desc(2);
	d.pm_tmr = 0xfffd;
	check_einval(&d, "PM_TMR_BLK at port 0xfffd");
	d = std_desc(2);
	d.pm1a_evt = 0xcf8;
	check_einval(&d, "RESET_REG at port 0xcf9 overlaps PM1a_EVT_BLK");

	d = std_desc(2);
	d.bus_start = 0x10;
	d.bus_end = 0x0f;
	check_einval(&d, "end below start");
	d = std_desc(2);
	d.ecam_base = 0xb0080000;
	check_einval(&d, "not 1 MiB aligned");
	d = std_desc(2);
	d.ecam_base = 0xfffffffff0100000ull;   /* 256 buses need 256 MiB */
	check_einval(&d, "runs past");
}

/* The tables need the end of the last one; a byte less does not do. */
TEST(region_too_small)
{
	struct guest_acpi_desc d = std_desc(ACPI_TABLES_MAX_CPUS);
	uint64_t need;

	ram_reset();
	CHECK_EQ(acpi_tables_build(ram, RAM_SIZE, &d), 0);
	need = rsdt_pa() + rd32(rsdt_pa() + H_LENGTH);   /* the RSDT comes last */
	CHECK(need < END);

	ram_reset();
	CHECK_EQ(acpi_tables_build(ram, need, &d), 0);
	CHECK_EQ(acpi_parse(ram + BASE, 36, &info), 0);
	CHECK_EQ(info.ncpus, ACPI_TABLES_MAX_CPUS);
	CHECK(info.s5_valid);
	CHECK(ram[need] == 0xaa);               /* nothing past guest RAM */

	ram_reset();
	log_reset();
	CHECK_EQ(acpi_tables_build(ram, need - 1, &d), -ENOSPC);
	CHECK(log_has("do not fit"));
	for (uint64_t pa = BASE; pa < need - 1; pa++)
		if (ram[pa]) {
			CHECK_EQ(pa, 0);        /* report the first stray byte */
			break;
		}
	CHECK(ram[need - 1] == 0xaa);

	ram_reset();
	CHECK_EQ(acpi_tables_build(ram, BASE + 0x100, &d), -ENOSPC);
	CHECK_EQ(acpi_tables_build(ram, BASE, &d), -ENOSPC);
	CHECK(log_has("below the tables"));
	CHECK_EQ(acpi_tables_build(ram, 0, &d), -ENOSPC);
}

/* Old tables from an earlier build are wiped, not left to be found. */
TEST(rebuild_clears_region)
{
	struct guest_acpi_desc d = std_desc(8);

	ram_reset();
	CHECK_EQ(acpi_tables_build(ram, RAM_SIZE, &d), 0);
	d.ncpus = 1;
	d.ecam_base = 0;
	CHECK_EQ(acpi_tables_build(ram, RAM_SIZE, &d), 0);
	for (uint64_t pa = rsdt_pa() + rd32(rsdt_pa() + H_LENGTH); pa < END; pa++)
		if (ram[pa]) {
			CHECK_EQ(pa, 0);
			break;
		}
	maps_free();
	CHECK_EQ(acpi_parse(ram + BASE, 36, &info), 0);
	CHECK_EQ(info.ncpus, 1);
	CHECK_EQ(info.nmcfg, 0);
}

int main(void)
{
	ram = malloc(RAM_SIZE);
	if (!ram)
		abort();
	RUN(madt_1_2_8_255_cpus);
	RUN(madt_ioapic_overrides_nmi);
	RUN(madt_no_pic);
	RUN(fadt_parsed);
	RUN(fadt_bytes);
	RUN(fadt_24bit_timer_no_rtc);
	RUN(facs_and_dsdt);
	RUN(dsdt_pci_root_and_ecam_resource);
	RUN(dsdt_pci_root_without_window);
	RUN(mcfg);
	RUN(rsdp_and_roots);
	RUN(rsdt_path);
	RUN(rsdp_found_by_bios_scan);
	RUN(aml_pkglength);
	RUN(bad_cpu_counts);
	RUN(bad_descriptors);
	RUN(region_too_small);
	RUN(rebuild_clears_region);
	maps_free();
	free(ram);
	return unit_done();
}
