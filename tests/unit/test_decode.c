/*
 * The MOV-family decoder (arch/x86/decode.c): every accepted opcode at
 * every operand size in each mode, register operands including r8-r15
 * and AH..BH, each ModR/M and SIB addressing form in 16-, 32- and 64-bit
 * addressing, segment overrides, immediates and moffs; rejections; the
 * register-write rules of loads and stores. Encodings were checked
 * against the SDM Vol. 2 tables by hand (see the comment on each line).
 */
#include "arch/x86/decode.h"
#include "core/errno.h"
#include "tests/unit/unit.h"

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64
#define NO INSN_NO_REG

/*
 * Decode @b exactly, then padded to 15 bytes (same result), then every
 * truncation (-EAGAIN). Failures name the caller's line.
 */
static void decode_ok(enum insn_mode mode, const uint8_t *b, size_t n, struct insn *i, int line)
{
	uint8_t pad[INSN_MAX_LEN];
	struct insn j;
	int err;

	memset(pad, 0x90, sizeof(pad));
	memcpy(pad, b, n);
	err = insn_decode(b, n, mode, i);
	if (err || i->len != n) {
		fprintf(stderr, "%s:%d: %s: decode gave %d, len %u, wanted 0, len %zu\n", __FILE__,
			line, unit_current, err, i->len, n);
		unit_failed_checks++;
	}
	err = insn_decode(pad, sizeof(pad), mode, &j);
	if (err || j.len != i->len || j.kind != i->kind || j.imm != i->imm ||
	    j.mem.disp != i->mem.disp || j.reg != i->reg) {
		fprintf(stderr, "%s:%d: %s: padded decode differs (%d)\n", __FILE__, line,
			unit_current, err);
		unit_failed_checks++;
	}
	for (size_t k = 0; k < n; k++) {
		err = insn_decode(b, k, mode, &j);
		if (err != -EAGAIN) {
			fprintf(stderr, "%s:%d: %s: %zu of %zu bytes gave %d, not -EAGAIN\n",
				__FILE__, line, unit_current, k, n, err);
			unit_failed_checks++;
		}
	}
}

#define DECODE(mode, i, ...)                                                  \
	do {                                                                  \
		static const uint8_t bytes_[] = { __VA_ARGS__ };                  \
		decode_ok(mode, bytes_, sizeof(bytes_), &(i), __LINE__);              \
	} while (0)

#define REJECT(mode, err, ...)                                                \
	do {                                                                  \
		static const uint8_t bytes_[] = { __VA_ARGS__ };                  \
		struct insn rej_;                                               \
		CHECK_EQ(insn_decode(bytes_, sizeof(bytes_), mode, &rej_), err);        \
	} while (0)

#define CHECK_INSN(i, kind_, size_, reg_, high8_, reg_size_)                  \
	do {                                                                  \
		CHECK_EQ((i).kind, kind_);                                    \
		CHECK_EQ((i).access_size, size_);                             \
		CHECK_EQ((i).reg, reg_);                                      \
		CHECK_EQ((i).reg_high8, high8_);                              \
		CHECK_EQ((i).reg_size, reg_size_);                            \
	} while (0)

#define CHECK_MEM(i, base_, index_, scale_, disp_)                            \
	do {                                                                  \
		CHECK_EQ((i).mem.base, base_);                                \
		CHECK_EQ((i).mem.index, index_);                              \
		CHECK_EQ((i).mem.scale, scale_);                              \
		CHECK_EQ((i).mem.disp, disp_);                                \
	} while (0)

/* --- Every opcode at every operand size --------------------------------- */

struct op_case {
	uint8_t op[2], nop;
	enum insn_kind kind;
	unsigned fixed;     /* access size fixed by the opcode (byte ops, MOVZX src) */
	bool byte_reg;      /* the register is 8-bit too */
	bool imm, moffs;
};

static const struct op_case ops[] = {
	{ { 0x88 }, 1, INSN_STORE_REG, 1, true, false, false },
	{ { 0x89 }, 1, INSN_STORE_REG, 0, false, false, false },
	{ { 0x8a }, 1, INSN_LOAD, 1, true, false, false },
	{ { 0x8b }, 1, INSN_LOAD, 0, false, false, false },
	{ { 0xc6 }, 1, INSN_STORE_IMM, 1, true, true, false },
	{ { 0xc7 }, 1, INSN_STORE_IMM, 0, false, true, false },
	{ { 0xa0 }, 1, INSN_LOAD, 1, true, false, true },
	{ { 0xa1 }, 1, INSN_LOAD, 0, false, false, true },
	{ { 0xa2 }, 1, INSN_STORE_REG, 1, true, false, true },
	{ { 0xa3 }, 1, INSN_STORE_REG, 0, false, false, true },
	{ { 0x0f, 0xb6 }, 2, INSN_LOAD_ZX, 1, false, false, false },
	{ { 0x0f, 0xb7 }, 2, INSN_LOAD_ZX, 2, false, false, false },
	{ { 0x0f, 0xbe }, 2, INSN_LOAD_SX, 1, false, false, false },
	{ { 0x0f, 0xbf }, 2, INSN_LOAD_SX, 2, false, false, false },
};

struct size_case {
	enum insn_mode mode;
	uint8_t pfx[2], npfx;
	unsigned opsize, addrsize;
};

static const struct size_case sizes[] = {
	{ M64, { 0 }, 0, 4, 8 },
	{ M64, { 0x66 }, 1, 2, 8 },
	{ M64, { 0x48 }, 1, 8, 8 },
	{ M64, { 0x66, 0x48 }, 2, 8, 8 },   /* REX.W wins over 66 */
	{ M64, { 0x48, 0x66 }, 2, 2, 8 },   /* a REX before a legacy prefix is ignored */
	{ M64, { 0x67 }, 1, 4, 4 },
	{ M64, { 0x67, 0x48 }, 2, 8, 4 },
	{ M32, { 0 }, 0, 4, 4 },
	{ M32, { 0x66 }, 1, 2, 4 },
	{ M32, { 0x67 }, 1, 4, 2 },
	{ M16, { 0 }, 0, 2, 2 },
	{ M16, { 0x66 }, 1, 4, 2 },
	{ M16, { 0x67 }, 1, 2, 4 },
};

