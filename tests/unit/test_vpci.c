/*
 * The virtual PCI bus (vdev/vpci.c), compiled into this test so that its
 * per-VM state is reachable: configuration space through ports
 * 0xCF8-0xCFF and through ECAM at every width, the host bridge, BAR
 * sizing and moving with memory decoding, the capability list, MSI-X
 * masking and pending bits, device checks, reset, and a hostile guest
 * writing everywhere. io_register(), vlapic_deliver_msi() and
 * acpi_pm_reset_io() are replaced by recorders.
 */
#include "vdev/vpci.c"
#include "tests/unit/unit.h"

#define VM_ID 2
#define HOLE_SIZE (VPCI_HOLE_END - VPCI_HOLE_BASE)

static struct vm vm;

/* ---- Stand-ins --------------------------------------------------------- */

static struct {
	uint64_t start, size;
	io_handler_t handler;
	void *opaque;
} pio_reg, mmio_reg;

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t handler,
		void *opaque)
{
	if (bus == &vm.pio)
		pio_reg = (typeof(pio_reg)){ start, size, handler, opaque };
	else
		mmio_reg = (typeof(mmio_reg)){ start, size, handler, opaque };
	return 0;
}

/* MSIs that reached the "vLAPICs": the real check is vlapic.c's (test_vlapic). */
static struct {
	uint64_t addr;
	uint32_t data;
} msis[16];
static unsigned nmsis;

int vlapic_deliver_msi(struct vm *v, uint64_t addr, uint32_t data)
{
	CHECK(v == &vm);
	if ((addr >> 20) != 0xfee || (data & 0xff) < 16)
		return -EINVAL;
	if (nmsis < ARRAY_SIZE(msis))
		msis[nmsis] = (typeof(msis[0])){ addr, data };
	nmsis++;
	return 0;
}

static unsigned nresets;

enum io_result acpi_pm_reset_io(struct vcpu *vcpu, struct io_access *a)
{
	(void)vcpu;
	if (a->write)
		nresets++;
	else
		a->value = 0;
	return IO_HANDLED;
}

/* ---- A test device: BAR accesses recorded ------------------------------- */

static struct {
	unsigned n, bar;
	uint64_t off;
	struct io_access a;
} bar_log;

static enum io_result test_bar_access(struct vpci_dev *d, unsigned bar, uint64_t off,
				      struct io_access *a)
{
	(void)d;
	bar_log.n++;
	bar_log.bar = bar;
	bar_log.off = off;
	bar_log.a = *a;
	if (!a->write)
		a->value = 0x1122334455667788ull & size_mask(a->size);
	return IO_HANDLED;
}

static void setup_vm(uint64_t ram)
{
	vm = (struct vm){ .id = VM_ID, .name = "t", .ram_size = ram };
	memset(&pio_reg, 0, sizeof(pio_reg));
	memset(&mmio_reg, 0, sizeof(mmio_reg));
	nmsis = nresets = 0;
	memset(&bar_log, 0, sizeof(bar_log));
	CHECK_EQ(vpci_vm_create(&vm), 0);
}

static void setup(void)
{
	setup_vm(MIB(128));
}

/* A device with a 16K 32-bit BAR 0 and a 1M 64-bit prefetchable BAR 2. */
static void test_dev_init(struct vpci_dev *d)
{
	*d = (struct vpci_dev){
		.name = "test",
		.vendor_id = 0x1af4, .device_id = 0x1041, .class_code = 0x020000,
		.subsys_vendor_id = 0x1af4, .subsys_id = 0x0001, .revision = 1,
		.bar_access = test_bar_access,
	};
	d->bar[0] = (struct vpci_bar){ VPCI_BAR_MEM32, false, KIB(16) };
	d->bar[2] = (struct vpci_bar){ VPCI_BAR_MEM64, true, MIB(1) };
}

/* ---- Access helpers ------------------------------------------------------ */

static uint64_t pio(unsigned port, unsigned size, bool write, uint64_t v)
{
	struct io_access a = { .addr = port, .size = (uint8_t)size, .write = write, .value = v };

	CHECK_EQ(pio_reg.start, 0xcf8);
	CHECK(port >= 0xcf8 && port + size <= 0xd00);   /* io_lookup's promise */
	CHECK_EQ(pio_reg.handler(NULL, port - 0xcf8, &a, pio_reg.opaque), IO_HANDLED);
	return a.value;
}

static uint64_t mmio(uint64_t gpa, unsigned size, bool write, uint64_t v)
{
	struct io_access a = { .addr = gpa, .size = (uint8_t)size, .write = write, .value = v };

	CHECK(gpa >= mmio_reg.start && gpa + size <= mmio_reg.start + mmio_reg.size);
	CHECK_EQ(mmio_reg.handler(NULL, gpa - mmio_reg.start, &a, mmio_reg.opaque), IO_HANDLED);
	return a.value;
}

