/*
 * MOV-family decoder for MMIO emulation (see decode.h). Three steps, as
 * the instruction format has them (SDM Vol. 2A 2.1, Figure 2-1):
 * prefixes, opcode (table-driven), operands (ModR/M, SIB, displacement,
 * immediate or moffs). Every byte comes through dec_next(), which knows
 * both the buffer's end and the 15-byte limit.
 */
#include "arch/x86/decode.h"
#include "core/errno.h"

/* REX bits, SDM Vol. 2A 2.2.1.2. */
#define REX_B 0x1
#define REX_X 0x2
#define REX_R 0x4
#define REX_W 0x8

/* What an opcode is: flags below and an enum insn_kind. */
#define OP_VALID (1u << 0)
#define OP_BYTE (1u << 1)   /* 8-bit operands */
#define OP_MODRM (1u << 2)  /* ModR/M follows */
#define OP_MOFFS (1u << 3)  /* moffs follows (A0-A3) */
#define OP_IMM (1u << 4)    /* immediate of the operand size, at most 32 bits */
#define OP_EXT0 (1u << 5)   /* ModR/M reg is an opcode extension that must be 0 */
#define OP_SRC16 (1u << 6)  /* MOVZX/MOVSX from a word; else from a byte */

struct op_desc {
	uint8_t flags;
	uint8_t kind;
};

/* SDM Vol. 2B MOV (88-8B, A0-A3, C6, C7). */
static const struct op_desc op_one[256] = {
	[0x88] = { OP_VALID | OP_MODRM | OP_BYTE, INSN_STORE_REG },
	[0x89] = { OP_VALID | OP_MODRM, INSN_STORE_REG },
	[0x8a] = { OP_VALID | OP_MODRM | OP_BYTE, INSN_LOAD },
	[0x8b] = { OP_VALID | OP_MODRM, INSN_LOAD },
	[0xa0] = { OP_VALID | OP_MOFFS | OP_BYTE, INSN_LOAD },
	[0xa1] = { OP_VALID | OP_MOFFS, INSN_LOAD },
	[0xa2] = { OP_VALID | OP_MOFFS | OP_BYTE, INSN_STORE_REG },
	[0xa3] = { OP_VALID | OP_MOFFS, INSN_STORE_REG },
	[0xc6] = { OP_VALID | OP_MODRM | OP_EXT0 | OP_IMM | OP_BYTE, INSN_STORE_IMM },
	[0xc7] = { OP_VALID | OP_MODRM | OP_EXT0 | OP_IMM, INSN_STORE_IMM },
};

/* SDM Vol. 2B MOVZX (0F B6/B7), MOVSX (0F BE/BF). */
static const struct op_desc op_0f[256] = {
	[0xb6] = { OP_VALID | OP_MODRM, INSN_LOAD_ZX },
	[0xb7] = { OP_VALID | OP_MODRM | OP_SRC16, INSN_LOAD_ZX },
	[0xbe] = { OP_VALID | OP_MODRM, INSN_LOAD_SX },
	[0xbf] = { OP_VALID | OP_MODRM | OP_SRC16, INSN_LOAD_SX },
};

/* 16-bit ModR/M r/m: base and index (SDM Vol. 2A 2.1.5, Table 2-1). */
static const uint8_t mem16_regs[8][2] = {
	{ 3, 6 }, { 3, 7 }, { 5, 6 }, { 5, 7 },   /* BX+SI BX+DI BP+SI BP+DI */
	{ 6, INSN_NO_REG }, { 7, INSN_NO_REG },   /* SI DI */
	{ 5, INSN_NO_REG }, { 3, INSN_NO_REG },   /* BP (disp16 if mod=0) BX */
};

struct dec {
	const uint8_t *buf;
	size_t avail;        /* bytes we may look at: min(len, 15) */
	size_t pos;
	enum insn_mode mode;
	bool has_rex;        /* even REX=40 changes the byte registers */
	uint8_t rex;
	bool opsize_prefix;  /* 66 */
	bool addrsize_prefix; /* 67 */
	int seg_override;    /* enum insn_seg, or -1 */
	uint8_t modrm;
};

/*
 * The next instruction byte. Running out of buffer before 15 bytes
 * means the caller should fetch more; needing a 16th byte is #GP on
 * hardware (SDM Vol. 2A 2.3.11).
 */
static int dec_next(struct dec *d, uint8_t *b)
{
	if (d->pos >= d->avail)
		return d->pos >= INSN_MAX_LEN ? -EINVAL : -EAGAIN;
	*b = d->buf[d->pos++];
	return 0;
}

