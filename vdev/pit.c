/*
 * An Intel 8254 programmable interval timer at ports 0x40-0x43, and the
 * PC/AT system control port B at 0x61 (bit 0 gates channel 2, bit 5
 * shows channel 2's OUT, bit 4 the refresh toggle). Each counter is
 * computed from the TSC at 1.193182 MHz when it is read, so reads count
 * down as on hardware; Linux calibrates the TSC by polling OUT2 or the
 * count of channel 2 in mode 0.
 *
 * Behaviour follows the 8254 data sheet ("Modes", "Gate", "Read
 * Operations", "Read-Back Command"), with two simplifications: a count
 * is loaded when its last byte is written rather than on the next CLK
 * pulse, and a new count written in modes 2 and 3 starts a new period at
 * once instead of at the end of the current one.
 *
 * Channel 0 interrupts through the IOAPIC (GSI 2, the MADT's override of
 * IRQ 0) when pit_tick() notices that OUT has risen.
 */
#include "core/spinlock.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/pit.h"
#include "vdev/vclock.h"
#include "vdev/vioapic.h"

#define PIT_HZ 1193182u
#define PIT_PORT 0x40
#define PIT_CTRL 3           /* offset of the control word register */
#define PIT_GSI 2
#define PORT_B 0x61
#define PORTB_GATE2 0x01
#define PORTB_RW 0x0f        /* gate 2, speaker data, parity and I/O check enables */
#define PORTB_REFRESH 0x10
#define PORTB_OUT2 0x20
#define REFRESH_CLOCKS 18    /* AT channel 1: a refresh request every 15 us */

/* Control word: SC1 SC0 RW1 RW0 M2 M1 M0 BCD. */
#define CW_SC(v) ((unsigned)(v) >> 6)
#define CW_RW(v) (((unsigned)(v) >> 4) & 3)
#define CW_MODE(v) (((unsigned)(v) >> 1) & 7)
#define CW_BCD 0x01
#define SC_READBACK 3
#define RW_LATCH 0
#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD 3
/* Read-back command: COUNT and STATUS (bits 5, 4) are active low. */
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10
#define STATUS_OUT 0x80
#define STATUS_NULL_COUNT 0x40

struct pit_channel {
	uint8_t ctrl;         /* RW, mode and BCD bits of the last control word */
	uint8_t mode;         /* 0-5 (6 and 7 are 2 and 3) */
	uint32_t n;           /* initial count in clocks: 1..65536, or 1..10000 in BCD */
	bool loaded;          /* a whole count was written after the control word */
	bool pause;           /* mode 0: the first byte of a new count came */
	bool gate;
	bool triggered;       /* modes 1 and 5: a rising gate started the count */
	bool null_count;      /* a count was written but not yet loaded */
	uint64_t start;       /* TSC when the counting after @done began */
	uint64_t done;        /* clocks counted since the load, before @start */
	uint64_t irqs;        /* rising edges of OUT since the load already raised */
	uint16_t latch;
	uint8_t latch_bytes;  /* bytes of @latch still to be read */
	bool status_latched;
	uint8_t status;
	bool read_msb, write_msb;   /* the two-byte access flip-flops */
	uint8_t write_lsb;
};

struct pit {
	spinlock_t lock;
	struct pit_channel ch[3];
	uint8_t port_b;
	uint64_t due_tsc;     /* channel 0's next interrupt; read without the lock */
	uint64_t coalesced;   /* channel 0 periods merged into another's interrupt */
};

static struct pit pits[CONFIG_MAX_VMS];

static uint32_t ch_modulus(const struct pit_channel *c)
{
	return c->ctrl & CW_BCD ? 10000 : 65536;
}

static bool ch_running(const struct pit_channel *c)
{
	if (!c->loaded || c->pause)
		return false;
	if (c->mode == 1 || c->mode == 5)
		return c->triggered;
	return c->gate;
}

/* Clocks counted since the count was loaded (or the gate restarted it). */
static uint64_t ch_clocks(const struct pit_channel *c, uint64_t now)
{
	if (!ch_running(c) || now < c->start)
		return c->done;
	return c->done + vclock_ticks(now - c->start, PIT_HZ);
}

/* OUT after @t clocks. */
static bool ch_out(const struct pit_channel *c, uint64_t t)
{
	bool armed = c->loaded && !c->pause;

	switch (c->mode) {
	case 0: return armed && t >= c->n;     /* low from the control word to terminal count */
	case 1: return !(armed && c->triggered) || t >= c->n;
	case 2: return !armed || !c->gate || t % c->n != c->n - 1;   /* low while the count is 1 */
	case 3: return !armed || !c->gate || t % c->n < (c->n + 1) / 2;
	case 4: return !armed || t != c->n;    /* one clock low at terminal count */
	default: return !(armed && c->triggered) || t != c->n;
	}
}

