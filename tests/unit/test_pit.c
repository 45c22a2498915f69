/*
 * The 8254 PIT (vdev/pit.c), compiled into this test so that its state
 * is reachable, with a fake TSC at 1193.182 MHz, i.e. exactly 1000 TSC
 * cycles per PIT clock: counting down, OUT in each mode and OUT2 in port
 * 0x61, the gate, latches, LSB/MSB sequencing, read-back, BCD, and
 * channel 0's interrupts through pit_tick(). vioapic_set_irq() and
 * io_register() are replaced by recorders.
 */
#include "vdev/pit.c"
#include "tests/unit/unit.h"

#define TSC_PER_CLOCK 1000ull

static uint64_t fake_tsc;
static struct vm vm;
static struct {
	uint64_t start, size;
	io_handler_t handler;
	void *opaque;
} regions[4];
static unsigned nregions;
static unsigned irq_edges, irq_bad_gsi;
static bool irq_line;

uint64_t vclock_tsc(void)
{
	return fake_tsc;
}

uint64_t tsc_khz_get(void)
{
	return PIT_HZ;
}

void vioapic_set_irq(struct vm *v, unsigned gsi, bool level)
{
	if (v != &vm || gsi != 2)
		irq_bad_gsi++;
	if (level && !irq_line)
		irq_edges++;
	irq_line = level;
}

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t handler,
		void *opaque)
{
	(void)bus;
	if (nregions < ARRAY_SIZE(regions))
		regions[nregions] = (typeof(regions[0])){ start, size, handler, opaque };
	nregions++;
	return 0;
}

static void setup(void)
{
	fake_tsc = 5000000;
	vm = (struct vm){ .id = 2 };
	nregions = irq_edges = irq_bad_gsi = 0;
	irq_line = false;
	CHECK_EQ(pit_vm_create(&vm), 0);
}

static enum io_result port(uint16_t p, unsigned size, bool write, uint64_t *v)
{
	for (unsigned i = 0; i < nregions; i++) {
		if (p >= regions[i].start && p < regions[i].start + regions[i].size) {
			struct io_access a = { .addr = p, .size = (uint8_t)size, .write = write,
					       .value = *v };
			enum io_result r = regions[i].handler(NULL, p - regions[i].start, &a,
							       regions[i].opaque);
			*v = a.value;
			return r;
		}
	}
	return IO_UNHANDLED;
}

static void pio_out(uint16_t p, uint8_t v)
{
	uint64_t x = v;

	CHECK_EQ(port(p, 1, true, &x), IO_HANDLED);
}

static uint8_t pio_in(uint16_t p)
{
	uint64_t x = 0x1234;

	CHECK_EQ(port(p, 1, false, &x), IO_HANDLED);
	return (uint8_t)x;
}

static void clocks(uint64_t n)
{
	fake_tsc += n * TSC_PER_CLOCK;
}

static void load(uint16_t p, uint16_t count)
{
	pio_out(p, (uint8_t)count);
	pio_out(p, (uint8_t)(count >> 8));
}

static unsigned read16(uint16_t p)
{
	unsigned lo = pio_in(p);

	return lo | (unsigned)pio_in(p) << 8;
}

static bool out2(void)
{
	return pio_in(0x61) & 0x20;
}

TEST(registration_and_sizes)
{
	uint64_t v = 0;

	setup();
	CHECK_EQ(nregions, 2);
	CHECK(regions[0].start == 0x40 && regions[0].size == 4);
	CHECK(regions[1].start == 0x61 && regions[1].size == 1);
	CHECK_EQ(port(0x40, 2, false, &v), IO_ERROR);
	CHECK_EQ(port(0x43, 4, true, &v), IO_ERROR);
	CHECK_EQ(port(0x61, 2, false, &v), IO_ERROR);
	CHECK_EQ(pio_in(0x43), 0xff);              /* write-only */
}