/* @n (1-8) little-endian bytes. */
static int dec_next_le(struct dec *d, unsigned n, uint64_t *v)
{
	uint8_t b;

	*v = 0;
	for (unsigned k = 0; k < n; k++) {
		int err = dec_next(d, &b);

		if (err)
			return err;
		*v |= (uint64_t)b << (8 * k);
	}
	return 0;
}

static uint64_t size_mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* Sign-extend the low @bytes (1-8) of @v to 64 bits. */
static uint64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/* --- Prefixes (SDM Vol. 2A 2.1.1, 2.2.1) --------------------------------- */

static int prefix_segment(uint8_t b)
{
	switch (b) {
	case 0x26: return INSN_SEG_ES;
	case 0x2e: return INSN_SEG_CS;
	case 0x36: return INSN_SEG_SS;
	case 0x3e: return INSN_SEG_DS;
	case 0x64: return INSN_SEG_FS;
	case 0x65: return INSN_SEG_GS;
	default: return -1;
	}
}

/*
 * In 64-bit mode ES, CS, SS and DS have base 0 (SDM Vol. 1 3.7.4.1) and
 * their overrides are null prefixes: they neither select a segment nor
 * cancel an earlier FS or GS (AMD APM Vol. 3 "Segment-Override
 * Prefixes"; binutils decodes them the same way).
 */
static void prefix_set_segment(struct dec *d, int seg)
{
	if (d->mode != INSN_MODE_64 || seg == INSN_SEG_FS || seg == INSN_SEG_GS)
		d->seg_override = seg;
}

/*
 * Apply @b if it is a prefix: 1 if it was, 0 if it is the opcode, or an
 * error. A REX counts only right before the opcode; one followed by a
 * legacy prefix is ignored (SDM Vol. 2A 2.2.1).
 */
static int prefix_apply(struct dec *d, uint8_t b)
{
	int seg = prefix_segment(b);

	if (b == 0xf0 || b == 0xf2 || b == 0xf3)
		return -ENOTSUP;   /* LOCK, REPNE, REP: not an MMIO MOV */
	if (d->mode == INSN_MODE_64 && (b & 0xf0) == 0x40) {
		d->has_rex = true;
		d->rex = b & 0xf;
		return 1;
	}
	if (b == 0x66)
		d->opsize_prefix = true;
	else if (b == 0x67)
		d->addrsize_prefix = true;
	else if (seg >= 0)
		prefix_set_segment(d, seg);
	else
		return 0;
	d->has_rex = false;
	d->rex = 0;
	return 1;
}

static int decode_prefixes(struct dec *d)
{
	for (;;) {
		uint8_t b;
		int err = dec_next(d, &b);

		if (err)
			return err;
		err = prefix_apply(d, b);
		if (err <= 0) {
			d->pos--;   /* the opcode: read it again in the next step */
			return err;
		}
	}
}

/* --- Opcode -------------------------------------------------------------- */

static int decode_opcode(struct dec *d, const struct op_desc **op)
{
	uint8_t b;
	int err = dec_next(d, &b);

	if (err)
		return err;
	*op = &op_one[b];
	if (b == 0x0f) {
		err = dec_next(d, &b);
		if (err)
			return err;
		*op = &op_0f[b];
	}
	return (*op)->flags & OP_VALID ? 0 : -ENOTSUP;
}

/* --- Operands ------------------------------------------------------------ */

/* SDM Vol. 1 3.6.1, Vol. 2A 2.2.1.2: REX.W wins over 66. */
static unsigned operand_size(const struct dec *d)
{
	if (d->mode == INSN_MODE_64 && (d->rex & REX_W))
		return 8;
	if (d->mode == INSN_MODE_16)
		return d->opsize_prefix ? 4 : 2;
	return d->opsize_prefix ? 2 : 4;
}

static unsigned address_size(const struct dec *d)
{
	if (d->mode == INSN_MODE_64)
		return d->addrsize_prefix ? 4 : 8;
	if (d->mode == INSN_MODE_32)
		return d->addrsize_prefix ? 2 : 4;
	return d->addrsize_prefix ? 4 : 2;
}

static bool is_load(enum insn_kind k)
{
	return k == INSN_LOAD || k == INSN_LOAD_ZX || k == INSN_LOAD_SX;
}

static void set_sizes(const struct dec *d, const struct op_desc *op, struct insn *out)
{
	unsigned size = op->flags & OP_BYTE ? 1 : operand_size(d);

	out->reg_size = (uint8_t)size;
	out->access_size = (uint8_t)size;
	if (op->kind == INSN_LOAD_ZX || op->kind == INSN_LOAD_SX)
		out->access_size = op->flags & OP_SRC16 ? 2 : 1;
	if (op->kind == INSN_STORE_IMM)
		out->reg_size = 0;
}

