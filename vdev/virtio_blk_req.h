/*
 * virtio-blk requests (virtio 1.2 5.2.6) against a disk held in host
 * memory: parsing, validation and the copy, as pure logic over a
 * virtq_chain, so that the host unit tests run the same code.
 *
 * A request is a chain whose device-readable part starts with the
 * 16-byte header (le32 type, le32 reserved, le64 sector), followed by the
 * data of OUT or the segments of DISCARD / WRITE_ZEROES; its
 * device-writable part holds the data of IN or GET_ID, and its last
 * writable byte is the status. The split into buffers is the driver's
 * choice (2.7.4, no framing assumed): both parts are byte streams here.
 *
 * A request the device cannot carry out gets a status: UNSUPP for a type
 * or flag it does not know, IOERR for anything malformed or out of range
 * and for writes to a read-only disk. Only a chain with no writable byte
 * has nowhere to put a status: blk_req_serve() says so and the caller
 * treats it as a broken ring.
 */
#ifndef VDEV_VIRTIO_BLK_REQ_H
#define VDEV_VIRTIO_BLK_REQ_H

#include "core/types.h"
#include "vdev/virtq.h"

#define VIRTIO_BLK_SECTOR 512u          /* request sectors, whatever blk_size says (5.2.6) */
#define VIRTIO_BLK_HDR_LEN 16u
#define VIRTIO_BLK_ID_BYTES 20u         /* GET_ID (5.2.6) */
#define VIRTIO_BLK_DWZ_SEG_LEN 16u      /* struct virtio_blk_discard_write_zeroes */

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_T_DISCARD 11u
#define VIRTIO_BLK_T_WRITE_ZEROES 13u

/* Status byte values (5.2.6). */
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

/* Flags of a discard / write-zeroes segment (5.2.6). */
#define VIRTIO_BLK_WZ_F_UNMAP 1u

/*
 * Limits announced in the configuration space; requests beyond them are
 * IOERR (5.2.6.2: the driver must keep to them).
 */
#define BLK_DWZ_MAX_SECTORS 65536u      /* 32 MiB per segment */
#define BLK_DWZ_MAX_SEGS 16u

struct blk_disk {
	uint8_t *data;                      /* sectors * 512 bytes */
	uint64_t sectors;
	bool readonly;
	char id[VIRTIO_BLK_ID_BYTES];       /* GET_ID answer, zero padded */
};

/* Serving a chain that has no writable byte: no status can be given. */
#define BLK_REQ_NO_STATUS (-1)

/*
 * Carry out the request in @c on @d and write its status byte. Returns
 * the bytes written into the chain's writable buffers (data and status),
 * for the used ring, or BLK_REQ_NO_STATUS. @status (may be NULL) gets
 * the status written.
 */
int64_t blk_req_serve(const struct blk_disk *d, const struct virtq_chain *c, uint8_t *status);

/* Is [sector, sector + count) inside a disk of @sectors? Overflow-safe. */
static inline bool blk_range_ok(uint64_t sectors, uint64_t sector, uint64_t count)
{
	return sector <= sectors && count <= sectors - sector;
}

#endif