/* What Linux's pit_calibrate_tsc() does: gate on, mode 0, poll OUT2. */
TEST(mode0_out2_after_count)
{
	setup();
	pio_out(0x61, (pio_in(0x61) & ~0x02) | 0x01);
	CHECK_EQ(pio_in(0x61) & 0x0f, 0x01);
	pio_out(0x43, 0xb0);                       /* channel 2, LSB then MSB, mode 0 */
	CHECK(!out2());
	load(0x42, 23864);                         /* 20 ms */
	CHECK(!out2());
	CHECK_EQ(read16(0x42), 23864);
	clocks(23863);
	CHECK(!out2());
	CHECK_EQ(read16(0x42), 1);
	clocks(1);
	CHECK(out2());
	CHECK_EQ(read16(0x42), 0);
	clocks(1);
	CHECK(out2());                             /* stays high */
	CHECK_EQ(read16(0x42), 0xffff);            /* and the count wraps on */
	clocks(100000);
	CHECK(out2());
	CHECK_EQ(irq_edges, 0);                    /* channel 2 has no interrupt */
}

/* What Linux's quick_pit_calibrate() does: read the MSB as it falls. */
TEST(count_reads_fall_with_time)
{
	unsigned prev = 0xffff;

	setup();
	pio_out(0x61, 0x01);
	pio_out(0x43, 0xb0);
	load(0x42, 0xffff);
	for (unsigned i = 0; i < 50; i++) {
		unsigned now;

		clocks(256);
		now = read16(0x42);
		CHECK_EQ(now, 0xffff - 256 * (i + 1));
		CHECK(now < prev);
		prev = now;
	}
	/* reading the two bytes at different times sees the count move */
	pio_out(0x43, 0xb0);
	load(0x42, 0x1000);
	clocks(1);
	CHECK_EQ(pio_in(0x42), 0xff);              /* LSB of 0x0fff */
	clocks(0x100);
	CHECK_EQ(pio_in(0x42), 0x0e);              /* MSB of 0x0eff */
}

TEST(gate_pauses_mode0)
{
	setup();
	pio_out(0x43, 0xb0);
	load(0x42, 1000);                          /* gate low: not counting */
	clocks(5000);
	CHECK_EQ(read16(0x42), 1000);
	CHECK(!out2());
	pio_out(0x61, 0x01);
	clocks(600);
	CHECK_EQ(read16(0x42), 400);
	pio_out(0x61, 0x00);
	clocks(5000);
	CHECK_EQ(read16(0x42), 400);
	pio_out(0x61, 0x01);
	clocks(399);
	CHECK(!out2());
	clocks(1);
	CHECK(out2());
}

TEST(mode0_first_byte_stops_counting)
{
	setup();
	pio_out(0x61, 0x01);
	pio_out(0x43, 0xb0);
	load(0x42, 100);
	clocks(150);
	CHECK(out2());
	pio_out(0x42, 0x34);                       /* first byte: OUT low, counting stops */
	CHECK(!out2());
	clocks(10);
	pio_out(0x42, 0x12);
	CHECK_EQ(read16(0x42), 0x1234);
	clocks(0x1234);
	CHECK(out2());
}

TEST(latch_holds_until_read)
{
	setup();
	pio_out(0x43, 0x34);                       /* channel 0, LSB/MSB, mode 2 */
	load(0x40, 1000);
	clocks(100);
	pio_out(0x43, 0x00);                       /* latch channel 0 */
	clocks(50);
	pio_out(0x43, 0x00);                       /* ignored: the first is unread */
	CHECK_EQ(read16(0x40), 900);
	CHECK_EQ(read16(0x40), 850);               /* unlatched again */
	pio_out(0x43, 0x00);                       /* at 850 */
	clocks(10);
	CHECK_EQ(pio_in(0x40), (uint8_t)850);
	clocks(10);
	CHECK_EQ(pio_in(0x40), 850 >> 8);          /* MSB of the same latch */
	CHECK_EQ(read16(0x40), 830);
}

