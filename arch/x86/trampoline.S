/*
 * Application processor start-up code. The boot CPU copies this blob to
 * a page below 1 MiB and sends INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4); the AP
 * starts here in real mode with CS = page >> 4, IP = 0. It goes through
 * 32-bit protected mode into long mode (SDM Vol. 3A 10.8.5) with the
 * hypervisor's page tables and jumps to ap_entry64 with its stack. The
 * fields at the end are filled in by smp.c before each start.
 */
	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl tramp_cr3, tramp_stack, tramp_pcpu, tramp_entry, tramp_gdt_base
trampoline_start:
	.code16
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx			/* ebx = linear base of this page */
	lgdtl (tramp_gdtr - trampoline_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *(tramp_pm_ptr - trampoline_start)

	.code32
tramp_pm:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl (tramp_cr3 - trampoline_start)(%ebx), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax	/* LME | NXE */
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16)), %eax	/* PG | WP */
	movl %eax, %cr0
	/* No stack yet: jump through a far pointer patched in by smp.c. */
	ljmpl *(tramp_lm_ptr - trampoline_start)(%ebx)

	.code64
tramp_lm:
	movq (tramp_stack - trampoline_start)(%rbx), %rsp
	movq (tramp_pcpu - trampoline_start)(%rbx), %rdi
	movq (tramp_entry - trampoline_start)(%rbx), %rax
	xorl %ebp, %ebp
	jmp *%rax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
	.quad 0x00cf9a000000ffff	/* 0x18: 32-bit code */
tramp_gdtr:
	.short 31
tramp_gdt_base:
	.long 0				/* page + (tramp_gdt - trampoline_start) */
tramp_pm_ptr:
	.long 0				/* page + (tramp_pm - trampoline_start) */
	.short 0x18
tramp_lm_ptr:
	.long 0				/* page + (tramp_lm - trampoline_start) */
	.short 0x08
	.balign 8
tramp_cr3:
	.quad 0
tramp_stack:
	.quad 0
tramp_pcpu:
	.quad 0
tramp_entry:
	.quad 0
trampoline_end:
	.globl tramp_pm_ptr, tramp_gdt, tramp_pm, tramp_lm_ptr, tramp_lm
