/*
 * The virtio console (vdev/virtio_console.c), compiled into this test and
 * driven as Linux's driver drives it, through the real transport
 * (vdev/virtio_pci.c) and rings (vdev/virtq.c): the device's identity,
 * output to vm_console, typed input through the input buffer into
 * receive buffers, readiness, a full buffer dropping and counting,
 * oversized output, bad rings and reset. Both files are #included, for
 * the transport's register names and the device's state. vpci, vm_gpa_to_hva() and
 * vm_console_write() are replaced by recorders.
 */
#include "vdev/virtio_pci.c"
#include "vdev/virtio_console.c"
#include "tests/unit/unit.h"

#define RAM_SIZE 0x20000u
#define QSIZE 8u
#define RX_DESC 0x1000u
#define RX_AVAIL 0x1400u
#define RX_USED 0x1800u
#define TX_DESC 0x2000u
#define TX_AVAIL 0x2400u
#define TX_USED 0x2800u
#define BUF 0x4000u
#define BIG 0x8000u

static uint8_t ram[RAM_SIZE] __aligned(4096);
static struct vm vm;
static struct vm_config cfg;
static struct virtio_con *con;

/* ---- Stand-ins ----------------------------------------------------------- */

static unsigned ncaps, nmsis, msis[64];
static char out[16384];
static size_t nout;

void *vm_gpa_to_hva(struct vm *v, uint64_t gpa, uint64_t len)
{
	CHECK(v == &vm);
	return gpa + len <= RAM_SIZE && gpa + len >= gpa ? ram + gpa : NULL;
}

int vpci_cap_add(struct vpci_dev *d, const void *cap, unsigned len)
{
	(void)d;
	(void)cap;
	(void)len;
	return VPCI_CAP_START + 20 * (int)ncaps++;
}

int vpci_msix_init(struct vpci_dev *d, unsigned nvec, unsigned bar, uint32_t table_off,
		   uint32_t pba_off)
{
	(void)bar;
	(void)table_off;
	(void)pba_off;
	d->msix.nvec = (uint16_t)nvec;
	return 0x80;
}

int vpci_add_device(struct vm *v, struct vpci_dev *d)
{
	(void)d;
	CHECK(v == &vm);
	return 1;
}

bool vpci_msix_is_enabled(struct vpci_dev *d)
{
	(void)d;
	return true;
}

enum vpci_msi_result vpci_msix_notify(struct vpci_dev *d, unsigned vector)
{
	(void)d;
	if (nmsis < ARRAY_SIZE(msis))
		msis[nmsis] = vector;
	nmsis++;
	return VPCI_MSI_SENT;
}

void vm_console_write(struct vm *v, const char *s, size_t n)
{
	CHECK(v == &vm);
	if (nout + n <= sizeof(out)) {
		memcpy(out + nout, s, n);
		nout += n;
	}
}

/* ---- The driver's side ---------------------------------------------------- */

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	struct io_access a = { .addr = 0xc0000000 + off, .size = (uint8_t)size, .write = true,
			       .value = v };

	CHECK_EQ(con->dev.pci.bar_access(&con->dev.pci, 0, off, &a), IO_HANDLED);
}

static uint64_t rd(uint64_t off, unsigned size)
{
	struct io_access a = { .addr = 0xc0000000 + off, .size = (uint8_t)size };

	CHECK_EQ(con->dev.pci.bar_access(&con->dev.pci, 0, off, &a), IO_HANDLED);
	return a.value;
}

static uint8_t status(void)
{
	return (uint8_t)rd(CC_DEVICE_STATUS, 1);
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	vm = (struct vm){ .id = 2, .ram_size = RAM_SIZE, .cfg = &cfg };
	strcpy(vm.name, "t");
	cfg = (struct vm_config){ .virtio_console = true };
	ncaps = nmsis = 0;
	nout = 0;
	CHECK_EQ(virtio_console_vm_create(&vm), 0);
	con = &cons[vm.id];
	CHECK(con->added);
}

static void queue_setup(unsigned q, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(CC_QUEUE_SELECT, 2, q);
	wr(CC_QUEUE_SIZE, 2, QSIZE);
	wr(CC_QUEUE_DESC, 8, desc);
	wr(CC_QUEUE_DRIVER, 8, avail);
	wr(CC_QUEUE_DEVICE, 8, used);
	wr(CC_QUEUE_MSIX_VECTOR, 2, 1 + q);
	wr(CC_QUEUE_ENABLE, 2, 1);
}

