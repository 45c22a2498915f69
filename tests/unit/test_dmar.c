/*
 * Host tests for iommu/dmar.c: DMAR tables are built byte by byte here
 * (layouts from the VT-d specification chapter 8, written out
 * independently of the parser), parsed, and checked field by field; then
 * one rule at a time is broken and the test checks that the whole table
 * is rejected and that the message names the right offset.
 *
 * Each table is parsed from a heap copy of exactly its length, so
 * AddressSanitizer catches any read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errno.h"
#include "iommu/dmar.h"
#include "tests/unit/unit.h"

struct tb {
	uint8_t b[16384];
	size_t n;
};

static struct dmar_info info;

static void put8(struct tb *t, unsigned v) { t->b[t->n++] = (uint8_t)v; }
static void put16(struct tb *t, unsigned v) { put8(t, v & 0xff); put8(t, v >> 8); }
static void put32(struct tb *t, uint32_t v) { put16(t, v & 0xffff); put16(t, v >> 16); }
static void put64(struct tb *t, uint64_t v) { put32(t, (uint32_t)v); put32(t, (uint32_t)(v >> 32)); }
static void patch16(struct tb *t, size_t at, unsigned v) { t->b[at] = (uint8_t)v; t->b[at + 1] = (uint8_t)(v >> 8); }

/* The 48-byte DMAR header (8.1): HAW is width - 1. */
static void header(struct tb *t, unsigned width, unsigned flags)
{
	t->n = 0;
	memcpy(t->b, "DMAR", 4);
	t->n = 4;
	put32(t, 0);               /* length, patched by finish() */
	put8(t, 1);                /* revision */
	put8(t, 0);                /* checksum */
	memcpy(t->b + t->n, "TESTOETESTTABL", 14);
	t->n += 14;
	while (t->n < 36)
		put8(t, 0);
	put8(t, width - 1);
	put8(t, flags);
	while (t->n < 48)
		put8(t, 0);
}

static size_t begin(struct tb *t, unsigned type)
{
	size_t at = t->n;

	put16(t, type);
	put16(t, 0);
	return at;
}

static void end(struct tb *t, size_t at) { patch16(t, at + 2, (unsigned)(t->n - at)); }

static void finish(struct tb *t)
{
	uint8_t sum = 0;

	t->b[4] = (uint8_t)t->n;
	t->b[5] = (uint8_t)(t->n >> 8);
	t->b[6] = t->b[7] = 0;
	t->b[9] = 0;
	for (size_t i = 0; i < t->n; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)-sum;
}

/* A device scope (8.3.1) with @npath (dev, fn) hops from @path. */
static void scope(struct tb *t, unsigned type, unsigned id, unsigned bus, unsigned npath,
		  const uint8_t *path)
{
	put8(t, type);
	put8(t, 6 + 2 * npath);
	put16(t, 0);
	put8(t, id);
	put8(t, bus);
	for (unsigned i = 0; i < 2 * npath; i++)
		put8(t, path[i]);
}

static size_t drhd(struct tb *t, unsigned flags, unsigned segment, uint64_t base)
{
	size_t at = begin(t, 0);

	put8(t, flags);
	put8(t, 0);                /* size: 2^0 pages */
	put16(t, segment);
	put64(t, base);
	return at;
}

static int parse(const struct tb *t)
{
	uint8_t *copy = malloc(t->n);
	int r;

	memcpy(copy, t->b, t->n);
	r = dmar_parse(copy, t->n, &info);
	free(copy);
	return r;
}

/* QEMU 7.2's table: one unit, the IOAPIC and each bus-0 device named. */
static void build_qemu(struct tb *t)
{
	static const uint8_t ioapic[] = { 0, 0 }, ep[] = { 3, 0 }, lpc[] = { 0x1f, 2 };
	size_t at;

	header(t, 39, 1);
	at = drhd(t, 0, 0, 0xfed90000);
	scope(t, 3, 0, 0xff, 1, ioapic);
	scope(t, 1, 0, 0, 1, ep);
	scope(t, 1, 0, 0, 1, lpc);
	end(t, at);
	finish(t);
}

