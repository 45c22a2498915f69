/*
 * The virtio over PCI transport (virtio 1.2 4.1), modern devices only:
 * see virtio_pci.h for the BAR layout, interrupts and locking.
 */
#include "arch/x86/cpu.h"
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/vm.h"
#include "vdev/virtio_pci.h"

/* struct virtio_pci_cap (4.1.4), and the notify capability (4.1.4.4). */
#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

struct virtio_pci_cap {
	uint8_t cap_vndr, cap_next, cap_len, cfg_type;
	uint8_t bar, id, padding[2];
	uint32_t offset, length;
} __packed;

struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	uint32_t notify_off_multiplier;
} __packed;

/* 4.1.4.9: a window into the BARs through configuration space. */
struct virtio_pci_cfg_cap {
	struct virtio_pci_cap cap;
	uint8_t pci_cfg_data[4];
} __packed;

/* Offsets in struct virtio_pci_cfg_cap, and in virtio_dev.pcicfg (from 4). */
#define PCICFG_BAR 4u
#define PCICFG_OFFSET 8u
#define PCICFG_LENGTH 12u
#define PCICFG_DATA 16u
#define PCICFG_END 20u

BUILD_ASSERT(sizeof(struct virtio_pci_cap) == 16);
BUILD_ASSERT(sizeof(struct virtio_pci_cfg_cap) == PCICFG_END);
BUILD_ASSERT(sizeof(struct virtio_pci_notify_cap) == 20);

/* Common configuration registers (4.1.4.3). */
enum {
	CC_DEVICE_FEATURE_SELECT = 0x00,
	CC_DEVICE_FEATURE = 0x04,
	CC_DRIVER_FEATURE_SELECT = 0x08,
	CC_DRIVER_FEATURE = 0x0c,
	CC_MSIX_CONFIG = 0x10,
	CC_NUM_QUEUES = 0x12,
	CC_DEVICE_STATUS = 0x14,
	CC_CONFIG_GENERATION = 0x15,
	CC_QUEUE_SELECT = 0x16,
	CC_QUEUE_SIZE = 0x18,
	CC_QUEUE_MSIX_VECTOR = 0x1a,
	CC_QUEUE_ENABLE = 0x1c,
	CC_QUEUE_NOTIFY_OFF = 0x1e,
	CC_QUEUE_DESC = 0x20,
	CC_QUEUE_DRIVER = 0x28,
	CC_QUEUE_DEVICE = 0x30,
};

#define BIT64(n) (1ull << (n))

/* Transport features every device gets: virtq.c handles both ring ones. */
#define TRANSPORT_FEATURES                                                    \
	(BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_EVENT_IDX) |              \
	 BIT64(VIRTIO_F_INDIRECT_DESC))

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint8_t status_read(const struct virtio_dev *d)
{
	return (uint8_t)(d->status | (d->needs_reset ? VIRTIO_STATUS_NEEDS_RESET : 0));
}

static bool is_driver_ok(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !d->needs_reset;
}

static struct virtio_queue *selected_queue(struct virtio_dev *d)
{
	return d->queue_select < d->ops->num_queues ? &d->q[d->queue_select] : NULL;
}

static void isr_set(struct virtio_dev *d, uint8_t bits)
{
	__atomic_fetch_or(&d->isr, bits, __ATOMIC_SEQ_CST);
}

