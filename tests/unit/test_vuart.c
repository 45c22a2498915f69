/*
 * The virtual 16550A (vdev/vuart.c), compiled into this test so that its
 * state is reachable: receive FIFO and overrun, LSR, IIR priorities and
 * FIFO bits, FCR, trigger levels and the time-out indication, the THR
 * empty interrupt, the divisor latch, loopback and Linux's FIFO size
 * probe. vioapic_set_irq(), io_register() and vm_console_putc() are
 * replaced by recorders.
 */
#include "vdev/vuart.c"
#include "tests/unit/unit.h"

#define COM1 0x3f8
#define RBR (COM1 + 0)
#define IER (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

static struct vm vm;
static struct vm_config cfg;
static struct vcpu vcpu;
static io_handler_t handler;
static void *handler_opaque;
static uint64_t region_start, region_size;
static unsigned irq_edges, irq_bad;
static bool irq_line;
static char tx[512];
static unsigned ntx;

void vioapic_set_irq(struct vm *v, unsigned gsi, bool level)
{
	if (v != &vm || gsi != 4 || level == irq_line)
		irq_bad++;      /* the line is told only of changes */
	if (level && !irq_line)
		irq_edges++;
	irq_line = level;
}

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t h, void *opaque)
{
	(void)bus;
	region_start = start;
	region_size = size;
	handler = h;
	handler_opaque = opaque;
	return 0;
}

void vm_console_putc(struct vm *v, char c)
{
	if (v == &vm && ntx < sizeof(tx))
		tx[ntx++] = c;
}

static void setup(void)
{
	cfg = (struct vm_config){ .console_uart = true };
	vm = (struct vm){ .id = 3, .cfg = &cfg };
	vcpu = (struct vcpu){ .vm = &vm };
	handler = NULL;
	irq_edges = irq_bad = 0;
	irq_line = false;
	ntx = 0;
	CHECK_EQ(vuart_vm_create(&vm), 0);
	CHECK_EQ(region_start, COM1);
	CHECK_EQ(region_size, 8);
}

static enum io_result access(uint16_t port, unsigned size, bool write, uint64_t *v)
{
	struct io_access a = { .addr = port, .size = (uint8_t)size, .write = write, .value = *v };
	enum io_result r = handler(&vcpu, port - region_start, &a, handler_opaque);

	*v = a.value;
	return r;
}

static void out(uint16_t port, uint8_t v)
{
	uint64_t x = v;

	CHECK_EQ(access(port, 1, true, &x), IO_HANDLED);
}

static uint8_t in(uint16_t port)
{
	uint64_t x = 0x1234;

	CHECK_EQ(access(port, 1, false, &x), IO_HANDLED);
	CHECK(x <= 0xff);
	return (uint8_t)x;
}

static void type(const char *s)
{
	while (*s)
		CHECK(vuart_receive(&vm, (uint8_t)*s++));
}

TEST(reset_state)
{
	setup();
	CHECK_EQ(in(IIR), 0x01);
	CHECK_EQ(in(LSR), 0x60);
	CHECK_EQ(in(MSR), 0xb0);
	CHECK_EQ(in(IER), 0);
	CHECK_EQ(in(RBR), 0);         /* empty: reads 0 */
	CHECK(!irq_line);
}

TEST(only_byte_accesses)
{
	uint64_t v = 0;

	setup();
	CHECK_EQ(access(LSR, 2, false, &v), IO_ERROR);
	CHECK_EQ(access(RBR, 4, true, &v), IO_ERROR);
}

TEST(receive_polled_without_fifos)
{
	setup();
	type("hi");
	CHECK_EQ(in(LSR), 0x61);      /* DR, THRE, TEMT */
	CHECK_EQ(in(IIR), 0x01);      /* ERBFI off: nothing pending */
	CHECK(!irq_line);
	CHECK_EQ(in(RBR), 'h');
	CHECK_EQ(in(LSR) & 1, 1);
	CHECK_EQ(in(RBR), 'i');
	CHECK_EQ(in(LSR), 0x60);
	CHECK_EQ(irq_bad, 0);
}

TEST(receive_interrupt_without_fifos)
{
	setup();
	out(IER, 0x01);
	CHECK(!irq_line);
	type("x");
	CHECK(irq_line);
	CHECK_EQ(irq_edges, 1);
	CHECK_EQ(in(IIR), 0x04);      /* no FIFO bits, received data available */
	CHECK(irq_line);              /* reading IIR does not clear it */
	CHECK_EQ(in(RBR), 'x');
	CHECK(!irq_line);
	CHECK_EQ(in(IIR), 0x01);
	/* Data waiting when ERBFI is enabled interrupts at once. */
	out(IER, 0);
	type("y");
	CHECK(!irq_line);
	out(IER, 0x01);
	CHECK(irq_line);
	CHECK_EQ(irq_bad, 0);
}

