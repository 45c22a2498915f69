/*
 * Host tests for arch/x86/acpi.c: a QEMU-like set of ACPI tables is built
 * in fake physical memory with real checksums, parsed, and checked field
 * by field; then one piece at a time is broken and the test checks both
 * what was kept and what the console said.
 *
 * acpi_map() hands out a fresh heap copy of exactly the bytes asked for,
 * so AddressSanitizer catches any read past what the parser mapped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/types.h"
#include "mm/mm.h"
#include "arch/x86/acpi.h"
#include "tests/unit/unit.h"

#define FAKE_SIZE (4ull << 20)

#define EBDA_PA 0x9fc00
#define RSDP_PA 0xf5a30
#define XSDT_PA 0x100000
#define RSDT_PA 0x101000
#define MADT_PA 0x102000
#define FADT_PA 0x103000
#define DSDT_PA 0x104000
#define MCFG_PA 0x105000
#define DMAR_PA 0x106000
#define SSDT_PA 0x107000
#define HPET_PA 0x108000
#define DSDT2_PA 0x109000
#define SPARE_PA 0x10a000

/* FADT offsets, ACPI 6.4 Table 5.9, written out independently of acpi.c. */
#define F_DSDT 40
#define F_SCI_INT 46
#define F_SMI_CMD 48
#define F_ACPI_ENABLE 52
#define F_PM1A_CNT 64
#define F_PM1B_CNT 68
#define F_PM_TMR 76
#define F_FLAGS 112
#define F_RESET_REG 116
#define F_RESET_VALUE 128
#define F_X_DSDT 140
#define F_X_PM1A_CNT 172
#define F_X_PM1B_CNT 184
#define F_X_PM_TMR 208
#define FADT_V6_LEN 276

/* ---- acpi_map over fake memory ----------------------------------------- */

#define MAX_MAPS 4096

static void *maps[MAX_MAPS];
static unsigned nmaps;
static unsigned map_calls;

const void *acpi_map(paddr_t pa, size_t len)
{
	void *copy;

	map_calls++;
	if (len == 0 || len > FAKE_SIZE || pa > FAKE_SIZE - len)
		return NULL;
	if (nmaps == MAX_MAPS) {
		fprintf(stderr, "%s: too many acpi_map calls\n", unit_current);
		abort();
	}
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, phys_to_virt(pa), len);
	maps[nmaps++] = copy;
	return copy;
}

static void maps_free(void)
{
	while (nmaps)
		free(maps[--nmaps]);
	map_calls = 0;
}

/* ---- Writing fake memory ------------------------------------------------ */

static void wr(paddr_t pa, const void *src, size_t n)
{
	memcpy(phys_to_virt(pa), src, n);
}

static void wr8(paddr_t pa, uint8_t v) { wr(pa, &v, 1); }
static void wr16(paddr_t pa, uint16_t v) { wr(pa, &v, 2); }
static void wr32(paddr_t pa, uint32_t v) { wr(pa, &v, 4); }
static void wr64(paddr_t pa, uint64_t v) { wr(pa, &v, 8); }

static uint32_t rd32(paddr_t pa)
{
	uint32_t v;

	memcpy(&v, phys_to_virt(pa), 4);
	return v;
}

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void wr_gas(paddr_t pa, uint8_t space, uint8_t width, uint8_t access, uint64_t addr)
{
	wr8(pa, space);
	wr8(pa + 1, width);
	wr8(pa + 2, 0);
	wr8(pa + 3, access);
	wr64(pa + 4, addr);
}

/* A table under construction: header written at begin, length at end. */
struct tb {
	paddr_t pa;
	uint32_t len;
};

static struct tb tb_begin(paddr_t pa, const char *sig, uint8_t rev, uint32_t fixed_len)
{
	struct tb t = { pa, fixed_len };

	memset(phys_to_virt(pa), 0, fixed_len);
	wr(pa, sig, 4);
	wr8(pa + 8, rev);
	wr(pa + 10, "BOCHS ", 6);
	wr(pa + 16, "BXPC    ", 8);
	wr32(pa + 24, 1);
	wr(pa + 28, "BXPC", 4);
	wr32(pa + 32, 1);
	return t;
}

static void tb_put(struct tb *t, const void *bytes, size_t n)
{
	wr(t->pa + t->len, bytes, n);
	t->len += (uint32_t)n;
}

/* Fix the checksum of the table at @pa for the length in its header. */
static void sdt_seal(paddr_t pa)
{
	uint8_t *p = phys_to_virt(pa);

	p[9] = 0;
	p[9] = (uint8_t)(0 - sum_bytes(p, rd32(pa + 4)));
}

static void tb_end(const struct tb *t)
{
	wr32(t->pa + 4, t->len);
	sdt_seal(t->pa);
}

/* ---- The standard platform ---------------------------------------------- */

static void build_rsdp(paddr_t pa, uint8_t rev, const char *oem)
{
	uint8_t *p = phys_to_virt(pa);

	memset(p, 0, 36);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, oem, 6);
	p[15] = rev;
	wr32(pa + 16, RSDT_PA);
	wr32(pa + 20, 36);
	wr64(pa + 24, XSDT_PA);
	p[8] = (uint8_t)(0 - sum_bytes(p, 20));
	p[32] = (uint8_t)(0 - sum_bytes(p, 36));
}

static void build_roots(const paddr_t *tables, unsigned n)
{
	struct tb x = tb_begin(XSDT_PA, "XSDT", 1, 36);
	struct tb r = tb_begin(RSDT_PA, "RSDT", 1, 36);

	for (unsigned i = 0; i < n; i++) {
		uint64_t a64 = tables[i];
		uint32_t a32 = (uint32_t)tables[i];

		tb_put(&x, &a64, 8);
		tb_put(&r, &a32, 4);
	}
	tb_end(&x);
	tb_end(&r);
}