/* Rising edges of OUT in the first @t clocks: what channel 0 interrupts on. */
static uint64_t ch_edges(const struct pit_channel *c, uint64_t t)
{
	if (!c->loaded || c->pause)
		return 0;
	switch (c->mode) {
	case 0: return t >= c->n;
	case 1: return c->triggered && t >= c->n;
	case 2:
	case 3: return t / c->n;
	case 4: return t > c->n;
	default: return c->triggered && t > c->n;
	}
}

/* The counting element after @t clocks. Mode 3 counts down by two, each half period. */
static uint32_t ch_count(const struct pit_channel *c, uint64_t t)
{
	uint32_t m = ch_modulus(c), n = c->n, p, half, left;

	switch (c->mode) {
	case 2:
		return (n - (uint32_t)(t % n)) % m;
	case 3:
		p = (uint32_t)(t % n);
		half = (n + 1) / 2;
		left = p < half ? half - p : n / 2 - (p - half);
		return MIN(2 * left, n & ~1u) % m;
	default:   /* one-shot modes go on counting down through zero */
		return (n + m - (uint32_t)(t % m)) % m;
	}
}

static uint16_t bin_to_bcd16(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t bcd16_to_bin(uint16_t v)
{
	return (v >> 12) * 1000u + (v >> 8 & 0xf) * 100u + (v >> 4 & 0xf) * 10u + (v & 0xf);
}

static uint16_t ch_count_reg(const struct pit_channel *c, uint64_t now)
{
	uint32_t v = ch_count(c, ch_clocks(c, now));

	return c->ctrl & CW_BCD ? bin_to_bcd16(v) : (uint16_t)v;
}

static uint8_t ch_status(const struct pit_channel *c, uint64_t now)
{
	return (uint8_t)((ch_out(c, ch_clocks(c, now)) ? STATUS_OUT : 0) |
			 (c->null_count ? STATUS_NULL_COUNT : 0) | c->ctrl);
}

static void ch_latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->latch_bytes)
		return;   /* the first latch holds until it has been read */
	c->latch = ch_count_reg(c, now);
	c->latch_bytes = CW_RW(c->ctrl) == RW_WORD ? 2 : 1;
}

static void ch_load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
	uint32_t m = ch_modulus(c), n = c->ctrl & CW_BCD ? bcd16_to_bin(raw) % m : raw;

	c->n = n ? n : m;   /* zero is the largest count */
	c->loaded = true;
	c->pause = c->triggered = c->null_count = false;
	c->start = now;
	c->done = c->irqs = 0;
}

static void ch_control(struct pit_channel *c, uint8_t v)
{
	unsigned mode = CW_MODE(v);

	c->ctrl = v & 0x3f;
	c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);
	c->loaded = c->pause = c->triggered = false;
	c->null_count = true;
	c->done = c->irqs = 0;
	c->latch_bytes = 0;
	c->status_latched = c->read_msb = c->write_msb = false;
}

static void ch_write(struct pit_channel *c, uint8_t v, uint64_t now)
{
	switch (CW_RW(c->ctrl)) {
	case RW_LSB:
		ch_load(c, v, now);
		return;
	case RW_MSB:
		ch_load(c, (uint16_t)(v << 8), now);
		return;
	default:
		break;
	}
	if (c->write_msb) {
		c->write_msb = false;
		ch_load(c, (uint16_t)(c->write_lsb | v << 8), now);
		return;
	}
	c->write_lsb = v;
	c->write_msb = c->null_count = true;
	if (c->mode == 0 && c->loaded) {   /* the first byte stops mode 0 counting */
		c->done = ch_clocks(c, now);
		c->pause = true;
	}
}

