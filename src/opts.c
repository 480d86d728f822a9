/*
 * opts: strict option numbers and the "already mounted here" test; pure
 * functions over strings so that the unit tests need no mount.
 */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
opts_asprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

int
opts_number(const struct opts_num *spec, const char *val, int *out,
	    char **err)
{
	long n = 0;
	const char *p = val;

	*err = NULL;
	/* sscanf("%d") would take "1e3" as 1, " 5" as 5 and overflow quietly */
	if (!p || !*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
		if (n > spec->max) /* stops before any overflow */
			goto bad;
	}
	if (n < spec->min)
		goto bad;
	*out = (int)n;
	return 0;
bad:
	*err = opts_asprintf("%s=%s: must be a whole number%s%s from %ld to %ld",
			     spec->name, val ? val : "",
			     spec->unit ? " of " : "", spec->unit ? spec->unit : "",
			     spec->min, spec->max);
	return -EINVAL;
}

/* Decode one mountinfo field (octal escapes \040 \011 \012 \134) of
 * length n into a new string; NULL when out of memory. */
static char *
opts_field(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
				      (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int
opts_mounted_at(const char *mountinfo, const char *path, const char *fstype)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *f[5] = { 0 }, *sep, *p = line, *fs;
		size_t flen[5] = { 0 }, tlen = strlen(fstype);
		int k = 0, hit = 0;

		/* fields: id parent major:minor root MOUNTPOINT ... - FSTYPE ... */
		while (k < 5 && p < line + len) {
			const char *q = memchr(p, ' ', (size_t)(line + len - p));

			f[k] = p;
			flen[k] = q ? (size_t)(q - p) : (size_t)(line + len - p);
			k++;
			p = q ? q + 1 : line + len;
		}
		sep = k == 5 ? strstr(p, " - ") : NULL;
		if (sep && sep < line + len) {
			fs = sep + 3;
			if ((size_t)(line + len - fs) > tlen &&
			    strncmp(fs, fstype, tlen) == 0 && fs[tlen] == ' ') {
				char *mp = opts_field(f[4], flen[4]);

				hit = mp && strcmp(mp, path) == 0;
				free(mp);
			}
		}
		if (hit)
			return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}
