/*
 * A small printf: conversions d i u x X p s c %, flags '-' and '0', a
 * width (digits or '*'), length modifiers l ll z. 32-bit guests have no
 * libgcc, so 64-bit decimal conversion divides with DIVL by hand there.
 */
#include "tests/guests/lib/guest.h"

struct sink {
	int serial;     /* write to the serial port, not to buf */
	char *buf;
	size_t size;
	size_t len;     /* characters produced so far */
};

static void sink_put(struct sink *s, char c)
{
	if (s->serial)
		serial_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void sink_pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		sink_put(s, c);
}

/* *n /= base; returns the remainder. */
static unsigned divmod(unsigned long long *n, unsigned base)
{
#ifdef __x86_64__
	unsigned r = (unsigned)(*n % base);

	*n /= base;
	return r;
#else
	uint32_t hi = (uint32_t)(*n >> 32), lo = (uint32_t)*n;
	uint32_t qhi = hi / base, r = hi % base, qlo;

	/* r < base, so EDX:EAX / base fits in 32 bits: no #DE. */
	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "r"(base));
	*n = ((unsigned long long)qhi << 32) | qlo;
	return r;
#endif
}

struct spec {
	int left;       /* '-' */
	int zero;       /* '0' */
	int width;
};

static void put_field(struct sink *s, const struct spec *sp, const char *prefix,
		      const char *body, int len)
{
	int plen = (int)strlen(prefix);
	int pad = sp->width - plen - len;

	if (!sp->left && !sp->zero)
		sink_pad(s, ' ', pad);
	while (*prefix)
		sink_put(s, *prefix++);
	if (!sp->left && sp->zero)
		sink_pad(s, '0', pad);
	while (len--)
		sink_put(s, *body++);
	if (sp->left)
		sink_pad(s, ' ', pad);
}

static void put_number(struct sink *s, const struct spec *sp, unsigned long long v,
		       int negative, unsigned base, int upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = (int)sizeof(tmp);

	do
		tmp[--i] = digits[divmod(&v, base)];
	while (v);
	put_field(s, sp, negative ? "-" : prefix, tmp + i, (int)sizeof(tmp) - i);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	sp->left = sp->zero = sp->width = 0;
	for (;; f++) {
		if (*f == '-')
			sp->left = 1;
		else if (*f == '0')
			sp->zero = 1;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = 1;
			sp->width = -sp->width;
		}
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	return f;
}

/* Reads the argument of an integer conversion with length @lng (0, 1 = l, 2 = ll/z). */
static unsigned long long arg_unsigned(va_list *ap, int lng)
{
	if (lng == 2)
		return va_arg(*ap, unsigned long long);
	if (lng == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static long long arg_signed(va_list *ap, int lng)
{
	if (lng == 2)
		return va_arg(*ap, long long);
	if (lng == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void put_conv(struct sink *s, const struct spec *sp, char c, int lng, va_list *ap)
{
	long long sv;
	const char *str;
	char ch;

	switch (c) {
	case 'd':
	case 'i':
		sv = arg_signed(ap, lng);
		put_number(s, sp, sv < 0 ? 0ull - (unsigned long long)sv : (unsigned long long)sv,
			   sv < 0, 10, 0, "");
		break;
	case 'u':
		put_number(s, sp, arg_unsigned(ap, lng), 0, 10, 0, "");
		break;
	case 'x':
	case 'X':
		put_number(s, sp, arg_unsigned(ap, lng), 0, 16, c == 'X', "");
		break;
	case 'p':
		put_number(s, sp, (uintptr_t)va_arg(*ap, void *), 0, 16, 0, "0x");
		break;
	case 's':
		str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		put_field(s, sp, "", str, (int)strlen(str));
		break;
	case 'c':
		ch = (char)va_arg(*ap, int);
		put_field(s, sp, "", &ch, 1);
		break;
	default:        /* '%' and anything unknown: print it as is */
		sink_put(s, c);
		break;
	}
}

static void format(struct sink *s, const char *f, va_list ap0)
{
	struct spec sp;
	va_list ap;
	int lng;

	va_copy(ap, ap0);
	while (*f) {
		if (*f != '%') {
			sink_put(s, *f++);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		lng = 0;
		if (*f == 'z') {
			lng = sizeof(size_t) == sizeof(long long) ? 2 : 1;
			f++;
		}
		while (*f == 'l' && lng < 2) {
			lng++;
			f++;
		}
		if (!*f)
			break;
		put_conv(s, &sp, *f++, lng, &ap);
	}
	va_end(ap);
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { .serial = 1 };

	format(&s, fmt, ap);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s ", guest_name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	serial_putc('\n');
	return !ok;
}
