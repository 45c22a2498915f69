/* CPU exceptions: the IDT, the trap frame and the fatal dump. */
#ifndef ARCH_X86_TRAPS_H
#define ARCH_X86_TRAPS_H

#include "core/types.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

#define VEC_NMI 2
#define VEC_SPURIOUS 0xff

void idt_init(void);       /* build the shared IDT once */
void idt_load(void);       /* load it on this CPU */
void trap_handler(struct trap_frame *f);
/* Print a frame-pointer stack trace starting at @rbp. */
void dump_stack_trace(uint64_t rip, uint64_t rbp);

#endif
