/*
 * virtio-blk (virtio 1.2 5.2), declared by `disk =` lines: a disk held
 * in host memory, either a boot module (the image, used in place) or an
 * empty disk allocated and zeroed when the VM is created. The contents
 * live as long as the hypervisor: a VM restart resets the device, not
 * the disk, and a module is the disk of one VM only (core/config.c).
 *
 * One request queue (no VIRTIO_BLK_F_MQ): requests are served
 * synchronously in the notify handler on the kicking vCPU, copying
 * straight between the disk and the guest's buffers, so more queues
 * would only add vCPUs copying at once. Requests themselves are in
 * virtio_blk_req.c.
 *
 * Per kick at most BLK_BUDGET chains are served: twice the queue, so a
 * driver that keeps the rules (at most queue-size chains outstanding)
 * only runs into it when other vCPUs refill the ring as fast as it is
 * served; the chains left then wait for the driver's next kick.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "core/unit.h"
#include "core/vm.h"
#include "boot/mb2.h"
#include "mm/kmem.h"
#include "mm/mm.h"
#include "mm/pmm.h"
#include "vdev/virtio_blk_req.h"
#include "vdev/virtio_pci.h"

#define VIRTIO_ID_BLOCK 2
#define PCI_CLASS_STORAGE_SCSI 0x010000u   /* what QEMU's virtio-blk-pci shows */

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define BLK_QUEUE_SIZE 256u
/* Header and status take a buffer each in a chain of at most the queue size. */
#define BLK_SEG_MAX (BLK_QUEUE_SIZE - 2u)
#define BLK_BUDGET (2u * BLK_QUEUE_SIZE)

/* struct virtio_blk_config (5.2.4), up to write_zeroes_may_unmap. */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __packed;

BUILD_ASSERT(__builtin_offsetof(struct blk_config, blk_size) == 20);
BUILD_ASSERT(__builtin_offsetof(struct blk_config, num_queues) == 34);
BUILD_ASSERT(__builtin_offsetof(struct blk_config, max_write_zeroes_sectors) == 48);
BUILD_ASSERT(sizeof(struct blk_config) == 60);

struct virtio_blk {
	struct virtio_dev dev;
	struct virtio_dev_ops ops;   /* blk_ops, with VIRTIO_BLK_F_RO if read-only */
	struct blk_disk disk;
	struct blk_config cfg;
	paddr_t empty_hpa;           /* an empty disk's memory, else 0 */
	bool no_status;              /* this kick met a chain with no status byte */
	char name[4];                /* "vda" */
	struct virtq_chain chain;    /* the notify path's scratch, under the queue lock */
};

static struct virtio_blk *blks[CONFIG_MAX_VMS][CONFIG_MAX_DISKS];

static uint32_t blk_serve_chain(const struct virtq_chain *c, void *opaque)
{
	struct virtio_blk *b = opaque;
	int64_t n = blk_req_serve(&b->disk, c, NULL);

	if (n == BLK_REQ_NO_STATUS) {
		b->no_status = true;
		return 0;
	}
	return (uint32_t)n;
}

static void blk_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_blk *b = d->priv;
	struct virtq *vq = virtio_pci_queue(d, q);
	int served;

	if (!vq)
		return;
	b->no_status = false;
	served = virtq_service(vq, &d->mem, &b->chain, BLK_BUDGET, blk_serve_chain, b);
	if (served < 0)
		virtio_pci_needs_reset(d, (int)q, vq->reason);
	else if (b->no_status)
		virtio_pci_needs_reset(d, (int)q, "request with no writable status byte (5.2.6)");
	virtio_pci_notify_queue(d, q);
}


/* Read-only: writeback is not offered (no VIRTIO_BLK_F_CONFIG_WCE). */
static void blk_config_access(struct virtio_dev *d, unsigned off, struct io_access *a)
{
	struct virtio_blk *b = d->priv;

	if (!a->write)
		memcpy(&a->value, (const uint8_t *)&b->cfg + off, a->size);
}

