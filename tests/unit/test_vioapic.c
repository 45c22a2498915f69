/*
 * The virtual IOAPIC (vdev/vioapic.c), compiled into this test so that
 * its per-VM state is reachable: indirect registers through IOREGSEL and
 * IOWIN, redirection entries as two halves with their read-only bits,
 * access sizes, edge and level delivery with remote IRR and EOI (vLAPIC
 * and EOI register), masking, and destinations. vlapic_set_irq() and
 * io_register() are replaced by recorders.
 */
#include "vdev/vioapic.c"
#include "tests/unit/unit.h"

#define NVCPUS 3
#define REDTBL(pin) (0x10 + 2 * (pin))
#define LEVEL (1u << 15)
#define MASKED (1u << 16)
#define REMOTE_IRR (1u << 14)
#define LOGICAL (1u << 11)
#define LOWEST (1u << 8)

static struct vm vm;
static struct vcpu vcpus[NVCPUS];

/* What reached the vLAPICs, in order. */
static struct {
	unsigned vcpu;
	uint8_t vector;
} sent[64];
static unsigned nsent;

void vlapic_set_irq(struct vcpu *vcpu, uint8_t vector)
{
	if (nsent < ARRAY_SIZE(sent))
		sent[nsent] = (typeof(sent[0])){ vcpu->idx, vector };
	nsent++;
}

static uint64_t reg_start, reg_size;
static io_handler_t reg_handler;
static void *reg_opaque;

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t handler,
		void *opaque)
{
	(void)bus;
	reg_start = start, reg_size = size, reg_handler = handler, reg_opaque = opaque;
	return 0;
}

static void setup(void)
{
	vm = (struct vm){ .id = 3, .nvcpus = NVCPUS, .name = "t" };
	for (unsigned i = 0; i < NVCPUS; i++) {
		vcpus[i] = (struct vcpu){ .vm = &vm, .idx = i };
		vm.vcpus[i] = &vcpus[i];
	}
	nsent = 0;
	CHECK_EQ(vioapic_vm_create(&vm), 0);
}

static enum io_result mmio(uint64_t off, unsigned size, bool write, uint64_t *value)
{
	struct io_access a = { .addr = reg_start + off, .size = (uint8_t)size, .write = write,
			       .value = *value };
	enum io_result r = reg_handler(&vcpus[0], off, &a, reg_opaque);

	*value = a.value;
	return r;
}

static void mmio_write(uint64_t off, uint32_t v)
{
	uint64_t x = v;

	CHECK_EQ(mmio(off, 4, true, &x), IO_HANDLED);
}

static uint32_t mmio_read(uint64_t off)
{
	uint64_t x = 0xdeadbeef;

	CHECK_EQ(mmio(off, 4, false, &x), IO_HANDLED);
	return (uint32_t)x;
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write(0x00, reg);
	mmio_write(0x10, v);
}

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write(0x00, reg);
	return mmio_read(0x10);
}

static void route(unsigned pin, uint32_t low, uint8_t dest)
{
	ioapic_write(REDTBL(pin) + 1, (uint32_t)dest << 24);
	ioapic_write(REDTBL(pin), low);
}

TEST(registration)
{
	setup();
	CHECK_EQ(reg_start, 0xfec00000);
	CHECK_EQ(reg_size, 0x44);
	CHECK(reg_opaque == &vioapics[3]);
}

TEST(id_version_arbitration)
{
	setup();
	CHECK_EQ(ioapic_read(0), 0);
	CHECK_EQ(ioapic_read(1), 0x00170020);      /* 24 entries, version 0x20 */
	ioapic_write(0, 0x05000000);
	CHECK_EQ(ioapic_read(0), 0x05000000);
	CHECK_EQ(ioapic_read(2), 0x05000000);      /* arbitration id follows the id */
	ioapic_write(0, 0xffffffff);
	CHECK_EQ(ioapic_read(0), 0x0f000000);      /* only bits 27:24 */
	ioapic_write(1, 0);
	CHECK_EQ(ioapic_read(1), 0x00170020);      /* read-only */
	CHECK_EQ(ioapic_read(0x03), 0);
	CHECK_EQ(ioapic_read(0x40), 0);            /* past the table */
	mmio_write(0x00, 0x1234);
	CHECK_EQ(mmio_read(0x00), 0x34);           /* IOREGSEL is 8 bits */
}

