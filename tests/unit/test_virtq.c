/*
 * The split virtqueue (vdev/virtq.c) over a fake guest RAM of 64 KiB at
 * guest-physical 0, with the rings built here as a driver would: enable
 * checks; single, chained, indirect (unaligned too) and direct-then-
 * indirect chains with their read/write order; batches that read
 * avail->idx once; 16-bit index wrap-around; used-buffer notification
 * with and without EVENT_IDX, across the wrap; available-buffer
 * notification suppression; the budgeted service loop; and each rule a
 * driver can break, after which the queue stays broken.
 */
#include "core/errno.h"
#include "vdev/virtq.h"
#include "tests/unit/unit.h"

#define RAM_SIZE KIB(64)
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define TABLE 0x4000u       /* indirect tables */
#define BUF 0x8000u         /* buffers: BUF + 0x100 * n */

#define R 0u
#define W VIRTQ_DESC_F_WRITE
#define N VIRTQ_DESC_F_NEXT
#define I VIRTQ_DESC_F_INDIRECT

#define F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)

static uint8_t ram[RAM_SIZE] __aligned(4096);
static struct virtq_mem mem = { ram, RAM_SIZE };
static struct virtq q;
static struct virtq_chain chain;
static uint16_t qsize;
static uint16_t driver_idx;   /* the driver's next avail->idx */

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(ram + gpa, &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, ram + gpa, 2);
	return v;
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + gpa, 4);
	return v;
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy(ram + table + VIRTQ_DESC_SIZE * i, &d, sizeof(d));
}

static uint64_t buf(unsigned n)
{
	return BUF + 0x100u * n;
}

/* Offer the chain at @head and publish it (avail->idx). */
static void offer(uint16_t head)
{
	put16(AVAIL + 4 + 2u * (driver_idx & (qsize - 1u)), head);
	driver_idx++;
	put16(AVAIL + 2, driver_idx);
}

static void setup(uint16_t size, uint64_t features)
{
	memset(ram, 0, sizeof(ram));
	mem = (struct virtq_mem){ ram, RAM_SIZE };
	qsize = size;
	driver_idx = 0;
	CHECK_EQ(virtq_enable(&q, &mem, size, DESC, AVAIL, USED, features), 0);
}

/* Start every index at @idx, as after that many chains went round. */
static void start_at(uint16_t idx)
{
	q.last_avail_idx = q.avail_idx = q.used_idx = q.checked_used_idx = idx;
	driver_idx = idx;
	put16(AVAIL + 2, idx);
	put16(USED + 2, idx);
}

static uint16_t used_idx(void)
{
	return get16(USED + 2);
}

static uint32_t used_id(uint16_t i)
{
	return get32(USED + 4 + 8u * (i & (qsize - 1u)));
}

static uint32_t used_len(uint16_t i)
{
	return get32(USED + 8 + 8u * (i & (qsize - 1u)));
}

static void set_used_event(uint16_t v)
{
	put16(AVAIL + 4 + 2u * qsize, v);
}

static uint16_t avail_event(void)
{
	return get16(USED + 4 + 8u * qsize);
}

static void check_seg(unsigned i, uint64_t gpa, uint32_t len, bool write, int line)
{
	const struct virtq_seg *s = &chain.seg[i];

	if (i >= chain.nseg || s->hva != ram + gpa || s->len != len || s->write != write) {
		fprintf(stderr, "%s:%d: %s: segment %u is not gpa 0x%llx len %u %s\n", __FILE__,
			line, unit_current, i, (unsigned long long)gpa, len, write ? "W" : "R");
		unit_failed_checks++;
	}
}
#define CHECK_SEG(i, gpa, len, write) check_seg(i, gpa, len, write, __LINE__)

/* --- Enabling ------------------------------------------------------------- */