static const uint8_t madt_entries[] = {
	0, 8, 0, 0, 1, 0, 0, 0,                      /* CPU uid 0 apic 0 enabled */
	0, 8, 1, 1, 1, 0, 0, 0,                      /* CPU uid 1 apic 1 enabled */
	0, 8, 2, 2, 2, 0, 0, 0,                      /* uid 2 apic 2 online-capable */
	0, 8, 3, 0xff, 0, 0, 0, 0,                   /* placeholder, skipped */
	9, 16, 0, 0, 0x00, 0x01, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, /* x2APIC 0x100 uid 4 */
	1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* IOAPIC 0 @fec00000 gsi 0 */
	2, 10, 0, 0, 2, 0, 0, 0, 0, 0,               /* IRQ0 -> GSI2 */
	2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0,            /* IRQ9 -> GSI9 level high */
	4, 6, 0xff, 0x05, 0x00, 0x01,                /* LAPIC NMI, ignored */
	0xa, 12, 0x05, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, /* x2APIC NMI */
};

static void build_madt_at(paddr_t pa, const uint8_t *entries, size_t n)
{
	struct tb t = tb_begin(pa, "APIC", 5, 44);

	wr32(pa + 36, 0xfee00000);
	wr32(pa + 40, 1);            /* PCAT_COMPAT */
	tb_put(&t, entries, n);
	tb_end(&t);
}

static void build_madt(const uint8_t *entries, size_t n)
{
	build_madt_at(MADT_PA, entries, n);
}

static void build_fadt(paddr_t pa, uint32_t len, uint8_t rev)
{
	struct tb t = tb_begin(pa, "FACP", rev, len);

	wr32(pa + F_DSDT, DSDT2_PA);
	wr16(pa + F_SCI_INT, 9);
	wr32(pa + F_SMI_CMD, 0xb2);
	wr8(pa + F_ACPI_ENABLE, 0xf1);
	wr32(pa + F_PM1A_CNT, 0x604);
	wr32(pa + F_PM_TMR, 0x608);
	wr32(pa + F_FLAGS, (1u << 8) | (1u << 10));
	if (len >= F_RESET_VALUE + 1) {
		wr_gas(pa + F_RESET_REG, 1, 8, 1, 0xcf9);
		wr8(pa + F_RESET_VALUE, 0x06);
	}
	if (len >= F_X_DSDT + 8)
		wr64(pa + F_X_DSDT, DSDT_PA);
	if (len >= F_X_PM1A_CNT + 12)
		wr_gas(pa + F_X_PM1A_CNT, 1, 16, 2, 0xb004);
	if (len >= F_X_PM_TMR + 12)
		wr_gas(pa + F_X_PM_TMR, 1, 32, 3, 0xb008);
	tb_end(&t);
}