static uint32_t ca(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 1u << 31 | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* Mechanism #1: the dword's address, then @size bytes at 0xCFC + reg % 4. */
static uint32_t cf8_read(unsigned dev, unsigned reg, unsigned size)
{
	pio(0xcf8, 4, true, ca(0, dev, 0, reg));
	return (uint32_t)pio(0xcfc + (reg & 3), size, false, 0);
}

static void cf8_write(unsigned dev, unsigned reg, unsigned size, uint32_t v)
{
	pio(0xcf8, 4, true, ca(0, dev, 0, reg));
	pio(0xcfc + (reg & 3), size, true, v);
}

static uint64_t ecam(unsigned dev, unsigned reg)
{
	return VPCI_ECAM_BASE + ((uint64_t)dev << 15) + reg;
}

static uint32_t ecam_read(unsigned dev, unsigned reg, unsigned size)
{
	return (uint32_t)mmio(ecam(dev, reg), size, false, 0);
}

static void ecam_write(unsigned dev, unsigned reg, unsigned size, uint32_t v)
{
	mmio(ecam(dev, reg), size, true, v);
}

/* ---- Registration and the host bridge --------------------------------- */

TEST(registration)
{
	setup();
	CHECK_EQ(pio_reg.start, 0xcf8);
	CHECK_EQ(pio_reg.size, 8);
	CHECK_EQ(mmio_reg.start, 0xc0000000);
	CHECK_EQ(mmio_reg.size, 0xfec00000 - 0xc0000000);
	CHECK(mmio_reg.opaque == &buses[VM_ID]);
	CHECK(vpci_has_hole(&vm));
	CHECK_EQ(vpci_ecam_base(&vm), 0xe0000000);
}

TEST(config_address_latch)
{
	setup();
	CHECK_EQ(pio(0xcf8, 4, false, 0), 0);
	pio(0xcf8, 4, true, 0x80000000);
	CHECK_EQ(pio(0xcf8, 4, false, 0), 0x80000000);  /* Linux's type 1 probe */
	pio(0xcf8, 4, true, 0xffffffff);
	CHECK_EQ(pio(0xcf8, 4, false, 0), 0x80fffffc);  /* reserved 30:24 and 1:0 read 0 */
	/* Byte and word accesses in 0xCF8-0xCFB are not CONFIG_ADDRESS. */
	pio(0xcf8, 4, true, 0x80000000);
	pio(0xcfb, 1, true, 0x01);
	pio(0xcf8, 2, true, 0x1234);
	pio(0xcfa, 2, true, 0x1234);
	CHECK_EQ(pio(0xcf8, 4, false, 0), 0x80000000);
	CHECK_EQ(pio(0xcf8, 1, false, 0), 0xff);
	CHECK_EQ(pio(0xcfa, 2, false, 0), 0xffff);
	/* 0xCF9, a byte, is the reset register. */
	CHECK_EQ(nresets, 0);
	pio(0xcf9, 1, true, 6);
	CHECK_EQ(nresets, 1);
	CHECK_EQ(pio(0xcf8, 4, false, 0), 0x80000000);
}

TEST(host_bridge_through_ports)
{
	setup();
	CHECK_EQ(cf8_read(0, 0x00, 4), 0x00081b36);
	CHECK_EQ(cf8_read(0, 0x00, 2), 0x1b36);
	CHECK_EQ(cf8_read(0, 0x02, 2), 0x0008);
	CHECK_EQ(cf8_read(0, 0x01, 1), 0x1b);
	CHECK_EQ(cf8_read(0, 0x03, 1), 0x00);
	CHECK_EQ(cf8_read(0, 0x08, 4), 0x06000000);     /* class 06/00/00, revision 0 */
	CHECK_EQ(cf8_read(0, 0x0b, 1), 0x06);
	CHECK_EQ(cf8_read(0, 0x0e, 1), 0x00);           /* header type 0, one function */
	CHECK_EQ(cf8_read(0, 0x06, 2), 0);              /* status: no capabilities */
	CHECK_EQ(cf8_read(0, 0x34, 1), 0);
	for (unsigned reg = 0x10; reg < 0x28; reg += 4)
		CHECK_EQ(cf8_read(0, reg, 4), 0);       /* no BARs */
	/* A word at 0xCFD covers bytes 1-2 of the dword. */
	pio(0xcf8, 4, true, ca(0, 0, 0, 0));
	CHECK_EQ(pio(0xcfd, 2, false, 0), 0x081b);
	CHECK_EQ(pio(0xcfe, 2, false, 0), 0x0008);
}

TEST(nothing_there_reads_all_ones)
{
	setup();
	CHECK_EQ(cf8_read(1, 0, 4), 0xffffffff);        /* empty slot */
	CHECK_EQ(cf8_read(31, 0, 2), 0xffff);
	pio(0xcf8, 4, true, ca(0, 0, 1, 0));            /* function 1 */
	CHECK_EQ(pio(0xcfc, 4, false, 0), 0xffffffff);
	pio(0xcf8, 4, true, ca(1, 0, 0, 0));            /* bus 1 */
	CHECK_EQ(pio(0xcfc, 4, false, 0), 0xffffffff);
	pio(0xcf8, 4, true, 0x00000000);                /* enable bit clear */
	CHECK_EQ(pio(0xcfc, 4, false, 0), 0xffffffff);
	CHECK_EQ(pio(0xcfe, 1, false, 0), 0xff);
	pio(0xcfc, 4, true, 0);                         /* dropped */
	CHECK_EQ(cf8_read(0, 0, 4), 0x00081b36);
	/* Writes to an empty slot go nowhere. */
	cf8_write(5, 0x04, 2, 0xffff);
	CHECK_EQ(cf8_read(5, 0x04, 2), 0xffff);
}

TEST(ecam_all_widths)
{
	setup();
	CHECK_EQ(ecam_read(0, 0x00, 4), 0x00081b36);
	CHECK_EQ(ecam_read(0, 0x02, 2), 0x0008);
	CHECK_EQ(ecam_read(0, 0x0b, 1), 0x06);
	CHECK_EQ(mmio(ecam(0, 0x00), 8, false, 0), 0x00081b36ull);   /* ID, then command/status 0 */
	CHECK_EQ(mmio(ecam(0, 0x08), 8, false, 0), 0x06000000ull);
	/* Crossing a dword, or a misaligned qword: unsupported, all-ones. */
	CHECK_EQ(ecam_read(0, 0x03, 2), 0xffff);
	CHECK_EQ(ecam_read(0, 0x02, 4), 0xffffffff);
	CHECK_EQ(mmio(ecam(0, 0x04), 8, false, 0), ~0ull);
	/* No extended capabilities: 0x100-0xfff read 0 (PCIe 7.6.3). */
	CHECK_EQ(ecam_read(0, 0x100, 4), 0);
	CHECK_EQ(ecam_read(0, 0xffc, 4), 0);
	ecam_write(0, 0x100, 4, 0x12345678);
	CHECK_EQ(ecam_read(0, 0x100, 4), 0);
	/* Empty slots and functions. */
	CHECK_EQ(ecam_read(7, 0x00, 4), 0xffffffff);
	CHECK_EQ(ecam_read(7, 0x100, 4), 0xffffffff);
	CHECK_EQ(mmio(ecam(0, 0) + (1u << 12), 4, false, 0), 0xffffffff);   /* 00:00.1 */
	CHECK_EQ(mmio(VPCI_ECAM_BASE + VPCI_ECAM_SIZE - 4, 4, false, 0), 0xffffffff);
	/* The rest of the hole decodes nothing. */
	CHECK_EQ(mmio(VPCI_ECAM_BASE + VPCI_ECAM_SIZE, 4, false, 0), 0xffffffff);
	CHECK_EQ(mmio(VPCI_HOLE_END - 8, 8, false, 0), ~0ull);
	mmio(VPCI_HOLE_END - 8, 8, true, 0);
}

TEST(ecam_and_ports_see_the_same_registers)
{
	struct vpci_dev d;

	setup();
	test_dev_init(&d);
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	ecam_write(1, 0x04, 2, 0x0006);
	CHECK_EQ(cf8_read(1, 0x04, 2), 0x0006);
	cf8_write(1, 0x0c, 1, 0x10);                    /* cache line size */
	CHECK_EQ(ecam_read(1, 0x0c, 1), 0x10);
	mmio(ecam(1, 0x38), 8, true, 0x0000000bffffffffull);   /* reserved 0x38, then 0x3c */
	CHECK_EQ(cf8_read(1, 0x3c, 4), 0x0b);
	CHECK_EQ(ecam_read(1, 0x2c, 4), 0x00011af4);
	CHECK_EQ(cf8_read(1, 0x08, 4), 0x02000001);
}

/* ---- BARs -------------------------------------------------------------- */

TEST(bars_get_firmware_addresses)
{
	struct vpci_dev a, b;

	setup();
	test_dev_init(&a);
	test_dev_init(&b);
	b.name = "second";
	CHECK_EQ(vpci_add_device(&vm, &a), 1);
	CHECK_EQ(vpci_add_device(&vm, &b), 2);
	CHECK_EQ(a.bar_addr[0], 0xc0000000);
	CHECK_EQ(a.bar_addr[2], 0xc0100000);            /* aligned to its 1M size */
	CHECK_EQ(b.bar_addr[0], 0xc0200000);
	CHECK_EQ(b.bar_addr[2], 0xc0300000);
	CHECK_EQ(cf8_read(1, 0x10, 4), 0xc0000000);
	CHECK_EQ(cf8_read(1, 0x14, 4), 0);              /* unused */
	CHECK_EQ(cf8_read(1, 0x18, 4), 0xc010000c);     /* 64-bit, prefetchable */
	CHECK_EQ(cf8_read(1, 0x1c, 4), 0);              /* its upper half */
	CHECK_EQ(cf8_read(1, 0x20, 4), 0);
	CHECK_EQ(cf8_read(1, 0x24, 4), 0);
	CHECK_EQ(cf8_read(1, 0x30, 4), 0);              /* no expansion ROM */
	CHECK_EQ(cf8_read(1, 0x04, 2), 0);              /* decoding off until the OS enables it */
}

TEST(bar_sizing)
{
	struct vpci_dev d;

	setup();
	test_dev_init(&d);
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	cf8_write(1, 0x10, 4, 0xffffffff);
	CHECK_EQ(cf8_read(1, 0x10, 4), 0xffffc000);     /* 16K */
	cf8_write(1, 0x10, 4, 0xc0000000);
	CHECK_EQ(cf8_read(1, 0x10, 4), 0xc0000000);
	cf8_write(1, 0x18, 4, 0xffffffff);
	cf8_write(1, 0x1c, 4, 0xffffffff);
	CHECK_EQ(cf8_read(1, 0x18, 4), 0xfff0000c);     /* 1M, type bits kept */
	CHECK_EQ(cf8_read(1, 0x1c, 4), 0xffffffff);
	cf8_write(1, 0x18, 4, 0xc0100000);
	cf8_write(1, 0x1c, 4, 0);
	CHECK_EQ(d.bar_addr[2], 0xc0100000);
	/* Unused BARs stay zero whatever is written. */
	cf8_write(1, 0x14, 4, 0xffffffff);
	cf8_write(1, 0x20, 4, 0xffffffff);
	CHECK_EQ(cf8_read(1, 0x14, 4), 0);
	CHECK_EQ(cf8_read(1, 0x20, 4), 0);
	/* Byte writes reach one byte of a BAR; the size bits stay zero. */
	cf8_write(1, 0x11, 1, 0xff);
	CHECK_EQ(cf8_read(1, 0x10, 4), 0xc000c000);
	cf8_write(1, 0x13, 1, 0xd0);
	CHECK_EQ(cf8_read(1, 0x10, 4), 0xd000c000);
	/* The expansion ROM BAR sizes as absent. */
	cf8_write(1, 0x30, 4, 0xfffff801);
	CHECK_EQ(cf8_read(1, 0x30, 4), 0);
}

TEST(command_register)
{
	struct vpci_dev d;

	setup();
	test_dev_init(&d);
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	cf8_write(1, 0x04, 4, 0xffffffff);
	CHECK_EQ(cf8_read(1, 0x04, 4), 0x00000406);     /* memory, master, INTx disable */
	cf8_write(1, 0x06, 2, 0);                       /* status write leaves command */
	CHECK_EQ(cf8_read(1, 0x04, 2), 0x0406);
	cf8_write(1, 0x05, 1, 0);
	CHECK_EQ(cf8_read(1, 0x04, 2), 0x0006);
}

TEST(bar_mmio_follows_the_bar)
{
	struct vpci_dev d;

	setup();
	test_dev_init(&d);
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	/* Memory decoding off: nothing answers. */
	CHECK_EQ(mmio(0xc0000010, 4, false, 0), 0xffffffff);
	CHECK_EQ(bar_log.n, 0);
	cf8_write(1, 0x04, 2, 0x0002);
	CHECK_EQ(mmio(0xc0000010, 4, false, 0), 0x55667788);
	CHECK_EQ(bar_log.n, 1);
	CHECK_EQ(bar_log.bar, 0);
	CHECK_EQ(bar_log.off, 0x10);
	mmio(0xc0103ff8, 8, true, 0xabcdef);
	CHECK_EQ(bar_log.bar, 2);
	CHECK_EQ(bar_log.off, 0x3ff8);
	CHECK_EQ(bar_log.a.size, 8);
	CHECK(bar_log.a.write);
	CHECK_EQ(bar_log.a.value, 0xabcdef);
	/* Across the end of BAR 0: no one decodes the whole access. */
	CHECK_EQ(mmio(0xc0003ffe, 4, false, 0), 0xffffffff);
	CHECK_EQ(bar_log.n, 2);
	/* Move BAR 0: the old place goes quiet, the new one answers. */
	cf8_write(1, 0x10, 4, 0xd0000000);
	CHECK_EQ(mmio(0xc0000010, 4, false, 0), 0xffffffff);
	CHECK_EQ(mmio(0xd0000020, 2, false, 0), 0x7788);
	CHECK_EQ(bar_log.off, 0x20);
	/* Move the 64-bit BAR above 4 GiB: out of the hole, out of reach. */
	cf8_write(1, 0x1c, 4, 0x1);
	CHECK_EQ(d.bar_addr[2], 0x1c0100000ull);
	CHECK_EQ(mmio(0xc0100000, 4, false, 0), 0xffffffff);
	/* A BAR moved onto the ECAM window: ECAM wins. */
	cf8_write(1, 0x10, 4, 0xe0000000);
	CHECK_EQ(ecam_read(0, 0, 4), 0x00081b36);
	cf8_write(1, 0x04, 2, 0);
	CHECK_EQ(mmio(0xd0000020, 4, false, 0), 0xffffffff);
}

static enum io_result refusing_bar_access(struct vpci_dev *d, unsigned bar, uint64_t off,
					  struct io_access *a)
{
	(void)d, (void)bar, (void)a;
	return off ? IO_ERROR : IO_UNHANDLED;
}

TEST(bar_access_results)
{
	struct vpci_dev d;
	struct io_access a = { .addr = 0xc0000004, .size = 4 };

	setup();
	test_dev_init(&d);
	d.bar_access = refusing_bar_access;
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	cf8_write(1, 0x04, 2, 0x0002);
	CHECK_EQ(mmio(0xc0000000, 4, false, 0), 0xffffffff);   /* unhandled: floats */
	CHECK_EQ(mmio_reg.handler(NULL, 4, &a, mmio_reg.opaque), IO_ERROR);
}

/* ---- Capabilities -------------------------------------------------------- */

static bool test_cfg_access(struct vpci_dev *d, unsigned reg, struct io_access *a)
{
	static uint32_t scratch;

	(void)d;
	if (reg < 0x4c || reg >= 0x50)
		return false;
	if (a->write && a->size == 4)
		scratch = (uint32_t)a->value;
	else if (!a->write)
		a->value = scratch >> (reg % 4 * 8);    /* vpci masks to the size */
	return true;
}

TEST(capability_list_walk)
{
	static const uint8_t vndr1[5] = { 0x09, 0xee, 5, 1, 2 };
	static const uint8_t vndr2[16] = { 0x09, 0xee, 16, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const uint8_t want_ids[] = { 0x09, 0x09, 0x11 };
	struct vpci_dev d;
	unsigned ptr, n = 0;

	setup();
	test_dev_init(&d);
	d.cfg_access = test_cfg_access;
	CHECK_EQ(vpci_cap_add(&d, vndr1, sizeof(vndr1)), 0x40);
	CHECK_EQ(vpci_cap_add(&d, vndr2, sizeof(vndr2)), 0x48);    /* dword-aligned */
	CHECK_EQ(vpci_msix_init(&d, 3, 0, 0x1000, 0x2000), 0x58);
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	CHECK_EQ(vpci_cap_add(&d, vndr1, sizeof(vndr1)), -EINVAL);   /* too late */

	CHECK_EQ(cf8_read(1, 0x06, 2) & 0x10, 0x10);
	ptr = cf8_read(1, 0x34, 1);
	while (ptr && n < 8) {
		CHECK_EQ(ptr % 4, 0);
		CHECK(ptr >= 0x40);
		CHECK_EQ(cf8_read(1, ptr, 1), want_ids[n]);
		ptr = ecam_read(1, ptr + 1, 1);
		n++;
	}
	CHECK_EQ(n, 3);
	CHECK_EQ(cf8_read(1, 0x40, 4), 0x01054809);
	CHECK_EQ(cf8_read(1, 0x44, 1), 2);
	CHECK_EQ(cf8_read(1, 0x45, 1), 0);              /* padding */
	CHECK_EQ(cf8_read(1, 0x48, 4), 0x03105809);     /* next: the MSI-X capability */
	/* Capability bytes are read-only... */
	cf8_write(1, 0x40, 4, 0);
	cf8_write(1, 0x41, 1, 0x80);
	CHECK_EQ(cf8_read(1, 0x40, 4), 0x01054809);
	/* ...unless the device's cfg_access takes them. */
	cf8_write(1, 0x4c, 4, 0xcafef00d);
	CHECK_EQ(cf8_read(1, 0x4c, 4), 0xcafef00d);
	CHECK_EQ(ecam_read(1, 0x4e, 2), 0xcafe);
	CHECK_EQ(cf8_read(1, 0x50, 4), 0x0b0a0908);     /* beyond it, stored bytes */
	/* MSI-X: ID, next 0, Table Size 2 (N-1), table and PBA in BAR 0. */
	CHECK_EQ(cf8_read(1, 0x58, 4), 0x00020011);
	CHECK_EQ(cf8_read(1, 0x5c, 4), 0x1000);
	CHECK_EQ(cf8_read(1, 0x60, 4), 0x2000);
	CHECK_EQ(cf8_read(1, 0x64, 4), 0);              /* past the list */
	CHECK_EQ(cf8_read(1, 0xfc, 4), 0);
}

static uint64_t ext_seen;

/* Extended registers 0x100-0x107 of a device with extended capabilities. */
static bool ext_cfg_access(struct vpci_dev *d, unsigned reg, struct io_access *a)
{
	(void)d;
	if (reg < 0x100 || reg >= 0x108)
		return false;
	CHECK(a->size <= 4 && (reg & 3) + a->size <= 4);
	if (a->write)
		ext_seen = a->value;
	else
		a->value = reg < 0x104 ? 0x00010001 : 0xabcd0000u >> (reg % 4 * 8);
	return true;
}

TEST(extended_config_goes_to_the_device)
{
	struct vpci_dev d;

	setup();
	test_dev_init(&d);
	d.cfg_access = ext_cfg_access;
	CHECK_EQ(vpci_add_device(&vm, &d), 1);
	CHECK_EQ(ecam_read(1, 0x100, 4), 0x00010001);
	CHECK_EQ(ecam_read(1, 0x106, 2), 0xabcd);
	CHECK_EQ(mmio(ecam(1, 0x100), 8, false, 0), 0xabcd000000010001ull);
	mmio(ecam(1, 0x100), 8, true, 0x1122334455667788ull);
	CHECK_EQ(ext_seen, 0x11223344);          /* the high dword came last */
	CHECK_EQ(ecam_read(1, 0x108, 4), 0);     /* past what it takes: zero */
}

TEST(capability_space_runs_out)
{
	uint8_t big[192] = { 0x09 };
	struct vpci_dev d;

	test_dev_init(&d);
	CHECK_EQ(vpci_cap_add(&d, big, 1), -EINVAL);
	CHECK_EQ(vpci_cap_add(&d, big, 193), -ENOSPC);
	CHECK_EQ(vpci_cap_add(&d, big, 187), 0x40);
	CHECK_EQ(vpci_cap_add(&d, big, 5), -ENOSPC);    /* 0x100 is the end */
	CHECK_EQ(vpci_cap_add(&d, big, 4), 0xfc);
	CHECK_EQ(d.cap[0x41], 0xfc);
	CHECK_EQ(d.cap[0xfd], 0);
	CHECK_EQ(vpci_cap_add(&d, big, 2), -ENOSPC);
}

TEST(msix_init_checks)
{
	struct vpci_dev d;

	test_dev_init(&d);
	CHECK_EQ(vpci_msix_init(&d, 0, 0, 0x1000, 0x2000), -EINVAL);
	CHECK_EQ(vpci_msix_init(&d, 65, 0, 0x1000, 0x2000), -EINVAL);
	CHECK_EQ(vpci_msix_init(&d, 1, 1, 0x1000, 0x2000), -EINVAL);   /* BAR 1 unused */
	CHECK_EQ(vpci_msix_init(&d, 1, 3, 0x1000, 0x2000), -EINVAL);   /* 64-bit upper half */
	CHECK_EQ(vpci_msix_init(&d, 1, 6, 0x1000, 0x2000), -EINVAL);
	CHECK_EQ(vpci_msix_init(&d, 1, 0, 0x1004, 0x2000), -EINVAL);   /* not 8-aligned */
	CHECK_EQ(vpci_msix_init(&d, 64, 0, 0x3c08, 0x0), -EINVAL);     /* past the BAR */
	CHECK_EQ(vpci_msix_init(&d, 64, 0, 0x0, 0x4000), -EINVAL);     /* PBA past it */
	CHECK_EQ(vpci_msix_init(&d, 4, 0, 0x0, 0x38), -EINVAL);        /* overlap */
	CHECK_EQ(vpci_msix_init(&d, 4, 0, 0x0, 0xfffffff8u), -EINVAL);
	CHECK_EQ(d.cap_next, 0);
	CHECK_EQ(vpci_msix_init(&d, 4, 0, 0x0, 0x40), 0x40);
	CHECK_EQ(vpci_msix_init(&d, 4, 0, 0x0, 0x40), -EINVAL);        /* once */
}

/* ---- MSI-X ------------------------------------------------------------- */

#define TABLE 0xc0001000ull
#define PBA 0xc0002000ull

static void msix_dev(struct vpci_dev *d, unsigned nvec)
{
	test_dev_init(d);
	CHECK_EQ(vpci_msix_init(d, nvec, 0, 0x1000, 0x2000), 0x40);
	CHECK_EQ(vpci_add_device(&vm, d), 1);
	cf8_write(1, 0x04, 2, 0x0006);                  /* memory and bus master */
}

static void msix_program(unsigned v, uint32_t addr, uint32_t data)
{
	mmio(TABLE + 16 * v, 8, true, addr);            /* address, upper address 0 */
	mmio(TABLE + 16 * v + 8, 4, true, data);
}

static void msix_control(uint16_t ctrl)
{
	cf8_write(1, 0x42, 2, ctrl);
}

TEST(msix_table_reset_state)
{
	struct vpci_dev d;

	setup();
	msix_dev(&d, 3);
	for (unsigned v = 0; v < 3; v++) {
		CHECK_EQ(mmio(TABLE + 16 * v, 8, false, 0), 0);
		CHECK_EQ(mmio(TABLE + 16 * v + 8, 8, false, 0), 1ull << 32);   /* masked */
	}
	CHECK_EQ(mmio(PBA, 8, false, 0), 0);
	CHECK_EQ(cf8_read(1, 0x42, 2), 0x0002);
	/* Only whole aligned dwords and qwords; the rest floats. */
	CHECK_EQ(mmio(TABLE + 1, 1, false, 0), 0xff);
	CHECK_EQ(mmio(TABLE + 4, 8, false, 0), ~0ull);
	CHECK_EQ(mmio(TABLE + 2, 4, false, 0), 0xffffffff);
	mmio(TABLE, 2, true, 0x1234);
	CHECK_EQ(mmio(TABLE, 4, false, 0), 0);
	/* Writable fields and reserved bits (6.8.2.6, 6.8.2.9). */
	mmio(TABLE, 4, true, 0xfee00003);
	CHECK_EQ(mmio(TABLE, 4, false, 0), 0xfee00000);
	mmio(TABLE + 12, 4, true, 0xfffffffe);
	CHECK_EQ(mmio(TABLE + 12, 4, false, 0), 0);
	/* Past the table, before the PBA: the device's. */
	CHECK_EQ(bar_log.n, 0);
	CHECK_EQ(mmio(TABLE + 48, 4, false, 0), 0x55667788);
	CHECK_EQ(bar_log.off, 0x1030);
	/* The PBA is read-only; an access straddling it floats. */
	mmio(PBA, 8, true, ~0ull);
	CHECK_EQ(mmio(PBA, 8, false, 0), 0);
	CHECK_EQ(mmio(PBA + 4, 4, false, 0), 0);
	CHECK_EQ(mmio(PBA - 4, 8, false, 0), ~0ull);
	CHECK_EQ(bar_log.n, 1);
	/* Only Enable and Function Mask are writable in Message Control. */
	msix_control(0xffff);
	CHECK_EQ(cf8_read(1, 0x42, 2), 0xc002);
	CHECK(vpci_msix_is_enabled(&d));
	cf8_write(1, 0x40, 4, 0);
	CHECK_EQ(cf8_read(1, 0x40, 4), 0x00020011);
	CHECK(!vpci_msix_is_enabled(&d));
}

TEST(msix_delivery_masking_pending)
{
	struct vpci_dev d;

	setup();
	msix_dev(&d, 3);
	msix_program(0, 0xfee01000, 0x31);
	msix_program(2, 0xfee00004, 0x4142);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_OFF);     /* MSI-X disabled */
	msix_control(0x8000);
	/* Vectors start masked: the message waits in the PBA. */
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_PENDING);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_PENDING);
	CHECK_EQ(mmio(PBA, 8, false, 0), 1);
	CHECK_EQ(nmsis, 0);
	mmio(TABLE + 12, 4, true, 0);                        /* unmask vector 0 */
	CHECK_EQ(nmsis, 1);                                  /* once, however often signalled */
	CHECK_EQ(msis[0].addr, 0xfee01000);
	CHECK_EQ(msis[0].data, 0x31);
	CHECK_EQ(mmio(PBA, 8, false, 0), 0);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_SENT);
	CHECK_EQ(nmsis, 2);
	/* Function mask holds every vector; clearing it sends what waits. */
	mmio(TABLE + 16 * 2 + 12, 4, true, 0);
	msix_control(0xc000);
	CHECK_EQ(vpci_msix_notify(&d, 2), VPCI_MSI_PENDING);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_PENDING);
	CHECK_EQ(mmio(PBA, 4, false, 0), 5);
	msix_control(0x8000);
	CHECK_EQ(nmsis, 4);
	CHECK_EQ(msis[2].data, 0x31);
	CHECK_EQ(msis[3].addr, 0xfee00004);
	CHECK_EQ(msis[3].data, 0x4142);
	CHECK_EQ(mmio(PBA, 8, false, 0), 0);
	/* A message changed while pending goes out as it is at unmask time. */
	mmio(TABLE + 12, 4, true, 1);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_PENDING);
	msix_program(0, 0xfee02000, 0x55);
	mmio(TABLE + 8, 8, true, 0x55);                      /* data and ctrl in one qword */
	CHECK_EQ(nmsis, 5);
	CHECK_EQ(msis[4].addr, 0xfee02000);
	CHECK_EQ(msis[4].data, 0x55);
	/* No such vector; bus mastering off; MSI-X off with pending bits kept. */
	CHECK_EQ(vpci_msix_notify(&d, 3), VPCI_MSI_OFF);
	CHECK_EQ(vpci_msix_notify(&d, 1000), VPCI_MSI_OFF);
	cf8_write(1, 0x04, 2, 0x0002);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_OFF);
	CHECK(!vpci_is_bus_master(&d));
	cf8_write(1, 0x04, 2, 0x0006);
	CHECK(vpci_is_bus_master(&d));
	CHECK_EQ(nmsis, 5);
}