/* A vector the device has (4.1.5.1.2: else the register reads NO_VECTOR). */
static uint16_t vector_check(const struct virtio_dev *d, uint64_t v)
{
	return v < d->pci.msix.nvec ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void config_interrupt(struct virtio_dev *d)
{
	uint16_t v = __atomic_load_n(&d->msix_config, __ATOMIC_RELAXED);

	if (vpci_msix_is_enabled(&d->pci)) {
		if (v != VIRTIO_MSI_NO_VECTOR)
			vpci_msix_notify(&d->pci, v);
	} else {
		isr_set(d, VIRTIO_ISR_CONFIG);
	}
}

/*
 * A driver that breaks a rule, resets the device and breaks it again can
 * do so thousands of times a second, and each message holds the console
 * for as long as the UART takes to send it: a flood other VMs' output
 * would wait behind. So each device says this many, then says it stops.
 */
#define NEEDS_RESET_MSGS_MAX 256u

void virtio_pci_needs_reset(struct virtio_dev *d, int q, const char *reason)
{
	uint32_t n;

	if (__atomic_exchange_n(&d->needs_reset, true, __ATOMIC_SEQ_CST))
		return;         /* said once per reset */
	n = __atomic_fetch_add(&d->needs_reset_msgs, 1, __ATOMIC_RELAXED);
	if (n == NEEDS_RESET_MSGS_MAX)
		pr_warn("virtio: VM %s dev %s: %u violations said; no more messages from this device\n",
			d->vm->name, d->label, n);
	else if (n < NEEDS_RESET_MSGS_MAX && q >= 0)
		pr_warn("virtio: VM %s dev %s queue %d: %s: device needs reset\n", d->vm->name,
			d->label, q, reason);
	else if (n < NEEDS_RESET_MSGS_MAX)
		pr_warn("virtio: VM %s dev %s: %s: device needs reset\n", d->vm->name,
			d->label, reason);
	config_interrupt(d);
}

void virtio_pci_config_changed(struct virtio_dev *d)
{
	__atomic_fetch_add(&d->config_generation, 1, __ATOMIC_SEQ_CST);
	config_interrupt(d);
}

/* ---- Reset and queue set-up ---------------------------------------------- */

static void count_used(struct virtio_queue *q)
{
	q->stats.used += (uint16_t)(q->vq.used_idx - q->stats.used_seen);
	q->stats.used_seen = q->vq.used_idx;
}

/*
 * Say what the queue did for the driver that is letting go of it: the
 * figures `make bench` divides (exits and interrupts per request).
 */
static void queue_stats_report(struct virtio_dev *d, unsigned n)
{
	struct virtio_queue_stats *st = &d->q[n].stats;

	count_used(&d->q[n]);
	if (st->kicks || st->used)
		pr_info("virtio: VM %s dev %s queue %u: %llu buffers used, %llu notifications, "
			"%llu interrupts, %llu TSC ticks in the device\n", d->vm->name, d->label,
			n, (unsigned long long)st->used, (unsigned long long)st->kicks,
			(unsigned long long)st->irqs, (unsigned long long)st->ticks);
	*st = (struct virtio_queue_stats){ 0 };
}

static void queue_reset(struct virtio_dev *d, unsigned n)
{
	struct virtio_queue *q = &d->q[n];

	spin_lock(&q->lock);
	queue_stats_report(d, n);
	virtq_reset(&q->vq);
	q->size = d->ops->queue_max;
	q->msix_vector = VIRTIO_MSI_NO_VECTOR;
	q->desc = q->driver = q->device = 0;
	q->enabled = false;
	spin_unlock(&q->lock);
}

/* 2.4 and 4.1.4.3.1: with the device lock held. */
static void device_reset(struct virtio_dev *d)
{
	d->status = 0;
	for (unsigned n = 0; n < d->ops->num_queues; n++)
		queue_reset(d, n);
	d->driver_features = 0;
	d->device_feature_select = d->driver_feature_select = 0;
	d->msix_config = VIRTIO_MSI_NO_VECTOR;
	d->queue_select = 0;
	__atomic_store_n(&d->isr, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&d->needs_reset, false, __ATOMIC_SEQ_CST);
	if (d->ops->reset)
		d->ops->reset(d);
}

void virtio_pci_reset(struct virtio_dev *d)
{
	spin_lock(&d->lock);
	device_reset(d);
	spin_unlock(&d->lock);
}

/* The driver wrote 1 to queue_enable (4.1.4.3.2: it never writes 0). */
static void queue_enable(struct virtio_dev *d, unsigned n)
{
	struct virtio_queue *q = &d->q[n];
	int err;

	if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_pci_needs_reset(d, (int)n, "queue enabled before FEATURES_OK (3.1.1)");
		return;
	}
	/*
	 * 4.1.4.3: queue_size starts at the device's maximum and the driver
	 * may only lower it; virtq_enable() knows VIRTQ_MAX_SIZE, not ours.
	 */
	if (q->size > d->ops->queue_max) {
		virtio_pci_needs_reset(d, (int)n, "queue size above the device's maximum (4.1.4.3)");
		return;
	}
	spin_lock(&q->lock);
	if (!q->enabled) {
		err = virtq_enable(&q->vq, &d->mem, q->size, q->desc, q->driver, q->device,
				   d->driver_features);
		q->enabled = !err;
	}
	spin_unlock(&q->lock);
	if (!q->enabled)
		virtio_pci_needs_reset(d, (int)n, q->vq.reason);
}

