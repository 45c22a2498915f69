/*
 * The VT-x back-end: VMXON on each CPU, one VMCS per vCPU with controls
 * derived from the capability MSRs (SDM Vol. 3C 31.5 and Appendix A), the
 * host state, and the guest's entry state.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/ept.h"
#include "arch/x86/virt.h"
#include "arch/x86/vmx_internal.h"
#include "arch/x86/virt_probe.h"
#include "core/spinlock.h"
#include "boot/layout.h"
#include "core/assert.h"
#include "core/errno.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/string.h"
#include "mm/kmem.h"
#include "mm/mm.h"
#include "mm/pmm.h"

#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_PAT 0x277
#define MSR_IA32_XSS 0xda0

struct vmx_fixed vmx_fixed;
static paddr_t io_bitmaps;   /* two pages, all ones: every port exits */
static paddr_t msr_bitmap;   /* shared allow-list, see vmx_msr_bitmap_init */
static struct pcpu_vmx {
	paddr_t vmxon;
} pcpu_vmx[MAX_CPUS];

extern char vmx_exit_entry[];

static bool vmx_true_ctls(void)
{
	return rdmsr(MSR_IA32_VMX_BASIC) & (1ull << 55);
}

/* Set what we want within what the CPU allows (SDM Appendix A.3-A.5). */
static int vmx_adjust(uint32_t msr, uint32_t want, uint32_t need, uint32_t *out)
{
	uint64_t caps = rdmsr(msr);
	uint32_t ctl = (want | (uint32_t)caps) & (uint32_t)(caps >> 32);

	if ((ctl & need) != need) {
		pr_err("vmx: CPU lacks required controls %#x in MSR %#x\n",
		       need & ~ctl, msr);
		return -ENOTSUP;
	}
	*out = ctl;
	return 0;
}

static void vmx_pass_msr(uint8_t *bm, uint32_t msr)
{
	unsigned base = msr >= 0xc0000000 ? 1024 : 0;
	uint32_t bit = msr & 0x1fff;

	bm[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));           /* reads */
	bm[2048 + base + bit / 8] &= (uint8_t)~(1u << (bit % 8));    /* writes */
}

/*
 * MSRs the guest owns outright: their guest values live in the VMCS
 * (SYSENTER, FS/GS base) or the hypervisor never uses them (the SYSCALL
 * MSRs, KERNEL_GS_BASE, TSC_AUX). Everything else exits to arch/x86/msr.c.
 */
static int vmx_msr_bitmap_init(void)
{
	static const uint32_t owned[] = { 0x174, 0x175, 0x176, 0xc0000081, 0xc0000082,
					  0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
					  0xc0000102, 0xc0000103 };
	uint8_t *bm;

	msr_bitmap = pmm_alloc_page();
	if (!msr_bitmap)
		return -ENOMEM;
	bm = phys_to_virt(msr_bitmap);
	memset(bm, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(owned); i++)
		vmx_pass_msr(bm, owned[i]);
	/* TSC reads are harmless and frequent; writes still exit. */
	bm[0x10 / 8] &= (uint8_t)~(1u << (0x10 % 8));
	return 0;
}

static int vmx_global_init(void)
{
	io_bitmaps = pmm_alloc(2, PAGE_SIZE, 0);
	if (!io_bitmaps)
		return -ENOMEM;
	memset(phys_to_virt(io_bitmaps), 0xff, 2 * PAGE_SIZE);
	vmx_fixed.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_fixed.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_fixed.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_fixed.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	return vmx_msr_bitmap_init();
}