TEST(msix_pending_waits_for_bus_master)
{
	struct vpci_dev d;

	setup();
	msix_dev(&d, 1);
	msix_program(0, 0xfee00000, 0x40);
	msix_control(0x8000);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_PENDING);
	cf8_write(1, 0x04, 2, 0x0002);                       /* master off */
	mmio(TABLE + 12, 4, true, 0);
	CHECK_EQ(nmsis, 0);
	cf8_write(1, 0x04, 2, 0x0006);
	CHECK_EQ(nmsis, 1);
}

TEST(msix_invalid_message_said_once)
{
	struct vpci_dev d;

	setup();
	msix_dev(&d, 2);
	msix_program(0, 0xfee00000, 0x05);                   /* vector below 16 */
	msix_program(1, 0x12345000, 0x40);                   /* not the APIC range */
	mmio(TABLE + 12, 4, true, 0);
	mmio(TABLE + 16 + 12, 4, true, 0);
	msix_control(0x8000);
	log_reset();
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_INVALID);
	CHECK(log_has("pci test: MSI-X vector 0: address 0xfee00000 data 0x5"));
	log_reset();
	CHECK_EQ(vpci_msix_notify(&d, 1), VPCI_MSI_INVALID);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_INVALID);
	CHECK(!log_has("MSI-X"));
	CHECK_EQ(nmsis, 0);
	CHECK_EQ(mmio(PBA, 8, false, 0), 0);
}

