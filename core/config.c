/*
 * The VM configuration parser (format in core/config.h). The text comes
 * from a boot module, so it is hostile input: it is not NUL-terminated,
 * may hold any byte, and every line is checked before anything in it is
 * used or printed. Each mistake is reported once as "FILE:LINE: message"
 * and marks only the VM it belongs to as invalid; parsing goes on so the
 * user sees every mistake in one boot.
 *
 * A line is one of:
 *     blank or a comment        '#' to the end of the line, outside quotes
 *     [vm NAME]                 starts the section of a new VM
 *     key = value               inside a section; see config_keys[]
 * A line ends at LF; a CR before the LF is dropped (files edited on
 * Windows). Any other control character, and any byte outside ASCII,
 * makes the whole line a mistake: printing it could drive the console.
 *
 * Checks that need the whole section (required keys, the debug-exit
 * port against the UART, CPUs against earlier VMs) run when the section
 * ends, at the next header or the end of the text.
 */
#include <stdarg.h>

#include "core/cmdline.h"
#include "core/config.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"

/* Longer lines are mistakes; none of the values needs nearly as much. */
#define CONFIG_LINE_MAX 512
/* Values quoted in messages are cut to this many characters. */
#define CONFIG_SHOW_MAX 64
/* The message part of a report, after "FILE:LINE: ". */
#define CONFIG_MSG_MAX 256

/*
 * Guest RAM is mapped with 2 MiB EPT pages (SDM Vol. 3C, "EPT Translation
 * Mechanism"), so its size must be a whole number of them.
 */
#define CONFIG_MEM_ALIGN MIB(2)
#define CONFIG_MEM_MIN MIB(1)
/* Guest RAM is one range from 0 and must end below the 32-bit PCI hole
 * (vdev/vpci.h), the IOAPIC and the local APIC: RAM above 4 GiB is not
 * laid out yet. */
#define CONFIG_MEM_MAX GIB(3)

/* An empty disk: whole 512-byte sectors, at most as much as guest RAM. */
#define CONFIG_DISK_SECTOR 512u
#define CONFIG_DISK_MAX GIB(64)
#define DISK_EMPTY_PREFIX "empty:"

/* The virtual 16550 of console = uart sits at COM1's ports. */
#define COM1_BASE 0x3f8u
#define COM1_END 0x3ffu

/* A piece of the text: not NUL-terminated. */
struct span {
	const char *s;
	size_t len;
};

/* For "%.*s": a value shown in a message, cut to CONFIG_SHOW_MAX. */
#define SPAN_ARG(v) (int)MIN((v).len, (size_t)CONFIG_SHOW_MAX), (v).s

enum config_key_id {
	KEY_CPUS,
	KEY_MEMORY,
	KEY_KERNEL,
	KEY_CMDLINE,
	KEY_CONSOLE,
	KEY_ON_CRASH,
	KEY_ON_POWEROFF,
	KEY_ON_REBOOT,
	KEY_DEBUG_EXIT,
	KEY_INITRD,
	KEY_VIRTIO_RNG,
	KEY_VIRTIO_CONSOLE,
	KEY_DISK,
	KEY_COUNT,
};

enum section_kind {
	SECTION_NONE,  /* before the first header: keys are mistakes */
	SECTION_VM,    /* keys go to parser.vm, an entry of cfg->vms */
	SECTION_CHECK, /* after a bad header: keys are checked, then dropped */
};

struct parser {
	const char *file;
	struct config *cfg;
	unsigned line;                  /* number of the line being parsed */
	enum section_kind kind;
	struct vm_config *vm;           /* the section's VM, NULL if none */
	struct vm_config scratch;       /* the VM of a SECTION_CHECK section */
	unsigned key_line[KEY_COUNT];   /* first line of each key, 0 = absent */
	bool stop;                      /* too many VMs: ignore the rest */
};

