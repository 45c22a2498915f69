/*
 * The device side of a split virtqueue (virtio 1.2 2.7): the driver
 * offers descriptor chains in the available ring, the device takes them
 * with virtq_pop(), uses the buffers and gives them back with
 * virtq_push(). Pure logic over a host mapping of guest RAM, so that the
 * same file runs in the hypervisor and in the host tests.
 *
 * Everything in the rings is guest memory that the guest may change at
 * any time, from another vCPU, while we read it: each shared field is
 * read once into a local, every index and address is checked, and the
 * first violation breaks the queue (see virtq_pop()). A device then
 * reports "virtio: VM x dev y queue z: <q->reason>" and sets
 * DEVICE_NEEDS_RESET (2.1.2); a broken queue stays broken until
 * virtq_reset().
 *
 * No allocation, no locks: the caller serialises all calls on one queue.
 * Layout fields are little-endian, as is x86.
 */
#ifndef VDEV_VIRTQ_H
#define VDEV_VIRTQ_H

#include "core/types.h"

/*
 * Largest queue size we accept. The driver may choose any power of two
 * up to the device's maximum (4.1.4.3, queue_size); a chain never has
 * more buffers than the queue size, so this also bounds virtq_chain.
 */
#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_SEGS VIRTQ_MAX_SIZE

/* Feature bits this file acts on (6: reserved feature bits). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u        /* device-writable, else device-readable */
#define VIRTQ_DESC_F_INDIRECT 4u     /* the buffer is a table of descriptors */

/* Ring flags without EVENT_IDX (2.7.7, 2.7.10). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u   /* driver: no used-buffer notifications */
#define VIRTQ_USED_F_NO_NOTIFY 1u       /* device: no available-buffer notifications */

/*
 * Guest layout (2.7.5, 2.7.6, 2.7.8) and its sizes: the avail and used
 * rings always include their event field, whether EVENT_IDX is
 * negotiated or not (2.7, table of queue part sizes).
 */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VIRTQ_DESC_SIZE 16u
#define VIRTQ_AVAIL_RING 4u                          /* flags, idx, then ring[size] */
#define VIRTQ_USED_RING 4u                           /* flags, idx, then elems */
#define VIRTQ_USED_ELEM_SIZE 8u                      /* le32 id, le32 len */
#define VIRTQ_DESC_BYTES(n) (VIRTQ_DESC_SIZE * (uint64_t)(n))
#define VIRTQ_AVAIL_BYTES(n) (6u + 2u * (uint64_t)(n))   /* with used_event */
#define VIRTQ_USED_BYTES(n) (6u + 8u * (uint64_t)(n))    /* with avail_event */
#define VIRTQ_DESC_ALIGN 16u
#define VIRTQ_AVAIL_ALIGN 2u
#define VIRTQ_USED_ALIGN 4u

/*
 * Guest RAM as the device sees it: guest-physical [0, size) mapped at
 * host address base, which is at least 16-byte aligned (a VM's RAM is
 * contiguous from GPA 0: vm_gpa_to_hva()).
 */
struct virtq_mem {
	uint8_t *base;
	uint64_t size;
};

struct virtq {
	uint16_t size;              /* power of two, 0 while disabled */
	bool event_idx;             /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;              /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;
	const char *reason;         /* why broken, or why enabling failed */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/*
	 * Host addresses of the three parts, taken when enabled: a VM's RAM
	 * does not move while it exists.
	 */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail_idx;    /* next available entry to take */
	uint16_t avail_idx;         /* avail->idx as last read */
	uint16_t used_idx;          /* next used entry to fill */
	uint16_t checked_used_idx;  /* used_idx at the last virtq_should_notify() */
};

/* One buffer of a chain, in host addresses; wholly inside guest RAM. */
struct virtq_seg {
	void *hva;
	uint32_t len;               /* never 0 */
	bool write;                 /* device-writable */
};

/*
 * A descriptor chain taken from the ring: its device-readable buffers,
 * then its device-writable ones (2.7.4.2), at most the queue size in all.
 * 4 KiB: keep it in the device's state, not on the hypervisor stack.
 * The buffers are guest memory still: the guest can change them while
 * the device reads them.
 */
