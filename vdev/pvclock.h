/*
 * A paravirtual clock with the interface KVM defined (Linux,
 * Documentation/virt/kvm/x86/cpuid.rst and msr.rst), offered at CPUID
 * 0x40000100 beside the hypervisor's own leaves at 0x40000000. A guest
 * that knows it reads the TSC's frequency and a wall clock from memory
 * instead of calibrating against the PIT, which costs one VM exit per
 * poll and fails where exits are slow (SVM under QEMU's TCG).
 *
 * Only the clock is offered: the features leaf sets CLOCKSOURCE2 (the
 * MSRs below) and CLOCKSOURCE_STABLE (one TSC, constant rate, shared by
 * every vCPU), nothing else.
 */
#ifndef VDEV_PVCLOCK_H
#define VDEV_PVCLOCK_H

#include "core/types.h"

struct vcpu;

#define PVCLOCK_CPUID_BASE 0x40000100u
#define PVCLOCK_CPUID_SIGNATURE "KVMKVMKVM\0\0\0"
#define PVCLOCK_FEATURE_CLOCKSOURCE2 (1u << 3)
#define PVCLOCK_FEATURE_STABLE (1u << 24)

#define PVCLOCK_MSR_WALL_CLOCK 0x4b564d00u
#define PVCLOCK_MSR_SYSTEM_TIME 0x4b564d01u

/* Per vCPU time information: the guest's time in ns is
 * system_time + scale(tsc - tsc_timestamp), scale(d) being
 * ((d << tsc_shift, or >> -tsc_shift) * tsc_to_system_mul) >> 32. */
struct pvclock_time_info {
	uint32_t version;        /* odd while the hypervisor updates it */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __packed;

#define PVCLOCK_TSC_STABLE_BIT (1u << 0)

/* Wall time at system_time 0. */
struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __packed;

/* The multiplier and shift that turn @hz ticks into ns (for the unit test too). */
void pvclock_scale_of(uint64_t hz, uint32_t *mul, int8_t *shift);
uint64_t pvclock_scale(uint64_t ticks, uint32_t mul, int8_t shift);

/* The two MSRs; a write returns false when refused (the caller injects #GP). */
bool pvclock_wall_clock_read(struct vcpu *vcpu, uint64_t *val);
bool pvclock_wall_clock_write(struct vcpu *vcpu, uint64_t val);
bool pvclock_system_time_read(struct vcpu *vcpu, uint64_t *val);
bool pvclock_system_time_write(struct vcpu *vcpu, uint64_t val);

#endif
