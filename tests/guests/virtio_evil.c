/*
 * A hostile virtio driver: drives the VM's virtio-rng device (virtio 1.2
 * 5.4 over the modern PCI transport, 4.1) as a raw driver, then breaks
 * the rules one case at a time. Each violation must leave the device in
 * DEVICE_NEEDS_RESET (2.1.2) with nothing used, a kick while it is there
 * must do nothing, and after a reset and a fresh initialisation
 * (3.1.1) a good request must come back filled. What a device may
 * ignore or refuse without a reset (a kick at the notify address of a
 * queue that does not exist, a kick before DRIVER_OK or after a reset,
 * features it does not offer) must not break the device. Last, a buffer
 * over the device's own available ring: whatever the device then finds
 * there, it must stay bounded and recover after a reset.
 *
 * One "virtio_evil: PASS|FAIL <case>: ..." line per check; the test
 * (tests/test_virtio_evil.py) matches the hypervisor's
 * "virtio: VM ... needs reset" message of each case. Exit status: the
 * number of failed checks; EXIT_NO_DEVICE if there is no virtio-rng.
 * The device is polled (used ring, device_status); the only interrupt
 * is the timer of the naps between rounds (cmdline: see main()).
 */
#include <stdbool.h>

#include "tests/guests/lib/guest.h"

GUEST_NAME("virtio_evil");

#define EXIT_NO_DEVICE 0x7d

/* PCI configuration mechanism #1 (PCI Local Bus 3.0 3.2.2.3.2). */
#define PCI_ADDR_PORT 0xcf8
#define PCI_DATA_PORT 0xcfc
#define PCI_VENDOR 0x1af4
#define PCI_DEVICE_RNG 0x1044          /* 0x1040 + 4, entropy (4.1.2) */
#define PCI_COMMAND 0x04
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_STATUS_CAPS 0x10
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_CAP_VNDR 0x09
#define PCI_CAP_MSIX 0x11
#define MSIX_ENABLE (1u << 15)

/* virtio_pci_cap.cfg_type (4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3

/* Common configuration (4.1.4.3). */
#define CC_DFSEL 0x00
#define CC_DF 0x04
#define CC_GFSEL 0x08
#define CC_GF 0x0c
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_MSIX_CONFIG 0x10
#define CC_QSEL 0x16
#define CC_QSIZE 0x18
#define CC_QMSIX 0x1a
#define CC_QENABLE 0x1c
#define CC_QNOTIFY 0x1e
#define CC_QDESC 0x20
#define CC_QDRIVER 0x28
#define CC_QDEVICE 0x30

#define ST_ACK 1u
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define ST_NEEDS_RESET 0x40u

#define F_INDIRECT (1ull << 28)
#define F_VERSION_1 (1ull << 32)

#define D_NEXT 1u
#define D_WRITE 2u
#define D_INDIRECT 4u

#define QSZ 8u                         /* the queue size we choose */
#define QMAX 64u                       /* room for the device's largest */
#define BUF_LEN 64u
/*
 * The device answers within the MMIO access that kicks or writes it, so
 * short bounds do; MMIO polls cost an exit each (slow in Bochs).
 */
#define POLL_MAX 100000u               /* reads of the used ring: no exits */
#define MMIO_POLL_MAX 1000u

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct avail {
	uint16_t flags, idx, ring[QMAX], used_event;
};

struct used {
	uint16_t flags, idx;
	struct { uint32_t id, len; } ring[QMAX];
	uint16_t avail_event;
};

static struct desc table[QMAX] __attribute__((aligned(16)));
static volatile struct avail avail __attribute__((aligned(16)));
static volatile struct used used __attribute__((aligned(16)));
static struct desc itab[2][2 * QSZ] __attribute__((aligned(16)));
static uint8_t bufs[2 * QSZ][BUF_LEN] __attribute__((aligned(16)));

static struct {
	unsigned dev;                  /* PCI device number on bus 0 */
	uint64_t bar, bar_size;
	uint64_t common, notify, isr;
	uint32_t notify_mult;
	uint16_t qsize_max, notify_off;
	uint16_t avail_idx, used_seen;
} v;

