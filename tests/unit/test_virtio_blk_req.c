/*
 * virtio-blk requests (vdev/virtio_blk_req.c) on a 64-sector disk, with
 * chains built here as virtq_pop() hands them over: every request type,
 * headers and data split across buffers in odd places, and each way a
 * request is refused (IOERR, UNSUPP, no status byte), checking that a
 * refused request leaves the disk and the data buffers alone.
 */
#include "vdev/virtio_blk_req.h"
#include "tests/unit/unit.h"

#define SECTORS 64u
#define DISK_BYTES (SECTORS * VIRTIO_BLK_SECTOR)
#define NOT_WRITTEN 0xeeu

static uint8_t disk_mem[DISK_BYTES];
static struct blk_disk disk;
static struct virtq_chain chain;
static uint8_t bufs[8][8192];    /* buffer n of the chain being built */
static uint8_t rbuf[8192];       /* the readable stream, before it is cut up */

static void disk_reset(bool readonly)
{
	for (unsigned i = 0; i < DISK_BYTES; i++)
		disk_mem[i] = (uint8_t)(i * 7 + i / 512);
	disk = (struct blk_disk){ disk_mem, SECTORS, readonly, "hv-test-vda" };
	memset(bufs, NOT_WRITTEN, sizeof(bufs));
	memset(&chain, 0, sizeof(chain));
}

static void seg_add(uint32_t len, bool write)
{
	unsigned n = chain.nseg;

	chain.seg[n] = (struct virtq_seg){ bufs[n], len, write };
	chain.nseg++;
	if (write)
		chain.writable += len;
	else
		chain.readable += len;
}

/*
 * The readable part: header and @extra bytes of payload (from @payload),
 * cut into buffers of the lengths in @cuts (0-terminated; the last
 * takes the rest).
 */
static void readable(uint32_t type, uint64_t sector, const void *payload, uint32_t extra,
		     const uint32_t *cuts)
{
	uint32_t reserved = 0, total = VIRTIO_BLK_HDR_LEN + extra, off = 0;

	memcpy(rbuf, &type, 4);
	memcpy(rbuf + 4, &reserved, 4);
	memcpy(rbuf + 8, &sector, 8);
	if (extra)
		memcpy(rbuf + VIRTIO_BLK_HDR_LEN, payload, extra);
	for (const uint32_t *c = cuts; off < total; c++) {
		uint32_t len = *c && *c < total - off ? *c : total - off;

		memcpy(bufs[chain.nseg], rbuf + off, len);
		seg_add(len, false);
		off += len;
	}
}

static const uint32_t whole[] = { 0 };

/* Writable buffers of these lengths (0-terminated); the last byte is the status. */
static void writable(const uint32_t *lens)
{
	for (; *lens; lens++)
		seg_add(*lens, true);
}

static uint8_t status_byte(void)
{
	const struct virtq_seg *s = &chain.seg[chain.nseg - 1];

	return ((uint8_t *)s->hva)[s->len - 1];
}

/* The writable stream's byte @i (data bytes before the status). */
static uint8_t wbyte(uint64_t i)
{
	for (unsigned n = 0; n < chain.nseg; n++) {
		if (!chain.seg[n].write)
			continue;
		if (i < chain.seg[n].len)
			return ((uint8_t *)chain.seg[n].hva)[i];
		i -= chain.seg[n].len;
	}
	return 0;
}

static int64_t serve(uint8_t want_status)
{
	uint8_t st = 0xff;
	int64_t n = blk_req_serve(&disk, &chain, &st);

	CHECK_EQ(st, want_status);
	CHECK_EQ(status_byte(), want_status);
	return n;
}

static bool disk_is_pristine(void)
{
	for (unsigned i = 0; i < DISK_BYTES; i++)
		if (disk_mem[i] != (uint8_t)(i * 7 + i / 512))
			return false;
	return true;
}

/* Are the data bytes before the status still as we left them? */
static bool data_untouched(void)
{
	for (uint64_t i = 0; i + 1 < chain.writable; i++)
		if (wbyte(i) != NOT_WRITTEN)
			return false;
	return true;
}

