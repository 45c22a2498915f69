/*
 * Port and MMIO dispatch. The CPU back-end turns an exit into a neutral
 * request; whatever registered the range handles it. One registry shape
 * for both: (start, size, handler, opaque), sized when the VM is created,
 * kept sorted, looked up by binary search.
 */
#ifndef CORE_IO_H
#define CORE_IO_H

#include "core/types.h"

struct vcpu;

enum io_result { IO_HANDLED, IO_UNHANDLED, IO_ERROR };

struct io_access {
	uint64_t addr;   /* port or guest-physical address */
	uint8_t size;    /* 1, 2, 4 or 8 */
	bool write;
	uint64_t value;  /* written value, or where a read puts its result */
};

/* @offset is addr - start of the region. */
typedef enum io_result (*io_handler_t)(struct vcpu *vcpu, uint64_t offset,
				       struct io_access *a, void *opaque);

struct io_region {
	uint64_t start, size;
	io_handler_t handler;
	void *opaque;
};

struct io_bus {
	struct io_region *regions;
	unsigned n, max;
	uint64_t unclaimed_reads, unclaimed_writes;
};

int io_bus_init(struct io_bus *bus, unsigned max);
void io_bus_destroy(struct io_bus *bus);
/* -EEXIST on overlap, -ENOSPC when full, -EINVAL for an empty range. */
int io_register(struct io_bus *bus, uint64_t start, uint64_t size,
		io_handler_t handler, void *opaque);
/* Find the region holding a->addr (the whole access must fit in it). */
const struct io_region *io_lookup(const struct io_bus *bus, uint64_t addr, unsigned size);
/* Dispatch; an unclaimed port reads all-ones and drops writes. */
enum io_result io_dispatch_pio(struct io_bus *bus, struct vcpu *vcpu, struct io_access *a);

#endif
