/*
 * model_text: repairs API replies so that any string content parses (invalid UTF-8,
 * NUL and lone surrogate escapes, raw control characters). Pure.
 */
#include "model.h"
#include "model_int.h"
#include "log.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable output buffer that starts copying only at the first repair. */
struct model_fix {
	const char *in;
	size_t done;		/* bytes of in already accounted for */
	char *out;
	size_t len, cap;
	int oom;
};

static void
model_fix_emit(struct model_fix *f, size_t upto, const char *rep, size_t rlen)
{
	size_t need;

	if (f->oom)
		return;
	need = f->len + (upto - f->done) + rlen + 1;
	if (need > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(f->out, cap);
		if (!p) {
			f->oom = 1;
			return;
		}
		f->out = p;
		f->cap = cap;
	}
	memcpy(f->out + f->len, f->in + f->done, upto - f->done);
	f->len += upto - f->done;
	memcpy(f->out + f->len, rep, rlen);
	f->len += rlen;
}

/* The repaired text (or NULL when nothing needed repair or memory ran
 * out), its length in *outlen. */
static char *
model_fix_finish(struct model_fix *f, size_t len, size_t *outlen)
{
	if (!f->out && !f->oom)
		return NULL;
	model_fix_emit(f, len, "", 0);
	if (f->oom) {
		free(f->out);
		return NULL;
	}
	f->out[f->len] = '\0';
	*outlen = f->len;
	return f->out;
}

static int
model_hex4(const char *p, size_t n, unsigned int *v)
{
	*v = 0;
	if (n < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

char *
model_sanitize(const char *in, size_t len, size_t *outlen)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	struct model_fix f = { .in = in };
	int in_str = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80) {
			size_t l = utf8_seq_len((const unsigned char *)in + i, len - i);

			if (l == 0) {
				model_fix_emit(&f, i, fffd, 3);
				f.done = ++i;
			} else {
				i += l;
			}
			continue;
		}
		if (!in_str) {
			in_str = c == '"';
			i++;
			continue;
		}
		if (c == '"') {
			in_str = 0;
			i++;
		} else if (c < 0x20) {
			char esc[8];

			/* a NUL becomes the NUL mark, as \u0000 does below */
			snprintf(esc, sizeof(esc), "\\u%04x", c ? c : 0xffff);
			model_fix_emit(&f, i, esc, 6);
			f.done = ++i;
		} else if (c == '\\' && i + 1 < len && in[i + 1] == 'u') {
			unsigned int u, lo;

			if (!model_hex4(in + i + 2, len - i - 2, &u)) {
				i += 2;	/* invalid escape: the parser will say so */
				continue;
			}
			if (u >= 0xD800 && u <= 0xDBFF && i + 11 < len &&
			    in[i + 6] == '\\' && in[i + 7] == 'u' &&
			    model_hex4(in + i + 8, len - i - 8, &lo) &&
			    lo >= 0xDC00 && lo <= 0xDFFF) {
				i += 12;	/* a proper surrogate pair */
			} else if (u == 0) {
				/* C strings cannot hold NUL: the NUL mark stands in */
				model_fix_emit(&f, i, "\\uffff", 6);
				f.done = i += 6;
			} else if (u >= 0xD800 && u <= 0xDFFF) {
				model_fix_emit(&f, i, "\\ufffd", 6);
				f.done = i += 6;
			} else {
				i += 6;
			}
		} else if (c == '\\') {
			/* an escape takes one ASCII character; anything else is
			 * looked at on its own (an invalid byte gets replaced) */
			i += (i + 1 < len && (unsigned char)in[i + 1] < 0x80) ? 2 : 1;
		} else {
			i++;
		}
	}
	return model_fix_finish(&f, len, outlen);
}

char *
model_quote_big_numbers(const char *in, size_t len, size_t *outlen)
{
	struct model_fix f = { .in = in };
	int in_str = 0;
	size_t i = 0;

	while (i < len) {
		char c = in[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			i++;
			continue;
		}
		if ((c == '-' || (c >= '0' && c <= '9'))) {
			size_t b = i, digits = 0;

			if (in[i] == '-')
				i++;
			while (i < len && ((in[i] >= '0' && in[i] <= '9') || in[i] == '.' ||
					   in[i] == 'e' || in[i] == 'E' || in[i] == '+' || in[i] == '-')) {
				digits++;
				i++;
			}
			/* beyond what a 64-bit integer or a double holds: keep it as text */
			if (digits > 18) {
				model_fix_emit(&f, b, "\"", 1);
				f.done = b;
				model_fix_emit(&f, i, "\"", 1);
				f.done = i;
			}
			continue;
		}
		i++;
	}
	return model_fix_finish(&f, len, outlen);
}
