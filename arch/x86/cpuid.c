/*
 * Guest CPUID: the host's answers, filtered. Virtualization extensions
 * and features we do not virtualize are hidden, the hypervisor bit and
 * leaves 0x40000000.. are added, and topology describes the VM's vCPUs
 * (one core each, one package).
 */
#include "arch/x86/cpuid.h"
#include "arch/x86/virt.h"
#include "core/guest_abi.h"
#include "core/string.h"
#include "vdev/pvclock.h"

/* CPUID.1:ECX bits hidden: MONITOR(3), DS-CPL(4), VMX(5), SMX(6), EST(7),
 * TM2(8), xTPR(14), PDCM(15). x2APIC(21) and TSC-deadline(24) are always
 * shown: the vLAPIC is x2APIC-only and has the TSC-deadline timer. */
#define LEAF1_ECX_HIDE ((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | \
			(1u << 8) | (1u << 14) | (1u << 15))
#define LEAF1_ECX_X2APIC ((1u << 21) | (1u << 24))
#define LEAF6_EAX_ARAT (1u << 2)   /* the APIC timer runs in every C-state */
#define CPUID_MAX_BASIC 0x16u
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_ECX_OSXSAVE (1u << 27)
/* CPUID.1:EDX: DS(21), ACPI(22), TM(29), PBE(31). */
#define LEAF1_EDX_HIDE ((1u << 21) | (1u << 22) | (1u << 29) | (1u << 31))
#define LEAF1_EDX_APIC (1u << 9)
/* CPUID.7.0:EBX: SGX(2), PQM(12), PQE(15), Intel PT(25); ECX: WAITPKG(5),
 * LA57(16): the MMIO emulator walks 4-level guest paging only. */
#define LEAF7_EBX_HIDE ((1u << 2) | (1u << 12) | (1u << 15) | (1u << 25))
#define LEAF7_ECX_HIDE ((1u << 5) | (1u << 16))
#define CR4_OSXSAVE (1ull << 18)

static unsigned order_of(unsigned n)
{
	unsigned o = 0;

	while ((1u << o) < n)
		o++;
	return o;
}

static void cpuid_leaf1(struct vcpu *vcpu, struct cpuid_regs *r)
{
	r->ecx = (r->ecx & ~LEAF1_ECX_HIDE & ~LEAF1_ECX_OSXSAVE) | LEAF1_ECX_HYPERVISOR |
		 LEAF1_ECX_X2APIC;
	/* OSXSAVE mirrors the guest's CR4, not ours (SDM Vol. 2A CPUID). */
	if (virt->get_reg(vcpu, VREG_CR4) & CR4_OSXSAVE)
		r->ecx |= LEAF1_ECX_OSXSAVE;
	r->edx = (r->edx & ~LEAF1_EDX_HIDE) | LEAF1_EDX_APIC;
	r->ebx = (r->ebx & 0xffff) | (vcpu->vm->nvcpus & 0xff) << 16 | (vcpu->idx & 0xff) << 24;
}

/* Leaf 0xB: two levels, one thread per core, all vCPUs in one package. */
static void cpuid_topology(struct vcpu *vcpu, uint32_t sub, struct cpuid_regs *r)
{
	unsigned n = vcpu->vm->nvcpus;

	memset(r, 0, sizeof(*r));
	if (sub == 0)
		*r = (struct cpuid_regs){ 0, 1, 0x100, 0 };
	else if (sub == 1)
		*r = (struct cpuid_regs){ order_of(n), n, 0x201, 0 };
	else
		r->ecx = sub;
	r->edx = vcpu->idx;
}

static void cpuid_signature(struct cpuid_regs *r, uint32_t max, const char sig[12])
{
	r->eax = max;
	memcpy(&r->ebx, sig, 4);
	memcpy(&r->ecx, sig + 4, 4);
	memcpy(&r->edx, sig + 8, 4);
}

/*
 * 0x40000000: ours (signature, then ABI version and VM id). 0x40000100:
 * the paravirtual clock under KVM's signature (vdev/pvclock.h); Linux
 * looks for it in every 0x100 block.
 */
