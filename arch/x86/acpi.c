/*
 * ACPI table discovery (ACPI 6.4 chapter 5.2): RSDP -> XSDT or RSDT ->
 * MADT, FADT (+ DSDT/SSDT for \_S5), MCFG and DMAR.
 *
 * Every byte here comes from firmware and is untrusted: each length and
 * offset is checked against the table that holds it before it is read,
 * a table that fails is reported with its signature and address and then
 * ignored, and the others are still used. Nothing here panics on input.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/types.h"
#include "arch/x86/acpi.h"
#include "arch/x86/acpi_defs.h"

struct acpi_info acpi;

#define PA(x) ((unsigned long long)(x))

/*
 * No real table comes near this (a large DSDT is a few hundred KiB); it
 * keeps a corrupt length from making us map and sum gigabytes.
 */
#define SDT_MAX_LEN (16u << 20)

/* A table that passed its length and checksum checks. */
struct sdt {
	paddr_t pa;
	const uint8_t *p;
	uint32_t len;
	char sig[5];            /* printable copy of the signature */
};

#define ACPI_MAX_SSDTS 32

/* State of one acpi_parse() run. */
struct acpi_walk {
	struct acpi_info *info;
	unsigned seen;          /* handler bits, to spot duplicate tables */
	struct sdt ssdts[ACPI_MAX_SSDTS];
	unsigned nssdts;
};

/* ---- Bytes and headers ------------------------------------------------- */

