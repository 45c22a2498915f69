/*
 * Multiboot 1 header (spec 3.1): an ELF kernel, so no address fields.
 * Flag bit 1 asks for mem_lower/mem_upper (and the memory map if the
 * loader has one).
 */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00000002

	.section .multiboot, "a"
	.balign 4
	.long	MB1_MAGIC
	.long	MB1_FLAGS
	.long	-(MB1_MAGIC + MB1_FLAGS) & 0xffffffff

	.section .note.GNU-stack, "", @progbits
