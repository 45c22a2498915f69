/* Sorted region registries with binary-search lookup (see core/io.h). */
#include "core/io.h"
#include "core/errno.h"
#include "core/string.h"
#include "mm/kmem.h"

int io_bus_init(struct io_bus *bus, unsigned max)
{
	memset(bus, 0, sizeof(*bus));
	bus->regions = kzalloc(max * sizeof(*bus->regions));
	if (!bus->regions)
		return -ENOMEM;
	bus->max = max;
	return 0;
}

void io_bus_destroy(struct io_bus *bus)
{
	kfree(bus->regions);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first region whose start is above @addr. */
static unsigned io_upper_bound(const struct io_bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (bus->regions[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int io_register(struct io_bus *bus, uint64_t start, uint64_t size,
		io_handler_t handler, void *opaque)
{
	unsigned i;

	if (!size || range_overflows(start, size) || !handler)
		return -EINVAL;
	if (bus->n == bus->max)
		return -ENOSPC;
	i = io_upper_bound(bus, start);
	if (i > 0 && ranges_overlap(bus->regions[i - 1].start, bus->regions[i - 1].size, start, size))
		return -EEXIST;
	if (i < bus->n && ranges_overlap(bus->regions[i].start, bus->regions[i].size, start, size))
		return -EEXIST;
	memmove(&bus->regions[i + 1], &bus->regions[i], (bus->n - i) * sizeof(*bus->regions));
	bus->regions[i] = (struct io_region){ start, size, handler, opaque };
	bus->n++;
	return 0;
}

const struct io_region *io_lookup(const struct io_bus *bus, uint64_t addr, unsigned size)
{
	unsigned i = io_upper_bound(bus, addr);
	const struct io_region *r;

	if (!i)
		return NULL;
	r = &bus->regions[i - 1];
	if (addr - r->start >= r->size || size > r->size - (addr - r->start))
		return NULL;
	return r;
}

enum io_result io_dispatch_pio(struct io_bus *bus, struct vcpu *vcpu, struct io_access *a)
{
	const struct io_region *r = io_lookup(bus, a->addr, a->size);

	if (r)
		return r->handler(vcpu, a->addr - r->start, a, r->opaque);
	if (a->write) {
		bus->unclaimed_writes++;
	} else {
		bus->unclaimed_reads++;
		a->value = a->size >= 8 ? ~0ull : (1ull << (a->size * 8)) - 1;
	}
	return IO_HANDLED;
}
