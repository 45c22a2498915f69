/*
 * VM-exit dispatch: one const table indexed by the basic exit reason
 * (SDM Vol. 3C Appendix C), listing every reason. Handlers decode the
 * exit into a neutral request and leave the decisions to core/.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/msr.h"
#include "arch/x86/virt.h"
#include "arch/x86/vmx_internal.h"
#include "core/panic.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "vdev/vlapic.h"

#define EXC_UD 6
#define EXC_GP 13
#define NR_EXIT_REASONS 70

typedef void (*exit_handler_t)(struct vcpu *vcpu, struct guest_regs *r);

static uint64_t *gpr_ptr(struct guest_regs *r, unsigned n)
{
	static const uint8_t slot[16] = { 0, 1, 2, 3, 0xff, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

	return n == 4 ? NULL : &((uint64_t *)r)[slot[n]];
}

static uint64_t gpr_read(struct guest_regs *r, unsigned n)
{
	return n == 4 ? vmread(VMCS_GUEST_RSP) : *gpr_ptr(r, n);
}

static void gpr_write(struct guest_regs *r, unsigned n, uint64_t v)
{
	if (n == 4)
		vmwrite(VMCS_GUEST_RSP, v);
	else
		*gpr_ptr(r, n) = v;
}

static void inject_gp(struct vcpu *vcpu)
{
	virt->inject_exception(vcpu, EXC_GP, true, 0);
}

static void inject_ud(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	virt->inject_exception(vcpu, EXC_UD, false, 0);
}

/* An exit in the middle of delivering an event must deliver it again. */
static void reinject_vectoring(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID))
		return;
	if (info & INTR_INFO_DELIVER_ERR)
		vmwrite(VMCS_ENTRY_EXC_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	vmwrite(VMCS_ENTRY_INTR_INFO, info & ~(1u << 12));
}

static void exit_cpuid(struct vcpu *vcpu, struct guest_regs *r)
{
	struct cpuid_regs out;

	cpuid_guest(vcpu, (uint32_t)r->rax, (uint32_t)r->rcx, &out);
	r->rax = out.eax;
	r->rbx = out.ebx;
	r->rcx = out.ecx;
	r->rdx = out.edx;
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTR_LEN));
}

static void exit_vmcall(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	vcpu_handle_hypercall(vcpu);
}

/* HLT: step over it and let the CPU itself wait in the HLT activity
 * state until an event arrives (SDM 25.4.2); no spinning here. */
static void exit_hlt(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	virt->skip_instruction(vcpu);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
}

/* Exit qualification for I/O instructions, SDM Table 28-5. */
static void exit_io(struct vcpu *vcpu, struct guest_regs *r)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);

	(void)r;
	if (q & 16)
		vm_crash(vcpu, "string I/O (INS/OUTS) to port %#llx is not supported",
			 (unsigned long long)(q >> 16 & 0xffff));
	vcpu_handle_pio(vcpu, (uint16_t)(q >> 16), (uint8_t)((q & 7) + 1), !(q & 8));
	virt->skip_instruction(vcpu);
}

static void exit_rdmsr(struct vcpu *vcpu, struct guest_regs *r)
{
	uint64_t v;

	if (!msr_guest_read(vcpu, (uint32_t)r->rcx, &v)) {
		inject_gp(vcpu);
		return;
	}
	r->rax = (uint32_t)v;
	r->rdx = v >> 32;
	virt->skip_instruction(vcpu);
}

static void exit_wrmsr(struct vcpu *vcpu, struct guest_regs *r)
{
	uint64_t v = (r->rdx << 32) | (uint32_t)r->rax;

	if (!msr_guest_write(vcpu, (uint32_t)r->rcx, v)) {
		inject_gp(vcpu);
		return;
	}
	virt->skip_instruction(vcpu);
}

static bool cr_write(struct vcpu *vcpu, unsigned cr, uint64_t v)
{
	switch (cr) {
	case 0:
		return virt->set_reg(vcpu, VREG_CR0, v);
	case 3:
		return virt->set_reg(vcpu, VREG_CR3, v);
	case 4:
		return virt->set_reg(vcpu, VREG_CR4, v);
	default:
		return false;
	}
}

/* Exit qualification for control-register accesses, SDM Table 28-3. */
static void exit_cr(struct vcpu *vcpu, struct guest_regs *r)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
	uint64_t cr0 = virt->get_reg(vcpu, VREG_CR0);
	bool ok = true;

	if (type == 0)
		ok = cr_write(vcpu, cr, gpr_read(r, gpr));
	else if (type == 1 && (cr == 3 || cr == 0 || cr == 4))
		gpr_write(r, gpr, virt->get_reg(vcpu, cr == 3 ? VREG_CR3 : cr ? VREG_CR4 : VREG_CR0));
	else if (type == 2)
		ok = virt->set_reg(vcpu, VREG_CR0, cr0 & ~8ull);               /* CLTS */
	else if (type == 3)                /* LMSW: low four bits; PE cannot be cleared */
		ok = virt->set_reg(vcpu, VREG_CR0, (cr0 & ~0xeull) | ((q >> 16) & 0xf) | (cr0 & 1));
	else
		ok = false;
	if (!ok)
		inject_gp(vcpu);
	else
		virt->skip_instruction(vcpu);
}

