/*
 * The paravirtual clock (see pvclock.h). Every vCPU of a VM gets the
 * same time information: one reference TSC taken when the VM is created
 * and system time 0 there, so the guest's clock is the same on every
 * vCPU to the nanosecond and never needs updating while the TSC keeps
 * one constant rate. The structures are written when the guest names
 * their address, as its wrmsr returns.
 */
#include "core/assert.h"
#include "core/printk.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/pvclock.h"
#include "vdev/rtc.h"
#include "vdev/vclock.h"

#define NS_PER_S 1000000000ull
#define SYSTEM_TIME_ENABLE 1ull

struct pvclock {
	uint64_t ref_tsc;                   /* system time 0 */
	uint32_t mul;
	int8_t shift;
	uint64_t wall_msr;
	uint64_t time_msr[VM_MAX_VCPUS];
};

static struct pvclock pvclocks[CONFIG_MAX_VMS];

/*
 * ns = (ticks scaled by 2^shift) * mul / 2^32. The shift is the one that
 * brings hz * 2^shift into (1e9, 2e9], so mul = 1e9 * 2^32 / that is
 * below 2^32 and keeps 31 or 32 significant bits.
 */
void pvclock_scale_of(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	unsigned __int128 f = hz;
	int s = 0;

	ASSERT(hz);
	while (f > 2 * NS_PER_S) {
		f >>= 1;
		s--;
	}
	while (f <= NS_PER_S) {
		f <<= 1;
		s++;
	}
	*mul = (uint32_t)(((unsigned __int128)NS_PER_S << 32) / f);
	*shift = (int8_t)s;
}

uint64_t pvclock_scale(uint64_t ticks, uint32_t mul, int8_t shift)
{
	ticks = shift < 0 ? ticks >> -shift : ticks << shift;
	return (uint64_t)(((unsigned __int128)ticks * mul) >> 32);
}

/* Odd version while writing, even after (the guest retries on odd or a change). */
static void version_begin(volatile uint32_t *version)
{
	*version |= 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void version_end(volatile uint32_t *version)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*version = *version + 1;
}

static bool write_time_info(struct vcpu *vcpu, struct pvclock *pc, uint64_t gpa)
{
	struct pvclock_time_info *ti = vm_gpa_to_hva(vcpu->vm, gpa, sizeof(*ti));

	if (!ti) {
		pr_warn("vm %s: vcpu%u: pvclock time info at 0x%llx is not in its RAM\n",
			vcpu->vm->name, vcpu->idx, (unsigned long long)gpa);
		return false;
	}
	version_begin(&ti->version);
	ti->tsc_timestamp = pc->ref_tsc;
	ti->system_time = 0;
	ti->tsc_to_system_mul = pc->mul;
	ti->tsc_shift = pc->shift;
	ti->flags = PVCLOCK_TSC_STABLE_BIT;
	version_end(&ti->version);
	return true;
}

/* Wall time at system time 0: the VM's RTC now, less the time since then. */
static bool write_wall_clock(struct vcpu *vcpu, struct pvclock *pc, uint64_t gpa)
{
	struct pvclock_wall_clock *wc = vm_gpa_to_hva(vcpu->vm, gpa, sizeof(*wc));
	uint64_t now = vclock_tsc();
	uint64_t since = pvclock_scale(now - pc->ref_tsc, pc->mul, pc->shift);
	uint64_t unix_ns = rtc_unix_ns(vcpu->vm, now);
	uint64_t at0 = unix_ns > since ? unix_ns - since : 0;

	if (!wc) {
		pr_warn("vm %s: vcpu%u: pvclock wall clock at 0x%llx is not in its RAM\n",
			vcpu->vm->name, vcpu->idx, (unsigned long long)gpa);
		return false;
	}
	version_begin(&wc->version);
	wc->sec = (uint32_t)(at0 / NS_PER_S);
	wc->nsec = (uint32_t)(at0 % NS_PER_S);
	version_end(&wc->version);
	return true;
}

bool pvclock_wall_clock_read(struct vcpu *vcpu, uint64_t *val)
{
	*val = pvclocks[vcpu->vm->id].wall_msr;
	return true;
}

/* A guest-physical address outside RAM is refused (#GP) with a message. */
bool pvclock_wall_clock_write(struct vcpu *vcpu, uint64_t val)
{
	struct pvclock *pc = &pvclocks[vcpu->vm->id];

	if (!write_wall_clock(vcpu, pc, val))
		return false;
	pc->wall_msr = val;
	return true;
}

bool pvclock_system_time_read(struct vcpu *vcpu, uint64_t *val)
{
	*val = pvclocks[vcpu->vm->id].time_msr[vcpu->idx];
	return true;
}

/* Bit 0 enables; the rest is the structure's guest-physical address. */
bool pvclock_system_time_write(struct vcpu *vcpu, uint64_t val)
{
	struct pvclock *pc = &pvclocks[vcpu->vm->id];

	if ((val & SYSTEM_TIME_ENABLE) && !write_time_info(vcpu, pc, val & ~SYSTEM_TIME_ENABLE))
		return false;
	pc->time_msr[vcpu->idx] = val;
	return true;
}

static int pvclock_vm_create(struct vm *vm)
{
	struct pvclock *pc = &pvclocks[vm->id];

	*pc = (struct pvclock){ .ref_tsc = vclock_tsc() };
	pvclock_scale_of(tsc_khz_get() * 1000, &pc->mul, &pc->shift);
	return 0;
}

/* A reset leaves the clock running; the guest names its structures again. */
static void pvclock_vm_reset(struct vm *vm)
{
	struct pvclock *pc = &pvclocks[vm->id];

	pc->wall_msr = 0;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		pc->time_msr[i] = 0;
}

DEFINE_UNIT(pvclock, .vm_create = pvclock_vm_create, .vm_reset = pvclock_vm_reset);
