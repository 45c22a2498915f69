/* Host stand-ins for the hypervisor services that unit-tested code calls. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/printk.h"
#include "core/assert.h"
#include "mm/mm.h"
#include "tests/unit/unit.h"

int unit_failed_checks, unit_passed, unit_failed;
const char *unit_current = "";
enum log_level log_threshold = LOG_DEBUG;

static char log_buf[1 << 16];
static size_t log_len;

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (getenv("UNIT_VERBOSE"))
		fputs(line, stderr);
	size_t n = strlen(line);
	if (log_len + n < sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n + 1);
		log_len += n;
	}
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
	fprintf(stderr, "panic in test %s: ", unit_current);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

const char *log_text(void) { return log_buf; }
void log_reset(void) { log_len = 0; log_buf[0] = 0; }
int log_has(const char *needle) { return strstr(log_buf, needle) != NULL; }

static unsigned char *fake_mem;
static unsigned long long fake_base, fake_size;

void *fake_phys_init(unsigned long long base, unsigned long long size)
{
	free(fake_mem);
	fake_mem = aligned_alloc(4096, size);
	if (!fake_mem)
		abort();
	memset(fake_mem, 0, size);
	fake_base = base;
	fake_size = size;
	return fake_mem;
}

void *phys_to_virt(paddr_t pa)
{
	if (!fake_mem || pa < fake_base || pa - fake_base >= fake_size) {
		fprintf(stderr, "%s: phys_to_virt(0x%llx) outside fake memory\n",
			unit_current, (unsigned long long)pa);
		abort();
	}
	return fake_mem + (pa - fake_base);
}

paddr_t virt_to_phys(const void *va)
{
	const unsigned char *p = va;

	if (!fake_mem || p < fake_mem || p >= fake_mem + fake_size) {
		fprintf(stderr, "%s: virt_to_phys(%p) outside fake memory\n",
			unit_current, va);
		abort();
	}
	return fake_base + (unsigned long long)(p - fake_mem);
}

int unit_done(void)
{
	printf("%s: %d passed, %d failed\n", getenv("UNIT_NAME") ? getenv("UNIT_NAME") : "unit",
	       unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}
