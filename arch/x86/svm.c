/*
 * The AMD SVM back-end (APM Vol. 2 chapter 15): EFER.SVME and the host
 * save area on each CPU, one VMCB per vCPU with the intercepts that match
 * the VT-x back-end, nested paging with the ordinary x86-64 format, an
 * ASID per vCPU, and the VMRUN loop.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/pgtable.h"
#include "arch/x86/svm_internal.h"
#include "arch/x86/virt.h"
#include "boot/layout.h"
#include "core/assert.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "mm/kmem.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "vdev/vlapic.h"

#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_SVMDIS (1ull << 4)
#define PAT_DEFAULT 0x0007040600070406ull
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_ALLOWED ((1ull << 0) | EFER_LME | EFER_LMA | (1ull << 11))

static paddr_t iopm, msrpm;        /* shared: every port exits; MSR allow-list */
static paddr_t host_area[MAX_CPUS];
static bool nrips, decode_assists;

bool svm_has_nrips(void)
{
	return nrips;
}

/* MSR permission map: two bits per MSR (read, write), APM 15.11. */
static void svm_pass_msr(uint8_t *pm, uint32_t msr)
{
	unsigned base = msr >= 0xc0000000 ? 0x800 : 0;
	unsigned bit = (msr & 0x1fff) * 2;

	pm[base + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

static int svm_global_init(void)
{
	static const uint32_t owned[] = { 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
					  0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
					  0x174, 0x175, 0x176 };
	struct cpuid_regs r;
	uint8_t *pm;

	iopm = pmm_alloc(3, PAGE_SIZE, 0);
	msrpm = pmm_alloc(2, PAGE_SIZE, 0);
	if (!iopm || !msrpm)
		return -ENOMEM;
	memset(phys_to_virt(iopm), 0xff, 3 * PAGE_SIZE);
	pm = phys_to_virt(msrpm);
	memset(pm, 0xff, 2 * PAGE_SIZE);
	/* State VMSAVE/VMLOAD and the VMCB switch for us (see svm_entry.S). */
	for (unsigned i = 0; i < ARRAY_SIZE(owned); i++)
		svm_pass_msr(pm, owned[i]);
	cpuid_count(0x8000000a, 0, &r);
	nrips = r.edx & (1u << 3);
	decode_assists = r.edx & (1u << 7);
	pr_info("svm: next-RIP %s, decode assists %s, %u ASIDs\n", nrips ? "yes" : "no",
		decode_assists ? "yes" : "no", r.ebx);
	return 0;
}

/* With decode assists a nested page fault carries the bytes the CPU
 * fetched at RIP (APM Vol. 2 15.33.1); none when that fetch failed. */
static size_t svm_exit_insn_bytes(struct vcpu *vcpu, uint8_t *buf, size_t max)
{
	const struct vmcb *v = to_svm(vcpu)->vmcb;
	size_t n = MIN((size_t)v->insn_len, MIN(max, sizeof(v->insn_bytes)));

	if (!decode_assists || v->exit_code != SVM_EXIT_NPF)
		return 0;
	memcpy(buf, v->insn_bytes, n);
	return n;
}

static int svm_cpu_enable(void)
{
	static spinlock_t lock = SPINLOCK_INIT;
	static bool global_done;
	unsigned cpu = this_cpu_id();

	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		pr_err("svm: SVM is disabled by the firmware on cpu%u (VM_CR.SVMDIS)\n", cpu);
		return -EPERM;
	}
	spin_lock(&lock);
	if (!global_done && !svm_global_init())
		global_done = true;
	spin_unlock(&lock);
	if (!global_done || !(host_area[cpu] = pmm_alloc_page()))
		return -ENOMEM;
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, host_area[cpu]);
	return 0;
}

static int svm_vcpu_create(struct vcpu *vcpu)
{
	struct svm_vcpu *s = kzalloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->vmcb_pa = pmm_alloc_page();
	if (!s->vmcb_pa) {
		kfree(s);
		return -ENOMEM;
	}
	s->vmcb = phys_to_virt(s->vmcb_pa);
	memset(s->vmcb, 0, PAGE_SIZE);
	vcpu->arch = s;
	vcpu->regs = &s->regs;
	return 0;
}