static void exit_xsetbv(struct vcpu *vcpu, struct guest_regs *r)
{
	uint64_t v = (r->rdx << 32) | (uint32_t)r->rax;

	if ((uint32_t)r->rcx != 0 || !cpuid_xcr0_valid(v)) {
		inject_gp(vcpu);
		return;
	}
	/* The host never uses extended state, so the guest's XCR0 can stay. */
	asm volatile("xsetbv" ::"a"((uint32_t)v), "d"((uint32_t)(v >> 32)), "c"(0u));
	virt->skip_instruction(vcpu);
}

static void exit_ext_intr(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	reinject_vectoring();
	/* Let the host's own handler take the interrupt that caused the exit. */
	asm volatile("sti; nop; cli" ::: "memory");
	vcpu_timers_check(vcpu);
}

static void exit_exception(struct vcpu *vcpu, struct guest_regs *r)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	(void)r;
	if ((info & 0x7ff) != (INTR_TYPE_NMI | 2)) {
		vm_crash(vcpu, "unexpected exception exit, info %#x", info);
		return;
	}
	/* NMIs are the hypervisor's: panic stop, or a request to stop this VM. */
	if (panic_in_progress())
		panic_stop_this_cpu();
	if (vm_wants_park(vcpu))
		vm_park(vcpu);
	reinject_vectoring();
}

static void exit_resume(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)vcpu;
	(void)r;
}

static void vmx_set_window_exit(struct vcpu *vcpu, bool on)
{
	struct vmx_vcpu *v = to_vmx(vcpu);
	uint32_t ctls = on ? v->proc_ctls | PROC_INTR_WINDOW_EXIT : v->proc_ctls & ~PROC_INTR_WINDOW_EXIT;

	if (ctls != v->proc_ctls) {
		v->proc_ctls = ctls;
		vmwrite(VMCS_PROC_CTLS, ctls);
	}
}

/* The window opened: the check at the end of the exit delivers. */
static void exit_intr_window(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	vmx_set_window_exit(vcpu, false);
}

/*
 * Inject the vLAPIC's highest deliverable interrupt if the guest can take
 * it now (RFLAGS.IF, no STI/MOV-SS blocking, no event already queued:
 * SDM 26.3.1.4 and 27.6); otherwise ask for an exit when it can.
 */
void vmx_deliver_interrupt(struct vcpu *vcpu)
{
	int vec;

	if (unlikely(vm_wants_park(vcpu)))
		vm_park(vcpu);
	vec = vlapic_pending(vcpu);
	if (vec < 0)
		return;
	if ((vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
	    !(vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF) ||
	    (vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3)) {
		vmx_set_window_exit(vcpu, true);
		return;
	}
	vlapic_accept(vcpu, (uint8_t)vec);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (uint32_t)vec);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
}

static void exit_skip(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	virt->skip_instruction(vcpu);
}

static void exit_rdpmc(struct vcpu *vcpu, struct guest_regs *r)
{
	(void)r;
	inject_gp(vcpu);
}

static void exit_ept_violation(struct vcpu *vcpu, struct guest_regs *r)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	struct io_access a = { .addr = vmread(VMCS_GUEST_PHYS_ADDR), .write = q & 2 };

	(void)r;
	if (q & 4) {
		vm_crash(vcpu, "instruction fetch from guest-physical %#llx outside its RAM",
			 (unsigned long long)a.addr);
		return;
	}
	vcpu_handle_mmio(vcpu, &a);
}

static void exit_crash(struct vcpu *vcpu, struct guest_regs *r);

