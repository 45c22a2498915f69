/*
 * Host tests for the hypervisor's vsnprintf. format.mk renames it to
 * hv_vsnprintf/hv_snprintf at compile time (and with it every use in
 * this file and host.c), so libc's own snprintf stays reachable under
 * its symbol name for a side-by-side comparison.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/printk.h"
#include "tests/unit/unit.h"

/* libc's snprintf, whatever the macros above did to the name. */
int libc_snprintf(char *buf, size_t size, const char *fmt, ...)
	__asm__("snprintf") __attribute__((format(printf, 3, 4)));

/* The same, for flag mixes that -Wformat rightly calls redundant. */
int libc_snprintf_unchecked(char *buf, size_t size, const char *fmt, ...)
	__asm__("snprintf");

static char ours[512], theirs[512];

/* Our formatter on a format the compiler must not check. */
static int fmt_unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Both implementations, same arguments; report the first difference. */
#define SAME_WITH(ours_fn, libc_fn, ...)                                      \
	do {                                                                  \
		int n_ours = ours_fn(ours, sizeof(ours), __VA_ARGS__);        \
		int n_libc = libc_fn(theirs, sizeof(theirs), __VA_ARGS__);    \
		if (n_ours != n_libc || strcmp(ours, theirs) != 0)            \
			fprintf(stderr, "%s -> '%s' (%d), libc '%s' (%d)\n",  \
				#__VA_ARGS__, ours, n_ours, theirs, n_libc);  \
		CHECK_EQ(n_ours, n_libc);                                     \
		CHECK_STR(ours, theirs);                                      \
	} while (0)

#define SAME(...) SAME_WITH(snprintf, libc_snprintf, __VA_ARGS__)
/* C11 defines these flag mixes (one flag wins); gcc warns about them. */
#define SAME_REDUNDANT(...) SAME_WITH(fmt_unchecked, libc_snprintf_unchecked, __VA_ARGS__)

TEST(integers)
{
	SAME("%d %d %d %d %d", 0, 1, -1, INT_MAX, INT_MIN);
	SAME("%i|%u|%u", -42, 0u, UINT_MAX);
	SAME("%x %X %o", 0xdeadbeefu, 0xdeadbeefu, 0777u);
	SAME("%x %o", 0u, 0u);
	SAME("%hhd %hhd %hhu %hhx", 300, -129, -1, 0x1ff);
	SAME("%hd %hu %hx", 70000, -1, 0x12345);
	SAME("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0x123456789abcdefUL);
	SAME("%lld %llu %llo", LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
	SAME("%zu %zx %zd", SIZE_MAX, (size_t)4096, (ptrdiff_t)-5);
	SAME("%td %tu", PTRDIFF_MIN, (ptrdiff_t)77);
	SAME("%jd %ju %jx", INTMAX_MIN, UINTMAX_MAX, (uintmax_t)0xabc);
}

TEST(flags_width_precision)
{
	SAME("[%5d][%-5d][%05d][%+d][% d]", 42, 42, 42, 42, 42);
	SAME("[%05d][%+05d][% 05d][%-5d]", -42, 42, 42, -42);
	SAME("[%.3d][%.0d][%.0d][%5.3d][%-8.3d]", 7, 0, 1, -7, 7);
	SAME("[%8.3d][%8.3x][%.0x][%5.0d]", 7, 0xa, 0u, 0);
	SAME("[%#x][%#x][%#X][%#o][%#o][%#.3o][%#.0o]", 0u, 255u, 255u, 0u, 8u, 8u, 0u);
	SAME("[%#08x][%#-8x][%#8.4x][%#5o]", 0xabu, 0xabu, 0xabu, 9u);
	SAME("[%1d][%2d][%20d]", 12345, -1, INT_MIN);
	SAME("[%-+6d][%- 6d]", 3, 3);
}

TEST(redundant_flags)
{
	SAME_REDUNDANT("[%+ d][% +d][%+ d]", 42, 42, -42);
	SAME_REDUNDANT("[%-05d][%0-6d]", -42, 3);
	SAME_REDUNDANT("[%08.3d][%08.3x][%05.0d][%-08.3d]", 7, 0xa, 0, 7);
	SAME_REDUNDANT("[%+u][% u][%+x][% o]", 5u, 5u, 5u, 5u);
}

TEST(star_arguments)
{
	SAME("[%*d][%*d][%-*d]", 6, 42, -6, 42, 4, 1);
	SAME("[%.*d][%.*d][%*.*d]", 4, 42, -1, 42, 8, 5, -3);
	SAME("[%-*.*s][%*.*s]", 8, 3, "abcdef", -8, 2, "xyz");
	SAME("[%0*d]", 5, -1);
}

TEST(chars_and_strings)
{
	SAME("[%c][%5c][%-5c][%c]", 'A', 'b', 'c', 0x141);
	SAME("[%s][%10s][%-10s][%.3s][%10.3s][%.0s]", "hello", "hi", "hi", "hello",
	     "hello", "x");
	SAME("[%s][%%][%5s]", "", "");
	SAME("a%db%sc%%d", 1, "2");
}

TEST(unterminated_string_with_precision)
{
	char raw[3] = { 'a', 'b', 'c' };

	/* ASan would catch a read of raw[3]. */
	CHECK_EQ(snprintf(ours, sizeof(ours), "%.3s|%.*s", raw, 2, raw), 6);
	CHECK_STR(ours, "abc|ab");
}

TEST(pointers_and_null)
{
	int x;

	SAME("%p", (void *)&x);
	SAME("[%20p][%-20p]", (void *)&x, (void *)&x);
	SAME("%p", (void *)(uintptr_t)0x1000);
	snprintf(ours, sizeof(ours), "%p|%8p|%s|%.2s|%-8s|", NULL, NULL,
		 (char *)NULL, (char *)NULL, (char *)NULL);
	CHECK_STR(ours, "(nil)|   (nil)|(null)|(n|(null)  |");
}

TEST(truncation)
{
	char small[8];

	memset(small, 'x', sizeof(small));
	CHECK_EQ(snprintf(small, 4, "hello"), 5);
	CHECK_STR(small, "hel");
	CHECK_EQ(small[4], 'x');
	CHECK_EQ(snprintf(small, 1, "%d", 12345), 5);
	CHECK_STR(small, "");
	CHECK_EQ(snprintf(NULL, 0, "%s-%d", "ab", -10), 6);
	memset(small, 'x', sizeof(small));
	CHECK_EQ(snprintf(small, 0, "abc"), 3);
	CHECK_EQ(small[0], 'x');
	CHECK_EQ(snprintf(small, sizeof(small), "%*d", 100000, 1), 100000);
	CHECK_STR(small, "       ");
	CHECK_EQ(snprintf(small, sizeof(small), "1234567"), 7);
	CHECK_STR(small, "1234567");
}

TEST(bad_directives_are_echoed)
{
	int target = 7;

	CHECK_EQ(fmt_unchecked(ours, sizeof(ours), "a%yb", 1), 4);
	CHECK_STR(ours, "a%yb");
	CHECK_EQ(fmt_unchecked(ours, sizeof(ours), "[%-08.3q]", 1), 9);
	CHECK_STR(ours, "[%-08.3q]");
	/* An unknown conversion consumes no argument; %n writes nothing. */
	CHECK_EQ(fmt_unchecked(ours, sizeof(ours), "%n|", &target), 3);
	CHECK_STR(ours, "%n|");
	CHECK_EQ(target, 7);
	CHECK_EQ(fmt_unchecked(ours, sizeof(ours), "end%"), 4);
	CHECK_STR(ours, "end%");
	CHECK_EQ(fmt_unchecked(ours, sizeof(ours), "end%-5l"), 7);
	CHECK_STR(ours, "end%-5l");
}

TEST(huge_width_saturates)
{
	char small[4];

	/* Decimal widths past 2^31 are clamped to INT_MAX... */
	CHECK_EQ(fmt_unchecked(small, sizeof(small), "%99999999999999999999d", 1), INT_MAX);
	CHECK_STR(small, "   ");
	/* ...and a total beyond INT_MAX is an error (C11 7.21.6.12p3). */
	CHECK(fmt_unchecked(small, sizeof(small), "%2147483647d%d", 1, 2) < 0);
	CHECK(fmt_unchecked(small, sizeof(small), "%*d", INT_MIN, 2) < 0);
}

/* A small fixed-seed generator, so a failure can be reproduced. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Values that hit the edges of every width more often than chance. */
static uint64_t rng_value(void)
{
	static const uint64_t edges[] = {
		0, 1, 7, 8, 9, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
		0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffull,
		0x8000000000000000ull, 0xffffffffffffffffull,
	};
	uint64_t r = rng_next();

	return r & 1 ? edges[(r >> 1) % ARRAY_SIZE(edges)] : rng_next() >> (r % 64);
}

/* Appends a random "%[flags][width][.prec]" for conversion @conv. */
static void random_spec(char *fmt, char conv)
{
	static const char flag_set[] = "-0 +#";
	size_t n = 0;
	uint64_t r = rng_next();

	fmt[n++] = '%';
	for (unsigned i = 0; i < 5; i++) {
		/* '#' has no meaning for d, i and u (C11 7.21.6.1p6). */
		if ((r >> i) & 1 && !(flag_set[i] == '#' && strchr("diu", conv)))
			fmt[n++] = flag_set[i];
	}
	if ((r >> 8) & 1)
		n += (size_t)libc_snprintf(fmt + n, 8, "%u", (unsigned)(r >> 16) % 30);
	if ((r >> 9) & 1)
		n += (size_t)libc_snprintf(fmt + n, 8, ".%u", (unsigned)(r >> 24) % 30);
	fmt[n] = 0;
}

#define SAME_FMT(fmt, v)                                                      \
	do {                                                                  \
		int n_o = fmt_unchecked(ours, sizeof(ours), fmt, v);          \
		int n_l = libc_snprintf_unchecked(theirs, sizeof(theirs), fmt, v); \
		if (n_o != n_l || strcmp(ours, theirs) != 0) {                \
			fprintf(stderr, "'%s' of 0x%llx: '%s' vs libc '%s'\n", \
				fmt, (unsigned long long)(v), ours, theirs);  \
			unit_failed_checks++;                                 \
		}                                                             \
	} while (0)

static void random_case(const char *len, char conv, uint64_t v)
{
	char fmt[64];

	random_spec(fmt, conv);
	libc_snprintf(fmt + strlen(fmt), 8, "%s%c", len, conv);
	if (!strcmp(len, "hh") || !strcmp(len, "h") || !*len)
		SAME_FMT(fmt, (int)v);
	else if (!strcmp(len, "l") || !strcmp(len, "z") || !strcmp(len, "t"))
		SAME_FMT(fmt, (long)v);
	else
		SAME_FMT(fmt, (long long)v);
}

TEST(random_against_libc)
{
	static const char *const lens[] = { "hh", "h", "", "l", "ll", "z", "t", "j" };
	static const char convs[] = "diuxXo";

	for (unsigned i = 0; i < 50000 && unit_failed_checks < 20; i++) {
		uint64_t r = rng_next();
		random_case(lens[r % ARRAY_SIZE(lens)],
			    convs[(r >> 8) % (sizeof(convs) - 1)], rng_value());
	}
}

int main(void)
{
	RUN(integers);
	RUN(flags_width_precision);
	RUN(redundant_flags);
	RUN(star_arguments);
	RUN(chars_and_strings);
	RUN(unterminated_string_with_precision);
	RUN(pointers_and_null);
	RUN(truncation);
	RUN(bad_directives_are_echoed);
	RUN(huge_width_saturates);
	RUN(random_against_libc);
	return unit_done();
}