#define BLK_FEATURES                                                           \
	((1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |     \
	 (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |        \
	 (1ull << VIRTIO_BLK_F_WRITE_ZEROES))

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.type = VIRTIO_ID_BLOCK,
	.class_code = PCI_CLASS_STORAGE_SCSI,
	.features = BLK_FEATURES,
	.num_queues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.config_len = sizeof(struct blk_config),
	.config_access = blk_config_access,
	.queue_notify = blk_notify,
};

static void blk_config_fill(struct virtio_blk *b)
{
	b->cfg = (struct blk_config){
		.capacity = b->disk.sectors,
		.seg_max = BLK_SEG_MAX,
		.blk_size = VIRTIO_BLK_SECTOR,
		.num_queues = 1,
		.max_discard_sectors = BLK_DWZ_MAX_SECTORS,
		.max_discard_seg = BLK_DWZ_MAX_SEGS,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = BLK_DWZ_MAX_SECTORS,
		.max_write_zeroes_seg = BLK_DWZ_MAX_SEGS,
	};
}

/* The disk's memory: the module in place, or zeroed frames nobody else has. */
static int blk_disk_attach(struct vm *vm, struct virtio_blk *b, const struct disk_config *c)
{
	const struct boot_module *m;
	uint64_t size;

	if (c->module[0]) {
		m = vm_boot_module(vm, c->module);
		if (!m)     /* vm_check_machine() made sure of it */
			return -ENOENT;
		b->disk.data = phys_to_virt(m->start);
		size = m->end - m->start;
	} else {
		size = c->size;
		b->empty_hpa = pmm_alloc(ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE, PAGE_SIZE, 0);
		if (!b->empty_hpa) {
			config_error(vm->cfg_file, c->line, NULL,
				     "disk: no contiguous %lluK of free memory for the empty disk",
				     (unsigned long long)(size >> 10));
			return -ENOMEM;
		}
		b->disk.data = phys_to_virt(b->empty_hpa);
		memset(b->disk.data, 0, size);
	}
	b->disk.sectors = size / VIRTIO_BLK_SECTOR;
	b->disk.readonly = c->readonly;
	return 0;
}

static void blk_destroy(struct virtio_blk *b)
{
	if (b->empty_hpa)
		pmm_free(b->empty_hpa, ALIGN_UP(b->disk.sectors * VIRTIO_BLK_SECTOR, PAGE_SIZE) / PAGE_SIZE);
	kfree(b);
}

static int blk_create(struct vm *vm, unsigned n)
{
	const struct disk_config *c = &vm->cfg->disks[n];
	struct virtio_blk *b = kzalloc(sizeof(*b));
	char id[VIRTIO_BLK_ID_BYTES + 1];
	int err;

	if (!b)
		return -ENOMEM;
	err = blk_disk_attach(vm, b, c);
	if (err) {
		kfree(b);
		return err;
	}
	/* The serial Linux shows in /sys/block/vdX/serial, cut to 20 bytes. */
	snprintf(b->name, sizeof(b->name), "vd%c", 'a' + n);
	snprintf(id, sizeof(id), "hv-%s-%s", vm->name, b->name);
	memcpy(b->disk.id, id, VIRTIO_BLK_ID_BYTES);
	blk_config_fill(b);
	b->ops = blk_ops;
	if (c->readonly)
		b->ops.features |= 1ull << VIRTIO_BLK_F_RO;
	b->dev.ops = &b->ops;
	b->dev.priv = b;
	b->dev.instance = b->name;
	err = virtio_pci_add(vm, &b->dev);
	if (err < 0) {
		blk_destroy(b);
		return err;
	}
	blks[vm->id][n] = b;
	pr_info("vm %s: virtio-blk vd%c: %s%s, %llu sectors (%lluK)%s\n", vm->name, 'a' + n,
		c->module[0] ? "module " : "empty", c->module, (unsigned long long)b->disk.sectors,
		(unsigned long long)(b->disk.sectors / 2), c->readonly ? ", read-only" : "");
	return 0;
}

static void virtio_blk_vm_destroy(struct vm *vm)
{
	for (unsigned n = 0; n < CONFIG_MAX_DISKS; n++) {
		if (blks[vm->id][n])
			blk_destroy(blks[vm->id][n]);
		blks[vm->id][n] = NULL;
	}
}

static int virtio_blk_vm_create(struct vm *vm)
{
	int err;

	memset(blks[vm->id], 0, sizeof(blks[vm->id]));
	for (unsigned n = 0; n < vm->cfg->ndisks; n++) {
		err = blk_create(vm, n);
		if (err) {
			virtio_blk_vm_destroy(vm);
			return err;
		}
	}
	return 0;
}

/* The device goes back to its power-on state; the disk keeps its data. */
static void virtio_blk_vm_reset(struct vm *vm)
{
	for (unsigned n = 0; n < CONFIG_MAX_DISKS; n++)
		if (blks[vm->id][n])
			virtio_pci_reset(&blks[vm->id][n]->dev);
}

DEFINE_UNIT(virtio_blk, .vm_create = virtio_blk_vm_create, .vm_reset = virtio_blk_vm_reset,
	    .vm_destroy = virtio_blk_vm_destroy);
