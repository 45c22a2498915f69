/*
 * vsnprintf/snprintf for printk and friends: the integer, character,
 * string and pointer subset of C11 7.21.6.1, with its flags, field
 * width, precision and length modifiers. No floating point (the
 * hypervisor is built with -mgeneral-regs-only) and no %n (nothing we
 * print should be able to write memory). An unknown conversion is
 * copied to the output as written, so a bad format shows up in the log.
 *
 * Differences from glibc, all deliberate: a NULL %s prints "(null)"
 * truncated by any precision; %p prints "0x..." or "(nil)" and honours
 * only width and '-'.
 */
#include <stdarg.h>

#include "core/errno.h"
#include "core/printk.h"

#define FMT_LEFT  (1u << 0) /* '-': pad on the right */
#define FMT_ZERO  (1u << 1) /* '0': pad numbers with zeros */
#define FMT_SPACE (1u << 2) /* ' ': blank before a non-negative number */
#define FMT_PLUS  (1u << 3) /* '+': sign before a non-negative number */
#define FMT_ALT   (1u << 4) /* '#': 0x prefix, leading octal 0 */
#define FMT_PREC  (1u << 5) /* a precision was given */

/* Field widths and precisions beyond this are clamped (C11 allows any). */
#define FMT_NUM_MAX 0x7fffffff

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct fmt_out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, stored or not */
};

struct fmt_spec {
	unsigned flags;
	size_t width;
	size_t prec;
	enum fmt_len length;
	char conv;
};

/* Everything is counted; only what fits before the terminator is stored. */
static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

/* Room left before the terminator's place. */
static size_t out_room(const struct fmt_out *o)
{
	return o->len + 1 < o->size ? o->size - 1 - o->len : 0;
}

/* Huge field widths only count once the buffer is full, so stay cheap. */
static void out_repeat(struct fmt_out *o, char c, size_t n)
{
	size_t store = MIN(n, out_room(o));

	for (size_t i = 0; i < store; i++)
		o->buf[o->len + i] = c;
	o->len += n;
}

static void out_mem(struct fmt_out *o, const char *s, size_t n)
{
	size_t store = MIN(n, out_room(o));

	for (size_t i = 0; i < store; i++)
		o->buf[o->len + i] = s[i];
	o->len += n;
}

static void out_terminate(struct fmt_out *o)
{
	if (o->size)
		o->buf[MIN(o->len, o->size - 1)] = '\0';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *spec_parse_flags(const char *p, struct fmt_spec *s)
{
	for (;; p++) {
		switch (*p) {
		case '-': s->flags |= FMT_LEFT; break;
		case '0': s->flags |= FMT_ZERO; break;
		case ' ': s->flags |= FMT_SPACE; break;
		case '+': s->flags |= FMT_PLUS; break;
		case '#': s->flags |= FMT_ALT; break;
		default: return p;
		}
	}
}

/* Decimal digits, saturating at FMT_NUM_MAX instead of overflowing. */
static const char *spec_parse_num(const char *p, size_t *out)
{
	size_t n = 0;

	for (; is_digit(*p); p++)
		n = MIN(n * 10 + (size_t)(*p - '0'), (size_t)FMT_NUM_MAX);
	*out = n;
	return p;
}

/* A negative '*' width means '-' plus its magnitude (C11 7.21.6.1p5). */
static const char *spec_parse_width(const char *p, struct fmt_spec *s, va_list *ap)
{
	if (*p != '*')
		return spec_parse_num(p, &s->width);
	int w = va_arg(*ap, int);
	if (w < 0) {
		s->flags |= FMT_LEFT;
		s->width = (size_t)0 - (size_t)(long)w;
	} else {
		s->width = (size_t)w;
	}
	return p + 1;
}

/* A negative '*' precision counts as none given (C11 7.21.6.1p5). */
static const char *spec_parse_prec(const char *p, struct fmt_spec *s, va_list *ap)
{
	if (*p != '.')
		return p;
	p++;
	if (*p != '*') {
		s->flags |= FMT_PREC;
		return spec_parse_num(p, &s->prec);
	}
	int prec = va_arg(*ap, int);
	if (prec >= 0) {
		s->flags |= FMT_PREC;
		s->prec = (size_t)prec;
	}
	return p + 1;
}

static const char *spec_parse_length(const char *p, struct fmt_spec *s)
{
	switch (*p) {
	case 'h':
		s->length = p[1] == 'h' ? LEN_HH : LEN_H;
		return p + (p[1] == 'h' ? 2 : 1);
	case 'l':
		s->length = p[1] == 'l' ? LEN_LL : LEN_L;
		return p + (p[1] == 'l' ? 2 : 1);
	case 'z': s->length = LEN_Z; return p + 1;
	case 't': s->length = LEN_T; return p + 1;
	case 'j': s->length = LEN_J; return p + 1;
	default: return p;
	}
}

/* @p points just past the '%'; returns the conversion character's address. */
static const char *spec_parse(const char *p, struct fmt_spec *s, va_list *ap)
{
	*s = (struct fmt_spec){ 0 };
	p = spec_parse_flags(p, s);
	p = spec_parse_width(p, s, ap);
	p = spec_parse_prec(p, s, ap);
	p = spec_parse_length(p, s);
	s->conv = *p;
	return p;
}

/* Arguments narrower than int arrive promoted (C11 6.5.2.2p7). */
static uintmax_t arg_fetch_unsigned(enum fmt_len length, va_list *ap)
{
	switch (length) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L: return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z: return va_arg(*ap, size_t);
	case LEN_T: return (size_t)va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, uintmax_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static intmax_t arg_fetch_signed(enum fmt_len length, va_list *ap)
{
	switch (length) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H: return (short)va_arg(*ap, int);
	case LEN_L: return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z: return va_arg(*ap, ptrdiff_t); /* signed size_t */
	case LEN_T: return va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, intmax_t);
	default: return va_arg(*ap, int);
	}
}