static uint64_t mem_size;
static bool quiet;                     /* rounds after the first: FAIL lines only */

/* check() of the library, silent on a pass when quiet. */
static int verdict(int ok, const char *fmt, ...) guest_printf_fmt(2, 3);

static int verdict(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok && quiet)
		return 0;
	printf("%s: %s ", guest_name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return !ok;
}

/* ---- MMIO and PCI configuration space ---------------------------------- */

static uint8_t r8(uint64_t a) { return *(volatile uint8_t *)a; }
static uint16_t r16(uint64_t a) { return *(volatile uint16_t *)a; }
static uint32_t r32(uint64_t a) { return *(volatile uint32_t *)a; }
static void w8(uint64_t a, uint8_t x) { *(volatile uint8_t *)a = x; }
static void w16(uint64_t a, uint16_t x) { *(volatile uint16_t *)a = x; }
static void w32(uint64_t a, uint32_t x) { *(volatile uint32_t *)a = x; }

static void barrier(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static uint32_t cfg_read(unsigned dev, unsigned reg)
{
	outl(PCI_ADDR_PORT, 0x80000000u | dev << 11 | (reg & 0xfc));
	return inl(PCI_DATA_PORT) >> (8 * (reg & 3));
}

static void cfg_write(unsigned dev, unsigned reg, uint32_t x)
{
	outl(PCI_ADDR_PORT, 0x80000000u | dev << 11 | (reg & 0xfc));
	outl(PCI_DATA_PORT, x);
}

/* ---- Finding the device -------------------------------------------------- */

static int find_device(void)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_read(dev, 0);

		if ((id & 0xffff) == PCI_VENDOR && id >> 16 == PCI_DEVICE_RNG) {
			v.dev = dev;
			return 0;
		}
	}
	return -1;
}

