/*
 * Multiboot 2 header (spec 3.1): i386 architecture, an ELF kernel (no
 * address tag), an optional information request for the command line
 * (1), basic memory information (4) and the memory map (6).
 */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long	MB2_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	(0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))) & 0xffffffff

	.balign 8
	.word	1		/* information request */
	.word	1		/* optional: boot even if a type is unknown */
	.long	8 + 3 * 4
	.long	1, 4, 6

	.balign 8
	.word	0		/* end */
	.word	0
	.long	8
mb2_header_end:

	.section .note.GNU-stack, "", @progbits
