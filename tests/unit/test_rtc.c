/*
 * The CMOS real-time clock (vdev/rtc.c), compiled into this test so that
 * its state is reachable, with a fake TSC at 2 GHz: the epoch in BCD and
 * binary, 12- and 24-hour hours, the calendar across months, leap years
 * and centuries, UIP rising only near each update and never stuck,
 * setting the time under SET, registers A-D, the CMOS RAM and the memory
 * size bytes.
 */
#include "vdev/rtc.c"
#include "tests/unit/unit.h"

#define TSC_KHZ 2000000ull
#define TSC_PER_US (TSC_KHZ / 1000)
#define TSC_PER_S (TSC_KHZ * 1000)

static uint64_t fake_tsc;
static struct vm vm;
static uint64_t reg_start, reg_size;
static io_handler_t reg_handler;
static void *reg_opaque;

uint64_t vclock_tsc(void)
{
	return fake_tsc;
}

uint64_t tsc_khz_get(void)
{
	return TSC_KHZ;
}

int io_register(struct io_bus *bus, uint64_t start, uint64_t size, io_handler_t handler,
		void *opaque)
{
	(void)bus;
	reg_start = start, reg_size = size, reg_handler = handler, reg_opaque = opaque;
	return 0;
}

static void setup(uint64_t ram)
{
	fake_tsc = 123456789;
	vm = (struct vm){ .id = 1, .ram_size = ram };
	CHECK_EQ(rtc_vm_create(&vm), 0);
}

static enum io_result port(unsigned off, unsigned size, bool write, uint64_t *v)
{
	struct io_access a = { .addr = reg_start + off, .size = (uint8_t)size, .write = write,
			       .value = *v };
	enum io_result r = reg_handler(NULL, off, &a, reg_opaque);

	*v = a.value;
	return r;
}

static void cmos_write(uint8_t index, uint8_t v)
{
	uint64_t x = index;

	CHECK_EQ(port(0, 1, true, &x), IO_HANDLED);
	x = v;
	CHECK_EQ(port(1, 1, true, &x), IO_HANDLED);
}

static uint8_t cmos_read(uint8_t index)
{
	uint64_t x = index;

	CHECK_EQ(port(0, 1, true, &x), IO_HANDLED);
	x = 0x1234;
	CHECK_EQ(port(1, 1, false, &x), IO_HANDLED);
	return (uint8_t)x;
}

static void advance_s(uint64_t s)
{
	fake_tsc += s * TSC_PER_S;
}

/* The date the registers show, as 0xYYYYMMDD in BCD mode reads. */
static void check_date(unsigned century, unsigned year, unsigned mon, unsigned day, int line)
{
	unsigned got[4] = { cmos_read(RTC_CENTURY), cmos_read(RTC_YEAR), cmos_read(RTC_MON),
			    cmos_read(RTC_MDAY) };

	if (got[0] != century || got[1] != year || got[2] != mon || got[3] != day) {
		fprintf(stderr, "%s:%d: %s: date %02x%02x-%02x-%02x, wanted %02x%02x-%02x-%02x\n",
			__FILE__, line, unit_current, got[0], got[1], got[2], got[3], century,
			year, mon, day);
		unit_failed_checks++;
	}
}
#define CHECK_DATE(c, y, m, d) check_date(c, y, m, d, __LINE__)

TEST(registration_and_sizes)
{
	uint64_t v = 0;

	setup(MIB(64));
	CHECK_EQ(reg_start, 0x70);
	CHECK_EQ(reg_size, 2);
	CHECK_EQ(port(0, 2, true, &v), IO_ERROR);
	CHECK_EQ(port(1, 4, false, &v), IO_ERROR);
	CHECK_EQ(port(0, 1, false, &v), IO_HANDLED);   /* the index is write-only */
	CHECK_EQ(v, 0xff);
}

TEST(epoch_in_bcd)
{
	setup(MIB(64));
	CHECK_EQ(cmos_read(RTC_SEC), 0x00);
	CHECK_EQ(cmos_read(RTC_MIN), 0x00);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x00);
	CHECK_EQ(cmos_read(RTC_WDAY), 5);          /* 2026-01-01 is a Thursday */
	CHECK_DATE(0x20, 0x26, 0x01, 0x01);
	CHECK_EQ(cmos_read(RTC_REG_B), 0x02);      /* 24-hour, BCD */
}

TEST(time_advances)
{
	setup(MIB(64));
	fake_tsc += 3725 * TSC_PER_S + TSC_PER_S / 2;   /* 01:02:05.5 */
	CHECK_EQ(cmos_read(RTC_SEC), 0x05);
	CHECK_EQ(cmos_read(RTC_MIN), 0x02);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x01);
	advance_s(59 * 86400ull);                        /* Jan 31 + Feb 28 days */
	CHECK_DATE(0x20, 0x26, 0x03, 0x01);
	CHECK_EQ(cmos_read(RTC_WDAY), 1);                /* 2026-03-01 is a Sunday */
	advance_s(306 * 86400ull);                       /* to 2027-01-01 */
	CHECK_DATE(0x20, 0x27, 0x01, 0x01);
	advance_s(365 * 86400ull + 31 * 86400ull + 28 * 86400ull);   /* 2028 is leap */
	CHECK_DATE(0x20, 0x28, 0x02, 0x29);
	CHECK_EQ(cmos_read(RTC_SEC), 0x05);
}

