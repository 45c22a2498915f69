/*
 * Multiboot2 header and the 32-bit entry (Multiboot2 spec 1.0, 3.1 and
 * 3.3). GRUB leaves us in 32-bit protected mode, paging off, EAX = magic,
 * EBX = boot information. We clear BSS, identity map the first 4 GiB with
 * 2 MiB pages, enter long mode (SDM Vol. 3A 10.8.5) and call boot_main().
 */
#include "boot/layout.h"

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Module alignment tag: page-align modules. */
	.balign 8
	.short 6, 0
	.long 8
	/* End tag. */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl boot_entry32
boot_entry32:
	cli
	cld
	movl %eax, %esi			/* magic */
	movl %ebx, %ebp			/* boot information */

	/* Clear BSS; GRUB zeroes it too, but the spec does not promise it. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	movl $(boot_stack + BOOT_STACK_SIZE - HV_STACK_GUEST_REGS), %esp

	/* Long mode available? CPUID 0x80000001:EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages = 4 GiB. */
	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $0x3, %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* P | RW | PS */
	movl %eax, boot_pd(, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword: (i * 2M) >> 32 */
	movl %eax, boot_pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* IA32_EFER */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax	/* LME | NXE */
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax	/* PG | WP | PE */
	movl %eax, %cr0

	lgdt boot_gdtr
	ljmp $0x08, $boot_entry64

no_long_mode:
	movl $msg_no_lm, %esi
3:	lodsb
	testb %al, %al
	jz 5f
	movb %al, %bl
	movw $0x3fd, %dx		/* wait for THR empty */
4:	inb %dx, %al
	testb $0x20, %al
	jz 4b
	movw $0x3f8, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 3b
5:	hlt
	jmp 5b

	.code64
boot_entry64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movl %esi, %edi			/* arg 1: magic */
	movl %ebp, %esi			/* arg 2: MBI physical address */
	xorl %ebp, %ebp			/* end of the frame-pointer chain */
	call boot_main
6:	cli
	hlt
	jmp 6b

	.section .rodata
msg_no_lm:
	.asciz "hv: this CPU has no 64-bit long mode; cannot continue\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdtr:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.globl boot_stack
boot_stack:
	.skip BOOT_STACK_SIZE
