/*
 * What of a guest's console output may reach the user's terminal while
 * the guest has the console focus and its output is shown as it comes
 * (core/printk.c, "live lines"). An interactive shell needs a little more
 * than printable text: backspace, cursor left and right, erase to the end
 * of the line, colours. Everything that could reach outside the guest's
 * own line is dropped: cursor up or down, absolute positions, erasing
 * other lines, titles, queries, and moving left of the first column the
 * guest wrote, where the line's "[NAME]" prefix is. So a guest cannot
 * pass its text off as the hypervisor's or another VM's.
 */
#ifndef CORE_TERMFILTER_H
#define CORE_TERMFILTER_H

#include "core/types.h"

#define TERMFILTER_PARAM_MAX 8   /* digits and ';' of a CSI sequence */
#define TERMFILTER_OUT_MAX 16    /* the most one byte can produce */

struct termfilter {
	uint8_t state;           /* plain text, after ESC, inside CSI */
	uint8_t nparam;
	bool bad;                /* the CSI sequence cannot pass */
	bool cr;                 /* a CR waits: CR LF is one line end */
	unsigned col;            /* cursor column from the start of the guest's text */
	char param[TERMFILTER_PARAM_MAX];
};

/*
 * Feed one byte of guest output; the bytes to send to the terminal go
 * to @out and their number is returned. In @out, '\n' ends the line and
 * '\r' means "back to the start of the guest's text" (the caller redraws
 * the prefix); everything else is to be written as it is.
 */
size_t termfilter_feed(struct termfilter *t, uint8_t c, char *out);

#endif