/*
 * Byte registers 4-7 are AH..BH unless any REX is present, SPL..DIL
 * with one (SDM Vol. 1 3.4.1.1, Vol. 2A 2.2.1.2).
 */
static void set_reg_operand(const struct dec *d, struct insn *out, unsigned reg)
{
	if (out->reg_size == 1 && !d->has_rex && reg >= 4 && reg < 8) {
		out->reg = (uint8_t)(reg - 4);
		out->reg_high8 = true;
		return;
	}
	out->reg = (uint8_t)reg;
}

static int decode_disp(struct dec *d, unsigned bytes, struct insn_mem *m)
{
	uint64_t v;
	int err;

	if (!bytes)
		return 0;
	err = dec_next_le(d, bytes, &v);
	if (!err)
		m->disp = sign_extend(v, bytes);
	return err;
}

/* 16-bit addressing, SDM Vol. 2A 2.1.5 Table 2-1. */
static int decode_mem16(struct dec *d, struct insn_mem *m)
{
	unsigned mod = d->modrm >> 6, rm = d->modrm & 7;

	if (mod == 0 && rm == 6)
		return decode_disp(d, 2, m);
	m->base = mem16_regs[rm][0];
	m->index = mem16_regs[rm][1];
	return decode_disp(d, mod == 1 ? 1 : mod == 2 ? 2 : 0, m);
}

/*
 * SIB (SDM Vol. 2A Table 2-3, Table 2-5 for REX): index 100 without
 * REX.X means none; base 101 with mod=0 means none plus disp32, whatever
 * REX.B says.
 */
static int decode_sib(struct dec *d, struct insn_mem *m, unsigned *disp)
{
	unsigned index, base;
	uint8_t sib;
	int err = dec_next(d, &sib);

	if (err)
		return err;
	index = (d->rex & REX_X ? 8u : 0u) | ((sib >> 3) & 7u);
	base = sib & 7u;
	m->scale = (uint8_t)(1u << (sib >> 6));
	m->index = index == 4 ? INSN_NO_REG : (uint8_t)index;
	if (base == 5 && (d->modrm >> 6) == 0)
		*disp = 4;
	else
		m->base = (uint8_t)((d->rex & REX_B ? 8u : 0u) | base);
	return 0;
}

/*
 * 32- and 64-bit addressing, SDM Vol. 2A 2.1.5 Table 2-2. mod=0 r/m=101
 * is disp32, RIP-relative in 64-bit mode (2.2.1.6), whatever REX.B says.
 */
static int decode_mem32(struct dec *d, struct insn_mem *m)
{
	unsigned mod = d->modrm >> 6, rm = d->modrm & 7;
	unsigned disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	int err = 0;

	if (rm == 4) {
		err = decode_sib(d, m, &disp);
	} else if (mod == 0 && rm == 5) {
		m->rip_rel = d->mode == INSN_MODE_64;
		disp = 4;
	} else {
		m->base = (uint8_t)((d->rex & REX_B ? 8u : 0u) | rm);
	}
	return err ? err : decode_disp(d, disp, m);
}

/*
 * ModR/M (SDM Vol. 2A 2.1.3). mod=3 names a register: no memory access,
 * so not something an EPT violation can come from.
 */
static int decode_modrm(struct dec *d, const struct op_desc *op, struct insn *out)
{
	unsigned reg;
	int err = dec_next(d, &d->modrm);

	if (err)
		return err;
	reg = (d->modrm >> 3) & 7u;
	if ((op->flags & OP_EXT0) && reg != 0)
		return -ENOTSUP;
	if ((d->modrm >> 6) == 3)
		return -EINVAL;
	if (!(op->flags & OP_EXT0))
		set_reg_operand(d, out, (d->rex & REX_R ? 8u : 0u) | reg);
	if (out->addr_size == 2)
		return decode_mem16(d, &out->mem);
	return decode_mem32(d, &out->mem);
}

/* A0-A3: an absolute offset of the address size (SDM Vol. 2A 2.2.1.4). */
static int decode_moffs(struct dec *d, struct insn *out)
{
	out->reg = 0;
	return dec_next_le(d, out->addr_size, &out->mem.disp);
}