struct virtq_chain {
	uint16_t head;              /* give this to virtq_push() */
	uint16_t nseg;
	uint64_t readable, writable;   /* bytes in all */
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

/* Disabled, not broken, indexes at 0: after a device reset (2.4). */
void virtq_reset(struct virtq *q);

/*
 * The driver enabled the queue with @size entries and rings at the given
 * guest-physical addresses, having negotiated @features (the 64-bit
 * feature word). Checks the size (a power of two, at most
 * VIRTQ_MAX_SIZE), each part's alignment (16/2/4) and that each part
 * lies wholly in guest RAM. Returns 0, or -EINVAL with q->reason set and
 * the queue left disabled. Indexes start at 0.
 */
int virtq_enable(struct virtq *q, const struct virtq_mem *m, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, uint64_t features);

static inline bool virtq_is_enabled(const struct virtq *q)
{
	return q->size != 0;
}

/*
 * Take the next available chain. Returns 1 and fills @c, 0 if the ring
 * is empty (or the queue is disabled), or a negative error when the
 * driver broke a rule; then q->broken is set, q->reason says which rule
 * (a static string), nothing was taken, and every later call returns
 * -EIO. The rules:
 *   -EINVAL  avail->idx ran more than the queue size ahead of us;
 *            a head or next index >= the queue size (of the table);
 *            a zero-length buffer (nothing to do with one; not in the
 *            spec, but no driver sends one and it keeps every segment
 *            non-empty);
 *            INDIRECT not negotiated, with NEXT, inside an indirect
 *            table, or on a table whose length is not a non-zero
 *            multiple of 16 or holds more descriptors than the queue
 *            size (2.7.5.3.1);
 *            a device-readable buffer after a device-writable one
 *            (2.7.4.2);
 *   -E2BIG   more buffers than the queue size: also how a loop in the
 *            next links ends (2.7.5.3.1, and 2.7.4.1 lets a device
 *            limit chains); more than 2^32 bytes in all (2.7.5.2);
 *   -EFAULT  a buffer or indirect table not wholly in guest RAM.
 * An indirect descriptor may end a chain of direct ones (the spec allows
 * it); its WRITE flag is ignored (2.7.5.3.2). Unknown flag bits are
 * ignored. avail->idx is read only when the entries read before it are
 * used up, so a batch of pops costs one read of it.
 */
int virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c);

/*
 * Give chain @head back having written @written bytes into its writable
 * buffers (2.7.8): the used element, then used->idx. Chains go back in
 * any order, each once, and not after virtq_reset() or virtq_enable()
 * (a hypervisor bug: ASSERT); @written is the caller's to keep within
 * the chain's writable bytes. A broken queue still takes them back.
 * Decide on an interrupt with virtq_should_notify() after a batch.
 */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/*
 * Should the driver get a used-buffer notification for the chains pushed
 * since the last call? (2.7.7.2) Never if none were. With
 * EVENT_IDX: when used_event lies among the used entries filled since
 * the last call (vring_need_event() of the spec's appendix). Without: if
 * the driver has not set VIRTQ_AVAIL_F_NO_INTERRUPT. A full barrier
 * first orders our used->idx store before the read of the driver's flag.
 */
bool virtq_should_notify(struct virtq *q);

/*
 * Available-buffer notifications (2.7.10): while the device is
 * taking chains anyway it asks the driver not to kick it. Without
 * EVENT_IDX this is VIRTQ_USED_F_NO_NOTIFY; with it, avail_event is left
 * where it was, behind the driver's index, so no kick is due.
 */
void virtq_disable_notify(struct virtq *q);

/*
 * Ask for a kick when the driver makes the next chain available (clear
 * NO_NOTIFY, or avail_event = last_avail_idx), then, after a full
 * barrier, look again: a chain made available before the driver could
 * see our request came without a kick. Returns true if chains are
 * waiting: take them (and call this again when done). A guest can make
 * this say true while virtq_pop() finds nothing, for ever: go round
 * again only after a pop took a chain (virtq_service() does).
 */
bool virtq_enable_notify(struct virtq *q);

/* Handle one chain; returns the bytes written into its writable buffers. */
typedef uint32_t (*virtq_handler_t)(const struct virtq_chain *c, void *opaque);

/*
 * The device loop for a kick or a poll: with notifications off, take
 * each available chain into @c (the caller's scratch), hand it to @fn
 * and push it, until the ring is empty; then turn notifications on and
 * re-check (virtq_enable_notify()), taking what came in meanwhile, and
 * end when a re-check finds nothing to take. At most @budget chains per
 * call, so that one busy queue cannot hold a CPU: when the budget runs
 * out notifications may be off, so the driver may not kick again, and
 * the caller must call again itself (from a poll or the next exit).
 * Returns the chains handled (== @budget: call again), or the error of
 * virtq_pop() (the queue is broken; chains handled before it were
 * pushed). Follow with virtq_should_notify() to decide on an interrupt.
 */
int virtq_service(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c,
		  unsigned budget, virtq_handler_t fn, void *opaque);

#endif
