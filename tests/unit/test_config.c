/*
 * Host tests for the VM configuration parser: a complete file as a user
 * would write it, then one mistake at a time, checking what was kept,
 * which VMs were marked invalid and the exact "file:line:" message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/printk.h"
#include "tests/unit/unit.h"

static struct config cfg;

/*
 * The parser gets a heap copy of exactly @len bytes, without a NUL, so
 * ASan catches any read past the end of the text.
 */
static void parse_len(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, text, len);
	config_parse("t.conf", copy, len, &cfg);
	free(copy);
}

static void parse(const char *text)
{
	parse_len(text, strlen(text));
}

static const struct vm_config *vm_named(const char *name)
{
	for (unsigned i = 0; i < cfg.nvms; i++) {
		if (strcmp(cfg.vms[i].name, name) == 0)
			return &cfg.vms[i];
	}
	return NULL;
}

/* A section header plus the required keys, on lines +1 .. +4. */
#define VM(name, cpus) "[vm " name "]\ncpus = " cpus "\nmemory = 64M\nkernel = k.elf\n"
/* Lines 1-4: a valid VM "a" on CPU 0; a test's own lines start at 5. */
#define VM_A VM("a", "0")

/*
 * Parses VM_A plus @extra and expects exactly one message, @msg, which
 * marks the last VM invalid and no other.
 */
static void check_one_error(const char *extra, const char *msg)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", VM_A, extra);
	parse(text);
	CHECK(cfg.nvms >= 1);
	for (unsigned i = 0; i + 1 < cfg.nvms; i++)
		CHECK(cfg.vms[i].valid);
	CHECK(!cfg.vms[cfg.nvms - 1].valid);
	CHECK_EQ(cfg.nerrors, 1);
	if (!log_has(msg))
		fprintf(stderr, "  expected \"%s\" in log:\n%s", msg, log_text());
	CHECK(log_has(msg));
}

static const char full_file[] =
	"# Three guests\r\n"
	"\r\n"
	"[vm alpha]   # the first\r\n"
	"cpus = 1\r\n"
	"memory = 64M\r\n"
	"kernel = hello.elf\r\n"
	"cmdline = \"console=ttyS0 quiet # kept \\\"q\\\" \\\\ end\"  # comment\r\n"
	"console = uart\r\n"
	"on_crash = restart\r\n"
	"on_poweroff = stop\r\n"
	"on_reboot = stop\r\n"
	"debug_exit = 0xf4\r\n"
	"virtio_rng = yes\r\n"
	"   \t \r\n"
	"[ vm  beta-2 ]\r\n"
	"\tcpus=2-3 , 5\t# tab indented, range and list\r\n"
	"memory=0x40000000\r\n"
	"kernel=/boot/beta.elf\r\n"
	"cmdline = bare-word\r\n"
	"console = none\r\n"
	"on_crash = stop\r\n"
	"on_poweroff = restart\r\n"
	"virtio_rng = no\r\n"
	"debug_exit = 0x3f8  # COM1 is free without a UART\r\n"
	"# between sections\r\n"
	"[vm Gamma_3]\r\n"
	"cpus = 6,7\r\n"
	"memory = 2G\r\n"
	"kernel = g\r\n"
	"cmdline = \"\"\r\n"
	"console = uart\r\n"
	"on_crash = restart\r\n"
	"on_poweroff = restart\r\n"
	"virtio_console = yes\r\n"
	"debug_exit = 501";