/* imm8/16/32; with a 64-bit operand imm32 is sign-extended (2.2.1.5). */
static int decode_imm(struct dec *d, struct insn *out)
{
	unsigned bytes = MIN(out->access_size, 4u);
	int err = dec_next_le(d, bytes, &out->imm);

	if (!err && out->access_size == 8)
		out->imm = sign_extend(out->imm, 4);
	return err;
}

/*
 * The segment of the memory operand: an override, else SS for BP/SP
 * based forms and DS for the rest (SDM Vol. 1 3.7.4). In 64-bit mode
 * only FS and GS have a base (Vol. 1 3.7.4.1); the rest is flat (DS).
 */
static enum insn_seg effective_segment(const struct dec *d, const struct insn_mem *m)
{
	if (d->seg_override >= 0)
		return (enum insn_seg)d->seg_override;
	if (d->mode == INSN_MODE_64)
		return INSN_SEG_DS;
	return m->base == 4 || m->base == 5 ? INSN_SEG_SS : INSN_SEG_DS;
}

static int decode_operands(struct dec *d, const struct op_desc *op, struct insn *out)
{
	int err;

	out->kind = (enum insn_kind)op->kind;
	out->addr_size = (uint8_t)address_size(d);
	out->mem.base = INSN_NO_REG;
	out->mem.index = INSN_NO_REG;
	out->mem.scale = 1;
	set_sizes(d, op, out);
	if (op->flags & OP_MOFFS)
		err = decode_moffs(d, out);
	else
		err = decode_modrm(d, op, out);
	if (!err && (op->flags & OP_IMM))
		err = decode_imm(d, out);
	out->seg = effective_segment(d, &out->mem);
	return err;
}

int insn_decode(const uint8_t *buf, size_t len, enum insn_mode mode, struct insn *out)
{
	struct dec d = {
		.buf = buf, .avail = MIN(len, (size_t)INSN_MAX_LEN), .mode = mode,
		.seg_override = -1,
	};
	const struct op_desc *op = NULL;
	int err;

	*out = (struct insn){ .mode = mode };
	if (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)
		return -EINVAL;
	err = decode_prefixes(&d);
	if (!err)
		err = decode_opcode(&d, &op);
	if (!err)
		err = decode_operands(&d, op, out);
	if (err)
		return err;
	out->len = (uint8_t)d.pos;
	return 0;
}

/* --- Effective address ---------------------------------------------------- */

static uint64_t effective_address(const struct insn *i, const struct insn_env *env)
{
	const struct insn_mem *m = &i->mem;
	uint64_t ea = m->disp;

	if (m->base != INSN_NO_REG)
		ea += env->read_reg(env->ctx, m->base);
	if (m->index != INSN_NO_REG)
		ea += env->read_reg(env->ctx, m->index) * m->scale;
	if (m->rip_rel)
		ea += env->rip + i->len;   /* relative to the next instruction */
	return ea & size_mask(i->addr_size);
}

uint64_t insn_linear_address(const struct insn *i, const struct insn_env *env)
{
	uint64_t ea = effective_address(i, env);
	bool has_base = i->mode != INSN_MODE_64 || i->seg == INSN_SEG_FS || i->seg == INSN_SEG_GS;
	uint64_t la = ea + (has_base ? env->seg_base[i->seg] : 0);

	return i->mode == INSN_MODE_64 ? la : la & 0xffffffffull;
}

/* --- Register semantics (SDM Vol. 1 3.4.1.1) ----------------------------- */

static uint64_t load_source(const struct insn *i, uint64_t value)
{
	uint64_t v = value & size_mask(i->access_size);

	if (i->kind == INSN_LOAD_SX)
		v = sign_extend(v, i->access_size);
	return v & size_mask(i->reg_size);
}

/* 32-bit writes zero-extend; 8- and 16-bit writes leave the rest alone. */
static uint64_t reg_merge(uint64_t old, uint64_t v, unsigned size, bool high8)
{
	if (high8)
		return (old & ~0xff00ull) | (v << 8);
	if (size >= 4)
		return v;
	return (old & ~size_mask(size)) | v;
}

int insn_apply_load(const struct insn *i, uint64_t value, uint64_t *reg)
{
	if (!is_load(i->kind) || !i->access_size || !i->reg_size)
		return -EINVAL;
	*reg = reg_merge(*reg, load_source(i, value), i->reg_size, i->reg_high8);
	return 0;
}

uint64_t insn_store_value(const struct insn *i, uint64_t regval)
{
	if (i->kind == INSN_STORE_IMM)
		return i->imm;
	if (i->reg_high8)
		return (regval >> 8) & 0xff;
	return regval & size_mask(i->access_size);
}