/* All bytes of a valid table or RSDP sum to zero (ACPI 6.4 5.2.5.3, 5.2.6). */
static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* Firmware strings may hold anything; keep the console readable. */
static void acpi_copy_printable(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

static uint32_t sdt_read_length(const uint8_t *hdr)
{
	uint32_t len;

	memcpy(&len, hdr + offsetof(struct sdt_hdr, length), sizeof(len));
	return len;
}

static bool sdt_is_length_sane(const struct sdt *t, uint32_t len)
{
	if (len >= SDT_HDR_LEN && len <= SDT_MAX_LEN && !range_overflows(t->pa, len))
		return true;
	pr_err("acpi: %s at 0x%llx: length %u outside %u..%u; table ignored\n",
	       t->sig, PA(t->pa), len, SDT_HDR_LEN, SDT_MAX_LEN);
	return false;
}

/* Read the header of the table at @pa: signature and length. */
static int sdt_map_header(paddr_t pa, struct sdt *t)
{
	const uint8_t *hdr = NULL;

	t->pa = pa;
	if (!range_overflows(pa, SDT_HDR_LEN))
		hdr = acpi_map(pa, SDT_HDR_LEN);
	if (!hdr) {
		pr_err("acpi: table at 0x%llx: cannot map its header; table ignored\n", PA(pa));
		return -EFAULT;
	}
	acpi_copy_printable(t->sig, (const char *)hdr, 4);
	t->len = sdt_read_length(hdr);
	return 0;
}

/*
 * Map and check the table at @pa: header first, then its length, then the
 * whole table and its checksum. @expect, if set, is the signature it must
 * carry. Reports why and returns a negative error when the table is unusable.
 */
static int sdt_map(paddr_t pa, const char *expect, struct sdt *t)
{
	uint8_t sum;
	int ret = sdt_map_header(pa, t);

	if (ret)
		return ret;
	if (expect && memcmp(t->sig, expect, 4) != 0) {
		pr_err("acpi: table at 0x%llx: signature '%s', expected %s; table ignored\n",
		       PA(pa), t->sig, expect);
		return -EINVAL;
	}
	if (!sdt_is_length_sane(t, t->len))
		return -EINVAL;
	t->p = acpi_map(pa, t->len);
	if (!t->p) {
		pr_err("acpi: %s at 0x%llx: cannot map %u bytes; table ignored\n",
		       t->sig, PA(pa), t->len);
		return -EFAULT;
	}
	sum = acpi_checksum(t->p, t->len);
	if (sum) {
		pr_err("acpi: %s at 0x%llx: checksum bad (sum 0x%x); table ignored\n",
		       t->sig, PA(pa), sum);
		return -EINVAL;
	}
	return 0;
}

static void sdt_print(const struct sdt *t)
{
	char oem[7];

	acpi_copy_printable(oem, (const char *)t->p + offsetof(struct sdt_hdr, oem_id), 6);
	pr_info("acpi: %s at 0x%llx, %u bytes, OEM '%s'\n", t->sig, PA(t->pa), t->len, oem);
}

static const char *plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

/* ---- MADT, ACPI 6.4 5.2.12 --------------------------------------------- */

#define MADT_PCAT_COMPAT (1u << 0)  /* Table 5.20 */

/* Further interrupt controller structures; types 0-2 are in acpi_defs.h. */
struct madt_lapic_override {         /* type 5, 5.2.12.8 */
	uint8_t type, length;
	uint16_t reserved;
	uint64_t addr;
} __packed;

struct madt_x2apic {                 /* type 9, 5.2.12.12 */
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __packed;

/* Local APIC flags, Table 5.23: bit 1 means "can be brought online later". */
#define MADT_LAPIC_ENABLED (1u << 0)

#define MADT_XAPIC_ID_NONE 0xffu
#define MADT_X2APIC_ID_NONE 0xffffffffu

struct madt_walk {
	struct acpi_info *info;
	const struct sdt *t;
	unsigned dropped_cpus, dropped_ioapics, dropped_isos;
};

static bool madt_has_cpu(const struct acpi_info *info, uint32_t apic_id)
{
	for (unsigned i = 0; i < info->ncpus; i++)
		if (info->cpus[i].apic_id == apic_id)
			return true;
	return false;
}

static void madt_add_cpu(struct madt_walk *m, uint32_t apic_id, uint32_t uid, uint32_t flags)
{
	struct acpi_info *info = m->info;
	struct acpi_cpu *cpu;

	/*
	 * 5.2.12.12: IDs below 255 must use a type-0 entry and the rest type
	 * 9, so one ID twice is a firmware bug; booting it twice would be ours.
	 */
	if (madt_has_cpu(info, apic_id)) {
		pr_warn("acpi: APIC: APIC ID 0x%x listed twice; second entry ignored\n", apic_id);
		return;
	}
	if (info->ncpus == ACPI_MAX_CPUS) {
		m->dropped_cpus++;
		return;
	}
	cpu = &info->cpus[info->ncpus++];
	cpu->apic_id = apic_id;
	cpu->uid = uid;
	cpu->enabled = flags & MADT_LAPIC_ENABLED;
}

static void madt_parse_lapic(struct madt_walk *m, const uint8_t *e)
{
	const struct madt_lapic *l = (const void *)e;

	/* An ID of 0xFF is a placeholder for a processor that is not there. */
	if (l->apic_id == MADT_XAPIC_ID_NONE)
		return;
	madt_add_cpu(m, l->apic_id, l->uid, l->flags);
}

static void madt_parse_x2apic(struct madt_walk *m, const uint8_t *e)
{
	const struct madt_x2apic *x = (const void *)e;

	if (x->x2apic_id == MADT_X2APIC_ID_NONE)
		return;
	madt_add_cpu(m, x->x2apic_id, x->uid, x->flags);
}

static void madt_parse_ioapic(struct madt_walk *m, const uint8_t *e)
{
	const struct madt_ioapic *io = (const void *)e;
	struct acpi_info *info = m->info;
	struct acpi_ioapic *dst;

	if (info->nioapics == ACPI_MAX_IOAPICS) {
		m->dropped_ioapics++;
		return;
	}
	dst = &info->ioapics[info->nioapics++];
	dst->id = io->id;
	dst->addr = io->addr;
	dst->gsi_base = io->gsi_base;
}

static void madt_parse_iso(struct madt_walk *m, const uint8_t *e)
{
	const struct madt_iso *iso = (const void *)e;
	struct acpi_info *info = m->info;
	struct acpi_iso *dst;

	if (info->nisos == ACPI_MAX_ISOS) {
		m->dropped_isos++;
		return;
	}
	dst = &info->isos[info->nisos++];
	dst->bus = iso->bus;
	dst->source = iso->source;
	dst->gsi = iso->gsi;
	dst->flags = iso->flags;
}

/* 5.2.12.8: a 64-bit address that replaces the 32-bit one in the header. */
static void madt_parse_lapic_override(struct madt_walk *m, const uint8_t *e)
{
	const struct madt_lapic_override *o = (const void *)e;

	m->info->lapic_addr = o->addr;
}

/* Entry types we use, with the size each must have at least. */
static const struct madt_handler {
	uint8_t type;
	uint8_t min_len;
	const char *name;
	void (*parse)(struct madt_walk *m, const uint8_t *e);
} madt_handlers[] = {
	{ 0, sizeof(struct madt_lapic), "local APIC", madt_parse_lapic },
	{ 1, sizeof(struct madt_ioapic), "I/O APIC", madt_parse_ioapic },
	{ 2, sizeof(struct madt_iso), "interrupt source override", madt_parse_iso },
	{ 5, sizeof(struct madt_lapic_override), "local APIC address override",
	  madt_parse_lapic_override },
	{ 9, sizeof(struct madt_x2apic), "local x2APIC", madt_parse_x2apic },
};

static const struct madt_handler *madt_handler_find(uint8_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(madt_handlers); i++)
		if (madt_handlers[i].type == type)
			return &madt_handlers[i];
	return NULL;
}

/*
 * Check the entry at @off and hand it to its parser. Types we do not use
 * (NMI sources and the rest) only need a sane length. Returns the entry
 * length, or 0 when the walk has to stop because the length is unusable.
 */
static uint32_t madt_parse_entry(struct madt_walk *m, uint32_t off)
{
	const struct sdt *t = m->t;
	const uint8_t *e = t->p + off;
	uint32_t left = t->len - off;
	const struct madt_handler *h;

	if (left < 2 || e[1] < 2 || e[1] > left) {
		pr_err("acpi: APIC at 0x%llx: entry at offset %u has length %u with %u bytes left; rest of the table ignored\n",
		       PA(t->pa), off, left < 2 ? 0 : e[1], left);
		return 0;
	}
	h = madt_handler_find(e[0]);
	if (!h)
		return e[1];
	if (e[1] < h->min_len) {
		pr_err("acpi: APIC at 0x%llx: %s entry at offset %u is %u bytes, needs %u; rest of the table ignored\n",
		       PA(t->pa), h->name, off, e[1], h->min_len);
		return 0;
	}
	h->parse(m, e);
	return e[1];
}

static void madt_report_dropped(const struct madt_walk *m)
{
	if (m->dropped_cpus)
		pr_warn("acpi: APIC: %u processor entries beyond the first %u ignored\n",
			m->dropped_cpus, ACPI_MAX_CPUS);
	if (m->dropped_ioapics)
		pr_warn("acpi: APIC: %u I/O APIC entries beyond the first %u ignored\n",
			m->dropped_ioapics, ACPI_MAX_IOAPICS);
	if (m->dropped_isos)
		pr_warn("acpi: APIC: %u interrupt source overrides beyond the first %u ignored\n",
			m->dropped_isos, ACPI_MAX_ISOS);
}

static void madt_parse(struct acpi_walk *w, const struct sdt *t)
{
	const struct madt_fixed *f = (const void *)t->p;
	struct madt_walk m = { .info = w->info, .t = t };
	uint32_t off = sizeof(*f);
	uint32_t step = 1;

	if (t->len < sizeof(*f)) {
		pr_err("acpi: APIC at 0x%llx: %u bytes, shorter than its %u-byte fixed part; table ignored\n",
		       PA(t->pa), t->len, (unsigned)sizeof(*f));
		return;
	}
	w->info->have_madt = true;
	w->info->lapic_addr = f->lapic_addr;
	w->info->pcat_compat = f->flags & MADT_PCAT_COMPAT;
	while (off < t->len && step) {
		step = madt_parse_entry(&m, off);
		off += step;
	}
	madt_report_dropped(&m);
}

/* ---- AML, just enough for \_S5 (ACPI 6.4 chapter 20) ------------------- */

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR 0x5c
#define AML_PARENT_PREFIX 0x5e

/* SLP_TYPx is a 3-bit field of PM1_CNT (ACPI 6.4 chapter 16). */
#define SLP_TYP_MAX 7

/* Reads stop at @end; the first failure leaves its reason in @err. */
struct aml_cursor {
	const uint8_t *p;
	uint32_t pos, end;
	const char *err;
};

static int aml_fail(struct aml_cursor *c, const char *why)
{
	if (!c->err)
		c->err = why;
	return -EINVAL;
}

/* Little-endian integer of @n bytes (AML data is little-endian, 20.2.3). */
static int aml_read_uint(struct aml_cursor *c, unsigned n, uint32_t *val)
{
	*val = 0;
	if (c->pos >= c->end || n > c->end - c->pos)
		return aml_fail(c, "truncated");
	for (unsigned i = 0; i < n; i++)
		*val |= (uint32_t)c->p[c->pos + i] << (8 * i);
	c->pos += n;
	return 0;
}

/*
 * PkgLength, 20.2.4: bits 7-6 of the lead byte count the bytes that follow
 * (0-3). With none, bits 5-0 are the length; otherwise bits 3-0 are its
 * low nibble, bits 5-4 must be zero and each following byte adds 8 bits.
 * The length counts itself, so the package ends at @start + length.
 */
static int aml_read_pkglength(struct aml_cursor *c, uint32_t *len)
{
	uint32_t start = c->pos, lead, more, b;

	if (aml_read_uint(c, 1, &lead))
		return -EINVAL;
	more = lead >> 6;
	if (more == 0) {
		*len = lead & 0x3f;
	} else {
		if (lead & 0x30)
			return aml_fail(c, "PkgLength reserved bits set");
		if (aml_read_uint(c, more, &b))
			return -EINVAL;
		*len = (lead & 0x0f) | (b << 4);
	}
	if (*len < c->pos - start)
		return aml_fail(c, "PkgLength shorter than its own encoding");
	return 0;
}

/*
 * One package element holding a small integer: ZeroOp, OneOp, or a
 * Byte/Word/DWordConst (20.2.3). A bare byte 2..7 is not valid AML here,
 * but no opcode starts with it either, so hand-built tables that write
 * the value alone are read as meaning it.
 */
static int aml_read_small_int(struct aml_cursor *c, uint8_t *val)
{
	uint32_t op, v;
	int ret = 0;

	if (aml_read_uint(c, 1, &op))
		return -EINVAL;
	if (op <= SLP_TYP_MAX)            /* ZeroOp, OneOp or a bare value */
		v = op;
	else if (op == AML_BYTE_PREFIX)
		ret = aml_read_uint(c, 1, &v);
	else if (op == AML_WORD_PREFIX)
		ret = aml_read_uint(c, 2, &v);
	else if (op == AML_DWORD_PREFIX)
		ret = aml_read_uint(c, 4, &v);
	else
		return aml_fail(c, "element is not an integer constant");
	if (ret)
		return ret;
	if (v > SLP_TYP_MAX)
		return aml_fail(c, "SLP_TYP value wider than 3 bits");
	*val = (uint8_t)v;
	return 0;
}

/*
 * DefPackage (20.2.5.4) := PackageOp PkgLength NumElements PackageElementList.
 * \_S5 (7.4.2) holds SLP_TYPa then SLP_TYPb, then reserved elements.
 * @c starts just after the PackageOp.
 */
static int aml_read_s5_package(struct aml_cursor *c, uint8_t *typa, uint8_t *typb)
{
	uint32_t start = c->pos, len = 0, nelem;

	if (aml_read_pkglength(c, &len))
		return -EINVAL;
	if (len > c->end - start)
		return aml_fail(c, "package runs past the end of the table");
	c->end = start + len;
	if (aml_read_uint(c, 1, &nelem))
		return -EINVAL;
	if (nelem < 2)
		return aml_fail(c, "package has fewer than 2 elements");
	if (aml_read_small_int(c, typa) || aml_read_small_int(c, typb))
		return -EINVAL;
	return 0;
}

/*
 * Is the "_S5_" at @off the name in a DefName (20.2.5.1: NameOp NameString
 * DataRefObject) whose object is a package? Root and parent prefixes may
 * sit between NameOp and the name. Other hits are references, not the
 * definition, and are skipped.
 */
static bool s5_is_definition(const struct sdt *t, uint32_t off)
{
	uint32_t i = off;

	if (t->len - off <= 4 || t->p[off + 4] != AML_PACKAGE_OP)
		return false;
	while (i > SDT_HDR_LEN &&
	       (t->p[i - 1] == AML_ROOT_CHAR || t->p[i - 1] == AML_PARENT_PREFIX))
		i--;
	return i > SDT_HDR_LEN && t->p[i - 1] == AML_NAME_OP;
}

/* Search the AML of @t for Name(_S5, Package(){...}); true when decoded. */
static bool s5_find(const struct sdt *t, struct acpi_info *info)
{
	for (uint32_t off = SDT_HDR_LEN; off + 4 <= t->len; off++) {
		struct aml_cursor c = { .p = t->p, .pos = off + 5, .end = t->len };

		if (memcmp(t->p + off, "_S5_", 4) != 0 || !s5_is_definition(t, off))
			continue;
		if (aml_read_s5_package(&c, &info->s5_typa, &info->s5_typb) == 0) {
			info->s5_valid = true;
			return true;
		}
		pr_err("acpi: %s at 0x%llx: \\_S5 at offset 0x%x: %s; ignored\n",
		       t->sig, PA(t->pa), off, c.err);
	}
	return false;
}

/* Only when the DSDT has no \_S5 do the SSDTs get searched (5.2.11.2). */
static void s5_find_in_ssdts(struct acpi_walk *w)
{
	for (unsigned i = 0; i < w->nssdts && !w->info->s5_valid; i++)
		s5_find(&w->ssdts[i], w->info);
}

static void ssdt_note(struct acpi_walk *w, const struct sdt *t)
{
	if (w->nssdts == ACPI_MAX_SSDTS) {
		pr_warn("acpi: SSDT at 0x%llx: more than %u SSDTs; not searched for \\_S5\n",
			PA(t->pa), ACPI_MAX_SSDTS);
		return;
	}
	w->ssdts[w->nssdts++] = *t;
}

/* ---- FADT, ACPI 6.4 5.2.9 (Table 5.9) ---------------------------------- */

/* The ACPI 1.0 FADT ends after the flags; everything later is optional. */
#define FADT_V1_LEN (offsetof(struct fadt, flags) + sizeof(uint32_t))

/* Does the table reach to the end of @field? */
#define FADT_HAS(t, field)                                                    \
	((t)->len >= offsetof(struct fadt, field) + sizeof(((struct fadt *)0)->field))

/* Fixed feature flags, Table 5.10. */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* GAS address spaces, 5.2.3.2 (Table 5.1). */
#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO 1
#define GAS_PCI_CONFIG 2

#define IO_PORT_MAX 0xffffu

/*
 * An I/O register block: the X_ GAS when the table has it and it is
 * non-zero (5.2.9: then the 32-bit field is to be ignored), else the
 * 32-bit field. We only drive these blocks with port I/O, so an X_ block
 * elsewhere is reported and the 32-bit field used instead.
 */
static uint64_t fadt_io_block(const struct sdt *t, const char *name, uint32_t legacy,
			      size_t x_off)
{
	struct acpi_gas gas;

	if (t->len >= x_off + sizeof(gas)) {
		memcpy(&gas, t->p + x_off, sizeof(gas));
		if (gas.address && gas.space_id == GAS_SYSTEM_IO && gas.address <= IO_PORT_MAX)
			return gas.address;
		if (gas.address)
			pr_warn("acpi: FACP: X_%s 0x%llx is not an I/O port (space %u); using %s 0x%x\n",
				name, PA(gas.address), gas.space_id, name, legacy);
	}
	if (legacy > IO_PORT_MAX) {
		pr_warn("acpi: FACP: %s 0x%x is not an I/O port; ignored\n", name, legacy);
		return 0;
	}
	return legacy;
}

/* RESET_REG (5.2.9, 4.8.3.6): only I/O, memory and PCI config are allowed. */
static void fadt_parse_reset(struct acpi_info *info, const struct sdt *t)
{
	const struct fadt *f = (const void *)t->p;
	struct acpi_gas gas;

	if (!(f->flags & FADT_RESET_REG_SUP))
		return;
	if (!FADT_HAS(t, reset_value)) {
		pr_warn("acpi: FACP: RESET_REG_SUP set but the table (%u bytes) has no reset register\n",
			t->len);
		return;
	}
	memcpy(&gas, t->p + offsetof(struct fadt, reset_reg), sizeof(gas));
	if (!gas.address || gas.space_id > GAS_PCI_CONFIG) {
		pr_warn("acpi: FACP: reset register 0x%llx in space %u unusable; ignored\n",
			PA(gas.address), gas.space_id);
		return;
	}
	info->reset_reg = gas;
	info->reset_value = f->reset_value;
	info->reset_valid = true;
}

/* The DSDT (5.2.11.1): X_DSDT wins when present and non-zero. */
static void fadt_load_dsdt(struct acpi_info *info, const struct sdt *t)
{
	const struct fadt *f = (const void *)t->p;
	paddr_t pa = f->dsdt;
	struct sdt dsdt;

	if (FADT_HAS(t, x_dsdt) && f->x_dsdt)
		pa = f->x_dsdt;
	if (!pa) {
		pr_warn("acpi: FACP: no DSDT address\n");
		return;
	}
	if (sdt_map(pa, "DSDT", &dsdt))
		return;
	sdt_print(&dsdt);
	s5_find(&dsdt, info);
}

/*
 * The fixed-hardware register interface. 5.2.9: on a hardware-reduced
 * platform OSPM ignores these fields (offsets 46-108 and 148-232, and
 * flag bit 8), so they stay zero there.
 */
static void fadt_parse_fixed_hw(struct acpi_info *info, const struct sdt *t)
{
	const struct fadt *f = (const void *)t->p;

	info->sci_irq = f->sci_int;
	info->smi_cmd = f->smi_cmd;
	info->acpi_enable = f->acpi_enable;
	info->pm_tmr_32bit = f->flags & FADT_TMR_VAL_EXT;
	info->pm1a_cnt = fadt_io_block(t, "PM1a_CNT_BLK", f->pm1a_cnt_blk,
				       offsetof(struct fadt, x_pm1a_cnt_blk));
	info->pm1b_cnt = fadt_io_block(t, "PM1b_CNT_BLK", f->pm1b_cnt_blk,
				       offsetof(struct fadt, x_pm1b_cnt_blk));
	info->pm_tmr = fadt_io_block(t, "PM_TMR_BLK", f->pm_tmr_blk,
				     offsetof(struct fadt, x_pm_tmr_blk));
}

static void fadt_parse(struct acpi_walk *w, const struct sdt *t)
{
	const struct fadt *f = (const void *)t->p;
	struct acpi_info *info = w->info;

	if (t->len < FADT_V1_LEN) {
		pr_err("acpi: FACP at 0x%llx: %u bytes, shorter than the %u-byte ACPI 1.0 FADT; table ignored\n",
		       PA(t->pa), t->len, (unsigned)FADT_V1_LEN);
		return;
	}
	info->have_fadt = true;
	info->hw_reduced = f->flags & FADT_HW_REDUCED_ACPI;
	if (!info->hw_reduced)
		fadt_parse_fixed_hw(info, t);
	fadt_parse_reset(info, t);
	fadt_load_dsdt(info, t);
}

/* ---- MCFG, PCI Firmware Specification 3.2 section 4.1.2 --------------- */

#define MCFG_ENTRIES_OFF 44     /* header + 8 reserved bytes */

static void mcfg_add(struct acpi_info *info, const struct sdt *t, uint32_t i)
{
	struct mcfg_entry e;

	memcpy(&e, t->p + MCFG_ENTRIES_OFF + i * sizeof(e), sizeof(e));
	if (e.bus_end < e.bus_start) {
		pr_err("acpi: MCFG at 0x%llx: entry %u: end bus 0x%x below start bus 0x%x; entry ignored\n",
		       PA(t->pa), i, e.bus_end, e.bus_start);
		return;
	}
	if (info->nmcfg == ACPI_MAX_MCFG) {
		pr_warn("acpi: MCFG: entry %u beyond the first %u ignored\n", i, ACPI_MAX_MCFG);
		return;
	}
	info->mcfg[info->nmcfg].base = e.base;
	info->mcfg[info->nmcfg].segment = e.segment;
	info->mcfg[info->nmcfg].bus_start = e.bus_start;
	info->mcfg[info->nmcfg].bus_end = e.bus_end;
	info->nmcfg++;
}

static void mcfg_parse(struct acpi_walk *w, const struct sdt *t)
{
	uint32_t n, extra;

	if (t->len < MCFG_ENTRIES_OFF) {
		pr_err("acpi: MCFG at 0x%llx: %u bytes, shorter than its %u-byte fixed part; table ignored\n",
		       PA(t->pa), t->len, MCFG_ENTRIES_OFF);
		return;
	}
	n = (t->len - MCFG_ENTRIES_OFF) / sizeof(struct mcfg_entry);
	extra = (t->len - MCFG_ENTRIES_OFF) % sizeof(struct mcfg_entry);
	if (extra)
		pr_warn("acpi: MCFG at 0x%llx: %u trailing bytes after entry %u ignored\n",
			PA(t->pa), extra, n);
	for (uint32_t i = 0; i < n; i++)
		mcfg_add(w->info, t, i);
}

/* ---- DMAR, Intel VT-d specification chapter 8 ------------------------- */

#define DMAR_STRUCTS_OFF 48     /* 8.1: header, width, flags, 10 reserved */
#define DMAR_TYPE_DRHD 0
#define DMAR_DRHD_MIN_LEN 16    /* 8.3: fixed part before the device scope */

/*
 * Type and length of the remapping structure at @off (8.2: two bytes
 * each); the length is 0, after a report, when it cannot be right.
 */
static uint32_t dmar_struct_len(const struct sdt *t, uint32_t off, uint16_t *type)
{
	uint32_t left = t->len - off;
	uint16_t len = 0;

	*type = 0;
	if (left >= 4) {
		memcpy(type, t->p + off, sizeof(*type));
		memcpy(&len, t->p + off + 2, sizeof(len));
	}
	if (len < 4 || len > left) {
		pr_err("acpi: DMAR at 0x%llx: structure at offset %u has length %u with %u bytes left; rest not counted\n",
		       PA(t->pa), off, len, left);
		return 0;
	}
	if (*type == DMAR_TYPE_DRHD && len < DMAR_DRHD_MIN_LEN) {
		pr_err("acpi: DMAR at 0x%llx: DRHD at offset %u is %u bytes, needs %u; rest not counted\n",
		       PA(t->pa), off, len, DMAR_DRHD_MIN_LEN);
		return 0;
	}
	return len;
}

/*
 * Only count the DRHD units here; iommu/ parses the table itself from the
 * recorded address. A structure whose length is wrong ends the count.
 */
static void dmar_parse(struct acpi_walk *w, const struct sdt *t)
{
	uint32_t off = DMAR_STRUCTS_OFF, len = 1;
	uint16_t type;

	if (t->len < DMAR_STRUCTS_OFF) {
		pr_err("acpi: DMAR at 0x%llx: %u bytes, shorter than its %u-byte fixed part; table ignored\n",
		       PA(t->pa), t->len, DMAR_STRUCTS_OFF);
		return;
	}
	w->info->dmar_phys = t->pa;
	w->info->dmar_len = t->len;
	for (; off < t->len && len; off += len) {
		len = dmar_struct_len(t, off, &type);
		if (len && type == DMAR_TYPE_DRHD)
			w->info->dmar_units++;
	}
}

/* ---- Root tables, ACPI 6.4 5.2.7 (RSDT) and 5.2.8 (XSDT) --------------- */

/* Tables we read, by signature; only SSDTs may come more than once. */
static const struct table_handler {
	char sig[5];
	bool multiple;
	void (*parse)(struct acpi_walk *w, const struct sdt *t);
} table_handlers[] = {
	{ "APIC", false, madt_parse },
	{ "FACP", false, fadt_parse },
	{ "MCFG", false, mcfg_parse },
	{ "DMAR", false, dmar_parse },
	{ "SSDT", true, ssdt_note },
};

BUILD_ASSERT(ARRAY_SIZE(table_handlers) <= sizeof(unsigned) * 8);

static void table_dispatch(struct acpi_walk *w, const struct sdt *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(table_handlers); i++) {
		const struct table_handler *h = &table_handlers[i];

		if (memcmp(t->sig, h->sig, 4) != 0)
			continue;
		if (!h->multiple && (w->seen & (1u << i))) {
			pr_warn("acpi: %s at 0x%llx: second %s table; ignored\n",
				t->sig, PA(t->pa), h->sig);
			return;
		}
		w->seen |= 1u << i;
		h->parse(w, t);
		return;
	}
}