TEST(enable_checks_size_alignment_and_ram)
{
	static const uint16_t bad_sizes[] = { 0, 3, 6, 255, 512, 0x8000 };

	for (unsigned i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		CHECK_EQ(virtq_enable(&q, &mem, bad_sizes[i], DESC, AVAIL, USED, 0), -EINVAL);
		CHECK(!virtq_is_enabled(&q));
		CHECK_STR(q.reason, "queue size not a power of two up to the maximum");
	}
	CHECK_EQ(virtq_enable(&q, &mem, 1, DESC, AVAIL, USED, 0), 0);
	CHECK_EQ(virtq_enable(&q, &mem, VIRTQ_MAX_SIZE, DESC, AVAIL, USED, 0), 0);

	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC + 8, AVAIL, USED, 0), -EINVAL);
	CHECK_STR(q.reason, "descriptor table misaligned");
	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, AVAIL + 1, USED, 0), -EINVAL);
	CHECK_STR(q.reason, "available ring misaligned");
	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, AVAIL, USED + 2, 0), -EINVAL);
	CHECK_STR(q.reason, "used ring misaligned");
	CHECK(!virtq_is_enabled(&q));

	/* Each part ending exactly at the end of RAM fits; one more does not. */
	CHECK_EQ(virtq_enable(&q, &mem, 8, RAM_SIZE - 128, RAM_SIZE - 22, RAM_SIZE - 72, 0), 0);
	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, RAM_SIZE - 20, USED, 0), -EINVAL);
	CHECK_STR(q.reason, "available ring outside guest RAM");
	CHECK_EQ(virtq_enable(&q, &mem, 8, RAM_SIZE - 112, AVAIL, USED, 0), -EINVAL);
	CHECK_STR(q.reason, "descriptor table outside guest RAM");
	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, AVAIL, RAM_SIZE - 68, 0), -EINVAL);
	CHECK_STR(q.reason, "used ring outside guest RAM");
	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, AVAIL, 0xfffffffffffffff0ull, 0), -EINVAL);
	CHECK_STR(q.reason, "used ring outside guest RAM");
	CHECK_EQ(virtq_enable(&q, &mem, 8, 0xfffffffffffffff0ull, AVAIL, USED, 0), -EINVAL);
	CHECK_STR(q.reason, "descriptor table outside guest RAM");

	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, AVAIL, USED, F_INDIRECT | F_EVENT_IDX), 0);
	CHECK(q.indirect && q.event_idx && !q.broken && q.reason == NULL);
	CHECK_EQ(q.desc_gpa, DESC);
	CHECK_EQ(q.avail_gpa, AVAIL);
	CHECK_EQ(q.used_gpa, USED);
	CHECK_EQ(virtq_enable(&q, &mem, 8, DESC, AVAIL, USED, ~(F_INDIRECT | F_EVENT_IDX)), 0);
	CHECK(!q.indirect && !q.event_idx);
}

TEST(disabled_or_empty_queue_pops_nothing)
{
	virtq_reset(&q);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 0);
	CHECK(!virtq_should_notify(&q));
	CHECK(!virtq_enable_notify(&q));
	virtq_disable_notify(&q);

	setup(8, 0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 0);
	CHECK(!q.broken);
}

/* --- Accepted shapes ------------------------------------------------------ */

TEST(single_buffer)
{
	setup(8, 0);
	put_desc(DESC, 5, buf(0), 64, R, 0);
	offer(5);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.head, 5);
	CHECK_EQ(chain.nseg, 1);
	CHECK_SEG(0, buf(0), 64, false);
	CHECK_EQ(chain.readable, 64);
	CHECK_EQ(chain.writable, 0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 0);

	virtq_push(&q, 5, 0);
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(used_id(0), 5);
	CHECK_EQ(used_len(0), 0);
}

TEST(chain_readable_then_writable)
{
	setup(8, 0);
	/* 2 -> 7 -> 0 -> 3: two readable, two writable, in table disorder. */
	put_desc(DESC, 2, buf(0), 16, R | N, 7);
	put_desc(DESC, 7, buf(1), 100, R | N, 0);
	put_desc(DESC, 0, buf(2), 200, W | N, 3);
	put_desc(DESC, 3, buf(3), 1, W, 6);   /* next is ignored without NEXT */
	offer(2);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.head, 2);
	CHECK_EQ(chain.nseg, 4);
	CHECK_SEG(0, buf(0), 16, false);
	CHECK_SEG(1, buf(1), 100, false);
	CHECK_SEG(2, buf(2), 200, true);
	CHECK_SEG(3, buf(3), 1, true);
	CHECK_EQ(chain.readable, 116);
	CHECK_EQ(chain.writable, 201);

	virtq_push(&q, 2, 150);
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(used_id(0), 2);
	CHECK_EQ(used_len(0), 150);
}

