/*
 * DMAR table parser (Intel VT-d specification, chapter 8).
 *
 * Every byte is firmware input. Each structure's length is checked
 * against what is left of the table before any field is read, each
 * device scope against the structure that holds it, and each field
 * against the rules of its section. The first broken rule ends the
 * parse: the message names the byte offset, the structure and the rule,
 * and the caller keeps remapping off. Structure types the specification
 * reserves for the future are skipped, as it asks (8.2).
 */
#include <stdarg.h>

#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "iommu/dmar.h"

#define DMAR_HDR_LEN 48          /* 8.1: ACPI header, HAW, flags, 10 reserved */
#define DMAR_OFF_LEN 4
#define DMAR_OFF_HAW 36
#define DMAR_OFF_FLAGS 37
#define SCOPE_HDR_LEN 6          /* 8.3.1: type, length, 2 reserved, enum id, bus */
#define DMAR_MIN_HAW 32          /* a remapping unit below 4 GiB of reach is nonsense */

enum dmar_type {
	DMAR_DRHD = 0, DMAR_RMRR = 1, DMAR_ATSR = 2, DMAR_RHSA = 3,
	DMAR_ANDD = 4, DMAR_SATC = 5, DMAR_SIDP = 6,
};

#define SCOPE_BIT(t) (1u << (t))
#define SCOPES_PCI (SCOPE_BIT(DMAR_SCOPE_ENDPOINT) | SCOPE_BIT(DMAR_SCOPE_BRIDGE))
#define SCOPES_NON_PCI (SCOPE_BIT(DMAR_SCOPE_IOAPIC) | SCOPE_BIT(DMAR_SCOPE_HPET) | \
			SCOPE_BIT(DMAR_SCOPE_ACPI))

struct dmar_ctx {
	const uint8_t *p;
	size_t len;
	struct dmar_info *out;
};

