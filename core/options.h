/* The hypervisor's command-line options, as parsed at boot. */
#ifndef CORE_OPTIONS_H
#define CORE_OPTIONS_H

#include "core/types.h"

enum idle_action { IDLE_HALT, IDLE_POWEROFF, IDLE_REBOOT };

struct hv_options {
	enum idle_action on_idle;
	const char *selftest;      /* NULL, or a name from core/selftest.c */
	size_t selftest_len;
	unsigned int maxcpus;      /* 0 = all */
	char config[64];           /* module name of the VM configuration */
};

extern struct hv_options hv_opts;

/* Parse @line; problems are printed (into the early log) and skipped. */
void options_parse(const char *line);

#endif
