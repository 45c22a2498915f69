/*
 * VM entry and exit. HOST_RSP is the top of this CPU's stack, where the
 * guest's general registers are kept as a struct guest_regs (rsp lives in
 * the VMCS). An exit pushes them, calls vmx_exit_handler() and resumes:
 * fifteen pushes and pops is the whole state the fast path saves.
 */
/* Load the guest's registers from the struct guest_regs at %rsp. */
.macro POP_GUEST_REGS
	popq %rax
	popq %rcx
	popq %rdx
	popq %rbx
	popq %rbp
	popq %rsi
	popq %rdi
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
.endm

	.text
	.globl vmx_exit_entry
vmx_exit_entry:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdi
	pushq %rsi
	pushq %rbp
	pushq %rbx
	pushq %rdx
	pushq %rcx
	pushq %rax
	movq %rsp, %rdi
	subq $8, %rsp			/* 16-byte alignment for the call */
	call vmx_exit_handler
	addq $8, %rsp
vmx_resume:
	POP_GUEST_REGS
	vmresume
	/* Only reached when VMRESUME fails (SDM 31.3). */
	jmp 1f

/* void vmx_enter_first(struct guest_regs *regs): regs sits at the stack top. */
	.globl vmx_enter_first
vmx_enter_first:
	movq %rdi, %rsp
	POP_GUEST_REGS
	vmlaunch
1:	subq $120, %rsp
	movq %rsp, %rdi
	andq $~15, %rsp
	call vmx_entry_failed
2:	cli
	hlt
	jmp 2b
