/*
 * libFuzzer target for virtio-blk requests (vdev/virtio_blk_req.c): the
 * guest chooses every byte of a chain (header, payload, buffer layout)
 * and the device must neither crash nor touch memory outside the disk
 * and the chain's buffers, whatever they say.
 *
 * Input:
 *   0      bit 7: the disk is read-only; bits 5:0: its size, 1 to 64 sectors
 *   1      number of buffers, 1 to 16 (byte % 16 + 1)
 *   then   per buffer a 16-bit length (1 to 4096: len % 4096 + 1) and a
 *          byte whose bit 0 makes it device-writable; buffers are put
 *          readable first, as virtq_pop() hands them over
 *   rest   the contents of the buffers, in order (zero where it runs out)
 * Every buffer and the disk are heap blocks of exactly their size, so
 * ASan sees any access past them. Checked: the result is "no status"
 * exactly when there is no writable byte, else 1 to the writable bytes;
 * the status is OK, IOERR or UNSUPP; a read-only disk never changes.
 *
 * Build and run (from the repository root):
 *   make build/fuzz/virtio_blk_req && build/fuzz/virtio_blk_req -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdev/virtio_blk_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BUFS 16

static struct virtq_chain chain;

static void add(const uint8_t **data, size_t *size, uint32_t len, bool write)
{
	uint8_t *p = malloc(len);
	size_t n = *size < len ? *size : len;

	if (!p)
		abort();
	memset(p, 0, len);
	memcpy(p, *data, n);
	*data += n;
	*size -= n;
	chain.seg[chain.nseg++] = (struct virtq_seg){ p, len, write };
	if (write)
		chain.writable += len;
	else
		chain.readable += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t lens[MAX_BUFS];
	bool writes[MAX_BUFS];
	struct blk_disk disk = { 0 };
	uint8_t *copy;
	unsigned nbufs;
	uint8_t st = 0xff;
	int64_t r;

	if (size < 2)
		return 0;
	disk.readonly = data[0] & 0x80;
	disk.sectors = (data[0] & 0x3f) % 64 + 1;
	nbufs = data[1] % MAX_BUFS + 1u;
	data += 2;
	size -= 2;
	if (size < nbufs * 3u)
		return 0;
	for (unsigned i = 0; i < nbufs; i++) {
		lens[i] = (uint32_t)(data[0] | data[1] << 8) % 4096u + 1u;
		writes[i] = data[2] & 1;
		data += 3;
		size -= 3;
	}
	disk.data = malloc(disk.sectors * VIRTIO_BLK_SECTOR);
	copy = malloc(disk.sectors * VIRTIO_BLK_SECTOR);
	if (!disk.data || !copy)
		abort();
	for (uint64_t i = 0; i < disk.sectors * VIRTIO_BLK_SECTOR; i++)
		disk.data[i] = copy[i] = (uint8_t)(i * 13);
	memcpy(disk.id, "fuzz", 4);
	memset(&chain, 0, sizeof(chain));
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < nbufs; i++)
			if (writes[i] == (pass == 1))
				add(&data, &size, lens[i], writes[i]);

	r = blk_req_serve(&disk, &chain, &st);
	if (!chain.writable) {
		if (r != BLK_REQ_NO_STATUS)
			abort();
	} else if (r < 1 || (uint64_t)r > chain.writable || st > VIRTIO_BLK_S_UNSUPP) {
		abort();
	}
	if (disk.readonly && memcmp(disk.data, copy, disk.sectors * VIRTIO_BLK_SECTOR))
		abort();
	for (unsigned i = 0; i < chain.nseg; i++)
		free(chain.seg[i].hva);
	free(disk.data);
	free(copy);
	return 0;
}
