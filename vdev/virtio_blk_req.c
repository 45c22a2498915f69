/*
 * virtio-blk request handling (virtio 1.2 5.2.6); the rules are in
 * virtio_blk_req.h. The chain's buffers are guest memory the guest may
 * change while we work: the header and the discard / write-zeroes
 * segments are copied out once and only the copies are checked and
 * used. Data is copied straight between the disk and the buffers.
 */
#include "core/assert.h"
#include "core/string.h"
#include "vdev/virtio_blk_req.h"

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

BUILD_ASSERT(sizeof(struct blk_hdr) == VIRTIO_BLK_HDR_LEN);
BUILD_ASSERT(sizeof(struct blk_dwz_seg) == VIRTIO_BLK_DWZ_SEG_LEN);

/* One request in the making. */
struct blk_io {
	const struct blk_disk *d;
	const struct virtq_chain *c;
	unsigned w;             /* index of the first writable segment */
	uint64_t rdata;         /* readable bytes after the header */
	uint64_t wdata;         /* writable bytes before the status */
	uint64_t written;       /* data bytes written into the chain */
};

/* Readable segments come before writable ones (virtq_pop() checks it). */
static unsigned first_writable(const struct virtq_chain *c)
{
	unsigned i = 0;

	while (i < c->nseg && !c->seg[i].write)
		i++;
	return i;
}

/*
 * Copy @len bytes between @buf and the bytes of segments [from, to) that
 * start at @off of their concatenation; the caller has checked that
 * they are there.
 */
static void stream_copy(const struct virtq_chain *c, unsigned from, unsigned to, uint64_t off,
			uint8_t *buf, uint64_t len, bool to_chain)
{
	for (unsigned i = from; i < to && len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint8_t *p = s->hva;
		uint64_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = MIN(s->len - off, len);
		if (to_chain)
			memcpy(p + off, buf, n);
		else
			memcpy(buf, p + off, n);
		buf += n;
		len -= n;
		off = 0;
	}
	ASSERT(len == 0);
}

static uint8_t *disk_at(const struct blk_disk *d, uint64_t sector)
{
	return d->data + sector * VIRTIO_BLK_SECTOR;
}

static uint8_t blk_in(struct blk_io *io, uint64_t sector)
{
	uint64_t n = io->wdata / VIRTIO_BLK_SECTOR;

	if (io->wdata % VIRTIO_BLK_SECTOR || !blk_range_ok(io->d->sectors, sector, n))
		return VIRTIO_BLK_S_IOERR;
	stream_copy(io->c, io->w, io->c->nseg, 0, disk_at(io->d, sector), io->wdata, true);
	io->written = io->wdata;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_out(struct blk_io *io, uint64_t sector)
{
	uint64_t n = io->rdata / VIRTIO_BLK_SECTOR;

	if (io->d->readonly || io->rdata % VIRTIO_BLK_SECTOR ||
	    !blk_range_ok(io->d->sectors, sector, n))
		return VIRTIO_BLK_S_IOERR;
	stream_copy(io->c, 0, io->w, VIRTIO_BLK_HDR_LEN, disk_at(io->d, sector), io->rdata, false);
	return VIRTIO_BLK_S_OK;
}

/* The identifying string, cut to the buffer the driver gave (5.2.6). */
static uint8_t blk_get_id(struct blk_io *io)
{
	uint64_t n = MIN(io->wdata, (uint64_t)VIRTIO_BLK_ID_BYTES);

	stream_copy(io->c, io->w, io->c->nseg, 0, (uint8_t *)io->d->id, n, true);
	io->written = n;
	return VIRTIO_BLK_S_OK;
}

/* 5.2.6.2: unknown flags are UNSUPP; discard knows none, not even unmap. */
static uint8_t dwz_check(const struct blk_disk *d, const struct blk_dwz_seg *s, bool discard)
{
	uint32_t known = discard ? 0 : VIRTIO_BLK_WZ_F_UNMAP;

	if (s->flags & ~known)
		return VIRTIO_BLK_S_UNSUPP;
	if (s->num_sectors > BLK_DWZ_MAX_SECTORS || !blk_range_ok(d->sectors, s->sector, s->num_sectors))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/*
 * Discard and write zeroes both zero the ranges: a RAM disk has nothing
 * to deallocate, and reading zeroes after a discard is what a driver
 * that trusts discarded data to be gone would want. All segments are
 * checked before any range is touched.
 */
static uint8_t blk_dwz(struct blk_io *io, bool discard)
{
	struct blk_dwz_seg segs[BLK_DWZ_MAX_SEGS];
	uint64_t n = io->rdata / VIRTIO_BLK_DWZ_SEG_LEN;
	uint8_t st;

	if (io->d->readonly || !io->rdata || io->rdata % VIRTIO_BLK_DWZ_SEG_LEN ||
	    n > BLK_DWZ_MAX_SEGS)
		return VIRTIO_BLK_S_IOERR;
	stream_copy(io->c, 0, io->w, VIRTIO_BLK_HDR_LEN, (uint8_t *)segs, io->rdata, false);
	for (unsigned i = 0; i < n; i++) {
		st = dwz_check(io->d, &segs[i], discard);
		if (st != VIRTIO_BLK_S_OK)
			return st;
	}
	for (unsigned i = 0; i < n; i++)
		memset(disk_at(io->d, segs[i].sector), 0,
		       (uint64_t)segs[i].num_sectors * VIRTIO_BLK_SECTOR);
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_dispatch(struct blk_io *io, const struct blk_hdr *h)
{
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
		return blk_in(io, h->sector);
	case VIRTIO_BLK_T_OUT:
		return blk_out(io, h->sector);
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;     /* nothing is cached between the guest and RAM */
	case VIRTIO_BLK_T_GET_ID:
		return blk_get_id(io);
	case VIRTIO_BLK_T_DISCARD:
		return blk_dwz(io, true);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_dwz(io, false);
	}
	return VIRTIO_BLK_S_UNSUPP;
}

int64_t blk_req_serve(const struct blk_disk *d, const struct virtq_chain *c, uint8_t *status)
{
	struct blk_io io = { .d = d, .c = c };
	const struct virtq_seg *last;
	struct blk_hdr h;
	uint8_t st;

	if (!c->writable)
		return BLK_REQ_NO_STATUS;
	io.w = first_writable(c);
	io.wdata = c->writable - 1;
	if (c->readable < VIRTIO_BLK_HDR_LEN) {
		st = VIRTIO_BLK_S_IOERR;
	} else {
		io.rdata = c->readable - VIRTIO_BLK_HDR_LEN;
		stream_copy(c, 0, io.w, 0, (uint8_t *)&h, sizeof(h), false);
		st = blk_dispatch(&io, &h);
	}
	last = &c->seg[c->nseg - 1];
	((uint8_t *)last->hva)[last->len - 1] = st;
	if (status)
		*status = st;
	return (int64_t)io.written + 1;
}