/* ---- Device status (2.1, 3.1.1) ----------------------------------------- */

static bool features_acceptable(const struct virtio_dev *d)
{
	return (d->driver_features & BIT64(VIRTIO_F_VERSION_1)) &&
	       !(d->driver_features & ~d->offered);
}

static void status_write(struct virtio_dev *d, uint8_t v)
{
	uint8_t old = d->status;

	v &= (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;   /* the device's bit */
	if (!v) {
		device_reset(d);
		return;
	}
	/* FEATURES_OK is refused, reading back clear, for features we cannot take (2.2.2). */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(d))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		v &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
		virtio_pci_needs_reset(d, -1, "DRIVER_OK without FEATURES_OK (3.1.1)");
	}
	d->status = v;
}

/* ---- Common configuration ------------------------------------------------ */

static uint64_t queue_addr_read(const struct virtio_queue *q, unsigned off)
{
	const uint64_t *reg = off < CC_QUEUE_DRIVER ? &q->desc :
			      off < CC_QUEUE_DEVICE ? &q->driver : &q->device;

	return (off & 4) ? *reg >> 32 : *reg;
}

static void queue_addr_write(struct virtio_dev *d, struct virtio_queue *q, unsigned off,
			     unsigned size, uint64_t v)
{
	uint64_t *reg = off < CC_QUEUE_DRIVER ? &q->desc :
			off < CC_QUEUE_DEVICE ? &q->driver : &q->device;

	if (q->enabled) {
		/* 4.1.4.3.2: fixed once enabled; a write is dropped. */
		virtio_pci_needs_reset(d, d->queue_select, "queue address written after queue_enable");
		return;
	}
	if (size == 8)
		*reg = v;
	else if (off & 4)
		*reg = (*reg & 0xffffffffull) | (v << 32);
	else
		*reg = (*reg & ~0xffffffffull) | (v & 0xffffffffull);
}

static uint64_t common_read(struct virtio_dev *d, unsigned off)
{
	struct virtio_queue *q = selected_queue(d);

	switch (off) {
	case CC_DEVICE_FEATURE_SELECT:
		return d->device_feature_select;
	case CC_DEVICE_FEATURE:
		return d->device_feature_select < 2 ?
		       (uint32_t)(d->offered >> (32 * d->device_feature_select)) : 0;
	case CC_DRIVER_FEATURE_SELECT:
		return d->driver_feature_select;
	case CC_DRIVER_FEATURE:
		return d->driver_feature_select < 2 ?
		       (uint32_t)(d->driver_features >> (32 * d->driver_feature_select)) : 0;
	case CC_MSIX_CONFIG:
		return d->msix_config;
	case CC_NUM_QUEUES:
		return d->ops->num_queues;
	case CC_DEVICE_STATUS:
		return status_read(d);
	case CC_CONFIG_GENERATION:
		return d->config_generation;
	case CC_QUEUE_SELECT:
		return d->queue_select;
	}
	if (!q)             /* 4.1.4.3.2: queue_size 0: no such queue */
		return off == CC_QUEUE_MSIX_VECTOR ? VIRTIO_MSI_NO_VECTOR : 0;
	switch (off) {
	case CC_QUEUE_SIZE:
		return q->size;
	case CC_QUEUE_MSIX_VECTOR:
		return q->msix_vector;
	case CC_QUEUE_ENABLE:
		return q->enabled;
	case CC_QUEUE_NOTIFY_OFF:
		return d->queue_select;
	}
	return queue_addr_read(q, off);
}

