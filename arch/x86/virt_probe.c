/*
 * VT-x capability probe (SDM Vol. 3C 24.6, 25.6, 32.1 and Appendix A).
 * Allowed-1 settings are the high 32 bits of each control MSR; the TRUE
 * MSRs exist when IA32_VMX_BASIC bit 55 is set. AMD-V is noticed too,
 * so that a user on an AMD box is told what they have.
 */
#include "arch/x86/virt_probe.h"
#include "arch/x86/cpu.h"
#include "core/pcpu.h"
#include "core/printk.h"
#include "core/string.h"

#define FC_LOCKED (1ull << 0)
#define FC_VMX_OUTSIDE_SMX (1ull << 2)

static bool allowed1(uint32_t msr, unsigned bit)
{
	return (rdmsr(msr) >> 32) & (1ull << bit);
}

/* IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7): lock it with VMX on if the
 * firmware left it open; if it is locked with VMX off we cannot use VT-x. */
static bool vmx_feature_control_ok(struct virt_caps *v)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FC_LOCKED)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMX_OUTSIDE_SMX);
		return true;
	}
	v->vmx_locked_off = !(fc & FC_VMX_OUTSIDE_SMX);
	return !v->vmx_locked_off;
}

static void vmx_probe_secondary(struct virt_caps *v)
{
	uint64_t ept = 0;

	v->ept = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 1);
	v->vpid = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 5);
	v->unrestricted = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 7);
	v->apic_virt = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 0) &&
		       allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 8);
	v->x2apic_virt = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 4);
	v->virt_intr_delivery = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 9);
	if (v->ept || v->vpid)
		ept = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	/* EPT is usable for us with a 4-level walk and write-back tables. */
	v->ept_wb = ept & (1ull << 14);
	v->ept = v->ept && (ept & (1ull << 6)) && v->ept_wb;
	v->ept_2m = ept & (1ull << 16);
	v->ept_1g = ept & (1ull << 17);
	v->invept = ept & (1ull << 20);
}

static void vmx_probe(struct virt_caps *v)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = basic & (1ull << 55);
	uint32_t pin = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	uint32_t proc = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;

	v->vmcs_revision = (uint32_t)basic & 0x7fffffff;
	v->preempt_timer = allowed1(pin, 6);
	v->posted_intr = allowed1(pin, 7);
	if (allowed1(proc, 31))
		vmx_probe_secondary(v);
}

static void svm_probe(struct virt_caps *v)
{
	struct cpuid_regs r;

	cpuid_count(0x80000000, 0, &r);
	if (r.eax < 0x8000000a)
		return;
	cpuid_count(0x80000001, 0, &r);
	v->svm = r.ecx & (1u << 2);
	if (!v->svm)
		return;
	cpuid_count(0x8000000a, 0, &r);
	v->npt = r.edx & 1;
}

void virt_probe_this_cpu(void)
{
	struct virt_caps *v = &this_cpu()->arch.caps;
	struct cpuid_regs r;

	memset(v, 0, sizeof(*v));
	cpuid_count(1, 0, &r);
	if (r.ecx & (1u << 5)) {
		v->vmx = vmx_feature_control_ok(v);
		if (v->vmx)
			vmx_probe(v);
	}
	svm_probe(v);
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

static void virt_report_vmx(const struct virt_caps *v)
{
	pr_info("vmx: VT-x usable, VMCS revision %#x\n", v->vmcs_revision);
	pr_info("vmx: ept=%s (2M=%s 1G=%s invept=%s) vpid=%s unrestricted=%s\n",
		yn(v->ept), yn(v->ept_2m), yn(v->ept_1g), yn(v->invept), yn(v->vpid),
		yn(v->unrestricted));
	pr_info("vmx: preemption-timer=%s apic-virt=%s x2apic-virt=%s "
		"virt-intr-delivery=%s posted-intr=%s\n",
		yn(v->preempt_timer), yn(v->apic_virt), yn(v->x2apic_virt),
		yn(v->virt_intr_delivery), yn(v->posted_intr));
}

void virt_probe_report(void)
{
	const struct virt_caps *v = &pcpus[0].arch.caps;

	if (v->vmx)
		virt_report_vmx(v);
	else if (v->vmx_locked_off)
		pr_warn("vmx: VT-x is disabled by the firmware (IA32_FEATURE_CONTROL is "
			"locked with VMX off); enable it in the firmware setup. Guests cannot start.\n");
	else if (v->svm)
		pr_info("svm: AMD-V usable%s\n", v->npt ? ", with nested paging" :
			" but without nested paging, which guests need");
	else
		pr_warn("vmx: this CPU has no hardware virtualization (no VT-x, no AMD-V). "
			"Guests cannot start.\n");
	for (unsigned i = 1; i < ncpus_online; i++) {
		if (memcmp(&pcpus[i].arch.caps, v, sizeof(*v)))
			pr_warn("vmx: cpu%u reports different virtualization features from cpu0; "
				"only what all share will be used\n", i);
	}
}

bool virt_has_vmx(void)
{
	for (unsigned i = 0; i < ncpus_online; i++)
		if (!pcpus[i].arch.caps.vmx)
			return false;
	return ncpus_online > 0;
}

bool virt_has_svm(void)
{
	for (unsigned i = 0; i < ncpus_online; i++)
		if (!pcpus[i].arch.caps.svm)
			return false;
	return ncpus_online > 0;
}

bool virt_has_npt(void)
{
	if (!virt_has_svm())
		return false;
	for (unsigned i = 0; i < ncpus_online; i++)
		if (!pcpus[i].arch.caps.npt)
			return false;
	return true;
}

bool virt_has_ept(void)
{
	if (!virt_has_vmx())
		return false;
	for (unsigned i = 0; i < ncpus_online; i++)
		if (!pcpus[i].arch.caps.ept)
			return false;
	return true;
}
