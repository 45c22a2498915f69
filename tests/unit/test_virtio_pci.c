/*
 * The virtio PCI transport (vdev/virtio_pci.c), compiled into this test
 * and driven through its BAR handler as a guest driver would: the
 * capabilities, feature negotiation and its refusal, the device status
 * state machine, reset at any time, queue set-up, notifications reaching
 * the device, interrupts (MSI-X or ISR) and DEVICE_NEEDS_RESET on a bad
 * ring. vpci and vm_gpa_to_hva() are replaced by recorders; the rings
 * are walked by the real vdev/virtq.c.
 */
#include "vdev/virtio_pci.c"
#include "tests/unit/unit.h"

#define RAM_SIZE 0x10000u
#define QMAX 16u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define BUF 0x4000u

static uint8_t ram[RAM_SIZE] __aligned(4096);
static struct vm vm;
static struct virtio_dev dev;

/* ---- Stand-ins for vpci and the VM -------------------------------------- */

static uint8_t caps[8][20];
static unsigned ncaps, msix_nvec, nadded;
static bool msix_on;
static unsigned msis[8], nmsis;

void *vm_gpa_to_hva(struct vm *v, uint64_t gpa, uint64_t len)
{
	CHECK(v == &vm);
	return gpa + len <= RAM_SIZE && gpa + len >= gpa ? ram + gpa : NULL;
}

int vpci_cap_add(struct vpci_dev *d, const void *cap, unsigned len)
{
	(void)d;
	CHECK(len <= sizeof(caps[0]));
	memcpy(caps[ncaps], cap, len);
	return VPCI_CAP_START + 20 * (int)ncaps++;
}

int vpci_msix_init(struct vpci_dev *d, unsigned nvec, unsigned bar, uint32_t table_off,
		   uint32_t pba_off)
{
	CHECK_EQ(bar, 0);
	CHECK(table_off < d->bar[0].size && pba_off < d->bar[0].size);
	d->msix.nvec = (uint16_t)nvec;
	msix_nvec = nvec;
	return 0x80;
}

int vpci_add_device(struct vm *v, struct vpci_dev *d)
{
	CHECK(v == &vm);
	CHECK(d == &dev.pci);
	nadded++;
	return 3;
}

bool vpci_msix_is_enabled(struct vpci_dev *d)
{
	(void)d;
	return msix_on;
}

enum vpci_msi_result vpci_msix_notify(struct vpci_dev *d, unsigned vector)
{
	(void)d;
	if (nmsis < ARRAY_SIZE(msis))
		msis[nmsis] = vector;
	nmsis++;
	return VPCI_MSI_SENT;
}

/* ---- A test device: two queues, 8 bytes of config ------------------------ */

static struct virtq_chain chain;
static unsigned nnotify, last_notify_q, nreset;
static uint8_t devcfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static uint32_t fill(const struct virtq_chain *c, void *opaque)
{
	uint32_t n = 0;

	(void)opaque;
	for (unsigned i = 0; i < c->nseg; i++)
		if (c->seg[i].write) {
			memset(c->seg[i].hva, 0xab, c->seg[i].len);
			n += c->seg[i].len;
		}
	return n;
}

static void test_notify(struct virtio_dev *d, unsigned q)
{
	struct virtq *vq = virtio_pci_queue(d, q);
	int err;

	nnotify++;
	last_notify_q = q;
	CHECK(vq != NULL);
	if (!vq)
		return;
	err = virtq_service(vq, &d->mem, &chain, 64, fill, NULL);
	if (err < 0)
		virtio_pci_needs_reset(d, (int)q, vq->reason);
	virtio_pci_notify_queue(d, q);
}

static void test_config(struct virtio_dev *d, unsigned off, struct io_access *a)
{
	(void)d;
	if (!a->write)
		memcpy(&a->value, devcfg + off, a->size);
}

static void test_reset(struct virtio_dev *d)
{
	(void)d;
	nreset++;
}

static const struct virtio_dev_ops test_ops = {
	.name = "test",
	.type = 4,
	.features = 1ull << 3,
	.num_queues = 2,
	.queue_max = QMAX,
	.config_len = sizeof(devcfg),
	.config_access = test_config,
	.queue_notify = test_notify,
	.reset = test_reset,
};