/* BAR 0 is 64-bit memory (4.1.4.1): size it, keep where the bus put it. */
static int bar_probe(void)
{
	uint32_t lo = cfg_read(v.dev, PCI_BAR0), hi = cfg_read(v.dev, PCI_BAR0 + 4);
	uint32_t mlo, mhi;

	if ((lo & 7) != 4)
		return verdict(0, "BAR0 is 64-bit memory (0x%x)", lo);
	cfg_write(v.dev, PCI_BAR0, 0xffffffff);
	cfg_write(v.dev, PCI_BAR0 + 4, 0xffffffff);
	mlo = cfg_read(v.dev, PCI_BAR0);
	mhi = cfg_read(v.dev, PCI_BAR0 + 4);
	cfg_write(v.dev, PCI_BAR0, lo);
	cfg_write(v.dev, PCI_BAR0 + 4, hi);
	v.bar = ((uint64_t)hi << 32 | lo) & ~0xfull;
	v.bar_size = ~(((uint64_t)mhi << 32 | mlo) & ~0xfull) + 1;
	cfg_write(v.dev, PCI_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	return verdict(v.bar >= 0xc0000000ull && v.bar + v.bar_size <= 0xe0000000ull &&
		     v.bar_size >= 0x1000 && !(v.bar & (v.bar_size - 1)),
		     "BAR0 at 0x%lx, 0x%lx bytes, in the PCI hole", v.bar, v.bar_size);
}

/* Walk the capability list for the virtio structures in BAR 0 (4.1.4). */
static int caps_walk(void)
{
	unsigned at = cfg_read(v.dev, PCI_CAP_PTR) & 0xfc;

	if (!(cfg_read(v.dev, PCI_COMMAND + 2) & PCI_STATUS_CAPS))
		return verdict(0, "status register says there is a capability list");
	for (unsigned n = 0; at && n < 48; n++, at = cfg_read(v.dev, at + 1) & 0xfc) {
		unsigned type = cfg_read(v.dev, at + 3) & 0xff;
		uint32_t off = cfg_read(v.dev, at + 8), len = cfg_read(v.dev, at + 12);
		uint64_t base = v.bar + off;

		if ((cfg_read(v.dev, at) & 0xff) != PCI_CAP_VNDR || (cfg_read(v.dev, at + 4) & 0xff))
			continue;
		if ((uint64_t)off + len > v.bar_size)
			return verdict(0, "capability type %u inside BAR0 (0x%x+0x%x)", type, off, len);
		if (type == CAP_COMMON)
			v.common = base;
		else if (type == CAP_ISR)
			v.isr = base;
		else if (type == CAP_NOTIFY && !v.notify) {
			v.notify = base;
			v.notify_mult = cfg_read(v.dev, at + 16);
		}
	}
	return verdict(v.common && v.notify && v.isr,
		     "capabilities: common 0x%lx notify 0x%lx (x%u) isr 0x%lx", v.common, v.notify,
		     v.notify_mult, v.isr);
}

/* ---- The driver ---------------------------------------------------------- */

static uint8_t status(void)
{
	return r8(v.common + CC_STATUS);
}

/* Write 0 and wait for 0 (4.1.4.3.2). */
static bool dev_reset(void)
{
	w8(v.common + CC_STATUS, 0);
	for (unsigned i = 0; i < MMIO_POLL_MAX; i++)
		if (!status())
			return true;
	return false;
}

static void status_set(uint8_t bits)
{
	w8(v.common + CC_STATUS, (uint8_t)(status() | bits));
}

static uint64_t features_offered(void)
{
	uint64_t f;

	w32(v.common + CC_DFSEL, 0);
	f = r32(v.common + CC_DF);
	w32(v.common + CC_DFSEL, 1);
	return f | (uint64_t)r32(v.common + CC_DF) << 32;
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK; true if it stuck (3.1.1). */
static bool negotiate(uint64_t features)
{
	status_set(ST_ACK);
	status_set(ST_DRIVER);
	w32(v.common + CC_GFSEL, 0);
	w32(v.common + CC_GF, (uint32_t)features);
	w32(v.common + CC_GFSEL, 1);
	w32(v.common + CC_GF, (uint32_t)(features >> 32));
	status_set(ST_FEATURES_OK);
	return status() & ST_FEATURES_OK;
}

static void w64(uint64_t a, uint64_t x)
{
	w32(a, (uint32_t)x);
	w32(a + 4, (uint32_t)(x >> 32));
}

/* Queue 0 with @size entries at the given addresses; not yet enabled. */
static void queue_place(uint16_t size, uint64_t d, uint64_t a, uint64_t u)
{
	w16(v.common + CC_QSEL, 0);
	v.qsize_max = r16(v.common + CC_QSIZE);
	v.notify_off = r16(v.common + CC_QNOTIFY);
	w16(v.common + CC_QSIZE, size);
	w16(v.common + CC_QMSIX, 0xffff);
	w64(v.common + CC_QDESC, d);
	w64(v.common + CC_QDRIVER, a);
	w64(v.common + CC_QDEVICE, u);
}

static void rings_clear(void)
{
	memset(table, 0, sizeof(table));
	memset((void *)&avail, 0, sizeof(avail));
	memset((void *)&used, 0, sizeof(used));
	memset(itab, 0, sizeof(itab));
	v.avail_idx = v.used_seen = 0;
}

static void queue_setup(void)
{
	rings_clear();
	queue_place(QSZ, (uintptr_t)table, (uintptr_t)&avail, (uintptr_t)&used);
}

static void queue_enable(void)
{
	w16(v.common + CC_QENABLE, 1);
}

/* The whole of 3.1.1; false (with a FAIL line) if the device refused. */
static bool dev_init(uint64_t features)
{
	if (!dev_reset())
		return !verdict(0, "device reset reads back 0");
	if (!negotiate(features))
		return !verdict(0, "FEATURES_OK accepted for 0x%lx", features);
	queue_setup();
	queue_enable();
	status_set(ST_DRIVER_OK);
	return verdict(status() == (ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK),
		     "device initialised (status 0x%x)", status()) == 0;
}

static void kick(void)
{
	barrier();
	w16(v.notify + (uint64_t)v.notify_off * v.notify_mult, 0);
}

/* Offer the chain at @head and kick. */
static void offer(uint16_t head)
{
	avail.ring[v.avail_idx % QSZ] = head;
	barrier();
	avail.idx = ++v.avail_idx;
	kick();
}

static void desc_set(struct desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*d = (struct desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Wait for a used entry; true if one came. */
static bool used_wait(void)
{
	for (unsigned i = 0; i < POLL_MAX; i++) {
		if (used.idx != v.used_seen)
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

static bool is_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* One device-writable buffer comes back with random bytes in it. */
static int good_request(const char *when)
{
	uint32_t id, len;

	memset(bufs[0], 0, BUF_LEN);
	desc_set(&table[0], (uintptr_t)bufs[0], BUF_LEN, D_WRITE, 0);
	offer(0);
	if (!used_wait())
		return verdict(0, "%s: good request: no used entry (status 0x%x)", when, status());
	id = used.ring[v.used_seen % QSZ].id;
	len = used.ring[v.used_seen % QSZ].len;
	v.used_seen++;
	return verdict(id == 0 && len > 0 && len <= BUF_LEN && !is_all_zero(bufs[0], len),
		     "%s: good request: head %u, %u bytes back", when, id, len);
}

/* ---- The cases ------------------------------------------------------------ */

static uint64_t buf(unsigned i)
{
	return (uintptr_t)bufs[i];
}

/* 0 -> 1 -> 0: ends as a chain longer than the queue. */
static void c_loop(void)
{
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE | D_NEXT, 1);
	desc_set(&table[1], buf(1), BUF_LEN, D_WRITE | D_NEXT, 0);
	offer(0);
}

/* 4 direct buffers, then an indirect table of QSZ: 12 > QSZ. */
static void c_chain_too_long(void)
{
	for (unsigned i = 0; i < 4; i++)
		desc_set(&table[i], buf(i), BUF_LEN, D_WRITE | D_NEXT, (uint16_t)(i + 1));
	desc_set(&table[4], (uintptr_t)itab[0], 16 * QSZ, D_INDIRECT, 0);
	for (unsigned i = 0; i < QSZ; i++)
		desc_set(&itab[0][i], buf(4 + i), BUF_LEN, D_WRITE | (i + 1 < QSZ ? D_NEXT : 0),
			 (uint16_t)(i + 1));
	offer(0);
}

static void one_buffer(uint64_t addr, uint32_t len)
{
	desc_set(&table[0], addr, len, D_WRITE, 0);
	offer(0);
}

static void c_beyond_ram(void) { one_buffer(mem_size, BUF_LEN); }
static void c_straddles_ram_end(void) { one_buffer(mem_size - 32, BUF_LEN); }
static void c_in_own_bar(void) { one_buffer(v.bar, BUF_LEN); }
static void c_addr_len_wraps(void) { one_buffer(0xfffffffffffff000ull, 0x2000); }
static void c_len_oversized(void) { one_buffer(buf(0), 0xfffffff0u); }

static void c_avail_idx_jump(void)
{
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE, 0);
	for (unsigned i = 0; i < QSZ; i++)
		avail.ring[i] = 0;
	v.avail_idx = (uint16_t)(v.avail_idx + QSZ + 1);
	barrier();
	avail.idx = v.avail_idx;
	kick();
}

static void c_head_out_of_range(void)
{
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE, 0);
	offer(QSZ);
}

static void c_next_out_of_range(void)
{
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE | D_NEXT, QSZ);
	offer(0);
}

static void indirect(uint32_t len, uint16_t flags)
{
	desc_set(&table[0], (uintptr_t)itab[0], len, (uint16_t)(D_INDIRECT | flags), 1);
	desc_set(&table[1], buf(1), BUF_LEN, D_WRITE, 0);
	desc_set(&itab[0][0], buf(0), BUF_LEN, D_WRITE, 0);
	offer(0);
}

static void c_indirect_nested(void)
{
	desc_set(&itab[1][0], buf(2), BUF_LEN, D_WRITE, 0);
	desc_set(&table[0], (uintptr_t)itab[0], 16, D_INDIRECT, 0);
	desc_set(&itab[0][0], (uintptr_t)itab[1], 16, D_INDIRECT, 0);
	offer(0);
}

static void c_indirect_len_24(void) { indirect(24, 0); }
static void c_indirect_len_0(void) { indirect(0, 0); }
static void c_indirect_too_big(void) { indirect(16 * 2 * QSZ, 0); }
static void c_indirect_with_next(void) { indirect(16, D_NEXT); }

static void c_indirect_outside_ram(void)
{
	desc_set(&table[0], mem_size - 16, 32, D_INDIRECT, 0);
	offer(0);
}

static void c_readable_after_writable(void)
{
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE | D_NEXT, 1);
	desc_set(&table[1], buf(1), BUF_LEN, 0, 0);
	offer(0);
}

/* 4.1.4.3.2: the addresses are fixed once the queue is enabled. */
static void c_addr_after_enable(void)
{
	w16(v.common + CC_QSEL, 0);
	w32(v.common + CC_QDESC, (uint32_t)buf(0));
}

/*
 * MSI-X on, with table entries no interrupt controller decodes, and the
 * configuration vector on entry 0: the NEEDS_RESET notice (2.1.2) goes
 * there. The hypervisor must drop it, not deliver it somewhere. MSI-X
 * stays on for the later cases; they set no vectors.
 */
static void c_msix_garbage(void)
{
	unsigned at = cfg_read(v.dev, PCI_CAP_PTR) & 0xfc;

	for (unsigned n = 0; at && n < 48; n++, at = cfg_read(v.dev, at + 1) & 0xfc) {
		uint32_t table_off;
		uint64_t t;

		if ((cfg_read(v.dev, at) & 0xff) != PCI_CAP_MSIX)
			continue;
		table_off = cfg_read(v.dev, at + 4);
		t = v.bar + (table_off & ~7u);
		for (unsigned e = 0; e < 2; e++) {
			w32(t + 16 * e, 0xdead0000u);          /* address low */
			w32(t + 16 * e + 4, 0xffffffffu);      /* address high */
			w32(t + 16 * e + 8, 0x31);             /* data */
			w32(t + 16 * e + 12, 0);               /* unmasked */
		}
		cfg_write(v.dev, at, (cfg_read(v.dev, at) | MSIX_ENABLE << 16));
		break;
	}
	w16(v.common + CC_MSIX_CONFIG, 0);
	c_head_out_of_range();
}

/* Cases that initialise the device themselves, from reset. */
static void init_until_queue(uint64_t features)
{
	negotiate(features);
	queue_setup();
}

static void c_indirect_not_negotiated(void)
{
	dev_init(F_VERSION_1);
	indirect(16, 0);
}

static void ring_at(uint16_t size, uint64_t d, uint64_t a, uint64_t u)
{
	negotiate(F_VERSION_1);
	rings_clear();
	queue_place(size, d, a, u);
	queue_enable();
}

static void c_desc_outside_ram(void)
{
	ring_at(QSZ, mem_size, (uintptr_t)&avail, (uintptr_t)&used);
}

static void c_avail_in_bar(void)
{
	ring_at(QSZ, (uintptr_t)table, v.bar, (uintptr_t)&used);
}

static void c_used_wraps(void)
{
	ring_at(QSZ, (uintptr_t)table, (uintptr_t)&avail, 0xfffffffffffffffcull);
}

static void c_desc_misaligned(void)
{
	ring_at(QSZ, (uintptr_t)table + 8, (uintptr_t)&avail, (uintptr_t)&used);
}

static void c_qsize_not_pow2(void)
{
	ring_at(6, (uintptr_t)table, (uintptr_t)&avail, (uintptr_t)&used);
}

/* 4.1.4.3: queue_size starts at the device's maximum; a driver may only lower it. */
static void c_qsize_above_max(void)
{
	ring_at((uint16_t)(2 * QMAX), (uintptr_t)table, (uintptr_t)&avail, (uintptr_t)&used);
}

static void c_enable_before_features_ok(void)
{
	status_set(ST_ACK);
	status_set(ST_DRIVER);
	queue_setup();
	queue_enable();
}

static void c_driver_ok_without_features_ok(void)
{
	status_set(ST_ACK);
	status_set(ST_DRIVER);
	status_set(ST_DRIVER_OK);
}

enum start { RUNNING, FROM_RESET };

struct evil {
	const char *name;
	enum start start;
	void (*run)(void);
};

static const struct evil evils[] = {
	{ "loop", RUNNING, c_loop },
	{ "chain-too-long", RUNNING, c_chain_too_long },
	{ "addr-beyond-ram", RUNNING, c_beyond_ram },
	{ "addr-straddles-ram-end", RUNNING, c_straddles_ram_end },
	{ "addr-in-own-bar", RUNNING, c_in_own_bar },
	{ "addr-len-wraps", RUNNING, c_addr_len_wraps },
	{ "len-oversized", RUNNING, c_len_oversized },
	{ "avail-idx-jump", RUNNING, c_avail_idx_jump },
	{ "head-out-of-range", RUNNING, c_head_out_of_range },
	{ "next-out-of-range", RUNNING, c_next_out_of_range },
	{ "indirect-nested", RUNNING, c_indirect_nested },
	{ "indirect-len-24", RUNNING, c_indirect_len_24 },
	{ "indirect-len-0", RUNNING, c_indirect_len_0 },
	{ "indirect-too-big", RUNNING, c_indirect_too_big },
	{ "indirect-with-next", RUNNING, c_indirect_with_next },
	{ "indirect-outside-ram", RUNNING, c_indirect_outside_ram },
	{ "readable-after-writable", RUNNING, c_readable_after_writable },
	{ "addr-after-enable", RUNNING, c_addr_after_enable },
	{ "msix-garbage", RUNNING, c_msix_garbage },
	{ "indirect-not-negotiated", FROM_RESET, c_indirect_not_negotiated },
	{ "desc-outside-ram", FROM_RESET, c_desc_outside_ram },
	{ "avail-in-bar", FROM_RESET, c_avail_in_bar },
	{ "used-wraps", FROM_RESET, c_used_wraps },
	{ "desc-misaligned", FROM_RESET, c_desc_misaligned },
	{ "qsize-not-pow2", FROM_RESET, c_qsize_not_pow2 },
	{ "qsize-above-max", FROM_RESET, c_qsize_above_max },
	{ "enable-before-features-ok", FROM_RESET, c_enable_before_features_ok },
	{ "driver-ok-without-features-ok", FROM_RESET, c_driver_ok_without_features_ok },
};

static bool needs_reset_wait(void)
{
	for (unsigned i = 0; i < MMIO_POLL_MAX; i++)
		if (status() & ST_NEEDS_RESET)
			return true;
	return false;
}

/* Break a rule; the device must say NEEDS_RESET, use nothing, ignore kicks. */
static int run_evil(const struct evil *e)
{
	uint16_t used_before;
	bool flagged;
	int fail = 0;

	if (e->start == FROM_RESET) {
		if (!dev_reset())
			return verdict(0, "%s: device reset reads back 0", e->name);
		rings_clear();
	}
	used_before = used.idx;
	e->run();
	flagged = needs_reset_wait();
	fail += verdict(flagged && used.idx == used_before,
		      "%s: DEVICE_NEEDS_RESET (status 0x%x), nothing used (used idx %u, was %u)",
		      e->name, status(), used.idx, used_before);
	if (flagged) {
		desc_set(&table[0], buf(0), BUF_LEN, D_WRITE, 0);
		kick();
		fail += verdict(used.idx == used_before && (status() & ST_NEEDS_RESET),
			      "%s: a kick while NEEDS_RESET does nothing", e->name);
	}
	if (!dev_init(F_VERSION_1 | F_INDIRECT))
		return fail + 1;
	return fail + good_request(e->name);
}

/* ---- What the spec lets a device take: no NEEDS_RESET ------------------- */

static int still_fine(const char *name)
{
	int fail = verdict(!(status() & ST_NEEDS_RESET), "%s: no DEVICE_NEEDS_RESET (status 0x%x)",
			 name, status());

	return fail + good_request(name);
}

/* Kicks at notify addresses of queues that do not exist: no one's (4.1.4.4). */
static int ok_notify_unknown_queue(void)
{
	w16(v.notify + 1u * v.notify_mult, 1);
	w16(v.notify + 0xffcu, 0x3ff);
	w32(v.notify + 0x40u, 0xdeadbeef);
	return still_fine("notify-unknown-queue");
}

/* queue_select past num_queues: queue_size reads 0, writes do nothing (4.1.4.3). */
static int ok_select_unknown_queue(void)
{
	int fail;

	w16(v.common + CC_QSEL, r16(v.common + CC_NUMQ));
	fail = verdict(r16(v.common + CC_QSIZE) == 0, "select-unknown-queue: queue_size reads 0");
	w16(v.common + CC_QSIZE, QSZ);
	w64(v.common + CC_QDESC, mem_size);
	w16(v.common + CC_QENABLE, 1);
	fail += verdict(r16(v.common + CC_QENABLE) == 0, "select-unknown-queue: stays disabled");
	w16(v.common + CC_QSEL, 0);
	return fail + still_fine("select-unknown-queue");
}

/* No ring access before DRIVER_OK (3.1.1): a kick then is not served. */
static int ok_kick_before_driver_ok(void)
{
	int fail;

	if (!dev_reset())
		return verdict(0, "kick-before-driver-ok: reset");
	init_until_queue(F_VERSION_1 | F_INDIRECT);
	queue_enable();
	memset(bufs[0], 0, BUF_LEN);
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE, 0);
	offer(0);
	fail = verdict(used.idx == 0 && is_all_zero(bufs[0], BUF_LEN) &&
		     !(status() & ST_NEEDS_RESET),
		     "kick-before-driver-ok: nothing used, buffer untouched");
	status_set(ST_DRIVER_OK);
	kick();
	fail += verdict(used_wait() && used.ring[0].len > 0 && !is_all_zero(bufs[0], BUF_LEN),
		      "kick-before-driver-ok: served after DRIVER_OK");
	v.used_seen = used.idx;
	return fail + still_fine("kick-before-driver-ok");
}

