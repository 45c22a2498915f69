/*
 * The guest command line, copied out of hv_boot_info.cmdline_gpa once at
 * start and split in place into words. Grammar as the hypervisor's own
 * (core/cmdline.c): words separated by spaces or tabs, "key" or
 * "key=value", a value may be double-quoted to hold spaces.
 */
#include "tests/guests/lib/lib_int.h"

#define CMDLINE_MAX 4096
#define CMDLINE_WORDS 64

static char raw[CMDLINE_MAX];
static char words[CMDLINE_MAX];
static struct {
	const char *key;
	const char *val;
} table[CMDLINE_WORDS];
static unsigned nwords;

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Split @p (NUL-terminated, writable) into table[]. */
static void cmdline_split(char *p)
{
	while (*p && nwords < CMDLINE_WORDS) {
		while (is_space(*p))
			*p++ = '\0';
		if (!*p)
			break;
		table[nwords].key = p;
		table[nwords].val = "";
		while (*p && !is_space(*p) && *p != '=')
			p++;
		if (*p == '=') {
			*p++ = '\0';
			if (*p == '"') {
				table[nwords].val = ++p;
				while (*p && *p != '"')
					p++;
				if (*p)
					*p++ = '\0';
			} else {
				table[nwords].val = p;
				while (*p && !is_space(*p))
					p++;
			}
		}
		nwords++;
	}
	while (is_space(*p))
		p++;
	if (*p)
		printf("%s: warning: command line has more than %u words, rest ignored\n",
		       guest_name, CMDLINE_WORDS);
}

void cmdline_init(const struct hv_boot_info *bi)
{
	const char *src = (const char *)(uintptr_t)bi->cmdline_gpa;
	size_t n = 0;

	if (bi->cmdline_gpa >= bi->mem_size) {
		printf("%s: warning: cmdline_gpa 0x%lx is outside RAM, using an empty line\n",
		       guest_name, (unsigned long)bi->cmdline_gpa);
		return;
	}
	while (n < CMDLINE_MAX - 1 && bi->cmdline_gpa + n < bi->mem_size && src[n]) {
		raw[n] = src[n];
		n++;
	}
	raw[n] = '\0';
	memcpy(words, raw, n + 1);
	cmdline_split(words);
}

const char *cmdline_raw(void)
{
	return raw;
}

const char *cmdline_get(const char *key)
{
	unsigned i = nwords;

	while (i--)
		if (!strcmp(table[i].key, key))
			return table[i].val;
	return NULL;
}

static int digit_value(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

/* 0 and *out, or -1 if @s is not a number that fits. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10, shift = 0;
	uint64_t v = 0;
	int d, any = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; (d = digit_value(*s, base)) >= 0; s++, any = 1) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -1;
		v = v * base + (uint64_t)d;
	}
	if (*s == 'k' || *s == 'K')
		shift = 10;
	else if (*s == 'm' || *s == 'M')
		shift = 20;
	else if (*s == 'g' || *s == 'G')
		shift = 30;
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
		s++;
	}
	if (!any || *s)
		return -1;
	*out = v;
	return 0;
}

uint64_t cmdline_u64(const char *key, uint64_t dflt)
{
	const char *val = cmdline_get(key);
	uint64_t v;

	if (!val)
		return dflt;
	if (parse_u64(val, &v)) {
		printf("%s: warning: %s='%s' is not a number, using %lu\n",
		       guest_name, key, val, (unsigned long)dflt);
		return dflt;
	}
	return v;
}
