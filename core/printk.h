/*
 * Leveled console output. One printk with a checked format; the level
 * macros prefix a level tag. Nothing on a VM-exit fast path may print.
 */
#ifndef CORE_PRINTK_H
#define CORE_PRINTK_H

#include <stdarg.h>
#include "core/types.h"
#include "core/termfilter.h"

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;

void printk(enum log_level level, const char *fmt, ...) __printf(2, 3);
void vprintk(enum log_level level, const char *fmt, va_list ap);

#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/*
 * A live line (core/printk.c): output printed as it comes, through the
 * terminal filter, on lines prefixed "[NAME] ". Zero it to start; it
 * keeps the open line's text to repeat it when other output cut it.
 */
struct printk_live {
	struct termfilter tf;
	uint16_t len;
	bool overflow;           /* the open line outgrew text[] */
	char text[200];
};

/* Print @n bytes of @l's stream; with @n = 0, show its open line again
 * if other output has cut it. At LOG_INFO. */
void printk_live(struct printk_live *l, const char *name, const char *s, size_t n);

/* Format into a buffer; always NUL-terminates when size > 0. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