/* One structure being parsed: [off, off + len) inside the table. */
struct dmar_struct {
	uint32_t off, len;
	const char *name;
	unsigned index;          /* the how-many-th of its type */
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void __printf(2, 3) dmar_err(uint32_t off, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("iommu: DMAR offset %#x: %s; DMA and interrupt remapping stay off\n", off, msg);
}

const char *dmar_scope_type_name(unsigned type)
{
	static const char *const names[] = { "reserved", "endpoint", "bridge", "IOAPIC", "HPET",
					     "ACPI device" };

	return type < ARRAY_SIZE(names) ? names[type] : "reserved";
}

static int dmar_check_header(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	if (len < DMAR_HDR_LEN) {
		dmar_err(0, "table is %zu bytes, shorter than its %u-byte header", len, DMAR_HDR_LEN);
		return -EINVAL;
	}
	if (memcmp(p, "DMAR", 4) != 0) {
		dmar_err(0, "signature is not 'DMAR'");
		return -EINVAL;
	}
	if (rd32(p + DMAR_OFF_LEN) != len) {
		dmar_err(DMAR_OFF_LEN, "header length %u, but the table is %zu bytes",
			 rd32(p + DMAR_OFF_LEN), len);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	if (sum) {
		dmar_err(9, "checksum is wrong (bytes sum to %#x, not 0)", sum);
		return -EINVAL;
	}
	if (p[DMAR_OFF_HAW] + 1 < DMAR_MIN_HAW || p[DMAR_OFF_HAW] + 1 > 64) {
		dmar_err(DMAR_OFF_HAW, "host address width %u bits is outside %u..64",
			 p[DMAR_OFF_HAW] + 1, DMAR_MIN_HAW);
		return -EINVAL;
	}
	return 0;
}

/* ---- device scopes, 8.3.1 ----------------------------------------------- */

static int scope_check_path(const struct dmar_ctx *c, uint32_t off, uint32_t slen)
{
	unsigned npath = (slen - SCOPE_HDR_LEN) / 2;

	if (slen < SCOPE_HDR_LEN + 2 || (slen - SCOPE_HDR_LEN) % 2) {
		dmar_err(off, "device scope length %u is not 6 + 2 * n with n >= 1", slen);
		return -EINVAL;
	}
	if (npath > DMAR_MAX_PATH) {
		dmar_err(off, "device scope path has %u hops, more than the %u supported", npath,
			 DMAR_MAX_PATH);
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < npath; i++) {
		const uint8_t *hop = c->p + off + SCOPE_HDR_LEN + 2 * i;

		if (hop[0] > 31 || hop[1] > 7) {
			dmar_err(off + SCOPE_HDR_LEN + 2 * i,
				 "device scope path hop %u is device %u function %u (max 31, 7)", i,
				 hop[0], hop[1]);
			return -EINVAL;
		}
	}
	return 0;
}

static int scope_add(struct dmar_ctx *c, uint32_t off, uint32_t slen)
{
	const uint8_t *s = c->p + off;
	struct dmar_scope *sc;

	if (c->out->nscopes == DMAR_MAX_SCOPES) {
		dmar_err(off, "more than %u device scopes in all", DMAR_MAX_SCOPES);
		return -ENOSPC;
	}
	sc = &c->out->scopes[c->out->nscopes++];
	sc->type = s[0];
	sc->enum_id = s[4];
	sc->bus = s[5];
	sc->npath = (uint8_t)((slen - SCOPE_HDR_LEN) / 2);
	for (unsigned i = 0; i < sc->npath; i++)
		sc->path[i] = (struct dmar_path){ s[SCOPE_HDR_LEN + 2 * i], s[SCOPE_HDR_LEN + 2 * i + 1] };
	return 0;
}

static int scope_parse_one(struct dmar_ctx *c, const struct dmar_struct *st, uint32_t off,
			   uint32_t end, unsigned allowed)
{
	uint32_t slen;
	uint8_t type;
	int err;

	if (end - off < 2) {
		dmar_err(off, "%s #%u: %u stray bytes after its device scopes", st->name, st->index,
			 end - off);
		return -EINVAL;
	}
	type = c->p[off];
	slen = c->p[off + 1];
	if (slen < SCOPE_HDR_LEN || slen > end - off) {
		dmar_err(off, "%s #%u: device scope length %u with %u bytes left in the structure",
			 st->name, st->index, slen, end - off);
		return -EINVAL;
	}
	if (type >= 32 || !(allowed & SCOPE_BIT(type))) {
		dmar_err(off, "%s #%u: device scope type %u (%s) is not allowed here", st->name,
			 st->index, type, dmar_scope_type_name(type));
		return -EINVAL;
	}
	err = scope_check_path(c, off, slen);
	return err ? err : scope_add(c, off, slen);
}

/* Parse the scopes in [off, st->off + st->len) into @list. */
static int scopes_parse(struct dmar_ctx *c, const struct dmar_struct *st, uint32_t off,
			unsigned allowed, struct dmar_scope_list *list)
{
	uint32_t end = st->off + st->len;

	list->first = (uint16_t)c->out->nscopes;
	while (off < end) {
		int err = scope_parse_one(c, st, off, end, allowed);

		if (err)
			return err;
		off += c->p[off + 1];
	}
	list->count = (uint16_t)(c->out->nscopes - list->first);
	return 0;
}

/* ---- DRHD, 8.3 ---------------------------------------------------------- */

static int drhd_check_order(const struct dmar_ctx *c, const struct dmar_struct *st,
			    const struct dmar_unit *u)
{
	for (unsigned i = 0; i < c->out->nunits; i++) {
		const struct dmar_unit *o = &c->out->units[i];

		if (ranges_overlap(o->base, o->reg_size, u->base, u->reg_size)) {
			dmar_err(st->off, "DRHD #%u: registers at %#llx overlap DRHD #%u's", st->index,
				 (unsigned long long)u->base, i);
			return -EINVAL;
		}
		/* 8.3: the INCLUDE_PCI_ALL unit must be the segment's last. */
		if (o->include_all && o->segment == u->segment) {
			dmar_err(st->off, "DRHD #%u: follows DRHD #%u, which has INCLUDE_PCI_ALL for segment %u and must be last",
				 st->index, i, u->segment);
			return -EINVAL;
		}
	}
	return 0;
}

static int drhd_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	const uint8_t *s = c->p + st->off;
	struct dmar_unit u = {
		.include_all = s[4] & 1,
		.reg_size = PAGE_SIZE << (s[5] & 0xf),   /* 8.3: Size, 2^N pages */
		.segment = rd16(s + 6),
		.base = rd64(s + 8),
	};
	int err;

	if (!u.base || !IS_ALIGNED(u.base, PAGE_SIZE) || range_overflows(u.base, u.reg_size)) {
		dmar_err(st->off + 8, "DRHD #%u: register base %#llx is zero, unaligned or wraps",
			 st->index, (unsigned long long)u.base);
		return -EINVAL;
	}
	err = drhd_check_order(c, st, &u);
	if (!err)
		err = scopes_parse(c, st, st->off + 16, u.include_all ? SCOPES_NON_PCI :
				   SCOPES_PCI | SCOPES_NON_PCI, &u.scopes);
	if (err)
		return err;
	if (c->out->nunits == DMAR_MAX_UNITS) {
		dmar_err(st->off, "more than %u DRHD units", DMAR_MAX_UNITS);
		return -ENOSPC;
	}
	c->out->units[c->out->nunits++] = u;
	return 0;
}

/* ---- RMRR, ATSR, RHSA, ANDD, SATC, SIDP: 8.4 to 8.9 --------------------- */

static int rmrr_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	const uint8_t *s = c->p + st->off;
	struct dmar_rmrr r = { .segment = rd16(s + 6), .base = rd64(s + 8), .limit = rd64(s + 16) };
	int err;

