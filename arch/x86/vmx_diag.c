/*
 * When VM entry fails, the CPU says only "invalid guest state" or gives
 * a VM-instruction error number. We re-check the guest-state rules most
 * likely to be broken (SDM Vol. 3C 27.3.1) and name the first failing
 * field, so that a person sees what and where instead of a hang.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/vmx_internal.h"
#include "core/printk.h"

#define AR_UNUSABLE (1u << 16)
#define AR_L (1u << 13)
#define AR_D (1u << 14)
#define EFER_LMA (1ull << 10)

static const char *const instr_errors[] = {
	[1] = "VMCALL in VMX root operation", [2] = "VMCLEAR with invalid address",
	[4] = "VMLAUNCH with non-clear VMCS", [5] = "VMRESUME with non-launched VMCS",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid address", [11] = "VMPTRLD with wrong revision",
	[12] = "VMREAD/VMWRITE of unsupported field",
	[26] = "VM entry with events blocked by MOV SS",
};

const char *vmx_instr_error_name(unsigned err);

const char *vmx_instr_error_name(unsigned err)
{
	return err < ARRAY_SIZE(instr_errors) && instr_errors[err] ? instr_errors[err]
								  : "see SDM Vol. 3C 31.4";
}

static bool is_canonical(uint64_t a)
{
	return (uint64_t)(((int64_t)a << 16) >> 16) == a;
}

static const char *diag_control_regs(void)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t cr0_must = vmx_fixed.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);

	if ((cr0 & cr0_must) != cr0_must || (cr0 & ~vmx_fixed.cr0_fixed1))
		return "GUEST_CR0 breaks the VMX fixed bits (IA32_VMX_CR0_FIXED0/1)";
	if ((cr4 & vmx_fixed.cr4_fixed0) != vmx_fixed.cr4_fixed0 || (cr4 & ~vmx_fixed.cr4_fixed1))
		return "GUEST_CR4 breaks the VMX fixed bits (IA32_VMX_CR4_FIXED0/1)";
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return "GUEST_CR0 has PG without PE";
	return NULL;
}

static const char *diag_long_mode(void)
{
	bool ia32e = vmread(VMCS_ENTRY_CTLS) & ENTRY_IA32E_GUEST;
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);

	if (ia32e != !!(efer & EFER_LMA))
		return "GUEST_EFER.LMA differs from the IA-32e mode guest entry control";
	if (ia32e && (!(vmread(VMCS_GUEST_CR0) & X86_CR0_PG) || !(vmread(VMCS_GUEST_CR4) & X86_CR4_PAE)))
		return "IA-32e mode guest without CR0.PG and CR4.PAE";
	if (ia32e && (cs_ar & AR_L) && (cs_ar & AR_D))
		return "GUEST_CS_AR has both L and D set";
	if (!ia32e && (cs_ar & AR_L))
		return "GUEST_CS_AR has L set outside IA-32e mode";
	return NULL;
}

static const char *diag_segments(void)
{
	uint32_t tr = (uint32_t)vmread(VMCS_GUEST_TR_AR), ldtr = (uint32_t)vmread(VMCS_GUEST_LDTR_AR);

	if ((tr & AR_UNUSABLE) || ((tr & 0xf) != 11 && (tr & 0xf) != 3) || !(tr & 0x80))
		return "GUEST_TR_AR is not a present, busy TSS";
	if (!(ldtr & AR_UNUSABLE) && (ldtr & 0xf) != 2)
		return "GUEST_LDTR_AR is usable but not an LDT";
	if (vmread(VMCS_GUEST_GDTR_LIMIT) > 0xffff || vmread(VMCS_GUEST_IDTR_LIMIT) > 0xffff)
		return "GUEST_GDTR/IDTR limit above 0xffff";
	if (!is_canonical(vmread(VMCS_GUEST_GDTR_BASE)) || !is_canonical(vmread(VMCS_GUEST_IDTR_BASE)))
		return "GUEST_GDTR/IDTR base is not canonical";
	return NULL;
}

static const char *diag_misc(void)
{
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);

	if (!(rflags & 2) || (rflags & 0xffffffffffc08028ull))
		return "GUEST_RFLAGS: bit 1 clear or a reserved bit set";
	if (!is_canonical(vmread(VMCS_GUEST_RIP)))
		return "GUEST_RIP is not canonical";
	if (vmread(VMCS_GUEST_ACTIVITY_STATE) > 3)
		return "GUEST_ACTIVITY_STATE is not a valid state";
	if (vmread(VMCS_LINK_POINTER) != ~0ull)
		return "VMCS_LINK_POINTER is not all ones";
	return NULL;
}

/* The first rule the guest state breaks, or NULL if none we check. */
const char *vmx_diagnose_guest_state(void);

const char *vmx_diagnose_guest_state(void)
{
	const char *why = diag_control_regs();

	why = why ?: diag_long_mode();
	why = why ?: diag_segments();
	return why ?: diag_misc();
}
