/*
 * Command-line options. Each has a handler; a bad value is reported with
 * the option's name and the default stays. See README.md for the list.
 */
#include "core/options.h"
#include "core/cmdline.h"
#include "core/errno.h"
#include "core/printk.h"
#include "core/string.h"
#include "arch/x86/uart.h"
#include "iommu/iommu.h"

struct hv_options hv_opts = { .on_idle = IDLE_HALT };

static int opt_console(const char *val, size_t len, void *ctx)
{
	(void)ctx;
	return uart_parse_console(val, len);
}

static int opt_loglevel(const char *val, size_t len, void *ctx)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	(void)ctx;
	for (unsigned i = 0; val && i < ARRAY_SIZE(names); i++) {
		if (cmdline_val_is(val, len, names[i])) {
			log_threshold = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int opt_on_idle(const char *val, size_t len, void *ctx)
{
	static const char *const names[] = { "halt", "poweroff", "reboot" };

	(void)ctx;
	for (unsigned i = 0; val && i < ARRAY_SIZE(names); i++) {
		if (cmdline_val_is(val, len, names[i])) {
			hv_opts.on_idle = (enum idle_action)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int opt_selftest(const char *val, size_t len, void *ctx)
{
	(void)ctx;
	if (!val || !len)
		return -EINVAL;
	hv_opts.selftest = val;
	hv_opts.selftest_len = len;
	return 0;
}

static int opt_maxcpus(const char *val, size_t len, void *ctx)
{
	uint64_t n;

	(void)ctx;
	if (!val || cmdline_parse_u64(val, len, &n) || n == 0 || n > 4096)
		return -EINVAL;
	hv_opts.maxcpus = (unsigned int)n;
	return 0;
}

static int opt_config(const char *val, size_t len, void *ctx)
{
	(void)ctx;
	if (!val || !len || len >= sizeof(hv_opts.config))
		return -EINVAL;
	memcpy(hv_opts.config, val, len);
	hv_opts.config[len] = 0;
	return 0;
}

static const struct cmdline_opt hv_cmdline_opts[] = {
	{ "config", opt_config, NULL },
	{ "console", opt_console, NULL },
	{ "loglevel", opt_loglevel, NULL },
	{ "on_idle", opt_on_idle, NULL },
	{ "selftest", opt_selftest, NULL },
	{ "maxcpus", opt_maxcpus, NULL },
	{ "iommu", iommu_opt_iommu, NULL },
	{ "iommu_selftest", iommu_opt_selftest, NULL },
};

void options_parse(const char *line)
{
	cmdline_parse(line, hv_cmdline_opts, ARRAY_SIZE(hv_cmdline_opts));
}
