/*
 * Entry of the 32-bit multiboot guests: protected mode, paging off,
 * EAX = bootloader magic, EBX = info address, no usable stack (multiboot
 * 1 spec 3.2, multiboot 2 spec 3.3). The guests load no segment register
 * and take no interrupt, so the loader's GDT is never consulted.
 * Zero .bss, take the static stack, mb_main(magic, info), exit.
 */
	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov	%eax, %esi

	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb

	mov	$guest_stack_top, %esp
	xor	%ebp, %ebp
	sub	$8, %esp		/* 16-byte aligned at the call */
	push	%ebx
	push	%esi
	call	mb_main
	add	$16, %esp
	push	%eax
	call	guest_exit
1:	cli
	hlt
	jmp	1b

	.section .bss, "aw", @nobits
	.balign 16
	.skip	16384
guest_stack_top:

	.section .note.GNU-stack, "", @progbits