TEST(qemu_table)
{
	struct tb t;
	const struct dmar_scope *s;

	build_qemu(&t);
	CHECK_EQ(parse(&t), 0);
	CHECK_EQ(info.haw, 39);
	CHECK_EQ(info.flags, 1);
	CHECK_EQ(info.nunits, 1);
	CHECK_EQ(info.units[0].base, 0xfed90000);
	CHECK_EQ(info.units[0].reg_size, 4096);
	CHECK(!info.units[0].include_all);
	CHECK_EQ(info.units[0].scopes.count, 3);
	s = dmar_scope_at(&info, info.units[0].scopes, 2);
	CHECK_EQ(s->type, DMAR_SCOPE_ENDPOINT);
	CHECK_EQ(s->npath, 1);
	CHECK_EQ(s->path[0].dev, 0x1f);
	CHECK_EQ(s->path[0].fn, 2);
	CHECK_EQ(dmar_scope_at(&info, info.units[0].scopes, 0)->type, DMAR_SCOPE_IOAPIC);
}

/* Two units (the INCLUDE_PCI_ALL one last), and one of every other type. */
static void build_full(struct tb *t)
{
	static const uint8_t gpu[] = { 2, 0 }, usb[] = { 0x1c, 0, 0, 0 }, rp[] = { 1, 0 },
			     hpet[] = { 0x1f, 0 };
	size_t at;

	header(t, 46, 5);
	at = drhd(t, 0, 0, 0xfed90000);
	scope(t, 1, 0, 0, 1, gpu);
	end(t, at);
	at = drhd(t, 1, 0, 0xfed91000);
	t->b[at + 5] = 1;          /* two pages of registers */
	scope(t, 4, 0, 0, 1, hpet);
	end(t, at);
	at = begin(t, 1);          /* RMRR: a USB controller behind a bridge */
	put16(t, 0);
	put16(t, 0);
	put64(t, 0x3e2e0000);
	put64(t, 0x3e2fffff);
	scope(t, 1, 0, 0, 2, usb);
	end(t, at);
	at = begin(t, 2);          /* ATSR */
	put8(t, 0);
	put8(t, 0);
	put16(t, 0);
	scope(t, 2, 0, 0, 1, rp);
	end(t, at);
	at = begin(t, 3);          /* RHSA */
	put32(t, 0);
	put64(t, 0xfed90000);
	put32(t, 1);
	end(t, at);
	at = begin(t, 4);          /* ANDD */
	put8(t, 0); put8(t, 0); put8(t, 0);
	put8(t, 1);
	memcpy(t->b + t->n, "\\_SB.PCI0.I2C0", 15);
	t->n += 15;
	end(t, at);
	at = begin(t, 99);         /* reserved for the future: skipped */
	put32(t, 0);
	end(t, at);
	finish(t);
}

TEST(full_table)
{
	struct tb t;
	const struct dmar_scope *s;

	build_full(&t);
	CHECK_EQ(parse(&t), 0);
	CHECK_EQ(info.haw, 46);
	CHECK_EQ(info.nunits, 2);
	CHECK(info.units[1].include_all);
	CHECK_EQ(info.units[1].reg_size, 8192);
	CHECK_EQ(info.nrmrrs, 1);
	CHECK_EQ(info.rmrrs[0].base, 0x3e2e0000);
	CHECK_EQ(info.rmrrs[0].limit, 0x3e2fffff);
	s = dmar_scope_at(&info, info.rmrrs[0].scopes, 0);
	CHECK_EQ(s->npath, 2);
	CHECK_EQ(s->path[0].dev, 0x1c);
	CHECK_EQ(info.natsrs, 1);
	CHECK_EQ(info.nrhsas, 1);
	CHECK_EQ(info.rhsas[0].proximity, 1);
	CHECK_EQ(info.nandds, 1);
	CHECK_EQ(info.nunknown, 1);
	CHECK(log_has("reserved structure type 99 skipped"));
}