struct config_key {
	const char *name;
	bool required;
	/* Check @val (trimmed, not empty) and store it; report any mistake. */
	int (*parse)(struct parser *p, struct vm_config *vm, struct span val);
};

/* ---- Reporting ----------------------------------------------------------- */

static void config_verror(const char *file, unsigned line, struct vm_config *vm,
			  const char *fmt, va_list ap)
{
	char msg[CONFIG_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_err("%s:%u: %s\n", file ? file : "config", line, msg);
	if (vm)
		vm->valid = false;
}

void config_error(const char *file, unsigned line, struct vm_config *vm,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verror(file, line, vm, fmt, ap);
	va_end(ap);
}

/* A parser mistake at @line against @vm; counted in cfg->nerrors. */
static void __printf(4, 5) parser_error_at(struct parser *p, unsigned line,
					   struct vm_config *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verror(p->file, line, vm, fmt, ap);
	va_end(ap);
	p->cfg->nerrors++;
}

/* A mistake on the current line, against the current section's VM. */
static void __printf(2, 3) parser_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verror(p->file, p->line, p->vm, fmt, ap);
	va_end(ap);
	p->cfg->nerrors++;
}

/* ---- Spans --------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Printable ASCII, or a tab; see the file comment. */
static bool is_text_char(char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static struct span span_sub(struct span v, size_t from, size_t to)
{
	return (struct span){ v.s + from, to - from };
}

static struct span span_trim(struct span v)
{
	while (v.len && is_blank(v.s[0])) {
		v.s++;
		v.len--;
	}
	while (v.len && is_blank(v.s[v.len - 1]))
		v.len--;
	return v;
}

/* Index of the first @c at or after @from, or v.len if there is none. */
static size_t span_find(struct span v, char c, size_t from)
{
	while (from < v.len && v.s[from] != c)
		from++;
	return from;
}

static bool span_is(struct span v, const char *word)
{
	return cmdline_val_is(v.s, v.len, word);
}

static int span_to_u64(struct span v, uint64_t *out)
{
	return cmdline_parse_u64(v.s, v.len, out);
}

/* ---- Key values ---------------------------------------------------------- */

/* One CPU number of a cpus list; @item is the whole entry, for messages. */
static int cpu_index_parse(struct parser *p, struct span num, struct span item,
			   unsigned *out)
{
	uint64_t v;

	if (span_to_u64(span_trim(num), &v)) {
		parser_error(p, "cpus: '%.*s' is not a CPU number or range",
			     SPAN_ARG(item));
		return -EINVAL;
	}
	if (v >= CONFIG_MAX_PCPUS) {
		parser_error(p, "cpus: CPU %llu is out of range (0-%u)",
			     (unsigned long long)v, CONFIG_MAX_PCPUS - 1);
		return -ERANGE;
	}
	*out = (unsigned)v;
	return 0;
}

/* Adds CPUs [lo, hi] to @mask; listing one twice is a mistake. */
static int cpu_range_add(struct parser *p, unsigned lo, unsigned hi, uint64_t *mask)
{
	for (unsigned cpu = lo; cpu <= hi; cpu++) {
		if (*mask & (1ull << cpu)) {
			parser_error(p, "cpus: CPU %u is listed twice", cpu);
			return -EINVAL;
		}
		*mask |= 1ull << cpu;
	}
	return 0;
}

/* One entry of a cpus list: "N" or "LO-HI". */
static int cpus_item_parse(struct parser *p, struct span item, uint64_t *mask)
{
	size_t dash = span_find(item, '-', 0);
	unsigned lo, hi;

	if (item.len == 0) {
		parser_error(p, "cpus: empty entry in the list");
		return -EINVAL;
	}
	if (cpu_index_parse(p, span_sub(item, 0, dash), item, &lo))
		return -EINVAL;
	hi = lo;
	if (dash < item.len &&
	    cpu_index_parse(p, span_sub(item, dash + 1, item.len), item, &hi))
		return -EINVAL;
	if (hi < lo) {
		parser_error(p, "cpus: range '%.*s' ends before it starts", SPAN_ARG(item));
		return -EINVAL;
	}
	return cpu_range_add(p, lo, hi, mask);
}

static int key_cpus(struct parser *p, struct vm_config *vm, struct span val)
{
	uint64_t mask = 0;
	size_t pos = 0;

	do {
		size_t end = span_find(val, ',', pos);

		if (cpus_item_parse(p, span_trim(span_sub(val, pos, end)), &mask))
			return -EINVAL;
		pos = end + 1;
	} while (pos <= val.len);
	vm->cpu_mask = mask;
	vm->cpus_line = p->line;
	return 0;
}

static int key_memory(struct parser *p, struct vm_config *vm, struct span val)
{
	uint64_t v;
	int err = span_to_u64(val, &v);

	if (err == -ERANGE || (!err && v > CONFIG_MEM_MAX)) {
		parser_error(p, "memory: %.*s exceeds the maximum of 3G (guest RAM ends below the PCI hole at 3 GiB)",
			     SPAN_ARG(val));
		return -ERANGE;
	}
	if (err) {
		parser_error(p, "memory: '%.*s' is not a size (such as 64M or 1G)",
			     SPAN_ARG(val));
		return -EINVAL;
	}
	if (v < CONFIG_MEM_MIN) {
		parser_error(p, "memory: %.*s is below the minimum of 1M", SPAN_ARG(val));
		return -ERANGE;
	}
	if (!IS_ALIGNED(v, CONFIG_MEM_ALIGN)) {
		parser_error(p, "memory: %.*s is not a multiple of 2M (guest RAM is mapped in 2M pages)",
			     SPAN_ARG(val));
		return -EINVAL;
	}
	vm->memory = v;
	vm->memory_line = p->line;
	return 0;
}

/* One word of printable characters, no quotes: a kernel or bare cmdline. */
static bool is_word(struct span v)
{
	for (size_t i = 0; i < v.len; i++) {
		if (is_blank(v.s[i]) || v.s[i] == '"')
			return false;
	}
	return true;
}

/* Copies @v into @buf as a string; false if it does not fit. */
static bool span_copy(struct span v, char *buf, size_t size)
{
	if (v.len >= size)
		return false;
	memcpy(buf, v.s, v.len);
	buf[v.len] = '\0';
	return true;
}

/* A module name (kernel, initrd): one word, no quotes. */
static int module_name_parse(struct parser *p, const char *key, struct span val, char *out)
{
	if (!is_word(val)) {
		parser_error(p, "%s: '%.*s' is not a module name (one word, no quotes)", key,
			     SPAN_ARG(val));
		return -EINVAL;
	}
	if (!span_copy(val, out, CONFIG_MODULE_MAX)) {
		parser_error(p, "%s: module name longer than %u characters", key,
			     CONFIG_MODULE_MAX - 1);
		return -E2BIG;
	}
	return 0;
}

static int key_kernel(struct parser *p, struct vm_config *vm, struct span val)
{
	vm->kernel_line = p->line;
	return module_name_parse(p, "kernel", val, vm->kernel);
}

static int key_initrd(struct parser *p, struct vm_config *vm, struct span val)
{
	vm->initrd_line = p->line;
	return module_name_parse(p, "initrd", val, vm->initrd);
}

/*
 * The character at @val.s[*i] inside quotes, with \" and \\ unescaped;
 * advances @*i past it. Returns it, or -1 after reporting a bad escape.
 */
static int quoted_char(struct parser *p, struct span val, size_t *i)
{
	char c = val.s[(*i)++];

	if (c != '\\')
		return (unsigned char)c;
	if (*i == val.len)
		return '\\'; /* the caller reports the missing closing quote */
	c = val.s[(*i)++];
	if (c == '"' || c == '\\')
		return (unsigned char)c;
	parser_error(p, "cmdline: unknown escape '\\%c' (only \\\" and \\\\ are known)", c);
	return -1;
}

/* A quoted cmdline: @val starts with '"'. Unescapes it into @buf. */
static int quoted_parse(struct parser *p, struct span val, char *buf, size_t size)
{
	size_t i = 1, n = 0;

	while (i < val.len && val.s[i] != '"') {
		int c = quoted_char(p, val, &i);

		if (c < 0)
			return -EINVAL;
		if (n + 1 == size) {
			parser_error(p, "cmdline: longer than %zu characters", size - 1);
			return -E2BIG;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (i == val.len) {
		parser_error(p, "cmdline: missing closing quote");
		return -EINVAL;
	}
	if (i + 1 != val.len) {
		parser_error(p, "cmdline: text after the closing quote");
		return -EINVAL;
	}
	return 0;
}

static int bare_parse(struct parser *p, struct span val, char *buf, size_t size)
{
	if (!is_word(val)) {
		parser_error(p, "cmdline: '%.*s' has spaces or quotes; put it in \"...\"",
			     SPAN_ARG(val));
		return -EINVAL;
	}
	if (!span_copy(val, buf, size)) {
		parser_error(p, "cmdline: longer than %zu characters", size - 1);
		return -E2BIG;
	}
	return 0;
}

static int key_cmdline(struct parser *p, struct vm_config *vm, struct span val)
{
	char buf[CONFIG_CMDLINE_MAX];
	int err;

	if (val.s[0] == '"')
		err = quoted_parse(p, val, buf, sizeof(buf));
	else
		err = bare_parse(p, val, buf, sizeof(buf));
	if (!err)
		memcpy(vm->cmdline, buf, sizeof(buf));
	return err;
}

static int key_console(struct parser *p, struct vm_config *vm, struct span val)
{
	if (!span_is(val, "uart") && !span_is(val, "none")) {
		parser_error(p, "console: '%.*s' is not uart or none", SPAN_ARG(val));
		return -EINVAL;
	}
	vm->console_uart = span_is(val, "uart");
	return 0;
}

static int action_parse(struct parser *p, const char *key, struct span val,
			enum vm_action *out)
{
	if (span_is(val, "stop")) {
		*out = VM_ACTION_STOP;
		return 0;
	}
	if (span_is(val, "restart")) {
		*out = VM_ACTION_RESTART;
		return 0;
	}
	parser_error(p, "%s: '%.*s' is not stop or restart", key, SPAN_ARG(val));
	return -EINVAL;
}

static int key_on_crash(struct parser *p, struct vm_config *vm, struct span val)
{
	return action_parse(p, "on_crash", val, &vm->on_crash);
}

static int key_on_poweroff(struct parser *p, struct vm_config *vm, struct span val)
{
	return action_parse(p, "on_poweroff", val, &vm->on_poweroff);
}

static int key_on_reboot(struct parser *p, struct vm_config *vm, struct span val)
{
	return action_parse(p, "on_reboot", val, &vm->on_reboot);
}

static int key_debug_exit(struct parser *p, struct vm_config *vm, struct span val)
{
	uint64_t v;

	if (span_to_u64(val, &v) || v == 0 || v > 0xffff) {
		parser_error(p, "debug_exit: '%.*s' is not an I/O port (1-0xffff)",
			     SPAN_ARG(val));
		return -EINVAL;
	}
	vm->debug_exit_port = (uint16_t)v;
	return 0;
}

static int key_virtio_rng(struct parser *p, struct vm_config *vm, struct span val)
{
	if (!span_is(val, "yes") && !span_is(val, "no")) {
		parser_error(p, "virtio_rng: '%.*s' is not yes or no", SPAN_ARG(val));
		return -EINVAL;
	}
	vm->virtio_rng = span_is(val, "yes");
	return 0;
}

static int key_virtio_console(struct parser *p, struct vm_config *vm, struct span val)
{
	if (!span_is(val, "yes") && !span_is(val, "no")) {
		parser_error(p, "virtio_console: '%.*s' is not yes or no", SPAN_ARG(val));
		return -EINVAL;
	}
	vm->virtio_console = span_is(val, "yes");
	return 0;
}

/* "empty:SIZE": a zeroed disk of SIZE bytes. */
static int disk_empty_parse(struct parser *p, struct span size, struct disk_config *d)
{
	uint64_t v;
	int err = span_to_u64(size, &v);

	if (err == -ERANGE || (!err && v > CONFIG_DISK_MAX)) {
		parser_error(p, "disk: empty:%.*s exceeds the maximum of 64G", SPAN_ARG(size));
		return -ERANGE;
	}
	if (err || v == 0) {
		parser_error(p, "disk: 'empty:%.*s' is not a size (such as empty:64M)",
			     SPAN_ARG(size));
		return -EINVAL;
	}
	if (!IS_ALIGNED(v, CONFIG_DISK_SECTOR)) {
		parser_error(p, "disk: empty:%.*s is not a multiple of 512 bytes", SPAN_ARG(size));
		return -EINVAL;
	}
	d->size = v;
	return 0;
}

/* NAME or empty:SIZE, then optionally ", readonly". */
static int key_disk(struct parser *p, struct vm_config *vm, struct span val)
{
	size_t comma = span_find(val, ',', 0);
	struct span what = span_trim(span_sub(val, 0, comma));
	size_t plen = strlen(DISK_EMPTY_PREFIX);
	struct disk_config d = { .line = p->line };
	int err;

	if (vm->ndisks == CONFIG_MAX_DISKS) {
		parser_error(p, "disk: more than %u disks", CONFIG_MAX_DISKS);
		return -E2BIG;
	}
	if (comma < val.len) {
		struct span opt = span_trim(span_sub(val, comma + 1, val.len));

		if (!span_is(opt, "readonly")) {
			parser_error(p, "disk: '%.*s' is not an option (only readonly is)",
				     SPAN_ARG(opt));
			return -EINVAL;
		}
		d.readonly = true;
	}
	if (what.len == 0) {
		parser_error(p, "disk: missing module name or empty:SIZE");
		return -EINVAL;
	}
	if (what.len >= plen && !memcmp(what.s, DISK_EMPTY_PREFIX, plen))
		err = disk_empty_parse(p, span_sub(what, plen, what.len), &d);
	else
		err = module_name_parse(p, "disk", what, d.module);
	if (err)
		return err;
	vm->disks[vm->ndisks++] = d;
	return 0;
}

static const struct config_key config_keys[KEY_COUNT] = {
	[KEY_CPUS] = { "cpus", true, key_cpus },
	[KEY_MEMORY] = { "memory", true, key_memory },
	[KEY_KERNEL] = { "kernel", true, key_kernel },
	[KEY_CMDLINE] = { "cmdline", false, key_cmdline },
	[KEY_CONSOLE] = { "console", false, key_console },
	[KEY_ON_CRASH] = { "on_crash", false, key_on_crash },
	[KEY_ON_POWEROFF] = { "on_poweroff", false, key_on_poweroff },
	[KEY_ON_REBOOT] = { "on_reboot", false, key_on_reboot },
	[KEY_DEBUG_EXIT] = { "debug_exit", false, key_debug_exit },
	[KEY_INITRD] = { "initrd", false, key_initrd },
	[KEY_VIRTIO_RNG] = { "virtio_rng", false, key_virtio_rng },
	[KEY_VIRTIO_CONSOLE] = { "virtio_console", false, key_virtio_console },
	[KEY_DISK] = { "disk", false, key_disk },
};

/* ---- Sections ------------------------------------------------------------ */

static void vm_init(struct vm_config *vm, struct span name, unsigned line)
{
	memset(vm, 0, sizeof(*vm));
	span_copy(name, vm->name, sizeof(vm->name));
	vm->line = line;
	vm->valid = true;
	vm->console_uart = true;
	vm->on_crash = VM_ACTION_STOP;
	vm->on_poweroff = VM_ACTION_STOP;
	vm->on_reboot = VM_ACTION_RESTART;
}

static void section_begin(struct parser *p, enum section_kind kind, struct vm_config *vm)
{
	p->kind = kind;
	p->vm = vm;
	memset(p->key_line, 0, sizeof(p->key_line));
}

static void section_check_required(struct parser *p)
{
	for (unsigned k = 0; k < KEY_COUNT; k++) {
		if (config_keys[k].required && !p->key_line[k])
			parser_error_at(p, p->vm->line, p->vm,
					"[vm %s]: missing required key '%s'",
					p->vm->name, config_keys[k].name);
	}
}

/*
 * The ports every VM's platform has (vdev/pit.c, rtc.c, vpci.c,
 * acpi_pm.c); the debug-exit device takes four ports from its own.
 */
static const struct platform_ports {
	uint16_t first, last;
	const char *what;
} platform_ports[] = {
	{ 0x40, 0x43, "the PIT" },
	{ 0x61, 0x61, "port B (PIT gate and speaker)" },
	{ 0x70, 0x71, "the RTC" },
	{ 0x600, 0x60b, "the ACPI PM registers" },
	{ 0xcf8, 0xcff, "PCI configuration" },
};

#define DEBUG_EXIT_PORTS 4

/* The debug-exit ports must not sit on the VM's own devices. */
static void section_check_debug_exit(struct parser *p)
{
	struct vm_config *vm = p->vm;
	unsigned first = vm->debug_exit_port, last = first + DEBUG_EXIT_PORTS - 1;

	if (!first)
		return;
	if (last > 0xffff)
		last = 0xffff;
	if (vm->console_uart && first <= COM1_END && last >= COM1_BASE) {
		parser_error_at(p, p->key_line[KEY_DEBUG_EXIT], vm,
				"debug_exit: ports 0x%x-0x%x overlap COM1 (0x3f8-0x3ff), the UART of console = uart",
				first, last);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(platform_ports); i++) {
		const struct platform_ports *pp = &platform_ports[i];

		if (first <= pp->last && last >= pp->first) {
			parser_error_at(p, p->key_line[KEY_DEBUG_EXIT], vm,
					"debug_exit: ports 0x%x-0x%x overlap %s (0x%x-0x%x)",
					first, last, pp->what, pp->first, pp->last);
			return;
		}
	}
}

/*
 * A CPU runs one VM. The earlier VM keeps a CPU both claim, even if it
 * has mistakes of its own, so the outcome does not depend on them.
 */
static void section_check_cpus(struct parser *p)
{
	struct vm_config *vm = p->vm;

	for (struct vm_config *o = p->cfg->vms; o < vm; o++) {
		uint64_t both = vm->cpu_mask & o->cpu_mask;

		if (both)
			parser_error_at(p, vm->cpus_line, vm,
					"cpus: CPU %d is already used by VM '%s' (line %u)",
					__builtin_ctzll(both), o->name, o->line);
	}
}

static void section_end(struct parser *p)
{
	if (p->kind == SECTION_VM) {
		section_check_required(p);
		section_check_debug_exit(p);
		section_check_cpus(p);
	}
	section_begin(p, SECTION_NONE, NULL);
}

static struct vm_config *vm_find(struct config *cfg, struct span name)
{
	for (unsigned i = 0; i < cfg->nvms; i++) {
		if (span_is(name, cfg->vms[i].name))
			return &cfg->vms[i];
	}
	return NULL;
}

static void vm_add(struct parser *p, struct span name)
{
	struct vm_config *first = vm_find(p->cfg, name);
	struct vm_config *vm = &p->cfg->vms[p->cfg->nvms++];

	vm_init(vm, name, p->line);
	section_begin(p, SECTION_VM, vm);
	if (first)
		parser_error(p, "duplicate VM name '%s' (first at line %u)",
			     vm->name, first->line);
}

static bool is_vm_name(struct span name)
{
	if (name.len == 0 || name.len >= CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < name.len; i++) {
		if (!is_name_char(name.s[i]))
			return false;
	}
	return true;
}

/* "[vm NAME]" with optional blanks inside the brackets; false if not. */
static bool header_split(struct span line, struct span *name)
{
	struct span in;

	if (line.len < 2 || line.s[line.len - 1] != ']')
		return false;
	in = span_trim(span_sub(line, 1, line.len - 1));
	if (in.len < 3 || in.s[0] != 'v' || in.s[1] != 'm' || !is_blank(in.s[2]))
		return false;
	*name = span_trim(span_sub(in, 2, in.len));
	return true;
}

/* A section whose header is wrong: its keys are checked, then dropped. */
static void section_begin_check(struct parser *p)
{
	vm_init(&p->scratch, (struct span){ "", 0 }, p->line);
	section_begin(p, SECTION_CHECK, &p->scratch);
}

static void header_process(struct parser *p, struct span line)
{
	struct span name;

	section_end(p);
	if (!header_split(line, &name)) {
		parser_error(p, "malformed section header '%.*s': expected [vm NAME]",
			     SPAN_ARG(line));
		section_begin_check(p);
	} else if (!is_vm_name(name)) {
		parser_error(p, "invalid VM name '%.*s': 1 to %u characters of A-Z a-z 0-9 _ -",
			     SPAN_ARG(name), CONFIG_NAME_MAX - 1);
		section_begin_check(p);
	} else if (p->cfg->nvms == CONFIG_MAX_VMS) {
		parser_error(p, "too many VMs (at most %u): [vm %.*s] and the rest of the file are ignored",
			     CONFIG_MAX_VMS, SPAN_ARG(name));
		p->stop = true;
	} else {
		vm_add(p, name);
	}
}

/* ---- Lines --------------------------------------------------------------- */

static const struct config_key *key_find(struct span name)
{
	for (unsigned k = 0; k < KEY_COUNT; k++) {
		if (span_is(name, config_keys[k].name))
			return &config_keys[k];
	}
	return NULL;
}

/* "key = value": false if the line has another shape. */
static bool key_split(struct span line, struct span *key, struct span *val)
{
	size_t i = 0;

	while (i < line.len && is_key_char(line.s[i]))
		i++;
	*key = span_sub(line, 0, i);
	while (i < line.len && is_blank(line.s[i]))
		i++;
	if (key->len == 0 || i == line.len || line.s[i] != '=')
		return false;
	*val = span_trim(span_sub(line, i + 1, line.len));
	return true;
}

static void key_process(struct parser *p, struct span line)
{
	const struct config_key *k;
	struct span key, val;
	unsigned *first;

	if (!key_split(line, &key, &val)) {
		parser_error(p, "expected 'key = value' or '[vm NAME]', not '%.*s'",
			     SPAN_ARG(line));
		return;
	}
	if (p->kind == SECTION_NONE) {
		parser_error(p, "key '%.*s' outside a [vm NAME] section", SPAN_ARG(key));
		return;
	}
	k = key_find(key);
	if (!k) {
		parser_error(p, "unknown key '%.*s'", SPAN_ARG(key));
		return;
	}
	first = &p->key_line[k - config_keys];
	/* disk repeats: one line per disk. */
	if (*first && k != &config_keys[KEY_DISK]) {
		parser_error(p, "%s: repeated (first at line %u)", k->name, *first);
		return;
	}
	if (!*first)
		*first = p->line;
	if (val.len == 0)
		parser_error(p, "%s: missing value", k->name);
	else
		k->parse(p, p->vm, val);
}

/* The line up to any '#' outside quotes; \" inside quotes is no end. */
static struct span line_strip_comment(struct span line)
{
	bool quoted = false;

	for (size_t i = 0; i < line.len; i++) {
		char c = line.s[i];

		if (quoted && c == '\\')
			i++;
		else if (c == '"')
			quoted = !quoted;
		else if (c == '#' && !quoted)
			return span_sub(line, 0, i);
	}
	return line;
}

/* Rejects lines too long or with bytes that are not text. */
static bool line_check(struct parser *p, struct span line)
{
	if (line.len > CONFIG_LINE_MAX) {
		parser_error(p, "line longer than %u characters; ignored", CONFIG_LINE_MAX);
		return false;
	}
	for (size_t i = 0; i < line.len; i++) {
		if (!is_text_char(line.s[i])) {
			parser_error(p, "byte 0x%02x at column %zu is not printable text; line ignored",
				     (unsigned char)line.s[i], i + 1);
			return false;
		}
	}
	return true;
}

static void line_process(struct parser *p, struct span line)
{
	if (!line_check(p, line))
		return;
	line = span_trim(line_strip_comment(line));
	if (line.len == 0)
		return;
	if (line.s[0] == '[')
		header_process(p, line);
	else
		key_process(p, line);
}

/* The line at @*pos without its LF or CR LF; advances @*pos past it. */
static struct span line_next(struct span text, size_t *pos)
{
	size_t end = span_find(text, '\n', *pos);
	struct span line = span_sub(text, *pos, end);

	*pos = end + 1;
	if (line.len && line.s[line.len - 1] == '\r')
		line.len--;
	return line;
}

/* ---- Disks across VMs ------------------------------------------------------ */

/*
 * The earlier user of a module as a disk keeps it, as with CPUs, even if
 * its VM has mistakes of its own, so the outcome does not depend on
 * them. A kernel or initrd that is also a disk would be overwritten by
 * the guest and reloaded corrupt at the next restart.
 */
static void disk_check_module(struct parser *p, struct vm_config *vm, const struct disk_config *d)
{
	struct config *cfg = p->cfg;

	for (struct vm_config *o = cfg->vms; o < cfg->vms + cfg->nvms; o++) {
		bool kernel = !strcmp(o->kernel, d->module);

		if (kernel || !strcmp(o->initrd, d->module)) {
			parser_error_at(p, d->line, vm, "disk: module '%s' is the %s of VM '%s' (line %u)",
					d->module, kernel ? "kernel" : "initrd", o->name,
					kernel ? o->kernel_line : o->initrd_line);
			return;
		}
	}
	for (struct vm_config *o = cfg->vms; o <= vm; o++) {
		for (const struct disk_config *e = o->disks; e < o->disks + o->ndisks; e++) {
			if (o == vm && e >= d)
				break;
			if (!strcmp(e->module, d->module)) {
				parser_error_at(p, d->line, vm,
						"disk: module '%s' is already a disk of VM '%s' (line %u)",
						d->module, o->name, e->line);
				return;
			}
		}
	}
	if (p->file && !strcmp(p->file, d->module))
		parser_error_at(p, d->line, vm, "disk: module '%s' is this configuration", d->module);
}

static void disks_check(struct parser *p)
{
	for (struct vm_config *vm = p->cfg->vms; vm < p->cfg->vms + p->cfg->nvms; vm++)
		for (const struct disk_config *d = vm->disks; d < vm->disks + vm->ndisks; d++)
			if (d->module[0])
				disk_check_module(p, vm, d);
}

void config_parse(const char *file, const char *text, size_t len, struct config *cfg)
{
	struct span all = { text, len };
	struct parser p;
	size_t pos = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.file = file;
	p.cfg = cfg;
	while (pos < len && !p.stop) {
		p.line++;
		line_process(&p, line_next(all, &pos));
	}
	section_end(&p);
	disks_check(&p);
}