static bool sector_pristine(uint64_t s)
{
	for (uint64_t i = s * 512; i < (s + 1) * 512; i++)
		if (disk_mem[i] != (uint8_t)(i * 7 + i / 512))
			return false;
	return true;
}

/* --- IN --------------------------------------------------------------------- */

TEST(in_reads_sectors)
{
	static const uint32_t w[] = { 1024, 1, 0 };

	disk_reset(false);
	readable(VIRTIO_BLK_T_IN, 3, NULL, 0, whole);
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1025);
	CHECK(memcmp(bufs[1], disk_mem + 3 * 512, 1024) == 0);
}

/* Header in three buffers; data and status share buffers at odd places. */
TEST(in_any_layout)
{
	static const uint32_t cuts[] = { 5, 3, 0 };
	static const uint32_t w[] = { 100, 411, 1, 2 * 512 + 1, 0 };

	disk_reset(false);
	readable(VIRTIO_BLK_T_IN, SECTORS - 3, NULL, 0, cuts);
	CHECK_EQ(chain.nseg, 3);
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 3 * 512 + 1);
	for (unsigned i = 0; i < 3 * 512; i++)
		if (wbyte(i) != disk_mem[(SECTORS - 3) * 512 + i]) {
			CHECK_EQ(wbyte(i), disk_mem[(SECTORS - 3) * 512 + i]);
			break;
		}
}

TEST(in_status_only)
{
	static const uint32_t w[] = { 1, 0 };

	disk_reset(false);
	readable(VIRTIO_BLK_T_IN, SECTORS, NULL, 0, whole);
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1);
}

TEST(in_rejections)
{
	static const uint32_t w513[] = { 513, 0 };
	static const uint32_t w1025[] = { 1025, 0 };
	static const uint64_t bad_sectors[] = { SECTORS - 1, SECTORS, SECTORS + 1,
						UINT64_MAX, UINT64_MAX / 512 + 1, 1ull << 55 };
	static const uint32_t w_odd[] = { 600, 0 };

	disk_reset(false);
	readable(VIRTIO_BLK_T_IN, 0, NULL, 0, whole);
	writable(w_odd);                 /* 599 data bytes: not whole sectors */
	CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
	CHECK(data_untouched());
	for (unsigned i = 0; i < ARRAY_SIZE(bad_sectors); i++) {
		disk_reset(false);
		readable(VIRTIO_BLK_T_IN, bad_sectors[i], NULL, 0, whole);
		writable(w1025);             /* two sectors */
		CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
		CHECK(data_untouched());
	}
	disk_reset(false);
	readable(VIRTIO_BLK_T_IN, SECTORS - 1, NULL, 0, whole);
	writable(w513);                  /* the last sector: fine */
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 513);
}

/* --- OUT -------------------------------------------------------------------- */

static uint8_t src[4096];

TEST(out_writes_sectors)
{
	static const uint32_t cuts[] = { 16 + 700, 0 };   /* header and data share a buffer */
	static const uint32_t w[] = { 1, 0 };

	disk_reset(false);
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i ^ 0x5a);
	readable(VIRTIO_BLK_T_OUT, SECTORS - 2, src, 1024, cuts);
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1);
	CHECK(memcmp(disk_mem + (SECTORS - 2) * 512, src, 1024) == 0);
	CHECK(sector_pristine(SECTORS - 3));
}

TEST(out_rejections)
{
	static const uint32_t w[] = { 1, 0 };
	static const uint64_t bad_sectors[] = { SECTORS - 1, SECTORS, UINT64_MAX, 1ull << 55 };

	disk_reset(true);                /* read-only */
	readable(VIRTIO_BLK_T_OUT, 0, src, 512, whole);
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
	CHECK(disk_is_pristine());
	disk_reset(false);
	readable(VIRTIO_BLK_T_OUT, 0, src, 100, whole);    /* not whole sectors */
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
	CHECK(disk_is_pristine());
	for (unsigned i = 0; i < ARRAY_SIZE(bad_sectors); i++) {
		disk_reset(false);
		readable(VIRTIO_BLK_T_OUT, bad_sectors[i], src, 1024, whole);
		writable(w);
		CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
		CHECK(disk_is_pristine());
	}
}