	if (!IS_ALIGNED(r.base, PAGE_SIZE) || (r.limit & 0xfff) != 0xfff || r.limit < r.base) {
		dmar_err(st->off + 8, "RMRR #%u: range %#llx-%#llx is not whole 4 KiB pages",
			 st->index, (unsigned long long)r.base, (unsigned long long)r.limit);
		return -EINVAL;
	}
	err = scopes_parse(c, st, st->off + 24, SCOPES_PCI, &r.scopes);
	if (err)
		return err;
	if (!r.scopes.count)
		pr_warn("iommu: DMAR offset %#x: RMRR #%u names no device; ignored\n", st->off,
			st->index);
	if (c->out->nrmrrs == DMAR_MAX_RMRRS) {
		dmar_err(st->off, "more than %u RMRRs", DMAR_MAX_RMRRS);
		return -ENOSPC;
	}
	c->out->rmrrs[c->out->nrmrrs++] = r;
	return 0;
}

static int atsr_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	const uint8_t *s = c->p + st->off;
	struct dmar_atsr a = { .all_ports = s[4] & 1, .segment = rd16(s + 6) };
	int err = scopes_parse(c, st, st->off + 8, SCOPE_BIT(DMAR_SCOPE_BRIDGE), &a.scopes);

	if (err)
		return err;
	if (c->out->natsrs == DMAR_MAX_ATSRS) {
		dmar_err(st->off, "more than %u ATSRs", DMAR_MAX_ATSRS);
		return -ENOSPC;
	}
	c->out->atsrs[c->out->natsrs++] = a;
	return 0;
}

static int rhsa_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	const uint8_t *s = c->p + st->off;

	if (st->len != 20) {
		dmar_err(st->off, "RHSA #%u is %u bytes, must be 20", st->index, st->len);
		return -EINVAL;
	}
	if (c->out->nrhsas == DMAR_MAX_RHSAS) {
		dmar_err(st->off, "more than %u RHSAs", DMAR_MAX_RHSAS);
		return -ENOSPC;
	}
	c->out->rhsas[c->out->nrhsas++] = (struct dmar_rhsa){ rd64(s + 8), rd32(s + 16) };
	return 0;
}