static void svm_setup_control(struct vcpu *vcpu)
{
	struct vmcb *v = to_svm(vcpu)->vmcb;

	v->intercept_misc1 = SVM_INT_INTR | SVM_INT_NMI | SVM_INT_INIT | SVM_INT_CPUID |
			     SVM_INT_HLT | SVM_INT_IOIO | SVM_INT_MSR | SVM_INT_SHUTDOWN |
			     SVM_INT_RDPMC | SVM_INT_INVLPGA | SVM_INT_TASK_SWITCH;
	/* VMRUN must be intercepted (APM 15.5.1); the other SVM instructions
	 * are ours too: the guest sees no SVM. */
	v->intercept_misc2 = SVM_INT2_VMRUN | SVM_INT2_VMMCALL | SVM_INT2_VMLOAD |
			     SVM_INT2_VMSAVE | SVM_INT2_STGI | SVM_INT2_CLGI | SVM_INT2_SKINIT |
			     SVM_INT2_MONITOR | SVM_INT2_MWAIT | SVM_INT2_MWAIT_COND |
			     SVM_INT2_XSETBV;
	v->iopm_pa = iopm;
	v->msrpm_pa = msrpm;
	v->asid = 1 + vcpu->vm->id * VM_MAX_VCPUS + vcpu->idx;
	v->tlb_control = 1;     /* flush everything on the first run */
	v->np_enable = 1;
	v->n_cr3 = vcpu->vm->npt.root;
	v->int_ctl = 1u << 24;  /* V_INTR_MASKING: the guest's IF gates only virtual interrupts */
}

static void svm_set_seg(struct vmcb_seg *s, uint16_t sel, uint16_t attrib)
{
	*s = (struct vmcb_seg){ .sel = sel, .attrib = attrib, .limit = 0xffffffff, .base = 0 };
}

/* After SIPI: real mode, CS = vector << 8, base = vector << 12 (APM 15.28). */
static void svm_reset_segments_real(struct vmcb *v, const struct guest_entry *e)
{
	svm_set_seg(&v->ds, 0, 0x93);
	v->ds.limit = 0xffff;
	v->es = v->ss = v->fs = v->gs = v->ds;
	svm_set_seg(&v->cs, e->cs, 0x9b);
	v->cs.limit = 0xffff;
	v->cs.base = (uint64_t)e->cs << 4;
	v->gdtr = (struct vmcb_seg){ .limit = 0xffff };
}

static void svm_reset_state(struct vcpu *vcpu)
{
	struct vmcb *v = to_svm(vcpu)->vmcb;
	const struct guest_entry *e = vcpu_entry(vcpu);
	bool lm = e->mode == GUEST_BOOT_LONG64;
	bool real = e->mode == GUEST_BOOT_REAL16;

	svm_set_seg(&v->cs, e->cs, lm ? 0xa9b : 0xc9b);   /* L|G or DB|G, P, S, code */
	svm_set_seg(&v->ds, e->ds, 0xc93);
	v->es = v->ss = v->fs = v->gs = v->ds;
	svm_set_seg(&v->tr, 0, 0x8b);
	v->tr.limit = 0x67;
	svm_set_seg(&v->ldtr, 0, 0x82);
	v->ldtr.limit = 0;
	v->gdtr = (struct vmcb_seg){ .limit = e->gdt_limit, .base = e->gdt_base };
	v->idtr = (struct vmcb_seg){ 0 };
	v->cpl = 0;
	v->efer = EFER_SVME | (lm ? EFER_LME | EFER_LMA : 0);
	v->cr0 = (real ? 0 : X86_CR0_PE) | 0x30 | (lm ? X86_CR0_PG | X86_CR0_WP : 0); /* ET|NE */
	if (real) {
		svm_reset_segments_real(v, e);
		v->idtr.limit = 0xffff;
	}
	v->cr3 = e->cr3;
	v->cr4 = lm ? X86_CR4_PAE : 0;
	v->dr6 = 0xffff0ff0;
	v->dr7 = 0x400;
	v->rflags = 2;
	v->rip = e->rip;
	v->rsp = 0;
	v->rax = e->rax;
	v->g_pat = PAT_DEFAULT;
	v->event_inj = 0;
	v->int_state = 0;
	to_svm(vcpu)->regs = (struct guest_regs){ .rax = e->rax, .rbx = e->rbx, .rdi = e->rdi,
						   .rsi = e->rsi };
}