/* ---- Adding devices ------------------------------------------------------ */

TEST(add_device_checks)
{
	struct vpci_dev d, e;

	setup();
	test_dev_init(&d);
	d.vendor_id = 0xffff;
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	test_dev_init(&d);
	d.class_code = 0x1000000;
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	test_dev_init(&d);
	d.bar[0].size = 0x3000;
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	d.bar[0].size = 0x800;
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	d.bar[0].size = GIB(4);                              /* too big for 32 bits */
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	test_dev_init(&d);
	d.bar[5] = (struct vpci_bar){ VPCI_BAR_MEM64, false, KIB(4) };
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);        /* no room for its upper half */
	test_dev_init(&d);
	d.bar[3].type = VPCI_BAR_MEM32;
	d.bar[3].size = KIB(4);                              /* BAR 2's upper half */
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	test_dev_init(&d);
	d.bar[1].type = (enum vpci_bar_type)7;
	d.bar[1].size = KIB(4);
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	test_dev_init(&d);
	d.bar_access = NULL;
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	CHECK(log_has("BARs but no bar_access"));
	test_dev_init(&d);
	d.slot = 32;
	CHECK_EQ(vpci_add_device(&vm, &d), -EINVAL);
	d.slot = 7;
	CHECK_EQ(vpci_add_device(&vm, &d), 7);
	CHECK_EQ(vpci_add_device(&vm, &d), -EBUSY);         /* twice */
	test_dev_init(&e);
	e.slot = 7;
	CHECK_EQ(vpci_add_device(&vm, &e), -EBUSY);         /* slot taken */
	e.slot = VPCI_SLOT_AUTO;
	CHECK_EQ(vpci_add_device(&vm, &e), 1);
	CHECK_EQ(cf8_read(7, 0, 4), 0x10411af4);
	CHECK_EQ(cf8_read(1, 0, 4), 0x10411af4);
	/* Nothing after the VM runs. */
	test_dev_init(&e);
	vm.state = VM_RUNNING;
	CHECK_EQ(vpci_add_device(&vm, &e), -EBUSY);
	vm.state = VM_STOPPED;
	/* A VM whose bus was never set up. */
	vm.id = VM_ID + 1;
	buses[VM_ID + 1].vm = NULL;
	CHECK_EQ(vpci_add_device(&vm, &e), -ENODEV);
	vm.id = VM_ID;
}