/* Name(_S5, Package(0x04){0x05, 0x05, 0, 0}) as iasl emits it. */
static const uint8_t s5_bytes[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

/* Enough AML around the _S5 to look like a DSDT and to mislead a scan. */
static const uint8_t aml_before[] = {
	0x10, 0x0c, 0x5c, '_', 'S', 'B', '_',        /* Scope(\_SB) { */
	0x08, 'P', 'I', 'C', 'F', 0x00,              /* Name(PICF, Zero) } */
	0x14, 0x0e, 'T', 'S', 'T', '_', 0x00,        /* Method(TST_) { */
	0x5b, 0x12, 0x5c, '_', 'S', '5', '_', 0x00,  /* CondRefOf(\_S5_) } */
	0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t aml_after[] = {
	0x14, 0x08, '_', 'P', 'T', 'S', 0x01, 0xa3,  /* Method(_PTS, 1) { Noop } */
};

static void build_aml_table(paddr_t pa, const char *sig, const uint8_t *s5, size_t n)
{
	struct tb t = tb_begin(pa, sig, 2, 36);

	tb_put(&t, aml_before, sizeof(aml_before));
	tb_put(&t, s5, n);
	tb_put(&t, aml_after, sizeof(aml_after));
	tb_end(&t);
}

static void build_mcfg(void)
{
	struct tb t = tb_begin(MCFG_PA, "MCFG", 1, 44);
	uint8_t e[16] = { 0 };
	uint64_t base = 0xb0000000;

	memcpy(e, &base, 8);
	e[10] = 0x00;
	e[11] = 0xff;
	tb_put(&t, e, sizeof(e));
	tb_end(&t);
}

static const uint8_t dmar_structs[] = {
	/* DRHD, one endpoint in its device scope */
	0, 0, 24, 0, 0x00, 0, 0, 0, 0x00, 0x00, 0xd9, 0xfe, 0, 0, 0, 0,
	1, 8, 0, 0, 1, 0, 2, 0,
	/* DRHD, INCLUDE_PCI_ALL */
	0, 0, 16, 0, 0x01, 0, 0, 0, 0x00, 0x10, 0xd9, 0xfe, 0, 0, 0, 0,
	/* RMRR for one device */
	1, 0, 32, 0, 0, 0, 0, 0, 0x00, 0x00, 0x0e, 0, 0, 0, 0, 0,
	0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x1d, 0,
};

static void build_dmar(const uint8_t *structs, size_t n)
{
	struct tb t = tb_begin(DMAR_PA, "DMAR", 1, 48);

	wr8(DMAR_PA + 36, 38);       /* host address width - 1 */
	wr8(DMAR_PA + 37, 1);        /* INTR_REMAP */
	tb_put(&t, structs, n);
	tb_end(&t);
}

static const paddr_t std_tables[] = { FADT_PA, MADT_PA, HPET_PA, MCFG_PA, DMAR_PA, SSDT_PA };

/* An SSDT with no \_S5 in it. */
static const uint8_t ssdt_plain[] = { 0x08, 'S', 'S', 'D', 'X', 0x0a, 0x01 };

static void build_platform(void)
{
	static const uint8_t s5_legacy[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x03, 0x0a, 0x03, 0x00, 0x00,
	};
	struct tb hpet;

	fake_phys_init(0, FAKE_SIZE);
	maps_free();
	build_rsdp(RSDP_PA, 2, "BOCHS ");
	build_roots(std_tables, ARRAY_SIZE(std_tables));
	build_madt(madt_entries, sizeof(madt_entries));
	build_fadt(FADT_PA, FADT_V6_LEN, 6);
	build_aml_table(DSDT_PA, "DSDT", s5_bytes, sizeof(s5_bytes));
	/* The 32-bit DSDT field points elsewhere: X_DSDT must win. */
	build_aml_table(DSDT2_PA, "DSDT", s5_legacy, sizeof(s5_legacy));
	build_aml_table(SSDT_PA, "SSDT", ssdt_plain, sizeof(ssdt_plain));
	build_mcfg();
	build_dmar(dmar_structs, sizeof(dmar_structs));
	hpet = tb_begin(HPET_PA, "HPET", 1, 56);
	tb_end(&hpet);
}

static struct acpi_info info;

static int parse_len(size_t len)
{
	uint8_t copy[64];

	memcpy(copy, phys_to_virt(RSDP_PA), sizeof(copy));
	return acpi_parse(copy, len, &info);
}

static int parse(void)
{
	return parse_len(36);
}

/* ---- The whole platform ------------------------------------------------- */

TEST(platform_rsdp_and_madt)
{
	build_platform();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.revision, 2);
	CHECK_STR(info.oem_id, "BOCHS ");
	CHECK(log_has("XSDT at 0x100000"));
	CHECK(info.have_madt);
	CHECK_EQ(info.lapic_addr, 0xfee00000);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.ncpus, 4);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK(info.cpus[0].enabled);
	CHECK_EQ(info.cpus[1].apic_id, 1);
	CHECK_EQ(info.cpus[1].uid, 1);
	CHECK(info.cpus[1].enabled);
	CHECK_EQ(info.cpus[2].apic_id, 2);
	CHECK(!info.cpus[2].enabled);
	CHECK_EQ(info.cpus[3].apic_id, 0x100);
	CHECK_EQ(info.cpus[3].uid, 4);
	CHECK(info.cpus[3].enabled);
	CHECK_EQ(info.nioapics, 1);
	CHECK_EQ(info.ioapics[0].id, 0);
	CHECK_EQ(info.ioapics[0].addr, 0xfec00000);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.nisos, 2);
	CHECK_EQ(info.isos[0].source, 0);
	CHECK_EQ(info.isos[0].gsi, 2);
	CHECK_EQ(info.isos[1].bus, 0);
	CHECK_EQ(info.isos[1].source, 9);
	CHECK_EQ(info.isos[1].gsi, 9);
	CHECK_EQ(info.isos[1].flags, 0x0d);
	CHECK(log_has("acpi: MADT: 4 CPUs (3 enabled), 1 IOAPIC, 2 overrides"));
	CHECK(log_has("APIC at 0x102000"));
	CHECK(log_has("HPET at 0x108000"));
}

TEST(platform_fadt_and_s5)
{
	build_platform();
	CHECK_EQ(parse(), 0);
	CHECK(info.have_fadt);
	CHECK_EQ(info.sci_irq, 9);
	CHECK_EQ(info.smi_cmd, 0xb2);
	CHECK_EQ(info.acpi_enable, 0xf1);
	CHECK_EQ(info.pm1a_cnt, 0xb004);      /* X_ field, not 0x604 */
	CHECK_EQ(info.pm1b_cnt, 0);
	CHECK_EQ(info.pm_tmr, 0xb008);
	CHECK(info.pm_tmr_32bit);
	CHECK(!info.hw_reduced);
	CHECK(info.reset_valid);
	CHECK_EQ(info.reset_reg.space_id, 1);
	CHECK_EQ(info.reset_reg.bit_width, 8);
	CHECK_EQ(info.reset_reg.address, 0xcf9);
	CHECK_EQ(info.reset_value, 6);
	CHECK(log_has("DSDT at 0x104000"));   /* X_DSDT, not the 32-bit one */
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 5);
	CHECK_EQ(info.s5_typb, 5);
	CHECK(log_has("acpi: \\_S5: SLP_TYPa 5, SLP_TYPb 5"));
}

TEST(platform_mcfg_dmar)
{
	build_platform();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.nmcfg, 1);
	CHECK_EQ(info.mcfg[0].base, 0xb0000000);
	CHECK_EQ(info.mcfg[0].segment, 0);
	CHECK_EQ(info.mcfg[0].bus_start, 0);
	CHECK_EQ(info.mcfg[0].bus_end, 0xff);
	CHECK_EQ(info.dmar_phys, DMAR_PA);
	CHECK_EQ(info.dmar_len, 48 + sizeof(dmar_structs));
	CHECK_EQ(info.dmar_units, 2);
	CHECK(log_has("acpi: DMAR: 2 DRHD units"));
	CHECK(log_has("buses 0x0-0xff at 0xb0000000"));
}

TEST(global_info_is_defined)
{
	build_platform();
	CHECK_EQ(parse_len(36), 0);
	CHECK_EQ(acpi_parse(phys_to_virt(RSDP_PA), 36, &acpi), 0);
	CHECK_EQ(acpi.ncpus, info.ncpus);
	CHECK(memcmp(&acpi, &info, sizeof(info)) == 0);
}