/* After a reset the old ring is no longer the device's (2.4). */
static int ok_kick_after_reset(void)
{
	uint16_t before = used.idx;
	int fail;

	dev_reset();
	memset(bufs[0], 0, BUF_LEN);
	desc_set(&table[0], buf(0), BUF_LEN, D_WRITE, 0);
	offer(0);
	fail = verdict(used.idx == before && is_all_zero(bufs[0], BUF_LEN) && status() == 0,
		     "kick-after-reset: nothing used, status 0");
	if (!dev_init(F_VERSION_1 | F_INDIRECT))
		return fail + 1;
	return fail + still_fine("kick-after-reset");
}

/* FEATURES_OK is refused, not NEEDS_RESET, for features we cannot have (2.2.2, 6.1). */
static int ok_features_refused(const char *name, uint64_t features)
{
	uint8_t st;
	bool refused;
	int fail;

	if (!dev_reset())
		return verdict(0, "%s: reset", name);
	refused = !negotiate(features);
	st = status();
	fail = verdict(refused && !(st & ST_NEEDS_RESET), "%s: FEATURES_OK refused (status 0x%x)",
		     name, st);
	if (!dev_init(F_VERSION_1 | F_INDIRECT))
		return fail + 1;
	return fail + still_fine(name);
}

/*
 * A device-writable buffer over the available ring: the device fills the
 * ring it is reading with random bytes. What it then finds there is
 * chance (a bad index, or chains of random descriptors), so it may or
 * may not need a reset; it must stay bounded, and recover after one.
 */