TEST(redirection_halves)
{
	setup();
	for (unsigned pin = 0; pin < 24; pin++) {
		CHECK_EQ(ioapic_read(REDTBL(pin)), MASKED);
		CHECK_EQ(ioapic_read(REDTBL(pin) + 1), 0);
	}
	ioapic_write(REDTBL(5), MASKED | LEVEL | 1u << 13 | LOGICAL | 0x31);
	ioapic_write(REDTBL(5) + 1, 0xab000000);
	CHECK_EQ(ioapic_read(REDTBL(5)), MASKED | LEVEL | 1u << 13 | LOGICAL | 0x31);
	CHECK_EQ(ioapic_read(REDTBL(5) + 1), 0xab000000);
	/* writing one half keeps the other */
	ioapic_write(REDTBL(5) + 1, 0x01ffffff);
	CHECK_EQ(ioapic_read(REDTBL(5)), MASKED | LEVEL | 1u << 13 | LOGICAL | 0x31);
	CHECK_EQ(ioapic_read(REDTBL(5) + 1), 0x01000000);   /* bits 55:32 reserved */
	/* delivery status and remote IRR are read-only; reserved bits read 0 */
	ioapic_write(REDTBL(6), 0xfffe0000 | 1u << 12 | REMOTE_IRR | MASKED | 0x40);
	CHECK_EQ(ioapic_read(REDTBL(6)), MASKED | 0x40);
	/* the neighbours are untouched */
	CHECK_EQ(ioapic_read(REDTBL(4)), MASKED);
	CHECK_EQ(ioapic_read(REDTBL(7)), MASKED);
	CHECK_EQ(nsent, 0);
}

TEST(access_sizes)
{
	uint64_t v = 0;

	setup();
	CHECK_EQ(mmio(0x00, 1, true, &v), IO_ERROR);
	CHECK_EQ(mmio(0x10, 2, false, &v), IO_ERROR);
	CHECK_EQ(mmio(0x10, 8, false, &v), IO_ERROR);
	CHECK_EQ(mmio(0x12, 4, false, &v), IO_ERROR);   /* misaligned */
	CHECK_EQ(mmio(0x20, 4, false, &v), IO_HANDLED); /* a gap: reads 0 */
	CHECK_EQ(v, 0);
}

TEST(edge_delivers_on_rising_edge)
{
	setup();
	route(2, 0x30, 0);
	vioapic_set_irq(&vm, 2, true);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].vcpu, 0);
	CHECK_EQ(sent[0].vector, 0x30);
	vioapic_set_irq(&vm, 2, true);      /* still high: no new edge */
	CHECK_EQ(nsent, 1);
	vioapic_set_irq(&vm, 2, false);
	CHECK_EQ(nsent, 1);
	vioapic_set_irq(&vm, 2, true);
	CHECK_EQ(nsent, 2);
	vioapic_set_irq(&vm, 2, false);
	vioapic_eoi(&vm, 0x30);             /* EOI means nothing to an edge entry */
	CHECK_EQ(nsent, 2);
	CHECK_EQ(ioapic_read(REDTBL(2)), 0x30);
}

TEST(masked_edge_is_held)
{
	setup();
	route(2, MASKED | 0x31, 1);
	vioapic_set_irq(&vm, 2, true);
	vioapic_set_irq(&vm, 2, false);
	vioapic_set_irq(&vm, 2, true);
	vioapic_set_irq(&vm, 2, false);
	CHECK_EQ(nsent, 0);
	ioapic_write(REDTBL(2), 0x31);      /* unmask: one held edge */
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].vcpu, 1);
	CHECK_EQ(sent[0].vector, 0x31);
	ioapic_write(REDTBL(2), MASKED | 0x31);
	ioapic_write(REDTBL(2), 0x31);
	CHECK_EQ(nsent, 1);                 /* nothing left */
}

TEST(level_remote_irr_and_eoi)
{
	setup();
	route(9, LEVEL | 0x41, 0);
	vioapic_set_irq(&vm, 9, true);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].vector, 0x41);
	CHECK_EQ(ioapic_read(REDTBL(9)), LEVEL | REMOTE_IRR | 0x41);
	vioapic_set_irq(&vm, 9, true);      /* remote IRR set: wait for the EOI */
	vioapic_set_irq(&vm, 9, false);
	vioapic_set_irq(&vm, 9, true);
	CHECK_EQ(nsent, 1);
	vioapic_eoi(&vm, 0x42);             /* another vector */
	CHECK_EQ(nsent, 1);
	vioapic_eoi(&vm, 0x41);             /* still asserted: again */
	CHECK_EQ(nsent, 2);
	CHECK_EQ(sent[1].vector, 0x41);
	CHECK(ioapic_read(REDTBL(9)) & REMOTE_IRR);
	vioapic_set_irq(&vm, 9, false);     /* the device is served */
	vioapic_eoi(&vm, 0x41);
	CHECK_EQ(nsent, 2);
	CHECK_EQ(ioapic_read(REDTBL(9)), LEVEL | 0x41);
	vioapic_eoi(&vm, 0x41);
	CHECK_EQ(nsent, 2);
}

