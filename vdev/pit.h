/*
 * The VM's 8254 interval timer (vdev/pit.c). Its counters run from the
 * TSC whether or not anyone looks; only channel 0's interrupt needs the
 * hypervisor to act, and it does so when asked through pit_tick().
 */
#ifndef VDEV_PIT_H
#define VDEV_PIT_H

#include "core/types.h"

struct vm;

/*
 * Raise channel 0's interrupt (IRQ 0 = IOAPIC GSI 2, an edge) if one of
 * its periods ended since the last one raised. Call it on VM exits and
 * host timer ticks of any of @vm's vCPUs: until the next period ends it
 * costs a TSC read and a compare. Call it from the exit path, not from
 * an interrupt handler (it takes the PIT and IOAPIC locks; it skips this
 * round if another CPU holds the PIT's). It raises at most one interrupt
 * per call: periods that all ended since the previous call are merged
 * into that one, so a periodic guest tick keeps its rate only if this
 * runs at least once per period (Linux: 1/HZ, 4 ms for HZ=250).
 */
void pit_tick(struct vm *vm);

/*
 * The TSC value at which channel 0's next interrupt falls due (already
 * past if one is waiting), or UINT64_MAX when it is not counting: for
 * arming a host timer or the VMX preemption timer before entry.
 */
uint64_t pit_next_event_tsc(struct vm *vm);

#endif