static int chaos_buffer_over_avail(void)
{
	const char *name = "buffer-over-avail";
	int fail = 0;

	for (unsigned round = 0; round < 4; round++) {
		uint8_t st;

		desc_set(&table[0], (uintptr_t)&avail, sizeof(avail), D_WRITE, 0);
		offer(0);
		st = status();
		fail += verdict(st & ST_DRIVER_OK, "%s: round %u: device answers (status 0x%x)", name,
			      round, st);
		if (!dev_init(F_VERSION_1 | F_INDIRECT))
			return fail + 1;
		fail += good_request(name);
	}
	return fail;
}

/* ---- Napping between rounds: HLT until a TSC-deadline timer interrupt --- */

#define X2APIC_SVR 0x80f
#define X2APIC_LVT_TIMER 0x832
#define LVT_TSC_DEADLINE (2u << 17)
#define MSR_TSC_DEADLINE 0x6e0
#define NAP_VEC 0x60

/* EOI (x2APIC, SDM Vol. 3A 11.12.1) and return: the wake-up is all we need. */
__asm__(".globl nap_stub\n"
	"nap_stub:\n\t"
	"push %rax; push %rcx; push %rdx\n\t"
	"mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n\t"
	"pop %rdx; pop %rcx; pop %rax\n\t"
	"iretq");
