/*
 * The virtio over PCI transport, modern devices only (virtio 1.2 4.1):
 * a device model describes itself with struct virtio_dev_ops and calls
 * virtio_pci_add() from its unit's vm_create; this file makes the PCI
 * function (4.1.2: vendor 0x1af4, device 0x1040 + type, revision 1),
 * one 64-bit memory BAR holding the four virtio structures and the
 * MSI-X table, the vendor-specific capabilities that point at them
 * (4.1.4) and the PCI configuration access capability, and runs the common configuration: feature negotiation, the
 * device status state machine, queue set-up and reset.
 *
 * BAR 0 (VIRTIO_PCI_BAR_SIZE):
 *   0x0000 common configuration (4.1.4.3)
 *   0x1000 ISR status (4.1.4.5)
 *   0x2000 device-specific configuration (4.1.4.6)
 *   0x3000 notifications (4.1.4.4): queue n at 0x3000 + 4 * n, since
 *          queue_notify_off = n and notify_off_multiplier = 4: each queue
 *          has its own address, so the offset alone names the queue.
 *   0x4000 MSI-X table, 0x5000 its PBA (vpci emulates both)
 *
 * Interrupts are MSI-X only: vector 0 is for configuration changes by
 * default choice of the driver, and there is one per queue. Without
 * MSI-X the ISR status bits are set, but no INTx line is routed (the
 * bus has no _PRT), so a driver without MSI-X has to poll.
 *
 * Locking: the common configuration is under the device's lock; each
 * queue has its own lock, taken by the notify path and, inside the
 * device lock, by reset and queue set-up (order: device, then queue).
 * The device model's notify handler runs with the queue's lock held.
 */
#ifndef VDEV_VIRTIO_PCI_H
#define VDEV_VIRTIO_PCI_H

#include "core/spinlock.h"
#include "core/types.h"
#include "vdev/virtq.h"
#include "vdev/vpci.h"

struct vm;
struct virtio_dev;

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040      /* + device type (4.1.2) */
#define VIRTIO_PCI_QUEUES_MAX 8
#define VIRTIO_PCI_BAR_SIZE 0x8000u
#define VIRTIO_PCI_COMMON_OFF 0x0000u
#define VIRTIO_PCI_COMMON_LEN 0x38u        /* through queue_device */
#define VIRTIO_PCI_ISR_OFF 0x1000u
#define VIRTIO_PCI_DEVCFG_OFF 0x2000u
#define VIRTIO_PCI_DEVCFG_MAX 0x1000u
#define VIRTIO_PCI_NOTIFY_OFF 0x3000u
#define VIRTIO_PCI_NOTIFY_MULT 4u
#define VIRTIO_PCI_MSIX_TABLE 0x4000u
#define VIRTIO_PCI_MSIX_PBA 0x5000u
#define VIRTIO_MSI_NO_VECTOR 0xffffu

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* Transport feature bits (6); the virtq ones are in virtq.h. */
#define VIRTIO_F_VERSION_1 32

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 1u
#define VIRTIO_ISR_CONFIG 2u

struct virtio_dev_ops {
	const char *name;               /* "virtio-rng", for messages */
	uint16_t type;                  /* device ID (5) */
	uint32_t class_code;            /* PCI class, 0 if none fits */
	uint64_t features;              /* device-specific bits; the transport adds its own */
	uint16_t num_queues;            /* 1 to VIRTIO_PCI_QUEUES_MAX */
	uint16_t queue_max;             /* power of two, <= VIRTQ_MAX_SIZE */
	uint32_t config_len;            /* device-specific config bytes, <= VIRTIO_PCI_DEVCFG_MAX */
	/*
	 * Optional: device-specific configuration at @off (a->size bytes,
	 * inside config_len). Read: set a->value. Called without locks.
	 */
	void (*config_access)(struct virtio_dev *d, unsigned off, struct io_access *a);
	/*
	 * The driver kicked queue @q (DRIVER_OK is set, the queue enabled):
	 * take chains from virtio_pci_queue(), then virtio_pci_notify_queue().
	 * Runs on the kicking vCPU with the queue's lock held: keep it short.
	 */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* Optional: the device was reset (2.4); queues are already reset. */
	void (*reset)(struct virtio_dev *d);
};

