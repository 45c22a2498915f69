/*
 * libFuzzer target for the MMIO instruction decoder (arch/x86/decode.c)
 * and the guest page-table walker (arch/x86/guest_walk.c).
 *
 * Input: one control byte, then the payload.
 *   control bit 0 clear: decode. Bits 2:1 pick the mode (3 counts as
 *     64-bit); the payload is the instruction bytes, in a heap copy of
 *     exactly their size so ASan sees any read past the end.
 *   control bit 0 set: walk. The payload starts with a 32-byte header
 *     (CR0, CR3, CR4 bits, EFER, CPL, MAXPHYADDR, the address, the
 *     access) and the rest is guest RAM at guest-physical 0, padded with
 *     zeros to 64 KiB. Reads go through a bounded callback that aborts
 *     on any request outside RAM it did not refuse.
 *
 * Decoder promises: on success 1 <= len <= 15, len <= the buffer, reg <
 * 16, access size 1/2/4/8, AH..BH only for byte registers 0-3, memory
 * registers < 16, the same result with the buffer cut to len or grown;
 * -EAGAIN only with fewer than 15 bytes, and for every cut of a decoded
 * instruction. Walker promises: only its documented results; a #PF
 * error code uses bits 4:0 only, RSVD only with P; a page-crossing read
 * reports at most what it was asked for; a translation stays below
 * 2^MAXPHYADDR.
 *
 * Build and run (from the repository root):
 *   make build/fuzz/decode && build/fuzz/decode -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/decode.h"
#include "arch/x86/guest_walk.h"
#include "core/errno.h"
#include "core/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- Decoder ------------------------------------------------------------- */

static uint64_t fuzz_read_reg(void *ctx, unsigned reg)
{
	(void)ctx;
	if (reg >= 16)
		abort();
	return 0x0123456789abcdefull * (reg + 1);
}

static bool is_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static bool is_reg_or_none(unsigned r)
{
	return r < 16 || r == INSN_NO_REG;
}

static void check_insn(const struct insn *i, size_t len)
{
	if (i->len < 1 || i->len > INSN_MAX_LEN || i->len > len)
		abort();
	if (i->reg >= 16 || !is_size(i->access_size) || !is_size(i->addr_size))
		abort();
	if (i->reg_high8 && (i->reg >= 4 || i->reg_size != 1))
		abort();
	if (i->kind == INSN_STORE_IMM ? i->reg_size != 0 : !is_size(i->reg_size))
		abort();
	if (!is_reg_or_none(i->mem.base) || !is_reg_or_none(i->mem.index) ||
	    !is_size(i->mem.scale) || i->seg >= INSN_SEG_NR)
		abort();
}

static void use_insn(const struct insn *i)
{
	struct insn_env env = { .rip = 0xfffffffffffffff0ull, .read_reg = fuzz_read_reg };
	uint64_t reg = 0x5555aaaa5555aaaaull;
	int err;

	for (unsigned s = 0; s < INSN_SEG_NR; s++)
		env.seg_base[s] = 0x1111111111111111ull * (s + 1);
	(void)insn_linear_address(i, &env);
	err = insn_apply_load(i, ~0ull, &reg);
	if (err && err != -EINVAL)
		abort();
	(void)insn_store_value(i, reg);
}

/* The same bytes must decode the same way cut to len, or grown. */
static void check_stable(const uint8_t *buf, enum insn_mode mode, const struct insn *i)
{
	uint8_t grown[INSN_MAX_LEN + 4];
	struct insn j;

	if (insn_decode(buf, i->len, mode, &j) || j.len != i->len || j.imm != i->imm ||
	    j.mem.disp != i->mem.disp)
		abort();
	if (insn_decode(buf, i->len - 1u, mode, &j) != -EAGAIN)
		abort();
	memset(grown, 0xcc, sizeof(grown));
	memcpy(grown, buf, i->len);
	if (insn_decode(grown, sizeof(grown), mode, &j) || j.len != i->len)
		abort();
}

