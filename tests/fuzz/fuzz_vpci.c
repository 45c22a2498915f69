/*
 * libFuzzer target for the virtual PCI bus (vdev/vpci.c), compiled in so
 * that its state is reachable: a hostile guest's configuration and BAR
 * accesses, in any order, at any width, address and value.
 *
 * Input: a run of 16-byte operations { kind, size, pad[2], addr (4),
 * value (8) }. kind % 5 picks a port access at 0xCF8 + addr % 8, an ECAM
 * access at addr % 1 MiB, an access anywhere in the PCI hole, an MSI-X
 * notification of vector addr % 8, or a reset. Sizes are 1, 2, 4 (and 8
 * for MMIO); accesses that io_lookup() would not hand over (running past
 * the region) are skipped, as the exit path does.
 *
 * Promises checked after each operation: the IDs, class and header type
 * read back unchanged through both mechanisms; BARs stay aligned to
 * their size; the command register and MSI-X control hold only their
 * writable bits; every MSI sent has the address and data its table entry
 * held; nothing reads or writes outside the device (ASan).
 *
 *   make build/fuzz/vpci && build/fuzz/vpci -max_total_time=20
 */
#include <stdlib.h>

#include "vdev/vpci.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm;
static io_handler_t port_handler, hole_handler;
static void *port_opaque, *hole_opaque;
static struct vpci_dev dev;

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t handler,
		void *opaque)
{
	(void)start, (void)size;
	if (bus == &vm.pio) {
		port_handler = handler;
		port_opaque = opaque;
	} else {
		hole_handler = handler;
		hole_opaque = opaque;
	}
	return 0;
}

int vlapic_deliver_msi(struct vm *v, uint64_t addr, uint32_t data)
{
	bool found = false;

	if (v != &vm)
		abort();
	for (unsigned i = 0; i < dev.msix.nvec; i++)
		found |= ((uint64_t)dev.msix.table[i].addr_hi << 32 | dev.msix.table[i].addr_lo) ==
			 addr && dev.msix.table[i].data == data;
	if (!found)
		abort();
	return (addr >> 20) == 0xfee && (data & 0xff) >= 16 ? 0 : -EINVAL;
}

enum io_result acpi_pm_reset_io(struct vcpu *vcpu, struct io_access *a)
{
	(void)vcpu;
	if (!a->write)
		a->value = 0;
	return IO_HANDLED;
}

static enum io_result fuzz_bar_access(struct vpci_dev *d, unsigned bar, uint64_t off,
				      struct io_access *a)
{
	if (d != &dev || bar >= VPCI_BARS || off >= d->bar[bar].size ||
	    a->size > d->bar[bar].size - off)
		abort();
	if (!a->write)
		a->value = 0;
	return IO_HANDLED;
}

static void setup(void)
{
	static const uint8_t vndr[16] = { 0x09, 0, 16, 1 };

	vm = (struct vm){ .id = 0, .name = "fuzz", .ram_size = MIB(64) };
	if (vpci_vm_create(&vm))
		abort();
	dev = (struct vpci_dev){
		.name = "fuzz", .vendor_id = 0x1af4, .device_id = 0x1041, .class_code = 0x020000,
		.bar_access = fuzz_bar_access,
	};
	dev.bar[0] = (struct vpci_bar){ VPCI_BAR_MEM32, false, KIB(16) };
	dev.bar[2] = (struct vpci_bar){ VPCI_BAR_MEM64, true, MIB(1) };
	if (vpci_cap_add(&dev, vndr, sizeof(vndr)) < 0 ||
	    vpci_msix_init(&dev, 5, 0, 0x1000, 0x2000) < 0 || vpci_add_device(&vm, &dev) != 1)
		abort();
}

static uint64_t access(io_handler_t h, void *opaque, uint64_t off, unsigned size, bool write,
		       uint64_t v)
{
	struct io_access a = { .addr = off, .size = (uint8_t)size, .write = write, .value = v };

	if (h(NULL, off, &a, opaque) != IO_HANDLED)
		abort();
	if (!write && size < 8 && (a.value >> (size * 8)))
		abort();                        /* a read returns only its bytes */
	return a.value;
}

static uint32_t cf8_read(unsigned slot, unsigned reg)
{
	access(port_handler, port_opaque, 0, 4, true, 0x80000000u | slot << 11 | reg);
	return (uint32_t)access(port_handler, port_opaque, 4, 4, false, 0);
}

static void check(void)
{
	if (cf8_read(0, 0) != 0x00081b36 || cf8_read(1, 0) != 0x10411af4 ||
	    cf8_read(1, 8) != 0x02000000 || (cf8_read(1, 0x0c) >> 16) != 0 ||
	    access(hole_handler, hole_opaque, VPCI_ECAM_BASE + (1u << 15) - VPCI_HOLE_BASE, 4,
		   false, 0) != 0x10411af4)
		abort();
	if (dev.bar_addr[0] % KIB(16) || dev.bar_addr[2] % MIB(1) || (dev.command & ~0x406u) ||
	    (dev.msix.control & ~0xc000u))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };

	setup();
	for (; size >= 16; data += 16, size -= 16) {
		unsigned kind = data[0] % 5, sz = sizes[data[1] % 4];
		bool write = data[1] & 4;
		uint32_t addr;
		uint64_t v;

		memcpy(&addr, data + 4, 4);
		memcpy(&v, data + 8, 8);
		if (kind == 0 && sz <= 4 && addr % 8 + sz <= 8)
			access(port_handler, port_opaque, addr % 8, sz, write, v);
		else if (kind == 1)
			access(hole_handler, hole_opaque,
			       VPCI_ECAM_BASE - VPCI_HOLE_BASE + (addr % (VPCI_ECAM_SIZE - 8)), sz,
			       write, v);
		else if (kind == 2)
			access(hole_handler, hole_opaque, addr % (VPCI_HOLE_END - VPCI_HOLE_BASE - 8),
			       sz, write, v);
		else if (kind == 3)
			vpci_msix_notify(&dev, addr % 8);
		else if (kind == 4)
			vpci_reset(&vm);
		check();
	}
	return 0;
}
