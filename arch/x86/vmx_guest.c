/*
 * Guest register state in the VMCS: the entry state a loader asked for,
 * control-register writes the guest makes to bits we own, and the dump
 * printed when a VM crashes.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/virt.h"
#include "arch/x86/vmx_internal.h"
#include "core/printk.h"

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define CR0_NE (1ull << 5)
#define CR0_ET (1ull << 4)
#define CR4_PAE (1ull << 5)
#define PAT_DEFAULT 0x0007040600070406ull

/* Access rights (SDM 25.4.1): P | S | type, plus L/D/G as needed. */
#define AR_CODE64 0xa09b
#define AR_CODE32 0xc09b
#define AR_DATA 0xc093
#define AR_TSS64 0x008b
#define AR_UNUSABLE 0x10000

static void vmx_set_segment(uint32_t sel_field, uint16_t sel, uint32_t ar)
{
	unsigned i = (sel_field - VMCS_GUEST_ES_SEL) / 2;

	vmwrite(sel_field, sel);
	vmwrite(VMCS_GUEST_ES_BASE + i * 2, 0);
	vmwrite(VMCS_GUEST_ES_LIMIT + i * 2, 0xffffffff);
	vmwrite(VMCS_GUEST_ES_AR + i * 2, ar);
}

/* After SIPI: real mode, CS = vector << 8, base = vector << 12 (SDM 9.4.4.1). */
static void vmx_reset_segments_real(const struct guest_entry *e)
{
	static const uint32_t sels[] = { VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
					 VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL };

	for (unsigned i = 0; i < ARRAY_SIZE(sels); i++) {
		vmx_set_segment(sels[i], 0, 0x93);
		vmwrite(VMCS_GUEST_ES_LIMIT + (sels[i] - VMCS_GUEST_ES_SEL), 0xffff);
	}
	vmx_set_segment(VMCS_GUEST_CS_SEL, e->cs, 0x9b);
	vmwrite(VMCS_GUEST_CS_BASE, (uint64_t)e->cs << 4);
	vmwrite(VMCS_GUEST_CS_LIMIT, 0xffff);
	vmx_set_segment(VMCS_GUEST_LDTR_SEL, 0, AR_UNUSABLE);
	vmx_set_segment(VMCS_GUEST_TR_SEL, 0, AR_TSS64);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
}

static void vmx_reset_segments(const struct guest_entry *e)
{
	bool lm = e->mode == GUEST_BOOT_LONG64;

	if (e->mode == GUEST_BOOT_REAL16) {
		vmx_reset_segments_real(e);
		return;
	}
	vmx_set_segment(VMCS_GUEST_CS_SEL, e->cs, lm ? AR_CODE64 : AR_CODE32);
	vmx_set_segment(VMCS_GUEST_DS_SEL, e->ds, AR_DATA);
	vmx_set_segment(VMCS_GUEST_ES_SEL, e->ds, AR_DATA);
	vmx_set_segment(VMCS_GUEST_SS_SEL, e->ds, AR_DATA);
	vmx_set_segment(VMCS_GUEST_FS_SEL, e->ds, AR_DATA);
	vmx_set_segment(VMCS_GUEST_GS_SEL, e->ds, AR_DATA);
	vmx_set_segment(VMCS_GUEST_LDTR_SEL, 0, AR_UNUSABLE);
	/* TR must be a usable busy TSS even if the guest never uses one. */
	vmx_set_segment(VMCS_GUEST_TR_SEL, 0, AR_TSS64);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0x67);
	vmwrite(VMCS_GUEST_GDTR_BASE, e->gdt_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, e->gdt_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
}

static void vmx_reset_regs(struct vcpu *vcpu, const struct guest_entry *e)
{
	struct guest_regs *r = vcpu->regs;

	*r = (struct guest_regs){ .rax = e->rax, .rbx = e->rbx, .rdi = e->rdi, .rsi = e->rsi };
	vmwrite(VMCS_GUEST_RIP, e->rip);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_PAT, PAT_DEFAULT);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

void vmx_vcpu_reset(struct vcpu *vcpu);