/* ---- The guest's side ---------------------------------------------------- */

static enum io_result bar_io(uint64_t off, unsigned size, bool write, uint64_t *v)
{
	struct io_access a = { .addr = 0xc0000000 + off, .size = (uint8_t)size, .write = write,
			       .value = write ? *v : 0x5a5a5a5a5a5a5a5aull };
	enum io_result r = virtio_pci_bar_access(&dev.pci, 0, off, &a);

	if (!write)
		*v = a.value;
	return r;
}

static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v = 0;

	CHECK_EQ(bar_io(off, size, false, &v), IO_HANDLED);
	return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	CHECK_EQ(bar_io(off, size, true, &v), IO_HANDLED);
}

static uint8_t status(void)
{
	return (uint8_t)rd(CC_DEVICE_STATUS, 1);
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	memset(&dev, 0, sizeof(dev));
	vm = (struct vm){ .id = 1, .ram_size = RAM_SIZE };
	strcpy(vm.name, "t");
	ncaps = msix_nvec = nadded = nmsis = nnotify = nreset = 0;
	msix_on = false;
	dev.ops = &test_ops;
	CHECK_EQ(virtio_pci_add(&vm, &dev), 3);
	nreset = 0;
}

static void write_features(uint64_t f)
{
	wr(CC_DRIVER_FEATURE_SELECT, 4, 0);
	wr(CC_DRIVER_FEATURE, 4, (uint32_t)f);
	wr(CC_DRIVER_FEATURE_SELECT, 4, 1);
	wr(CC_DRIVER_FEATURE, 4, f >> 32);
}

/* 3.1.1 steps 1-6 with @f; returns the status read back. */
static uint8_t negotiate(uint64_t f)
{
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	write_features(f);
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	return status();
}

static void queue_setup(unsigned q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(CC_QUEUE_SELECT, 2, q);
	wr(CC_QUEUE_SIZE, 2, size);
	wr(CC_QUEUE_DESC, 4, (uint32_t)desc);
	wr(CC_QUEUE_DESC + 4, 4, desc >> 32);
	wr(CC_QUEUE_DRIVER, 8, avail);
	wr(CC_QUEUE_DEVICE, 4, (uint32_t)used);
	wr(CC_QUEUE_DEVICE + 4, 4, used >> 32);
	wr(CC_QUEUE_MSIX_VECTOR, 2, 1 + q);
	wr(CC_QUEUE_ENABLE, 2, 1);
}