TEST(writable_only_and_unknown_flags)
{
	setup(4, 0);
	put_desc(DESC, 1, buf(0), 8, W | 0x80 | N, 2);
	put_desc(DESC, 2, buf(1), 8, W | 0x8000, 0);
	offer(1);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.nseg, 2);
	CHECK_SEG(0, buf(0), 8, true);
	CHECK_SEG(1, buf(1), 8, true);
	CHECK_EQ(chain.readable, 0);
	CHECK_EQ(chain.writable, 16);
}

TEST(chain_as_long_as_the_queue_and_buffer_at_end_of_ram)
{
	setup(4, 0);
	put_desc(DESC, 3, buf(0), 1, R | N, 2);
	put_desc(DESC, 2, buf(1), 1, R | N, 1);
	put_desc(DESC, 1, buf(2), 1, W | N, 0);
	put_desc(DESC, 0, RAM_SIZE - 16, 16, W, 0);
	offer(3);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.nseg, 4);
	CHECK_SEG(3, RAM_SIZE - 16, 16, true);
}

TEST(indirect_table)
{
	/* An unaligned table, and WRITE on the descriptor naming it is ignored. */
	const uint64_t table = TABLE + 3;

	setup(8, F_INDIRECT);
	put_desc(table, 0, buf(0), 12, R | N, 2);
	put_desc(table, 2, buf(1), 30, W | N, 1);
	put_desc(table, 1, buf(2), 4, W, 0);
	put_desc(DESC, 4, table, 3 * 16, I | W, 0);
	offer(4);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.head, 4);
	CHECK_EQ(chain.nseg, 3);
	CHECK_SEG(0, buf(0), 12, false);
	CHECK_SEG(1, buf(1), 30, true);
	CHECK_SEG(2, buf(2), 4, true);
	CHECK_EQ(chain.readable, 12);
	CHECK_EQ(chain.writable, 34);
	virtq_push(&q, 4, 34);
	CHECK_EQ(used_id(0), 4);
	CHECK_EQ(used_len(0), 34);
}

TEST(indirect_table_as_large_as_the_queue)
{
	setup(4, F_INDIRECT);
	for (unsigned i = 0; i < 4; i++)
		put_desc(TABLE, i, buf(i), 8, R | (i < 3 ? N : 0), (uint16_t)(i + 1));
	put_desc(DESC, 0, TABLE, 4 * 16, I, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.nseg, 4);
	CHECK_SEG(3, buf(3), 8, false);
}

/* 2.7.5.3.2: zero or more direct descriptors, then one indirect. */
TEST(direct_then_indirect)
{
	setup(8, F_INDIRECT);
	put_desc(DESC, 6, buf(0), 10, R | N, 1);
	put_desc(DESC, 1, TABLE, 2 * 16, I, 0);
	put_desc(TABLE, 0, buf(1), 20, R | N, 1);
	put_desc(TABLE, 1, buf(2), 40, W, 0);
	offer(6);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.nseg, 3);
	CHECK_SEG(0, buf(0), 10, false);
	CHECK_SEG(1, buf(1), 20, false);
	CHECK_SEG(2, buf(2), 40, true);
	CHECK_EQ(chain.readable, 30);
	CHECK_EQ(chain.writable, 40);
}

TEST(exactly_4_gib_in_a_chain)
{
	/* Buffers far above the rings: pop checks them but never reads them. */
	setup(4, 0);
	mem.size = GIB(16);
	put_desc(DESC, 0, GIB(4), 0xffffffffu, R | N, 1);
	put_desc(DESC, 1, GIB(8), 1, W, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.readable, 0xffffffffull);
	CHECK_EQ(chain.writable, 1);
}