static void svm_vcpu_reset(struct vcpu *vcpu)
{
	svm_setup_control(vcpu);
	svm_reset_state(vcpu);
	to_svm(vcpu)->dirty = CLEAN_ALL;
}

#define INT_CTL_V_IRQ (1u << 8)
#define INT_CTL_V_PRIO_MAX (0xfu << 16)
#define INT_CTL_V_IGN_TPR (1u << 20)

static void svm_set_window(struct svm_vcpu *s, bool on)
{
	struct vmcb *v = s->vmcb;
	uint32_t ctl = on ? v->int_ctl | INT_CTL_V_IRQ | INT_CTL_V_PRIO_MAX | INT_CTL_V_IGN_TPR
			  : v->int_ctl & ~(INT_CTL_V_IRQ | INT_CTL_V_PRIO_MAX | INT_CTL_V_IGN_TPR);
	uint32_t icpt = on ? v->intercept_misc1 | SVM_INT_VINTR : v->intercept_misc1 & ~SVM_INT_VINTR;

	if (ctl != v->int_ctl)
		s->dirty |= CLEAN_TPR;
	if (icpt != v->intercept_misc1)
		s->dirty |= CLEAN_INTERCEPTS;
	v->int_ctl = ctl;
	v->intercept_misc1 = icpt;
}

/*
 * Inject the vLAPIC's highest deliverable interrupt through EVENTINJ when
 * the guest can take it (RFLAGS.IF, no interrupt shadow, nothing queued);
 * otherwise raise a virtual interrupt (V_IRQ) and intercept VINTR, which
 * exits exactly when the guest becomes interruptible (APM 15.21.4).
 */
void svm_deliver_interrupt(struct vcpu *vcpu)
{
	struct svm_vcpu *s = to_svm(vcpu);
	struct vmcb *v = s->vmcb;
	int vec;

	if (unlikely(vm_wants_park(vcpu)))
		vm_park(vcpu);
	vec = vlapic_pending(vcpu);
	if (vec < 0)
		return;
	if ((v->event_inj & SVM_EVT_VALID) || !(v->rflags & X86_RFLAGS_IF) || (v->int_state & 1)) {
		svm_set_window(s, true);
		return;
	}
	svm_set_window(s, false);
	vlapic_accept(vcpu, (uint8_t)vec);
	v->event_inj = SVM_EVT_VALID | (uint32_t)vec;   /* type 0: external interrupt */
}

/* One VMRUN: the clean bits tell the CPU what it may keep cached. */
static void svm_run_once(struct vcpu *vcpu)
{
	struct svm_vcpu *s = to_svm(vcpu);
	unsigned cpu = this_cpu_id();

	if (s->last_cpu != cpu)
		s->dirty = CLEAN_ALL;
	s->last_cpu = cpu;
	if (vcpu->irq_pending)
		svm_deliver_interrupt(vcpu);
	s->vmcb->clean = CLEAN_ALL & ~s->dirty;
	s->dirty = 0;
	s->vmcb->rax = s->regs.rax;
	/*
	 * With V_INTR_MASKING the host's RFLAGS.IF at VMRUN decides whether
	 * physical interrupts reach the CPU while the guest runs (APM Vol. 2
	 * 15.21.1): with IF clear a host interrupt (the host timer, a kick)
	 * would wait for the guest's next HLT. So IF is set, under GIF = 0
	 * (15.17), which holds every interrupt until VMRUN sets GIF and
	 * after #VMEXIT clears it again; they are taken (and exit the
	 * guest) in the exit handlers' windows, as on VT-x.
	 */
	asm volatile("clgi; sti" ::: "memory");
	svm_enter(s->vmcb_pa, host_area[cpu], &s->regs);
	asm volatile("cli; stgi" ::: "memory");
	s->regs.rax = s->vmcb->rax;
	s->vmcb->tlb_control = 0;
}

static __noreturn void svm_vcpu_loop(struct vcpu *vcpu)
{
	for (;;) {
		svm_run_once(vcpu);
		vcpu->exits++;
		vcpu->exit_counts[svm_exit_slot(to_svm(vcpu)->vmcb->exit_code)]++;
		svm_handle_exit(vcpu);
	}
}

