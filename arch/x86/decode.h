/*
 * Decoder for the MOV family that guests use on device registers, so an
 * EPT violation on MMIO can be emulated: the exit gives the guest-physical
 * address, the instruction gives the direction, width, register and
 * length. Only memory forms are accepted; everything else is -ENOTSUP and
 * the caller decides (SDM Vol. 2A chapter 2, instruction format).
 *
 * Accepted, in 16-, 32- and 64-bit code:
 *   88 /r  MOV r/m8, r8          89 /r  MOV r/m, r
 *   8A /r  MOV r8, r/m8          8B /r  MOV r, r/m
 *   C6 /0  MOV r/m8, imm8        C7 /0  MOV r/m, imm16/32
 *   A0-A3  MOV AL/eAX <-> moffs
 *   0F B6/B7 MOVZX, 0F BE/BF MOVSX
 * with prefixes 66, 67, segment overrides and REX. LOCK and REP/REPNE
 * are refused.
 *
 * The bytes are guest memory: any content is handled without reading
 * past @len.
 */
#ifndef ARCH_X86_DECODE_H
#define ARCH_X86_DECODE_H

#include "core/types.h"

/* SDM Vol. 2A 2.3.11: no instruction is longer than 15 bytes (#GP). */
#define INSN_MAX_LEN 15

/* Default operand and address size of the code segment (CS.L / CS.D). */
enum insn_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

enum insn_kind {
	INSN_STORE_REG,  /* register -> memory */
	INSN_STORE_IMM,  /* immediate -> memory */
	INSN_LOAD,       /* memory -> register, same width */
	INSN_LOAD_ZX,    /* memory -> register, zero-extended (MOVZX) */
	INSN_LOAD_SX,    /* memory -> register, sign-extended (MOVSX) */
};

/* Segment registers in the SDM's Sreg encoding (Vol. 2A 3.1.1.3). */
enum insn_seg { INSN_SEG_ES, INSN_SEG_CS, INSN_SEG_SS, INSN_SEG_DS, INSN_SEG_FS, INSN_SEG_GS,
		INSN_SEG_NR };

/* "No register" in struct insn_mem. */
#define INSN_NO_REG 0xff

/*
 * The memory operand, enough to recompute its effective address:
 * base + index * scale + disp (+ next RIP when rip_rel), truncated to
 * addr_size bytes. moffs forms have neither base nor index.
 */
struct insn_mem {
	uint8_t base;    /* GPR 0-15 or INSN_NO_REG */
	uint8_t index;   /* GPR 0-15 or INSN_NO_REG */
	uint8_t scale;   /* 1, 2, 4, 8 */
	bool rip_rel;
	uint64_t disp;   /* sign-extended displacement, or the moffs */
};

struct insn {
	uint8_t len;          /* bytes, prefixes included */
	enum insn_kind kind;
	uint8_t access_size;  /* bytes read or written in memory: 1, 2, 4, 8 */
	uint8_t reg;          /* GPR, SDM order: rax=0 ... rsp=4 ... r15=15 */
	bool reg_high8;       /* AH/CH/DH/BH: bits 15:8 of reg 0-3 */
	uint8_t reg_size;     /* width of the register operand; 0 for STORE_IMM */
	uint64_t imm;         /* STORE_IMM: the value stored (C7 with REX.W sign-extends) */
	enum insn_mode mode;
	uint8_t addr_size;    /* 2, 4, 8 */
	enum insn_seg seg;    /* effective segment, default applied */
	struct insn_mem mem;
};

/*
 * Decode the instruction at @buf (the first @len bytes the caller could
 * fetch; at most INSN_MAX_LEN are looked at). Returns 0 and fills @out,
 * or:
 *   -EAGAIN   the instruction continues past @len (fetch more, or inject
 *             the #PF that stopped the fetch)
 *   -EINVAL   longer than 15 bytes, or a register (mod=3) operand: not a
 *             memory access
 *   -ENOTSUP  any other opcode, LOCK, REP/REPNE, C6/C7 with /r != 0
 */
int insn_decode(const uint8_t *buf, size_t len, enum insn_mode mode, struct insn *out);

/* Reads GPR @reg (0-15, SDM order; 4 is RSP, which the caller keeps). */
typedef uint64_t (*insn_read_reg_t)(void *ctx, unsigned reg);

struct insn_env {
	uint64_t rip;                      /* of the decoded instruction */
	uint64_t seg_base[INSN_SEG_NR];    /* indexed by enum insn_seg */
	insn_read_reg_t read_reg;
	void *ctx;
};

/*
 * The linear address of the memory operand (SDM Vol. 1 3.7.5, Vol. 2A
 * 2.2.1.6 for RIP-relative). In 64-bit mode only FS and GS bases count;
 * elsewhere the result wraps at 32 bits. Segment limits and rights are
 * not checked.
 */
uint64_t insn_linear_address(const struct insn *i, const struct insn_env *env);

/*
 * The register after a load of @value (the bytes read, low access_size
 * of them used) into @reg's old contents, with x86 write rules: 32-bit
 * writes zero bits 63:32, 16- and 8-bit writes keep the rest, AH..BH
 * write bits 15:8, MOVZX/MOVSX extend to reg_size. -EINVAL if @i is not
 * a load.
 */
int insn_apply_load(const struct insn *i, uint64_t value, uint64_t *reg);

/* The value a store writes, given its source register's contents. */
uint64_t insn_store_value(const struct insn *i, uint64_t regval);

#endif