/* --- FLUSH, GET_ID, unknown types ------------------------------------------- */

TEST(flush_succeeds)
{
	static const uint32_t w[] = { 1, 0 };

	disk_reset(true);
	readable(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, whole);
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1);
	CHECK(disk_is_pristine());
}

TEST(get_id)
{
	static const uint32_t w21[] = { 21, 0 };
	static const uint32_t w9[] = { 5, 4, 0 };
	static const uint32_t w64[] = { 64, 0 };
	char want[VIRTIO_BLK_ID_BYTES] = "hv-test-vda";

	disk_reset(false);
	readable(VIRTIO_BLK_T_GET_ID, 0, NULL, 0, whole);
	writable(w21);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 21);
	CHECK(memcmp(bufs[1], want, VIRTIO_BLK_ID_BYTES) == 0);   /* zero padded */
	disk_reset(false);
	readable(VIRTIO_BLK_T_GET_ID, 0, NULL, 0, whole);
	writable(w9);                    /* 8 bytes: the id cut to them */
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 9);
	CHECK(memcmp(bufs[1], "hv-te", 5) == 0 && memcmp(bufs[2], "st-", 3) == 0);
	disk_reset(false);
	readable(VIRTIO_BLK_T_GET_ID, 0, NULL, 0, whole);
	writable(w64);                   /* larger: 20 bytes written, the rest left */
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 21);
	CHECK_EQ(bufs[1][20], NOT_WRITTEN);
}

TEST(unknown_types_unsupported)
{
	static const uint32_t types[] = { 2, 3, 5, 10, 12, 14, 15, 0xffffffff };
	static const uint32_t w[] = { 513, 0 };

	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		disk_reset(false);
		readable(types[i], 0, src, 512, whole);
		writable(w);
		CHECK_EQ(serve(VIRTIO_BLK_S_UNSUPP), 1);
		CHECK(disk_is_pristine());
		CHECK(data_untouched());
	}
}

/* --- Malformed chains ------------------------------------------------------- */

TEST(short_header_ioerr)
{
	static const uint32_t cuts[] = { 8, 0 };
	static const uint32_t w[] = { 513, 0 };

	disk_reset(false);
	readable(VIRTIO_BLK_T_IN, 0, NULL, 0, cuts);
	chain.readable -= chain.seg[1].len;     /* drop the second half of the header */
	chain.nseg = 1;
	memset(bufs[1], NOT_WRITTEN, sizeof(bufs[1]));
	writable(w);
	CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
	CHECK(data_untouched());
	disk_reset(false);
	writable(w);                            /* no readable part at all */
	CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
}

TEST(no_status_byte)
{
	disk_reset(false);
	readable(VIRTIO_BLK_T_OUT, 0, src, 512, whole);
	CHECK_EQ(blk_req_serve(&disk, &chain, NULL), BLK_REQ_NO_STATUS);
	CHECK(disk_is_pristine());
}

/* --- DISCARD and WRITE_ZEROES ----------------------------------------------- */

struct dwz {
	uint64_t sector;
	uint32_t num_sectors, flags;
};

static void dwz_request(uint32_t type, const struct dwz *s, unsigned n, bool readonly)
{
	static const uint32_t w[] = { 1, 0 };
	static const uint32_t cuts[] = { 16, 7, 0 };    /* segments split, one mid-field */

	disk_reset(readonly);
	readable(type, 0, s, (uint32_t)(n * sizeof(*s)), cuts);
	writable(w);
}

static bool sectors_zero(uint64_t first, uint64_t n)
{
	for (uint64_t i = first * 512; i < (first + n) * 512; i++)
		if (disk_mem[i])
			return false;
	return true;
}