/* VMXON on this CPU (SDM 24.7 and 24.11.5). */
static int vmx_cpu_enable(void)
{
	static spinlock_t init_lock = SPINLOCK_INIT;
	static bool global_done;
	struct pcpu_vmx *p = &pcpu_vmx[this_cpu_id()];
	uint64_t cr0 = read_cr0(), cr4 = read_cr4() | X86_CR4_VMXE;
	bool cf, zf;

	spin_lock(&init_lock);
	if (!global_done && !vmx_global_init())
		global_done = true;
	spin_unlock(&init_lock);
	if (!global_done || !(p->vmxon = pmm_alloc_page()))
		return -ENOMEM;
	*(uint32_t *)phys_to_virt(p->vmxon) = this_cpu()->arch.caps.vmcs_revision;
	write_cr0((cr0 | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((cr4 | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1));
	asm volatile("vmxon %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(p->vmxon) : "memory");
	if (!vmx_insn_ok(cf, zf)) {
		pr_err("vmx: VMXON failed on cpu%u\n", this_cpu_id());
		return -EIO;
	}
	return 0;
}

static int vmx_vcpu_create(struct vcpu *vcpu)
{
	struct vmx_vcpu *v = kzalloc(sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->vmcs = pmm_alloc_page();
	if (!v->vmcs) {
		kfree(v);
		return -ENOMEM;
	}
	*(uint32_t *)phys_to_virt(v->vmcs) = pcpus[0].arch.caps.vmcs_revision;
	vcpu->arch = v;
	return 0;
}

static int vmx_setup_controls(struct vmx_vcpu *v)
{
	bool t = vmx_true_ctls();
	uint32_t pin, proc, proc2, exit, entry;
	int err;

	err = vmx_adjust(t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
			 PIN_EXT_INTR_EXIT | PIN_NMI_EXIT, PIN_EXT_INTR_EXIT | PIN_NMI_EXIT, &pin);
	err = err ?: vmx_adjust(t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
				PROC_HLT_EXIT | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
				PROC_SECONDARY | PROC_MWAIT_EXIT | PROC_MONITOR_EXIT | PROC_RDPMC_EXIT,
				PROC_HLT_EXIT | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
				PROC_SECONDARY, &proc);
	err = err ?: vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2,
				PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED | PROC2_RDTSCP |
				PROC2_INVPCID | PROC2_XSAVES,
				PROC2_EPT | PROC2_UNRESTRICTED, &proc2);
	err = err ?: vmx_adjust(t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
				EXIT_HOST_LONG_MODE | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
				EXIT_SAVE_PAT | EXIT_LOAD_PAT,
				EXIT_HOST_LONG_MODE | EXIT_SAVE_EFER | EXIT_LOAD_EFER, &exit);
	err = err ?: vmx_adjust(t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
				ENTRY_LOAD_EFER | ENTRY_LOAD_PAT, ENTRY_LOAD_EFER, &entry);
	if (err)
		return err;
	vmwrite(VMCS_PIN_CTLS, pin);
	vmwrite(VMCS_PROC_CTLS, proc);
	vmwrite(VMCS_PROC_CTLS2, proc2);
	vmwrite(VMCS_EXIT_CTLS, exit);
	vmwrite(VMCS_ENTRY_CTLS, entry & ~ENTRY_IA32E_GUEST);
	v->proc_ctls = proc;
	v->entry_ctls = entry & ~ENTRY_IA32E_GUEST;
	return 0;
}

static uint64_t read_gdtr_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed d;

	asm volatile("sgdt %0" : "=m"(d));
	return d.base;
}

static uint64_t read_idtr_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed d;

	asm volatile("sidt %0" : "=m"(d));
	return d.base;
}

/* Host state: what this CPU runs with (SDM 25.5). */
static void vmx_setup_host(struct vcpu *vcpu)
{
	struct pcpu *c = this_cpu();

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, 0x08);
	vmwrite(VMCS_HOST_SS_SEL, 0x10);
	vmwrite(VMCS_HOST_DS_SEL, 0x10);
	vmwrite(VMCS_HOST_ES_SEL, 0x10);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, 0x18);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)c);
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&c->arch.tss);
	vmwrite(VMCS_HOST_GDTR_BASE, read_gdtr_base());
	vmwrite(VMCS_HOST_IDTR_BASE, read_idtr_base());
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(VMCS_HOST_RSP, c->stack_top);
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
	BUILD_ASSERT(sizeof(struct guest_regs) <= HV_STACK_GUEST_REGS);
	vcpu->regs = (struct guest_regs *)(uintptr_t)(c->stack_top - sizeof(struct guest_regs));
}

static void vmx_setup_execution(struct vcpu *vcpu)
{
	vmwrite(VMCS_IO_BITMAP_A, io_bitmaps);
	vmwrite(VMCS_IO_BITMAP_B, io_bitmaps + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, msr_bitmap);
	vmwrite(VMCS_EPT_POINTER, ept_pointer(vcpu->vm->npt.root));
	/* VPID 0 is the host's; give each vCPU its own tag. */
	vmwrite(VMCS_VPID, 1 + vcpu->vm->id * VM_MAX_VCPUS + vcpu->idx);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	/* Bits the guest may not own: the fixed ones, and VMXE in CR4. */
	vmwrite(VMCS_CR0_MASK, vmx_fixed.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG));
	vmwrite(VMCS_CR4_MASK, vmx_fixed.cr4_fixed0 | ~vmx_fixed.cr4_fixed1);
	vmwrite(VMCS_PREEMPTION_TIMER, 0);
}

