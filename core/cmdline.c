/*
 * The hypervisor command line. It comes from the boot loader, so it is
 * hostile input: the length is bounded, every word is checked before a
 * handler sees it, and each problem is reported with the offending word.
 * Grammar, one word at a time, words separated by spaces or tabs:
 *     word   := key | key '=' value
 *     key    := one or more characters other than '=', '"', space, tab
 *     value  := quoted | plain
 *     quoted := '"' characters other than '"' '"'
 *     plain  := characters other than '"', space, tab (may be empty)
 * A quoted value may hold spaces; the handler gets it without the quotes.
 * Options are handled in order, so the last of a repeated option wins.
 */
#include "core/cmdline.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"

/* Longer lines are cut before the word that crosses this limit. */
#define CMDLINE_MAX 4096
/* Words and values quoted in messages are cut to this many characters. */
#define CMDLINE_SHOW_MAX 80

struct cmdline_word {
	const char *start; /* the whole word, for messages */
	size_t len;
	const char *key;
	size_t key_len;
	const char *val; /* NULL for a bare key */
	size_t val_len;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Printing control characters could garble or drive the console. A tab
 * is harmless and may sit inside a quoted value.
 */
static bool is_printable(char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static size_t skip_spaces(const char *line, size_t len, size_t pos)
{
	while (pos < len && is_space(line[pos]))
		pos++;
	return pos;
}

/* End of an unquoted run: stops at a separator or any of @stops. */
static size_t scan_plain(const char *line, size_t len, size_t pos, const char *stops)
{
	while (pos < len && !is_space(line[pos]) && !strchr(stops, line[pos]))
		pos++;
	return pos;
}

/*
 * Where a malformed word ends, so parsing can go on after it. An
 * unterminated quote has already swallowed the rest of the line.
 */
static size_t word_end(const char *line, size_t len, size_t end)
{
	if (end < len && !is_space(line[end]))
		end = scan_plain(line, len, end, "");
	return end;
}

/* A quoted value: line[*pos] is the opening quote. NULL or what is wrong. */
static const char *word_scan_quoted(const char *line, size_t len, size_t *pos,
				    struct cmdline_word *w)
{
	size_t p = *pos + 1;

	w->val = line + p;
	while (p < len && line[p] != '"')
		p++;
	if (p == len) {
		*pos = len;
		return "unterminated quote";
	}
	w->val_len = (size_t)(line + p - w->val);
	*pos = p + 1;
	if (*pos < len && !is_space(line[*pos]))
		return "text after the closing quote";
	return NULL;
}

/*
 * Split the word at @*pos into key and value and advance @*pos past it.
 * Returns NULL, or what is wrong with the word (@*pos then points at
 * the offending character).
 */
static const char *word_scan(const char *line, size_t len, size_t *pos,
			     struct cmdline_word *w)
{
	size_t p = scan_plain(line, len, *pos, "=\"");

	*w = (struct cmdline_word){ .start = line + *pos, .key = line + *pos };
	w->key_len = p - *pos;
	*pos = p;
	if (w->key_len == 0)
		return "empty option name";
	if (p < len && line[p] == '"')
		return "quote in option name";
	if (p == len || line[p] != '=')
		return NULL;
	*pos = ++p;
	if (p < len && line[p] == '"')
		return word_scan_quoted(line, len, pos, w);
	*pos = scan_plain(line, len, p, "\"");
	w->val = line + p;
	w->val_len = *pos - p;
	if (*pos < len && line[*pos] == '"')
		return "quote inside an unquoted value";
	return NULL;
}

static const struct cmdline_opt *opt_find(const struct cmdline_opt *opts, size_t nopts,
					  const struct cmdline_word *w)
{
	for (size_t i = 0; i < nopts; i++) {
		if (strlen(opts[i].key) == w->key_len &&
		    memcmp(opts[i].key, w->key, w->key_len) == 0)
			return &opts[i];
	}
	return NULL;
}

/* Returns 0 if the word was handled, 1 if it was unknown or rejected. */
static int word_dispatch(const struct cmdline_opt *opts, size_t nopts,
			 const struct cmdline_word *w)
{
	const struct cmdline_opt *opt = opt_find(opts, nopts, w);
	int err;

	if (!opt) {
		pr_warn("cmdline: unknown option '%.*s' ignored\n",
			(int)MIN(w->len, CMDLINE_SHOW_MAX), w->start);
		return 1;
	}
	err = opt->handler(w->val, w->val_len, opt->ctx);
	if (err >= 0)
		return 0;
	if (w->val)
		pr_warn("cmdline: %.*s: invalid value '%.*s' (error %d); ignored\n",
			(int)MIN(w->key_len, CMDLINE_SHOW_MAX), w->key,
			(int)MIN(w->val_len, CMDLINE_SHOW_MAX), w->val, err);
	else
		pr_warn("cmdline: %.*s: option rejected (error %d); ignored\n",
			(int)MIN(w->key_len, CMDLINE_SHOW_MAX), w->key, err);
	return 1;
}

static bool word_is_printable(const char *word, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!is_printable(word[i]))
			return false;
	}
	return true;
}