/* Expect rejection, an empty result and @msg in the log. */
static void check_rejected(const struct tb *t, const char *msg)
{
	int r = parse(t);

	CHECK(r < 0);
	CHECK_EQ(info.nunits, 0);
	CHECK_EQ(info.nscopes, 0);
	if (!log_has(msg)) {
		fprintf(stderr, "%s: wanted '%s' in: %s\n", unit_current, msg, log_text());
		CHECK(!"message");
	}
	CHECK(log_has("remapping stay off"));
}

TEST(header_rules)
{
	struct tb t;

	build_qemu(&t);
	t.n = 40;
	check_rejected(&t, "shorter than its 48-byte header");
	build_qemu(&t);
	t.b[0] = 'X';
	check_rejected(&t, "signature is not 'DMAR'");
	build_qemu(&t);
	t.n -= 2;
	check_rejected(&t, "offset 0x4: header length");
	build_qemu(&t);
	t.b[60] ^= 1;
	check_rejected(&t, "offset 0x9: checksum is wrong");
	build_qemu(&t);
	t.b[36] = 20;
	finish(&t);
	check_rejected(&t, "offset 0x24: host address width 21 bits");
}

TEST(structure_lengths)
{
	struct tb t;

	build_qemu(&t);
	patch16(&t, 50, 0);
	finish(&t);
	check_rejected(&t, "offset 0x30: structure type 0 has length 0");
	build_qemu(&t);
	patch16(&t, 50, 4000);
	finish(&t);
	check_rejected(&t, "offset 0x30: structure type 0 has length 4000");
	build_qemu(&t);
	put8(&t, 0);
	put8(&t, 0);
	finish(&t);
	check_rejected(&t, "2 stray bytes after the last structure");
	header(&t, 39, 0);
	end(&t, begin(&t, 0));
	finish(&t);
	check_rejected(&t, "offset 0x30: DRHD #0 is 4 bytes, needs at least 16");
}

TEST(drhd_rules)
{
	struct tb t;
	static const uint8_t ep[] = { 3, 0 };
	size_t at;

	header(&t, 39, 0);
	end(&t, drhd(&t, 0, 0, 0xfed90800));
	finish(&t);
	check_rejected(&t, "offset 0x38: DRHD #0: register base 0xfed90800");
	header(&t, 39, 0);
	end(&t, drhd(&t, 1, 0, 0xfed90000));
	end(&t, drhd(&t, 0, 0, 0xfed91000));
	finish(&t);
	check_rejected(&t, "has INCLUDE_PCI_ALL for segment 0 and must be last");
	header(&t, 39, 0);
	end(&t, drhd(&t, 0, 0, 0xfed90000));
	end(&t, drhd(&t, 0, 1, 0xfed90000));
	finish(&t);
	check_rejected(&t, "overlap DRHD #0");
	header(&t, 39, 0);
	at = drhd(&t, 1, 0, 0xfed90000);
	scope(&t, 1, 0, 0, 1, ep);
	end(&t, at);
	finish(&t);
	check_rejected(&t, "offset 0x40: DRHD #0: device scope type 1 (endpoint) is not allowed");
	header(&t, 39, 0);
	finish(&t);
	check_rejected(&t, "no DRHD structure");
}

