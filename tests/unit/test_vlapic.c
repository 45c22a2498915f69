/*
 * Message-signalled interrupts into the vLAPICs (vdev/vlapic.c,
 * vlapic_deliver_msi, SDM Vol. 3A 11.11): physical and logical
 * destinations in xAPIC and x2APIC mode, broadcast, lowest priority to
 * one vCPU, and the messages that are refused. vlapic.c is compiled into
 * the test; the host APIC functions it calls are recorders.
 */
#include "vdev/vlapic.c"
#include "tests/unit/unit.h"

#define NVCPUS 4

struct pcpu pcpus[MAX_CPUS];
static struct vm vm;
static struct vcpu vcpus[NVCPUS];
static struct vlapic vlapics[NVCPUS];
static unsigned kicks;

unsigned int this_cpu_id(void) { return 63; }   /* not one of the vCPUs' */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr) { (void)apic_id, (void)icr; kicks++; }
uint32_t lapic_kick_vector(void) { return 0xf0; }
void lapic_timer_arm(enum lapic_timer_user who, uint64_t tsc_deadline) { (void)who; (void)tsc_deadline; }
void vioapic_eoi(struct vm *v, uint8_t vector) { (void)v, (void)vector; }

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t handler,
		void *opaque)
{
	(void)bus, (void)start, (void)size, (void)handler, (void)opaque;
	return 0;
}

static void setup(void)
{
	vm = (struct vm){ .id = 1, .nvcpus = NVCPUS, .name = "t" };
	for (unsigned i = 0; i < NVCPUS; i++) {
		vcpus[i] = (struct vcpu){ .vm = &vm, .idx = i, .pcpu = i, .vlapic = &vlapics[i] };
		vm.vcpus[i] = &vcpus[i];
		vlapic_reset(&vcpus[i]);        /* x2APIC, as firmware hands over */
	}
	kicks = 0;
}

/* The vCPUs with @vector requested, as a bit mask; clears the requests. */
static unsigned got(uint8_t vector)
{
	unsigned mask = 0;

	for (unsigned i = 0; i < NVCPUS; i++) {
		uint32_t *w = &vlapics[i].irr[vector / 32];

		if (*w & (1u << (vector % 32)))
			mask |= 1u << i;
		*w &= ~(1u << (vector % 32));
	}
	return mask;
}

static void to_xapic(void)
{
	for (unsigned i = 0; i < NVCPUS; i++) {
		CHECK(vlapic_msr_write(&vcpus[i], 0x1b, VLAPIC_BASE_DEFAULT));      /* disabled */
		CHECK(vlapic_msr_write(&vcpus[i], 0x1b, VLAPIC_BASE_DEFAULT | 1u << 11));
		/* flat model: logical ID bit i in LDR 31:24 */
		CHECK(vlapic_reg_write(&vcpus[i], 0x80d, (1u << i) << 24));
	}
}

TEST(physical_destination)
{
	setup();
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee02000, 0x41), 0);
	CHECK_EQ(got(0x41), 1u << 2);
	CHECK_EQ(kicks, 1);
	CHECK(vcpus[2].irq_pending);
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee00000, 0x0141), 0);   /* lowest priority, one */
	CHECK_EQ(got(0x41), 1u << 0);
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee09000, 0x41), 0);     /* no vCPU 9: no one */
	CHECK_EQ(got(0x41), 0);
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee03008, 0x8041), 0);   /* RH and level ignored */
	CHECK_EQ(got(0x41), 1u << 3);
}

TEST(broadcast)
{
	setup();
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfeeff000, 0x50), 0);
	CHECK_EQ(got(0x50), 0xf);
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfeeff000, 0x150), 0);    /* lowest: the first */
	CHECK_EQ(got(0x50), 0x1);
	to_xapic();
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfeeff000, 0x50), 0);
	CHECK_EQ(got(0x50), 0xf);
}

TEST(logical_destination)
{
	setup();
	/* x2APIC cluster 0: LDR bit i for vCPU i (SDM 11.12.10.2). */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee0a004, 0x60), 0);
	CHECK_EQ(got(0x60), 0xa);
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee0c004, 0x160), 0);
	CHECK_EQ(got(0x60), 0x4);
	to_xapic();
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee05004, 0x61), 0);
	CHECK_EQ(got(0x61), 0x5);
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee02000, 0x61), 0);     /* physical still works */
	CHECK_EQ(got(0x61), 0x4);
}

TEST(refused_messages)
{
	setup();
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfed00000, 0x41), -EINVAL);    /* not the APIC range */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0x1fee00000ull, 0x41), -EINVAL); /* upper address */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee00000, 0x0f), -EINVAL);    /* vector below 16 */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee00000, 0x0441), -EINVAL);  /* NMI */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee00000, 0x0241), -EINVAL);  /* SMI */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee00000, 0x0541), -EINVAL);  /* INIT */
	CHECK_EQ(vlapic_deliver_msi(&vm, 0xfee00000, 0x0741), -EINVAL);  /* ExtINT */
	for (unsigned v = 0; v < 256; v++)
		CHECK_EQ(got((uint8_t)v), 0);
	CHECK_EQ(kicks, 0);
	for (unsigned i = 0; i < NVCPUS; i++)
		CHECK_EQ(vlapics[i].esr, 0);
}

int main(void)
{
	RUN(physical_destination);
	RUN(broadcast);
	RUN(logical_destination);
	RUN(refused_messages);
	return unit_done();
}