TEST(full_file)
{
	const struct vm_config *a = &cfg.vms[0], *b = &cfg.vms[1], *g = &cfg.vms[2];

	parse(full_file);
	CHECK_EQ(cfg.nerrors, 0);
	CHECK_STR(log_text(), "");
	CHECK_EQ(cfg.nvms, 3);
	CHECK_STR(a->name, "alpha");
	CHECK(a->valid);
	CHECK_EQ(a->line, 3);
	CHECK_EQ(a->cpu_mask, 0x2);
	CHECK_EQ(a->cpus_line, 4);
	CHECK_EQ(a->memory, 64ull << 20);
	CHECK_EQ(a->memory_line, 5);
	CHECK_STR(a->kernel, "hello.elf");
	CHECK_EQ(a->kernel_line, 6);
	CHECK_STR(a->cmdline, "console=ttyS0 quiet # kept \"q\" \\ end");
	CHECK(a->console_uart);
	CHECK_EQ(a->on_crash, VM_ACTION_RESTART);
	CHECK_EQ(a->on_poweroff, VM_ACTION_STOP);
	CHECK_EQ(a->on_reboot, VM_ACTION_STOP);
	CHECK_EQ(a->debug_exit_port, 0xf4);
	CHECK(a->virtio_rng);

	CHECK_STR(b->name, "beta-2");
	CHECK(b->valid);
	CHECK_EQ(b->line, 15);
	CHECK_EQ(b->cpu_mask, 0x2c);
	CHECK_EQ(b->memory, 1ull << 30);
	CHECK_STR(b->kernel, "/boot/beta.elf");
	CHECK_STR(b->cmdline, "bare-word");
	CHECK(!b->console_uart);
	CHECK_EQ(b->on_crash, VM_ACTION_STOP);
	CHECK_EQ(b->on_poweroff, VM_ACTION_RESTART);
	CHECK_EQ(b->on_reboot, VM_ACTION_RESTART);
	CHECK_EQ(b->debug_exit_port, 0x3f8);
	CHECK(!b->virtio_rng);

	CHECK_STR(g->name, "Gamma_3");
	CHECK(g->valid);
	CHECK_EQ(g->line, 26);
	CHECK_EQ(g->cpu_mask, 0xc0);
	CHECK_EQ(g->memory, 2ull << 30);
	CHECK_STR(g->kernel, "g");
	CHECK_STR(g->cmdline, "");
	CHECK(g->console_uart);
	CHECK_EQ(g->on_crash, VM_ACTION_RESTART);
	CHECK_EQ(g->on_poweroff, VM_ACTION_RESTART);
	CHECK_EQ(g->debug_exit_port, 501);
	CHECK(!g->virtio_rng);
	CHECK(g->virtio_console);
	CHECK(!a->virtio_console);
}

TEST(defaults)
{
	parse(VM_A);
	CHECK_EQ(cfg.nerrors, 0);
	CHECK_EQ(cfg.nvms, 1);
	CHECK(cfg.vms[0].valid);
	CHECK_STR(cfg.vms[0].cmdline, "");
	CHECK_EQ(cfg.vms[0].on_reboot, VM_ACTION_RESTART);
	CHECK(cfg.vms[0].console_uart);
	CHECK_EQ(cfg.vms[0].on_crash, VM_ACTION_STOP);
	CHECK_EQ(cfg.vms[0].on_poweroff, VM_ACTION_STOP);
	CHECK_EQ(cfg.vms[0].debug_exit_port, 0);
	CHECK(!cfg.vms[0].virtio_rng);
	CHECK(!cfg.vms[0].virtio_console);
}

TEST(empty_and_comment_only)
{
	parse_len("", 0);
	CHECK_EQ(cfg.nvms, 0);
	CHECK_EQ(cfg.nerrors, 0);
	parse("# nothing\n\n   # here\n");
	CHECK_EQ(cfg.nvms, 0);
	CHECK_EQ(cfg.nerrors, 0);
	CHECK_STR(log_text(), "");
}

/* The text ends where len says, even in the middle of a word. */
TEST(length_bounds_text)
{
	const char text[] = VM_A "cmdline = abcdef";

	parse_len(text, sizeof(text) - 5);
	CHECK(cfg.vms[0].valid);
	CHECK_STR(cfg.vms[0].cmdline, "ab");
}

TEST(unknown_key)
{
	check_one_error("memroy = 64M\n", "t.conf:5: unknown key 'memroy'\n");
}

TEST(repeated_key)
{
	check_one_error("on_crash = stop\non_crash = restart\n",
			"t.conf:6: on_crash: repeated (first at line 5)\n");
	CHECK_EQ(cfg.vms[0].on_crash, VM_ACTION_STOP);
	check_one_error("memory = 128M\n", "t.conf:5: memory: repeated (first at line 3)\n");
	CHECK_EQ(cfg.vms[0].memory, 64ull << 20);
}

TEST(key_outside_section)
{
	parse("# header forgotten\ncpus = 1\n" VM("b", "1"));
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:2: key 'cpus' outside a [vm NAME] section\n"));
	CHECK_EQ(cfg.nvms, 1);
	CHECK(cfg.vms[0].valid);
}

TEST(not_a_key_line)
{
	check_one_error("debug_exit 0xf4\n",
			"t.conf:5: expected 'key = value' or '[vm NAME]', not 'debug_exit 0xf4'\n");
	check_one_error("= 3\n", "t.conf:5: expected 'key = value' or '[vm NAME]', not '= 3'\n");
}

TEST(missing_value)
{
	check_one_error("console =   # none given\n", "t.conf:5: console: missing value\n");
	check_one_error("\n\ncmdline =\n", "t.conf:7: cmdline: missing value\n");
}

