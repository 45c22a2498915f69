/*
 * Live lines in the console log (core/printk.c, built with its printk
 * renamed so that the harness keeps its own): a focused VM's output goes
 * out as it comes with a "[NAME] " prefix on each line, other output
 * ends an open live line first, and the live line comes back whole
 * afterwards. The TSC rate is 0, so every timestamp reads 0.000000.
 */
#define printk hv_printk
#define vprintk hv_vprintk
#define log_threshold hv_log_threshold
#include "core/printk.c"
#undef printk
#undef vprintk
#undef log_threshold
#include "tests/unit/unit.h"

static char screen[4096];
static size_t nscreen;

void console_putc(char c)
{
	if (nscreen + 1 < sizeof(screen))
		screen[nscreen++] = c;
	screen[nscreen] = 0;
}

uint64_t tsc_khz_get(void)
{
	return 0;
}

#define TS "[    0.000000] "

static void setup(void)
{
	static bool started;

	if (!started) {
		console_start();
		started = true;
	}
	hv_log_threshold = LOG_INFO;
	/* Leave no line open from an earlier case. */
	hv_printk(LOG_INFO, "\n");
	nscreen = 0;
	screen[0] = 0;
}

static void live(struct printk_live *l, const char *name, const char *s)
{
	printk_live(l, name, s, strlen(s));
}

TEST(live_text_goes_out_at_once)
{
	struct printk_live l = { 0 };

	setup();
	live(&l, "linux", "root@hv:~# ");
	CHECK_STR(screen, TS "[linux] root@hv:~# ");
	live(&l, "linux", "ls");
	CHECK_STR(screen, TS "[linux] root@hv:~# ls");
	live(&l, "linux", "\r\nbin\r\n");
	CHECK_STR(screen, TS "[linux] root@hv:~# ls\r\n" TS "[linux] bin\r\n");
}

TEST(other_output_cuts_and_the_line_comes_back)
{
	struct printk_live l = { 0 };

	setup();
	live(&l, "linux", "$ ec");
	hv_printk(LOG_INFO, "hv: something\n");
	CHECK_STR(screen, TS "[linux] $ ec\r\n" TS "hv: something\r\n");
	nscreen = 0;
	live(&l, "linux", "ho");
	CHECK_STR(screen, TS "[linux] $ echo");
}

TEST(a_line_cut_just_before_its_end_is_not_shown_twice)
{
	struct printk_live l = { 0 };

	setup();
	live(&l, "vm", "done");
	hv_printk(LOG_INFO, "hv: cut\n");
	live(&l, "vm", "\r\n");
	live(&l, "vm", "\n");          /* an empty line is still a line */
	CHECK_STR(screen, TS "[vm] done\r\n" TS "hv: cut\r\n" TS "[vm] \r\n");
}

TEST(redraw_on_request)
{
	struct printk_live l = { 0 };

	setup();
	live(&l, "a", "prompt> ");
	hv_printk(LOG_INFO, "hv: console input to vm b\n");
	nscreen = 0;
	printk_live(&l, "a", NULL, 0);
	CHECK_STR(screen, TS "[a] prompt> ");
	printk_live(&l, "a", NULL, 0);     /* already open: nothing */
	CHECK_STR(screen, TS "[a] prompt> ");
}

TEST(two_live_streams_take_turns)
{
	struct printk_live a = { 0 }, b = { 0 };

	setup();
	live(&a, "a", "x");
	live(&b, "b", "y");
	live(&a, "a", "z\n");
	CHECK_STR(screen, TS "[a] x\r\n" TS "[b] y\r\n" TS "[a] xz\r\n");
}

TEST(carriage_return_redraws_the_prefix)
{
	struct printk_live l = { 0 };

	setup();
	live(&l, "vm", "abc\rX");
	CHECK_STR(screen, TS "[vm] abc\r" TS "[vm] X");
	/* What comes back after a cut is the text since the CR. */
	hv_printk(LOG_INFO, "cut\n");
	nscreen = 0;
	live(&l, "vm", "Y");
	CHECK_STR(screen, TS "[vm] XY");
}

TEST(backspace_cannot_reach_the_prefix_after_a_cut)
{
	struct printk_live l = { 0 };

	setup();
	live(&l, "vm", "ab");
	hv_printk(LOG_INFO, "cut\n");
	nscreen = 0;
	live(&l, "vm", "\b\b\b\b");
	CHECK_STR(screen, TS "[vm] ab\b\b");
}

TEST(overlong_line_starts_afresh_after_a_cut)
{
	struct printk_live l = { 0 };
	char big[260];

	setup();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	live(&l, "vm", big);
	CHECK(l.overflow);
	hv_printk(LOG_INFO, "cut\n");
	nscreen = 0;
	live(&l, "vm", "\b\b!");
	CHECK_STR(screen, TS "[vm] !");   /* column 0 again: the backspaces stop */
}

TEST(printk_partial_line_is_ended_by_live_output)
{
	struct printk_live l = { 0 };

	setup();
	hv_printk(LOG_INFO, "half");
	live(&l, "vm", "v");
	CHECK_STR(screen, TS "half\r\n" TS "[vm] v");
}

TEST(quiet_loglevel_hides_live_output)
{
	struct printk_live l = { 0 };

	setup();
	hv_log_threshold = LOG_WARN;
	live(&l, "vm", "secret\n");
	CHECK_STR(screen, "");
}

int main(void)
{
	RUN(live_text_goes_out_at_once);
	RUN(other_output_cuts_and_the_line_comes_back);
	RUN(a_line_cut_just_before_its_end_is_not_shown_twice);
	RUN(redraw_on_request);
	RUN(two_live_streams_take_turns);
	RUN(carriage_return_redraws_the_prefix);
	RUN(backspace_cannot_reach_the_prefix_after_a_cut);
	RUN(overlong_line_starts_afresh_after_a_cut);
	RUN(printk_partial_line_is_ended_by_live_output);
	RUN(quiet_loglevel_hides_live_output);
	return unit_done();
}