TEST(lsb_only_and_msb_only)
{
	setup();
	pio_out(0x43, 0x50);                       /* channel 1, LSB only, mode 0 */
	pio_out(0x41, 0x80);
	CHECK_EQ(pio_in(0x41), 0x80);
	clocks(0x10);
	CHECK_EQ(pio_in(0x41), 0x70);
	CHECK_EQ(pio_in(0x41), 0x70);              /* no flip-flop */
	pio_out(0x43, 0x60);                       /* channel 1, MSB only, mode 0 */
	pio_out(0x41, 0x12);
	CHECK_EQ(pio_in(0x41), 0x12);
	clocks(0x101);
	CHECK_EQ(pio_in(0x41), 0x10);              /* 0x1200 - 0x101 = 0x10ff */
	pio_out(0x43, 0x40);                       /* latch channel 1 */
	clocks(0x1000);
	CHECK_EQ(pio_in(0x41), 0x10);              /* one byte latched */
	CHECK_EQ(pio_in(0x41), 0x00);
}

TEST(read_back)
{
	setup();
	pio_out(0x43, 0x34);                       /* channel 0, mode 2 */
	/* after the control word: null count, OUT high in mode 2 */
	pio_out(0x43, 0xe2);                       /* status of channel 0 only */
	CHECK_EQ(pio_in(0x40), 0x80 | 0x40 | 0x34);
	load(0x40, 500);
	clocks(123);
	pio_out(0x43, 0xc2);                       /* count and status, channel 0 */
	clocks(7);
	CHECK_EQ(pio_in(0x40), 0x80 | 0x34);       /* status first: loaded, OUT high */
	CHECK_EQ(read16(0x40), 377);               /* then the count */
	CHECK_EQ(read16(0x40), 370);
	/* several channels at once; channel 2 in mode 0 has OUT low */
	pio_out(0x61, 0x01);
	pio_out(0x43, 0xb0);
	load(0x42, 1000);
	clocks(10);
	pio_out(0x43, 0xca);                       /* count + status, channels 0 and 2 */
	clocks(10);
	CHECK_EQ(pio_in(0x42), 0x30);
	CHECK_EQ(read16(0x42), 990);
	CHECK_EQ(pio_in(0x40), 0x80 | 0x34);
	CHECK_EQ(read16(0x40), 500 - 140);
	pio_out(0x43, 0xd8);                       /* count only, channel 2 */
	pio_out(0x43, 0xe8);                       /* status only, channel 2 */
	clocks(980);
	CHECK_EQ(pio_in(0x42), 0x30);              /* both as they were when latched */
	CHECK_EQ(read16(0x42), 980);
	pio_out(0x43, 0xe8);
	CHECK_EQ(pio_in(0x42), 0xb0);              /* now OUT is high at count 0 */
	CHECK_EQ(read16(0x42), 0);
}

TEST(mode2_and_mode3_waveforms)
{
	unsigned high = 0;

	setup();
	pio_out(0x61, 0x01);
	pio_out(0x43, 0xb4);                       /* channel 2, mode 2 */
	load(0x42, 10);
	for (unsigned t = 0; t < 30; t++, clocks(1))
		CHECK_EQ(out2(), t % 10 != 9);
	pio_out(0x43, 0xb6);                       /* channel 2, mode 3, square wave */
	load(0x42, 10);
	for (unsigned t = 0; t < 30; t++, clocks(1))
		CHECK_EQ(out2(), t % 10 < 5);
	CHECK_EQ(read16(0x42), 10);
	clocks(2);
	CHECK_EQ(read16(0x42), 6);                 /* by two in each half */
	clocks(3);
	CHECK_EQ(read16(0x42), 10);
	pio_out(0x43, 0xb6);
	load(0x42, 7);                             /* odd: high one clock longer */
	for (unsigned t = 0; t < 70; t++, clocks(1))
		high += out2();
	CHECK_EQ(high, 40);
	/* gate low forces OUT high and stops; high again restarts the period */
	pio_out(0x43, 0xb4);
	load(0x42, 10);
	clocks(9);
	CHECK(!out2());
	pio_out(0x61, 0x00);
	CHECK(out2());
	pio_out(0x61, 0x01);
	CHECK_EQ(read16(0x42), 10);
}

