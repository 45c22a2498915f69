/*
 * A Motorola MC146818A real-time clock and its CMOS RAM at ports 0x70
 * (index; bit 7 is the PC's NMI mask, ignored here) and 0x71 (data).
 *
 * The clock starts at 2026-01-01 00:00:00 when the VM is created, so
 * that runs repeat, and advances with the TSC. Registers follow the
 * data sheet: BCD unless register B's DM bit asks for binary, 12-hour
 * with bit 7 = PM unless its 24/12 bit is set; SET stops updates while
 * the guest writes a new time, which counts from when SET is cleared.
 * UIP reads 1 from 244 us before each update to the end of the update
 * (Table 6: 1984 us at 32.768 kHz), so a guest that waits for it to
 * clear never waits long. Register C's UF reports that an update came
 * since C was last read; no interrupts (IRQ 8) are raised yet. The day
 * of the week follows from the date; writes to it are ignored.
 *
 * The RAM holds what a PC BIOS leaves there: base and extended memory
 * sizes (0x15-0x18, 0x30-0x31) in KiB, memory above 16 MiB in 64 KiB
 * units (0x34-0x35), the checksum of 0x10-0x2d at 0x2e, the century at
 * 0x32. Like the battery-backed chip, clock and RAM survive a VM reset.
 */
#include "core/spinlock.h"
#include "core/unit.h"
#include "core/vm.h"
#include "vdev/rtc.h"
#include "vdev/vclock.h"

#define RTC_PORT 0x70
#define CMOS_SIZE 128
#define CMOS_INDEX_MASK 0x7f

#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MON 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define A_UIP 0x80
#define B_SET 0x80
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24H 0x02
#define B_KEPT_BY_RESET 0x87   /* SET, DM, 24/12, DSE; RESET clears the enables */
#define C_IRQF 0x80
#define C_UF 0x10
#define D_VRT 0x80
#define HOUR_PM 0x80
#define A_POWER_ON 0x26        /* 32.768 kHz time base, 1024 Hz periodic rate */
#define B_POWER_ON B_24H
#define UIP_US (244 + 1984)
#define US_PER_S 1000000u
#define SECS_PER_DAY 86400u
#define DAYS_PER_400Y 146097u

#define CMOS_BASE_MEM 0x15
#define CMOS_EXT_MEM 0x17
#define CMOS_SUM_FIRST 0x10
#define CMOS_SUM_LAST 0x2d
#define CMOS_SUM 0x2e
#define CMOS_EXT_MEM_ACTUAL 0x30
#define CMOS_MEM_ABOVE_16M 0x34
#define BASE_MEM_KIB 640

struct rtc_date {
	unsigned year, mon, day, hour, min, sec;
};

/* Every run starts at the same time, so that runs repeat. */
static const struct rtc_date rtc_epoch = { 2026, 1, 1, 0, 0, 0 };

struct rtc {
	spinlock_t lock;
	uint8_t index;
	uint8_t cmos[CMOS_SIZE];   /* time registers hold the guest's value only under SET */
	uint64_t base_sec;         /* seconds since 0000-01-01 at @base_tsc; all of it under SET */
	uint64_t base_tsc;
	uint64_t c_read_sec;       /* the second register C was last read in */
};

static struct rtc rtcs[CONFIG_MAX_VMS];

/* --- Calendar: proleptic Gregorian, days since 0000-01-01 (a Saturday) --- */

static bool is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned year_days(unsigned y)
{
	return is_leap(y) ? 366 : 365;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Out-of-range fields (a guest may write anything) are pulled into range. */
static uint64_t date_to_seconds(struct rtc_date d)
{
	uint64_t days = (uint64_t)(d.year / 400) * DAYS_PER_400Y;

	d.mon = d.mon < 1 ? 1 : MIN(d.mon, 12u);
	d.day = d.day < 1 ? 1 : MIN(d.day, month_days(d.year, d.mon));
	for (unsigned y = d.year - d.year % 400; y < d.year; y++)
		days += year_days(y);
	for (unsigned m = 1; m < d.mon; m++)
		days += month_days(d.year, m);
	days += d.day - 1;
	return days * SECS_PER_DAY + MIN(d.hour, 23u) * 3600 + MIN(d.min, 59u) * 60 +
	       MIN(d.sec, 59u);
}

static struct rtc_date seconds_to_date(uint64_t s)
{
	uint64_t days = s / SECS_PER_DAY;
	unsigned rem = (unsigned)(s % SECS_PER_DAY);
	struct rtc_date d = { .hour = rem / 3600, .min = rem / 60 % 60, .sec = rem % 60 };

	d.year = (unsigned)(days / DAYS_PER_400Y) * 400;
	days %= DAYS_PER_400Y;
	for (; days >= year_days(d.year); d.year++)
		days -= year_days(d.year);
	for (d.mon = 1; days >= month_days(d.year, d.mon); d.mon++)
		days -= month_days(d.year, d.mon);
	d.day = (unsigned)days + 1;
	return d;
}

/* 1 = Sunday ... 7 = Saturday, as the RTC counts. */
static unsigned weekday(uint64_t s)
{
	return (unsigned)((s / SECS_PER_DAY + 6) % 7) + 1;
}

/* --- Register formats --- */

static bool is_binary(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & B_BINARY;
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	return is_binary(r) ? (uint8_t)v : (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
	return is_binary(r) ? v : (v >> 4) * 10u + (v & 0xf);
}

static uint8_t hour_to_reg(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & B_24H)
		return to_reg(r, h);
	return (uint8_t)(to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0));
}