static size_t build(const struct op_case *o, const struct size_case *s, uint8_t *b,
		    unsigned access)
{
	size_t n = 0;

	memcpy(b, s->pfx, s->npfx);
	n += s->npfx;
	memcpy(b + n, o->op, o->nop);
	n += o->nop;
	if (o->moffs) {
		for (unsigned k = 0; k < s->addrsize; k++)
			b[n++] = (uint8_t)(0x11 * (k + 1));
		return n;
	}
	/* reg=1 (or /0), r/m=0: [rax], [eax] or [bx+si], no displacement */
	b[n++] = o->imm ? 0x00 : 0x08;
	for (unsigned k = 0; o->imm && k < MIN(access, 4u); k++)
		b[n++] = (uint8_t)(0x81 + k);
	return n;
}

static uint64_t expected_imm(unsigned size)
{
	static const uint64_t v[] = { 0, 0x81, 0x8281, 0, 0x84838281, 0, 0, 0,
				      0xffffffff84838281ull };
	return v[size];
}

static void check_case(const struct op_case *o, const struct size_case *s)
{
	unsigned access = o->fixed ? o->fixed : s->opsize;
	unsigned reg_size = o->byte_reg ? 1 : s->opsize;
	uint8_t b[INSN_MAX_LEN];
	size_t n = build(o, s, b, access);
	int before = unit_failed_checks;
	struct insn i;

	decode_ok(s->mode, b, n, &i, __LINE__);
	CHECK_EQ(i.kind, o->kind);
	CHECK_EQ(i.access_size, access);
	CHECK_EQ(i.reg_size, o->kind == INSN_STORE_IMM ? 0 : reg_size);
	CHECK_EQ(i.reg, o->moffs || o->imm ? 0 : 1);
	CHECK_EQ(i.reg_high8, false);
	CHECK_EQ(i.addr_size, s->addrsize);
	CHECK_EQ(i.imm, o->imm ? expected_imm(access) : 0);
	if (o->moffs)
		CHECK_EQ(i.mem.disp, s->addrsize == 8 ? 0x8877665544332211ull :
				     s->addrsize == 4 ? 0x44332211ull : 0x2211ull);
	if (unit_failed_checks != before)
		fprintf(stderr, "  (opcode %02x%02x, mode %d, prefixes %02x %02x)\n", o->op[0],
			o->nop > 1 ? o->op[1] : 0, s->mode, s->pfx[0], s->pfx[1]);
}

TEST(every_opcode_at_every_operand_size)
{
	for (size_t k = 0; k < ARRAY_SIZE(ops); k++)
		for (size_t j = 0; j < ARRAY_SIZE(sizes); j++)
			check_case(&ops[k], &sizes[j]);
}

/* --- Register operands --------------------------------------------------- */

TEST(register_operands_with_rex)
{
	struct insn i;

	DECODE(M64, i, 0x44, 0x89, 0x08);               /* mov [rax], r9d */
	CHECK_INSN(i, INSN_STORE_REG, 4, 9, false, 4);
	CHECK_MEM(i, 0, NO, 1, 0);
	DECODE(M64, i, 0x4c, 0x8b, 0x38);               /* mov r15, [rax] */
	CHECK_INSN(i, INSN_LOAD, 8, 15, false, 8);
	DECODE(M64, i, 0x41, 0x89, 0x08);               /* mov [r8], ecx */
	CHECK_INSN(i, INSN_STORE_REG, 4, 1, false, 4);
	CHECK_MEM(i, 8, NO, 1, 0);
	DECODE(M64, i, 0x4d, 0x89, 0x3f);               /* mov [r15], r15 */
	CHECK_INSN(i, INSN_STORE_REG, 8, 15, false, 8);
	CHECK_MEM(i, 15, NO, 1, 0);
	DECODE(M64, i, 0x66, 0x45, 0x89, 0x10);         /* mov [r8], r10w */
	CHECK_INSN(i, INSN_STORE_REG, 2, 10, false, 2);
	CHECK_MEM(i, 8, NO, 1, 0);
	DECODE(M64, i, 0x89, 0x20);                     /* mov [rax], esp */
	CHECK_INSN(i, INSN_STORE_REG, 4, 4, false, 4);
	DECODE(M64, i, 0x44, 0x0f, 0xb6, 0x00);         /* movzx r8d, byte [rax] */
	CHECK_INSN(i, INSN_LOAD_ZX, 1, 8, false, 4);
	DECODE(M64, i, 0x4c, 0x0f, 0xbf, 0x38);         /* movsx r15, word [rax] */
	CHECK_INSN(i, INSN_LOAD_SX, 2, 15, false, 8);
	/* MOVZX's destination is never a byte register, REX or not. */
	DECODE(M64, i, 0x0f, 0xb6, 0x30);               /* movzx esi, byte [rax] */
	CHECK_INSN(i, INSN_LOAD_ZX, 1, 6, false, 4);
	DECODE(M32, i, 0x0f, 0xb6, 0x38);               /* movzx edi, byte [eax] */
	CHECK_INSN(i, INSN_LOAD_ZX, 1, 7, false, 4);
}