static void fuzz_decode(uint8_t control, const uint8_t *data, size_t size)
{
	static const enum insn_mode modes[4] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64,
						 INSN_MODE_64 };
	enum insn_mode mode = modes[(control >> 1) & 3];
	uint8_t *buf = malloc(size ? size : 1);
	struct insn i;
	int err;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	err = insn_decode(buf, size, mode, &i);
	if (err == 0) {
		check_insn(&i, size);
		use_insn(&i);
		check_stable(buf, mode, &i);
	} else if (err == -EAGAIN) {
		if (size >= INSN_MAX_LEN)
			abort();
	} else if (err != -EINVAL && err != -ENOTSUP) {
		abort();
	}
	free(buf);
}

/* --- Walker -------------------------------------------------------------- */

#define WALK_RAM KIB(64)
#define WALK_HDR 32

static uint8_t *walk_ram;

static bool fuzz_read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	if (ctx != walk_ram || len == 0 || len > PAGE_SIZE)
		abort();
	if (gpa >= WALK_RAM || len > WALK_RAM - gpa)
		return false;
	memcpy(buf, walk_ram + gpa, len);
	return true;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * Header: CR3 (8), linear address (8), CR0 bits (1), CR4 bits (1),
 * EFER bits (1), CPL (1), MAXPHYADDR (1), access (1), read length (1),
 * PDPTE source and CR3 range (1), PDPTEs pattern (8).
 */
static void paging_from_header(const uint8_t *h, struct guest_paging *p, uint64_t *pdpte)
{
	memset(p, 0, sizeof(*p));
	/* Mostly inside RAM, so that walks get past CR3. */
	p->cr3 = h[23] & 2 ? get64(h) : get64(h) % WALK_RAM;
	p->cr0 = (h[16] & 1 ? 1ull << 31 : 0) | (h[16] & 2 ? 1ull << 16 : 0) | 1;
	p->cr4 = (h[17] & 1 ? 1ull << 4 : 0) | (h[17] & 2 ? 1ull << 5 : 0) |
		 (h[17] & 4 ? 1ull << 12 : 0) | (h[17] & 8 ? 1ull << 20 : 0);
	p->efer = (h[18] & 1 ? 1ull << 8 : 0) | (h[18] & 2 ? 1ull << 11 : 0);
	p->cpl = h[19] & 3;
	p->maxphyaddr = 32 + h[20] % 21;
	for (unsigned k = 0; k < 4; k++)
		pdpte[k] = get64(h + 24) ^ ((uint64_t)k << 30);
	p->pdpte = h[23] & 1 ? pdpte : NULL;
	p->read_gpa = fuzz_read_gpa;
	p->ctx = walk_ram;
}

static void check_walk(int err, const struct guest_pf *pf)
{
	if (err == -EFAULT) {
		if (pf->error & ~0x1fu)
			abort();
		if ((pf->error & PF_ERR_RSVD) && !(pf->error & PF_ERR_P))
			abort();
	} else if (err && err != -EINVAL && err != -EIO && err != -ENOTSUP) {
		abort();
	}
}

static void fuzz_walk(const uint8_t *data, size_t size)
{
	struct guest_paging p;
	struct guest_pf pf;
	uint64_t pdpte[4], gpa, gla;
	unsigned access;
	uint8_t buf[64];
	size_t done = ~(size_t)0, want;
	int err;

	if (size < WALK_HDR)
		return;
	walk_ram = calloc(1, WALK_RAM);
	if (!walk_ram)
		abort();
	memcpy(walk_ram, data + WALK_HDR, MIN(size - WALK_HDR, WALK_RAM));
	paging_from_header(data, &p, pdpte);
	gla = get64(data + 8);
	access = data[21] & 7;
	err = guest_walk(&p, gla, access, &gpa, &pf);
	check_walk(err, &pf);
	if (err == 0 && gpa >> p.maxphyaddr)
		abort();
	want = data[22] % sizeof(buf);
	err = guest_read_linear(&p, gla, access, buf, want, &done, &pf);
	check_walk(err, &pf);
	if (done > want || (err == 0 && done != want))
		abort();
	free(walk_ram);
	walk_ram = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_walk(data + 1, size - 1);
	else
		fuzz_decode(data[0], data + 1, size - 1);
	return 0;
}
