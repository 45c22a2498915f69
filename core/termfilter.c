/*
 * The terminal filter for live guest output (see termfilter.h). Control
 * sequences follow ECMA-48: ESC [ parameter bytes (0x30-0x3f),
 * intermediate bytes (0x20-0x2f), one final byte (0x40-0x7e). Passed on,
 * rewritten where needed:
 *   CSI n C  cursor forward          CSI n D  cursor back (not past column 0)
 *   CSI 0 K  erase to end of line    CSI 0 J  erase below: sent as CSI K,
 *                                    the guest's line is the last one
 *   CSI ... m  character attributes (colours)
 * Other sequences are dropped whole; so is ESC followed by anything but
 * '[', and the strings that ESC ] (operating system command: titles and
 * the like), ESC P, ESC X, ESC ^ and ESC _ start, up to BEL, ESC or a
 * line end. Backspace moves left only while there is guest text to its left.
 * Tab, printable ASCII and line ends pass; BEL and DEL are dropped; any
 * other byte shows as '?'.
 */
#include "core/termfilter.h"

enum { TF_TEXT, TF_ESC, TF_CSI, TF_STRING };

#define ESC 0x1b
#define COL_MAX 1024   /* cursor forward beyond this is pointless */

static size_t put(char *out, size_t n, char c)
{
	out[n] = c;
	return n + 1;
}

/* The numeric parameter of a one-parameter sequence, or @dflt. */
static unsigned csi_number(const struct termfilter *t, unsigned dflt)
{
	unsigned v = 0;

	if (!t->nparam)
		return dflt;
	for (unsigned i = 0; i < t->nparam; i++) {
		if (t->param[i] < '0' || t->param[i] > '9')
			return 0;        /* a list: not for this sequence */
		v = v * 10 + (unsigned)(t->param[i] - '0');
	}
	return v ? v : dflt;
}

static size_t put_csi(char *out, size_t n, unsigned num, char final)
{
	char digits[8];
	size_t k = 0;

	n = put(out, n, ESC);
	n = put(out, n, '[');
	do {
		digits[k++] = (char)('0' + num % 10);
		num /= 10;
	} while (num && k < sizeof(digits));
	while (k)
		n = put(out, n, digits[--k]);
	return put(out, n, final);
}

static bool csi_is_zero(const struct termfilter *t)
{
	return !t->nparam || (t->nparam == 1 && t->param[0] == '0');
}

/* A complete CSI sequence ending in @final: what may pass. */
static size_t csi_end(struct termfilter *t, char final, char *out, size_t n)
{
	unsigned num;

	if (t->bad)
		return n;
	switch (final) {
	case 'C':
		num = MIN(csi_number(t, 1), COL_MAX - MIN(t->col, COL_MAX));
		if (!num)
			return n;
		t->col += num;
		return put_csi(out, n, num, 'C');
	case 'D':
		num = MIN(csi_number(t, 1), t->col);
		if (!num)
			return n;
		t->col -= num;
		return put_csi(out, n, num, 'D');
	case 'J':
	case 'K':
		if (!csi_is_zero(t))
			return n;
		n = put(out, n, ESC);
		n = put(out, n, '[');
		return put(out, n, 'K');
	case 'm':
		n = put(out, n, ESC);
		n = put(out, n, '[');
		for (unsigned i = 0; i < t->nparam; i++)
			n = put(out, n, t->param[i]);
		return put(out, n, 'm');
	default:
		return n;
	}
}

/* Inside ESC [ ...: collect parameters until the final byte. Returns
 * false when @c is no part of a sequence and must be fed again. */
static bool csi_feed(struct termfilter *t, uint8_t c, char *out, size_t *n)
{
	if (c >= 0x40 && c <= 0x7e) {
		*n = csi_end(t, (char)c, out, *n);
		t->state = TF_TEXT;
	} else if ((c >= '0' && c <= '9') || c == ';') {
		if (t->nparam < TERMFILTER_PARAM_MAX)
			t->param[t->nparam++] = (char)c;
		else
			t->bad = true;
	} else if (c >= 0x20 && c <= 0x3f) {
		t->bad = true;           /* private markers, intermediates */
	} else {
		t->state = TF_TEXT;      /* a control byte cuts the sequence short */
		return false;
	}
	return true;
}

static size_t text_feed(struct termfilter *t, uint8_t c, char *out, size_t n)
{
	if (c >= 0x20 && c < 0x7f) {
		t->col++;
		return put(out, n, (char)c);
	}
	switch (c) {
	case '\n':
		t->col = 0;
		return put(out, n, '\n');
	case '\t':
		t->col = (t->col | 7) + 1;
		return put(out, n, '\t');
	case '\b':
		if (!t->col)
			return n;
		t->col--;
		return put(out, n, '\b');
	case ESC:
		t->state = TF_ESC;
		return n;
	case 0x07:
	case 0x7f:
		return n;
	default:
		t->col++;
		return put(out, n, '?');
	}
}

size_t termfilter_feed(struct termfilter *t, uint8_t c, char *out)
{
	size_t n = 0;

	/* CR LF ends a line; a CR before anything else goes back to column 0. */
	if (t->cr) {
		t->cr = false;
		if (c != '\n') {
			t->col = 0;
			n = put(out, n, '\r');
		}
	}
	if (c == '\r' && t->state == TF_TEXT) {
		t->cr = true;
		return n;
	}
	switch (t->state) {
	case TF_ESC:
		if (c == '[') {
			t->state = TF_CSI;
			t->nparam = 0;
			t->bad = false;
			return n;
		}
		if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
			t->state = TF_STRING;
			return n;
		}
		t->state = TF_TEXT;
		if (c >= 0x20 && c <= 0x7e)
			return n;        /* a two-byte escape: dropped */
		break;
	case TF_STRING:
		if (c == 0x07) {
			t->state = TF_TEXT;
			return n;
		}
		if (c == ESC) {
			t->state = TF_ESC;   /* ST is ESC \ */
			return n;
		}
		if (c != '\n' && c != '\r')
			return n;
		t->state = TF_TEXT;
		break;
	case TF_CSI:
		if (csi_feed(t, c, out, &n))
			return n;
		break;
	default:
		break;
	}
	if (c == '\r') {
		t->cr = true;
		return n;
	}
	return text_feed(t, c, out, n);
}