/* ---- RSDP and root tables ----------------------------------------------- */

TEST(rsdp_bad_checksum)
{
	build_platform();
	wr8(RSDP_PA + 8, (uint8_t)(*(uint8_t *)phys_to_virt(RSDP_PA + 8) + 1));
	CHECK(parse() < 0);
	CHECK(log_has("acpi: RSDP checksum bad (sum 0x1)"));
	CHECK(!info.have_madt);
	CHECK_EQ(map_calls, 0);
}

TEST(rsdp_bad_signature_and_short)
{
	build_platform();
	wr8(RSDP_PA, 'X');
	CHECK(parse() < 0);
	CHECK(log_has("RSDP signature bad"));
	log_reset();
	build_platform();
	CHECK(parse_len(19) < 0);
	CHECK(log_has("shorter than 20 bytes"));
	CHECK(acpi_parse(NULL, 36, &info) < 0);
}

TEST(rsdp_v1_uses_rsdt)
{
	build_platform();
	build_rsdp(RSDP_PA, 0, "OLDBIO");
	CHECK_EQ(parse_len(20), 0);
	CHECK_EQ(info.revision, 0);
	CHECK_STR(info.oem_id, "OLDBIO");
	CHECK(log_has("RSDT at 0x101000"));
	CHECK_EQ(info.ncpus, 4);
	CHECK(info.s5_valid);
}

TEST(rsdp_extended_checksum_bad)
{
	build_platform();
	wr8(RSDP_PA + 33, 0x55);     /* reserved byte: only the v2 sum sees it */
	CHECK_EQ(parse(), 0);
	CHECK(log_has("RSDP: extended checksum bad (sum 0x55); XSDT not used"));
	CHECK(log_has("RSDT at 0x101000"));
	CHECK(info.have_fadt);
}

TEST(rsdp_absurd_length)
{
	build_platform();
	wr32(RSDP_PA + 20, 0xffffffff);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("length 4294967295 outside 36..36; XSDT not used"));
	CHECK(log_has("RSDT at 0x101000"));
	CHECK_EQ(info.ncpus, 4);
}

TEST(xsdt_bad_checksum_falls_back)
{
	build_platform();
	wr8(XSDT_PA + 9, (uint8_t)(*(uint8_t *)phys_to_virt(XSDT_PA + 9) + 0x12));
	CHECK_EQ(parse(), 0);
	CHECK(log_has("acpi: XSDT at 0x100000: checksum bad (sum 0x12); table ignored"));
	CHECK(log_has("falling back to the RSDT at 0x101000"));
	CHECK(log_has("RSDT at 0x101000"));
	CHECK(info.have_madt);
	CHECK(info.have_fadt);
	CHECK_EQ(info.dmar_units, 2);
}

TEST(xsdt_wrong_signature_falls_back)
{
	build_platform();
	wr(XSDT_PA, "RSDT", 4);
	sdt_seal(XSDT_PA);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("table at 0x100000: signature 'RSDT', expected XSDT"));
	CHECK(info.have_madt);
}

TEST(no_usable_root)
{
	build_platform();
	wr32(XSDT_PA + 4, 0xffffffff);
	wr32(RSDT_PA + 4, 3);
	CHECK(parse() < 0);
	CHECK(log_has("acpi: XSDT at 0x100000: length 4294967295 outside 36..16777216; table ignored"));
	CHECK(log_has("acpi: RSDT at 0x101000: length 3 outside"));
	CHECK(log_has("no usable RSDT or XSDT"));
}

TEST(root_entries_bad_addresses)
{
	const paddr_t tables[] = { 0, 0x7ffe1234, 0xfffffffffffffff0ull, FADT_PA, MADT_PA, FADT_PA };

	build_platform();
	build_roots(tables, ARRAY_SIZE(tables));
	/* An odd trailing half entry. */
	wr32(XSDT_PA + 4, rd32(XSDT_PA + 4) + 4);
	sdt_seal(XSDT_PA);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("XSDT: 4 trailing bytes after entry 6 ignored"));
	CHECK(log_has("XSDT: entry 0 is null; skipped"));
	CHECK(log_has("acpi: table at 0x7ffe1234: cannot map its header; table ignored"));
	CHECK(log_has("acpi: table at 0xfffffffffffffff0: cannot map its header"));
	CHECK(log_has("FACP at 0x103000: second FACP table; ignored"));
	CHECK(info.have_fadt);
	CHECK(info.have_madt);
}

TEST(table_bad_checksum_ignored_others_used)
{
	build_platform();
	wr8(FADT_PA + 9, (uint8_t)(*(uint8_t *)phys_to_virt(FADT_PA + 9) + 0x12));
	CHECK_EQ(parse(), 0);
	CHECK(log_has("acpi: FACP at 0x103000: checksum bad (sum 0x12); table ignored"));
	CHECK(!info.have_fadt);
	CHECK(!info.s5_valid);
	CHECK(log_has("no usable FADT"));
	CHECK(info.have_madt);
	CHECK_EQ(info.nmcfg, 1);
	CHECK_EQ(info.dmar_units, 2);
}

TEST(table_absurd_length)
{
	build_platform();
	wr32(MADT_PA + 4, 0xffffffff);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("acpi: APIC at 0x102000: length 4294967295 outside 36..16777216; table ignored"));
	CHECK(!info.have_madt);
	CHECK(info.have_fadt);
	log_reset();
	build_platform();
	wr32(MCFG_PA + 4, 8);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("acpi: MCFG at 0x105000: length 8 outside"));
	/* Sane length, but the table runs off the end of memory. */
	log_reset();
	build_platform();
	wr32(MCFG_PA + 4, 0x400000);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("acpi: MCFG at 0x105000: cannot map 4194304 bytes; table ignored"));
	CHECK_EQ(info.nmcfg, 0);
}

