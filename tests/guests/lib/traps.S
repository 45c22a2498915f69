/*
 * Exception entry for vectors 0-31 and the fault probes.
 *
 * Each stub makes the frame uniform (a zero where the CPU pushes no error
 * code; SDM Vol. 3A 6.13 lists the vectors that push one), pushes its
 * vector and the general registers, and calls guest_trap_handle(frame).
 * The frame is 16-byte aligned at the call: the CPU aligns RSP before it
 * pushes SS..RIP in 64-bit mode (SDM Vol. 3A 6.14.2), then 5 + 2 + 15
 * quadwords follow.
 *
 * A probe arms guest_probe_rip (the instruction that may fault) and
 * guest_fixup_rip (where to go on if it does); the handler, seeing a
 * fault at exactly that RIP, stores the vector in guest_probe_vector and
 * resumes at the fixup. Without a fault the instruction falls through to
 * the same place.
 */
	.text
	.code64

.macro TRAP_NOERR vec
	.balign 16
trap_stub_\vec:
	pushq	$0
	pushq	$\vec
	jmp	trap_common
.endm

.macro TRAP_ERR vec
	.balign 16
trap_stub_\vec:
	pushq	$\vec
	jmp	trap_common
.endm

	TRAP_NOERR 0
	TRAP_NOERR 1
	TRAP_NOERR 2
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR 8
	TRAP_NOERR 9
	TRAP_ERR 10
	TRAP_ERR 11
	TRAP_ERR 12
	TRAP_ERR 13
	TRAP_ERR 14
	TRAP_NOERR 15
	TRAP_NOERR 16
	TRAP_ERR 17
	TRAP_NOERR 18
	TRAP_NOERR 19
	TRAP_NOERR 20
	TRAP_ERR 21
	TRAP_NOERR 22
	TRAP_NOERR 23
	TRAP_NOERR 24
	TRAP_NOERR 25
	TRAP_NOERR 26
	TRAP_NOERR 27
	TRAP_NOERR 28
	TRAP_ERR 29
	TRAP_ERR 30
	TRAP_NOERR 31

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	mov	%rsp, %rdi
	cld
	call	guest_trap_handle
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl guest_trap_stubs
guest_trap_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	trap_stub_\vec
	.endr

/*
 * PROBE_ARM insn, fixup: arm the probe for the instruction at label
 * \insn; -1 in guest_probe_vector means "no fault".
 */
.macro PROBE_ARM insn, fixup
	movl	$-1, guest_probe_vector(%rip)
	leaq	\fixup(%rip), %rax
	movq	%rax, guest_fixup_rip(%rip)
	leaq	\insn(%rip), %rax
	movq	%rax, guest_probe_rip(%rip)
.endm

/* Disarm and return guest_probe_vector in EAX. */
.macro PROBE_DONE
	movq	$0, guest_probe_rip(%rip)
	movl	guest_probe_vector(%rip), %eax
.endm

	.text
/* int guest_try_rdmsr(uint32_t msr, uint64_t *val) */
	.globl guest_try_rdmsr
guest_try_rdmsr:
	PROBE_ARM 1f, 2f
	movl	%edi, %ecx
1:	rdmsr
2:	movl	%eax, %r8d
	PROBE_DONE
	cmpl	$-1, %eax
	jne	3f
	shlq	$32, %rdx
	orq	%r8, %rdx
	movq	%rdx, (%rsi)
3:	ret

/* int guest_try_wrmsr(uint32_t msr, uint64_t val) */
	.globl guest_try_wrmsr
guest_try_wrmsr:
	PROBE_ARM 1f, 2f
	movl	%edi, %ecx
	movl	%esi, %eax
	movq	%rsi, %rdx
	shrq	$32, %rdx
1:	wrmsr
2:	PROBE_DONE
	ret

/* int guest_try_read64(uint64_t addr, uint64_t *val) */
	.globl guest_try_read64
guest_try_read64:
	PROBE_ARM 1f, 2f
1:	movq	(%rdi), %rdx
2:	PROBE_DONE
	cmpl	$-1, %eax
	jne	3f
	movq	%rdx, (%rsi)
3:	ret

/* int guest_try_write64(uint64_t addr, uint64_t val) */
	.globl guest_try_write64
guest_try_write64:
	PROBE_ARM 1f, 2f
1:	movq	%rsi, (%rdi)
2:	PROBE_DONE
	ret

	.section .note.GNU-stack, "", @progbits