/* A bad header's keys are still checked, but belong to no VM. */
TEST(malformed_header)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "[vm]", "t.conf:5: malformed section header '[vm]': expected [vm NAME]\n" },
		{ "[vmb]", "t.conf:5: malformed section header '[vmb]': expected [vm NAME]\n" },
		{ "[VM b]", "t.conf:5: malformed section header '[VM b]': expected [vm NAME]\n" },
		{ "[vm b", "t.conf:5: malformed section header '[vm b': expected [vm NAME]\n" },
		{ "[vm b] x", "t.conf:5: malformed section header '[vm b] x': expected [vm NAME]\n" },
		{ "[", "t.conf:5: malformed section header '[': expected [vm NAME]\n" },
		{ "[vm  ]", "t.conf:5: malformed section header '[vm  ]': expected [vm NAME]\n" },
		{ "[vm -]x]", "t.conf:5: invalid VM name '-]x': 1 to 15 characters of A-Z a-z 0-9 _ -\n" },
		{ "[vm b.c]", "t.conf:5: invalid VM name 'b.c': 1 to 15 characters" },
		{ "[vm b c]", "t.conf:5: invalid VM name 'b c': 1 to 15 characters" },
		{ "[vm abcdefghijklmnop]", "t.conf:5: invalid VM name 'abcdefghijklmnop'" },
	};
	char text[512];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		log_reset();
		snprintf(text, sizeof(text), VM_A "%s\ncpus = 0\nmemory = 3M\n" VM("c", "1"),
			 bad[i].line);
		parse(text);
		CHECK_EQ(cfg.nvms, 2);
		CHECK(cfg.vms[0].valid);
		CHECK(cfg.vms[1].valid);
		CHECK_STR(cfg.vms[1].name, "c");
		CHECK_EQ(cfg.nerrors, 2);
		CHECK(log_has(bad[i].msg));
		CHECK(log_has("t.conf:7: memory: 3M is not a multiple of 2M"));
		if (!log_has(bad[i].msg))
			fprintf(stderr, "  header %s:\n%s", bad[i].line, log_text());
	}
}

TEST(longest_name)
{
	parse(VM("abcdefghijklmno", "0"));
	CHECK_EQ(cfg.nerrors, 0);
	CHECK_STR(cfg.vms[0].name, "abcdefghijklmno");
}

TEST(duplicate_name)
{
	parse(VM_A VM("b", "1") VM("a", "2"));
	CHECK_EQ(cfg.nvms, 3);
	CHECK(cfg.vms[0].valid);
	CHECK(cfg.vms[1].valid);
	CHECK(!cfg.vms[2].valid);
	CHECK_STR(cfg.vms[2].name, "a");
	CHECK_EQ(cfg.vms[2].cpu_mask, 0x4);
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:9: duplicate VM name 'a' (first at line 1)\n"));
}