/* avail->idx is read when the chains read before are used up, not on each pop. */
TEST(batch_reads_avail_idx_once)
{
	setup(4, 0);
	for (unsigned i = 0; i < 3; i++)
		put_desc(DESC, i, buf(i), 8, R, 0);
	offer(0);
	offer(1);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.head, 0);
	/* Were it read again, this index would break the queue. */
	put16(AVAIL + 2, (uint16_t)(driver_idx + 100));
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK_EQ(chain.head, 1);
	CHECK(!q.broken);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), -EINVAL);
	CHECK_STR(q.reason, "available index more than the queue size ahead");
}

TEST(full_ring_and_out_of_order_completion)
{
	setup(4, 0);
	for (unsigned i = 0; i < 4; i++) {
		put_desc(DESC, i, buf(i), 8, W, 0);
		offer((uint16_t)(3 - i));
	}
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
		CHECK_EQ(chain.head, 3 - i);
	}
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 0);
	virtq_push(&q, 1, 1);
	virtq_push(&q, 3, 3);
	virtq_push(&q, 0, 0);
	virtq_push(&q, 2, 2);
	CHECK_EQ(used_idx(), 4);
	CHECK_EQ(used_id(0), 1);
	CHECK_EQ(used_id(1), 3);
	CHECK_EQ(used_id(2), 0);
	CHECK_EQ(used_id(3), 2);
	CHECK_EQ(used_len(3), 2);
	/* The driver refills all four slots. */
	for (unsigned i = 0; i < 4; i++)
		offer((uint16_t)i);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
		CHECK_EQ(chain.head, i);
	}
	CHECK(!q.broken);
}

TEST(indexes_wrap_at_16_bits)
{
	setup(4, 0);
	start_at(0xfffe);
	for (unsigned i = 0; i < 4; i++) {
		put_desc(DESC, i, buf(i), 8, R, 0);
		offer((uint16_t)i);
	}
	CHECK_EQ(get16(AVAIL + 2), 2);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
		CHECK_EQ(chain.head, i);
		virtq_push(&q, chain.head, i);
	}
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 0);
	CHECK_EQ(q.last_avail_idx, 2);
	CHECK_EQ(used_idx(), 2);
	/* Used index 0xfffe is slot 2, 0xffff slot 3, 0 slot 0, 1 slot 1. */
	CHECK_EQ(used_id(0xfffe), 0);
	CHECK_EQ(used_id(0xffff), 1);
	CHECK_EQ(used_id(0), 2);
	CHECK_EQ(used_id(1), 3);

	/* A whole ring ahead across the wrap is allowed; one more is not. */
	start_at(0xfffe);
	for (unsigned i = 0; i < 4; i++)
		offer((uint16_t)i);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	start_at(0xfffe);
	put16(AVAIL + 2, 3);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), -EINVAL);
}

TEST(many_rounds_wrap_naturally)
{
	setup(2, 0);
	put_desc(DESC, 0, buf(0), 8, R, 0);
	put_desc(DESC, 1, buf(1), 8, W, 0);
	for (unsigned n = 0; n < 70000; n++) {
		offer((uint16_t)(n & 1));
		if (virtq_pop(&q, &mem, &chain) != 1 || chain.head != (n & 1)) {
			CHECK(!"pop failed");
			break;
		}
		virtq_push(&q, chain.head, 0);
	}
	CHECK_EQ(used_idx(), (uint16_t)70000);
	CHECK_EQ(q.last_avail_idx, (uint16_t)70000);
}

/* --- Used-buffer notifications (2.7.7) ------------------------------------ */

static void pop_push(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		put_desc(DESC, 0, buf(0), 8, W, 0);
		offer(0);
		CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
		virtq_push(&q, 0, 8);
	}
}

TEST(no_interrupt_flag_without_event_idx)
{
	setup(4, 0);
	CHECK(!virtq_should_notify(&q));   /* nothing used yet */
	pop_push(1);
	CHECK(virtq_should_notify(&q));
	CHECK(!virtq_should_notify(&q));   /* nothing new since */
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	set_used_event(1);                 /* ignored without EVENT_IDX */
	pop_push(1);
	CHECK(!virtq_should_notify(&q));
	put16(AVAIL, 0);
	pop_push(2);
	CHECK(virtq_should_notify(&q));
}