/* Writes the digits most significant first; returns how many. */
static size_t num_to_digits(char *buf, uintmax_t v, unsigned base, bool upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24]; /* 64-bit octal needs 22 */
	size_t n = 0;

	do {
		tmp[n++] = set[v % base];
		v /= base;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static size_t num_sign(char *prefix, const struct fmt_spec *s, bool neg)
{
	if (neg)
		prefix[0] = '-';
	else if (s->flags & FMT_PLUS)
		prefix[0] = '+';
	else if (s->flags & FMT_SPACE)
		prefix[0] = ' ';
	else
		return 0;
	return 1;
}

/*
 * Lay out [pad][sign/0x][zeros][digits][pad]. Precision is the minimum
 * digit count, and "%.0d" of 0 prints no digits; '#' with 'o' raises the
 * precision just enough to start with a 0; '0' pads with zeros only when
 * no precision is given (C11 7.21.6.1p6).
 */
static void fmt_number(struct fmt_out *o, const struct fmt_spec *s,
		       uintmax_t v, bool neg, unsigned base)
{
	char digits[24], prefix[3];
	bool no_digits = v == 0 && (s->flags & FMT_PREC) && s->prec == 0;
	size_t nd = no_digits ? 0 : num_to_digits(digits, v, base, s->conv == 'X');
	size_t np = num_sign(prefix, s, neg);
	size_t zeros = (s->flags & FMT_PREC) && s->prec > nd ? s->prec - nd : 0;

	if ((s->flags & FMT_ALT) && base == 16 && v != 0) {
		prefix[np++] = '0';
		prefix[np++] = s->conv;
	}
	if ((s->flags & FMT_ALT) && base == 8 && zeros == 0 && (nd == 0 || digits[0] != '0'))
		zeros = 1;
	size_t total = np + zeros + nd;
	if ((s->flags & (FMT_ZERO | FMT_LEFT | FMT_PREC)) == FMT_ZERO && s->width > total) {
		zeros += s->width - total;
		total = s->width;
	}
	size_t pad = s->width > total ? s->width - total : 0;
	if (!(s->flags & FMT_LEFT))
		out_repeat(o, ' ', pad);
	out_mem(o, prefix, np);
	out_repeat(o, '0', zeros);
	out_mem(o, digits, nd);
	if (s->flags & FMT_LEFT)
		out_repeat(o, ' ', pad);
}

/* Text padded to the field width; never reads more than @len bytes. */
static void fmt_padded(struct fmt_out *o, const struct fmt_spec *s,
		       const char *text, size_t len)
{
	size_t pad = s->width > len ? s->width - len : 0;

	if (!(s->flags & FMT_LEFT))
		out_repeat(o, ' ', pad);
	out_mem(o, text, len);
	if (s->flags & FMT_LEFT)
		out_repeat(o, ' ', pad);
}

/* With a precision the string need not be terminated (C11 7.21.6.1p8). */
static void fmt_string(struct fmt_out *o, const struct fmt_spec *s, const char *str)
{
	size_t max = (s->flags & FMT_PREC) ? s->prec : (size_t)-1;
	size_t len = 0;

	if (!str)
		str = "(null)";
	while (len < max && str[len])
		len++;
	fmt_padded(o, s, str, len);
}

static void fmt_char(struct fmt_out *o, const struct fmt_spec *s, va_list *ap)
{
	char c = (char)va_arg(*ap, int);

	fmt_padded(o, s, &c, 1);
}

static void fmt_pointer(struct fmt_out *o, const struct fmt_spec *s, va_list *ap)
{
	const void *ptr = va_arg(*ap, const void *);
	struct fmt_spec ps = {
		.flags = FMT_ALT | (s->flags & FMT_LEFT),
		.width = s->width,
		.conv = 'x',
	};

	if (!ptr)
		fmt_padded(o, &ps, "(nil)", 5);
	else
		fmt_number(o, &ps, (uintptr_t)ptr, false, 16);
}

static void fmt_signed(struct fmt_out *o, const struct fmt_spec *s, va_list *ap)
{
	intmax_t v = arg_fetch_signed(s->length, ap);
	/* Negate in unsigned arithmetic: -INTMAX_MIN overflows intmax_t. */
	uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;

	fmt_number(o, s, mag, v < 0, 10);
}

/* Signs belong to signed conversions only (C11 7.21.6.1p6). */
static void fmt_unsigned(struct fmt_out *o, const struct fmt_spec *s,
			 unsigned base, va_list *ap)
{
	struct fmt_spec us = *s;

	us.flags &= ~(FMT_PLUS | FMT_SPACE);
	fmt_number(o, &us, arg_fetch_unsigned(s->length, ap), false, base);
}

/* Returns false for a conversion we do not know. */
static bool fmt_convert(struct fmt_out *o, const struct fmt_spec *s, va_list *ap)
{
	switch (s->conv) {
	case 'd':
	case 'i': fmt_signed(o, s, ap); return true;
	case 'u': fmt_unsigned(o, s, 10, ap); return true;
	case 'x':
	case 'X': fmt_unsigned(o, s, 16, ap); return true;
	case 'o': fmt_unsigned(o, s, 8, ap); return true;
	case 'c': fmt_char(o, s, ap); return true;
	case 's': fmt_string(o, s, va_arg(*ap, const char *)); return true;
	case 'p': fmt_pointer(o, s, ap); return true;
	case '%': out_char(o, '%'); return true;
	default: return false;
	}
}

/* The walk over @fmt, with the va_list held by pointer for the helpers. */
static void fmt_walk(struct fmt_out *o, const char *fmt, va_list *ap)
{
	while (*fmt) {
		if (*fmt != '%') {
			out_char(o, *fmt++);
			continue;
		}
		struct fmt_spec s;
		const char *conv = spec_parse(fmt + 1, &s, ap);
		if (!fmt_convert(o, &s, ap)) {
			/* Echo the bad directive; a lone trailing '%' ends here. */
			out_mem(o, fmt, (size_t)(conv - fmt) + (*conv ? 1 : 0));
		}
		fmt = *conv ? conv + 1 : conv;
	}
}

/*
 * C11 7.21.6.12: returns the length the full output would have had, and
 * stores at most size - 1 characters plus a terminator. A length that
 * does not fit in an int is an error.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };
	va_list aq;

	/* va_list is an array type on x86-64; copy it to take its address. */
	va_copy(aq, ap);
	fmt_walk(&o, fmt, &aq);
	va_end(aq);
	out_terminate(&o);
	return o.len > FMT_NUM_MAX ? -ERANGE : (int)o.len;
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