TEST(binary_mode)
{
	setup(MIB(64));
	cmos_write(RTC_REG_B, B_24H | B_BINARY);
	advance_s(13 * 3600 + 45 * 60 + 59);
	CHECK_EQ(cmos_read(RTC_HOUR), 13);
	CHECK_EQ(cmos_read(RTC_MIN), 45);
	CHECK_EQ(cmos_read(RTC_SEC), 59);
	CHECK_EQ(cmos_read(RTC_YEAR), 26);
	CHECK_EQ(cmos_read(RTC_CENTURY), 20);
	cmos_write(RTC_REG_B, B_24H);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x13);
	CHECK_EQ(cmos_read(RTC_SEC), 0x59);
}

TEST(twelve_hour_mode)
{
	setup(MIB(64));
	cmos_write(RTC_REG_B, 0);                        /* 12-hour, BCD */
	CHECK_EQ(cmos_read(RTC_HOUR), 0x12);             /* midnight: 12 AM */
	advance_s(3600);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x01);
	advance_s(11 * 3600);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x92);             /* noon: 12 PM */
	advance_s(11 * 3600);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x91);             /* 23:00 */
	cmos_write(RTC_REG_B, B_BINARY);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x8b);             /* binary 11 | PM */
	/* writing 12-hour values */
	cmos_write(RTC_HOUR, 0x8c);                      /* 12 PM */
	cmos_write(RTC_REG_B, B_BINARY | B_24H);
	CHECK_EQ(cmos_read(RTC_HOUR), 12);
	cmos_write(RTC_REG_B, B_BINARY);
	cmos_write(RTC_HOUR, 12);                        /* 12 AM */
	cmos_write(RTC_REG_B, B_BINARY | B_24H);
	CHECK_EQ(cmos_read(RTC_HOUR), 0);
}

TEST(uip_is_brief)
{
	unsigned set = 0, clear = 0, run = 0, longest = 0;

	setup(MIB(64));
	/* Sample every 100 us over three seconds. */
	for (unsigned i = 0; i < 30000; i++) {
		if (cmos_read(RTC_REG_A) & A_UIP) {
			set++;
			run++;
			longest = MAX(longest, run);
		} else {
			clear++;
			run = 0;
		}
		fake_tsc += 100 * TSC_PER_US;
	}
	CHECK(set >= 3 * 20 && set <= 3 * 24);           /* 2.228 ms in each second */
	CHECK(longest <= 23);
	CHECK(clear > 29000);
	/* right before a second ends it is set; the seconds change after */
	setup(MIB(64));
	fake_tsc += TSC_PER_S - 100 * TSC_PER_US;
	CHECK_EQ(cmos_read(RTC_REG_A), A_POWER_ON | A_UIP);
	CHECK_EQ(cmos_read(RTC_SEC), 0x00);
	fake_tsc += 200 * TSC_PER_US;
	CHECK_EQ(cmos_read(RTC_REG_A), A_POWER_ON);
	CHECK_EQ(cmos_read(RTC_SEC), 0x01);
	/* under SET there is no update and no UIP */
	fake_tsc += TSC_PER_S - 1000 * TSC_PER_US;
	cmos_write(RTC_REG_B, B_24H | B_SET);
	CHECK_EQ(cmos_read(RTC_REG_A), A_POWER_ON);
	/* UIP is read-only */
	cmos_write(RTC_REG_B, B_24H);
	cmos_write(RTC_REG_A, 0xa6);
	CHECK_EQ(cmos_read(RTC_REG_A) & ~A_UIP, 0x26);
}

TEST(set_time)
{
	setup(MIB(64));
	advance_s(100);
	cmos_write(RTC_REG_B, B_24H | B_SET);
	CHECK_EQ(cmos_read(RTC_SEC), 0x40);              /* frozen at 00:01:40 */
	CHECK_EQ(cmos_read(RTC_MIN), 0x01);
	/* Day before month: no clamping while SET holds the registers. */
	cmos_write(RTC_MDAY, 0x31);
	cmos_write(RTC_MON, 0x12);
	cmos_write(RTC_YEAR, 0x99);
	cmos_write(RTC_CENTURY, 0x19);
	cmos_write(RTC_HOUR, 0x23);
	cmos_write(RTC_MIN, 0x59);
	cmos_write(RTC_SEC, 0x58);
	advance_s(50);                                   /* stands still */
	CHECK_EQ(cmos_read(RTC_SEC), 0x58);
	cmos_write(RTC_REG_B, B_24H);
	CHECK_DATE(0x19, 0x99, 0x12, 0x31);
	CHECK_EQ(cmos_read(RTC_WDAY), 6);                /* 1999-12-31 was a Friday */
	advance_s(2);
	CHECK_DATE(0x20, 0x00, 0x01, 0x01);
	CHECK_EQ(cmos_read(RTC_HOUR), 0x00);
	CHECK_EQ(cmos_read(RTC_SEC), 0x00);
	/* outside SET a write takes effect at once and the clock runs on */
	cmos_write(RTC_MIN, 0x30);
	CHECK_EQ(cmos_read(RTC_MIN), 0x30);
	advance_s(61);
	CHECK_EQ(cmos_read(RTC_MIN), 0x31);
	CHECK_EQ(cmos_read(RTC_SEC), 0x01);
	CHECK_DATE(0x20, 0x00, 0x01, 0x01);
	/* nonsense is pulled into range rather than kept */
	cmos_write(RTC_MON, 0x13);
	CHECK_EQ(cmos_read(RTC_MON), 0x12);
}