TEST(too_many_vms)
{
	char text[4096] = "";
	size_t len = 0;

	for (unsigned i = 0; i < CONFIG_MAX_VMS + 2; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[vm v%u]\ncpus = %u\nmemory = 2M\nkernel = k\n", i, i);
	snprintf(text + len, sizeof(text) - len, "bogus = 1\n[vm]\n");
	parse(text);
	CHECK_EQ(cfg.nvms, CONFIG_MAX_VMS);
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
		CHECK(cfg.vms[i].valid);
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:65: too many VMs (at most 16): [vm v16] and the rest of the file are ignored\n"));
}

TEST(missing_required_keys)
{
	parse(VM_A "\n[vm b]   # nothing\non_crash = stop\n\n[vm c]\nkernel = x\n");
	CHECK_EQ(cfg.nvms, 3);
	CHECK(cfg.vms[0].valid);
	CHECK(!cfg.vms[1].valid);
	CHECK(!cfg.vms[2].valid);
	CHECK_EQ(cfg.nerrors, 5);
	CHECK(log_has("t.conf:6: [vm b]: missing required key 'cpus'\n"));
	CHECK(log_has("t.conf:6: [vm b]: missing required key 'memory'\n"));
	CHECK(log_has("t.conf:6: [vm b]: missing required key 'kernel'\n"));
	CHECK(log_has("t.conf:9: [vm c]: missing required key 'cpus'\n"));
	CHECK(log_has("t.conf:9: [vm c]: missing required key 'memory'\n"));
	CHECK(!log_has("[vm c]: missing required key 'kernel'"));
}

/* A key given with a bad value is reported once, not also as missing. */
TEST(bad_required_not_missing)
{
	parse("[vm a]\ncpus = 99\nmemory = 64M\nkernel = k\n");
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:2: cpus: CPU 99 is out of range (0-63)\n"));
	CHECK(!log_has("missing"));
}

TEST(cpu_conflict)
{
	parse(VM_A VM("b", "1-3") VM("c", "4,2") VM("d", "5"));
	CHECK_EQ(cfg.nvms, 4);
	CHECK(cfg.vms[0].valid);
	CHECK(cfg.vms[1].valid);
	CHECK(!cfg.vms[2].valid);
	CHECK(cfg.vms[3].valid);
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:10: cpus: CPU 2 is already used by VM 'b' (line 5)\n"));
}

/* The later VM loses even when the earlier one has mistakes of its own. */
TEST(cpu_conflict_with_invalid_vm)
{
	parse(VM_A "console = vga\n" VM("b", "0"));
	CHECK_EQ(cfg.nerrors, 2);
	CHECK(!cfg.vms[0].valid);
	CHECK(!cfg.vms[1].valid);
	CHECK(log_has("t.conf:7: cpus: CPU 0 is already used by VM 'a' (line 1)\n"));
}

TEST(line_too_long)
{
	char text[1024];
	char comment[600];

	memset(comment, 'x', sizeof(comment));
	comment[0] = '#';
	comment[512] = '\0'; /* exactly the limit: fine */
	snprintf(text, sizeof(text), VM_A "%s\r\n", comment);
	parse(text);
	CHECK_EQ(cfg.nerrors, 0);
	comment[512] = 'x';
	comment[513] = '\0';
	check_one_error(comment, "t.conf:5: line longer than 512 characters; ignored\n");
}

TEST(non_printable_bytes)
{
	static const char nul[] = VM_A "cmdline = a\0b\n";
	static const char high[] = VM_A "# caf\xc3\xa9\n";
	static const char cr[] = VM_A "console = none\rdebug_exit = 1\n";

	parse_len(nul, sizeof(nul) - 1);
	CHECK(!cfg.vms[0].valid);
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:5: byte 0x00 at column 12 is not printable text; line ignored\n"));
	CHECK_STR(cfg.vms[0].cmdline, "");
	parse_len(high, sizeof(high) - 1);
	CHECK(log_has("t.conf:5: byte 0xc3 at column 6 is not printable text; line ignored\n"));
	parse_len(cr, sizeof(cr) - 1);
	CHECK(log_has("t.conf:5: byte 0x0d at column 15 is not printable text; line ignored\n"));
	CHECK(cfg.vms[0].console_uart);
	CHECK_EQ(cfg.nerrors, 1);
}

TEST(junk_outside_section)
{
	static const char text[] = "\x01\x02\x7f\n" VM_A;

	parse_len(text, sizeof(text) - 1);
	CHECK_EQ(cfg.nerrors, 1);
	CHECK(log_has("t.conf:1: byte 0x01 at column 1 is not printable text; line ignored\n"));
	CHECK(cfg.vms[0].valid);
}

TEST(cpus_values)
{
	parse("[vm a]\ncpus = 0-3, 8 ,10-11,63\nmemory = 2M\nkernel = k\n");
	CHECK(cfg.vms[0].valid);
	CHECK_EQ(cfg.vms[0].cpu_mask, 0x8000000000000d0full);
	parse("[vm a]\ncpus = 0x3-4\nmemory = 2M\nkernel = k\n");
	CHECK_EQ(cfg.vms[0].cpu_mask, 0x18);
}

TEST(cpus_errors)
{
	static const struct {
		const char *val, *msg;
	} bad[] = {
		{ "1,,2", "t.conf:2: cpus: empty entry in the list\n" },
		{ "1,", "t.conf:2: cpus: empty entry in the list\n" },
		{ ",1", "t.conf:2: cpus: empty entry in the list\n" },
		{ "3-1", "t.conf:2: cpus: range '3-1' ends before it starts\n" },
		{ "64", "t.conf:2: cpus: CPU 64 is out of range (0-63)\n" },
		{ "1-64", "t.conf:2: cpus: CPU 64 is out of range (0-63)\n" },
		{ "one", "t.conf:2: cpus: 'one' is not a CPU number or range\n" },
		{ "-1", "t.conf:2: cpus: '-1' is not a CPU number or range\n" },
		{ "1-", "t.conf:2: cpus: '1-' is not a CPU number or range\n" },
		{ "1-2-3", "t.conf:2: cpus: '1-2-3' is not a CPU number or range\n" },
		{ "1 2", "t.conf:2: cpus: '1 2' is not a CPU number or range\n" },
		{ "1,1", "t.conf:2: cpus: CPU 1 is listed twice\n" },
		{ "1-3,2", "t.conf:2: cpus: CPU 2 is listed twice\n" },
		{ "99999999999999999999", "t.conf:2: cpus: '99999999999999999999' is not a CPU" },
	};
	char text[256];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		log_reset();
		snprintf(text, sizeof(text), "[vm a]\ncpus = %s\nmemory = 2M\nkernel = k\n",
			 bad[i].val);
		parse(text);
		CHECK(!cfg.vms[0].valid);
		CHECK_EQ(cfg.vms[0].cpu_mask, 0);
		CHECK_EQ(cfg.nerrors, 1);
		CHECK(log_has(bad[i].msg));
		if (!log_has(bad[i].msg))
			fprintf(stderr, "  cpus = %s:\n%s", bad[i].val, log_text());
	}
}