static paddr_t root_read_entry(const struct sdt *root, uint32_t i, uint32_t esize)
{
	uint64_t pa64;
	uint32_t pa32;

	if (esize == sizeof(pa64)) {
		memcpy(&pa64, root->p + SDT_HDR_LEN + (size_t)i * esize, sizeof(pa64));
		return pa64;
	}
	memcpy(&pa32, root->p + SDT_HDR_LEN + (size_t)i * esize, sizeof(pa32));
	return pa32;
}

static void root_walk(struct acpi_walk *w, const struct sdt *root, uint32_t esize)
{
	uint32_t n = (root->len - SDT_HDR_LEN) / esize;
	uint32_t extra = (root->len - SDT_HDR_LEN) % esize;
	struct sdt t;

	if (extra)
		pr_warn("acpi: %s: %u trailing bytes after entry %u ignored\n",
			root->sig, extra, n);
	for (uint32_t i = 0; i < n; i++) {
		paddr_t pa = root_read_entry(root, i, esize);

		if (!pa) {
			pr_warn("acpi: %s: entry %u is null; skipped\n", root->sig, i);
			continue;
		}
		if (sdt_map(pa, NULL, &t) == 0) {
			sdt_print(&t);
			table_dispatch(w, &t);
		}
	}
}

/* The RSDP's root pointers that survived its checks; 0 when unusable. */
struct root_ptrs {
	paddr_t xsdt, rsdt;
};

