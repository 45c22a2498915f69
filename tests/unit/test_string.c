/*
 * Host tests for core/string.c. string.mk renames our functions to hv_*
 * at compile time; libc's stay reachable under their symbol names, and
 * each of ours is checked against libc's on the same input.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/string.h"
#include "core/printk.h"
#include "tests/unit/unit.h"

void *libc_memmove(void *dst, const void *src, size_t n) __asm__("memmove");
int libc_memcmp(const void *a, const void *b, size_t n) __asm__("memcmp");
int libc_strcmp(const char *a, const char *b) __asm__("strcmp");
int libc_strncmp(const char *a, const char *b, size_t n) __asm__("strncmp");

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void fill_pattern(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + 3);
}

TEST(memcpy_sizes_and_offsets)
{
	unsigned char src[80], dst[80];

	fill_pattern(src, sizeof(src));
	for (size_t off = 0; off < 8; off++) {
		for (size_t n = 0; n + off + 8 <= sizeof(dst); n += 5) {
			for (size_t i = 0; i < sizeof(dst); i++)
				dst[i] = 0xee;
			CHECK(memcpy(dst + off, src + 8 - off, n) == dst + off);
			for (size_t i = 0; i < sizeof(dst); i++) {
				bool in = i >= off && i < off + n;
				CHECK_EQ(dst[i], in ? src[8 - off + i - off] : 0xee);
			}
		}
	}
}

/* Every overlap, both directions, checked against libc's memmove. */
TEST(memmove_overlaps)
{
	unsigned char a[48], b[48];

	for (size_t d = 0; d < 16; d++) {
		for (size_t s = 0; s < 16; s++) {
			for (size_t n = 0; n <= 32; n += 3) {
				fill_pattern(a, sizeof(a));
				fill_pattern(b, sizeof(b));
				CHECK(memmove(a + d, a + s, n) == a + d);
				libc_memmove(b + d, b + s, n);
				CHECK(libc_memcmp(a, b, sizeof(a)) == 0);
			}
		}
	}
}

TEST(memset_values)
{
	unsigned char buf[40];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 1;
	CHECK(memset(buf + 3, 0x1ab, 30) == buf + 3);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], i >= 3 && i < 33 ? 0xab : 1);
	memset(buf, 0, 0);
	CHECK_EQ(buf[0], 1);
}

/* Bytes compare unsigned: 0x80 is above 0x7f. */
TEST(memcmp_order)
{
	static const unsigned char x[] = { 1, 2, 0x7f, 4 };
	static const unsigned char y[] = { 1, 2, 0x80, 0 };

	CHECK(memcmp(x, y, 4) < 0);
	CHECK(memcmp(y, x, 4) > 0);
	CHECK_EQ(memcmp(x, y, 2), 0);
	CHECK_EQ(memcmp(x, y, 0), 0);
	for (unsigned i = 0; i < 256; i++) {
		unsigned char p[2] = { 5, (unsigned char)i }, q[2] = { 5, 0x61 };
		CHECK_EQ(sign(memcmp(p, q, 2)), sign(libc_memcmp(p, q, 2)));
	}
}

TEST(lengths)
{
	char raw[4] = { 'a', 'b', 'c', 'd' };

	CHECK_EQ(strlen(""), 0);
	CHECK_EQ(strlen("hypervisor"), 10);
	CHECK_EQ(strnlen("abc", 10), 3);
	CHECK_EQ(strnlen("abc", 2), 2);
	CHECK_EQ(strnlen("abc", 0), 0);
	/* Unterminated: ASan catches a read of raw[4]. */
	CHECK_EQ(strnlen(raw, sizeof(raw)), 4);
}

TEST(string_compare)
{
	static const char *const words[] = {
		"", "a", "ab", "abc", "abd", "b", "\x80", "\x7f", "ab\xff", "A",
	};

	for (unsigned i = 0; i < ARRAY_SIZE(words); i++) {
		for (unsigned j = 0; j < ARRAY_SIZE(words); j++) {
			const char *a = words[i], *b = words[j];
			CHECK_EQ(sign(strcmp(a, b)), sign(libc_strcmp(a, b)));
			for (size_t n = 0; n < 5; n++)
				CHECK_EQ(sign(strncmp(a, b, n)), sign(libc_strncmp(a, b, n)));
		}
	}
}

/* strncmp stops at n even without a terminator in sight. */
TEST(strncmp_bounded)
{
	char p[3] = { 'x', 'y', 'z' }, q[3] = { 'x', 'y', 'z' };

	CHECK_EQ(strncmp(p, q, 3), 0);
	q[2] = 'a';
	CHECK(strncmp(p, q, 3) > 0);
	CHECK_EQ(strncmp(p, q, 2), 0);
}

TEST(strchr_finds)
{
	const char *s = "key=value";

	CHECK(strchr(s, '=') == s + 3);
	CHECK(strchr(s, 'k') == s);
	CHECK(strchr(s, 'z') == NULL);
	CHECK(strchr(s, 0) == s + 9);
	CHECK(strchr(s, 'e' + 256) == s + 1); /* converted to char (C11 7.24.5.2) */
	CHECK(strchr("", 0) != NULL);
	CHECK(strchr("\xff", 0xff) != NULL);
}

int main(void)
{
	RUN(memcpy_sizes_and_offsets);
	RUN(memmove_overlaps);
	RUN(memset_values);
	RUN(memcmp_order);
	RUN(lengths);
	RUN(string_compare);
	RUN(strncmp_bounded);
	RUN(strchr_finds);
	return unit_done();
}