TEST(memory_values)
{
	parse("[vm a]\ncpus = 0\nmemory = 2M\nkernel = k\n");
	CHECK_EQ(cfg.vms[0].memory, 2ull << 20);
	parse("[vm a]\ncpus = 0\nmemory = 3G\nkernel = k\n");
	CHECK(cfg.vms[0].valid);
	CHECK_EQ(cfg.vms[0].memory, 3ull << 30);
	parse("[vm a]\ncpus = 0\nmemory = 4096K\nkernel = k\n");
	CHECK_EQ(cfg.vms[0].memory, 4ull << 20);
}

TEST(memory_errors)
{
	check_one_error("[vm b]\ncpus = 1\nmemory = 1M\nkernel = k\n",
			"t.conf:7: memory: 1M is not a multiple of 2M (guest RAM is mapped in 2M pages)\n");
	CHECK(cfg.vms[0].valid);
	check_one_error("[vm b]\ncpus = 1\nmemory = 3M\nkernel = k\n",
			"t.conf:7: memory: 3M is not a multiple of 2M");
	check_one_error("[vm b]\ncpus = 1\nmemory = 512K\nkernel = k\n",
			"t.conf:7: memory: 512K is below the minimum of 1M\n");
	check_one_error("[vm b]\ncpus = 1\nmemory = 0\nkernel = k\n",
			"t.conf:7: memory: 0 is below the minimum of 1M\n");
	check_one_error("[vm b]\ncpus = 1\nmemory = 3074M\nkernel = k\n",
			"t.conf:7: memory: 3074M exceeds the maximum of 3G (guest RAM ends below the PCI hole at 3 GiB)\n");
	check_one_error("[vm b]\ncpus = 1\nmemory = 4G\nkernel = k\n",
			"t.conf:7: memory: 4G exceeds the maximum of 3G");
	check_one_error("[vm b]\ncpus = 1\nmemory = 99999999999G\nkernel = k\n",
			"t.conf:7: memory: 99999999999G exceeds the maximum of 3G");
	check_one_error("[vm b]\ncpus = 1\nmemory = 64MB\nkernel = k\n",
			"t.conf:7: memory: '64MB' is not a size (such as 64M or 1G)\n");
	check_one_error("[vm b]\ncpus = 1\nmemory = -2M\nkernel = k\n",
			"t.conf:7: memory: '-2M' is not a size");
}

TEST(kernel_errors)
{
	char text[256];

	check_one_error("[vm b]\ncpus = 1\nmemory = 2M\nkernel = a b\n",
			"t.conf:8: kernel: 'a b' is not a module name (one word, no quotes)\n");
	check_one_error("[vm b]\ncpus = 1\nmemory = 2M\nkernel = \"k\"\n",
			"t.conf:8: kernel: '\"k\"' is not a module name");
	memset(text, 0, sizeof(text));
	strcpy(text, "[vm b]\ncpus = 1\nmemory = 2M\nkernel = ");
	memset(text + strlen(text), 'k', CONFIG_MODULE_MAX);
	check_one_error(text, "t.conf:8: kernel: module name longer than 63 characters\n");
	text[strlen(text) - 1] = '\0'; /* 63 characters fit */
	parse(text);
	CHECK_EQ(cfg.nerrors, 0);
	CHECK_EQ(strlen(cfg.vms[0].kernel), CONFIG_MODULE_MAX - 1);
}