static uint8_t ch_read(struct pit_channel *c, uint64_t now)
{
	unsigned rw = CW_RW(c->ctrl);
	uint16_t v;
	bool msb;

	if (c->status_latched) {   /* status comes before a count latched with it */
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_bytes) {
		v = c->latch;
		c->latch_bytes--;
	} else {
		v = ch_count_reg(c, now);
	}
	msb = rw == RW_MSB || (rw == RW_WORD && c->read_msb);
	if (rw == RW_WORD)
		c->read_msb = !c->read_msb;
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

/* A rising gate triggers modes 1 and 5 and restarts 2 and 3; a low one pauses 0, 2, 3, 4. */
static void ch_set_gate(struct pit_channel *c, bool gate, uint64_t now)
{
	if (gate == c->gate)
		return;
	c->done = ch_clocks(c, now);
	c->start = now;
	c->gate = gate;
	if (gate && c->loaded && c->mode != 0 && c->mode != 4) {
		c->done = c->irqs = 0;
		c->triggered = true;
	}
}

static void pit_readback(struct pit *p, uint8_t v, uint64_t now)
{
	for (unsigned i = 0; i < ARRAY_SIZE(p->ch); i++) {
		struct pit_channel *c = &p->ch[i];

		if (!(v & (2u << i)))
			continue;
		if (!(v & RB_NO_COUNT))
			ch_latch_count(c, now);
		if (!(v & RB_NO_STATUS) && !c->status_latched) {
			c->status = ch_status(c, now);
			c->status_latched = true;
		}
	}
}

static void pit_control(struct pit *p, uint8_t v, uint64_t now)
{
	if (CW_SC(v) == SC_READBACK)
		pit_readback(p, v, now);
	else if (CW_RW(v) == RW_LATCH)
		ch_latch_count(&p->ch[CW_SC(v)], now);
	else
		ch_control(&p->ch[CW_SC(v)], v);
}

static uint64_t ch_next_edge_tsc(const struct pit_channel *c)
{
	uint64_t edge;

	if (!ch_running(c))
		return UINT64_MAX;
	if (c->mode == 2 || c->mode == 3)
		edge = (c->irqs + 1) * c->n;
	else if (c->irqs)
		return UINT64_MAX;   /* the one-shot has fired */
	else
		edge = c->mode == 4 || c->mode == 5 ? c->n + 1 : c->n;
	return c->start + (edge > c->done ? vclock_tsc_of(edge - c->done, PIT_HZ) : 0);
}

static void pit_update_due(struct pit *p)
{
	__atomic_store_n(&p->due_tsc, ch_next_edge_tsc(&p->ch[0]), __ATOMIC_RELEASE);
}

static enum io_result pit_io(struct vcpu *vcpu, uint64_t off, struct io_access *a, void *opaque)
{
	struct pit *p = opaque;
	uint64_t now = vclock_tsc();

	(void)vcpu;
	if (a->size != 1)
		return IO_ERROR;   /* the 8254 has byte registers only */
	spin_lock(&p->lock);
	if (off == PIT_CTRL && a->write)
		pit_control(p, (uint8_t)a->value, now);
	else if (off == PIT_CTRL)
		a->value = 0xff;   /* the control word register is write-only */
	else if (a->write)
		ch_write(&p->ch[off], (uint8_t)a->value, now);
	else
		a->value = ch_read(&p->ch[off], now);
	if (a->write)
		pit_update_due(p);
	spin_unlock(&p->lock);
	return IO_HANDLED;
}

static uint8_t port_b_read(const struct pit *p, uint64_t now)
{
	const struct pit_channel *c2 = &p->ch[2];
	uint8_t v = p->port_b;

	if (vclock_ticks(now, PIT_HZ) / REFRESH_CLOCKS % 2)
		v |= PORTB_REFRESH;
	if (ch_out(c2, ch_clocks(c2, now)))
		v |= PORTB_OUT2;
	return v;
}

static enum io_result port_b_io(struct vcpu *vcpu, uint64_t off, struct io_access *a,
				void *opaque)
{
	struct pit *p = opaque;
	uint64_t now = vclock_tsc();

	(void)vcpu, (void)off;
	if (a->size != 1)
		return IO_ERROR;
	spin_lock(&p->lock);
	if (a->write) {
		p->port_b = (uint8_t)(a->value & PORTB_RW);
		ch_set_gate(&p->ch[2], a->value & PORTB_GATE2, now);
	} else {
		a->value = port_b_read(p, now);
	}
	spin_unlock(&p->lock);
	return IO_HANDLED;
}

/* Has channel 0's OUT risen since the last interrupt? Merges all but one. */
static bool ch0_is_due(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t edges = ch_edges(c, ch_clocks(c, now));

	if (edges <= c->irqs)
		return false;
	p->coalesced += edges - c->irqs - 1;
	c->irqs = edges;
	return true;
}

void pit_tick(struct vm *vm)
{
	struct pit *p = &pits[vm->id];
	uint64_t now = vclock_tsc();
	bool due;

	if (now < __atomic_load_n(&p->due_tsc, __ATOMIC_ACQUIRE))
		return;   /* the usual case, cheap enough for every exit */
	if (!spin_trylock(&p->lock))
		return;   /* a vCPU is programming it; the next call catches up */
	due = ch0_is_due(p, now);
	pit_update_due(p);
	spin_unlock(&p->lock);
	if (due) {
		vioapic_set_irq(vm, PIT_GSI, true);
		vioapic_set_irq(vm, PIT_GSI, false);
	}
}

uint64_t pit_next_event_tsc(struct vm *vm)
{
	return __atomic_load_n(&pits[vm->id].due_tsc, __ATOMIC_ACQUIRE);
}

/* No BIOS has run: the counters wait for their first control word and count. */
static void pit_reset(struct vm *vm)
{
	struct pit *p = &pits[vm->id];

	*p = (struct pit){ .lock = SPINLOCK_INIT, .due_tsc = UINT64_MAX };
	for (unsigned i = 0; i < ARRAY_SIZE(p->ch); i++)
		p->ch[i] = (struct pit_channel){
			.ctrl = RW_WORD << 4 | 3 << 1, .mode = 3, .n = 65536, .gate = i != 2,
		};
}

static int pit_vm_create(struct vm *vm)
{
	int err;

	pit_reset(vm);
	err = io_register(&vm->pio, PIT_PORT, 4, pit_io, &pits[vm->id]);
	return err ?: io_register(&vm->pio, PORT_B, 1, port_b_io, &pits[vm->id]);
}

DEFINE_UNIT(pit, .vm_create = pit_vm_create, .vm_reset = pit_reset);