/* ---- MADT ---------------------------------------------------------------- */

TEST(madt_lapic_override_and_duplicates)
{
	static const uint8_t e[] = {
		0, 8, 0, 0, 1, 0, 0, 0,
		5, 12, 0, 0, 0x00, 0x00, 0xe0, 0xfe, 0x01, 0, 0, 0,
		9, 16, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0,   /* apic 0 again */
		9, 16, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 8, 0, 0, 0,
		0x7f, 3, 0,                                         /* unknown type */
	};

	build_platform();
	build_madt(e, sizeof(e));
	wr32(MADT_PA + 40, 0);
	sdt_seal(MADT_PA);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.lapic_addr, 0x1fee00000ull);
	CHECK(!info.pcat_compat);
	CHECK_EQ(info.ncpus, 1);
	CHECK(log_has("APIC ID 0x0 listed twice"));
	CHECK(log_has("acpi: MADT: 1 CPU (1 enabled), 0 IOAPICs, 0 overrides"));
}

TEST(madt_entry_length_zero)
{
	static const uint8_t e[] = {
		0, 8, 0, 0, 1, 0, 0, 0,
		1, 0, 0, 0,
		0, 8, 1, 1, 1, 0, 0, 0,
	};

	build_platform();
	build_madt(e, sizeof(e));
	CHECK_EQ(parse(), 0);
	CHECK(info.have_madt);
	CHECK_EQ(info.ncpus, 1);
	CHECK(log_has("acpi: APIC at 0x102000: entry at offset 52 has length 0 with 12 bytes left; rest of the table ignored"));
}

TEST(madt_entry_overruns)
{
	static const uint8_t e[] = {
		0, 8, 0, 0, 1, 0, 0, 0,
		9, 40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
	};

	build_platform();
	build_madt(e, sizeof(e));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.ncpus, 1);
	CHECK(log_has("entry at offset 52 has length 40 with 16 bytes left"));
}

TEST(madt_entry_too_short_for_type)
{
	static const uint8_t e[] = {
		0, 6, 0, 0, 1, 0,
		0, 8, 1, 1, 1, 0, 0, 0,
	};

	build_platform();
	build_madt(e, sizeof(e));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.ncpus, 0);
	CHECK(log_has("local APIC entry at offset 44 is 6 bytes, needs 8; rest of the table ignored"));
}

TEST(madt_trailing_byte_and_short_table)
{
	static const uint8_t e[] = { 0, 8, 0, 0, 1, 0, 0, 0, 0 };
	struct tb t;

	build_platform();
	build_madt(e, sizeof(e));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.ncpus, 1);
	CHECK(log_has("entry at offset 52 has length 0 with 1 bytes left"));
	log_reset();
	build_platform();
	t = tb_begin(MADT_PA, "APIC", 5, 40);
	tb_end(&t);
	CHECK_EQ(parse(), 0);
	CHECK(!info.have_madt);
	CHECK(log_has("APIC at 0x102000: 40 bytes, shorter than its 44-byte fixed part"));
}

TEST(madt_caps)
{
	static uint8_t e[300 * 16 + 40 * 12 + 40 * 10];
	size_t n = 0;

	for (uint32_t i = 0; i < 300; i++) {
		uint8_t x[16] = { 9, 16, 0, 0 };

		memcpy(x + 4, &i, 4);
		x[8] = 1;
		memcpy(e + n, x, 16);
		n += 16;
	}
	for (uint8_t i = 0; i < 40; i++) {
		uint8_t io[12] = { 1, 12, i, 0, 0, 0, 0xc0, 0xfe };

		memcpy(e + n, io, 12);
		n += 12;
	}
	for (uint8_t i = 0; i < 40; i++) {
		uint8_t iso[10] = { 2, 10, 0, i, i, 0, 0, 0, 0, 0 };

		memcpy(e + n, iso, 10);
		n += 10;
	}
	const paddr_t tables[] = { FADT_PA, 0x200000 };

	build_platform();
	build_madt_at(0x200000, e, n);
	build_roots(tables, ARRAY_SIZE(tables));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.ncpus, ACPI_MAX_CPUS);
	CHECK_EQ(info.cpus[255].apic_id, 255);
	CHECK_EQ(info.nioapics, ACPI_MAX_IOAPICS);
	CHECK_EQ(info.nisos, ACPI_MAX_ISOS);
	CHECK(log_has("acpi: APIC: 44 processor entries beyond the first 256 ignored"));
	CHECK(log_has("acpi: APIC: 24 I/O APIC entries beyond the first 16 ignored"));
	CHECK(log_has("acpi: APIC: 8 interrupt source overrides beyond the first 32 ignored"));
}

/* ---- FADT ---------------------------------------------------------------- */

TEST(fadt_v1_too_short_for_x_fields)
{
	build_platform();
	build_fadt(FADT_PA, 116, 1);
	CHECK_EQ(parse(), 0);
	CHECK(info.have_fadt);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm_tmr, 0x608);
	CHECK(!info.reset_valid);
	CHECK(log_has("RESET_REG_SUP set but the table (116 bytes) has no reset register"));
	CHECK(log_has("DSDT at 0x109000"));  /* the 32-bit DSDT field */
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 3);
}