/* Handles the word starting at @*pos; returns 0 or 1 as word_dispatch. */
static int word_process(const char *line, size_t len, size_t *pos,
			const struct cmdline_opt *opts, size_t nopts)
{
	struct cmdline_word w;
	size_t start = *pos;
	const char *why = word_scan(line, len, pos, &w);

	if (why)
		*pos = word_end(line, len, *pos);
	w.len = *pos - start;
	if (!word_is_printable(w.start, w.len)) {
		pr_warn("cmdline: word at offset %zu has non-printable characters; ignored\n",
			start);
		return 1;
	}
	if (why) {
		pr_warn("cmdline: malformed word '%.*s' at offset %zu: %s; ignored\n",
			(int)MIN(w.len, CMDLINE_SHOW_MAX), w.start, start, why);
		return 1;
	}
	return word_dispatch(opts, nopts, &w);
}

/*
 * Bound the line at CMDLINE_MAX characters. A word cut in two would hand
 * a handler a wrong value, so the cut moves back to that word's start.
 */
static size_t line_bound(const char *line)
{
	size_t len = strnlen(line, CMDLINE_MAX + 1);

	if (len <= CMDLINE_MAX)
		return len;
	len = CMDLINE_MAX;
	while (len > 0 && !is_space(line[len]) && !is_space(line[len - 1]))
		len--;
	pr_warn("cmdline: longer than %d characters; ignored from offset %zu on\n",
		CMDLINE_MAX, len);
	return len;
}

int cmdline_parse(const char *line, const struct cmdline_opt *opts, size_t nopts)
{
	size_t len, pos = 0;
	int bad = 0;

	if (!line)
		return 0;
	len = line_bound(line);
	if (line[len])
		bad++; /* the words cut off count as one rejection */
	for (pos = skip_spaces(line, len, 0); pos < len; pos = skip_spaces(line, len, pos))
		bad += word_process(line, len, &pos, opts, nopts);
	return bad;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Binary multiples, as in "mem=512M". Returns the shift or 0 for none. */
static unsigned suffix_shift(char c)
{
	switch (c) {
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	default: return 0;
	}
}

/* Digits in [p, end); -EINVAL if there are none, -ERANGE on overflow. */
static int parse_digits(const char *p, const char *end, unsigned base, uint64_t *out)
{
	uint64_t v = 0;

	if (p == end)
		return -EINVAL;
	for (; p < end; p++) {
		int d = digit_value(*p);
		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return -ERANGE;
		v = v * base + (unsigned)d;
	}
	*out = v;
	return 0;
}

/*
 * "0x" or "0X" then hex digits, or decimal digits (a leading 0 does not
 * mean octal), then an optional K/M/G. Nothing else may follow.
 */
int cmdline_parse_u64(const char *val, size_t len, uint64_t *out)
{
	const char *p = val, *end = val + len;
	unsigned base = 10, shift;
	uint64_t v;
	int err;

	if (!val || len == 0)
		return -EINVAL;
	if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	shift = suffix_shift(end[-1]);
	if (shift)
		end--;
	err = parse_digits(p, end, base, &v);
	if (err)
		return err;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

bool cmdline_val_is(const char *val, size_t len, const char *word)
{
	return val && strlen(word) == len && memcmp(val, word, len) == 0;
}
