/*
 * Device interrupt dispatch (see irq.h). Vectors are handed out once at
 * boot and never move, so the table is read without a lock in the
 * handler path; irq_alloc_vector takes the lock to hand one out.
 */
#include "arch/x86/irq.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/spinlock.h"

struct irq_slot {
	irq_handler_t fn;
	void *ctx;
	uint64_t count;
};

static struct irq_slot irq_slots[256];
static spinlock_t irq_lock = SPINLOCK_INIT;
static bool idle_with_irqs;
static uint64_t irq_unhandled;

int irq_alloc_vector(irq_handler_t fn, void *ctx)
{
	int vec = -ENOSPC;

	spin_lock(&irq_lock);
	for (unsigned v = IRQ_VEC_FIRST; v <= IRQ_VEC_LAST; v++) {
		if (!irq_slots[v].fn) {
			irq_slots[v].ctx = ctx;
			__atomic_store_n(&irq_slots[v].fn, fn, __ATOMIC_RELEASE);
			vec = (int)v;
			break;
		}
	}
	spin_unlock(&irq_lock);
	return vec;
}

void irq_free_vector(unsigned vector)
{
	if (vector < IRQ_VEC_FIRST || vector > IRQ_VEC_LAST)
		return;
	spin_lock(&irq_lock);
	__atomic_store_n(&irq_slots[vector].fn, NULL, __ATOMIC_RELEASE);
	spin_unlock(&irq_lock);
}

uint64_t irq_count(unsigned vector)
{
	return vector < 256 ? __atomic_load_n(&irq_slots[vector].count, __ATOMIC_RELAXED) : 0;
}

void irq_dispatch(struct trap_frame *f)
{
	unsigned vec = (unsigned)f->vector & 0xff;
	struct irq_slot *s = &irq_slots[vec];
	irq_handler_t fn = __atomic_load_n(&s->fn, __ATOMIC_ACQUIRE);

	__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
	if (fn)
		fn(vec, s->ctx);
	else
		__atomic_fetch_add(&irq_unhandled, 1, __ATOMIC_RELAXED);
	lapic_eoi();
}

void irq_enable_idle(void)
{
	__atomic_store_n(&idle_with_irqs, true, __ATOMIC_RELEASE);
}

bool irq_is_idle_enabled(void)
{
	return __atomic_load_n(&idle_with_irqs, __ATOMIC_ACQUIRE);
}

__noreturn void irq_idle(void)
{
	/* sti's one-instruction shadow makes "sti; hlt" race-free (SDM Vol. 2B STI). */
	for (;;)
		asm volatile("sti; hlt; cli" ::: "memory");
}

void irq_poll_window(uint64_t us)
{
	asm volatile("sti" ::: "memory");
	udelay(us);
	irq_disable();
}