/* ANDD: 3 reserved bytes, the device number, then a NUL-terminated name. */
static int andd_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	const uint8_t *name = c->p + st->off + 8;
	uint32_t n = st->len - 8, i = 0;

	while (i < n && name[i])
		i++;
	if (i == n) {
		dmar_err(st->off + 8, "ANDD #%u: object name is not NUL-terminated", st->index);
		return -EINVAL;
	}
	c->out->nandds++;
	return 0;
}

/* SATC and SIDP: scopes are checked; their contents are not used yet. */
static int satc_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	struct dmar_scope_list l;
	int err = scopes_parse(c, st, st->off + 8, SCOPE_BIT(DMAR_SCOPE_ENDPOINT), &l);

	c->out->nsatcs += !err;
	return err;
}

static int sidp_parse(struct dmar_ctx *c, const struct dmar_struct *st)
{
	struct dmar_scope_list l;
	int err = scopes_parse(c, st, st->off + 8, SCOPES_PCI | SCOPES_NON_PCI, &l);

	c->out->nsidps += !err;
	return err;
}

/* ---- the walk ------------------------------------------------------------ */

static const struct dmar_rule {
	const char *name;
	uint32_t min_len;
	int (*parse)(struct dmar_ctx *c, const struct dmar_struct *st);
} dmar_rules[] = {
	[DMAR_DRHD] = { "DRHD", 16, drhd_parse },
	[DMAR_RMRR] = { "RMRR", 24, rmrr_parse },
	[DMAR_ATSR] = { "ATSR", 8, atsr_parse },
	[DMAR_RHSA] = { "RHSA", 20, rhsa_parse },
	[DMAR_ANDD] = { "ANDD", 9, andd_parse },
	[DMAR_SATC] = { "SATC", 8, satc_parse },
	[DMAR_SIDP] = { "SIDP", 8, sidp_parse },
};

static int dmar_parse_struct(struct dmar_ctx *c, uint32_t off, uint32_t *slen,
			     unsigned counts[ARRAY_SIZE(dmar_rules)])
{
	uint16_t type;
	const struct dmar_rule *r;
	struct dmar_struct st;

	if (c->len - off < 4) {
		dmar_err(off, "%zu stray bytes after the last structure", c->len - off);
		return -EINVAL;
	}
	type = rd16(c->p + off);
	*slen = rd16(c->p + off + 2);
	if (*slen < 4 || *slen > c->len - off) {
		dmar_err(off, "structure type %u has length %u with %zu bytes left", type, *slen,
			 c->len - off);
		return -EINVAL;
	}
	if (type >= ARRAY_SIZE(dmar_rules)) {
		pr_info("iommu: DMAR offset %#x: reserved structure type %u skipped\n", off, type);
		c->out->nunknown++;
		return 0;
	}
	r = &dmar_rules[type];
	st = (struct dmar_struct){ off, *slen, r->name, counts[type]++ };
	if (*slen < r->min_len) {
		dmar_err(off, "%s #%u is %u bytes, needs at least %u", r->name, st.index, *slen,
			 r->min_len);
		return -EINVAL;
	}
	return r->parse(c, &st);
}

int dmar_parse(const void *table, size_t len, struct dmar_info *out)
{
	struct dmar_ctx c = { table, len, out };
	unsigned counts[ARRAY_SIZE(dmar_rules)] = { 0 };
	uint32_t off = DMAR_HDR_LEN, slen = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = dmar_check_header(c.p, len);
	for (; !err && off < len; off += slen)
		err = dmar_parse_struct(&c, off, &slen, counts);
	if (!err && !out->nunits) {
		dmar_err(DMAR_HDR_LEN, "no DRHD structure: no remapping unit to use");
		err = -ENODEV;
	}
	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	out->haw = (uint8_t)(c.p[DMAR_OFF_HAW] + 1);
	out->flags = c.p[DMAR_OFF_FLAGS];
	return 0;
}