extern char nap_stub[];

static void wrmsr(uint32_t msr, uint64_t x)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)x), "d"((uint32_t)(x >> 32))
			 : "memory");
}

/*
 * Sleep about @ms so that a VM beside us gets the host's CPU time (an
 * emulator runs our vCPU on a host thread). The TSC rate is CPUID 0x15's;
 * without it, no nap.
 */
static void nap(uint64_t ms)
{
	struct cpuid_regs l15 = cpuid(0x15, 0);
	uint64_t hz = l15.eax ? (uint64_t)l15.ecx * l15.ebx / l15.eax : 0, end;

	if (!ms || !hz)
		return;
	guest_set_interrupt_gate(NAP_VEC, nap_stub);
	wrmsr(X2APIC_SVR, 0x1ff);
	wrmsr(X2APIC_LVT_TIMER, LVT_TSC_DEADLINE | NAP_VEC);
	end = rdtsc() + hz / 1000 * ms;
	wrmsr(MSR_TSC_DEADLINE, end);
	while (rdtsc() < end)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Every case once; returns the failed checks. */
static int run_round(void)
{
	int fail = good_request("first");

	for (unsigned i = 0; i < ARRAY_SIZE(evils); i++)
		fail += run_evil(&evils[i]);
	fail += ok_notify_unknown_queue();
	fail += ok_select_unknown_queue();
	fail += ok_kick_before_driver_ok();
	fail += ok_kick_after_reset();
	fail += ok_features_refused("features-without-version-1", F_INDIRECT);
	fail += ok_features_refused("features-not-offered", F_VERSION_1 | 1ull << 63);
	return fail + chaos_buffer_over_avail();
}

/*
 * cmdline: rounds=<n> (default 1) runs every case n times, printing
 * PASS lines in the first round only and one line per round; rounds=0
 * goes on until the VM is stopped (to overlap another VM's work);
 * nap=<ms> (default 0) sleeps that long after each round.
 */
int main(const struct hv_boot_info *bi)
{
	uint64_t rounds = cmdline_u64("rounds", 1), nap_ms = cmdline_u64("nap", 0);
	int fail = 0;

	mem_size = bi->mem_size;
	if (find_device()) {
		printf("virtio_evil: no virtio-rng device (1af4:1044) on bus 0\n");
		return EXIT_NO_DEVICE;
	}
	if (bar_probe() || caps_walk())
		return 1;
	fail += verdict(!!(features_offered() & F_VERSION_1), "device offers VERSION_1");
	if (!dev_init(F_VERSION_1 | F_INDIRECT))
		return fail + 1;
	fail += verdict(v.qsize_max == QMAX, "queue 0: maximum size %u", v.qsize_max);
	for (uint64_t k = 1; !rounds || k <= rounds; k++) {
		int f = run_round();

		printf("virtio_evil: round %lu: %d failed\n", k, f);
		fail += f;
		quiet = true;
		nap(nap_ms);
	}
	printf("virtio_evil: done, %d failed\n", fail);
	return fail;
}