static unsigned hour_from_reg(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & B_24H)
		return from_reg(r, v);
	return from_reg(r, (uint8_t)(v & ~HOUR_PM)) % 12 + (v & HOUR_PM ? 12 : 0);
}

static bool is_time_reg(unsigned reg)
{
	return reg == RTC_SEC || reg == RTC_MIN || reg == RTC_HOUR || reg == RTC_WDAY ||
	       reg == RTC_MDAY || reg == RTC_MON || reg == RTC_YEAR || reg == RTC_CENTURY;
}

/* --- The clock --- */

static bool is_set(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & B_SET;
}

static uint64_t elapsed_us(const struct rtc *r, uint64_t now)
{
	if (is_set(r) || now < r->base_tsc)
		return 0;
	return vclock_ticks(now - r->base_tsc, US_PER_S);
}

static uint64_t rtc_seconds(const struct rtc *r, uint64_t now)
{
	return r->base_sec + elapsed_us(r, now) / US_PER_S;
}

static bool is_updating(const struct rtc *r, uint64_t now)
{
	return !is_set(r) && elapsed_us(r, now) % US_PER_S >= US_PER_S - UIP_US;
}

static uint8_t time_reg_of(const struct rtc *r, unsigned reg, uint64_t s)
{
	struct rtc_date d = seconds_to_date(s);

	switch (reg) {
	case RTC_SEC: return to_reg(r, d.sec);
	case RTC_MIN: return to_reg(r, d.min);
	case RTC_HOUR: return hour_to_reg(r, d.hour);
	case RTC_WDAY: return to_reg(r, weekday(s));
	case RTC_MDAY: return to_reg(r, d.day);
	case RTC_MON: return to_reg(r, d.mon);
	case RTC_YEAR: return to_reg(r, d.year % 100);
	default: return to_reg(r, d.year / 100);
	}
}

/* Copy the running time into the time registers. */
static void rtc_freeze(struct rtc *r, uint64_t s)
{
	static const uint8_t regs[] = { RTC_SEC, RTC_MIN, RTC_HOUR, RTC_WDAY,
					RTC_MDAY, RTC_MON, RTC_YEAR, RTC_CENTURY };

	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		r->cmos[regs[i]] = time_reg_of(r, regs[i], s);
}

/* The time the time registers say. */
static uint64_t rtc_parse(const struct rtc *r)
{
	const uint8_t *c = r->cmos;
	struct rtc_date d = {
		.year = from_reg(r, c[RTC_CENTURY]) % 100 * 100 + from_reg(r, c[RTC_YEAR]) % 100,
		.mon = from_reg(r, c[RTC_MON]),
		.day = from_reg(r, c[RTC_MDAY]),
		.hour = hour_from_reg(r, c[RTC_HOUR]),
		.min = from_reg(r, c[RTC_MIN]),
		.sec = from_reg(r, c[RTC_SEC]),
	};

	return date_to_seconds(d);
}

/* Outside SET the new value takes effect at once, keeping the divider's phase. */
static void time_reg_write(struct rtc *r, unsigned reg, uint8_t v, uint64_t now)
{
	uint64_t old;

	if (is_set(r)) {
		r->cmos[reg] = v;
		return;
	}
	old = rtc_seconds(r, now);
	rtc_freeze(r, old);
	r->cmos[reg] = v;
	r->base_sec = r->base_sec - old + rtc_parse(r);
}

static void reg_b_write(struct rtc *r, uint8_t v, uint64_t now)
{
	uint64_t s = rtc_seconds(r, now);
	bool was_set = is_set(r);

	r->cmos[RTC_REG_B] = v;
	if (!was_set && (v & B_SET)) {           /* stop: the registers hold the time */
		rtc_freeze(r, s);
		r->base_sec = s;
	} else if (was_set && !(v & B_SET)) {    /* go: count from the registers, now */
		r->base_sec = rtc_parse(r);
		r->base_tsc = now;
		r->c_read_sec = r->base_sec;
	}
}

static uint8_t reg_c_read(struct rtc *r, uint64_t now)
{
	uint64_t s = rtc_seconds(r, now);
	uint8_t c = 0;

	if (s != r->c_read_sec)
		c = C_UF;
	if ((c & C_UF) && (r->cmos[RTC_REG_B] & B_UIE))
		c |= C_IRQF;
	r->c_read_sec = s;
	return c;
}

