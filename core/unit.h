/*
 * Subsystems and virtual devices declare themselves with DEFINE_UNIT:
 * the descriptors land in a linker section and are walked in order when
 * a VM is created, and in reverse when it is destroyed or a later unit
 * fails. Adding a device does not mean editing a central list.
 *
 * Buses declare themselves with DEFINE_BUS_UNIT instead: they come before
 * every DEFINE_UNIT, so that a device's vm_create can plug itself into
 * its bus (vdev/vpci.h), whatever the link order of their files. Within
 * each kind the order is the link order.
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

/* The linker sorts the sections by name: ".units.1" before ".units.5". */
#define DEFINE_UNIT_IN(sect, id, ...)                                         \
	static const struct unit unit_##id __used __section(sect)             \
		__aligned(8) = { .name = #id, __VA_ARGS__ }
#define DEFINE_BUS_UNIT(id, ...) DEFINE_UNIT_IN(".units.1", id, __VA_ARGS__)
#define DEFINE_UNIT(id, ...) DEFINE_UNIT_IN(".units.5", id, __VA_ARGS__)

extern const struct unit __units_start[], __units_end[];

#endif