TEST(bcd_counting)
{
	setup();
	pio_out(0x61, 0x01);
	pio_out(0x43, 0xb1);                       /* channel 2, LSB/MSB, mode 0, BCD */
	load(0x42, 0x1234);
	clocks(235);
	CHECK_EQ(read16(0x42), 0x0999);
	clocks(999);
	CHECK(out2());
	clocks(1);
	CHECK_EQ(read16(0x42), 0x9999);            /* wraps at 10000 */
	pio_out(0x43, 0xb1);
	load(0x42, 0);                             /* 0 = 10000 */
	clocks(9999);
	CHECK(!out2());
	clocks(1);
	CHECK(out2());
}

TEST(channel0_periodic_interrupts)
{
	setup();
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 0);                    /* not programmed */
	CHECK_EQ(pit_next_event_tsc(&vm), UINT64_MAX);
	pio_out(0x43, 0x34);                       /* Linux: mode 2, LATCH for HZ=250 */
	load(0x40, 4773);
	CHECK_EQ(pit_next_event_tsc(&vm), fake_tsc + 4773 * TSC_PER_CLOCK);
	clocks(4772);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 0);
	clocks(1);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 1);
	CHECK(!irq_line);                          /* a pulse: the line is low again */
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 1);                    /* once per period */
	for (unsigned i = 0; i < 10; i++) {
		clocks(4773);
		pit_tick(&vm);
	}
	CHECK_EQ(irq_edges, 11);
	CHECK_EQ(pits[2].coalesced, 0);
	clocks(5 * 4773 + 100);                    /* five periods, one call */
	pit_tick(&vm);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 12);
	CHECK_EQ(pits[2].coalesced, 4);
	CHECK_EQ(pit_next_event_tsc(&vm), fake_tsc - 100 * TSC_PER_CLOCK + 4773 * TSC_PER_CLOCK);
	clocks(4773 - 100);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 13);
	CHECK_EQ(irq_bad_gsi, 0);
}

TEST(channel0_one_shot_and_stop)
{
	setup();
	pio_out(0x43, 0x30);                       /* mode 0: one interrupt */
	load(0x40, 100);
	clocks(99);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 0);
	clocks(1);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 1);
	CHECK_EQ(pit_next_event_tsc(&vm), UINT64_MAX);
	clocks(70000);                             /* past the wrap: still one */
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 1);
	pio_out(0x43, 0x38);                       /* mode 4: strobe after N+1 clocks */
	load(0x40, 50);
	clocks(50);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 1);
	clocks(1);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 2);
	pio_out(0x43, 0x34);                       /* a control word alone stops it */
	clocks(100000);
	pit_tick(&vm);
	CHECK_EQ(irq_edges, 2);
}

TEST(reset_and_refresh_toggle)
{
	unsigned toggles = 0;
	bool last;

	setup();
	pio_out(0x61, 0xff);
	CHECK_EQ(pio_in(0x61) & 0xcf, 0x0f);       /* only bits 0-3 are kept */
	last = pio_in(0x61) & 0x10;
	for (unsigned i = 0; i < 36 * 10; i++) {
		bool now;

		clocks(1);
		now = pio_in(0x61) & 0x10;
		toggles += now != last;
		last = now;
	}
	CHECK_EQ(toggles, 20);                     /* every 18 clocks */
	pit_reset(&vm);
	CHECK_EQ(pio_in(0x61) & 0x0f, 0);
	CHECK(out2());                             /* mode 3, not loaded: OUT high */
}

int main(void)
{
	RUN(registration_and_sizes);
	RUN(mode0_out2_after_count);
	RUN(count_reads_fall_with_time);
	RUN(gate_pauses_mode0);
	RUN(mode0_first_byte_stops_counting);
	RUN(latch_holds_until_read);
	RUN(lsb_only_and_msb_only);
	RUN(read_back);
	RUN(mode2_and_mode3_waveforms);
	RUN(bcd_counting);
	RUN(channel0_periodic_interrupts);
	RUN(channel0_one_shot_and_stop);
	RUN(reset_and_refresh_toggle);
	return unit_done();
}
