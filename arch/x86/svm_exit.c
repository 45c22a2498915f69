/*
 * #VMEXIT dispatch for SVM: one const table indexed by exit code
 * (APM Vol. 2 Appendix C) for codes 0x00-0x8f, plus nested page faults
 * and VMRUN failures, each decoded into the same neutral requests the
 * VT-x back-end makes.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/msr.h"
#include "arch/x86/svm_internal.h"
#include "arch/x86/virt.h"
#include "core/panic.h"
#include "core/printk.h"

#define EXC_UD 6
#define EXC_GP 13
#define NR_SVM_EXITS 0x90

typedef void (*svm_exit_t)(struct vcpu *vcpu, struct vmcb *v);

/* Without next-RIP saving, the length of each instruction we step over. */
static unsigned svm_insn_len(const struct vmcb *v)
{
	switch (v->exit_code) {
	case SVM_EXIT_HLT: return 1;
	case SVM_EXIT_CPUID: case SVM_EXIT_MSR: return 2;
	case SVM_EXIT_VMMCALL: case SVM_EXIT_XSETBV: return 3;
	default: return 0;
	}
}

void svm_skip_instruction(struct vcpu *vcpu)
{
	struct vmcb *v = to_svm(vcpu)->vmcb;

	if (v->exit_code == SVM_EXIT_IOIO)
		v->rip = v->exit_info2;           /* IOIO always gives the next RIP */
	else if (svm_has_nrips())
		v->rip = v->next_rip;
	else
		v->rip += svm_insn_len(v);
	v->int_state &= ~1ull;                    /* stepping over ends the STI shadow */
}

static void reinject(struct vmcb *v)
{
	if (v->exit_int_info & SVM_EVT_VALID)
		v->event_inj = v->exit_int_info;
}

static void svm_ud(struct vcpu *vcpu, struct vmcb *v)
{
	(void)v;
	virt->inject_exception(vcpu, EXC_UD, false, 0);
}

static void svm_gp(struct vcpu *vcpu, struct vmcb *v)
{
	(void)v;
	virt->inject_exception(vcpu, EXC_GP, true, 0);
}

static void svm_cpuid(struct vcpu *vcpu, struct vmcb *v)
{
	struct guest_regs *r = vcpu->regs;
	struct cpuid_regs out;

	(void)v;
	cpuid_guest(vcpu, (uint32_t)r->rax, (uint32_t)r->rcx, &out);
	r->rax = out.eax;
	r->rbx = out.ebx;
	r->rcx = out.ecx;
	r->rdx = out.edx;
	svm_skip_instruction(vcpu);
}

static void svm_vmmcall(struct vcpu *vcpu, struct vmcb *v)
{
	(void)v;
	vcpu_handle_hypercall(vcpu);
}

/* No HLT activity state on SVM: step over it and idle this CPU until
 * something (an NMI, a host interrupt) wakes it. */
static void svm_hlt(struct vcpu *vcpu, struct vmcb *v)
{
	(void)v;
	svm_skip_instruction(vcpu);
	if (!vcpu->irq_pending)
		asm volatile("sti; hlt; cli" ::: "memory");
	vcpu_timers_check(vcpu);
}

/* EXITINFO1 for IOIO, APM Vol. 2 15.10.2. */
static void svm_ioio(struct vcpu *vcpu, struct vmcb *v)
{
	uint64_t q = v->exit_info1;

	if (q & 4)
		vm_crash(vcpu, "string I/O (INS/OUTS) to port %#llx is not supported",
			 (unsigned long long)(q >> 16 & 0xffff));
	vcpu_handle_pio(vcpu, (uint16_t)(q >> 16), q & 0x10 ? 1 : q & 0x20 ? 2 : 4, !(q & 1));
	svm_skip_instruction(vcpu);
}

static void svm_msr(struct vcpu *vcpu, struct vmcb *v)
{
	struct guest_regs *r = vcpu->regs;
	uint64_t val = (r->rdx << 32) | (uint32_t)r->rax;

	if (v->exit_info1 == 0) {
		if (!msr_guest_read(vcpu, (uint32_t)r->rcx, &val)) {
			svm_gp(vcpu, v);
			return;
		}
		r->rax = (uint32_t)val;
		r->rdx = val >> 32;
	} else if (!msr_guest_write(vcpu, (uint32_t)r->rcx, val)) {
		svm_gp(vcpu, v);
		return;
	}
	svm_skip_instruction(vcpu);
}

static void svm_xsetbv(struct vcpu *vcpu, struct vmcb *v)
{
	struct guest_regs *r = vcpu->regs;
	uint64_t val = (r->rdx << 32) | (uint32_t)r->rax;

	if ((uint32_t)r->rcx != 0 || !cpuid_xcr0_valid(val)) {
		svm_gp(vcpu, v);
		return;
	}
	asm volatile("xsetbv" ::"a"((uint32_t)val), "d"((uint32_t)(val >> 32)), "c"(0u));
	svm_skip_instruction(vcpu);
}

static void svm_intr(struct vcpu *vcpu, struct vmcb *v)
{
	reinject(v);
	asm volatile("sti; nop; cli" ::: "memory");
	vcpu_timers_check(vcpu);
}

/* The NMI itself was taken by the host when GIF came back on (stgi). */
static void svm_nmi(struct vcpu *vcpu, struct vmcb *v)
{
	if (panic_in_progress())
		panic_stop_this_cpu();
	if (vm_wants_park(vcpu))
		vm_park(vcpu);
	reinject(v);
}