TEST(registers_c_and_d)
{
	setup(MIB(64));
	CHECK_EQ(cmos_read(RTC_REG_D), D_VRT);
	cmos_write(RTC_REG_D, 0);
	CHECK_EQ(cmos_read(RTC_REG_D), D_VRT);
	CHECK_EQ(cmos_read(RTC_REG_C), 0);
	advance_s(1);
	CHECK_EQ(cmos_read(RTC_REG_C), C_UF);            /* an update came */
	CHECK_EQ(cmos_read(RTC_REG_C), 0);               /* and the read cleared it */
	cmos_write(RTC_REG_B, B_24H | B_UIE);
	advance_s(1);
	CHECK_EQ(cmos_read(RTC_REG_C), C_UF | C_IRQF);
	CHECK_EQ(cmos_read(RTC_REG_C), 0);
}

TEST(cmos_ram)
{
	setup(MIB(64));
	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != RTC_CENTURY)
			cmos_write((uint8_t)i, (uint8_t)(i ^ 0xa5));
	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != RTC_CENTURY)
			CHECK_EQ(cmos_read((uint8_t)i), i ^ 0xa5);
	/* bit 7 of the index is the NMI mask, not an address bit */
	cmos_write(0x80 | 0x40, 0x5a);
	CHECK_EQ(cmos_read(0x40), 0x5a);
	CHECK_EQ(cmos_read(0x80 | 0x40), 0x5a);
	/* alarm registers are plain storage */
	cmos_write(0x01, 0x42);
	CHECK_EQ(cmos_read(0x01), 0x42);
	/* RAM survives a VM reset, the clock keeps running */
	advance_s(7);
	rtc_reset(&vm);
	CHECK_EQ(cmos_read(0x40), 0x5a);
	CHECK_EQ(cmos_read(RTC_SEC), 0x07);
}

static unsigned cmos16(uint8_t at)
{
	return cmos_read(at) | (unsigned)cmos_read((uint8_t)(at + 1)) << 8;
}

TEST(memory_size)
{
	unsigned sum = 0;

	setup(MIB(512));
	CHECK_EQ(cmos16(0x15), 640);
	CHECK_EQ(cmos16(0x17), 0xffff);                  /* 511 MiB in KiB: capped */
	CHECK_EQ(cmos16(0x30), 0xffff);
	CHECK_EQ(cmos16(0x34), (512 - 16) * 16);         /* 64 KiB units above 16 MiB */
	for (uint8_t i = 0x10; i <= 0x2d; i++)
		sum += cmos_read(i);
	CHECK_EQ(cmos_read(0x2e) << 8 | cmos_read(0x2f), sum);

	setup(MIB(8));
	CHECK_EQ(cmos16(0x30), 7 * 1024);
	CHECK_EQ(cmos16(0x17), 7 * 1024);
	CHECK_EQ(cmos16(0x34), 0);

	setup(MIB(32));
	CHECK_EQ(cmos16(0x30), 31 * 1024);
	CHECK_EQ(cmos16(0x34), 16 * 16);

	setup(GIB(8));
	CHECK_EQ(cmos16(0x34), (4096 - 16) * 16);        /* up to 4 GiB only */
}

TEST(calendar_round_trip)
{
	/* every day from 1999 to 2101, through the register encoding */
	uint64_t s = date_to_seconds((struct rtc_date){ 1999, 1, 1, 12, 0, 0 });
	unsigned wd = weekday(s);

	CHECK_EQ(wd, 6);                                 /* 1999-01-01 was a Friday */
	for (unsigned i = 0; i < 103 * 366; i++, s += SECS_PER_DAY) {
		struct rtc_date d = seconds_to_date(s);

		if (date_to_seconds(d) != s || d.day < 1 || d.day > month_days(d.year, d.mon) ||
		    weekday(s) != wd) {
			CHECK(false);
			break;
		}
		wd = wd % 7 + 1;
	}
	CHECK(!is_leap(2100) && is_leap(2000) && is_leap(2028) && !is_leap(2026));
}

int main(void)
{
	RUN(registration_and_sizes);
	RUN(epoch_in_bcd);
	RUN(time_advances);
	RUN(binary_mode);
	RUN(twelve_hour_mode);
	RUN(uip_is_brief);
	RUN(set_time);
	RUN(registers_c_and_d);
	RUN(cmos_ram);
	RUN(memory_size);
	RUN(calendar_round_trip);
	return unit_done();
}