TEST(sixteen_bytes_then_overrun)
{
	setup();
	out(IER, 0x05);               /* ERBFI, ELSI */
	type("0123456789abcdef");
	CHECK_EQ(in(LSR), 0x61);      /* full, no error yet */
	type("XY");                   /* lost */
	CHECK_EQ(in(IIR), 0x06);      /* line status outranks data */
	CHECK_EQ(in(LSR), 0x63);      /* OE */
	CHECK_EQ(in(LSR), 0x61);      /* cleared by reading LSR */
	CHECK_EQ(in(IIR), 0x04);
	for (const char *p = "0123456789abcdef"; *p; p++)
		CHECK_EQ(in(RBR), *p);
	CHECK_EQ(in(LSR), 0x60);
	CHECK(!irq_line);
	CHECK_EQ(irq_bad, 0);
}

TEST(fifo_enable_shows_in_iir)
{
	setup();
	out(FCR, 0x01);
	CHECK_EQ(in(IIR), 0xc1);
	out(FCR, 0x00);
	CHECK_EQ(in(IIR), 0x01);
	/* The other bits take only with FCR0 set. */
	out(FCR, 0xc0);
	CHECK_EQ(in(IIR), 0x01);
}

TEST(trigger_level_and_timeout)
{
	static const struct { uint8_t fcr; unsigned level; } cases[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};

	for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
		setup();
		out(FCR, cases[k].fcr);
		out(IER, 0x01);
		for (unsigned i = 1; i <= 15; i++) {
			CHECK(vuart_receive(&vm, (uint8_t)('a' + i)));
			CHECK_EQ(in(IIR), i >= cases[k].level ? 0xc4 : 0xcc);
			CHECK(irq_line);
		}
		/* Reading below the level turns it into a time-out. */
		for (unsigned left = 15; left; left--) {
			CHECK_EQ(in(IIR), left >= cases[k].level ? 0xc4 : 0xcc);
			in(RBR);
		}
		CHECK_EQ(in(IIR), 0xc1);
		CHECK(!irq_line);
		CHECK_EQ(irq_edges, 1);
		CHECK_EQ(irq_bad, 0);
	}
}

TEST(fcr_clears_the_receiver)
{
	setup();
	out(FCR, 0x01);
	type("abc");
	out(FCR, 0x03);               /* clear RCVR, FIFOs stay on */
	CHECK_EQ(in(LSR), 0x60);
	CHECK_EQ(in(IIR), 0xc1);
	type("abc");
	out(FCR, 0x00);               /* FIFOs off: cleared too */
	CHECK_EQ(in(LSR), 0x60);
	type("abc");
	out(FCR, 0x01);               /* and on again */
	CHECK_EQ(in(LSR), 0x60);
	type("d");
	out(FCR, 0x81);               /* FCR0 unchanged: data stays, level changes */
	CHECK_EQ(in(LSR), 0x61);
	CHECK_EQ(in(RBR), 'd');
}

TEST(overrun_keeps_fifo_contents_and_clear_keeps_oe)
{
	setup();
	out(FCR, 0x01);
	for (int i = 0; i < 17; i++)
		CHECK(vuart_receive(&vm, (uint8_t)i));
	out(FCR, 0x03);               /* clearing the FIFO leaves OE for LSR to report */
	CHECK_EQ(in(LSR), 0x62);
	CHECK_EQ(in(LSR), 0x60);
}

TEST(rx_data_before_thr_empty)
{
	setup();
	out(IER, 0x03);               /* ERBFI and ETBEI: THRE pending at once */
	CHECK(irq_line);
	CHECK_EQ(irq_edges, 1);
	type("z");
	CHECK_EQ(in(IIR), 0x04);      /* data first; THRE stays pending */
	CHECK_EQ(in(RBR), 'z');
	CHECK(irq_line);
	CHECK_EQ(in(IIR), 0x02);      /* now THRE, and reading acknowledges it */
	CHECK(!irq_line);
	CHECK_EQ(in(IIR), 0x01);
	CHECK_EQ(irq_bad, 0);
}

