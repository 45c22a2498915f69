/*
 * The console log. Every line gets a "[seconds.micros] " prefix from the
 * TSC; warnings and errors are tagged. Until the console is up, output is
 * kept in a buffer and written out once it is. One lock serialises CPUs;
 * a CPU that panics or faults while another holds it waits a bounded time
 * and then writes anyway, so a dying hypervisor still says why.
 *
 * Live lines (printk_live): the output of the VM with the console focus
 * goes out as it comes, not a line at a time, so that its prompt and the
 * echo of what the user types show at once. Such a line may stay open;
 * anything else printed meanwhile first ends it with a newline, and the
 * VM's next byte opens a new line that repeats what its open line held,
 * so every line still begins with a timestamp and "[NAME] ".
 */
#include "core/printk.h"
#include "core/console.h"
#include "core/spinlock.h"
#include "arch/x86/cpu.h"

enum log_level log_threshold = LOG_INFO;

static spinlock_t log_lock = SPINLOCK_INIT;
static bool at_line_start = true;
static const struct printk_live *line_owner;   /* whose line is open; NULL: printk's */
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

/*
 * About a second on any machine we run on, then go ahead without it (its
 * holder may have died in a panic). Returns whether we hold it: only
 * then is it ours to release.
 */
static bool log_lock_bounded(void)
{
	for (unsigned long i = 0; i < 50000000ul; i++) {
		if (spin_trylock(&log_lock))
			return true;
		cpu_relax();
	}
	return false;
}

/* A line left open by someone else ends before @owner writes. */
static void log_take_line(const struct printk_live *owner)
{
	if (!at_line_start && line_owner != owner) {
		log_emit('\n');
		at_line_start = true;
	}
	line_owner = owner;
}

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	char buf[512];
	bool locked;

	if (level > log_threshold)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	locked = log_lock_bounded();
	log_take_line(NULL);
	for (const char *p = buf; *p; p++) {
		if (at_line_start)
			log_prefix(level);
		log_emit(*p);
		at_line_start = *p == '\n';
	}
	if (locked)
		spin_unlock(&log_lock);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

static void live_prefix(const char *name)
{
	log_prefix(LOG_INFO);
	log_emit('[');
	log_emit_str(name);
	log_emit_str("] ");
}

static bool live_is_open(const struct printk_live *l)
{
	return line_owner == l && !at_line_start;
}

/* Other output cut @l's line after it outgrew text[]: too long to show
 * again, so the guest goes on from the start of a fresh line. */
static void live_forget_if_cut(struct printk_live *l)
{
	if (l->overflow && !live_is_open(l)) {
		l->tf.col = 0;
		l->len = 0;
		l->overflow = false;
	}
}

/* Make @l's line the open one: a new line, with what it held so far. */
static void live_open(struct printk_live *l, const char *name)
{
	if (live_is_open(l))
		return;
	log_take_line(l);
	live_prefix(name);
	at_line_start = false;
	for (unsigned i = 0; i < l->len; i++)
		log_emit(l->text[i]);
}

static void live_emit(struct printk_live *l, const char *name, char c)
{
	if (c == '\n' || c == '\r') {
		/* A line cut by other output was already ended by the cut, and
		 * after a CR nothing of it needs showing again. */
		bool cut = !live_is_open(l) && l->len;

		l->len = 0;
		l->overflow = false;
		if (cut)
			return;
		live_open(l, name);
		if (c == '\n') {
			log_emit('\n');
			at_line_start = true;
		} else {
			log_emit('\r');
			live_prefix(name);
		}
		return;
	}
	live_open(l, name);
	log_emit(c);
	if (l->len < sizeof(l->text))
		l->text[l->len++] = c;
	else
		l->overflow = true;
}

void printk_live(struct printk_live *l, const char *name, const char *s, size_t n)
{
	char out[TERMFILTER_OUT_MAX];
	bool locked;

	if (LOG_INFO > log_threshold)
		return;
	locked = log_lock_bounded();
	live_forget_if_cut(l);
	if (!n && l->len)
		live_open(l, name);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		live_forget_if_cut(l);
		k = termfilter_feed(&l->tf, (uint8_t)s[i], out);

		for (size_t j = 0; j < k; j++)
			live_emit(l, name, out[j]);
	}
	if (locked)
		spin_unlock(&log_lock);
}

void console_start(void)
{
	bool locked = log_lock_bounded();

	console_up = true;
	for (size_t i = 0; i < early_len; i++)
		log_emit(early_buf[i]);
	early_len = 0;
	if (locked)
		spin_unlock(&log_lock);
}