static const exit_handler_t exit_handlers[NR_EXIT_REASONS] = {
	[0] = exit_exception,        [1] = exit_ext_intr,      [2] = exit_crash,
	[3] = exit_crash,            [4] = exit_resume,        [5] = exit_resume,
	[6] = exit_resume,           [7] = exit_intr_window,   [8] = exit_crash,
	[9] = exit_crash,            [10] = exit_cpuid,        [11] = inject_ud,
	[12] = exit_hlt,             [13] = exit_skip,         [14] = exit_skip,
	[15] = exit_rdpmc,           [16] = exit_crash,        [17] = exit_crash,
	[18] = exit_vmcall,          [19] = inject_ud,         [20] = inject_ud,
	[21] = inject_ud,            [22] = inject_ud,         [23] = inject_ud,
	[24] = inject_ud,            [25] = inject_ud,         [26] = inject_ud,
	[27] = inject_ud,            [28] = exit_cr,           [29] = exit_crash,
	[30] = exit_io,              [31] = exit_rdmsr,        [32] = exit_wrmsr,
	[33] = exit_crash,           [34] = exit_crash,        [35] = exit_crash,
	[36] = inject_ud,            [37] = exit_crash,        [38] = exit_crash,
	[39] = inject_ud,            [40] = exit_resume,       [41] = exit_crash,
	[42] = exit_crash,           [43] = exit_crash,        [44] = exit_crash,
	[45] = exit_crash,           [46] = exit_crash,        [47] = exit_crash,
	[48] = exit_ept_violation,   [49] = exit_crash,        [50] = inject_ud,
	[51] = exit_crash,           [52] = exit_resume,       [53] = inject_ud,
	[54] = exit_skip,            [55] = exit_xsetbv,       [56] = exit_crash,
	[57] = exit_crash,           [58] = exit_crash,        [59] = inject_ud,
	[60] = inject_ud,            [61] = exit_crash,        [62] = exit_crash,
	[63] = exit_crash,           [64] = exit_crash,        [65] = exit_crash,
	[66] = exit_crash,           [67] = exit_crash,        [68] = exit_crash,
	[69] = exit_crash,
};

static const char *const exit_names[NR_EXIT_REASONS] = {
	"exception or NMI", "external interrupt", "triple fault", "INIT signal", "SIPI",
	"I/O SMI", "other SMI", "interrupt window", "NMI window", "task switch", "CPUID",
	"GETSEC", "HLT", "INVD", "INVLPG", "RDPMC", "RDTSC", "RSM", "VMCALL", "VMCLEAR",
	"VMLAUNCH", "VMPTRLD", "VMPTRST", "VMREAD", "VMRESUME", "VMWRITE", "VMXOFF",
	"VMXON", "control-register access", "MOV DR", "I/O instruction", "RDMSR", "WRMSR",
	"VM-entry failure: invalid guest state", "VM-entry failure: MSR loading", "reason 35",
	"MWAIT", "monitor trap flag", "reason 38", "MONITOR", "PAUSE",
	"VM-entry failure: machine check", "reason 42", "TPR below threshold",
	"APIC access", "virtualized EOI", "GDTR/IDTR access", "LDTR/TR access",
	"EPT violation", "EPT misconfiguration", "INVEPT", "RDTSCP",
	"VMX-preemption timer", "INVVPID", "WBINVD", "XSETBV", "APIC write", "RDRAND",
	"INVPCID", "VMFUNC", "ENCLS", "RDSEED", "page-modification log full", "XSAVES",
	"XRSTORS", "PCONFIG", "SPP event", "UMWAIT", "TPAUSE", "LOADIWKEY",
};

const char *vmx_exit_name(unsigned reason);

const char *vmx_exit_name(unsigned reason)
{
	return reason < NR_EXIT_REASONS ? exit_names[reason] : "unknown";
}

const char *vmx_diagnose_guest_state(void);
const char *vmx_instr_error_name(unsigned err);

static void exit_crash(struct vcpu *vcpu, struct guest_regs *r)
{
	unsigned reason = (unsigned)vmread(VMCS_EXIT_REASON) & 0xffff;
	const char *why;

	(void)r;
	if (reason == 33 && (why = vmx_diagnose_guest_state()))
		vm_crash(vcpu, "VM entry failed: invalid guest state: %s", why);
	vm_crash(vcpu, "VM exit %u (%s), qualification %#llx", reason, vmx_exit_name(reason),
		 (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
}

void vmx_exit_handler(struct guest_regs *regs)
{
	struct vcpu *vcpu = this_cpu()->vcpu;
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	unsigned basic = reason & 0xffff;

	vcpu->exits++;
	vcpu->exit_counts[basic < NR_EXIT_REASONS ? basic : 0]++;
	if (unlikely(basic >= NR_EXIT_REASONS))
		exit_crash(vcpu, regs);
	else
		exit_handlers[basic](vcpu, regs);
	if (unlikely(vcpu->irq_pending))
		vmx_deliver_interrupt(vcpu);
}

__noreturn void vmx_entry_failed(struct guest_regs *regs)
{
	struct vcpu *vcpu = this_cpu()->vcpu;

	unsigned err = (unsigned)vmread(VMCS_INSTR_ERROR);
	const char *why = vmx_diagnose_guest_state();

	(void)regs;
	vm_crash(vcpu, "VM entry failed: VM-instruction error %u (%s)%s%s", err,
		 vmx_instr_error_name(err), why ? "; guest state: " : "", why ? why : "");
}
