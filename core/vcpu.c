/*
 * The generic side of VM exits: I/O requests go to whatever registered
 * the range, hypercalls to their table. Everything a guest passes in is
 * checked here; the back-end has only decoded it.
 */
#include "arch/x86/virt.h"
#include "core/console_input.h"
#include "core/errno.h"
#include "core/guest_abi.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/vm.h"
#include "vdev/vlapic.h"
#include "vdev/vm_console.h"

#define EXC_UD 6

void vcpu_handle_pio(struct vcpu *vcpu, uint16_t port, uint8_t size, bool write)
{
	struct guest_regs *r = vcpu->regs;
	uint64_t mask = (1ull << (size * 8)) - 1;
	struct io_access a = { .addr = port, .size = size, .write = write, .value = r->rax & mask };

	if (io_dispatch_pio(&vcpu->vm->pio, vcpu, &a) == IO_ERROR)
		vm_crash(vcpu, "bad %u-byte %s of port %#x", size, write ? "write" : "read", port);
	if (write)
		return;
	/* IN to EAX zero-extends into RAX; to AL or AX it merges (SDM Vol. 2A "IN"). */
	r->rax = size == 4 ? (uint32_t)a.value : (r->rax & ~mask) | (a.value & mask);
}

void vcpu_timers_check(struct vcpu *vcpu)
{
	/* The vLAPIC re-arms the host timer whatever happens, which keeps
	 * the console poll's deadline in it too (lapic_timer_arm). */
	vlapic_timer_check(vcpu);
	console_input_check(vcpu);
}

void vcpu_dump_gprs(const struct guest_regs *r)
{
	pr_err("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
	       (unsigned long long)r->rax, (unsigned long long)r->rbx,
	       (unsigned long long)r->rcx, (unsigned long long)r->rdx);
	pr_err("  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
	       (unsigned long long)r->rsi, (unsigned long long)r->rdi,
	       (unsigned long long)r->rbp, (unsigned long long)r->r8);
	pr_err("  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
	       (unsigned long long)r->r9, (unsigned long long)r->r10,
	       (unsigned long long)r->r11, (unsigned long long)r->r12);
	pr_err("  r13=%016llx r14=%016llx r15=%016llx\n", (unsigned long long)r->r13,
	       (unsigned long long)r->r14, (unsigned long long)r->r15);
}

void vcpu_handle_mmio(struct vcpu *vcpu, struct io_access *a)
{
	const struct io_region *r = io_lookup(&vcpu->vm->mmio, a->addr, 1);

	if (!r)
		vm_crash(vcpu, "%s of guest-physical %#llx outside its RAM (EPT violation)",
			 a->write ? "write" : "read", (unsigned long long)a->addr);
	x86_emulate_mmio(vcpu, r, a);
}

typedef long (*hypercall_t)(struct vcpu *vcpu, uint64_t a0, uint64_t a1, uint64_t a2);

static long hc_version(struct vcpu *vcpu, uint64_t a0, uint64_t a1, uint64_t a2)
{
	(void)vcpu, (void)a0, (void)a1, (void)a2;
	return HV_ABI_VERSION;
}

static long hc_console_write(struct vcpu *vcpu, uint64_t gpa, uint64_t len, uint64_t a2)
{
	const char *buf;

	(void)a2;
	if (len > HC_CONSOLE_WRITE_MAX)
		return -E2BIG;
	buf = vm_gpa_to_hva(vcpu->vm, gpa, len);
	if (!buf)
		return -EFAULT;
	for (uint64_t i = 0; i < len; i++)
		vm_console_putc(vcpu->vm, buf[i]);
	return (long)len;
}

static long hc_vm_id(struct vcpu *vcpu, uint64_t a0, uint64_t a1, uint64_t a2)
{
	(void)a0, (void)a1, (void)a2;
	return vcpu->vm->id;
}

static long hc_vm_name(struct vcpu *vcpu, uint64_t gpa, uint64_t size, uint64_t a2)
{
	size_t n = strlen(vcpu->vm->name);
	char *dst;

	(void)a2;
	if (size <= n)
		return -ERANGE;
	dst = vm_gpa_to_hva(vcpu->vm, gpa, n + 1);
	if (!dst)
		return -EFAULT;
	memcpy(dst, vcpu->vm->name, n + 1);
	return (long)n;
}

static long hc_yield(struct vcpu *vcpu, uint64_t a0, uint64_t a1, uint64_t a2)
{
	(void)vcpu, (void)a0, (void)a1, (void)a2;
	return 0;   /* each vCPU has its own CPU: there is no one to yield to */
}

static long hc_shutdown(struct vcpu *vcpu, uint64_t status, uint64_t a1, uint64_t a2)
{
	(void)a1, (void)a2;
	vm_poweroff(vcpu, status, "shut down by hypercall");
}

static const hypercall_t hypercalls[HC_MAX] = {
	[HC_VERSION] = hc_version,       [HC_CONSOLE_WRITE] = hc_console_write,
	[HC_VM_ID] = hc_vm_id,           [HC_VM_NAME] = hc_vm_name,
	[HC_YIELD] = hc_yield,           [HC_SHUTDOWN] = hc_shutdown,
};

void vcpu_handle_hypercall(struct vcpu *vcpu)
{
	struct guest_regs *r = vcpu->regs;

	/* Only the guest kernel may call the hypervisor (SDM: VMCALL at CPL > 0 is ours to refuse). */
	if (virt->get_reg(vcpu, VREG_CPL) != 0) {
		virt->inject_exception(vcpu, EXC_UD, false, 0);
		return;
	}
	r->rax = (uint64_t)(r->rax < HC_MAX ? hypercalls[r->rax](vcpu, r->rdi, r->rsi, r->rdx)
					     : -ENOSYS);
	virt->skip_instruction(vcpu);
}