TEST(event_idx_used_event)
{
	setup(8, F_EVENT_IDX);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);   /* ignored with EVENT_IDX */
	set_used_event(0);
	pop_push(1);                 /* filled used index 0 */
	CHECK(virtq_should_notify(&q));
	pop_push(1);                 /* index 1: used_event 0 already passed */
	CHECK(!virtq_should_notify(&q));
	set_used_event(3);
	pop_push(1);                 /* index 2 */
	CHECK(!virtq_should_notify(&q));
	pop_push(2);                 /* indexes 3 and 4 */
	CHECK(virtq_should_notify(&q));
	CHECK(!virtq_should_notify(&q));
	set_used_event(5);
	pop_push(1);                 /* index 5, exactly */
	CHECK(virtq_should_notify(&q));
	set_used_event(5);           /* behind: wait for the next time round */
	pop_push(3);
	CHECK(!virtq_should_notify(&q));
}

TEST(event_idx_across_the_wrap)
{
	setup(4, F_EVENT_IDX);
	start_at(0xfffd);
	set_used_event(0xffff);
	pop_push(1);                 /* 0xfffd */
	CHECK(!virtq_should_notify(&q));
	pop_push(3);                 /* 0xfffe, 0xffff, 0 */
	CHECK(virtq_should_notify(&q));
	set_used_event(0);
	pop_push(1);                 /* 1: 0 is behind */
	CHECK(!virtq_should_notify(&q));

	start_at(0xfffe);
	set_used_event(1);
	pop_push(3);                 /* 0xfffe, 0xffff, 0 */
	CHECK(!virtq_should_notify(&q));
	pop_push(1);                 /* 1 */
	CHECK(virtq_should_notify(&q));

	start_at(0xffff);
	set_used_event(0);
	pop_push(2);                 /* 0xffff, 0 */
	CHECK(virtq_should_notify(&q));
}

/* --- Available-buffer notifications (2.7.10) ------------------------------ */