TEST(level_masked_is_held)
{
	setup();
	route(10, MASKED | LEVEL | 0x50, 2);
	vioapic_set_irq(&vm, 10, true);
	CHECK_EQ(nsent, 0);
	CHECK_EQ(ioapic_read(REDTBL(10)), MASKED | LEVEL | 0x50);   /* no remote IRR */
	ioapic_write(REDTBL(10), LEVEL | 0x50);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].vcpu, 2);
	/* masked and deasserted before the unmask: nothing */
	setup();
	route(10, MASKED | LEVEL | 0x50, 2);
	vioapic_set_irq(&vm, 10, true);
	vioapic_set_irq(&vm, 10, false);
	ioapic_write(REDTBL(10), LEVEL | 0x50);
	CHECK_EQ(nsent, 0);
}

TEST(eoi_register_and_edge_switch)
{
	setup();
	route(11, LEVEL | 0x60, 0);
	vioapic_set_irq(&vm, 11, true);
	CHECK_EQ(nsent, 1);
	vioapic_set_irq(&vm, 11, false);
	mmio_write(0x40, 0x60);             /* version 0x20 EOI register */
	CHECK_EQ(ioapic_read(REDTBL(11)), LEVEL | 0x60);
	CHECK_EQ(mmio_read(0x40), 0);
	/* a stuck remote IRR goes when the entry turns edge (Linux does this) */
	vioapic_set_irq(&vm, 11, true);
	CHECK_EQ(nsent, 2);
	CHECK(ioapic_read(REDTBL(11)) & REMOTE_IRR);
	ioapic_write(REDTBL(11), MASKED | 0x60);
	CHECK_EQ(ioapic_read(REDTBL(11)), MASKED | 0x60);
	CHECK_EQ(nsent, 2);
}

TEST(destinations)
{
	setup();
	route(1, 0x70, 2);                          /* physical: vCPU 2 */
	vioapic_set_irq(&vm, 1, true);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].vcpu, 2);
	route(3, 0x71, 7);                          /* no such vCPU: lost */
	vioapic_set_irq(&vm, 3, true);
	CHECK_EQ(nsent, 1);
	route(4, 0x72, 0xff);                       /* physical broadcast */
	vioapic_set_irq(&vm, 4, true);
	CHECK_EQ(nsent, 4);
	CHECK(sent[1].vcpu == 0 && sent[2].vcpu == 1 && sent[3].vcpu == 2);
	route(5, LOGICAL | 0x73, 0x05);             /* logical mask: vCPUs 0 and 2 */
	vioapic_set_irq(&vm, 5, true);
	CHECK_EQ(nsent, 6);
	CHECK(sent[4].vcpu == 0 && sent[5].vcpu == 2 && sent[5].vector == 0x73);
	route(6, LOGICAL | LOWEST | 0x74, 0x06);    /* lowest priority: the first, vCPU 1 */
	vioapic_set_irq(&vm, 6, true);
	CHECK_EQ(nsent, 7);
	CHECK_EQ(sent[6].vcpu, 1);
	route(7, LOGICAL | 0x75, 0xf8);             /* only absent vCPUs */
	vioapic_set_irq(&vm, 7, true);
	CHECK_EQ(nsent, 7);
	route(8, LEVEL | LOGICAL | 0x76, 0x08);     /* level with no one to accept it */
	vioapic_set_irq(&vm, 8, true);
	CHECK_EQ(ioapic_read(REDTBL(8)) & REMOTE_IRR, 0);
}

TEST(unsupported_delivery_mode)
{
	setup();
	route(12, 4u << 8 | 0x80, 0);               /* NMI */
	vioapic_set_irq(&vm, 12, true);
	CHECK_EQ(nsent, 0);
	CHECK(log_has("delivery mode 4 not supported"));
	route(13, 7u << 8 | LEVEL, 0);              /* ExtINT, level */
	vioapic_set_irq(&vm, 13, true);
	CHECK_EQ(ioapic_read(REDTBL(13)) & REMOTE_IRR, 0);
}

TEST(reset_masks_everything)
{
	setup();
	route(2, 0x30, 0);
	ioapic_write(0, 0x02000000);
	vioapic_reset(&vm);
	CHECK_EQ(ioapic_read(0), 0);
	CHECK_EQ(ioapic_read(REDTBL(2)), MASKED);
	vioapic_set_irq(&vm, 2, true);
	CHECK_EQ(nsent, 0);
}

int main(void)
{
	RUN(registration);
	RUN(id_version_arbitration);
	RUN(redirection_halves);
	RUN(access_sizes);
	RUN(edge_delivers_on_rising_edge);
	RUN(masked_edge_is_held);
	RUN(level_remote_irr_and_eoi);
	RUN(level_masked_is_held);
	RUN(eoi_register_and_edge_switch);
	RUN(destinations);
	RUN(unsupported_delivery_mode);
	RUN(reset_masks_everything);
	return unit_done();
}