TEST(dwz_zero_ranges)
{
	const struct dwz two[] = { { 2, 3, 0 }, { SECTORS - 1, 1, 0 } };
	const struct dwz unmap[] = { { 10, 4, VIRTIO_BLK_WZ_F_UNMAP } };

	dwz_request(VIRTIO_BLK_T_DISCARD, two, 2, false);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1);
	CHECK(sectors_zero(2, 3) && sectors_zero(SECTORS - 1, 1));
	CHECK(sector_pristine(1) && sector_pristine(5) && sector_pristine(SECTORS - 2));
	dwz_request(VIRTIO_BLK_T_WRITE_ZEROES, two, 2, false);
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1);
	CHECK(sectors_zero(2, 3) && sectors_zero(SECTORS - 1, 1));
	dwz_request(VIRTIO_BLK_T_WRITE_ZEROES, unmap, 1, false);    /* unmap: allowed */
	CHECK_EQ(serve(VIRTIO_BLK_S_OK), 1);
	CHECK(sectors_zero(10, 4) && sector_pristine(9) && sector_pristine(14));
}

/* One bad segment refuses the request before any range is zeroed. */
static void check_dwz_refused(uint32_t type, const struct dwz *s, unsigned n, bool readonly,
			      uint8_t status)
{
	dwz_request(type, s, n, readonly);
	CHECK_EQ(serve(status), 1);
	CHECK(disk_is_pristine());
}

TEST(dwz_rejections)
{
	static const uint32_t types[] = { VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES };
	struct dwz many[BLK_DWZ_MAX_SEGS + 1];
	const struct dwz ok = { 0, 1, 0 };

	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = ok;
	for (unsigned t = 0; t < ARRAY_SIZE(types); t++) {
		uint32_t ty = types[t];
		const struct dwz out[][2] = {
			{ ok, { SECTORS, 1, 0 } },
			{ ok, { SECTORS - 1, 2, 0 } },
			{ ok, { UINT64_MAX, 2, 0 } },
			{ ok, { 1, UINT32_MAX, 0 } },
			{ ok, { 0, BLK_DWZ_MAX_SECTORS + 1, 0 } },
		};
		const struct dwz reserved[] = { ok, { 0, 1, 2 } };
		const struct dwz high[] = { ok, { 0, 1, 0x80000000u } };

		for (unsigned i = 0; i < ARRAY_SIZE(out); i++)
			check_dwz_refused(ty, out[i], 2, false, VIRTIO_BLK_S_IOERR);
		check_dwz_refused(ty, reserved, 2, false, VIRTIO_BLK_S_UNSUPP);
		check_dwz_refused(ty, high, 2, false, VIRTIO_BLK_S_UNSUPP);
		check_dwz_refused(ty, &ok, 1, true, VIRTIO_BLK_S_IOERR);      /* read-only */
		check_dwz_refused(ty, many, BLK_DWZ_MAX_SEGS + 1, false, VIRTIO_BLK_S_IOERR);
		check_dwz_refused(ty, many, 0, false, VIRTIO_BLK_S_IOERR);    /* no segment */
		/* A payload that is not whole segments. */
		dwz_request(ty, many, 1, false);
		chain.seg[chain.nseg - 2].len--;
		chain.readable--;
		CHECK_EQ(serve(VIRTIO_BLK_S_IOERR), 1);
		CHECK(disk_is_pristine());
	}
	/* The unmap flag is write zeroes' alone (5.2.6.2). */
	{
		const struct dwz unmap[] = { { 0, 1, VIRTIO_BLK_WZ_F_UNMAP } };

		check_dwz_refused(VIRTIO_BLK_T_DISCARD, unmap, 1, false, VIRTIO_BLK_S_UNSUPP);
	}
	/* All segments at their limits: accepted on a disk large enough. */
	CHECK(blk_range_ok(UINT64_MAX, UINT64_MAX - 5, 5));
	CHECK(!blk_range_ok(UINT64_MAX, UINT64_MAX - 5, 6));
	CHECK(!blk_range_ok(10, 11, 0));
	CHECK(blk_range_ok(10, 10, 0));
}

int main(void)
{
	RUN(in_reads_sectors);
	RUN(in_any_layout);
	RUN(in_status_only);
	RUN(in_rejections);
	RUN(out_writes_sectors);
	RUN(out_rejections);
	RUN(flush_succeeds);
	RUN(get_id);
	RUN(unknown_types_unsupported);
	RUN(short_header_ioerr);
	RUN(no_status_byte);
	RUN(dwz_zero_ranges);
	RUN(dwz_rejections);
	return unit_done();
}