/* The ACPI 2.0+ part: length within what we were given, extended checksum. */
static bool rsdp_is_ext_valid(const uint8_t *p, size_t avail, const struct rsdp *r)
{
	uint8_t sum;

	if (r->length < RSDP_V2_LEN || r->length > avail) {
		pr_warn("acpi: RSDP rev %u: length %u outside %u..%lu; XSDT not used\n",
			r->revision, r->length, RSDP_V2_LEN, (unsigned long)avail);
		return false;
	}
	sum = acpi_checksum(p, r->length);
	if (sum) {
		pr_warn("acpi: RSDP: extended checksum bad (sum 0x%x); XSDT not used\n", sum);
		return false;
	}
	return true;
}

static int rsdp_check(const uint8_t *p, size_t avail, struct acpi_info *info,
		      struct root_ptrs *roots)
{
	struct rsdp r;
	uint8_t sum;

	if (!p || avail < RSDP_V1_LEN) {
		pr_err("acpi: RSDP missing or shorter than %u bytes; no ACPI tables used\n",
		       RSDP_V1_LEN);
		return -EINVAL;
	}
	memset(&r, 0, sizeof(r));
	memcpy(&r, p, MIN(avail, sizeof(r)));
	if (memcmp(r.signature, "RSD PTR ", sizeof(r.signature)) != 0) {
		pr_err("acpi: RSDP signature bad; no ACPI tables used\n");
		return -EINVAL;
	}
	sum = acpi_checksum(p, RSDP_V1_LEN);
	if (sum) {
		pr_err("acpi: RSDP checksum bad (sum 0x%x); no ACPI tables used\n", sum);
		return -EINVAL;
	}
	info->revision = r.revision;
	acpi_copy_printable(info->oem_id, r.oem_id, sizeof(r.oem_id));
	roots->rsdt = r.rsdt_addr;
	if (r.revision >= 2 && rsdp_is_ext_valid(p, avail, &r))
		roots->xsdt = r.xsdt_addr;
	return 0;
}

