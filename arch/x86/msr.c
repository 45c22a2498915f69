/*
 * The MSRs a guest may touch beyond those it owns outright (see the MSR
 * bitmap in the back-end): one table of {msr, read, write}. Anything not
 * listed, and any write a handler refuses, gets #GP like on hardware
 * that lacks the MSR.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/virt.h"
#include "vdev/pvclock.h"
#include "vdev/vlapic.h"

#define MSR_TSC 0x10
#define MSR_PAT 0x277
#define MSR_MISC_ENABLE 0x1a0
#define MSR_EFER 0xc0000080

struct msr_entry {
	uint32_t msr;
	bool (*read)(struct vcpu *vcpu, uint64_t *val);
	bool (*write)(struct vcpu *vcpu, uint64_t val);
};

static bool efer_read(struct vcpu *vcpu, uint64_t *val)
{
	*val = virt->get_reg(vcpu, VREG_EFER);
	return true;
}

static bool efer_write(struct vcpu *vcpu, uint64_t val)
{
	return virt->set_reg(vcpu, VREG_EFER, val);
}

static bool pat_read(struct vcpu *vcpu, uint64_t *val)
{
	*val = virt->get_reg(vcpu, VREG_PAT);
	return true;
}

/* Each PAT entry must name a memory type: 0, 1, 4, 5, 6 or 7 (SDM Vol. 3A 13.12.2). */
static bool pat_write(struct vcpu *vcpu, uint64_t val)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(val >> (i * 8));

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return virt->set_reg(vcpu, VREG_PAT, val);
}

/* Fast strings on, everything else off (SDM Vol. 4 Table 2-2). */
static bool misc_enable_read(struct vcpu *vcpu, uint64_t *val)
{
	(void)vcpu;
	*val = 1;
	return true;
}

/* Where the back-end does not let TSC reads through (QEMU's SVM). */
static bool tsc_read(struct vcpu *vcpu, uint64_t *val)
{
	(void)vcpu;
	*val = rdtsc();
	return true;
}

/*
 * MTRRs: the guest sees none to program (no variable or fixed ranges,
 * SDM 12.11.1) and a write-back default it may read and write; memory
 * types come from EPT/NPT and its PAT.
 */
static bool mtrr_cap_read(struct vcpu *vcpu, uint64_t *val)
{
	(void)vcpu;
	*val = 0;
	return true;
}

static bool mtrr_def_read(struct vcpu *vcpu, uint64_t *val)
{
	*val = vcpu->mtrr_def_type;
	return true;
}

static bool mtrr_def_write(struct vcpu *vcpu, uint64_t val)
{
	if (val & ~0xcffull)
		return false;
	vcpu->mtrr_def_type = val;
	return true;
}

static const struct msr_entry msr_table[] = {
	{ 0xfe, mtrr_cap_read, NULL },
	{ 0x2ff, mtrr_def_read, mtrr_def_write },
	{ MSR_TSC, tsc_read, NULL },
	{ MSR_EFER, efer_read, efer_write },
	{ MSR_PAT, pat_read, pat_write },
	{ MSR_MISC_ENABLE, misc_enable_read, NULL },
	{ PVCLOCK_MSR_WALL_CLOCK, pvclock_wall_clock_read, pvclock_wall_clock_write },
	{ PVCLOCK_MSR_SYSTEM_TIME, pvclock_system_time_read, pvclock_system_time_write },
};

/* The local APIC: its base MSR, IA32_TSC_DEADLINE and the x2APIC range (SDM Vol. 3A 11.12.1). */
static bool is_apic_msr(uint32_t msr)
{
	return msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff);
}

static const struct msr_entry *msr_find(uint32_t msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (msr_table[i].msr == msr)
			return &msr_table[i];
	return NULL;
}

bool msr_guest_read(struct vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	const struct msr_entry *e = msr_find(msr);

	if (is_apic_msr(msr))
		return vlapic_msr_read(vcpu, msr, val);
	return e && e->read && e->read(vcpu, val);
}

bool msr_guest_write(struct vcpu *vcpu, uint32_t msr, uint64_t val)
{
	const struct msr_entry *e = msr_find(msr);

	if (is_apic_msr(msr))
		return vlapic_msr_write(vcpu, msr, val);
	return e && e->write && e->write(vcpu, val);
}