/*
 * What a queue did since its driver enabled it, under the queue's lock;
 * printed when the device is reset (the driver let go of it).
 */
struct virtio_queue_stats {
	uint64_t kicks;                 /* driver notifications: VM exits */
	uint64_t used;                  /* buffers given back */
	uint64_t irqs;                  /* used-buffer notifications sent */
	uint64_t ticks;                 /* TSC spent in the device's notify handler */
	uint16_t used_seen;             /* vq.used_idx when last counted */
};

struct virtio_queue {
	spinlock_t lock;
	struct virtio_queue_stats stats;
	struct virtq vq;
	uint16_t size;                  /* as the driver set it */
	uint16_t msix_vector;
	uint64_t desc, driver, device;  /* guest-physical, as set */
	bool enabled;
};

struct virtio_dev {
	/* Set by the device model before virtio_pci_add(). */
	const struct virtio_dev_ops *ops;
	void *priv;
	const char *instance;           /* optional: which of its kind, e.g. "vda" */

	/* The transport's. */
	struct vpci_dev pci;
	struct vm *vm;
	char label[24];                 /* ops->name and instance, for messages */
	struct virtq_mem mem;           /* the VM's RAM */
	spinlock_t lock;                /* the common configuration */
	uint64_t offered;               /* ops->features and the transport's */
	uint64_t driver_features;
	uint32_t device_feature_select, driver_feature_select;
	uint16_t msix_config;
	uint16_t queue_select;
	uint8_t status;                 /* as the driver set it, without NEEDS_RESET */
	volatile uint8_t config_generation;
	volatile bool needs_reset;      /* DEVICE_NEEDS_RESET, the device's bit */
	uint32_t needs_reset_msgs;      /* times said, for virtio_pci_needs_reset()'s limit */
	volatile uint8_t isr;
	struct virtio_queue q[VIRTIO_PCI_QUEUES_MAX];
	/* The PCI configuration access capability (4.1.4.9), under lock. */
	uint8_t pcicfg_cap;             /* its offset in configuration space */
	uint8_t pcicfg[16];             /* its bytes 4-19: bar, offset, length, data */
};

/*
 * Plug @d (ops and priv set, the rest zero) into @vm's PCI bus, from a
 * unit's vm_create. @d stays allocated as long as the VM. Returns the
 * slot or a negative error after saying what is wrong.
 */
int virtio_pci_add(struct vm *vm, struct virtio_dev *d);

/* Back to the power-on state, as a write of 0 to device_status (2.4). */
void virtio_pci_reset(struct virtio_dev *d);

/*
 * Queue @q's ring, for the notify handler (the queue lock held): NULL
 * unless DRIVER_OK is set, DEVICE_NEEDS_RESET is not, and the queue is
 * enabled. No ring access before DRIVER_OK (3.1.1).
 */
struct virtq *virtio_pci_queue(struct virtio_dev *d, unsigned q);

/*
 * After pushing used buffers on queue @q (its lock held): a used-buffer
 * notification if virtq_should_notify() wants one: the queue's MSI-X
 * vector, or ISR bit 0 while MSI-X is off.
 */
void virtio_pci_notify_queue(struct virtio_dev *d, unsigned q);

/* The device's configuration changed: config_generation, then an interrupt. */
void virtio_pci_config_changed(struct virtio_dev *d);

/*
 * The driver broke a rule on queue @q (or on none: q < 0): say so
 * ("virtio: VM x dev y queue z: reason"; once per reset, and no more
 * than 256 times per device, against a driver that floods the console),
 * set DEVICE_NEEDS_RESET and send a configuration change notification
 * (2.1.2). Any lock may be held.
 */
void virtio_pci_needs_reset(struct virtio_dev *d, int q, const char *reason);

#endif
