/*
 * One trip into an SVM guest (APM Vol. 2 15.5). VMRUN saves and restores
 * only part of the host state: RSP, RIP, RAX, control registers, EFER and
 * the descriptor tables. VMSAVE/VMLOAD move the rest (FS, GS and their
 * bases, TR, LDTR, the SYSCALL and SYSENTER MSRs) between the CPU and the
 * guest's VMCB or this CPU's host save area. The guest's general
 * registers other than RAX (which lives in the VMCB) are swapped here
 * with the struct guest_regs the C code sees.
 *
 * void svm_enter(paddr_t vmcb, paddr_t host_area, struct guest_regs *regs)
 */
	.text
	.globl svm_enter
svm_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* regs */
	pushq %rdi			/* vmcb */
	movq %rsi, %rax
	vmsave				/* host FS/GS/TR/... into the host area */
	pushq %rsi			/* host area */
	movq 8(%rdx), %rcx
	movq 24(%rdx), %rbx
	movq 32(%rdx), %rbp
	movq 40(%rdx), %rsi
	movq 48(%rdx), %rdi
	movq 56(%rdx), %r8
	movq 64(%rdx), %r9
	movq 72(%rdx), %r10
	movq 80(%rdx), %r11
	movq 88(%rdx), %r12
	movq 96(%rdx), %r13
	movq 104(%rdx), %r14
	movq 112(%rdx), %r15
	movq 16(%rdx), %rdx
	movq 8(%rsp), %rax		/* vmcb */
	vmload
	vmrun
	vmsave
	pushq %rdx			/* guest rdx */
	movq 24(%rsp), %rdx		/* regs */
	movq %rcx, 8(%rdx)
	movq %rbx, 24(%rdx)
	movq %rbp, 32(%rdx)
	movq %rsi, 40(%rdx)
	movq %rdi, 48(%rdx)
	movq %r8, 56(%rdx)
	movq %r9, 64(%rdx)
	movq %r10, 72(%rdx)
	movq %r11, 80(%rdx)
	movq %r12, 88(%rdx)
	movq %r13, 96(%rdx)
	movq %r14, 104(%rdx)
	movq %r15, 112(%rdx)
	popq %rax
	movq %rax, 16(%rdx)
	popq %rax			/* host area */
	vmload
	addq $16, %rsp			/* vmcb, regs */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
