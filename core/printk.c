/*
 * The console log. Every line gets a "[seconds.micros] " prefix from the
 * TSC; warnings and errors are tagged. Until the console is up, output is
 * kept in a buffer and written out once it is. One lock serialises CPUs;
 * a CPU that panics or faults while another holds it waits a bounded time
 * and then writes anyway, so a dying hypervisor still says why.
 */
#include "core/printk.h"
#include "core/console.h"
#include "core/spinlock.h"
#include "arch/x86/cpu.h"

enum log_level log_threshold = LOG_INFO;

static spinlock_t log_lock = SPINLOCK_INIT;
static bool at_line_start = true;
static bool console_up;
static char early_buf[16384];
static size_t early_len;

static void log_emit(char c)
{
	if (!console_up) {
		if (early_len < sizeof(early_buf))
			early_buf[early_len++] = c;
		return;
	}
	if (c == '\n')
		console_putc('\r');
	console_putc(c);
}

static void log_emit_str(const char *s)
{
	while (*s)
		log_emit(*s++);
}

static void log_prefix(enum log_level level)
{
	char buf[32];
	uint64_t khz = tsc_khz_get();
	uint64_t t = rdtsc();
	uint64_t us = khz ? t / khz * 1000 + t % khz * 1000 / khz : 0;

	snprintf(buf, sizeof(buf), "[%5llu.%06llu] ", (unsigned long long)(us / 1000000),
		 (unsigned long long)(us % 1000000));
	log_emit_str(buf);
	if (level == LOG_ERR)
		log_emit_str("ERROR: ");
	else if (level == LOG_WARN)
		log_emit_str("WARNING: ");
}

static void log_lock_bounded(void)
{
	/* About a second on any machine we run on, then go ahead anyway. */
	for (unsigned long i = 0; i < 50000000ul; i++) {
		if (spin_trylock(&log_lock))
			return;
		cpu_relax();
	}
}

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	char buf[512];

	if (level > log_threshold)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_lock_bounded();
	for (const char *p = buf; *p; p++) {
		if (at_line_start)
			log_prefix(level);
		log_emit(*p);
		at_line_start = *p == '\n';
	}
	spin_unlock(&log_lock);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void console_start(void)
{
	log_lock_bounded();
	console_up = true;
	for (size_t i = 0; i < early_len; i++)
		log_emit(early_buf[i]);
	early_len = 0;
	spin_unlock(&log_lock);
}