void vmx_vcpu_reset(struct vcpu *vcpu)
{
	const struct guest_entry *e = vcpu_entry(vcpu);
	bool lm = e->mode == GUEST_BOOT_LONG64;
	uint64_t pe = e->mode == GUEST_BOOT_REAL16 ? 0 : X86_CR0_PE;

	vmx_reset_segments(e);
	vmx_reset_regs(vcpu, e);
	/* Paging off first: EFER.LME may not change under CR0.PG (a restart
	 * comes from a guest that had paging on). */
	vmwrite(VMCS_GUEST_CR0, vmread(VMCS_GUEST_CR0) & ~X86_CR0_PG);
	vmwrite(VMCS_GUEST_EFER, 0);
	vmwrite(VMCS_GUEST_CR3, e->cr3);
	vmx_set_cr4(vcpu, lm ? CR4_PAE : 0);
	vmx_set_efer(vcpu, lm ? EFER_LME : 0);
	vmx_set_cr0(vcpu, pe | CR0_ET | CR0_NE | (lm ? X86_CR0_PG | X86_CR0_WP : 0));
}

/* IA-32e mode follows EFER.LME once paging is on (SDM Vol. 3A 10.8.5). */
static void vmx_update_long_mode(struct vcpu *vcpu)
{
	struct vmx_vcpu *v = to_vmx(vcpu);
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	bool lma = (efer & EFER_LME) && (vmread(VMCS_GUEST_CR0) & X86_CR0_PG);

	efer = lma ? efer | EFER_LMA : efer & ~EFER_LMA;
	vmwrite(VMCS_GUEST_EFER, efer);
	v->entry_ctls = lma ? v->entry_ctls | ENTRY_IA32E_GUEST : v->entry_ctls & ~ENTRY_IA32E_GUEST;
	vmwrite(VMCS_ENTRY_CTLS, v->entry_ctls);
}

bool vmx_set_cr0(struct vcpu *vcpu, uint64_t val)
{
	/* Unrestricted guest lets PE and PG be clear (SDM 26.3.1.1). */
	uint64_t must1 = vmx_fixed.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);

	if (val >> 32 || (val & ~vmx_fixed.cr0_fixed1 & ~must1) ||
	    ((val & X86_CR0_PG) && !(val & X86_CR0_PE)))
		return false;
	if ((val & X86_CR0_PG) && (vmread(VMCS_GUEST_EFER) & EFER_LME) &&
	    !(vmread(VMCS_GUEST_CR4) & CR4_PAE))
		return false;                       /* long mode needs PAE */
	vmwrite(VMCS_CR0_SHADOW, val);
	vmwrite(VMCS_GUEST_CR0, val | must1);
	vmx_update_long_mode(vcpu);
	return true;
}

bool vmx_set_cr4(struct vcpu *vcpu, uint64_t val)
{
	uint64_t must1 = vmx_fixed.cr4_fixed0;

	(void)vcpu;
	/* The guest sees VT-x hidden: setting VMXE is a reserved-bit #GP. */
	if ((val & X86_CR4_VMXE) || (val & ~vmx_fixed.cr4_fixed1))
		return false;
	if (!(val & CR4_PAE) && (vmread(VMCS_GUEST_EFER) & EFER_LMA))
		return false;
	vmwrite(VMCS_CR4_SHADOW, val);
	vmwrite(VMCS_GUEST_CR4, val | must1);
	return true;
}

bool vmx_set_efer(struct vcpu *vcpu, uint64_t val)
{
	uint64_t old = vmread(VMCS_GUEST_EFER);

	if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return false;
	/* LME cannot change while paging is on (SDM Vol. 3A 10.8.5). */
	if ((vmread(VMCS_GUEST_CR0) & X86_CR0_PG) && ((val ^ old) & EFER_LME))
		return false;
	vmwrite(VMCS_GUEST_EFER, (val & ~EFER_LMA) | (old & EFER_LMA));
	vmx_update_long_mode(vcpu);
	return true;
}

void vmx_dump_guest(struct vcpu *vcpu)
{
	const struct guest_regs *r = vcpu->regs;

	pr_err("  rip=%#llx rsp=%#llx rflags=%#llx cpl=%llu\n",
	       (unsigned long long)vmread(VMCS_GUEST_RIP), (unsigned long long)vmread(VMCS_GUEST_RSP),
	       (unsigned long long)vmread(VMCS_GUEST_RFLAGS),
	       (unsigned long long)((vmread(VMCS_GUEST_SS_AR) >> 5) & 3));
	vcpu_dump_gprs(r);
	pr_err("  cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx\n",
	       (unsigned long long)vmread(VMCS_CR0_SHADOW), (unsigned long long)vmread(VMCS_GUEST_CR3),
	       (unsigned long long)vmread(VMCS_CR4_SHADOW), (unsigned long long)vmread(VMCS_GUEST_EFER));
}
