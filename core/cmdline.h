/*
 * The hypervisor command line: space-separated "key" or "key=value"
 * words. Each known key has a handler; unknown keys are warned about and
 * ignored, never fatal. A bad value is reported with the key's name.
 */
#ifndef CORE_CMDLINE_H
#define CORE_CMDLINE_H

#include "core/types.h"

struct cmdline_opt {
	const char *key;
	/* @val is NULL for a bare "key". Return 0 or a negative error. */
	int (*handler)(const char *val, size_t len, void *ctx);
	void *ctx;
};

/*
 * Walk @line and call the handler of each known option. Returns the
 * number of words that were unknown or rejected (each already printed).
 */
int cmdline_parse(const char *line, const struct cmdline_opt *opts, size_t nopts);

/* Helpers for handlers: parse an unsigned number (0x.. hex or decimal). */
int cmdline_parse_u64(const char *val, size_t len, uint64_t *out);
/* Does [val, val+len) equal the NUL-terminated @word? */
bool cmdline_val_is(const char *val, size_t len, const char *word);

#endif
