/*
 * Entry of the 64-bit guests (core/guest_abi.h): long mode, identity
 * paging, RDI = HV_BOOT_MAGIC, RSI = boot info GPA, RSP = 0, IF = 0.
 * Zero .bss, take the static stack, load our own GDT so that nothing we
 * do later (IRETQ reloading SS, say) depends on the loader's GDT, then
 * guest_lib_init(magic, bi), main(bi) and guest_exit(main's result).
 */
#define GDT_CODE64 0x08
#define GDT_DATA 0x10

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	mov	%rdi, %r12
	mov	%rsi, %r13

	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb

	lea	guest_stack_top(%rip), %rsp
	xor	%ebp, %ebp

	lgdt	guest_gdt_desc(%rip)
	pushq	$GDT_CODE64
	lea	1f(%rip), %rax
	pushq	%rax
	lretq
1:	mov	$GDT_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs

	mov	%r12, %rdi
	mov	%r13, %rsi
	call	guest_lib_init
	mov	%r13, %rdi
	call	main
	mov	%eax, %edi
	call	guest_exit
2:	cli
	hlt
	jmp	2b

	.section .data, "aw"
	.balign 16
guest_gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: code, 64-bit, DPL 0 */
	.quad	0x00cf92000000ffff	/* 0x10: data, DPL 0 */
guest_gdt_end:
	.balign 8
	.word	0
guest_gdt_desc:
	.word	guest_gdt_end - guest_gdt - 1
	.quad	guest_gdt

	.section .bss, "aw", @nobits
	.balign 16
guest_stack:
	.skip	65536
	.globl guest_stack_top
guest_stack_top:

	.section .note.GNU-stack, "", @progbits