TEST(byte_registers_high_and_rex)
{
	struct insn i;

	DECODE(M64, i, 0x88, 0x20);                     /* mov [rax], ah */
	CHECK_INSN(i, INSN_STORE_REG, 1, 0, true, 1);
	DECODE(M64, i, 0x88, 0x28);                     /* mov [rax], ch */
	CHECK_INSN(i, INSN_STORE_REG, 1, 1, true, 1);
	DECODE(M64, i, 0x8a, 0x30);                     /* mov dh, [rax] */
	CHECK_INSN(i, INSN_LOAD, 1, 2, true, 1);
	DECODE(M64, i, 0x8a, 0x38);                     /* mov bh, [rax] */
	CHECK_INSN(i, INSN_LOAD, 1, 3, true, 1);
	DECODE(M64, i, 0x88, 0x18);                     /* mov [rax], bl */
	CHECK_INSN(i, INSN_STORE_REG, 1, 3, false, 1);
	DECODE(M64, i, 0x40, 0x88, 0x20);               /* mov [rax], spl */
	CHECK_INSN(i, INSN_STORE_REG, 1, 4, false, 1);
	DECODE(M64, i, 0x40, 0x8a, 0x38);               /* mov dil, [rax] */
	CHECK_INSN(i, INSN_LOAD, 1, 7, false, 1);
	DECODE(M64, i, 0x44, 0x88, 0x20);               /* mov [rax], r12b */
	CHECK_INSN(i, INSN_STORE_REG, 1, 12, false, 1);
	DECODE(M64, i, 0x41, 0x88, 0x20);               /* mov [r8], spl: any REX */
	CHECK_INSN(i, INSN_STORE_REG, 1, 4, false, 1);
	/* A REX cancelled by a later prefix leaves AH..BH. */
	DECODE(M64, i, 0x40, 0x3e, 0x88, 0x20);         /* ds mov [rax], ah */
	CHECK_INSN(i, INSN_STORE_REG, 1, 0, true, 1);
	DECODE(M32, i, 0x88, 0x3b);                     /* mov [ebx], bh */
	CHECK_INSN(i, INSN_STORE_REG, 1, 3, true, 1);
	CHECK_MEM(i, 3, NO, 1, 0);
	DECODE(M16, i, 0x8a, 0x27);                     /* mov ah, [bx] */
	CHECK_INSN(i, INSN_LOAD, 1, 0, true, 1);
	DECODE(M64, i, 0xa0, 1, 2, 3, 4, 5, 6, 7, 8);   /* mov al, [moffs64] */
	CHECK_INSN(i, INSN_LOAD, 1, 0, false, 1);
}

/* --- Immediates and moffs ------------------------------------------------ */

TEST(immediate_forms)
{
	struct insn i;

	DECODE(M64, i, 0xc6, 0x00, 0x5a);               /* mov byte [rax], 0x5a */
	CHECK_INSN(i, INSN_STORE_IMM, 1, 0, false, 0);
	CHECK_EQ(i.imm, 0x5a);
	DECODE(M64, i, 0xc6, 0x00, 0xff);               /* imm8 is not sign-extended */
	CHECK_EQ(i.imm, 0xff);
	DECODE(M64, i, 0xc7, 0x00, 0x78, 0x56, 0x34, 0x12);
	CHECK_INSN(i, INSN_STORE_IMM, 4, 0, false, 0);
	CHECK_EQ(i.imm, 0x12345678);
	DECODE(M64, i, 0x66, 0xc7, 0x00, 0x34, 0x12);   /* imm16 with 66 */
	CHECK_INSN(i, INSN_STORE_IMM, 2, 0, false, 0);
	CHECK_EQ(i.imm, 0x1234);
	DECODE(M64, i, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff);
	CHECK_INSN(i, INSN_STORE_IMM, 8, 0, false, 0);
	CHECK_EQ(i.imm, ~0ull);
	DECODE(M64, i, 0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80);
	CHECK_EQ(i.imm, 0xffffffff80000000ull);
	DECODE(M64, i, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f);
	CHECK_EQ(i.imm, 0x7fffffff);
	/* displacement then immediate */
	DECODE(M64, i, 0xc7, 0x40, 0x08, 0x01, 0x00, 0x00, 0x00);   /* [rax+8], 1 */
	CHECK_MEM(i, 0, NO, 1, 8);
	CHECK_EQ(i.imm, 1);
	DECODE(M64, i, 0x41, 0xc7, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde);
	CHECK_MEM(i, 12, NO, 1, 0x100);                 /* mov dword [r12+0x100], 0xdeadbeef */
	CHECK_EQ(i.imm, 0xdeadbeef);
	DECODE(M64, i, 0xc7, 0x05, 0x10, 0, 0, 0, 0x2a, 0, 0, 0);    /* [rip+0x10], 42 */
	CHECK(i.mem.rip_rel);
	CHECK_EQ(i.imm, 42);
	DECODE(M16, i, 0xc7, 0x07, 0x34, 0x12);         /* mov word [bx], 0x1234 */
	CHECK_INSN(i, INSN_STORE_IMM, 2, 0, false, 0);
	CHECK_EQ(i.imm, 0x1234);
	DECODE(M16, i, 0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12);
	CHECK_EQ(i.access_size, 4);
	CHECK_EQ(i.imm, 0x12345678);
	DECODE(M32, i, 0xc6, 0x05, 0x00, 0x10, 0x00, 0x00, 0x7f);   /* mov byte [0x1000], 0x7f */
	CHECK_MEM(i, NO, NO, 1, 0x1000);
	CHECK_EQ(i.imm, 0x7f);
}

TEST(moffs_forms)
{
	struct insn i;

	DECODE(M64, i, 0x48, 0xa1, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0);  /* mov rax, [0xfee00300] */
	CHECK_INSN(i, INSN_LOAD, 8, 0, false, 8);
	CHECK_MEM(i, NO, NO, 1, 0xfee00300);
	CHECK_EQ(i.addr_size, 8);
	DECODE(M64, i, 0xa3, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0x80);     /* mov [moffs], eax */
	CHECK_INSN(i, INSN_STORE_REG, 4, 0, false, 4);
	CHECK_EQ(i.mem.disp, 0x80000000fee00300ull);
	DECODE(M64, i, 0x67, 0xa1, 0x00, 0x03, 0xe0, 0xfe);              /* moffs32 */
	CHECK_EQ(i.addr_size, 4);
	CHECK_EQ(i.mem.disp, 0xfee00300);
	DECODE(M64, i, 0x66, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8);              /* mov [moffs], ax */
	CHECK_INSN(i, INSN_STORE_REG, 2, 0, false, 2);
	DECODE(M64, i, 0x65, 0xa2, 1, 2, 3, 4, 5, 6, 7, 8);              /* mov gs:[moffs], al */
	CHECK_EQ(i.seg, INSN_SEG_GS);
	DECODE(M32, i, 0xa1, 0x00, 0x03, 0xe0, 0xfe);
	CHECK_EQ(i.mem.disp, 0xfee00300);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M32, i, 0x67, 0xa1, 0x34, 0x12);
	CHECK_EQ(i.mem.disp, 0x1234);
	DECODE(M16, i, 0xa1, 0x34, 0x12);
	CHECK_INSN(i, INSN_LOAD, 2, 0, false, 2);
	DECODE(M16, i, 0x26, 0x67, 0x66, 0xa3, 0x78, 0x56, 0x34, 0x12);  /* mov es:[moffs32], eax */
	CHECK_INSN(i, INSN_STORE_REG, 4, 0, false, 4);
	CHECK_EQ(i.mem.disp, 0x12345678);
	CHECK_EQ(i.seg, INSN_SEG_ES);
}

