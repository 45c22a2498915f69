/*
 * libFuzzer target for the split virtqueue (vdev/virtq.c): the guest
 * writes every byte of the rings, the descriptors and the indirect
 * tables, and the device must neither crash nor touch memory outside
 * guest RAM, whatever they say.
 *
 * Input: a 16-byte header, then guest RAM (exactly the remaining bytes,
 * in a heap block of that size so that ASan sees any access past it).
 *   0      queue size: 1 << (byte % 9), 1 to 256
 *   1      bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bit 2 drive the queue
 *          with virtq_service() instead of pop/push, bits 7:4 rounds
 *   2-7    descriptor table, available ring, used ring: three 16-bit
 *          numbers, each taken modulo RAM in units of its alignment
 *   8-9    the starting index of every ring counter (16-bit wrap)
 *   10     virtq_service() budget, 1 to 256
 *   11-15  how far the driver moves avail->idx in each round (cycled),
 *          0 to size + 1, so that the last is one too far
 *
 * Each round the driver publishes more of what memory already holds and
 * the device takes chains until the ring is empty or broken. A taken
 * chain is checked (1 to size segments, each non-empty and inside RAM,
 * readable ones first, totals that add up, at most 2^32 bytes), its ends
 * are read or written (writes may land on the rings: the device must
 * cope), and it is pushed. should_notify() is checked against a plain
 * walk over the used indexes filled since the last call. A broken queue
 * must give a known error, a reason, and -EIO from then on.
 *
 * Build and run (from the repository root):
 *   make build/fuzz/virtq && build/fuzz/virtq -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errno.h"
#include "core/types.h"
#include "vdev/virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 16

static struct virtq q;
static struct virtq_chain chain;
static struct virtq_mem mem;

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint64_t part_gpa(const uint8_t *h, uint64_t align)
{
	return (get16(h) % (mem.size / align + 1)) * align;
}

static bool is_inside_ram(const struct virtq_seg *s)
{
	const uint8_t *p = s->hva;

	return p >= mem.base && s->len <= mem.size && p - mem.base <= (ptrdiff_t)(mem.size - s->len);
}

static void check_chain(const struct virtq_chain *c)
{
	uint64_t readable = 0, writable = 0;

	if (c->head >= q.size || c->nseg == 0 || c->nseg > q.size)
		abort();
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct virtq_seg *s = &c->seg[i];

		if (s->len == 0 || !is_inside_ram(s))
			abort();
		if (!s->write && writable)
			abort();
		if (s->write)
			writable += s->len;
		else
			readable += s->len;
	}
	if (readable != c->readable || writable != c->writable || readable + writable > 1ull << 32)
		abort();
}

/* Read the first and last byte of readable buffers, write writable ones. */
static uint32_t use_chain(const struct virtq_chain *c, void *opaque)
{
	volatile uint8_t sink = 0;

	(void)opaque;
	check_chain(c);
	for (unsigned i = 0; i < c->nseg; i++) {
		uint8_t *p = c->seg[i].hva;

		if (c->seg[i].write) {
			p[0] = 0xa5;
			p[c->seg[i].len - 1] = 0x5a;
		} else {
			sink ^= p[0];
			sink ^= p[c->seg[i].len - 1];
		}
	}
	(void)sink;
	return (uint32_t)MIN(c->writable, UINT32_MAX);
}

static void check_broken(int err)
{
	if (err != -EINVAL && err != -E2BIG && err != -EFAULT && err != -EIO)
		abort();
	if (!q.broken || !q.reason)
		abort();
	if (virtq_pop(&q, &mem, &chain) != -EIO || virtq_enable_notify(&q))
		abort();
}

/* The notification decision, walked index by index (2.7.7.2). */
static void check_notify(void)
{
	uint16_t old = q.checked_used_idx, now = q.used_idx;
	uint16_t flags = get16(q.avail), event = get16(q.avail + 4 + 2u * q.size);
	bool want = false;

	if (!q.event_idx)
		want = old != now && !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	for (uint16_t i = old; q.event_idx && i != now; i++)
		want |= i == event;
	if (virtq_should_notify(&q) != want || q.checked_used_idx != now)
		abort();
}

/* Take and give back chains until the ring is empty; false once broken. */
static bool drain(bool service, unsigned budget)
{
	int r;

	if (service) {
		do {
			r = virtq_service(&q, &mem, &chain, budget, use_chain, NULL);
			if (r < 0) {
				check_broken(r);
				return false;
			}
			check_notify();
		} while ((unsigned)r == budget);
		return true;
	}
	/* virtq_service()'s loop, by hand: each pass after the recheck takes a chain or ends. */
	virtq_disable_notify(&q);
	for (bool rechecked = false;; rechecked = true) {
		unsigned took = 0;
		uint16_t before = q.last_avail_idx;

		while ((r = virtq_pop(&q, &mem, &chain)) > 0) {
			if (q.last_avail_idx != (uint16_t)(before + ++took))
				abort();
			virtq_push(&q, chain.head, use_chain(&chain, NULL));
			check_notify();
		}
		if (r < 0) {
			if (q.last_avail_idx != (uint16_t)(before + took))
				abort();
			check_broken(r);
			return false;
		}
		if ((rechecked && !took) || !virtq_enable_notify(&q))
			break;
	}
	check_notify();
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *h = data;
	uint16_t qsize, driver_idx;
	unsigned rounds, budget;
	uint64_t features;
	bool service;

	if (size <= HDR)
		return 0;
	mem.size = size - HDR;
	mem.base = malloc(mem.size);
	if (!mem.base)
		abort();
	memcpy(mem.base, data + HDR, mem.size);

	qsize = (uint16_t)(1u << (h[0] % 9));
	features = (h[1] & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		   (h[1] & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	service = h[1] & 4;
	rounds = h[1] >> 4;
	budget = h[10] + 1u;
	if (virtq_enable(&q, &mem, qsize, part_gpa(h + 2, VIRTQ_DESC_ALIGN),
			 part_gpa(h + 4, VIRTQ_AVAIL_ALIGN), part_gpa(h + 6, VIRTQ_USED_ALIGN),
			 features) == 0) {
		driver_idx = get16(h + 8);
		q.last_avail_idx = q.avail_idx = q.used_idx = q.checked_used_idx = driver_idx;
		for (unsigned r = 0; r <= rounds; r++) {
			driver_idx = (uint16_t)(driver_idx + h[11 + r % 5] % (qsize + 2u));
			memcpy(q.avail + 2, &driver_idx, 2);
			if (!drain(service, budget))
				break;
		}
	} else if (!q.reason || virtq_is_enabled(&q) || virtq_pop(&q, &mem, &chain) != 0) {
		abort();
	}
	free(mem.base);
	return 0;
}
