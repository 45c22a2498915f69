/*
 * Host tests for the command line parser: word splitting, quoting,
 * unknown and rejected options, hostile lines, and the number helper.
 */
#include <stdint.h>
#include <string.h>

#include "core/cmdline.h"
#include "core/errno.h"
#include "core/printk.h"
#include "tests/unit/unit.h"

/* What the handlers saw, in order. */
#define MAX_CALLS 2048
static struct call {
	const char *key;
	char val[128];
	bool bare;
} calls[MAX_CALLS];
static unsigned ncalls;

static void calls_reset(void)
{
	ncalls = 0;
}

static int record(const char *val, size_t len, void *ctx)
{
	struct call *c = &calls[ncalls++];

	c->key = ctx;
	c->bare = val == NULL;
	snprintf(c->val, sizeof(c->val), "%.*s", (int)len, val ? val : "");
	return 0;
}

/* Accepts only a number, as a real "mem=" handler would. */
static int reject_non_number(const char *val, size_t len, void *ctx)
{
	uint64_t v;
	int err = cmdline_parse_u64(val, len, &v);

	return err ? err : record(val, len, ctx);
}

static const struct cmdline_opt opts[] = {
	{ "console", record, "console" },
	{ "loglevel", record, "loglevel" },
	{ "nosmp", record, "nosmp" },
	{ "mem", reject_non_number, "mem" },
	{ "name", record, "name" },
	{ "w", record, "w" },
};

static int parse(const char *line)
{
	calls_reset();
	return cmdline_parse(line, opts, ARRAY_SIZE(opts));
}

static bool call_is(unsigned i, const char *key, const char *val)
{
	if (i >= ncalls || strcmp(calls[i].key, key) != 0)
		return false;
	return val ? !calls[i].bare && strcmp(calls[i].val, val) == 0 : calls[i].bare;
}

TEST(simple_words)
{
	CHECK_EQ(parse("console=com1 loglevel=info nosmp"), 0);
	CHECK_EQ(ncalls, 3);
	CHECK(call_is(0, "console", "com1"));
	CHECK(call_is(1, "loglevel", "info"));
	CHECK(call_is(2, "nosmp", NULL));
	CHECK_STR(log_text(), "");
}

TEST(spaces_and_tabs)
{
	CHECK_EQ(parse("  \tconsole=vga\t\tnosmp   "), 0);
	CHECK_EQ(ncalls, 2);
	CHECK(call_is(0, "console", "vga"));
	CHECK(call_is(1, "nosmp", NULL));
	CHECK_EQ(parse(""), 0);
	CHECK_EQ(parse(" \t "), 0);
	CHECK_EQ(parse(NULL), 0);
	CHECK_EQ(ncalls, 0);
}

TEST(quoted_and_empty_values)
{
	CHECK_EQ(parse("name=\"guest one\tx\" console= loglevel=\"\" w=a=b"), 0);
	CHECK_EQ(ncalls, 4);
	CHECK(call_is(0, "name", "guest one\tx"));
	CHECK(call_is(1, "console", ""));
	CHECK(call_is(2, "loglevel", ""));
	CHECK(call_is(3, "w", "a=b"));
}

TEST(repeated_last_wins)
{
	CHECK_EQ(parse("console=com1 console=com2"), 0);
	CHECK_EQ(ncalls, 2);
	CHECK(call_is(1, "console", "com2"));
}

TEST(unknown_options)
{
	CHECK_EQ(parse("quiet console=com1 splash=1 consol=x"), 3);
	CHECK_EQ(ncalls, 1);
	CHECK(log_has("cmdline: unknown option 'quiet' ignored"));
	CHECK(log_has("cmdline: unknown option 'splash=1' ignored"));
	CHECK(log_has("cmdline: unknown option 'consol=x' ignored"));
}

TEST(rejected_values)
{
	CHECK_EQ(parse("mem=lots mem=512M mem mem=\"1 G\""), 3);
	CHECK_EQ(ncalls, 1);
	CHECK(call_is(0, "mem", "512M"));
	CHECK(log_has("cmdline: mem: invalid value 'lots' (error -22); ignored"));
	CHECK(log_has("cmdline: mem: option rejected (error -22); ignored"));
	CHECK(log_has("cmdline: mem: invalid value '1 G' (error -22); ignored"));
}

TEST(malformed_words)
{
	CHECK_EQ(parse("=x a\"b nosmp name=\"ab\"cd name=ab\"c w=1"), 4);
	CHECK_EQ(ncalls, 2);
	CHECK(call_is(0, "nosmp", NULL));
	CHECK(call_is(1, "w", "1"));
	CHECK(log_has("cmdline: malformed word '=x' at offset 0: empty option name; ignored"));
	CHECK(log_has("cmdline: malformed word 'a\"b' at offset 3: quote in option name; ignored"));
	CHECK(log_has("malformed word 'name=\"ab\"cd' at offset 13: text after the closing quote"));
	CHECK(log_has("malformed word 'name=ab\"c' at offset 25: quote inside an unquoted value"));
}

TEST(unterminated_quote)
{
	CHECK_EQ(parse("nosmp name=\"rest of line w=1"), 1);
	CHECK_EQ(ncalls, 1);
	CHECK(log_has("malformed word 'name=\"rest of line w=1' at offset 6: unterminated quote; ignored"));
}