/* Start (or restart) on a fresh stack: a restart comes from deep inside
 * an exit handler, and must not pile up frames. */
static __noreturn void svm_vcpu_run(struct vcpu *vcpu)
{
	uint64_t top = this_cpu()->stack_top - HV_STACK_GUEST_REGS;

	to_svm(vcpu)->last_cpu = ~0u;
	svm_vcpu_reset(vcpu);
	asm volatile("movq %0, %%rsp\n\t"
		     "xorl %%ebp, %%ebp\n\t"
		     "call *%2"
		     :: "r"(top), "D"(vcpu), "r"(svm_vcpu_loop) : "memory");
	__builtin_unreachable();
}

static void svm_inject_exception(struct vcpu *vcpu, unsigned vector, bool has_error,
				 uint32_t error)
{
	uint64_t ev = SVM_EVT_VALID | SVM_EVT_TYPE_EXC | vector;

	if (has_error)
		ev |= SVM_EVT_ERR_VALID | (uint64_t)error << 32;
	to_svm(vcpu)->vmcb->event_inj = ev;
}

static uint64_t svm_get_reg(struct vcpu *vcpu, enum vreg reg)
{
	const struct vmcb *v = to_svm(vcpu)->vmcb;

	switch (reg) {
	case VREG_RIP: return v->rip;
	case VREG_RSP: return v->rsp;
	case VREG_RFLAGS: return v->rflags;
	case VREG_CR0: return v->cr0;
	case VREG_CR3: return v->cr3;
	case VREG_CR4: return v->cr4;
	case VREG_EFER: return v->efer & ~EFER_SVME;   /* SVM stays hidden */
	case VREG_PAT: return v->g_pat;
	case VREG_CPL: return v->cpl;
	case VREG_CS_BASE: return v->cs.base;
	case VREG_CS_ATTR: return v->cs.attrib;
	}
	return 0;
}

static bool svm_set_efer(struct svm_vcpu *s, uint64_t val)
{
	uint64_t old = s->vmcb->efer;

	if (val & ~EFER_ALLOWED)
		return false;
	if ((s->vmcb->cr0 & X86_CR0_PG) && ((val ^ old) & EFER_LME))
		return false;
	/* LMA is the CPU's to set; SVME must stay on for VMRUN (APM 15.5.1). */
	s->vmcb->efer = (val & ~EFER_LMA) | (old & EFER_LMA) | EFER_SVME;
	s->dirty |= CLEAN_CRX;
	return true;
}

static bool svm_set_reg(struct vcpu *vcpu, enum vreg reg, uint64_t val)
{
	struct svm_vcpu *s = to_svm(vcpu);

	switch (reg) {
	case VREG_RIP: s->vmcb->rip = val; return true;
	case VREG_RSP: s->vmcb->rsp = val; return true;
	case VREG_RFLAGS: s->vmcb->rflags = val | 2; return true;
	case VREG_EFER: return svm_set_efer(s, val);
	case VREG_PAT:
		s->vmcb->g_pat = val;
		s->dirty |= CLEAN_NP;
		return true;
	default:
		return false;   /* CR writes are not intercepted: the guest owns them */
	}
}

static void svm_flush_npt(struct vcpu *vcpu)
{
	to_svm(vcpu)->vmcb->tlb_control = 3;   /* this ASID's entries */
}

static const struct pt_format *svm_npt_format(void)
{
	struct cpuid_regs r;

	cpuid_count(0x80000001, 0, &r);
	return (r.edx & (1u << 26)) ? &x86_npt_format : &x86_npt_format_2m;
}

static struct virt_backend svm_backend = {
	.name = "svm",
	.cpu_enable = svm_cpu_enable,
	.vcpu_create = svm_vcpu_create,
	.vcpu_reset = svm_vcpu_reset,
	.vcpu_run = svm_vcpu_run,
	.inject_exception = svm_inject_exception,
	.dump = svm_dump_guest,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.skip_instruction = svm_skip_instruction,
	.flush_npt = svm_flush_npt,
	.exit_name = svm_exit_name,
	.exit_insn_bytes = svm_exit_insn_bytes,
};

const struct virt_backend *svm_backend_get(void)
{
	BUILD_ASSERT(sizeof(struct vmcb) == PAGE_SIZE);
	svm_backend.npt_format = svm_npt_format();
	return &svm_backend;
}