TEST(slots_and_window_run_out)
{
	static struct vpci_dev devs[32];
	struct vpci_dev big;
	unsigned n;

	setup();
	for (n = 0; n < 32; n++) {
		test_dev_init(&devs[n]);
		devs[n].bar[0].size = MIB(8);
		devs[n].bar[2].type = VPCI_BAR_NONE;
		if (vpci_add_device(&vm, &devs[n]) < 0)
			break;
	}
	CHECK_EQ(n, 31);                                     /* slots 1-31 */
	CHECK(log_has("no free slot"));

	setup();
	test_dev_init(&big);
	big.bar[0] = (struct vpci_bar){ VPCI_BAR_MEM64, true, MIB(512) };
	big.bar[2].type = VPCI_BAR_NONE;
	CHECK_EQ(vpci_add_device(&vm, &big), 1);             /* the whole window */
	test_dev_init(&devs[0]);
	CHECK_EQ(vpci_add_device(&vm, &devs[0]), -ENOSPC);
	CHECK(log_has("no room for BAR 0"));
	CHECK(devs[0].vm == NULL);
}

TEST(ram_over_the_hole)
{
	struct vpci_dev d, nobar = { .name = "nobar", .vendor_id = 0x1234, .device_id = 1 };

	setup_vm(GIB(4));
	CHECK(!vpci_has_hole(&vm));
	CHECK_EQ(vpci_ecam_base(&vm), 0);
	CHECK_EQ(mmio_reg.size, 0);                          /* no MMIO region */
	CHECK_EQ(pio_reg.start, 0xcf8);
	CHECK_EQ(cf8_read(0, 0, 4), 0x00081b36);
	test_dev_init(&d);
	CHECK_EQ(vpci_add_device(&vm, &d), -ENOSPC);
	CHECK(log_has("RAM covers the PCI hole"));
	CHECK_EQ(vpci_add_device(&vm, &nobar), 1);
	CHECK_EQ(cf8_read(1, 0, 4), 0x00011234);
	setup_vm(GIB(3));
	CHECK(vpci_has_hole(&vm));
}

