/*
 * long hc_checked(long nr, long a0, long a1, long a2, uint64_t *clobbered)
 *
 * One hypercall with every general register but RAX and RSP loaded with
 * a known value, then each compared: core/guest_abi.h promises that only
 * RAX changes. Bit n of *clobbered is set for each register that did not
 * survive (n as in hcfuzz.c's reg_names). The patterns are negative
 * 32-bit immediates, so their upper halves are all ones and a hypervisor
 * that restores only 32 bits is caught too.
 */
#define PAT(n) (-0x7eadbe00 - (n))

.macro CHECK reg, n
	cmpq	$PAT(\n), %\reg
	je	1f
	orq	$(1 << \n), (%rsp)
1:
.endm

.macro CHECK_ARG reg, off, n
	cmpq	\off(%rsp), %\reg
	je	1f
	orq	$(1 << \n), (%rsp)
1:
.endm

	.text
	.globl hc_checked
hc_checked:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%r8			/* clobbered */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	movq	$PAT(0), %rbx
	movq	$PAT(1), %rcx
	movq	$PAT(2), %rbp
	movq	$PAT(3), %r8
	movq	$PAT(4), %r9
	movq	$PAT(5), %r10
	movq	$PAT(6), %r11
	movq	$PAT(7), %r12
	movq	$PAT(8), %r13
	movq	$PAT(9), %r14
	movq	$PAT(10), %r15
	cmpl	$0, hypercall_use_vmmcall(%rip)
	jne	2f
	vmcall
	jmp	3f
2:	vmmcall
3:	pushq	$0			/* the mask; a2, a1, a0 at 8, 16, 24 */
	CHECK	rbx, 0
	CHECK	rcx, 1
	CHECK	rbp, 2
	CHECK	r8, 3
	CHECK	r9, 4
	CHECK	r10, 5
	CHECK	r11, 6
	CHECK	r12, 7
	CHECK	r13, 8
	CHECK	r14, 9
	CHECK	r15, 10
	CHECK_ARG rdi, 24, 11
	CHECK_ARG rsi, 16, 12
	CHECK_ARG rdx, 8, 13
	popq	%rcx
	addq	$24, %rsp
	popq	%r8
	movq	%rcx, (%r8)
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

	.section .note.GNU-stack, "", @progbits