TEST(cmdline_errors)
{
	char text[512];

	check_one_error("cmdline = \"abc # def\n", "t.conf:5: cmdline: missing closing quote\n");
	check_one_error("cmdline = \"abc\\\"\n", "t.conf:5: cmdline: missing closing quote\n");
	check_one_error("cmdline = \"a\\\n", "t.conf:5: cmdline: missing closing quote\n");
	check_one_error("cmdline = \"a\\nb\"\n",
			"t.conf:5: cmdline: unknown escape '\\n' (only \\\" and \\\\ are known)\n");
	check_one_error("cmdline = \"a\" b\n", "t.conf:5: cmdline: text after the closing quote\n");
	check_one_error("cmdline = a b\n",
			"t.conf:5: cmdline: 'a b' has spaces or quotes; put it in \"...\"\n");
	check_one_error("cmdline = a\"b\"\n", "t.conf:5: cmdline: 'a\"b\"' has spaces or quotes");
	CHECK_STR(cfg.vms[0].cmdline, "");

	strcpy(text, "cmdline = \"");
	memset(text + strlen(text), 'c', CONFIG_CMDLINE_MAX);
	strcpy(text + strlen("cmdline = \"") + CONFIG_CMDLINE_MAX, "\"\n");
	check_one_error(text, "t.conf:5: cmdline: longer than 255 characters\n");
	memset(text, 0, sizeof(text));
	strcpy(text, "cmdline = ");
	memset(text + strlen(text), 'c', CONFIG_CMDLINE_MAX);
	check_one_error(text, "t.conf:5: cmdline: longer than 255 characters\n");
}

TEST(cmdline_limits)
{
	char text[1024];

	/* 255 characters after unescaping fit, though the value is longer. */
	strcpy(text, VM_A "cmdline = \"");
	for (unsigned i = 0; i < 100; i++)
		strcat(text, "\\\\");
	memset(text + strlen(text), 'c', CONFIG_CMDLINE_MAX - 1 - 100);
	strcpy(text + strlen(VM_A "cmdline = \"") + 200 + CONFIG_CMDLINE_MAX - 1 - 100, "\"");
	parse(text);
	CHECK_EQ(cfg.nerrors, 0);
	CHECK_EQ(strlen(cfg.vms[0].cmdline), CONFIG_CMDLINE_MAX - 1);
	CHECK_EQ(cfg.vms[0].cmdline[0], '\\');
	parse(VM_A "cmdline = \"a\tb  c\"\n");
	CHECK_STR(cfg.vms[0].cmdline, "a\tb  c");
	parse(VM_A "cmdline = x\\y#z\n");
	CHECK_STR(cfg.vms[0].cmdline, "x\\y");
}

TEST(enum_errors)
{
	check_one_error("console = vga\n", "t.conf:5: console: 'vga' is not uart or none\n");
	check_one_error("console = UART\n", "t.conf:5: console: 'UART' is not uart or none\n");
	check_one_error("on_crash = reboot\n", "t.conf:5: on_crash: 'reboot' is not stop or restart\n");
	check_one_error("on_poweroff = halt now\n",
			"t.conf:5: on_poweroff: 'halt now' is not stop or restart\n");
}

TEST(debug_exit_errors)
{
	check_one_error("virtio_rng = on\n", "t.conf:5: virtio_rng: 'on' is not yes or no\n");
	check_one_error("virtio_rng = YES\n", "t.conf:5: virtio_rng: 'YES' is not yes or no\n");
	check_one_error("virtio_rng = yes\nvirtio_rng = no\n",
			"t.conf:6: virtio_rng: repeated (first at line 5)\n");
	check_one_error("virtio_console = 1\n",
			"t.conf:5: virtio_console: '1' is not yes or no\n");
	check_one_error("debug_exit = 0\n", "t.conf:5: debug_exit: '0' is not an I/O port (1-0xffff)\n");
	check_one_error("debug_exit = 0x10000\n",
			"t.conf:5: debug_exit: '0x10000' is not an I/O port (1-0xffff)\n");
	check_one_error("debug_exit = port\n", "t.conf:5: debug_exit: 'port' is not an I/O port");
	check_one_error("debug_exit = 0x3f8\n",
			"t.conf:5: debug_exit: ports 0x3f8-0x3fb overlap COM1 (0x3f8-0x3ff), the UART of console = uart\n");
	check_one_error("debug_exit = 0x3ff\nconsole = uart\n",
			"t.conf:5: debug_exit: ports 0x3ff-0x402 overlap COM1");
	CHECK_EQ(cfg.vms[0].debug_exit_port, 0x3ff);
	/* Four ports: the last three reach into COM1. */
	check_one_error("debug_exit = 0x3f7\n", "t.conf:5: debug_exit: ports 0x3f7-0x3fa overlap COM1");
	parse(VM_A "debug_exit = 0x3f4\n");
	CHECK(cfg.vms[0].valid);
	check_one_error("debug_exit = 0x3e\n",
			"t.conf:5: debug_exit: ports 0x3e-0x41 overlap the PIT (0x40-0x43)\n");
	check_one_error("debug_exit = 0x61\n", "t.conf:5: debug_exit: ports 0x61-0x64 overlap port B");
	check_one_error("debug_exit = 0x71\n", "overlap the RTC (0x70-0x71)");
	check_one_error("debug_exit = 0x608\n", "overlap the ACPI PM registers (0x600-0x60b)");
	check_one_error("debug_exit = 0xcfc\n", "overlap PCI configuration (0xcf8-0xcff)");
	check_one_error("debug_exit = 0xcf5\n", "ports 0xcf5-0xcf8 overlap PCI configuration");
	parse(VM_A "debug_exit = 0xcf4\n");
	CHECK(cfg.vms[0].valid);
	parse(VM_A "debug_exit = 1024\n");
	CHECK_EQ(cfg.vms[0].debug_exit_port, 0x400);
	parse(VM_A "debug_exit = 0xffff\n");
	CHECK(cfg.vms[0].valid);
	parse(VM_A "debug_exit = 0x3fc\nconsole = none\n");
	CHECK(cfg.vms[0].valid);
	CHECK_EQ(cfg.nerrors, 0);
}

