/*
 * Exception entry stubs (SDM Vol. 3A 6.12). Each stub makes the stack
 * look the same, error code or not, then the common path saves the
 * general registers as a struct trap_frame and calls trap_handler().
 */
#include "boot/layout.h"

/*
 * Save the general registers as a struct trap_frame (vector and error
 * code are already pushed), call \handler with it, restore and return.
 */
.macro TRAP_FRAME_CALL handler
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call \handler
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq
.endm

.macro TRAP_NOERR vec
	.balign 16
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_ERR vec
	.balign 16
	pushq $\vec
	jmp trap_common
.endm

	.text
	.balign 16
	.globl trap_stubs
trap_stubs:
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
	TRAP_FRAME_CALL trap_handler

	/* Spurious LAPIC interrupts need no EOI (SDM Vol. 3A 11.9). */
	.balign 16
	.globl spurious_stub
spurious_stub:
	iretq

/*
 * Device interrupt stubs for vectors 32..254 (0xff is the spurious
 * vector above). Each is 16 bytes, like the exception stubs, and makes
 * the same struct trap_frame, error code 0; irq_dispatch() handles it
 * and sends the EOI.
 */
	.balign 16
	.globl irq_stubs
irq_stubs:
	.set irq_vec, 32
	.rept 255 - 32
	.balign 16
	pushq $0
	pushq $irq_vec
	jmp irq_common
	.set irq_vec, irq_vec + 1
	.endr

irq_common:
	TRAP_FRAME_CALL irq_dispatch