TEST(thr_write_pulses_the_line)
{
	setup();
	out(IER, 0x02);
	CHECK_EQ(irq_edges, 1);
	out(RBR, 'A');                /* THR: a new "empty" after the byte left */
	CHECK_EQ(irq_edges, 2);
	CHECK(irq_line);
	CHECK_EQ(in(IIR), 0x02);
	CHECK(!irq_line);
	out(RBR, 'B');
	CHECK_EQ(irq_edges, 3);
	CHECK_EQ(ntx, 2);
	CHECK(tx[0] == 'A' && tx[1] == 'B');
	/* Without ETBEI nothing moves. */
	out(IER, 0);
	CHECK(!irq_line);
	out(RBR, 'C');
	CHECK_EQ(irq_edges, 3);
	CHECK_EQ(irq_bad, 0);
}

TEST(divisor_latch_and_dlab)
{
	setup();
	out(LCR, 0x83);
	out(RBR, 0x0c);
	out(IER, 0x00);
	CHECK_EQ(in(RBR), 0x0c);
	CHECK_EQ(in(IER), 0x00);
	out(FCR, 0x01);               /* FCR and IIR do not depend on DLAB */
	CHECK_EQ(in(IIR), 0xc1);
	type("q");
	CHECK_EQ(in(RBR), 0x0c);      /* the latch, not the data */
	out(LCR, 0x03);
	CHECK_EQ(in(LCR), 0x03);
	CHECK_EQ(in(RBR), 'q');
	CHECK_EQ(ntx, 0);             /* divisor writes are not output */
}

TEST(ier_scratch_mcr)
{
	setup();
	out(IER, 0xff);
	CHECK_EQ(in(IER), 0x0f);
	out(IER, 0);
	out(SCR, 0xa5);
	CHECK_EQ(in(SCR), 0xa5);
	out(MCR, 0xff);
	CHECK_EQ(in(MCR), 0x1f);
}

TEST(loopback)
{
	setup();
	out(MCR, 0x1a);               /* LOOP | OUT2 | RTS: Linux's test */
	CHECK_EQ(in(MSR) & 0xf0, 0x90);
	out(MCR, 0x15);               /* LOOP | OUT1 | DTR */
	CHECK_EQ(in(MSR) & 0xf0, 0x60);
	out(RBR, 'L');
	CHECK_EQ(ntx, 0);             /* not on the console */
	CHECK_EQ(in(RBR), 'L');
	type("t");                    /* the line is disconnected */
	CHECK_EQ(in(LSR), 0x60);
	out(MCR, 0x03);
	CHECK_EQ(in(MSR), 0xb0);
	type("t");
	CHECK_EQ(in(RBR), 't');
}

/* Linux's size_fifo(): loopback, 256 bytes out, count what came back. */
TEST(linux_fifo_size_probe_sees_16)
{
	unsigned count = 0;

	setup();
	out(FCR, 0x07);
	out(MCR, 0x10);
	out(LCR, 0x80);
	out(RBR, 0x01);
	out(IER, 0x00);
	out(LCR, 0x03);
	for (unsigned i = 0; i < 256; i++)
		out(RBR, (uint8_t)i);
	while ((in(LSR) & 1) && count < 256) {
		CHECK_EQ(in(RBR), count);
		count++;
	}
	CHECK_EQ(count, 16);
	CHECK_EQ(ntx, 0);
}

TEST(reset_empties_everything)
{
	setup();
	out(FCR, 0x01);
	out(IER, 0x01);
	type("abc");
	CHECK(irq_line);
	vuart_reset(&vm);
	irq_line = false;             /* the vIOAPIC is reset beside it */
	CHECK_EQ(in(LSR), 0x60);
	CHECK_EQ(in(IIR), 0x01);
	CHECK_EQ(in(IER), 0);
}

TEST(no_uart_no_input)
{
	setup();
	cfg.console_uart = false;
	CHECK(!vuart_receive(&vm, 'a'));
}

int main(void)
{
	RUN(reset_state);
	RUN(only_byte_accesses);
	RUN(receive_polled_without_fifos);
	RUN(receive_interrupt_without_fifos);
	RUN(sixteen_bytes_then_overrun);
	RUN(fifo_enable_shows_in_iir);
	RUN(trigger_level_and_timeout);
	RUN(fcr_clears_the_receiver);
	RUN(overrun_keeps_fifo_contents_and_clear_keeps_oe);
	RUN(rx_data_before_thr_empty);
	RUN(thr_write_pulses_the_line);
	RUN(divisor_latch_and_dlab);
	RUN(ier_scratch_mcr);
	RUN(loopback);
	RUN(linux_fifo_size_probe_sees_16);
	RUN(reset_empties_everything);
	RUN(no_uart_no_input);
	return unit_done();
}