/* Mistakes in one VM leave the others as they would be on their own. */
TEST(valid_vms_survive)
{
	const struct vm_config *vm;

	parse("[vm ok1]\ncpus = 0\nmemory = 2M\nkernel = one\n"
	      "[vm bad]\ncpus = 1\nmemory = 3M\nkernel = two\nfoo = bar\n"
	      "[vm ok2]\ncpus = 2\nmemory = 4M\nkernel = three\ncmdline = \"x y\"\n");
	CHECK_EQ(cfg.nvms, 3);
	CHECK_EQ(cfg.nerrors, 2);
	vm = vm_named("ok1");
	CHECK(vm && vm->valid && vm->memory == 2ull << 20);
	vm = vm_named("bad");
	CHECK(vm && !vm->valid && vm->cpu_mask == 0x2);
	vm = vm_named("ok2");
	CHECK(vm && vm->valid && vm->memory == 4ull << 20);
	CHECK(vm && strcmp(vm->kernel, "three") == 0 && strcmp(vm->cmdline, "x y") == 0);
	CHECK(log_has("t.conf:7: memory: 3M is not a multiple of 2M"));
	CHECK(log_has("t.conf:9: unknown key 'foo'\n"));
}

/* Every message also counts; a later run starts from zero. */
TEST(errors_counted)
{
	parse("x\ny\n[vm a]\nz\n");
	CHECK_EQ(cfg.nerrors, 6);
	parse(VM_A);
	CHECK_EQ(cfg.nerrors, 0);
}

/* The caller's own checks report through config_error. */
TEST(config_error_marks_vm)
{
	parse(VM_A);
	config_error("vms.conf", 3, &cfg.vms[0], "memory: %s exceeds the %s free", "64M", "32M");
	CHECK(!cfg.vms[0].valid);
	CHECK_STR(log_text(), "vms.conf:3: memory: 64M exceeds the 32M free\n");
	config_error("vms.conf", 9, NULL, "no VM can run");
	CHECK(log_has("vms.conf:9: no VM can run\n"));
}

TEST(disk_values)
{
	const struct vm_config *a;

	parse(VM_A "disk = root.img\ndisk = data.img, readonly\ndisk=empty:64M\n"
	      "disk =  empty:1536 ,  readonly  \n");
	CHECK_EQ(cfg.nerrors, 0);
	a = vm_named("a");
	CHECK(a && a->valid);
	if (!a)
		return;
	CHECK_EQ(a->ndisks, 4);
	CHECK_STR(a->disks[0].module, "root.img");
	CHECK(!a->disks[0].readonly);
	CHECK_EQ(a->disks[0].size, 0);
	CHECK_EQ(a->disks[0].line, 5);
	CHECK_STR(a->disks[1].module, "data.img");
	CHECK(a->disks[1].readonly);
	CHECK_STR(a->disks[2].module, "");
	CHECK_EQ(a->disks[2].size, 64ull << 20);
	CHECK(!a->disks[2].readonly);
	CHECK_EQ(a->disks[3].size, 1536);
	CHECK(a->disks[3].readonly);
	CHECK_EQ(a->disks[3].line, 8);
	parse(VM_A);
	CHECK_EQ(cfg.vms[0].ndisks, 0);
}