/*
 * 5.2.5.3: prefer the XSDT when there is one. A broken XSDT still leaves
 * the RSDT, which lists the same tables with 32-bit addresses.
 */
static int root_select(const struct root_ptrs *roots, struct sdt *root, uint32_t *esize)
{
	if (roots->xsdt && sdt_map(roots->xsdt, "XSDT", root) == 0) {
		*esize = sizeof(uint64_t);
		return 0;
	}
	if (roots->xsdt && roots->rsdt)
		pr_warn("acpi: falling back to the RSDT at 0x%llx\n", PA(roots->rsdt));
	if (roots->rsdt && sdt_map(roots->rsdt, "RSDT", root) == 0) {
		*esize = sizeof(uint32_t);
		return 0;
	}
	pr_err("acpi: no usable RSDT or XSDT; no ACPI tables used\n");
	return -ENOENT;
}

/* ---- Summary ------------------------------------------------------------ */

static void madt_print(const struct acpi_info *info)
{
	unsigned enabled = 0;

	for (unsigned i = 0; i < info->ncpus; i++)
		enabled += info->cpus[i].enabled;
	pr_info("acpi: MADT: %u CPU%s (%u enabled), %u IOAPIC%s, %u override%s, local APIC at 0x%llx%s\n",
		info->ncpus, plural(info->ncpus), enabled, info->nioapics,
		plural(info->nioapics), info->nisos, plural(info->nisos),
		PA(info->lapic_addr), info->pcat_compat ? ", 8259 PICs present" : "");
}

