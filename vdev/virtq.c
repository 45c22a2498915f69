/*
 * Split virtqueue, device side (virtio 1.2 2.7); the rules and what
 * breaking one does are in virtq.h.
 *
 * The rings are shared with a guest that may write them at any moment.
 * Each field of theirs is loaded once, by an atomic or volatile access the
 * compiler cannot repeat, into a local that every later check and use
 * reads: a descriptor checked is the descriptor used. The driver
 * publishes with a barrier before avail->idx (2.7.13.3.1), so avail->idx
 * is loaded with acquire before the entries and descriptors it covers.
 */
#include "core/assert.h"
#include "core/errno.h"
#include "vdev/virtq.h"

BUILD_ASSERT(sizeof(struct virtq_desc) == VIRTQ_DESC_SIZE);
BUILD_ASSERT(VIRTQ_MAX_SIZE <= 32768 && (VIRTQ_MAX_SIZE & (VIRTQ_MAX_SIZE - 1)) == 0);
BUILD_ASSERT(VIRTQ_MAX_SEGS >= VIRTQ_MAX_SIZE);

/* Field offsets in the rings (2.7.6, 2.7.8). */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define USED_FLAGS 0u
#define USED_IDX 2u

/* A driver may not offer a chain of more than 2^32 bytes (2.7.5.2). */
#define CHAIN_MAX_BYTES (1ull << 32)

/* A descriptor as read from guest memory, once. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Indirect tables have no alignment rule (2.7.5.3): unaligned loads. */
typedef uint64_t __attribute__((aligned(1))) u64_unaligned;

static uint16_t shared_load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
}

static void shared_store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELAXED);
}

static void shared_store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

/* Two loads, little-endian: addr, then len | flags << 32 | next << 48. */
static struct desc desc_read(const uint8_t *p)
{
	uint64_t lo = *(const volatile u64_unaligned *)(const void *)p;
	uint64_t hi = *(const volatile u64_unaligned *)(const void *)(p + 8);

	return (struct desc){
		.addr = lo,
		.len = (uint32_t)hi,
		.flags = (uint16_t)(hi >> 32),
		.next = (uint16_t)(hi >> 48),
	};
}

/* Host address of guest-physical [gpa, gpa+len) if it lies wholly in RAM. */
static uint8_t *mem_hva(const struct virtq_mem *m, uint64_t gpa, uint64_t len)
{
	if (range_overflows(gpa, len) || gpa >= m->size || len > m->size - gpa)
		return NULL;
	return m->base + gpa;
}

static int virtq_break(struct virtq *q, int err, const char *reason)
{
	q->broken = true;
	q->reason = reason;
	return err;
}

void virtq_reset(struct virtq *q)
{
	*q = (struct virtq){ .size = 0 };
}

static int enable_fail(struct virtq *q, const char *reason)
{
	virtq_reset(q);
	q->reason = reason;
	return -EINVAL;
}

/* One of the three parts of a queue, as the driver placed it (2.7). */
struct part {
	uint64_t gpa, len, align;
	uint8_t **hva;
	const char *misaligned, *outside;
};

int virtq_enable(struct virtq *q, const struct virtq_mem *m, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, uint64_t features)
{
	const struct part parts[] = {
		{ desc, VIRTQ_DESC_BYTES(size), VIRTQ_DESC_ALIGN, &q->desc,
		  "descriptor table misaligned", "descriptor table outside guest RAM" },
		{ avail, VIRTQ_AVAIL_BYTES(size), VIRTQ_AVAIL_ALIGN, &q->avail,
		  "available ring misaligned", "available ring outside guest RAM" },
		{ used, VIRTQ_USED_BYTES(size), VIRTQ_USED_ALIGN, &q->used,
		  "used ring misaligned", "used ring outside guest RAM" },
	};

	/* Ring fields are accessed at their natural alignment through base. */
	ASSERT(IS_ALIGNED((uintptr_t)m->base, VIRTQ_DESC_ALIGN));
	virtq_reset(q);
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return enable_fail(q, "queue size not a power of two up to the maximum");
	for (unsigned i = 0; i < ARRAY_SIZE(parts); i++) {
		const struct part *p = &parts[i];

		if (!IS_ALIGNED(p->gpa, p->align))
			return enable_fail(q, p->misaligned);
		*p->hva = mem_hva(m, p->gpa, p->len);
		if (!*p->hva)
			return enable_fail(q, p->outside);
	}
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->event_idx = features & (1ull << VIRTIO_F_EVENT_IDX);
	q->indirect = features & (1ull << VIRTIO_F_INDIRECT_DESC);
	q->size = size;
	return 0;
}