TEST(fadt_v3_no_x_pm_blocks)
{
	/* Long enough for the reset register and X_DSDT, not X_PM1a_CNT. */
	build_platform();
	build_fadt(FADT_PA, 172, 3);
	CHECK_EQ(parse(), 0);
	CHECK(info.reset_valid);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm_tmr, 0x608);
	CHECK(log_has("DSDT at 0x104000"));
	CHECK_EQ(info.s5_typa, 5);
}

TEST(fadt_shorter_than_v1)
{
	build_platform();
	build_fadt(FADT_PA, 100, 1);
	CHECK_EQ(parse(), 0);
	CHECK(!info.have_fadt);
	CHECK(log_has("FACP at 0x103000: 100 bytes, shorter than the 116-byte ACPI 1.0 FADT; table ignored"));
}

TEST(fadt_x_block_in_memory_space)
{
	build_platform();
	wr_gas(FADT_PA + F_X_PM1A_CNT, 0, 16, 2, 0xfed80000);
	wr32(FADT_PA + F_PM1B_CNT, 0x12345);
	wr32(FADT_PA + F_FLAGS, 0);
	sdt_seal(FADT_PA);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm1b_cnt, 0);
	CHECK(log_has("X_PM1a_CNT_BLK 0xfed80000 is not an I/O port (space 0); using PM1a_CNT_BLK 0x604"));
	CHECK(log_has("PM1b_CNT_BLK 0x12345 is not an I/O port; ignored"));
	CHECK(!info.hw_reduced);
	CHECK(!info.pm_tmr_32bit);
	CHECK(!info.reset_valid);
}

TEST(fadt_hw_reduced_ignores_fixed_registers)
{
	build_platform();
	wr32(FADT_PA + F_FLAGS, (1u << 20) | (1u << 10) | (1u << 8));
	sdt_seal(FADT_PA);
	CHECK_EQ(parse(), 0);
	CHECK(info.have_fadt);
	CHECK(info.hw_reduced);
	CHECK_EQ(info.sci_irq, 0);
	CHECK_EQ(info.smi_cmd, 0);
	CHECK_EQ(info.pm1a_cnt, 0);
	CHECK_EQ(info.pm_tmr, 0);
	CHECK(!info.pm_tmr_32bit);
	CHECK(info.reset_valid);       /* RESET_REG lies outside those fields */
	CHECK(info.s5_valid);
	CHECK(log_has("acpi: FADT: hardware-reduced ACPI, no fixed PM registers"));
}

TEST(fadt_bad_reset_register)
{
	build_platform();
	wr_gas(FADT_PA + F_RESET_REG, 7, 8, 1, 0xcf9);
	sdt_seal(FADT_PA);
	CHECK_EQ(parse(), 0);
	CHECK(!info.reset_valid);
	CHECK(log_has("reset register 0xcf9 in space 7 unusable"));
}

TEST(fadt_dsdt_problems)
{
	build_platform();
	wr64(FADT_PA + F_X_DSDT, MADT_PA);
	sdt_seal(FADT_PA);
	CHECK_EQ(parse(), 0);
	CHECK(info.have_fadt);
	CHECK(!info.s5_valid);
	CHECK(log_has("table at 0x102000: signature 'APIC', expected DSDT"));
	CHECK(log_has("no usable \\_S5; ACPI power-off unavailable"));
	log_reset();
	build_platform();
	wr64(FADT_PA + F_X_DSDT, 0);
	wr32(FADT_PA + F_DSDT, 0);
	sdt_seal(FADT_PA);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("FACP: no DSDT address"));
	log_reset();
	build_platform();
	wr8(DSDT_PA + 40, 0x77);
	CHECK_EQ(parse(), 0);
	CHECK(log_has("DSDT at 0x104000: checksum bad"));
	CHECK(!info.s5_valid);
}

/* ---- \_S5 --------------------------------------------------------------- */

static void s5_try(const uint8_t *aml, size_t n)
{
	build_platform();
	build_aml_table(DSDT_PA, "DSDT", aml, n);
	CHECK_EQ(parse(), 0);
}

TEST(s5_zero_ops)
{
	static const uint8_t a[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00 };

	s5_try(a, sizeof(a));
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 0);
	CHECK_EQ(info.s5_typb, 0);
}

TEST(s5_root_prefix_one_and_byte)
{
	static const uint8_t a[] = {
		0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x01, 0x0a, 0x07, 0x00, 0x00,
	};

	s5_try(a, sizeof(a));
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 1);
	CHECK_EQ(info.s5_typb, 7);
}

TEST(s5_parent_prefix_word_dword)
{
	static const uint8_t a[] = {
		0x08, 0x5e, 0x5e, '_', 'S', '5', '_', 0x12, 0x0a, 0x02,
		0x0b, 0x06, 0x00, 0x0c, 0x02, 0x00, 0x00, 0x00,
	};

	s5_try(a, sizeof(a));
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 6);
	CHECK_EQ(info.s5_typb, 2);
}

TEST(s5_multibyte_pkglength_and_bare_bytes)
{
	/* Two- and four-byte PkgLength forms; bare bytes as elements. */
	static const uint8_t a2[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x04, 0x05, 0x05, 0x00, 0x00,
	};
	static const uint8_t a4[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0xcb, 0x00, 0x00, 0x00, 0x04, 0x0a, 0x04,
		0x0a, 0x02, 0x00, 0x00,
	};

	s5_try(a2, sizeof(a2));
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 5);
	CHECK_EQ(info.s5_typb, 5);
	s5_try(a4, sizeof(a4));
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 4);
	CHECK_EQ(info.s5_typb, 2);
}