/* ---- Reset and a hostile guest --------------------------------------------- */

TEST(reset_restores_power_on_state)
{
	struct vpci_dev d;

	setup();
	msix_dev(&d, 2);
	msix_program(0, 0xfee00000, 0x40);
	msix_control(0xc000);
	CHECK_EQ(vpci_msix_notify(&d, 0), VPCI_MSI_PENDING);
	cf8_write(1, 0x10, 4, 0xd0000000);
	cf8_write(1, 0x3c, 1, 11);
	pio(0xcf8, 4, true, ca(0, 1, 0, 0));
	vpci_reset(&vm);
	CHECK_EQ(pio(0xcf8, 4, false, 0), 0);
	CHECK_EQ(cf8_read(1, 0x04, 2), 0);
	CHECK_EQ(cf8_read(1, 0x10, 4), 0xc0000000);
	CHECK_EQ(cf8_read(1, 0x3c, 1), 0);
	CHECK_EQ(cf8_read(1, 0x42, 2), 0x0001);
	cf8_write(1, 0x04, 2, 0x0006);
	CHECK_EQ(mmio(TABLE, 8, false, 0), 0);
	CHECK_EQ(mmio(TABLE + 8, 8, false, 0), 1ull << 32);
	CHECK_EQ(mmio(PBA, 8, false, 0), 0);
	CHECK_EQ(nmsis, 0);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Random writes everywhere, through both mechanisms and into the BARs:
 * IDs and read-only bits hold, BARs stay aligned, nothing breaks. */
TEST(hostile_guest)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	struct vpci_dev d;

	setup();
	msix_dev(&d, 4);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t r = rnd(), v = rnd();
		unsigned size = sizes[r & 3], reg = (unsigned)(r >> 8) & 0xfff;

		switch ((r >> 4) & 3) {
		case 0:
			pio(0xcf8, 4, true, (r >> 32) & 1 ? ca(0, (r >> 40) & 1, 0, reg) : r >> 32);
			if (size <= 4 - (reg & 3))
				pio(0xcfc + (reg & 3), size, (r >> 2) & 1, v);
			break;
		case 1:
			mmio(ecam((r >> 40) & 3, reg), size, (r >> 2) & 1, v);
			break;
		case 2:
			mmio(VPCI_HOLE_BASE + ((r >> 20) & 0xfffff) * 8 % (HOLE_SIZE - 8), size,
			     (r >> 2) & 1, v);
			break;
		default:
			mmio(0xc0000000 + (reg & ~7u) + ((r >> 24) & 0x3) * 0x1000, size,
			     (r >> 2) & 1, v);
			vpci_msix_notify(&d, (unsigned)(r >> 50) & 7);
			break;
		}
		CHECK_EQ(d.bar_addr[0] & (KIB(16) - 1), 0);
		CHECK_EQ(d.bar_addr[2] & (MIB(1) - 1), 0);
		CHECK_EQ(d.command & ~0x406u, 0);
		CHECK_EQ(d.msix.control & ~0xc000u, 0);
	}
	CHECK_EQ(cf8_read(0, 0, 4), 0x00081b36);
	CHECK_EQ(cf8_read(1, 0, 4), 0x10411af4);
	CHECK_EQ(cf8_read(1, 0x08, 4), 0x02000001);
	CHECK_EQ(cf8_read(1, 0x40, 2), 0x0011);
	CHECK_EQ(cf8_read(1, 0x0e, 1), 0);
}

int main(void)
{
	RUN(registration);
	RUN(config_address_latch);
	RUN(host_bridge_through_ports);
	RUN(nothing_there_reads_all_ones);
	RUN(ecam_all_widths);
	RUN(ecam_and_ports_see_the_same_registers);
	RUN(bars_get_firmware_addresses);
	RUN(bar_sizing);
	RUN(command_register);
	RUN(bar_mmio_follows_the_bar);
	RUN(bar_access_results);
	RUN(capability_list_walk);
	RUN(extended_config_goes_to_the_device);
	RUN(capability_space_runs_out);
	RUN(msix_init_checks);
	RUN(msix_table_reset_state);
	RUN(msix_delivery_masking_pending);
	RUN(msix_pending_waits_for_bus_master);
	RUN(msix_invalid_message_said_once);
	RUN(add_device_checks);
	RUN(slots_and_window_run_out);
	RUN(ram_over_the_hole);
	RUN(reset_restores_power_on_state);
	RUN(hostile_guest);
	return unit_done();
}