static void driver_ok(void)
{
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* One device-writable buffer of @len bytes offered as avail entry @idx. */
static void offer(uint16_t head, uint32_t len, uint16_t new_idx, uint16_t size)
{
	struct virtq_desc d = { BUF, len, VIRTQ_DESC_F_WRITE, 0 };

	memcpy(ram + DESC + 16 * (head % size), &d, sizeof(d));
	memcpy(ram + AVAIL + 4 + 2 * ((new_idx - 1) % size), &head, 2);
	memcpy(ram + AVAIL + 2, &new_idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, ram + USED + 2, 2);
	return v;
}

static void kick(unsigned q)
{
	wr(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

/* ---- Tests --------------------------------------------------------------- */

TEST(ids_and_capabilities)
{
	const struct virtio_pci_notify_cap *n;
	const struct virtio_pci_cap *c;

	setup();
	CHECK_EQ(nadded, 1);
	CHECK_EQ(dev.pci.vendor_id, 0x1af4);
	CHECK_EQ(dev.pci.device_id, 0x1044);
	CHECK_EQ(dev.pci.subsys_vendor_id, 0x1af4);
	CHECK_EQ(dev.pci.revision, 1);
	CHECK_EQ(dev.pci.bar[0].type, VPCI_BAR_MEM64);
	CHECK_EQ(msix_nvec, 3);
	CHECK_EQ(ncaps, 5);
	c = (const void *)caps[0];
	CHECK_EQ(c->cap_vndr, 0x09);
	CHECK_EQ(c->cfg_type, VIRTIO_PCI_CAP_COMMON_CFG);
	CHECK_EQ(c->cap_len, 16);
	CHECK_EQ(c->offset, VIRTIO_PCI_COMMON_OFF);
	CHECK_EQ(c->length, VIRTIO_PCI_COMMON_LEN);
	n = (const void *)caps[1];
	CHECK_EQ(n->cap.cfg_type, VIRTIO_PCI_CAP_NOTIFY_CFG);
	CHECK_EQ(n->cap.cap_len, 20);
	CHECK_EQ(n->notify_off_multiplier, 4);
	CHECK_EQ(n->cap.length, 8);
	CHECK_EQ(((const struct virtio_pci_cap *)caps[2])->cfg_type, VIRTIO_PCI_CAP_ISR_CFG);
	c = (const void *)caps[3];
	CHECK_EQ(c->cfg_type, VIRTIO_PCI_CAP_DEVICE_CFG);
	CHECK_EQ(c->offset, VIRTIO_PCI_DEVCFG_OFF);
	CHECK_EQ(c->length, 8);
	c = (const void *)caps[4];
	CHECK_EQ(c->cfg_type, VIRTIO_PCI_CAP_PCI_CFG);
	CHECK_EQ(c->cap_len, 20);
	CHECK_EQ(dev.pci.cfg_access != NULL, 1);
	CHECK_EQ(rd(CC_NUM_QUEUES, 2), 2);
	CHECK_EQ(rd(VIRTIO_PCI_DEVCFG_OFF + 4, 4), 0x08070605);
	CHECK_EQ(rd(VIRTIO_PCI_DEVCFG_OFF + 7, 1), 8);
}

TEST(device_features)
{
	setup();
	wr(CC_DEVICE_FEATURE_SELECT, 4, 0);
	CHECK_EQ(rd(CC_DEVICE_FEATURE, 4), (1u << 3) | (1u << 28) | (1u << 29));
	wr(CC_DEVICE_FEATURE_SELECT, 4, 1);
	CHECK_EQ(rd(CC_DEVICE_FEATURE, 4), 1);          /* VERSION_1 */
	wr(CC_DEVICE_FEATURE_SELECT, 4, 2);
	CHECK_EQ(rd(CC_DEVICE_FEATURE, 4), 0);
	CHECK_EQ(rd(CC_DEVICE_FEATURE_SELECT, 4), 2);
	wr(CC_DEVICE_FEATURE, 4, ~0u);                    /* read-only */
	wr(CC_DEVICE_FEATURE_SELECT, 4, 0);
	CHECK_EQ(rd(CC_DEVICE_FEATURE, 4), (1u << 3) | (1u << 28) | (1u << 29));
}

TEST(negotiation_succeeds)
{
	setup();
	CHECK_EQ(negotiate(BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_EVENT_IDX) | 8),
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	CHECK_EQ(dev.driver_features, BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_EVENT_IDX) | 8);
	/* Fixed from now on (3.1.1). */
	wr(CC_DRIVER_FEATURE_SELECT, 4, 0);
	wr(CC_DRIVER_FEATURE, 4, 0);
	CHECK_EQ(rd(CC_DRIVER_FEATURE, 4), (1u << 29) | 8);
}

TEST(negotiation_refused)
{
	setup();
	/* No VERSION_1: a legacy driver. */
	CHECK_EQ(negotiate(8), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	/* A bit not offered. */
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK_EQ(negotiate(BIT64(VIRTIO_F_VERSION_1) | 16),
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	/* Refused features can be fixed and FEATURES_OK tried again. */
	CHECK_EQ(negotiate(BIT64(VIRTIO_F_VERSION_1)),
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK breaks the rules. */
	setup();
	negotiate(8);
	driver_ok();
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!(status() & VIRTIO_STATUS_DRIVER_OK));
	CHECK(log_has("virtio: VM t dev test: DRIVER_OK without FEATURES_OK"));
}

TEST(queue_registers)
{
	setup();
	wr(CC_QUEUE_SELECT, 2, 1);
	CHECK_EQ(rd(CC_QUEUE_SIZE, 2), QMAX);
	CHECK_EQ(rd(CC_QUEUE_NOTIFY_OFF, 2), 1);
	CHECK_EQ(rd(CC_QUEUE_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	wr(CC_QUEUE_SIZE, 2, 8);
	CHECK_EQ(rd(CC_QUEUE_SIZE, 2), 8);
	wr(CC_QUEUE_MSIX_VECTOR, 2, 2);
	CHECK_EQ(rd(CC_QUEUE_MSIX_VECTOR, 2), 2);
	wr(CC_QUEUE_MSIX_VECTOR, 2, 3);                   /* only 3 vectors */
	CHECK_EQ(rd(CC_QUEUE_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	wr(CC_MSIX_CONFIG, 2, 0);
	CHECK_EQ(rd(CC_MSIX_CONFIG, 2), 0);
	wr(CC_QUEUE_DESC + 4, 4, 0x12345678);
	wr(CC_QUEUE_DESC, 4, 0x9abcdef0);
	CHECK_EQ(rd(CC_QUEUE_DESC, 8), 0x123456789abcdef0ull);
	CHECK_EQ(rd(CC_QUEUE_DESC + 4, 4), 0x12345678);
	/* No queue 2: size 0, writes dropped. */
	wr(CC_QUEUE_SELECT, 2, 2);
	CHECK_EQ(rd(CC_QUEUE_SIZE, 2), 0);
	wr(CC_QUEUE_SIZE, 2, 4);
	CHECK_EQ(rd(CC_QUEUE_SIZE, 2), 0);
	CHECK_EQ(rd(CC_QUEUE_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	/* Wrong widths and places are no register. */
	uint64_t v = 0;
	CHECK_EQ(bar_io(CC_DEVICE_STATUS, 2, false, &v), IO_UNHANDLED);
	CHECK_EQ(bar_io(CC_QUEUE_SIZE, 4, false, &v), IO_UNHANDLED);
	CHECK_EQ(bar_io(CC_DEVICE_FEATURE + 1, 1, false, &v), IO_UNHANDLED);
	CHECK_EQ(bar_io(VIRTIO_PCI_COMMON_LEN, 2, false, &v), IO_UNHANDLED);
	CHECK_EQ(bar_io(VIRTIO_PCI_DEVCFG_OFF + 6, 4, false, &v), IO_UNHANDLED);
	CHECK_EQ(bar_io(VIRTIO_PCI_NOTIFY_OFF + 8, 2, true, &v), IO_UNHANDLED);
	CHECK_EQ(bar_io(0x6000, 4, false, &v), IO_UNHANDLED);
}

TEST(queue_and_notify)
{
	setup();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 4, DESC, AVAIL, USED);
	CHECK_EQ(rd(CC_QUEUE_ENABLE, 2), 1);
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET));
	offer(0, 32, 1, 4);
	/* No ring access before DRIVER_OK. */
	kick(0);
	CHECK_EQ(nnotify, 0);
	driver_ok();
	kick(0);
	CHECK_EQ(nnotify, 1);
	CHECK_EQ(last_notify_q, 0);
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(ram[BUF + 31], 0xab);
	CHECK_EQ(ram[BUF + 32], 0);
	/* MSI-X off: the ISR says queue interrupt, once. */
	CHECK_EQ(nmsis, 0);
	CHECK_EQ(rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_QUEUE);
	CHECK_EQ(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	/* MSI-X on: the queue's vector. */
	msix_on = true;
	offer(0, 8, 2, 4);
	kick(0);
	CHECK_EQ(used_idx(), 2);
	CHECK_EQ(nmsis, 1);
	CHECK_EQ(msis[0], 1);
	CHECK_EQ(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	/* A disabled queue gets no kick. */
	kick(1);
	CHECK_EQ(nnotify, 2);
}

TEST(reset_at_any_time)
{
	setup();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 4, DESC, AVAIL, USED);
	driver_ok();
	wr(CC_MSIX_CONFIG, 2, 0);
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK_EQ(status(), 0);
	CHECK_EQ(nreset, 1);
	CHECK_EQ(dev.driver_features, 0);
	CHECK_EQ(rd(CC_MSIX_CONFIG, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(rd(CC_QUEUE_SELECT, 2), 0);
	CHECK_EQ(rd(CC_QUEUE_ENABLE, 2), 0);
	CHECK_EQ(rd(CC_QUEUE_SIZE, 2), QMAX);
	CHECK_EQ(rd(CC_QUEUE_DESC, 8), 0);
	CHECK(!virtq_is_enabled(&dev.q[0].vq));
	offer(0, 8, 1, 4);
	kick(0);
	CHECK_EQ(nnotify, 0);
	/* Reset in the middle of negotiation, then the whole dance again. */
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK_EQ(nreset, 2);
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 4, DESC, AVAIL, USED);
	driver_ok();
	kick(0);
	CHECK_EQ(nnotify, 1);
	CHECK_EQ(used_idx(), 1);
}

TEST(needs_reset_on_bad_ring)
{
	setup();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	/* Misaligned descriptor table: enabling fails. */
	queue_setup(0, 4, DESC + 8, AVAIL, USED);
	CHECK_EQ(rd(CC_QUEUE_ENABLE, 2), 0);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("virtio: VM t dev test queue 0: "));
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK_EQ(status(), 0);

	/* A size that is no power of two, and one past RAM. */
	log_reset();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(1, 3, DESC, AVAIL, USED);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("virtio: VM t dev test queue 1: "));
	wr(CC_DEVICE_STATUS, 1, 0);
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 4, RAM_SIZE - 16, AVAIL, USED);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	wr(CC_DEVICE_STATUS, 1, 0);

	/* A power of two above the device's maximum, though within virtq's. */
	log_reset();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 2 * QMAX, DESC, AVAIL, USED);
	CHECK_EQ(rd(CC_QUEUE_ENABLE, 2), 0);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("virtio: VM t dev test queue 0: queue size above the device's maximum"));
	wr(CC_DEVICE_STATUS, 1, 0);

	/* A head index out of range, found by the device on a kick. */
	log_reset();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 4, DESC, AVAIL, USED);
	driver_ok();
	msix_on = true;
	wr(CC_MSIX_CONFIG, 2, 0);
	offer(0, 8, 1, 4);
	uint16_t bad = 9;
	memcpy(ram + AVAIL + 4, &bad, 2);
	kick(0);
	CHECK_EQ(nnotify, 1);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(status() & VIRTIO_STATUS_DRIVER_OK);
	CHECK(log_has("virtio: VM t dev test queue 0: "));
	CHECK_EQ(nmsis, 1);                                /* config change, vector 0 */
	CHECK_EQ(msis[0], 0);
	/* Nothing more reaches the device until a reset. */
	kick(0);
	CHECK_EQ(nnotify, 1);
	CHECK(virtio_pci_queue(&dev, 0) == NULL);
	/* The driver cannot clear the device's bit. */
	driver_ok();
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK_EQ(status(), 0);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A driver breaking a rule again after each reset is said 256 times, then not. */
TEST(needs_reset_messages_bounded)
{
	setup();
	for (unsigned i = 0; i < 300; i++) {
		negotiate(BIT64(VIRTIO_F_VERSION_1));
		queue_setup(0, 3, DESC, AVAIL, USED);
		CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
		wr(CC_DEVICE_STATUS, 1, 0);
	}
	CHECK_EQ(count(log_text(), "queue 0: queue size not a power of two"), 256);
	CHECK_EQ(count(log_text(), "256 violations said; no more messages from this device"), 1);
	/* Still refused, silently. */
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 3, DESC, AVAIL, USED);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
}

TEST(address_after_enable_rejected)
{
	setup();
	negotiate(BIT64(VIRTIO_F_VERSION_1));
	queue_setup(0, 4, DESC, AVAIL, USED);
	wr(CC_QUEUE_DESC, 4, 0x8000);
	wr(CC_QUEUE_SIZE, 2, 2);
	CHECK_EQ(rd(CC_QUEUE_DESC, 4), DESC);
	CHECK_EQ(rd(CC_QUEUE_SIZE, 2), 4);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(log_has("queue address written after queue_enable"));
}

TEST(enable_before_features_ok)
{
	setup();
	wr(CC_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	queue_setup(0, 4, DESC, AVAIL, USED);
	CHECK_EQ(rd(CC_QUEUE_ENABLE, 2), 0);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET);
}

TEST(config_change)
{
	setup();
	CHECK_EQ(rd(CC_CONFIG_GENERATION, 1), 0);
	virtio_pci_config_changed(&dev);
	CHECK_EQ(rd(CC_CONFIG_GENERATION, 1), 1);
	CHECK_EQ(rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_CONFIG);
	CHECK_EQ(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	msix_on = true;
	virtio_pci_config_changed(&dev);                  /* no vector set: nothing */
	CHECK_EQ(nmsis, 0);
	wr(CC_MSIX_CONFIG, 2, 0);
	virtio_pci_config_changed(&dev);
	CHECK_EQ(nmsis, 1);
}

static uint64_t cfg_io(unsigned reg, unsigned size, bool write, uint64_t v)
{
	struct io_access a = { .addr = reg, .size = (uint8_t)size, .write = write, .value = v };

	CHECK(dev.pci.cfg_access(&dev.pci, reg, &a));
	return write ? 0 : a.value;
}

/* 4.1.4.9: the BAR through configuration space, as firmware uses it. */
TEST(pci_cfg_window)
{
	unsigned cap;
	struct io_access a = { .size = 4 };

	setup();
	cap = dev.pcicfg_cap;
	CHECK_EQ(cap, VPCI_CAP_START + 4 * 20);
	CHECK(!dev.pci.cfg_access(&dev.pci, cap, &a));      /* header: vpci's */
	CHECK(!dev.pci.cfg_access(&dev.pci, cap + 20, &a));
	cfg_io(cap + 4, 1, true, 0);
	cfg_io(cap + 8, 4, true, CC_NUM_QUEUES);
	cfg_io(cap + 12, 4, true, 2);
	CHECK_EQ(cfg_io(cap + 8, 4, false, 0), CC_NUM_QUEUES);
	CHECK_EQ(cfg_io(cap + 12, 2, false, 0), 2);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 2);
	/* A write reaches the common configuration. */
	cfg_io(cap + 8, 4, true, CC_QUEUE_SELECT);
	cfg_io(cap + 16, 4, true, 1);
	CHECK_EQ(rd(CC_QUEUE_SELECT, 2), 1);
	/* Device configuration, a byte. */
	cfg_io(cap + 8, 4, true, VIRTIO_PCI_DEVCFG_OFF + 2);
	cfg_io(cap + 12, 4, true, 1);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 3);
	/* Unusable settings read 0: a length of 3, misaligned, another BAR, MSI-X. */
	cfg_io(cap + 12, 4, true, 3);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 0);
	cfg_io(cap + 12, 4, true, 4);
	cfg_io(cap + 8, 4, true, 2);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 0);
	cfg_io(cap + 8, 4, true, 0);
	cfg_io(cap + 4, 1, true, 2);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 0);
	cfg_io(cap + 4, 1, true, 0);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 0);           /* device_feature_select */
	cfg_io(cap + 8, 4, true, VIRTIO_PCI_MSIX_TABLE);
	CHECK_EQ(cfg_io(cap + 16, 4, false, 0), 0);
	/* id and padding stay read-only. */
	cfg_io(cap + 4, 4, true, 0xffffffff);
	CHECK_EQ(cfg_io(cap + 4, 4, false, 0), 0xff);
}