TEST(no_notify_flag_without_event_idx)
{
	setup(4, 0);
	virtq_disable_notify(&q);
	CHECK_EQ(get16(USED), VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(get16(USED), 0);
	CHECK_EQ(avail_event(), 0);

	virtq_disable_notify(&q);
	put_desc(DESC, 0, buf(0), 8, R, 0);
	offer(0);
	/* Offered while notifications were off: enabling sees it. */
	CHECK(virtq_enable_notify(&q));
	CHECK_EQ(get16(USED), 0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK(!virtq_enable_notify(&q));
}

TEST(avail_event_with_event_idx)
{
	setup(4, F_EVENT_IDX);
	start_at(0xfffe);
	virtq_disable_notify(&q);
	CHECK_EQ(get16(USED), 0);    /* flags stay 0 with EVENT_IDX (2.7.10.2) */
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(avail_event(), 0xfffe);
	CHECK_EQ(get16(USED), 0);

	for (unsigned i = 0; i < 3; i++) {
		put_desc(DESC, i, buf(i), 8, R, 0);
		offer((uint16_t)i);
	}
	virtq_disable_notify(&q);
	CHECK_EQ(avail_event(), 0xfffe);
	CHECK(virtq_enable_notify(&q));
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(avail_event(), 1);
}

/* --- The service loop ----------------------------------------------------- */

static unsigned handled;
static uint16_t offer_on_first;   /* a head to offer from inside the handler */

static uint32_t handler(const struct virtq_chain *c, void *opaque)
{
	CHECK(opaque == &handled);
	if (handled++ == 0 && offer_on_first != 0xffff)
		offer(offer_on_first);
	return (uint32_t)c->writable;
}

TEST(service_budget_and_recheck)
{
	setup(8, 0);
	handled = 0;
	offer_on_first = 0xffff;
	for (unsigned i = 0; i < 5; i++) {
		put_desc(DESC, i, buf(i), 8 + i, W, 0);
		offer((uint16_t)i);
	}
	CHECK_EQ(virtq_service(&q, &mem, &chain, 3, handler, &handled), 3);
	CHECK_EQ(handled, 3);
	CHECK_EQ(used_idx(), 3);
	CHECK_EQ(used_len(2), 10);
	CHECK_EQ(get16(USED), VIRTQ_USED_F_NO_NOTIFY);   /* more may wait: stays off */
	CHECK(virtq_should_notify(&q));

	CHECK_EQ(virtq_service(&q, &mem, &chain, 10, handler, &handled), 2);
	CHECK_EQ(handled, 5);
	CHECK_EQ(used_idx(), 5);
	CHECK_EQ(get16(USED), 0);
	CHECK_EQ(virtq_service(&q, &mem, &chain, 10, handler, &handled), 0);
	CHECK_EQ(virtq_service(&q, &mem, &chain, 0, handler, &handled), 0);

	/* A chain offered while the loop runs is taken in the same call. */
	handled = 0;
	offer_on_first = 6;
	put_desc(DESC, 5, buf(5), 1, W, 0);
	put_desc(DESC, 6, buf(6), 2, W, 0);
	offer(5);
	CHECK_EQ(virtq_service(&q, &mem, &chain, 10, handler, &handled), 2);
	CHECK_EQ(used_id(6), 6);
	CHECK_EQ(used_len(6), 2);
}

TEST(service_stops_at_a_broken_chain)
{
	setup(8, 0);
	handled = 0;
	offer_on_first = 0xffff;
	put_desc(DESC, 0, buf(0), 8, W, 0);
	put_desc(DESC, 1, buf(1), 0, W, 0);
	offer(0);
	offer(1);
	offer(0);
	CHECK_EQ(virtq_service(&q, &mem, &chain, 10, handler, &handled), -EINVAL);
	CHECK_EQ(handled, 1);
	CHECK_EQ(used_idx(), 1);
	CHECK(q.broken);
	CHECK_EQ(virtq_service(&q, &mem, &chain, 10, handler, &handled), -EIO);
	CHECK_EQ(handled, 1);
}

/*
 * A guest that puts avail->idx where the used ring's flags go sees it
 * flip as the device turns notifications off and on. The loop must not
 * spin on that: it breaks the queue (the index went backwards) and ends.
 */
TEST(service_does_not_spin_on_rings_that_alias)
{
	memset(ram, 0, sizeof(ram));
	qsize = 4;
	CHECK_EQ(virtq_enable(&q, &mem, 4, DESC, AVAIL + 2, AVAIL + 4, 0), 0);
	q.last_avail_idx = q.avail_idx = q.used_idx = q.checked_used_idx = 1;
	handled = 0;
	offer_on_first = 0xffff;
	CHECK_EQ(virtq_service(&q, &mem, &chain, 10, handler, &handled), -EINVAL);
	CHECK_STR(q.reason, "available index more than the queue size ahead");
	CHECK_EQ(handled, 0);
}

/* --- Rules a driver can break ---------------------------------------------- */

struct bad_case {
	const char *name;
	uint64_t features;
	void (*build)(void);
	int err;
	const char *reason;
};

static void bad_avail_idx(void)
{
	put_desc(DESC, 0, buf(0), 8, R, 0);
	put16(AVAIL + 2, 5);
}

static void bad_head(void)
{
	offer(4);
}

static void bad_next(void)
{
	put_desc(DESC, 0, buf(0), 8, R | N, 4);
	offer(0);
}

static void bad_loop(void)
{
	put_desc(DESC, 0, buf(0), 8, R | N, 1);
	put_desc(DESC, 1, buf(1), 8, R | N, 0);
	offer(0);
}

static void bad_self_loop(void)
{
	put_desc(DESC, 2, buf(0), 8, W | N, 2);
	offer(2);
}

static void bad_outside(void)
{
	put_desc(DESC, 0, RAM_SIZE - 4, 8, R, 0);
	offer(0);
}

static void bad_one_byte_past(void)
{
	put_desc(DESC, 0, RAM_SIZE - 7, 8, W, 0);
	offer(0);
}

static void bad_above(void)
{
	put_desc(DESC, 0, buf(0), 8, R | N, 1);
	put_desc(DESC, 1, RAM_SIZE, 1, W, 0);
	offer(0);
}

static void bad_wraps(void)
{
	put_desc(DESC, 0, 0xfffffffffffffffcull, 8, R, 0);
	offer(0);
}

static void bad_zero_length(void)
{
	put_desc(DESC, 0, buf(0), 8, R | N, 1);
	put_desc(DESC, 1, buf(1), 0, W, 0);
	offer(0);
}

static void bad_read_after_write(void)
{
	put_desc(DESC, 0, buf(0), 8, W | N, 1);
	put_desc(DESC, 1, buf(1), 8, R, 0);
	offer(0);
}

static void bad_over_4g(void)
{
	mem.size = GIB(16);
	put_desc(DESC, 0, GIB(4), 0xffffffffu, R | N, 1);
	put_desc(DESC, 1, GIB(8), 2, W, 0);
	offer(0);
}

static void indirect_table(uint32_t len, uint16_t flags)
{
	put_desc(TABLE, 0, buf(0), 8, R | N, 1);
	put_desc(TABLE, 1, buf(1), 8, W, 0);
	put_desc(DESC, 3, TABLE, len, flags, 0);
	offer(3);
}

static void bad_indirect_not_negotiated(void)
{
	indirect_table(32, I);
}

static void bad_indirect_next(void)
{
	indirect_table(32, I | N);
}

static void bad_indirect_len(void)
{
	indirect_table(24, I);
}

static void bad_indirect_empty(void)
{
	indirect_table(0, I);
}

static void bad_indirect_too_large(void)
{
	indirect_table(5 * 16, I);
}

static void bad_indirect_outside(void)
{
	put_desc(DESC, 0, RAM_SIZE - 16, 32, I, 0);
	offer(0);
}

static void bad_indirect_nested(void)
{
	put_desc(TABLE, 0, buf(0), 8, R | N, 1);
	put_desc(TABLE, 1, TABLE + 0x100, 16, I, 0);
	put_desc(TABLE + 0x100, 0, buf(1), 8, R, 0);
	put_desc(DESC, 0, TABLE, 32, I, 0);
	offer(0);
}

static void bad_indirect_next_index(void)
{
	/* 2 < queue size, but the table has two entries. */
	put_desc(TABLE, 0, buf(0), 8, R | N, 2);
	put_desc(DESC, 0, TABLE, 32, I, 0);
	offer(0);
}

static void bad_indirect_loop(void)
{
	put_desc(TABLE, 0, buf(0), 8, R | N, 1);
	put_desc(TABLE, 1, buf(1), 8, R | N, 0);
	put_desc(DESC, 0, TABLE, 32, I, 0);
	offer(0);
}

static void bad_direct_then_indirect_too_long(void)
{
	put_desc(DESC, 0, buf(0), 8, R | N, 1);
	put_desc(DESC, 1, TABLE, 4 * 16, I, 0);
	for (unsigned i = 0; i < 4; i++)
		put_desc(TABLE, i, buf(i + 1), 8, R | N, (uint16_t)(i + 1));
	put_desc(TABLE, 3, buf(4), 8, R, 0);
	offer(0);
}

static void bad_write_then_indirect_read(void)
{
	put_desc(DESC, 0, buf(0), 8, W | N, 1);
	put_desc(DESC, 1, TABLE, 16, I, 0);
	put_desc(TABLE, 0, buf(1), 8, R, 0);
	offer(0);
}

static const struct bad_case bad_cases[] = {
	{ "avail idx", 0, bad_avail_idx, -EINVAL,
	  "available index more than the queue size ahead" },
	{ "head", 0, bad_head, -EINVAL, "head index out of range" },
	{ "next", 0, bad_next, -EINVAL, "next index out of range" },
	{ "loop", 0, bad_loop, -E2BIG, "chain longer than the queue size" },
	{ "self loop", 0, bad_self_loop, -E2BIG, "chain longer than the queue size" },
	{ "outside", 0, bad_outside, -EFAULT, "buffer outside guest RAM" },
	{ "one byte past", 0, bad_one_byte_past, -EFAULT, "buffer outside guest RAM" },
	{ "above", 0, bad_above, -EFAULT, "buffer outside guest RAM" },
	{ "wraps", 0, bad_wraps, -EFAULT, "buffer outside guest RAM" },
	{ "zero length", 0, bad_zero_length, -EINVAL, "zero-length buffer" },
	{ "read after write", 0, bad_read_after_write, -EINVAL,
	  "device-readable buffer after a writable one" },
	{ "over 4 GiB", 0, bad_over_4g, -E2BIG, "chain longer than 4 GiB" },
	{ "indirect not negotiated", 0, bad_indirect_not_negotiated, -EINVAL,
	  "indirect descriptor not negotiated" },
	{ "indirect with next", F_INDIRECT, bad_indirect_next, -EINVAL,
	  "indirect descriptor with NEXT" },
	{ "indirect length", F_INDIRECT, bad_indirect_len, -EINVAL,
	  "indirect table length not a multiple of 16" },
	{ "indirect empty", F_INDIRECT, bad_indirect_empty, -EINVAL,
	  "indirect table length not a multiple of 16" },
	{ "indirect too large", F_INDIRECT, bad_indirect_too_large, -EINVAL,
	  "indirect table larger than the queue" },
	{ "indirect outside", F_INDIRECT, bad_indirect_outside, -EFAULT,
	  "indirect table outside guest RAM" },
	{ "indirect nested", F_INDIRECT, bad_indirect_nested, -EINVAL,
	  "indirect descriptor inside an indirect table" },
	{ "indirect next index", F_INDIRECT, bad_indirect_next_index, -EINVAL,
	  "indirect next index out of range" },
	{ "indirect loop", F_INDIRECT, bad_indirect_loop, -E2BIG,
	  "chain longer than the queue size" },
	{ "direct then indirect too long", F_INDIRECT, bad_direct_then_indirect_too_long,
	  -E2BIG, "chain longer than the queue size" },
	{ "write then indirect read", F_INDIRECT, bad_write_then_indirect_read, -EINVAL,
	  "device-readable buffer after a writable one" },
};

/* Each rule: the error and reason, nothing taken, and broken from then on. */
TEST(violations_break_the_queue)
{
	for (unsigned i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		int err;

		setup(4, b->features);
		b->build();
		err = virtq_pop(&q, &mem, &chain);
		if (err != b->err || !q.broken || !q.reason || strcmp(q.reason, b->reason)) {
			fprintf(stderr, "%s: case '%s': got %d '%s', wanted %d '%s'\n",
				unit_current, b->name, err, q.reason ? q.reason : "(none)",
				b->err, b->reason);
			unit_failed_checks++;
		}
		CHECK_EQ(q.last_avail_idx, 0);
		/* Broken stays broken, whatever the driver does next. */
		put_desc(DESC, 0, buf(0), 8, R, 0);
		offer(0);
		CHECK_EQ(virtq_pop(&q, &mem, &chain), -EIO);
		CHECK(!virtq_enable_notify(&q));
		CHECK(q.reason && strcmp(q.reason, b->reason) == 0);
	}
	/* Until the device is reset and the queue enabled again. */
	virtq_reset(&q);
	CHECK(!q.broken && !virtq_is_enabled(&q) && q.reason == NULL);
	setup(4, 0);
	put_desc(DESC, 0, buf(0), 8, R, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain), 1);
}

int main(void)
{
	RUN(enable_checks_size_alignment_and_ram);
	RUN(disabled_or_empty_queue_pops_nothing);
	RUN(single_buffer);
	RUN(chain_readable_then_writable);
	RUN(writable_only_and_unknown_flags);
	RUN(chain_as_long_as_the_queue_and_buffer_at_end_of_ram);
	RUN(indirect_table);
	RUN(indirect_table_as_large_as_the_queue);
	RUN(direct_then_indirect);
	RUN(exactly_4_gib_in_a_chain);
	RUN(batch_reads_avail_idx_once);
	RUN(full_ring_and_out_of_order_completion);
	RUN(indexes_wrap_at_16_bits);
	RUN(many_rounds_wrap_naturally);
	RUN(no_interrupt_flag_without_event_idx);
	RUN(event_idx_used_event);
	RUN(event_idx_across_the_wrap);
	RUN(no_notify_flag_without_event_idx);
	RUN(avail_event_with_event_idx);
	RUN(service_budget_and_recheck);
	RUN(service_stops_at_a_broken_chain);
	RUN(service_does_not_spin_on_rings_that_alias);
	RUN(violations_break_the_queue);
	return unit_done();
}