static void fadt_print(const struct acpi_info *info)
{
	if (info->hw_reduced)
		pr_info("acpi: FADT: hardware-reduced ACPI, no fixed PM registers\n");
	else
			pr_info("acpi: FADT: SCI IRQ %u, SMI_CMD 0x%x, PM1a_CNT 0x%llx, PM1b_CNT 0x%llx, PM timer 0x%llx (%s)\n",
			info->sci_irq, info->smi_cmd, PA(info->pm1a_cnt), PA(info->pm1b_cnt),
			PA(info->pm_tmr), info->pm_tmr_32bit ? "32-bit" : "24-bit");
	if (info->reset_valid)
		pr_info("acpi: FADT: reset register 0x%llx (space %u), value 0x%x\n",
			PA(info->reset_reg.address), info->reset_reg.space_id,
			info->reset_value);
	if (info->s5_valid)
		pr_info("acpi: \\_S5: SLP_TYPa %u, SLP_TYPb %u\n", info->s5_typa, info->s5_typb);
	else
		pr_warn("acpi: no usable \\_S5; ACPI power-off unavailable\n");
}

static void acpi_print_summary(const struct acpi_info *info)
{
	if (info->have_madt)
		madt_print(info);
	else
		pr_warn("acpi: no usable MADT\n");
	if (info->have_fadt)
		fadt_print(info);
	else
		pr_warn("acpi: no usable FADT\n");
	for (unsigned i = 0; i < info->nmcfg; i++)
		pr_info("acpi: MCFG: segment %u, buses 0x%x-0x%x at 0x%llx\n",
			info->mcfg[i].segment, info->mcfg[i].bus_start,
			info->mcfg[i].bus_end, PA(info->mcfg[i].base));
	if (info->dmar_phys)
		pr_info("acpi: DMAR: %u DRHD unit%s\n", info->dmar_units, plural(info->dmar_units));
}