static uint8_t rtc_read(struct rtc *r, unsigned reg, uint64_t now)
{
	if (is_time_reg(reg))
		return is_set(r) ? r->cmos[reg] : time_reg_of(r, reg, rtc_seconds(r, now));
	switch (reg) {
	case RTC_REG_A: return (uint8_t)(r->cmos[reg] | (is_updating(r, now) ? A_UIP : 0));
	case RTC_REG_C: return reg_c_read(r, now);
	case RTC_REG_D: return D_VRT;   /* the battery is good */
	default: return r->cmos[reg];
	}
}

static void rtc_write(struct rtc *r, unsigned reg, uint8_t v, uint64_t now)
{
	if (is_time_reg(reg))
		time_reg_write(r, reg, v, now);
	else if (reg == RTC_REG_A)
		r->cmos[reg] = (uint8_t)(v & ~A_UIP);
	else if (reg == RTC_REG_B)
		reg_b_write(r, v, now);
	else if (reg != RTC_REG_C && reg != RTC_REG_D)
		r->cmos[reg] = v;   /* alarms and RAM; C and D are read-only */
}

static enum io_result rtc_io(struct vcpu *vcpu, uint64_t off, struct io_access *a, void *opaque)
{
	struct rtc *r = opaque;
	uint64_t now = vclock_tsc();

	(void)vcpu;
	if (a->size != 1)
		return IO_ERROR;
	spin_lock(&r->lock);
	if (off == 0 && a->write)
		r->index = (uint8_t)(a->value & CMOS_INDEX_MASK);
	else if (off == 0)
		a->value = 0xff;   /* the index register is write-only */
	else if (a->write)
		rtc_write(r, r->index, (uint8_t)a->value, now);
	else
		a->value = rtc_read(r, r->index, now);
	spin_unlock(&r->lock);
	return IO_HANDLED;
}

static void cmos_put16(struct rtc *r, unsigned at, uint64_t v)
{
	r->cmos[at] = (uint8_t)v;
	r->cmos[at + 1] = (uint8_t)(v >> 8);
}

/* What the AT BIOS's POST records (IBM AT Technical Reference, CMOS map). */
static void cmos_set_memory(struct rtc *r, uint64_t ram)
{
	uint64_t ext = ram > MIB(1) ? MIN((ram - MIB(1)) / KIB(1), 0xffffu) : 0;
	uint64_t high = ram > MIB(16) ? MIN((MIN(ram, GIB(4)) - MIB(16)) / KIB(64), 0xffffu) : 0;
	unsigned sum = 0;

	cmos_put16(r, CMOS_BASE_MEM, MIN(ram / KIB(1), (uint64_t)BASE_MEM_KIB));
	cmos_put16(r, CMOS_EXT_MEM, ext);
	cmos_put16(r, CMOS_EXT_MEM_ACTUAL, ext);
	cmos_put16(r, CMOS_MEM_ABOVE_16M, high);
	for (unsigned i = CMOS_SUM_FIRST; i <= CMOS_SUM_LAST; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_SUM] = (uint8_t)(sum >> 8);   /* big-endian */
	r->cmos[CMOS_SUM + 1] = (uint8_t)sum;
}

uint64_t rtc_unix_ns(struct vm *vm, uint64_t tsc)
{
	static const struct rtc_date unix_epoch = { 1970, 1, 1, 0, 0, 0 };
	struct rtc *r = &rtcs[vm->id];
	uint64_t epoch = date_to_seconds(unix_epoch), sec, us;

	spin_lock(&r->lock);
	sec = r->base_sec;
	us = elapsed_us(r, tsc);
	spin_unlock(&r->lock);
	if (sec < epoch)      /* the guest set its clock before 1970 */
		return 0;
	return (sec - epoch) * 1000000000ull + us * 1000;
}

/* A restart is a reset of the chip, not a loss of its battery. */
static void rtc_reset(struct vm *vm)
{
	struct rtc *r = &rtcs[vm->id];

	spin_lock(&r->lock);
	r->index = 0;
	r->cmos[RTC_REG_B] &= B_KEPT_BY_RESET;
	cmos_set_memory(r, vm->ram_size);
	spin_unlock(&r->lock);
}

static int rtc_vm_create(struct vm *vm)
{
	struct rtc *r = &rtcs[vm->id];

	*r = (struct rtc){ .lock = SPINLOCK_INIT, .base_tsc = vclock_tsc() };
	r->base_sec = r->c_read_sec = date_to_seconds(rtc_epoch);
	r->cmos[RTC_REG_A] = A_POWER_ON;
	r->cmos[RTC_REG_B] = B_POWER_ON;
	cmos_set_memory(r, vm->ram_size);
	return io_register(&vm->pio, RTC_PORT, 2, rtc_io, r);
}

DEFINE_UNIT(rtc, .vm_create = rtc_vm_create, .vm_reset = rtc_reset);