/* Linux's probe: negotiate @features, both queues, DRIVER_OK. */
static void driver_up(uint64_t features)
{
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(CC_DRIVER_FEATURE_SELECT, 4, 0);
	wr(CC_DRIVER_FEATURE, 4, (uint32_t)features);
	wr(CC_DRIVER_FEATURE_SELECT, 4, 1);
	wr(CC_DRIVER_FEATURE, 4, features >> 32);
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	queue_setup(CON_RXQ, RX_DESC, RX_AVAIL, RX_USED);
	queue_setup(CON_TXQ, TX_DESC, TX_AVAIL, TX_USED);
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(status() & VIRTIO_STATUS_NEEDS_RESET, 0);
}

struct seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

static uint16_t avail_next[2], desc_next[2];

static uint64_t q_desc(unsigned q) { return q == CON_RXQ ? RX_DESC : TX_DESC; }
static uint64_t q_avail(unsigned q) { return q == CON_RXQ ? RX_AVAIL : TX_AVAIL; }
static uint64_t q_used(unsigned q) { return q == CON_RXQ ? RX_USED : TX_USED; }

/* Offer a chain of @n buffers on queue @q; returns its head. */
static uint16_t offer(unsigned q, const struct seg *s, unsigned n)
{
	uint16_t head = desc_next[q] % QSIZE;

	for (unsigned i = 0; i < n; i++) {
		uint16_t at = desc_next[q]++ % QSIZE;
		struct virtq_desc d = {
			s[i].addr, s[i].len,
			(uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			(uint16_t)(desc_next[q] % QSIZE),
		};

		memcpy(ram + q_desc(q) + 16 * at, &d, sizeof(d));
	}
	memcpy(ram + q_avail(q) + 4 + 2 * (avail_next[q] % QSIZE), &head, 2);
	avail_next[q]++;
	memcpy(ram + q_avail(q) + 2, &avail_next[q], 2);
	return head;
}

static void offer_rx(uint64_t addr, uint32_t len)
{
	struct seg s = { addr, len, true };

	offer(CON_RXQ, &s, 1);
}

static void kick(unsigned q)
{
	wr(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

static uint16_t used_idx(unsigned q)
{
	uint16_t v;

	memcpy(&v, ram + q_used(q) + 2, 2);
	return v;
}

/* Used element @i of queue @q: its id and length. */
static void used_elem(unsigned q, unsigned i, uint32_t *id, uint32_t *len)
{
	memcpy(id, ram + q_used(q) + 4 + 8 * (i % QSIZE), 4);
	memcpy(len, ram + q_used(q) + 8 + 8 * (i % QSIZE), 4);
}

static uint16_t avail_event(unsigned q)
{
	uint16_t v;

	memcpy(&v, ram + q_used(q) + 4 + 8 * QSIZE, 2);
	return v;
}

static void type(const char *s)
{
	for (; *s; s++)
		CHECK(virtio_console_receive(&vm, (uint8_t)*s));
}

static unsigned log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = log_text(); (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void reset_driver_state(void)
{
	memset(avail_next, 0, sizeof(avail_next));
	memset(desc_next, 0, sizeof(desc_next));
}

/* ---- Tests --------------------------------------------------------------- */

TEST(identity_and_features)
{
	setup();
	CHECK_EQ(con->dev.pci.device_id, 0x1043);
	CHECK_EQ(con->dev.pci.class_code, 0x078000);
	CHECK_EQ(rd(CC_NUM_QUEUES, 2), 2);
	/* Common, notify, ISR, PCI cfg: no device configuration without features. */
	CHECK_EQ(ncaps, 4);
	wr(CC_DEVICE_FEATURE_SELECT, 4, 0);
	CHECK_EQ(rd(CC_DEVICE_FEATURE, 4), (1u << 28) | (1u << 29));
	wr(CC_DEVICE_FEATURE_SELECT, 4, 1);
	CHECK_EQ(rd(CC_DEVICE_FEATURE, 4), 1);
	/* No device for a VM without the key. */
	cfg.virtio_console = false;
	CHECK_EQ(virtio_console_vm_create(&vm), 0);
	CHECK(!con->added);
	CHECK(!virtio_console_receive(&vm, 'x'));
	virtio_console_input_flush(&vm);
}

TEST(output_goes_to_the_vm_console)
{
	struct seg s[2] = { { BUF, 6, false }, { BUF + 0x100, 4, false } };
	uint32_t id, len;

	setup();
	reset_driver_state();
	driver_up(BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_EVENT_IDX));
	memcpy(ram + BUF, "hello ", 6);
	memcpy(ram + BUF + 0x100, "vm\r\n", 4);
	offer(CON_TXQ, s, 2);
	kick(CON_TXQ);
	CHECK_EQ(nout, 10);
	CHECK(!memcmp(out, "hello vm\r\n", 10));
	CHECK_EQ(used_idx(CON_TXQ), 1);
	used_elem(CON_TXQ, 0, &id, &len);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(nmsis, 1);
	CHECK_EQ(msis[0], 1 + CON_TXQ);
	/* A chain of more than TX_CHAIN_MAX bytes is cut, and said once. */
	memset(ram + BIG, 'z', 5000);
	s[0] = (struct seg){ BIG, 5000, false };
	offer(CON_TXQ, s, 1);
	offer(CON_TXQ, s, 1);
	kick(CON_TXQ);
	CHECK_EQ(nout, 10 + 2 * TX_CHAIN_MAX);
	CHECK_EQ(used_idx(CON_TXQ), 3);
	CHECK(log_has("virtio: VM t dev virtio-console queue 1: a 5000-byte output buffer "
		      "cut to 4096 bytes"));
	CHECK_EQ(log_count("cut to"), 1);
	CHECK_EQ(status() & VIRTIO_STATUS_NEEDS_RESET, 0);
}

TEST(input_waits_until_the_driver_is_ready)
{
	uint32_t id, len;

	setup();
	reset_driver_state();
	/* No driver: the vUART's. */
	CHECK(!virtio_console_receive(&vm, 'a'));
	driver_up(BIT64(VIRTIO_F_VERSION_1));
	/* DRIVER_OK but no receive buffer posted yet. */
	CHECK(!virtio_console_receive(&vm, 'a'));
	offer_rx(BUF, 64);
	kick(CON_RXQ);
	CHECK_EQ(used_idx(CON_RXQ), 0);         /* nothing typed: the buffer stays */
	CHECK_EQ(nmsis, 0);
	type("ls\r");
	CHECK_EQ(used_idx(CON_RXQ), 0);         /* not before the flush */
	virtio_console_input_flush(&vm);
	CHECK_EQ(used_idx(CON_RXQ), 1);
	CHECK(!memcmp(ram + BUF, "ls\r", 3));
	used_elem(CON_RXQ, 0, &id, &len);
	CHECK_EQ(len, 3);
	CHECK_EQ(nmsis, 1);
	CHECK_EQ(msis[0], 1 + CON_RXQ);
	/* Ready once is ready until reset, with or without buffers. */
	CHECK(virtio_console_receive(&vm, 'x'));
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK(!virtio_console_receive(&vm, 'y'));
	CHECK_EQ(con->in.len, 0);                /* the old driver's input is gone */
}

TEST(input_fills_split_buffers_and_waits_for_more)
{
	struct seg s[2] = { { BUF, 2, true }, { BUF + 0x100, 3, true } };
	uint32_t id, len;

	setup();
	reset_driver_state();
	driver_up(BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_EVENT_IDX));
	offer(CON_RXQ, s, 2);
	type("abcdefg");
	virtio_console_input_flush(&vm);
	CHECK_EQ(used_idx(CON_RXQ), 1);
	used_elem(CON_RXQ, 0, &id, &len);
	CHECK_EQ(len, 5);
	CHECK(!memcmp(ram + BUF, "ab", 2));
	CHECK(!memcmp(ram + BUF + 0x100, "cde", 3));
	/* "fg" wait; the driver is asked to kick when it posts (EVENT_IDX). */
	CHECK_EQ(con->in.len, 2);
	CHECK_EQ(avail_event(CON_RXQ), 1);
	offer_rx(BUF + 0x200, 100);
	kick(CON_RXQ);
	CHECK_EQ(used_idx(CON_RXQ), 2);
	used_elem(CON_RXQ, 1, &id, &len);
	CHECK_EQ(len, 2);
	CHECK(!memcmp(ram + BUF + 0x200, "fg", 2));
	CHECK_EQ(con->in.len, 0);
}

TEST(a_full_input_buffer_drops_and_counts)
{
	char typed[INPUT_SIZE + 44 + 1];

	setup();
	reset_driver_state();
	driver_up(BIT64(VIRTIO_F_VERSION_1));
	offer_rx(BUF, 1);
	virtio_console_input_flush(&vm);
	CHECK(virtio_console_receive(&vm, '@'));   /* ready; this takes the one buffer */
	virtio_console_input_flush(&vm);
	CHECK_EQ(used_idx(CON_RXQ), 1);
	for (unsigned i = 0; i < sizeof(typed) - 1; i++)
		typed[i] = (char)('a' + i % 26);
	typed[sizeof(typed) - 1] = 0;
	type(typed);
	CHECK_EQ(con->in.len, INPUT_SIZE);
	CHECK_EQ(con->in.dropped, 44);
	virtio_console_input_flush(&vm);
	CHECK(log_has("virtio: VM t dev virtio-console: typed input dropped: the guest takes none"));
	CHECK(!log_has("were dropped"));
	/* Buffers come: the oldest INPUT_SIZE bytes go, in order, and the count is said. */
	offer_rx(BUF + 0x100, 200);
	offer_rx(BUF + 0x400, 200);
	kick(CON_RXQ);
	CHECK_EQ(used_idx(CON_RXQ), 3);
	CHECK(!memcmp(ram + BUF + 0x100, typed, 200));
	CHECK(!memcmp(ram + BUF + 0x400, typed + 200, INPUT_SIZE - 200));
	CHECK(log_has("virtio: VM t dev virtio-console: 44 typed bytes were dropped"));
	CHECK_EQ(con->in.dropped, 0);
	/* The ring of the input buffer wraps round. */
	type("wrap");
	offer_rx(BUF + 0x800, 16);
	kick(CON_RXQ);
	CHECK(!memcmp(ram + BUF + 0x800, "wrap", 4));
}

TEST(bad_rings_need_reset)
{
	struct seg s = { RAM_SIZE - 4, 8, false };

	/* Output from outside guest RAM. */
	setup();
	reset_driver_state();
	driver_up(BIT64(VIRTIO_F_VERSION_1));
	offer(CON_TXQ, &s, 1);
	kick(CON_TXQ);
	CHECK_EQ(nout, 0);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("virtio: VM t dev virtio-console queue 1: "));
	/* A broken device takes no input: it goes to the vUART. */
	CHECK(!virtio_console_receive(&vm, 'a'));

	/* A receive buffer the device may not write. */
	wr(CC_DEVICE_STATUS, 1, 0);
	reset_driver_state();
	memset(ram, 0, 0x4000);
	log_reset();
	driver_up(BIT64(VIRTIO_F_VERSION_1));
	s = (struct seg){ BUF, 8, false };
	offer(CON_RXQ, &s, 1);
	type("a");
	virtio_console_input_flush(&vm);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("virtio: VM t dev virtio-console queue 0: receive buffer not "
		      "device-writable (5.3.6): device needs reset"));
	CHECK(!virtio_console_receive(&vm, 'b'));

	/* An available index that jumps more than the queue size. */
	wr(CC_DEVICE_STATUS, 1, 0);
	reset_driver_state();
	memset(ram, 0, 0x4000);
	log_reset();
	driver_up(BIT64(VIRTIO_F_VERSION_1));
	offer_rx(BUF, 8);
	type("c");
	avail_next[CON_RXQ] = 100;
	memcpy(ram + RX_AVAIL + 2, &avail_next[CON_RXQ], 2);
	virtio_console_input_flush(&vm);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("virtio: VM t dev virtio-console queue 0: "));
}

TEST(vm_reset_resets_the_device)
{
	setup();
	reset_driver_state();
	driver_up(BIT64(VIRTIO_F_VERSION_1));
	offer_rx(BUF, 8);
	type("q");
	virtio_console_vm_reset(&vm);
	CHECK_EQ(status(), 0);
	CHECK_EQ(con->in.len, 0);
	CHECK(!virtio_console_receive(&vm, 'r'));
}

int main(void)
{
	RUN(identity_and_features);
	RUN(output_goes_to_the_vm_console);
	RUN(input_waits_until_the_driver_is_ready);
	RUN(input_fills_split_buffers_and_waits_for_more);
	RUN(a_full_input_buffer_drops_and_counts);
	RUN(bad_rings_need_reset);
	RUN(vm_reset_resets_the_device);
	return unit_done();
}