/* --- Addressing forms ---------------------------------------------------- */

TEST(modrm_and_sib_64)
{
	struct insn i;

	DECODE(M64, i, 0x8b, 0x00);                                 /* [rax] */
	CHECK_MEM(i, 0, NO, 1, 0);
	DECODE(M64, i, 0x8b, 0x43, 0x10);                           /* [rbx+0x10] */
	CHECK_MEM(i, 3, NO, 1, 0x10);
	DECODE(M64, i, 0x8b, 0x46, 0xf0);                           /* [rsi-0x10] */
	CHECK_MEM(i, 6, NO, 1, (uint64_t)-0x10);
	DECODE(M64, i, 0x8b, 0x87, 0x78, 0x56, 0x34, 0x12);         /* [rdi+0x12345678] */
	CHECK_MEM(i, 7, NO, 1, 0x12345678);
	DECODE(M64, i, 0x8b, 0x80, 0x00, 0x00, 0x00, 0x80);         /* [rax-0x80000000] */
	CHECK_MEM(i, 0, NO, 1, 0xffffffff80000000ull);
	DECODE(M64, i, 0x8b, 0x04, 0x24);                           /* [rsp] */
	CHECK_MEM(i, 4, NO, 1, 0);
	DECODE(M64, i, 0x8b, 0x44, 0x24, 0x08);                     /* [rsp+8] */
	CHECK_MEM(i, 4, NO, 1, 8);
	DECODE(M64, i, 0x8b, 0x04, 0x88);                           /* [rax+rcx*4] */
	CHECK_MEM(i, 0, 1, 4, 0);
	DECODE(M64, i, 0x8b, 0x54, 0x5e, 0x7f);                     /* edx, [rsi+rbx*2+0x7f] */
	CHECK_INSN(i, INSN_LOAD, 4, 2, false, 4);
	CHECK_MEM(i, 6, 3, 2, 0x7f);
	DECODE(M64, i, 0x8b, 0x84, 0xc8, 0x00, 0x01, 0x00, 0x00);   /* [rax+rcx*8+0x100] */
	CHECK_MEM(i, 0, 1, 8, 0x100);
	DECODE(M64, i, 0x8b, 0x04, 0xcd, 0x00, 0x10, 0x00, 0x00);   /* [rcx*8+0x1000] */
	CHECK_MEM(i, NO, 1, 8, 0x1000);
	DECODE(M64, i, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00);   /* [0x1000] */
	CHECK_MEM(i, NO, NO, 1, 0x1000);
	CHECK(!i.mem.rip_rel);
	DECODE(M64, i, 0x8b, 0x04, 0x20);                           /* [rax], index 100 = none */
	CHECK_MEM(i, 0, NO, 1, 0);
	DECODE(M64, i, 0x8b, 0x45, 0x00);                           /* [rbp+0] */
	CHECK_MEM(i, 5, NO, 1, 0);
	DECODE(M64, i, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00);         /* [rip+0x100] */
	CHECK_MEM(i, NO, NO, 1, 0x100);
	CHECK(i.mem.rip_rel);
	DECODE(M64, i, 0x41, 0x8b, 0x05, 0xfc, 0xff, 0xff, 0xff);   /* [rip-4]: REX.B ignored */
	CHECK_MEM(i, NO, NO, 1, (uint64_t)-4);
	CHECK(i.mem.rip_rel);
	DECODE(M64, i, 0x41, 0x8b, 0x04, 0x24);                     /* [r12] */
	CHECK_MEM(i, 12, NO, 1, 0);
	DECODE(M64, i, 0x41, 0x8b, 0x45, 0x00);                     /* [r13+0] */
	CHECK_MEM(i, 13, NO, 1, 0);
	DECODE(M64, i, 0x41, 0x8b, 0x04, 0x25, 0x00, 0x10, 0, 0);   /* [0x1000]: REX.B ignored */
	CHECK_MEM(i, NO, NO, 1, 0x1000);
	DECODE(M64, i, 0x42, 0x8b, 0x04, 0x20);                     /* [rax+r12] */
	CHECK_MEM(i, 0, 12, 1, 0);
	DECODE(M64, i, 0x43, 0x8b, 0x04, 0xe4);                     /* [r12+r12*8] */
	CHECK_MEM(i, 12, 12, 8, 0);
	DECODE(M64, i, 0x4f, 0x8b, 0x7c, 0xfd, 0x80);               /* r15, [r13+r15*8-0x80] */
	CHECK_INSN(i, INSN_LOAD, 8, 15, false, 8);
	CHECK_MEM(i, 13, 15, 8, (uint64_t)-0x80);
	DECODE(M64, i, 0x67, 0x8b, 0x00);                           /* [eax] */
	CHECK_MEM(i, 0, NO, 1, 0);
	CHECK_EQ(i.addr_size, 4);
	DECODE(M64, i, 0x67, 0x8b, 0x05, 0x10, 0, 0, 0);            /* [eip+0x10] */
	CHECK(i.mem.rip_rel);
	CHECK_EQ(i.addr_size, 4);
}