TEST(disk_errors)
{
	check_one_error("disk = empty:1000\n",
			"t.conf:5: disk: empty:1000 is not a multiple of 512 bytes\n");
	check_one_error("disk = empty:0\n",
			"t.conf:5: disk: 'empty:0' is not a size (such as empty:64M)\n");
	check_one_error("disk = empty:\n",
			"t.conf:5: disk: 'empty:' is not a size (such as empty:64M)\n");
	check_one_error("disk = empty:12Q\n",
			"t.conf:5: disk: 'empty:12Q' is not a size (such as empty:64M)\n");
	check_one_error("disk = empty:65G\n",
			"t.conf:5: disk: empty:65G exceeds the maximum of 64G\n");
	check_one_error("disk = empty:99999999999999999999\n",
			"t.conf:5: disk: empty:99999999999999999999 exceeds the maximum of 64G\n");
	check_one_error("disk = d.img, rw\n",
			"t.conf:5: disk: 'rw' is not an option (only readonly is)\n");
	check_one_error("disk = d.img, readonly, readonly\n",
			"t.conf:5: disk: 'readonly, readonly' is not an option (only readonly is)\n");
	check_one_error("disk = , readonly\n",
			"t.conf:5: disk: missing module name or empty:SIZE\n");
	check_one_error("disk = two words\n",
			"t.conf:5: disk: 'two words' is not a module name (one word, no quotes)\n");
	check_one_error("disk = a\ndisk = b\ndisk = c\ndisk = empty:1M\ndisk = e\n",
			"t.conf:9: disk: more than 4 disks\n");
	check_one_error("disk = d.img\ndisk = d.img\n",
			"t.conf:6: disk: module 'd.img' is already a disk of VM 'a' (line 5)\n");
	check_one_error("disk = k.elf\n", "t.conf:5: disk: module 'k.elf' is the kernel of VM 'a' (line 4)\n");
	check_one_error("initrd = rd.gz\ndisk = rd.gz\n",
			"t.conf:6: disk: module 'rd.gz' is the initrd of VM 'a' (line 5)\n");
	check_one_error("disk = t.conf\n", "t.conf:5: disk: module 't.conf' is this configuration\n");
}

/* The first VM to name a module as its disk keeps it, even a broken one. */
TEST(disk_module_one_vm_only)
{
	parse(VM_A "disk = d.img\n" VM("b", "1") "disk = empty:1M\ndisk = d.img\n"
	      VM("c", "2") "disk = e.img\nmemory = 2M\n" VM("d", "3") "disk = e.img\n"
	      VM("e", "4") "kernel2 = x\n" VM("f", "5") "disk = k2.elf\n" "[vm g]\ncpus = 6\nmemory = 2M\nkernel = k2.elf\n");
	CHECK(vm_named("a")->valid);
	CHECK(!vm_named("b")->valid);
	CHECK(log_has("t.conf:11: disk: module 'd.img' is already a disk of VM 'a' (line 5)\n"));
	CHECK(!vm_named("c")->valid);
	CHECK(!vm_named("d")->valid);
	CHECK(log_has("t.conf:22: disk: module 'e.img' is already a disk of VM 'c' (line 16)\n"));
	/* A later VM's kernel counts too: the disk would be reloaded corrupt. */
	CHECK(!vm_named("f")->valid);
	CHECK(log_has("t.conf:32: disk: module 'k2.elf' is the kernel of VM 'g' (line 36)\n"));
}

int main(void)
{
	RUN(full_file);
	RUN(defaults);
	RUN(empty_and_comment_only);
	RUN(length_bounds_text);
	RUN(unknown_key);
	RUN(repeated_key);
	RUN(key_outside_section);
	RUN(not_a_key_line);
	RUN(missing_value);
	RUN(malformed_header);
	RUN(longest_name);
	RUN(duplicate_name);
	RUN(too_many_vms);
	RUN(missing_required_keys);
	RUN(bad_required_not_missing);
	RUN(cpu_conflict);
	RUN(cpu_conflict_with_invalid_vm);
	RUN(line_too_long);
	RUN(non_printable_bytes);
	RUN(junk_outside_section);
	RUN(cpus_values);
	RUN(cpus_errors);
	RUN(memory_values);
	RUN(memory_errors);
	RUN(kernel_errors);
	RUN(cmdline_errors);
	RUN(cmdline_limits);
	RUN(enum_errors);
	RUN(debug_exit_errors);
	RUN(valid_vms_survive);
	RUN(errors_counted);
	RUN(config_error_marks_vm);
	RUN(disk_values);
	RUN(disk_errors);
	RUN(disk_module_one_vm_only);
	return unit_done();
}