/* Load the VMCS on this CPU and fill everything but the guest state. */
static int vmx_vcpu_load(struct vcpu *vcpu)
{
	struct vmx_vcpu *v = to_vmx(vcpu);
	bool cf, zf;
	int err;

	asm volatile("vmclear %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(v->vmcs) : "memory");
	if (vmx_insn_ok(cf, zf))
		asm volatile("vmptrld %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(v->vmcs) : "memory");
	if (!vmx_insn_ok(cf, zf))
		return -EIO;
	err = vmx_setup_controls(v);
	if (err)
		return err;
	vmx_setup_host(vcpu);
	vmx_setup_execution(vcpu);
	return 0;
}

static __noreturn void vmx_vcpu_run(struct vcpu *vcpu)
{
	int err = vmx_vcpu_load(vcpu);

	if (err) {
		pr_err("vm %s: cannot load the VMCS of vcpu%u on cpu%u (%d)\n",
		       vcpu->vm->name, vcpu->idx, this_cpu_id(), err);
		vm_crash(vcpu, "VMCS set-up failed");
		cpu_halt_forever();
	}
	virt->vcpu_reset(vcpu);
	if (vcpu->irq_pending)
		vmx_deliver_interrupt(vcpu);
	to_vmx(vcpu)->launched = true;
	vmx_enter_first(vcpu->regs);
}

static void vmx_inject_exception(struct vcpu *vcpu, unsigned vector, bool has_error,
				 uint32_t error)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXC | vector;

	(void)vcpu;
	if (has_error) {
		info |= INTR_INFO_DELIVER_ERR;
		vmwrite(VMCS_ENTRY_EXC_ERROR, error);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static void vmx_skip_instruction(struct vcpu *vcpu)
{
	(void)vcpu;
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTR_LEN));
	/* Stepping over an instruction ends STI/MOV-SS blocking (SDM 25.4.2). */
	if (vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
}

static const uint32_t vreg_fields[] = {
	[VREG_RIP] = VMCS_GUEST_RIP, [VREG_RSP] = VMCS_GUEST_RSP,
	[VREG_RFLAGS] = VMCS_GUEST_RFLAGS, [VREG_CR0] = VMCS_CR0_SHADOW,
	[VREG_CR3] = VMCS_GUEST_CR3, [VREG_CR4] = VMCS_CR4_SHADOW,
	[VREG_EFER] = VMCS_GUEST_EFER, [VREG_PAT] = VMCS_GUEST_PAT,
};

static uint64_t vmx_get_reg(struct vcpu *vcpu, enum vreg reg)
{
	(void)vcpu;
	if (reg == VREG_CPL)
		return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
	if (reg == VREG_CS_BASE)
		return vmread(VMCS_GUEST_CS_BASE);
	if (reg == VREG_CS_ATTR)   /* VMX keeps L/D in bits 13/14 (SDM 25.4.1) */
		return (vmread(VMCS_GUEST_CS_AR) >> 4) & 0xf00;
	/* Guest-owned CR bits come from the real register, the rest from the shadow. */
	if (reg == VREG_CR0)
		return (vmread(VMCS_GUEST_CR0) & ~vmread(VMCS_CR0_MASK)) |
		       (vmread(VMCS_CR0_SHADOW) & vmread(VMCS_CR0_MASK));
	if (reg == VREG_CR4)
		return (vmread(VMCS_GUEST_CR4) & ~vmread(VMCS_CR4_MASK)) |
		       (vmread(VMCS_CR4_SHADOW) & vmread(VMCS_CR4_MASK));
	return vmread(vreg_fields[reg]);
}

static bool vmx_set_reg(struct vcpu *vcpu, enum vreg reg, uint64_t val)
{
	switch (reg) {
	case VREG_CR0:
		return vmx_set_cr0(vcpu, val);
	case VREG_CR4:
		return vmx_set_cr4(vcpu, val);
	case VREG_EFER:
		return vmx_set_efer(vcpu, val);
	case VREG_PAT:
		vmwrite(VMCS_GUEST_PAT, val);
		return true;
	case VREG_CPL:
	case VREG_CS_BASE:
	case VREG_CS_ATTR:
		return false;
	default:
		vmwrite(vreg_fields[reg], val);
		return true;
	}
}

static void vmx_flush_npt(struct vcpu *vcpu)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { ept_pointer(vcpu->vm->npt.root), 0 };

	/* Single-context INVEPT (type 1), SDM 31.3 "INVEPT". */
	asm volatile("invept %0, %1" ::"m"(desc), "r"(1ull) : "cc", "memory");
}

static const struct pt_format *vmx_ept_format(void)
{
	const struct virt_caps *c = &pcpus[0].arch.caps;

	return c->ept_1g ? &ept_format_1g : c->ept_2m ? &ept_format_2m : &ept_format_4k;
}

void vmx_vcpu_reset(struct vcpu *vcpu);
const char *vmx_exit_name(unsigned reason);

static struct virt_backend vmx_backend = {
	.name = "vmx",
	.cpu_enable = vmx_cpu_enable,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_reset = vmx_vcpu_reset,
	.vcpu_run = vmx_vcpu_run,
	.inject_exception = vmx_inject_exception,
	.dump = vmx_dump_guest,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.skip_instruction = vmx_skip_instruction,
	.flush_npt = vmx_flush_npt,
	.exit_name = vmx_exit_name,
};

const struct virt_backend *vmx_backend_get(void)
{
	vmx_backend.npt_format = vmx_ept_format();
	return &vmx_backend;
}