TEST(modrm_and_sib_32)
{
	struct insn i;

	DECODE(M32, i, 0x8b, 0x05, 0x00, 0x03, 0xe0, 0xfe);         /* [0xfee00300], not RIP */
	CHECK_MEM(i, NO, NO, 1, 0xfffffffffee00300ull);   /* sign-extended */
	CHECK(!i.mem.rip_rel);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M32, i, 0x89, 0x04, 0x24);                           /* [esp] */
	CHECK_MEM(i, 4, NO, 1, 0);
	CHECK_EQ(i.seg, INSN_SEG_SS);
	DECODE(M32, i, 0x8b, 0x45, 0x08);                           /* [ebp+8] */
	CHECK_MEM(i, 5, NO, 1, 8);
	CHECK_EQ(i.seg, INSN_SEG_SS);
	DECODE(M32, i, 0x8b, 0x04, 0x2c);                           /* [esp+ebp]: SS by base */
	CHECK_MEM(i, 4, 5, 1, 0);
	CHECK_EQ(i.seg, INSN_SEG_SS);
	DECODE(M32, i, 0x8b, 0x04, 0x28);                           /* [eax+ebp]: DS by base */
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M32, i, 0x8b, 0x04, 0x6d, 0x10, 0, 0, 0);            /* [ebp*2+0x10]: no base */
	CHECK_MEM(i, NO, 5, 2, 0x10);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M32, i, 0x3e, 0x8b, 0x45, 0x08);                     /* ds: [ebp+8] */
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M32, i, 0x8b, 0x8c, 0xb7, 0x00, 0x01, 0x00, 0x00);   /* ecx, [edi+esi*4+0x100] */
	CHECK_INSN(i, INSN_LOAD, 4, 1, false, 4);
	CHECK_MEM(i, 7, 6, 4, 0x100);
	DECODE(M32, i, 0x67, 0x8b, 0x07);                           /* [bx] */
	CHECK_MEM(i, 3, NO, 1, 0);
	CHECK_EQ(i.addr_size, 2);
}

TEST(modrm_16)
{
	static const struct { uint8_t base, index; enum insn_seg seg; } forms[8] = {
		{ 3, 6, INSN_SEG_DS }, { 3, 7, INSN_SEG_DS }, { 5, 6, INSN_SEG_SS },
		{ 5, 7, INSN_SEG_SS }, { 6, NO, INSN_SEG_DS }, { 7, NO, INSN_SEG_DS },
		{ 5, NO, INSN_SEG_SS }, { 3, NO, INSN_SEG_DS },
	};
	struct insn i;

	for (unsigned rm = 0; rm < 8; rm++) {
		uint8_t b0[2] = { 0x8b, (uint8_t)rm };
		uint8_t b1[3] = { 0x8b, (uint8_t)(0x40 | rm), 0xfe };
		uint8_t b2[4] = { 0x8b, (uint8_t)(0x80 | rm), 0x34, 0x12 };

		if (rm != 6) {
			decode_ok(M16, b0, sizeof(b0), &i, __LINE__);
			CHECK_MEM(i, forms[rm].base, forms[rm].index, 1, 0);
			CHECK_EQ(i.seg, forms[rm].seg);
		}
		decode_ok(M16, b1, sizeof(b1), &i, __LINE__);
		CHECK_MEM(i, forms[rm].base, forms[rm].index, 1, (uint64_t)-2);
		CHECK_EQ(i.seg, forms[rm].seg);
		decode_ok(M16, b2, sizeof(b2), &i, __LINE__);
		CHECK_MEM(i, forms[rm].base, forms[rm].index, 1, 0x1234);
		CHECK_EQ(i.addr_size, 2);
	}
	DECODE(M16, i, 0x8b, 0x06, 0x34, 0x12);                     /* [0x1234] */
	CHECK_MEM(i, NO, NO, 1, 0x1234);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M16, i, 0x8b, 0x1e, 0x00, 0x80);                     /* bx, [0x8000] */
	CHECK_INSN(i, INSN_LOAD, 2, 3, false, 2);
	DECODE(M16, i, 0x36, 0x8b, 0x07);                           /* ss: [bx] */
	CHECK_EQ(i.seg, INSN_SEG_SS);
	DECODE(M16, i, 0x66, 0x89, 0x0f);                           /* mov [bx], ecx */
	CHECK_INSN(i, INSN_STORE_REG, 4, 1, false, 4);
	DECODE(M16, i, 0x67, 0x8b, 0x04, 0x88);                     /* [eax+ecx*4] */
	CHECK_MEM(i, 0, 1, 4, 0);
	CHECK_EQ(i.addr_size, 4);
	DECODE(M16, i, 0x0f, 0xb6, 0x07);                           /* movzx ax, byte [bx] */
	CHECK_INSN(i, INSN_LOAD_ZX, 1, 0, false, 2);
}

