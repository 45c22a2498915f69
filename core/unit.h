/*
 * Subsystems and virtual devices declare themselves with DEFINE_UNIT:
 * the descriptors land in a linker section and are walked in order when
 * a VM is created, and in reverse when it is destroyed or a later unit
 * fails. Adding a device does not mean editing a central list.
 */
#ifndef CORE_UNIT_H
#define CORE_UNIT_H

#include "core/types.h"

struct vm;

struct unit {
	const char *name;
	int (*vm_create)(struct vm *vm);    /* register ports, MMIO, state */
	void (*vm_reset)(struct vm *vm);    /* back to power-on state */
	void (*vm_destroy)(struct vm *vm);
};

#define DEFINE_UNIT(id, ...)                                                  \
	static const struct unit unit_##id __used __section(".units")         \
		__aligned(8) = { .name = #id, __VA_ARGS__ }

extern const struct unit __units_start[], __units_end[];

#endif
