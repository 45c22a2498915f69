/*
 * Host stand-ins for fuzz targets. printk formats into a scratch buffer
 * and drops it, so every argument a message names is still read (and
 * checked by the sanitizers) without flooding the fuzzer's output. A
 * panic is a finding: abort so libFuzzer records the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/assert.h"
#include "core/printk.h"

enum log_level log_threshold = LOG_DEBUG;

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	char line[512];

	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