/* ---- Entry points ------------------------------------------------------- */

int acpi_parse(const void *rsdp, size_t rsdp_len, struct acpi_info *info)
{
	struct acpi_walk w;
	struct root_ptrs roots = { 0, 0 };
	struct sdt root;
	uint32_t esize;
	int ret;

	ASSERT(info);
	memset(info, 0, sizeof(*info));
	memset(&w, 0, sizeof(w));
	w.info = info;
	ret = rsdp_check(rsdp, rsdp_len, info, &roots);
	if (ret)
		return ret;
	ret = root_select(&roots, &root, &esize);
	if (ret)
		return ret;
	pr_info("acpi: RSDP rev %u, OEM '%s', %s at 0x%llx\n", info->revision,
		info->oem_id, root.sig, PA(root.pa));
	root_walk(&w, &root, esize);
	if (!info->s5_valid)
		s5_find_in_ssdts(&w);
	acpi_print_summary(info);
	return 0;
}

#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SCAN_LEN 1024
#define EBDA_LIMIT 0xa0000      /* conventional memory ends here */
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_LEN 0x20000

/* Is there a valid RSDP at @off, wholly inside the @len bytes at @area? */
static bool rsdp_is_at(const uint8_t *area, size_t len, size_t off)
{
	const uint8_t *p = area + off;

	if (len - off < RSDP_V1_LEN || memcmp(p, "RSD PTR ", 8) != 0)
		return false;
	if (acpi_checksum(p, RSDP_V1_LEN) != 0)
		return false;
	/* A 2.0+ RSDP is 36 bytes; the caller will read them all. */
	return p[offsetof(struct rsdp, revision)] < 2 || len - off >= RSDP_V2_LEN;
}