TEST(scope_rules)
{
	struct tb t;
	static const uint8_t bad_dev[] = { 32, 0 }, bad_fn[] = { 1, 8 }, ok[] = { 1, 0 };
	static const uint8_t deep[18] = { 0 };
	size_t at;

	build_qemu(&t);
	t.b[65] = 5;               /* first scope: length 5 */
	finish(&t);
	check_rejected(&t, "offset 0x40: DRHD #0: device scope length 5");
	build_qemu(&t);
	t.b[65] = 9;               /* odd: 6 + 3 */
	finish(&t);
	check_rejected(&t, "device scope length 9 is not 6 + 2 * n");
	build_qemu(&t);
	t.b[65] = 60;              /* runs past its DRHD */
	finish(&t);
	check_rejected(&t, "device scope length 60 with 24 bytes left");
	build_qemu(&t);
	t.b[64] = 7;
	finish(&t);
	check_rejected(&t, "device scope type 7 (reserved) is not allowed");
	header(&t, 39, 0);
	at = drhd(&t, 0, 0, 0xfed90000);
	scope(&t, 1, 0, 0, 1, bad_dev);
	end(&t, at);
	finish(&t);
	check_rejected(&t, "offset 0x46: device scope path hop 0 is device 32 function 0");
	header(&t, 39, 0);
	at = drhd(&t, 0, 0, 0xfed90000);
	scope(&t, 1, 0, 0, 1, ok);
	scope(&t, 1, 0, 0, 1, bad_fn);
	end(&t, at);
	finish(&t);
	check_rejected(&t, "device 1 function 8");
	header(&t, 39, 0);
	at = drhd(&t, 0, 0, 0xfed90000);
	scope(&t, 2, 0, 0, 9, deep);
	end(&t, at);
	finish(&t);
	check_rejected(&t, "path has 9 hops");
	header(&t, 39, 0);
	at = drhd(&t, 0, 0, 0xfed90000);
	scope(&t, 1, 0, 0, 1, ok);
	put8(&t, 1);               /* one stray byte after the scopes */
	end(&t, at);
	finish(&t);
	check_rejected(&t, "DRHD #0: 1 stray bytes after its device scopes");
}

static void rmrr(struct tb *t, uint64_t base, uint64_t limit)
{
	static const uint8_t ep[] = { 0x14, 0 };
	size_t at = begin(t, 1);

	put16(t, 0);
	put16(t, 0);
	put64(t, base);
	put64(t, limit);
	scope(t, 1, 0, 0, 1, ep);
	end(t, at);
}

TEST(other_structure_rules)
{
	struct tb t;
	size_t at;

	build_qemu(&t);
	rmrr(&t, 0x1000, 0x1ffe);
	finish(&t);
	check_rejected(&t, "RMRR #0: range 0x1000-0x1ffe is not whole 4 KiB pages");
	build_qemu(&t);
	rmrr(&t, 0x3000, 0x1fff);
	finish(&t);
	check_rejected(&t, "RMRR #0: range 0x3000-0x1fff");
	build_qemu(&t);
	at = begin(&t, 3);
	put32(&t, 0);
	put64(&t, 0xfed90000);
	put32(&t, 0);
	put32(&t, 0);
	end(&t, at);
	finish(&t);
	check_rejected(&t, "RHSA #0 is 24 bytes, must be 20");
	build_qemu(&t);
	at = begin(&t, 4);
	put32(&t, 0);
	put32(&t, 0x41414141);
	end(&t, at);
	finish(&t);
	check_rejected(&t, "ANDD #0: object name is not NUL-terminated");
	build_qemu(&t);
	at = begin(&t, 2);
	put32(&t, 0);
	scope(&t, 1, 0, 0, 1, (const uint8_t[]){ 1, 0 });
	end(&t, at);
	finish(&t);
	check_rejected(&t, "ATSR #0: device scope type 1 (endpoint) is not allowed");
}

TEST(capacity_limits)
{
	struct tb t;

	header(&t, 39, 0);
	for (unsigned i = 0; i <= DMAR_MAX_UNITS; i++)
		end(&t, drhd(&t, 0, (uint16_t)i, 0xfed00000 + 0x1000ull * i));
	finish(&t);
	check_rejected(&t, "more than 16 DRHD units");
}

/* Cut a good table anywhere: the parser must reject it, never overread. */
TEST(every_truncation)
{
	struct tb t, c;

	build_full(&t);
	for (size_t len = 0; len < t.n; len++) {
		c = t;
		c.n = len;
		if (len >= 48)
			finish(&c);
		CHECK(parse(&c) < 0 || c.n >= 48);
	}
}

int main(void)
{
	RUN(qemu_table);
	RUN(full_table);
	RUN(header_rules);
	RUN(structure_lengths);
	RUN(drhd_rules);
	RUN(scope_rules);
	RUN(other_structure_rules);
	RUN(capacity_limits);
	RUN(every_truncation);
	return unit_done();
}
