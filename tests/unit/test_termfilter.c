/*
 * The terminal filter for live guest output (core/termfilter.c): what
 * passes, what is rewritten, what is dropped, and that nothing moves the
 * cursor left of the guest's first column or off its line.
 */
#include "core/termfilter.h"
#include "tests/unit/unit.h"

/* Feed @in through a fresh filter (or @t); return what came out. */
static const char *run(struct termfilter *t, const char *in, size_t n)
{
	static char buf[1024];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		char out[TERMFILTER_OUT_MAX];
		size_t k = termfilter_feed(t, (uint8_t)in[i], out);

		CHECK(k <= TERMFILTER_OUT_MAX);
		if (len + k < sizeof(buf)) {
			memcpy(buf + len, out, k);
			len += k;
		}
	}
	buf[len] = 0;
	return buf;
}

static const char *filter(const char *in)
{
	struct termfilter t = { 0 };

	return run(&t, in, strlen(in));
}

TEST(text_passes)
{
	CHECK_STR(filter("root@hv-linux:~# ls\tx"), "root@hv-linux:~# ls\tx");
}

TEST(crlf_is_one_line_end)
{
	CHECK_STR(filter("a\r\nb\n"), "a\nb\n");
}

TEST(lone_cr_goes_back_to_the_start)
{
	struct termfilter t = { 0 };

	CHECK_STR(run(&t, "abc\r", 4), "abc");   /* the CR waits for what follows */
	CHECK(t.cr);
	CHECK_STR(run(&t, "x", 1), "\rx");
	CHECK_EQ(t.col, 1);
}

TEST(backspace_stops_at_the_first_column)
{
	struct termfilter t = { 0 };

	CHECK_STR(run(&t, "ab\b\b\b\b", 6), "ab\b\b");
	CHECK_EQ(t.col, 0);
}

TEST(cursor_left_is_clamped)
{
	struct termfilter t = { 0 };

	CHECK_STR(run(&t, "abcd\x1b[10D", 9), "abcd\x1b[4D");
	CHECK_EQ(t.col, 0);
	CHECK_STR(run(&t, "\x1b[D", 3), "");
	CHECK_STR(run(&t, "xy\x1b[D", 5), "xy\x1b[1D");
}

TEST(cursor_right_erase_and_colours)
{
	CHECK_STR(filter("a\x1b[C\x1b[3C"), "a\x1b[1C\x1b[3C");
	CHECK_STR(filter("\x1b[K\x1b[0K\x1b[J"), "\x1b[K\x1b[K\x1b[K");
	CHECK_STR(filter("\x1b[1;32mok\x1b[0m"), "\x1b[1;32mok\x1b[0m");
}

TEST(what_leaves_the_line_is_dropped)
{
	/* Up, down, absolute position, erase screen or line start, scroll. */
	CHECK_STR(filter("a\x1b[A\x1b[2B\x1b[1;1H\x1b[2J\x1b[1K\x1b[2K\x1b[S\x1b[10Gb"), "ab");
	/* Private modes, queries, titles, two-byte escapes. */
	CHECK_STR(filter("\x1b[?25l\x1b[6n\x1b]0;title\x07x\x1b" "7y\x1b" "cz"), "xyz");
	CHECK_STR(filter("\x1b]2;t\x1b\\a\x1bPq\x1b\\b"), "ab");
	CHECK_STR(filter("\x1b]unterminated\nc"), "\nc");
	/* Overlong parameters. */
	CHECK_STR(filter("\x1b[123456789012mq"), "q");
}

TEST(control_bytes)
{
	CHECK_STR(filter("a\x07\x7f" "b\x01\x80\xff"), "ab???");
}

TEST(control_byte_cuts_a_sequence)
{
	CHECK_STR(filter("\x1b[1\nx"), "\nx");
	CHECK_STR(filter("\x1b[1\r\nx"), "\nx");
}

TEST(tab_moves_to_the_next_stop)
{
	struct termfilter t = { 0 };

	run(&t, "ab\t", 3);
	CHECK_EQ(t.col, 8);
	run(&t, "\t", 1);
	CHECK_EQ(t.col, 16);
}

TEST(longest_output_fits)
{
	struct termfilter t = { 0 };

	/* CR pending, then the longest sequence that passes. */
	run(&t, "x\r", 2);
	CHECK_STR(run(&t, "\x1b[12;34;5m", 10), "\r\x1b[12;34;5m");
	run(&t, "\r", 1);
	CHECK_STR(run(&t, "\x1b[99999C", 8), "\r\x1b[1024C");
	CHECK_EQ(t.col, 1024);
}

int main(void)
{
	RUN(text_passes);
	RUN(crlf_is_one_line_end);
	RUN(lone_cr_goes_back_to_the_start);
	RUN(backspace_stops_at_the_first_column);
	RUN(cursor_left_is_clamped);
	RUN(cursor_right_erase_and_colours);
	RUN(what_leaves_the_line_is_dropped);
	RUN(control_bytes);
	RUN(control_byte_cuts_a_sequence);
	RUN(tab_moves_to_the_next_stop);
	RUN(longest_output_fits);
	return unit_done();
}