/*
 * Load avail->idx. A driver has at most size chains outstanding (2.7.13:
 * the ring is as large as the table), so an index further ahead than
 * that is not one it can have written.
 */
static int avail_refresh(struct virtq *q)
{
	uint16_t idx = __atomic_load_n((const uint16_t *)(const void *)(q->avail + AVAIL_IDX),
				       __ATOMIC_ACQUIRE);

	if ((uint16_t)(idx - q->last_avail_idx) > q->size)
		return virtq_break(q, -EINVAL, "available index more than the queue size ahead");
	q->avail_idx = idx;
	return 0;
}

/* Follow an INDIRECT descriptor to its table (2.7.5.3). */
static int indirect_enter(struct virtq *q, const struct virtq_mem *m, const struct desc *d,
			  bool nested, const uint8_t **table, uint32_t *entries)
{
	if (!q->indirect)
		return virtq_break(q, -EINVAL, "indirect descriptor not negotiated");
	if (nested)
		return virtq_break(q, -EINVAL, "indirect descriptor inside an indirect table");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return virtq_break(q, -EINVAL, "indirect descriptor with NEXT");
	if (d->len == 0 || d->len % VIRTQ_DESC_SIZE)
		return virtq_break(q, -EINVAL, "indirect table length not a multiple of 16");
	if (d->len / VIRTQ_DESC_SIZE > q->size)
		return virtq_break(q, -EINVAL, "indirect table larger than the queue");
	*table = mem_hva(m, d->addr, d->len);
	if (!*table)
		return virtq_break(q, -EFAULT, "indirect table outside guest RAM");
	*entries = d->len / VIRTQ_DESC_SIZE;
	return 0;
}

/* Append the buffer of @d to @c: readable ones first (2.7.4.2). */
static int chain_add(struct virtq *q, const struct virtq_mem *m, const struct desc *d,
		     struct virtq_chain *c)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	void *hva;

	if (c->nseg == q->size)
		return virtq_break(q, -E2BIG, "chain longer than the queue size");
	if (d->len == 0)
		return virtq_break(q, -EINVAL, "zero-length buffer");
	if (!write && c->writable)
		return virtq_break(q, -EINVAL, "device-readable buffer after a writable one");
	if (c->readable + c->writable + d->len > CHAIN_MAX_BYTES)
		return virtq_break(q, -E2BIG, "chain longer than 4 GiB");
	hva = mem_hva(m, d->addr, d->len);
	if (!hva)
		return virtq_break(q, -EFAULT, "buffer outside guest RAM");
	c->seg[c->nseg++] = (struct virtq_seg){ .hva = hva, .len = d->len, .write = write };
	if (write)
		c->writable += d->len;
	else
		c->readable += d->len;
	return 0;
}

/*
 * Walk the chain at @head: direct descriptors, possibly ending in one
 * INDIRECT that continues at entry 0 of its table (2.7.5.3.2). Each step
 * adds a buffer, of which there are at most size, or enters the one
 * table: the walk ends whatever the next links say.
 */
static int chain_walk(struct virtq *q, const struct virtq_mem *m, uint16_t head,
		      struct virtq_chain *c)
{
	const uint8_t *table = q->desc;
	uint32_t entries = q->size, idx = head;
	bool indirect = false;
	int err;