static void cpuid_hv_leaves(struct vcpu *vcpu, uint32_t leaf, struct cpuid_regs *r)
{
	memset(r, 0, sizeof(*r));
	if (leaf == CPUID_HV_BASE) {
		cpuid_signature(r, CPUID_HV_BASE + 1, CPUID_HV_SIGNATURE);
	} else if (leaf == CPUID_HV_BASE + 1) {
		r->eax = HV_ABI_VERSION;
		r->ebx = vcpu->vm->id;
	} else if (leaf == PVCLOCK_CPUID_BASE) {
		cpuid_signature(r, PVCLOCK_CPUID_BASE + 1, PVCLOCK_CPUID_SIGNATURE);
	} else if (leaf == PVCLOCK_CPUID_BASE + 1) {
		r->eax = PVCLOCK_FEATURE_CLOCKSOURCE2 | PVCLOCK_FEATURE_STABLE;
	}
}

/*
 * Leaves 0x15 and 0x16 state the TSC's real frequency (the one the
 * hypervisor measured), with a "crystal" equal to it: guests then need no
 * PIT to calibrate the TSC or the APIC timer, which counts at that rate.
 */
static void cpuid_tsc_leaves(uint32_t leaf, struct cpuid_regs *r)
{
	uint64_t khz = tsc_khz_get();

	memset(r, 0, sizeof(*r));
	if (leaf == 0x15)
		*r = (struct cpuid_regs){ 1, 1, (uint32_t)(khz * 1000), 0 };
	else
		*r = (struct cpuid_regs){ (uint32_t)(khz / 1000), (uint32_t)(khz / 1000), 100, 0 };
}

void cpuid_guest(struct vcpu *vcpu, uint32_t leaf, uint32_t sub, struct cpuid_regs *r)
{
	if (leaf == 0x15 || leaf == 0x16) {
		cpuid_tsc_leaves(leaf, r);
		return;
	}
	if ((leaf & 0xf0000000u) == CPUID_HV_BASE) {
		cpuid_hv_leaves(vcpu, leaf, r);
		return;
	}
	cpuid_count(leaf, sub, r);
	switch (leaf) {
	case 0:
		r->eax = MAX(r->eax, CPUID_MAX_BASIC);
		break;
	case 1:
		cpuid_leaf1(vcpu, r);
		break;
	case 4:   /* cores per package - 1 in EAX[31:26] */
		r->eax = (r->eax & 0x3ffffffu) | ((vcpu->vm->nvcpus - 1) & 0x3f) << 26;
		break;
	case 5: case 0xa:   /* MWAIT and PMU: not virtualized */
		memset(r, 0, sizeof(*r));
		break;
	case 6:             /* power management: only "APIC timer always runs" */
		*r = (struct cpuid_regs){ LEAF6_EAX_ARAT, 0, 0, 0 };
		break;
	case 7:
		if (sub == 0) {
			r->ebx &= ~LEAF7_EBX_HIDE;
			r->ecx &= ~LEAF7_ECX_HIDE;
		}
		break;
	case 0xb: case 0x1f:
		cpuid_topology(vcpu, sub, r);
		break;
	case 0x80000001:
		r->ecx &= ~(1u << 2);   /* SVM */
		break;
	case 0x8000000a:        /* SVM features: there is no SVM */
		memset(r, 0, sizeof(*r));
		break;
	}
}

bool cpuid_xcr0_valid(uint64_t xcr0)
{
	struct cpuid_regs r;
	uint64_t supported;

	cpuid_count(1, 0, &r);
	if (!(r.ecx & (1u << 26)))
		return false;
	cpuid_count(0xd, 0, &r);
	supported = ((uint64_t)r.edx << 32) | r.eax;
	/* x87 always; AVX needs SSE; the AVX-512 trio goes together with AVX. */
	if (!(xcr0 & 1) || (xcr0 & ~supported) || ((xcr0 & 4) && !(xcr0 & 2)))
		return false;
	if ((xcr0 & 0xe0) && ((xcr0 & 0xe0) != 0xe0 || !(xcr0 & 4)))
		return false;
	return true;
}