/* 5.2.5.1: the RSDP sits on a 16-byte boundary. */
static const void *rsdp_scan(paddr_t pa, size_t len)
{
	const uint8_t *area = acpi_map(pa, len);

	if (!area)
		return NULL;
	for (size_t off = 0; off + RSDP_V1_LEN <= len; off += 16)
		if (rsdp_is_at(area, len, off))
			return area + off;
	return NULL;
}

/* The BIOS data area word at 0x40E holds the EBDA's real-mode segment. */
static paddr_t ebda_base(void)
{
	const uint8_t *bda = acpi_map(BDA_EBDA_SEGMENT, sizeof(uint16_t));
	uint16_t seg;
	paddr_t base;

	if (!bda)
		return 0;
	memcpy(&seg, bda, sizeof(seg));
	base = (paddr_t)seg << 4;
	if (base < 0x500 || base + EBDA_SCAN_LEN > EBDA_LIMIT)
		return 0;
	return base;
}

/* 5.2.5.1: the first KiB of the EBDA, then the BIOS area below 1 MiB. */
const void *acpi_find_rsdp_bios(void)
{
	paddr_t ebda = ebda_base();
	const void *rsdp = NULL;

	if (ebda)
		rsdp = rsdp_scan(ebda, EBDA_SCAN_LEN);
	if (!rsdp)
		rsdp = rsdp_scan(BIOS_AREA_START, BIOS_AREA_LEN);
	return rsdp;
}