	c->head = head;
	c->nseg = 0;
	c->readable = c->writable = 0;
	for (;;) {
		struct desc d;

		if (idx >= entries)
			return virtq_break(q, -EINVAL, indirect ? "indirect next index out of range"
								: "next index out of range");
		d = desc_read(table + VIRTQ_DESC_SIZE * idx);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			err = indirect_enter(q, m, &d, indirect, &table, &entries);
			if (err)
				return err;
			indirect = true;
			idx = 0;
			continue;
		}
		err = chain_add(q, m, &d, c);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c)
{
	uint16_t head;
	int err;

	if (q->broken)
		return -EIO;
	if (!virtq_is_enabled(q))
		return 0;
	if (q->last_avail_idx == q->avail_idx) {
		err = avail_refresh(q);
		if (err)
			return err;
		if (q->last_avail_idx == q->avail_idx)
			return 0;
	}
	head = shared_load16(q->avail + VIRTQ_AVAIL_RING +
			     2u * (q->last_avail_idx & (q->size - 1u)));
	if (head >= q->size)
		return virtq_break(q, -EINVAL, "head index out of range");
	err = chain_walk(q, m, head, c);
	if (err)
		return err;
	q->last_avail_idx++;
	return 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint8_t *elem;

	ASSERT(virtq_is_enabled(q) && head < q->size);
	/* Only chains that were popped and not yet pushed. */
	ASSERT(q->last_avail_idx != q->used_idx);
	elem = q->used + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * (q->used_idx & (q->size - 1u));
	shared_store32(elem, head);
	shared_store32(elem + 4, written);
	q->used_idx++;
	/* The element and the buffers' contents before the index (2.7.8.2). */
	__atomic_store_n((uint16_t *)(void *)(q->used + USED_IDX), q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->checked_used_idx, now = q->used_idx, event;

	if (!virtq_is_enabled(q) || old == now)
		return false;
	q->checked_used_idx = now;
	/*
	 * The driver stores its flag or used_event, then reads used->idx;
	 * we stored used->idx and now read theirs. Without a full barrier
	 * both could read the old values and the interrupt would be lost.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(shared_load16(q->avail + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	/*
	 * The entries filled since the last call went to used indexes
	 * old .. now-1; the driver wants to hear when the one at used_event
	 * is filled (2.7.7.2). This is vring_need_event() of the spec's
	 * virtio_queue.h, written as a window test.
	 */
	event = shared_load16(q->avail + VIRTQ_AVAIL_RING + 2u * q->size);
	return (uint16_t)(event - old) < (uint16_t)(now - old);
}

void virtq_disable_notify(struct virtq *q)
{
	if (virtq_is_enabled(q) && !q->event_idx)
		shared_store16(q->used + USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!virtq_is_enabled(q) || q->broken)
		return false;
	if (q->event_idx)
		shared_store16(q->used + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * q->size,
			       q->last_avail_idx);
	else
		shared_store16(q->used + USED_FLAGS, 0);
	/*
	 * The driver stores avail->idx, then reads our flag or avail_event
	 * (2.7.13.4.1); we store ours, then read avail->idx. A full barrier,
	 * or a chain offered in between goes unseen and unkicked.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return shared_load16(q->avail + AVAIL_IDX) != q->last_avail_idx;
}

/*
 * After the first pass each pass takes a chain or ends the call: a guest
 * can make virtq_enable_notify() say "waiting" while virtq_pop() finds
 * nothing (avail->idx where the used ring's flags are, or changed back),
 * and that must not spin. A driver that keeps the rules never does:
 * avail->idx only moves forward. Passes after the recheck leave
 * notifications on; they are only an optimisation.
 */
int virtq_service(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c,
		  unsigned budget, virtq_handler_t fn, void *opaque)
{
	unsigned done = 0, before;
	bool rechecked = false;
	int r = 0;

	ASSERT(budget <= INT32_MAX);
	if (!budget)
		return 0;
	virtq_disable_notify(q);
	for (;;) {
		before = done;
		while (done < budget && (r = virtq_pop(q, m, c)) > 0) {
			virtq_push(q, c->head, fn(c, opaque));
			done++;
		}
		if (done == budget)
			return (int)done;
		if (r < 0)
			return r;
		if (rechecked && done == before)
			return (int)done;
		if (!virtq_enable_notify(q))
			return (int)done;
		rechecked = true;
	}
}