TEST(segment_overrides)
{
	struct insn i;

	DECODE(M64, i, 0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0);   /* mov rax, gs:[0x28] */
	CHECK_EQ(i.seg, INSN_SEG_GS);
	CHECK_INSN(i, INSN_LOAD, 8, 0, false, 8);
	DECODE(M64, i, 0x64, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_FS);
	/* ES, CS, SS, DS overrides mean nothing in 64-bit mode. */
	DECODE(M64, i, 0x26, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M64, i, 0x2e, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	DECODE(M64, i, 0x36, 0x89, 0x04, 0x24);
	CHECK_EQ(i.seg, INSN_SEG_DS);
	/* ... nor cancel an FS or GS one; between those the last counts */
	DECODE(M64, i, 0x64, 0x2e, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_FS);
	DECODE(M64, i, 0x2e, 0x64, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_FS);
	DECODE(M64, i, 0x65, 0x3e, 0x26, 0x36, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_GS);
	DECODE(M64, i, 0x65, 0x64, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_FS);
	DECODE(M32, i, 0x64, 0x2e, 0x89, 0x08);                     /* elsewhere the last one */
	CHECK_EQ(i.seg, INSN_SEG_CS);
	DECODE(M32, i, 0x26, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_ES);
	DECODE(M32, i, 0x2e, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_CS);
	DECODE(M32, i, 0x36, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_SS);
	DECODE(M32, i, 0x64, 0x89, 0x08);
	CHECK_EQ(i.seg, INSN_SEG_FS);
	DECODE(M32, i, 0x65, 0x89, 0x45, 0x00);                     /* gs: [ebp+0] */
	CHECK_EQ(i.seg, INSN_SEG_GS);
	/* Prefixes in any order, repeated. */
	DECODE(M64, i, 0x66, 0x65, 0x67, 0x66, 0x89, 0x08);
	CHECK_INSN(i, INSN_STORE_REG, 2, 1, false, 2);
	CHECK_EQ(i.addr_size, 4);
	CHECK_EQ(i.seg, INSN_SEG_GS);
}

/* --- Rejections ---------------------------------------------------------- */

TEST(rejects_other_opcodes)
{
	REJECT(M64, -ENOTSUP, 0x90);                    /* nop */
	REJECT(M64, -ENOTSUP, 0x8c, 0x00);              /* mov r/m, Sreg */
	REJECT(M64, -ENOTSUP, 0x8d, 0x00);              /* lea */
	REJECT(M64, -ENOTSUP, 0x8e, 0x00);              /* mov Sreg, r/m */
	REJECT(M64, -ENOTSUP, 0x01, 0x08);              /* add */
	REJECT(M64, -ENOTSUP, 0x85, 0x08);              /* test */
	REJECT(M64, -ENOTSUP, 0x87, 0x08);              /* xchg */
	REJECT(M64, -ENOTSUP, 0x63, 0x08);              /* movsxd */
	REJECT(M64, -ENOTSUP, 0x81, 0x08, 1, 0, 0, 0);  /* or */
	REJECT(M64, -ENOTSUP, 0xa4);                    /* movsb */
	REJECT(M64, -ENOTSUP, 0xa5);                    /* movsd */
	REJECT(M64, -ENOTSUP, 0xab);                    /* stosd */
	REJECT(M64, -ENOTSUP, 0xff, 0x00);              /* inc */
	REJECT(M64, -ENOTSUP, 0x0f, 0x0b);              /* ud2 */
	REJECT(M64, -ENOTSUP, 0x0f, 0xc3, 0x08);        /* movnti */
	REJECT(M64, -ENOTSUP, 0x0f, 0x6f, 0x00);        /* movq mm, m64 */
	REJECT(M64, -ENOTSUP, 0xc5, 0xf9, 0x6f, 0x00);  /* vmovdqa */
	REJECT(M64, -ENOTSUP, 0xc7, 0x08, 1, 0, 0, 0);  /* C7 /1 */
	REJECT(M64, -ENOTSUP, 0xc6, 0x38, 1);           /* C6 /7 */
	REJECT(M64, -ENOTSUP, 0xc7, 0xf8, 0, 0, 0, 0);  /* xbegin */
	REJECT(M32, -ENOTSUP, 0x48, 0x8b, 0x00);        /* dec eax: no REX outside 64-bit */
	REJECT(M16, -ENOTSUP, 0x41, 0x89, 0x08);
}

TEST(rejects_lock_and_rep)
{
	REJECT(M64, -ENOTSUP, 0xf0, 0x89, 0x08);
	REJECT(M64, -ENOTSUP, 0xf3, 0x89, 0x08);
	REJECT(M64, -ENOTSUP, 0xf2, 0x89, 0x08);
	REJECT(M64, -ENOTSUP, 0x66, 0xf0, 0x89, 0x08);
	REJECT(M64, -ENOTSUP, 0x48, 0xf3, 0x89, 0x08);
	REJECT(M32, -ENOTSUP, 0xf3, 0xa5);              /* rep movsd */
	REJECT(M16, -ENOTSUP, 0xf0, 0x89, 0x07);
}

TEST(rejects_register_operands)
{
	REJECT(M64, -EINVAL, 0x89, 0xc8);               /* mov eax, ecx */
	REJECT(M64, -EINVAL, 0x8b, 0xc1);
	REJECT(M64, -EINVAL, 0x88, 0xe0);
	REJECT(M64, -EINVAL, 0x4d, 0x8a, 0xff);
	REJECT(M64, -EINVAL, 0xc6, 0xc0, 0x01);
	REJECT(M64, -EINVAL, 0xc7, 0xc0, 0x01, 0, 0, 0);
	REJECT(M64, -EINVAL, 0x0f, 0xb6, 0xc0);
	REJECT(M64, -EINVAL, 0x0f, 0xbf, 0xc0);
	REJECT(M16, -EINVAL, 0x8b, 0xc0);
	REJECT(M32, -EINVAL, 0x8b, 0xc0);
}

TEST(rejects_length_over_15)
{
	uint8_t b[20];
	struct insn i;

	/* 13 prefixes + 89 08: 15 bytes, fine. */
	memset(b, 0x66, sizeof(b));
	b[13] = 0x89;
	b[14] = 0x08;
	CHECK_EQ(insn_decode(b, 15, M64, &i), 0);
	CHECK_EQ(i.len, 15);
	/* 14 prefixes + 89 08: 16 bytes, #GP on hardware. */
	memset(b, 0x66, sizeof(b));
	b[14] = 0x89;
	b[15] = 0x08;
	CHECK_EQ(insn_decode(b, 16, M64, &i), -EINVAL);
	CHECK_EQ(insn_decode(b, 15, M64, &i), -EINVAL);
	CHECK_EQ(insn_decode(b, 14, M64, &i), -EAGAIN);
	/* The operands, not the prefixes, push it over. */
	static const uint8_t big[] = { 0x66, 0x66, 0x66, 0x64, 0x67, 0x48, 0xc7, 0x84, 0x88,
				       1, 2, 3, 4, 5, 6, 7, 8 };
	CHECK_EQ(insn_decode(big, sizeof(big), M64, &i), -EINVAL);
	CHECK_EQ(insn_decode(big + 1, sizeof(big) - 1, M64, &i), -EINVAL);
	CHECK_EQ(insn_decode(big + 2, sizeof(big) - 2, M64, &i), 0);
	CHECK_EQ(i.len, 15);
	/* Only prefixes: 15 of them are already too many. */
	memset(b, 0x2e, sizeof(b));
	CHECK_EQ(insn_decode(b, sizeof(b), M32, &i), -EINVAL);
}

TEST(rejects_truncated_and_bad_mode)
{
	static const uint8_t mov[] = { 0x89, 0x08 };
	struct insn i;

	CHECK_EQ(insn_decode(mov, 0, M64, &i), -EAGAIN);
	CHECK_EQ(insn_decode(NULL, 0, M64, &i), -EAGAIN);
	CHECK_EQ(insn_decode(mov, 1, M64, &i), -EAGAIN);
	CHECK_EQ(insn_decode(mov, 2, (enum insn_mode)7, &i), -EINVAL);
	/* truncation after each part of a long form */
	static const uint8_t sib_disp[] = { 0x65, 0x48, 0x8b, 0x84, 0x88, 1, 2, 3, 4 };
	for (size_t n = 0; n < sizeof(sib_disp); n++)
		CHECK_EQ(insn_decode(sib_disp, n, M64, &i), -EAGAIN);
	CHECK_EQ(insn_decode(sib_disp, sizeof(sib_disp), M64, &i), 0);
}

/* --- Linear addresses ---------------------------------------------------- */

static uint64_t regs[16];

static uint64_t read_reg(void *ctx, unsigned reg)
{
	CHECK(ctx == regs);
	CHECK(reg < 16);
	return regs[reg & 15];
}

static uint64_t linear(enum insn_mode mode, const uint8_t *b, size_t n, uint64_t rip)
{
	struct insn_env env = {
		.rip = rip, .read_reg = read_reg, .ctx = regs,
		.seg_base = { 0x10000, 0x20000, 0x30000, 0x40000, 0x7f0000000000, 0xffff888000000000 },
	};
	struct insn i;

	CHECK_EQ(insn_decode(b, n, mode, &i), 0);
	return insn_linear_address(&i, &env);
}

#define LINEAR(mode, rip, ...)                                                \
	linear(mode, (const uint8_t[]){ __VA_ARGS__ },                        \
	       sizeof((const uint8_t[]){ __VA_ARGS__ }), rip)

TEST(linear_addresses)
{
	for (unsigned r = 0; r < 16; r++)
		regs[r] = 0x1000ull * (r + 1);
	/* 64-bit: base + index * scale + disp; no segment base */
	CHECK_EQ(LINEAR(M64, 0, 0x8b, 0x44, 0x88, 0x08), 0x1000 + 0x2000 * 4 + 8);
	CHECK_EQ(LINEAR(M64, 0, 0x43, 0x8b, 0x44, 0xe4, 0xf8), 0xd000 * 9 - 8);
	CHECK_EQ(LINEAR(M64, 0, 0x8b, 0x04, 0x24), 0x5000);               /* rsp */
	CHECK_EQ(LINEAR(M64, 0, 0x36, 0x8b, 0x04, 0x24), 0x5000);         /* SS base ignored */
	/* RIP-relative: from the end of the instruction, immediate included */
	CHECK_EQ(LINEAR(M64, 0x401000, 0x8b, 0x05, 0x10, 0, 0, 0), 0x401000 + 6 + 0x10);
	CHECK_EQ(LINEAR(M64, 0x401000, 0xc7, 0x05, 0xf0, 0xff, 0xff, 0xff, 1, 0, 0, 0),
		 0x401000 + 10 - 0x10);
	CHECK_EQ(LINEAR(M64, 0xffffffff81000000, 0x8b, 0x05, 0, 0, 0, 0x80),
		 0xffffffff81000006 - 0x80000000);
	/* FS and GS keep their bases */
	CHECK_EQ(LINEAR(M64, 0, 0x64, 0x8b, 0x00), 0x7f0000000000 + 0x1000);
	CHECK_EQ(LINEAR(M64, 0, 0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0),
		 0xffff888000000028);
	/* 67: the effective address wraps at 32 bits, then the base is added */
	regs[0] = 0x1fffffff0;
	CHECK_EQ(LINEAR(M64, 0, 0x67, 0x8b, 0x40, 0x20), 0x10);
	CHECK_EQ(LINEAR(M64, 0, 0x8b, 0x40, 0x20), 0x200000010);
	CHECK_EQ(LINEAR(M64, 0, 0x65, 0x67, 0x8b, 0x40, 0x20), 0xffff888000000010);
	CHECK_EQ(LINEAR(M64, 0xfffffff0, 0x67, 0x8b, 0x05, 0x10, 0, 0, 0), 0x7);
	/* moffs */
	CHECK_EQ(LINEAR(M64, 0, 0xa1, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 0xfee00300);
	/* 32-bit: DS/SS bases, 32-bit wrap */
	regs[0] = 0x1000;
	CHECK_EQ(LINEAR(M32, 0, 0x8b, 0x00), 0x40000 + 0x1000);
	CHECK_EQ(LINEAR(M32, 0, 0x8b, 0x45, 0x08), 0x30000 + 0x6000 + 8);
	CHECK_EQ(LINEAR(M32, 0, 0x26, 0x8b, 0x45, 0x08), 0x10000 + 0x6000 + 8);
	CHECK_EQ(LINEAR(M32, 0, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff), 0x40000 - 0x10);
	regs[3] = 0xfffff000;
	CHECK_EQ(LINEAR(M32, 0, 0x8b, 0x83, 0x00, 0x10, 0x00, 0x00), 0x40000);
	CHECK_EQ(LINEAR(M32, 0, 0x64, 0x8b, 0x03), 0xfffff000);       /* FS base's low half: 0 */
	/* 16-bit: 16-bit wrap before the base */
	regs[3] = 0xfff0;    /* bx */
	regs[6] = 0x20;      /* si */
	regs[5] = 0x100;     /* bp */
	CHECK_EQ(LINEAR(M16, 0, 0x8b, 0x00), 0x40000 + 0x10);
	CHECK_EQ(LINEAR(M16, 0, 0x8b, 0x46, 0xfe), 0x30000 + 0xfe);
	CHECK_EQ(LINEAR(M16, 0, 0x8b, 0x06, 0x34, 0x12), 0x40000 + 0x1234);
	CHECK_EQ(LINEAR(M16, 0, 0x2e, 0x8b, 0x87, 0x20, 0x00), 0x20000 + 0x10);
	regs[0] = 0x12345;
	CHECK_EQ(LINEAR(M16, 0, 0x67, 0x8b, 0x00), 0x40000 + 0x12345);
}

/* --- Register write rules ------------------------------------------------ */

static struct insn decoded(enum insn_mode mode, const uint8_t *b, size_t n)
{
	struct insn i;

	CHECK_EQ(insn_decode(b, n, mode, &i), 0);
	return i;
}

#define INSN(mode, ...)                                                       \
	decoded(mode, (const uint8_t[]){ __VA_ARGS__ },                       \
		sizeof((const uint8_t[]){ __VA_ARGS__ }))

static uint64_t load(struct insn i, uint64_t old, uint64_t value)
{
	CHECK_EQ(insn_apply_load(&i, value, &old), 0);
	return old;
}

TEST(load_register_writes)
{
	const uint64_t old = 0x1122334455667788ull;

	CHECK_EQ(load(INSN(M64, 0x48, 0x8b, 0x00), old, 0xdeadbeefcafef00d), 0xdeadbeefcafef00d);
	/* 32-bit loads zero bits 63:32 */
	CHECK_EQ(load(INSN(M64, 0x8b, 0x00), old, 0xffffffff80000000), 0x80000000);
	CHECK_EQ(load(INSN(M64, 0x66, 0x8b, 0x00), old, 0xabcd), 0x112233445566abcd);
	CHECK_EQ(load(INSN(M64, 0x8a, 0x00), old, 0xab), 0x11223344556677ab);
	CHECK_EQ(load(INSN(M64, 0x8a, 0x20), old, 0xab), 0x112233445566ab88);   /* ah */
	CHECK_EQ(load(INSN(M64, 0x40, 0x8a, 0x20), old, 0xab), 0x11223344556677ab); /* spl */
	/* bytes above the access size are ignored */
	CHECK_EQ(load(INSN(M64, 0x8a, 0x00), old, 0xffffff01), 0x1122334455667701);
	CHECK_EQ(load(INSN(M64, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0), old, 0x1234), 0x1234);
	/* MOVZX */
	CHECK_EQ(load(INSN(M64, 0x0f, 0xb6, 0x00), old, 0x80), 0x80);
	CHECK_EQ(load(INSN(M64, 0x48, 0x0f, 0xb7, 0x00), old, 0xffff), 0xffff);
	CHECK_EQ(load(INSN(M64, 0x66, 0x0f, 0xb6, 0x00), old, 0xfe), 0x11223344556600fe);
	/* MOVSX */
	CHECK_EQ(load(INSN(M64, 0x0f, 0xbe, 0x00), old, 0x80), 0xffffff80);
	CHECK_EQ(load(INSN(M64, 0x48, 0x0f, 0xbe, 0x00), old, 0x80), 0xffffffffffffff80);
	CHECK_EQ(load(INSN(M64, 0x48, 0x0f, 0xbf, 0x00), old, 0x8000), 0xffffffffffff8000);
	CHECK_EQ(load(INSN(M64, 0x0f, 0xbf, 0x00), old, 0x7fff), 0x7fff);
	CHECK_EQ(load(INSN(M64, 0x66, 0x0f, 0xbe, 0x00), old, 0x80), 0x112233445566ff80);
	CHECK_EQ(load(INSN(M16, 0x0f, 0xbe, 0x07), old, 0x7f), 0x112233445566007f);
	/* stores are not loads */
	struct insn st = INSN(M64, 0x89, 0x08);
	uint64_t r = old;

	CHECK_EQ(insn_apply_load(&st, 1, &r), -EINVAL);
	CHECK_EQ(r, old);
	st = INSN(M64, 0xc6, 0x00, 0x01);
	CHECK_EQ(insn_apply_load(&st, 1, &r), -EINVAL);
}

TEST(store_values)
{
	const uint64_t v = 0x1122334455667788ull;
	struct insn i;

	i = INSN(M64, 0x48, 0x89, 0x08);
	CHECK_EQ(insn_store_value(&i, v), v);
	i = INSN(M64, 0x89, 0x08);
	CHECK_EQ(insn_store_value(&i, v), 0x55667788);
	i = INSN(M64, 0x66, 0x89, 0x08);
	CHECK_EQ(insn_store_value(&i, v), 0x7788);
	i = INSN(M64, 0x88, 0x08);
	CHECK_EQ(insn_store_value(&i, v), 0x88);
	i = INSN(M64, 0x88, 0x28);                                  /* ch */
	CHECK_EQ(insn_store_value(&i, v), 0x77);
	i = INSN(M64, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0);
	CHECK_EQ(insn_store_value(&i, v), 0x55667788);
	i = INSN(M64, 0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff);
	CHECK_EQ(insn_store_value(&i, v), 0xfffffffffffffffe);
	i = INSN(M64, 0xc6, 0x00, 0x80);
	CHECK_EQ(insn_store_value(&i, v), 0x80);
}

int main(void)
{
	RUN(every_opcode_at_every_operand_size);
	RUN(register_operands_with_rex);
	RUN(byte_registers_high_and_rex);
	RUN(immediate_forms);
	RUN(moffs_forms);
	RUN(modrm_and_sib_64);
	RUN(modrm_and_sib_32);
	RUN(modrm_16);
	RUN(segment_overrides);
	RUN(rejects_other_opcodes);
	RUN(rejects_lock_and_rep);
	RUN(rejects_register_operands);
	RUN(rejects_length_over_15);
	RUN(rejects_truncated_and_bad_mode);
	RUN(linear_addresses);
	RUN(load_register_writes);
	RUN(store_values);
	return unit_done();
}