static void svm_crash(struct vcpu *vcpu, struct vmcb *v)
{
	vm_crash(vcpu, "VM exit %#llx (%s), exit info %#llx %#llx",
		 (unsigned long long)v->exit_code,
		 v->exit_code == SVM_EXIT_SHUTDOWN ? "shutdown: triple fault" :
		 v->exit_code == SVM_EXIT_INIT ? "INIT signal" : "not handled",
		 (unsigned long long)v->exit_info1, (unsigned long long)v->exit_info2);
}

/* EXITINFO1 of a nested page fault is a #PF error code (APM 15.25.6). */
static void svm_npf(struct vcpu *vcpu, struct vmcb *v)
{
	struct io_access a = { .addr = v->exit_info2, .write = v->exit_info1 & 2 };

	if (v->exit_info1 & 0x10)
		vm_crash(vcpu, "instruction fetch from guest-physical %#llx outside its RAM",
			 (unsigned long long)a.addr);
	vcpu_handle_mmio(vcpu, &a);
}

static void svm_resume(struct vcpu *vcpu, struct vmcb *v)
{
	(void)vcpu, (void)v;
}

/* The guest can take interrupts now: the next entry injects (svm.c). */
static void svm_vintr(struct vcpu *vcpu, struct vmcb *v)
{
	(void)v;
	vcpu->irq_pending = true;
}

static const svm_exit_t svm_exits[NR_SVM_EXITS] = {
	[0x60] = svm_intr,     [0x61] = svm_nmi,      [0x62] = svm_resume,
	[0x63] = svm_crash,    [0x64] = svm_vintr,   [0x6f] = svm_gp,
	[0x72] = svm_cpuid,    [0x76] = svm_resume,   [0x78] = svm_hlt,
	[0x7a] = svm_ud,       [0x7b] = svm_ioio,     [0x7c] = svm_msr,
	[0x7d] = svm_crash,    [0x7f] = svm_crash,    [0x80] = svm_ud,
	[0x81] = svm_vmmcall,  [0x82] = svm_ud,       [0x83] = svm_ud,
	[0x84] = svm_ud,       [0x85] = svm_ud,       [0x86] = svm_ud,
	[0x8a] = svm_ud,       [0x8b] = svm_ud,       [0x8c] = svm_ud,
	[0x8d] = svm_xsetbv,
};

/* VMRUN refused the state (exit code -1, APM 15.5.1): say which rule. */
static const char *svm_diagnose(const struct vmcb *v)
{
	if (!(v->efer & EFER_SVME))
		return "EFER.SVME is clear";
	if ((v->cr0 & (1ull << 29)) && !(v->cr0 & (1ull << 30)))
		return "CR0.NW set without CR0.CD";
	if (v->cr0 >> 32)
		return "CR0 bits 63:32 are not zero";
	if ((v->efer & (1ull << 8)) && (v->cr0 & X86_CR0_PG) && !(v->cr4 & X86_CR4_PAE))
		return "EFER.LME and CR0.PG without CR4.PAE";
	if ((v->efer & (1ull << 8)) && (v->cr0 & X86_CR0_PG) && (v->cs.attrib & 0x200) &&
	    (v->cs.attrib & 0x400))
		return "long mode with CS.L and CS.D both set";
	if (!v->asid)
		return "ASID 0";
	return "no rule we check; see APM Vol. 2 15.5.1";
}

void svm_handle_exit(struct vcpu *vcpu)
{
	struct vmcb *v = to_svm(vcpu)->vmcb;
	uint64_t code = v->exit_code;

	if (likely(code < NR_SVM_EXITS && svm_exits[code]))
		svm_exits[code](vcpu, v);
	else if (code == SVM_EXIT_NPF)
		svm_npf(vcpu, v);
	else if (code == SVM_EXIT_INVALID)
		vm_crash(vcpu, "VMRUN failed: invalid guest state: %s", svm_diagnose(v));
	else
		svm_crash(vcpu, v);
}

void svm_dump_guest(struct vcpu *vcpu)
{
	const struct vmcb *v = to_svm(vcpu)->vmcb;
	const struct guest_regs *r = vcpu->regs;

	pr_err("  rip=%#llx rsp=%#llx rflags=%#llx cpl=%u\n", (unsigned long long)v->rip,
	       (unsigned long long)v->rsp, (unsigned long long)v->rflags, v->cpl);
	vcpu_dump_gprs(r);
	pr_err("  cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx\n", (unsigned long long)v->cr0,
	       (unsigned long long)v->cr3, (unsigned long long)v->cr4,
	       (unsigned long long)(v->efer & ~EFER_SVME));
}

const char *svm_exit_name(unsigned slot)
{
	switch (slot) {
	case SVM_EXIT_INTR: return "INTR";
	case SVM_EXIT_NMI: return "NMI";
	case SVM_EXIT_VINTR: return "VINTR";
	case SVM_EXIT_CPUID: return "CPUID";
	case SVM_EXIT_HLT: return "HLT";
	case SVM_EXIT_IOIO: return "IOIO";
	case SVM_EXIT_MSR: return "MSR";
	case SVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case SVM_EXIT_VMMCALL: return "VMMCALL";
	case SVM_EXIT_XSETBV: return "XSETBV";
	case 0x90: return "NPF";
	case 0x91: return "other";
	default: return "intercept";
	}
}
