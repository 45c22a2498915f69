/* The few string routines the guests use; GCC may emit calls to the mem* ones. */
#include "tests/guests/lib/guest.h"

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *pa = a, *pb = b;

	for (; n; n--, pa++, pb++)
		if (*pa != *pb)
			return *pa < *pb ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/*
 * Copy @src for printing: at most @size - 1 characters, anything outside
 * printable ASCII shown as '?', always NUL-terminated. Returns the number
 * of characters of @src that were left out.
 */
size_t str_printable(char *dst, size_t size, const char *src)
{
	size_t n = 0, cut = 0;

	for (; *src; src++) {
		if (n + 1 >= size) {
			cut++;
			continue;
		}
		dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	}
	if (size)
		dst[n] = '\0';
	return cut;
}