static void driver_feature_write(struct virtio_dev *d, uint64_t v)
{
	unsigned sh = 32 * d->driver_feature_select;

	/* Features are fixed once FEATURES_OK is set (3.1.1). */
	if (d->driver_feature_select >= 2 || (d->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	d->driver_features = (d->driver_features & ~(0xffffffffull << sh)) |
			     ((v & 0xffffffffull) << sh);
}

static void common_write(struct virtio_dev *d, unsigned off, unsigned size, uint64_t v)
{
	struct virtio_queue *q = selected_queue(d);

	switch (off) {
	case CC_DEVICE_FEATURE_SELECT:
		d->device_feature_select = (uint32_t)v;
		return;
	case CC_DRIVER_FEATURE_SELECT:
		d->driver_feature_select = (uint32_t)v;
		return;
	case CC_DRIVER_FEATURE:
		driver_feature_write(d, v);
		return;
	case CC_MSIX_CONFIG:
		__atomic_store_n(&d->msix_config, vector_check(d, v), __ATOMIC_RELAXED);
		return;
	case CC_DEVICE_STATUS:
		status_write(d, (uint8_t)v);
		return;
	case CC_QUEUE_SELECT:
		d->queue_select = (uint16_t)v;
		return;
	}
	if (!q)
		return;
	switch (off) {
	case CC_QUEUE_SIZE:
		if (!q->enabled)    /* virtq_enable() checks it */
			q->size = (uint16_t)v;
		return;
	case CC_QUEUE_MSIX_VECTOR:
		__atomic_store_n(&q->msix_vector, vector_check(d, v), __ATOMIC_RELAXED);
		return;
	case CC_QUEUE_ENABLE:
		if (v == 1)
			queue_enable(d, d->queue_select);
		return;
	case CC_QUEUE_DESC ... CC_QUEUE_DEVICE + 7:
		queue_addr_write(d, q, off, size, v);
		return;
	}
	/* num_queues, config_generation, queue_notify_off, device_feature: read-only. */
}

/*
 * 4.1.3.1: the driver accesses each field with its own width, 64-bit
 * ones as two 32-bit halves (or at once). Anything else is no register.
 */
static bool is_common_access(unsigned off, unsigned size)
{
	if (off >= VIRTIO_PCI_COMMON_LEN)
		return false;
	if (off >= CC_QUEUE_DESC)
		return (size == 4 && !(off & 3)) || (size == 8 && !(off & 7));
	if (off < CC_MSIX_CONFIG)
		return size == 4 && !(off & 3);
	if (off == CC_DEVICE_STATUS || off == CC_CONFIG_GENERATION)
		return size == 1;
	return size == 2 && !(off & 1);
}

static enum io_result common_access(struct virtio_dev *d, unsigned off, struct io_access *a)
{
	if (!is_common_access(off, a->size))
		return IO_UNHANDLED;
	spin_lock(&d->lock);
	if (a->write)
		common_write(d, off, a->size, a->value & size_mask(a->size));
	else
		a->value = common_read(d, off) & size_mask(a->size);
	spin_unlock(&d->lock);
	return IO_HANDLED;
}

/* ---- Notifications, ISR, device config ----------------------------------- */

/* 4.1.4.4: the offset names the queue; the value written is its index too. */
static enum io_result notify_access(struct virtio_dev *d, unsigned off, struct io_access *a)
{
	unsigned n = off / VIRTIO_PCI_NOTIFY_MULT;
	struct virtio_queue *q;

	if (!a->write) {
		a->value = 0;
		return IO_HANDLED;
	}
	if (n >= d->ops->num_queues)
		return IO_UNHANDLED;
	q = &d->q[n];
	spin_lock(&q->lock);
	if (is_driver_ok(d) && q->enabled && d->ops->queue_notify) {
		uint64_t t0 = rdtsc();

		d->ops->queue_notify(d, n);
		q->stats.ticks += rdtsc() - t0;
		q->stats.kicks++;
	}
	spin_unlock(&q->lock);
	return IO_HANDLED;
}

/* 4.1.4.5: reading clears it. */
static enum io_result isr_access(struct virtio_dev *d, struct io_access *a)
{
	if (!a->write)
		a->value = __atomic_exchange_n(&d->isr, 0, __ATOMIC_SEQ_CST);
	return IO_HANDLED;
}

static enum io_result devcfg_access(struct virtio_dev *d, unsigned off, struct io_access *a)
{
	if (off + a->size > d->ops->config_len || !d->ops->config_access)
		return IO_UNHANDLED;
	if (!a->write)
		a->value = 0;
	d->ops->config_access(d, off, a);
	if (!a->write)
		a->value &= size_mask(a->size);
	return IO_HANDLED;
}

static enum io_result virtio_pci_bar_access(struct vpci_dev *pci, unsigned bar, uint64_t offset,
					    struct io_access *a)
{
	struct virtio_dev *d = pci->priv;
	unsigned off = (unsigned)(offset & 0xfff);

	if (bar != 0)
		return IO_UNHANDLED;
	switch (offset & ~0xfffull) {
	case VIRTIO_PCI_COMMON_OFF:
		return common_access(d, off, a);
	case VIRTIO_PCI_ISR_OFF:
		return off == 0 ? isr_access(d, a) : IO_UNHANDLED;
	case VIRTIO_PCI_DEVCFG_OFF:
		return devcfg_access(d, off, a);
	case VIRTIO_PCI_NOTIFY_OFF:
		return notify_access(d, off, a);
	}
	return IO_UNHANDLED;
}

/* ---- The PCI configuration access capability (4.1.4.9) ----------------- */

static uint32_t pcicfg_u32(const struct virtio_dev *d, unsigned field)
{
	uint32_t v;

	memcpy(&v, d->pcicfg + field - PCICFG_BAR, 4);
	return v;
}

/*
 * pci_cfg_data: an access of cap.length (1, 2 or 4, the offset aligned
 * to it) at cap.offset of BAR cap.bar; anything else reads 0 and does
 * nothing, as the driver's values are not usable (4.1.4.9.2).
 */
static void pcicfg_data_access(struct virtio_dev *d, struct io_access *a)
{
	uint32_t off, len;
	uint8_t bar;
	struct io_access ba = { .write = a->write, .value = a->value };

	spin_lock(&d->lock);
	bar = d->pcicfg[0];
	off = pcicfg_u32(d, PCICFG_OFFSET);
	len = pcicfg_u32(d, PCICFG_LENGTH);
	spin_unlock(&d->lock);
	if (!a->write)
		a->value = 0;
	if (bar != 0 || (len != 1 && len != 2 && len != 4) || (off & (len - 1)) ||
	    off >= VIRTIO_PCI_BAR_SIZE)
		return;
	ba.size = (uint8_t)len;
	ba.addr = d->pci.bar_addr[0] + off;
	ba.value &= size_mask(len);
	if (off >= VIRTIO_PCI_MSIX_TABLE)   /* vpci's own: not through this window */
		return;
	if (virtio_pci_bar_access(&d->pci, 0, off, &ba) == IO_HANDLED && !a->write)
		a->value = ba.value & size_mask(len);
}

static bool virtio_pci_cfg_access(struct vpci_dev *pci, unsigned reg, struct io_access *a)
{
	struct virtio_dev *d = pci->priv;
	unsigned at = reg - d->pcicfg_cap;

	if (reg < d->pcicfg_cap + PCICFG_BAR || reg >= d->pcicfg_cap + PCICFG_END)
		return false;
	if (at >= PCICFG_DATA) {
		if (at == PCICFG_DATA)
			pcicfg_data_access(d, a);
		else if (!a->write)
			a->value = 0;
		return true;
	}
	spin_lock(&d->lock);
	if (!a->write) {
		a->value = 0;
		memcpy(&a->value, d->pcicfg + at - PCICFG_BAR, a->size);
	} else {
		for (unsigned i = 0; i < a->size; i++, at++)
			if (at == PCICFG_BAR || at >= PCICFG_OFFSET)   /* not id, padding */
				d->pcicfg[at - PCICFG_BAR] = (uint8_t)(a->value >> (8 * i));
	}
	spin_unlock(&d->lock);
	return true;
}

/* ---- For device models --------------------------------------------------- */

struct virtq *virtio_pci_queue(struct virtio_dev *d, unsigned n)
{
	if (n >= d->ops->num_queues || !is_driver_ok(d) || !d->q[n].enabled)
		return NULL;
	return &d->q[n].vq;
}

void virtio_pci_notify_queue(struct virtio_dev *d, unsigned n)
{
	struct virtio_queue *q = &d->q[n];
	uint16_t v;

	count_used(q);
	if (!virtq_should_notify(&q->vq))
		return;
	q->stats.irqs++;
	if (!vpci_msix_is_enabled(&d->pci)) {
		isr_set(d, VIRTIO_ISR_QUEUE);
		return;
	}
	v = __atomic_load_n(&q->msix_vector, __ATOMIC_RELAXED);
	if (v != VIRTIO_MSI_NO_VECTOR)
		vpci_msix_notify(&d->pci, v);
}

/* ---- Creation ------------------------------------------------------------ */

static int cap_add(struct virtio_dev *d, uint8_t type, uint32_t off, uint32_t len)
{
	struct virtio_pci_cap c = {
		.cap_vndr = PCI_CAP_ID_VNDR, .cap_len = sizeof(c), .cfg_type = type,
		.bar = 0, .offset = off, .length = len,
	};

	return vpci_cap_add(&d->pci, &c, sizeof(c));
}

static int pcicfg_cap_add(struct virtio_dev *d)
{
	struct virtio_pci_cfg_cap c = {
		.cap = { .cap_vndr = PCI_CAP_ID_VNDR, .cap_len = sizeof(c),
			 .cfg_type = VIRTIO_PCI_CAP_PCI_CFG },
	};
	int off = vpci_cap_add(&d->pci, &c, sizeof(c));

	if (off > 0)
		d->pcicfg_cap = (uint8_t)off;
	return off;
}

static int caps_add(struct virtio_dev *d)
{
	struct virtio_pci_notify_cap n = {
		.cap = { .cap_vndr = PCI_CAP_ID_VNDR, .cap_len = sizeof(n),
			 .cfg_type = VIRTIO_PCI_CAP_NOTIFY_CFG, .offset = VIRTIO_PCI_NOTIFY_OFF,
			 .length = VIRTIO_PCI_NOTIFY_MULT * d->ops->num_queues },
		.notify_off_multiplier = VIRTIO_PCI_NOTIFY_MULT,
	};
	int err;

	err = cap_add(d, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN);
	if (err >= 0)
		err = vpci_cap_add(&d->pci, &n, sizeof(n));
	if (err >= 0)
		err = cap_add(d, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1);
	if (err >= 0 && d->ops->config_len)
		err = cap_add(d, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG_OFF,
			      d->ops->config_len);
	if (err >= 0)
		err = pcicfg_cap_add(d);
	if (err >= 0)
		err = vpci_msix_init(&d->pci, 1u + d->ops->num_queues, 0, VIRTIO_PCI_MSIX_TABLE,
				     VIRTIO_PCI_MSIX_PBA);
	return err < 0 ? err : 0;
}

static bool is_ops_valid(const struct virtio_dev_ops *o)
{
	return o->num_queues >= 1 && o->num_queues <= VIRTIO_PCI_QUEUES_MAX &&
	       o->queue_max && !(o->queue_max & (o->queue_max - 1)) &&
	       o->queue_max <= VIRTQ_MAX_SIZE && o->config_len <= VIRTIO_PCI_DEVCFG_MAX &&
	       o->queue_notify;
}

int virtio_pci_add(struct vm *vm, struct virtio_dev *d)
{
	const struct virtio_dev_ops *o = d->ops;
	int err;

	ASSERT(is_ops_valid(o));
	d->vm = vm;
	snprintf(d->label, sizeof(d->label), "%s%s%s", o->name, d->instance ? " " : "",
		 d->instance ? d->instance : "");
	d->mem = (struct virtq_mem){ vm_gpa_to_hva(vm, 0, vm->ram_size), vm->ram_size };
	d->offered = o->features | TRANSPORT_FEATURES;
	d->pci = (struct vpci_dev){
		.name = o->name,
		.vendor_id = VIRTIO_PCI_VENDOR,
		.device_id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + o->type),
		.subsys_vendor_id = VIRTIO_PCI_VENDOR,
		.subsys_id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + o->type),
		.class_code = o->class_code,
		.revision = 1,          /* 4.1.2.1: modern only */
		.slot = VPCI_SLOT_AUTO,
		.bar[0] = { VPCI_BAR_MEM64, false, VIRTIO_PCI_BAR_SIZE },
		.bar_access = virtio_pci_bar_access,
		.cfg_access = virtio_pci_cfg_access,
		.priv = d,
	};
	err = caps_add(d);
	if (err)
		return err;
	virtio_pci_reset(d);
	return vpci_add_device(vm, &d->pci);
}
