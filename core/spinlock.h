/*
 * A test-and-test-and-set spinlock. Not taken on the hot exits (CPUID,
 * VMCALL, the port fast path); device models take theirs when a guest
 * touches the device, and the console poll a trylock after a host timer.
 */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H

#include "core/types.h"

typedef struct {
	volatile uint32_t locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	}
}

static inline bool spin_trylock(spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