TEST(non_printable)
{
	CHECK_EQ(parse("console=com1\x1b[2J nosmp name=\"a\x7f\""), 2);
	CHECK_EQ(ncalls, 1);
	CHECK(log_has("cmdline: word at offset 0 has non-printable characters; ignored"));
	CHECK(log_has("cmdline: word at offset 23 has non-printable characters; ignored"));
	CHECK(strchr(log_text(), 0x1b) == NULL);
}

TEST(long_word_is_cut_in_messages)
{
	char line[300];

	memset(line, 'k', 200);
	line[200] = 0;
	CHECK_EQ(parse(line), 1);
	CHECK(strstr(log_text(), "'kkkkkkkkkk") != NULL);
	CHECK(strlen(log_text()) < 140);
}

/* 4096 characters are read; the word across the limit is not cut in two. */
TEST(overlong_line)
{
	static char line[6000];
	size_t len = 0;

	while (len + 4 < sizeof(line) - 1) {
		memcpy(line + len, "w=12", 4);
		line[len + 4] = ' ';
		len += 5;
	}
	line[len] = 0;
	CHECK_EQ(parse(line), 1);
	/* Words start every 5 characters; the one at 4095 crosses 4096. */
	CHECK_EQ(ncalls, 4095 / 5);
	CHECK(call_is(ncalls - 1, "w", "12"));
	CHECK(log_has("cmdline: longer than 4096 characters; ignored from offset 4095 on"));

	/* A cut that falls on a separator keeps every word before it. */
	memset(line, ' ', 4096);
	memcpy(line, "nosmp", 5);
	memcpy(line + 4096, "w=1", 4);
	CHECK_EQ(parse(line), 1);
	CHECK_EQ(ncalls, 1);
	CHECK(log_has("ignored from offset 4096 on"));
}

static int parse_u64(const char *s, uint64_t *v)
{
	return cmdline_parse_u64(s, strlen(s), v);
}

TEST(parse_u64_good)
{
	uint64_t v = 0;

	CHECK_EQ(parse_u64("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_u64("123", &v), 0);
	CHECK_EQ(v, 123);
	CHECK_EQ(parse_u64("010", &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(parse_u64("0x1f", &v), 0);
	CHECK_EQ(v, 0x1f);
	CHECK_EQ(parse_u64("0XdeadBEEF", &v), 0);
	CHECK_EQ(v, 0xdeadbeef);
	CHECK_EQ(parse_u64("4K", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(parse_u64("512m", &v), 0);
	CHECK_EQ(v, 512ull << 20);
	CHECK_EQ(parse_u64("3G", &v), 0);
	CHECK_EQ(v, 3ull << 30);
	CHECK_EQ(parse_u64("0x10k", &v), 0);
	CHECK_EQ(v, 0x4000);
	CHECK_EQ(parse_u64("18446744073709551615", &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(parse_u64("0xffffffffffffffff", &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(parse_u64("17179869183G", &v), 0);
	CHECK_EQ(v, 17179869183ull << 30);
	/* Only @len characters count. */
	CHECK_EQ(cmdline_parse_u64("12 junk", 2, &v), 0);
	CHECK_EQ(v, 12);
}

TEST(parse_u64_bad)
{
	static const char *const bad[] = {
		"", "0x", "x1", "12a", "-1", "+1", "K", " 1", "1 ", "1KK", "0x1g2",
		"1T", "0xg", "0b101", "1.5G", "00x1",
	};
	uint64_t v = 42;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_u64(bad[i], &v) != -EINVAL)
			fprintf(stderr, "accepted or misjudged '%s'\n", bad[i]);
		CHECK_EQ(parse_u64(bad[i], &v), -EINVAL);
	}
	CHECK_EQ(cmdline_parse_u64(NULL, 0, &v), -EINVAL);
	CHECK_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
	CHECK_EQ(parse_u64("99999999999999999999999", &v), -ERANGE);
	CHECK_EQ(parse_u64("0x10000000000000000", &v), -ERANGE);
	CHECK_EQ(parse_u64("17179869184G", &v), -ERANGE);
	CHECK_EQ(parse_u64("18014398509481984K", &v), -ERANGE);
	CHECK_EQ(v, 42);
}

TEST(val_is)
{
	CHECK(cmdline_val_is("com1", 4, "com1"));
	CHECK(cmdline_val_is("com1,more", 4, "com1"));
	CHECK(!cmdline_val_is("com1", 3, "com1"));
	CHECK(!cmdline_val_is("com10", 5, "com1"));
	CHECK(!cmdline_val_is(NULL, 0, ""));
	CHECK(cmdline_val_is("", 0, ""));
}

int main(void)
{
	RUN(simple_words);
	RUN(spaces_and_tabs);
	RUN(quoted_and_empty_values);
	RUN(repeated_last_wins);
	RUN(unknown_options);
	RUN(rejected_values);
	RUN(malformed_words);
	RUN(unterminated_quote);
	RUN(non_printable);
	RUN(long_word_is_cut_in_messages);
	RUN(overlong_line);
	RUN(parse_u64_good);
	RUN(parse_u64_bad);
	RUN(val_is);
	return unit_done();
}