/* Whatever a guest writes anywhere in the BAR, nothing breaks. */
TEST(hostile_writes)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	uint64_t seed = 0x2545f4914f6cdd1dull, v;

	setup();
	for (unsigned i = 0; i < 200000; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		unsigned size = sizes[seed & 3];
		uint64_t off = (seed >> 8) % 0x4000 & ~(uint64_t)(size - 1);
		bool w = (seed >> 40) & 1;

		if (off < 0x40 && w && ((seed >> 41) & 3) == 0)
			off = CC_DEVICE_STATUS, size = 1;   /* visit the state machine often */
		v = seed >> 16;
		if (off == CC_QUEUE_DESC || off == CC_QUEUE_DRIVER || off == CC_QUEUE_DEVICE)
			v &= RAM_SIZE - 1;
		bar_io(off, size, w, &v);
	}
	wr(CC_DEVICE_STATUS, 1, 0);
	CHECK_EQ(status(), 0);
}

int main(void)
{
	RUN(ids_and_capabilities);
	RUN(device_features);
	RUN(negotiation_succeeds);
	RUN(negotiation_refused);
	RUN(queue_registers);
	RUN(queue_and_notify);
	RUN(reset_at_any_time);
	RUN(needs_reset_on_bad_ring);
	RUN(needs_reset_messages_bounded);
	RUN(address_after_enable_rejected);
	RUN(enable_before_features_ok);
	RUN(config_change);
	RUN(pci_cfg_window);
	RUN(hostile_writes);
	return unit_done();
}