TEST(s5_truncated_at_table_end)
{
	static const uint8_t a[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a };
	struct tb t;

	/* The package is the last thing in the table and is cut short. */
	build_platform();
	t = tb_begin(DSDT_PA, "DSDT", 2, 36);
	tb_put(&t, aml_before, sizeof(aml_before));
	tb_put(&t, a, sizeof(a));
	tb_end(&t);
	CHECK_EQ(parse(), 0);
	CHECK(!info.s5_valid);
	CHECK(log_has("DSDT at 0x104000: \\_S5 at offset 0x4d: package runs past the end of the table; ignored"));
	CHECK(log_has("no usable \\_S5"));
}

TEST(s5_truncated_inside_package)
{
	static const uint8_t a[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0a, 0x05, 0x0a, 0x05,
	};

	s5_try(a, sizeof(a));
	CHECK(!info.s5_valid);
	CHECK(log_has("\\_S5 at offset 0x4d: truncated; ignored"));
}

TEST(s5_bad_encodings)
{
	static const uint8_t not_int[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0d, 'A', 0x00, 0x00,
	};
	static const uint8_t too_wide[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x09, 0x0a, 0x00,
	};
	static const uint8_t one_elem[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x00 };
	static const uint8_t reserved[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x76, 0x00, 0x02, 0x00, 0x00,
	};
	static const uint8_t self_short[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x41, 0x00, 0x02 };

	s5_try(not_int, sizeof(not_int));
	CHECK(!info.s5_valid);
	CHECK(log_has("element is not an integer constant"));
	s5_try(too_wide, sizeof(too_wide));
	CHECK(!info.s5_valid);
	CHECK(log_has("SLP_TYP value wider than 3 bits"));
	s5_try(one_elem, sizeof(one_elem));
	CHECK(!info.s5_valid);
	CHECK(log_has("package has fewer than 2 elements"));
	s5_try(reserved, sizeof(reserved));
	CHECK(!info.s5_valid);
	CHECK(log_has("PkgLength reserved bits set"));
	s5_try(self_short, sizeof(self_short));
	CHECK(!info.s5_valid);
	CHECK(log_has("PkgLength shorter than its own encoding"));
}

TEST(s5_not_a_definition)
{
	/* "_S5_" followed by a package but without NameOp: not a definition. */
	static const uint8_t a[] = {
		0xa4, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00,
	};

	s5_try(a, sizeof(a));
	CHECK(!info.s5_valid);
	CHECK(!log_has("\\_S5 at offset"));
}

TEST(s5_bad_first_good_second)
{
	static const uint8_t a[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0d, 0x00,
		0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01,
	};

	s5_try(a, sizeof(a));
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 1);
	CHECK(log_has("element is not an integer constant"));
}

TEST(s5_from_ssdt)
{
	static const uint8_t none[] = { 0x08, 'N', 'O', 'N', 'E', 0x00 };
	static const uint8_t ssdt_s5[] = {
		0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x07, 0x00,
	};
	const paddr_t tables[] = { SSDT_PA, SPARE_PA, FADT_PA, MADT_PA };

	build_platform();
	build_aml_table(DSDT_PA, "DSDT", none, sizeof(none));
	build_aml_table(SPARE_PA, "SSDT", ssdt_s5, sizeof(ssdt_s5));
	build_roots(tables, ARRAY_SIZE(tables));
	CHECK_EQ(parse(), 0);
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_typa, 7);
	CHECK_EQ(info.s5_typb, 0);
	/* With a \_S5 in the DSDT, a broken one in an SSDT is never read. */
	log_reset();
	build_platform();
	build_aml_table(SPARE_PA, "SSDT", (const uint8_t *)"\x08_S5_\x12\x09", 7);
	build_roots(tables, ARRAY_SIZE(tables));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.s5_typa, 5);
	CHECK(!log_has("SSDT at 0x10a000: \\_S5"));
}

/* ---- MCFG and DMAR ------------------------------------------------------ */

TEST(mcfg_bad_entries_and_cap)
{
	struct tb t = { 0, 0 };
	uint64_t base = 0xe0000000;

	build_platform();
	t = tb_begin(MCFG_PA, "MCFG", 1, 44);
	for (unsigned i = 0; i < 11; i++) {
		uint8_t e[16] = { 0 };

		memcpy(e, &base, 8);
		e[8] = (uint8_t)i;
		e[10] = i == 1 ? 0x20 : 0;
		e[11] = i == 1 ? 0x10 : 0xff;
		tb_put(&t, e, 16);
	}
	tb_put(&t, "xyz", 3);
	tb_end(&t);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.nmcfg, ACPI_MAX_MCFG);
	CHECK_EQ(info.mcfg[0].segment, 0);
	CHECK_EQ(info.mcfg[1].segment, 2);
	CHECK(log_has("MCFG at 0x105000: entry 1: end bus 0x10 below start bus 0x20; entry ignored"));
	CHECK(log_has("MCFG at 0x105000: 3 trailing bytes after entry 11 ignored"));
	CHECK(log_has("MCFG: entry 10 beyond the first 8 ignored"));
}

TEST(mcfg_bad_checksum)
{
	build_platform();
	wr8(MCFG_PA + 44, 0x01);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.nmcfg, 0);
	CHECK(log_has("acpi: MCFG at 0x105000: checksum bad (sum 0x1); table ignored"));
	CHECK(info.have_madt);
	CHECK(info.have_fadt);
}

TEST(dmar_structure_overruns)
{
	static uint8_t s[sizeof(dmar_structs)];

	memcpy(s, dmar_structs, sizeof(s));
	s[40 + 2] = 0x40;            /* RMRR claims 64 bytes, 32 are left */
	build_platform();
	build_dmar(s, sizeof(s));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.dmar_phys, DMAR_PA);
	CHECK_EQ(info.dmar_units, 2);
	CHECK(log_has("acpi: DMAR at 0x106000: structure at offset 88 has length 64 with 32 bytes left; rest not counted"));
}

