/*
 * The clock that virtual timers (PIT, RTC) count from: the host TSC,
 * running at tsc_khz_get() kHz (arch/x86/tsc.c). Host unit tests build
 * the device models with HOST_TEST and supply vclock_tsc() and
 * tsc_khz_get() themselves, so that time moves only when a test says so.
 */
#ifndef VDEV_VCLOCK_H
#define VDEV_VCLOCK_H

#include "core/types.h"
#include "arch/x86/cpu.h"

#ifndef HOST_TEST
static inline uint64_t vclock_tsc(void)
{
	return rdtsc();
}
#else
uint64_t vclock_tsc(void);
#endif

/* @tsc_delta TSC cycles as whole periods of an @hz clock (0 before calibration). */
static inline uint64_t vclock_ticks(uint64_t tsc_delta, uint64_t hz)
{
	uint64_t khz = tsc_khz_get();

	if (!khz)
		return 0;
	return (uint64_t)((unsigned __int128)tsc_delta * hz / ((unsigned __int128)khz * 1000));
}

/* The TSC cycles that @ticks periods of an @hz clock take, rounded up. */
static inline uint64_t vclock_tsc_of(uint64_t ticks, uint64_t hz)
{
	unsigned __int128 c = (unsigned __int128)ticks * tsc_khz_get() * 1000;

	return (uint64_t)((c + hz - 1) / hz);
}

#endif