TEST(dmar_bad_lengths)
{
	static const uint8_t zero[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t short_drhd[] = { 0, 0, 8, 0, 0, 0, 0, 0 };
	static const uint8_t tail[] = { 0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0xd9, 0xfe, 0, 0, 0, 0, 0, 0 };
	struct tb t;

	build_platform();
	build_dmar(zero, sizeof(zero));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.dmar_units, 0);
	CHECK(log_has("structure at offset 48 has length 0 with 16 bytes left"));
	log_reset();
	build_platform();
	build_dmar(short_drhd, sizeof(short_drhd));
	CHECK_EQ(parse(), 0);
	CHECK(log_has("DRHD at offset 48 is 8 bytes, needs 16"));
	log_reset();
	build_platform();
	build_dmar(tail, sizeof(tail));
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.dmar_units, 1);
	CHECK(log_has("structure at offset 64 has length 0 with 2 bytes left"));
	log_reset();
	build_platform();
	t = tb_begin(DMAR_PA, "DMAR", 1, 40);
	tb_end(&t);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(info.dmar_phys, 0);
	CHECK(log_has("DMAR at 0x106000: 40 bytes, shorter than its 48-byte fixed part"));
}

/* ---- RSDP search in the BIOS areas -------------------------------------- */

TEST(find_rsdp_in_ebda)
{
	const uint8_t *r;

	build_platform();
	wr16(0x40e, EBDA_PA >> 4);
	build_rsdp(EBDA_PA + 0x40, 2, "EBDA  ");
	r = acpi_find_rsdp_bios();
	CHECK(r != NULL);
	if (r) {
		CHECK(memcmp(r, phys_to_virt(EBDA_PA + 0x40), 36) == 0);
		CHECK_EQ(acpi_parse(r, 36, &info), 0);
		CHECK_STR(info.oem_id, "EBDA  ");
	}
}

TEST(find_rsdp_in_bios_area)
{
	const uint8_t *r;

	build_platform();
	wr16(0x40e, EBDA_PA >> 4);
	/* Decoys: a bad checksum in the EBDA, a copy off the 16-byte grid. */
	memcpy(phys_to_virt(EBDA_PA), "RSD PTR ", 8);
	memcpy(phys_to_virt(0xe0008), phys_to_virt(RSDP_PA), 36);
	r = acpi_find_rsdp_bios();
	CHECK(r != NULL);
	if (r)
		CHECK(memcmp(r, phys_to_virt(RSDP_PA), 36) == 0);
}

TEST(find_rsdp_none)
{
	uint8_t *end;

	build_platform();
	end = phys_to_virt(0xfffe0);
	memset(phys_to_virt(RSDP_PA), 0, 36);
	wr16(0x40e, 0);
	CHECK(acpi_find_rsdp_bios() == NULL);
	wr16(0x40e, 0xffff);         /* EBDA "segment" past conventional memory */
	CHECK(acpi_find_rsdp_bios() == NULL);
	/* A 2.0 RSDP needs 36 bytes; only 32 are left below 1 MiB. */
	build_rsdp(0xfffe0, 2, "ENDEND");
	CHECK(acpi_find_rsdp_bios() == NULL);
	/* A 1.0 one (20 bytes) fits. */
	end[15] = 0;
	end[8] = 0;
	end[8] = (uint8_t)(0 - sum_bytes(end, 20));
	CHECK(acpi_find_rsdp_bios() != NULL);
}

int main(void)
{
	RUN(platform_rsdp_and_madt);
	RUN(platform_fadt_and_s5);
	RUN(platform_mcfg_dmar);
	RUN(global_info_is_defined);
	RUN(rsdp_bad_checksum);
	RUN(rsdp_bad_signature_and_short);
	RUN(rsdp_v1_uses_rsdt);
	RUN(rsdp_extended_checksum_bad);
	RUN(rsdp_absurd_length);
	RUN(xsdt_bad_checksum_falls_back);
	RUN(xsdt_wrong_signature_falls_back);
	RUN(no_usable_root);
	RUN(root_entries_bad_addresses);
	RUN(table_bad_checksum_ignored_others_used);
	RUN(table_absurd_length);
	RUN(madt_lapic_override_and_duplicates);
	RUN(madt_entry_length_zero);
	RUN(madt_entry_overruns);
	RUN(madt_entry_too_short_for_type);
	RUN(madt_trailing_byte_and_short_table);
	RUN(madt_caps);
	RUN(fadt_v1_too_short_for_x_fields);
	RUN(fadt_v3_no_x_pm_blocks);
	RUN(fadt_shorter_than_v1);
	RUN(fadt_x_block_in_memory_space);
	RUN(fadt_hw_reduced_ignores_fixed_registers);
	RUN(fadt_bad_reset_register);
	RUN(fadt_dsdt_problems);
	RUN(s5_zero_ops);
	RUN(s5_root_prefix_one_and_byte);
	RUN(s5_parent_prefix_word_dword);
	RUN(s5_multibyte_pkglength_and_bare_bytes);
	RUN(s5_truncated_at_table_end);
	RUN(s5_truncated_inside_package);
	RUN(s5_bad_encodings);
	RUN(s5_not_a_definition);
	RUN(s5_bad_first_good_second);
	RUN(s5_from_ssdt);
	RUN(mcfg_bad_entries_and_cap);
	RUN(mcfg_bad_checksum);
	RUN(dmar_structure_overruns);
	RUN(dmar_bad_lengths);
	RUN(find_rsdp_in_ebda);
	RUN(find_rsdp_in_bios_area);
	RUN(find_rsdp_none);
	maps_free();
	return unit_done();
}
