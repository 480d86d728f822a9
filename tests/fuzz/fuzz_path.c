/*
 * fuzz_path: the pure name mapping and path parsing of src/path.c.
 *
 * Input layout: byte 0 holds flags (bit 0: force the "@<id8>" suffix);
 * the rest is NAME, then optionally a NUL and ID (up to the next NUL).
 * NAME is also used as a directory name for path_decode_name, as a path
 * for path_split and as a file name; the whole input, split into lines of
 * "name<TAB>id<TAB>created_at", feeds path_assign_names.
 *
 * Invariants (abort() on failure):
 *  - path_encode_name: 1..255 bytes, length returned == strlen, no '/',
 *    no control byte, no leading '.', never "." or ".."; valid UTF-8 when
 *    the name is; when the name fits (and no suffix is forced) it is the
 *    plain encoding, which decodes back to a UTF-8 name; otherwise it ends
 *    in "@<id8>" and is never cut inside a %XX escape;
 *  - path_decode_name: when it succeeds, encoding the result gives back
 *    exactly the input (the canonical form), and the result is non-empty
 *    UTF-8 without NUL;
 *  - path_split: components within 255 bytes, without '/', the first
 *    non-empty, and "/top/file/leaf" rebuilt from them names the same path;
 *  - path_file_kind / path_file_name round-trip;
 *  - path_assign_names: unique, legal names; the oldest of a name keeps
 *    the plain encoding.
 */
#include "fuzz_common.h"

#include "log.h"
#include "path.h"

#include <errno.h>

/* The escaped length of name, as the README's rule computes it. */
static size_t
escaped_len(const char *name)
{
	size_t n = 0;

	for (size_t i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		n += (c == '/' || c == '%' || c < 0x20 || c == 0x7f ||
		      (i == 0 && c == '.')) ? 3 : 1;
	}
	return n;
}

/* For a UTF-8 name that needs the suffix: the escaped length of its
 * longest prefix of whole characters that fits beside a suffix of slen. */
static size_t
best_cut(const char *name, size_t slen)
{
	size_t limit = PATH_NAME_MAX - slen, n = 0, i = 0;

	while (name[i]) {
		unsigned char c = (unsigned char)name[i];
		size_t clen = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
		size_t unit = (c == '/' || c == '%' || c < 0x20 || c == 0x7f ||
			       (i == 0 && c == '.')) ? 3 : clen;

		if (n + unit > limit)
			break;
		n += unit;
		i += clen;
	}
	return n;
}

static void
id8_of(const char *id, char out[9])
{
	size_t n = 0;

	for (; id && *id && n < 8; id++) {
		char c = *id;

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))
			out[n++] = c;
		else if (c >= 'A' && c <= 'Z')
			out[n++] = (char)(c - 'A' + 'a');
	}
	if (n == 0)
		out[n++] = '0';
	out[n] = '\0';
}

static void
check_encode(const char *name, const char *id, int with_suffix)
{
	char *out = malloc(PATH_NAME_MAX + 1);	/* exact size: ASan sees overruns */
	char back[4 * PATH_NAME_MAX + 1];
	char id8[9], suffix[16];
	size_t len, slen;

	FUZZ_CHECK(out);
	len = path_encode_name(name, id, with_suffix, out);
	FUZZ_CHECK(len <= PATH_NAME_MAX);
	FUZZ_CHECK(out[len] == '\0' && strlen(out) == len);
	if (!fuzz_dirname_ok(out)) {
		fprintf(stderr, "illegal directory name \"%s\"\n", out);
		FUZZ_CHECK(!"encoded name is a legal directory name");
	}
	if (fuzz_utf8_ok(name, strlen(name)))
		FUZZ_CHECK(fuzz_utf8_ok(out, len));

	id8_of(id, id8);
	slen = (size_t)snprintf(suffix, sizeof(suffix), "@%s", id8);
	if (!with_suffix && *name && escaped_len(name) <= PATH_NAME_MAX) {
		FUZZ_CHECK(len == escaped_len(name));
	}
	if (!with_suffix && *name && escaped_len(name) <= PATH_NAME_MAX &&
	    fuzz_utf8_ok(name, strlen(name)) && !strstr(name, "\xef\xbf\xbf")) {
		/* (U+FFFF stands for a NUL from the API and shows as %00,
		 * which mkdir refuses: such a name is never typed) */
		/* it fits: the plain encoding, which decodes back (API names
		 * are JSON strings, so UTF-8; mkdir refuses anything else) */
		int rc = path_decode_name(out, back, sizeof(back));

		if (rc != 0) {
			fprintf(stderr, "\"%s\" does not decode (%d)\n", out, rc);
			FUZZ_CHECK(!"a plain encoding decodes");
		}
		FUZZ_CHECK(strcmp(back, name) == 0);
	} else if (with_suffix || !*name || escaped_len(name) > PATH_NAME_MAX) {
		FUZZ_CHECK(len >= slen);
		FUZZ_CHECK(strcmp(out + len - slen, suffix) == 0);
		/* never cut inside a %XX escape */
		FUZZ_CHECK(len - slen < 1 || out[len - slen - 1] != '%');
		FUZZ_CHECK(len - slen < 2 || out[len - slen - 2] != '%');
		/* README: cut, never inside an escape or a UTF-8 character,
		 * and nothing more than that: every whole character that fits
		 * is kept */
		if (fuzz_utf8_ok(name, strlen(name)) && len - slen != best_cut(name, slen)) {
			fprintf(stderr, "\"%s\" keeps %zu bytes of the name, %zu fit\n",
				out, len - slen, best_cut(name, slen));
			FUZZ_CHECK(!"a cut name keeps every whole character that fits");
		}
	}
	free(out);
}

static void
check_decode(const char *dirname)
{
	char out[4 * PATH_NAME_MAX + 1], again[PATH_NAME_MAX + 1];
	int rc = path_decode_name(dirname, out, sizeof(out));

	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENAMETOOLONG);
		return;
	}
	FUZZ_CHECK(*dirname && dirname[0] != '.');
	FUZZ_CHECK(strlen(out) > 0);
	/* a workspace name is a JSON string: mkdir accepts only UTF-8 */
	FUZZ_CHECK(fuzz_utf8_ok(out, strlen(out)));
	path_encode_name(out, "", 0, again);
	if (strcmp(again, dirname) != 0) {
		fprintf(stderr, "decode(\"%s\") = \"%s\" encodes to \"%s\"\n",
			dirname, out, again);
		FUZZ_CHECK(!"decode round-trips");
	}
	/* a tiny buffer is refused, never overrun */
	{
		char tiny[2];

		rc = path_decode_name(dirname, tiny, sizeof(tiny));
		FUZZ_CHECK(rc == (strlen(out) < 2 ? 0 : -ENAMETOOLONG) ||
			   rc == -EINVAL);
	}
}

/* A component: at most 255 bytes, no '/'. Only the top one must be
 * non-empty: "a//b" (which FUSE never passes) yields an empty middle. */
static int
component_ok(const char *c)
{
	return strlen(c) <= PATH_NAME_MAX && !strchr(c, '/');
}

static void
check_split(const char *path)
{
	struct path_parts pp;
	const char *p = path;
	char rebuilt[3 * (PATH_NAME_MAX + 1) + 4], norm[4096 + 8];
	size_t k = 0;
	int rc;

	memset(&pp, 0x5a, sizeof(pp));
	rc = path_split(path, &pp);
	if (rc != 0) {
		FUZZ_CHECK(rc == -ENOENT || rc == -ENAMETOOLONG);
		return;
	}
	rebuilt[0] = '\0';
	switch (pp.kind) {
	case PATH_ROOT:
		for (; *p; p++)
			FUZZ_CHECK(*p == '/');
		return;
	case PATH_TOP:
		FUZZ_CHECK(component_ok(pp.top) && *pp.top);
		snprintf(rebuilt, sizeof(rebuilt), "/%s", pp.top);
		break;
	case PATH_FILE:
		FUZZ_CHECK(component_ok(pp.top) && *pp.top && component_ok(pp.file));
		snprintf(rebuilt, sizeof(rebuilt), "/%s/%s", pp.top, pp.file);
		break;
	case PATH_DEEP:
		FUZZ_CHECK(component_ok(pp.top) && *pp.top && component_ok(pp.file) &&
			   component_ok(pp.leaf));
		snprintf(rebuilt, sizeof(rebuilt), "/%s/%s/%s", pp.top,
			 pp.file, pp.leaf);
		break;
	default:
		FUZZ_CHECK(!"a known path kind");
	}
	/* the path with leading slashes collapsed and one trailing slash
	 * dropped must be what the parts spell */
	while (*p == '/')
		p++;
	norm[k++] = '/';
	for (; *p && k < sizeof(norm) - 1; p++)
		norm[k++] = *p;
	norm[k] = '\0';
	if (k > 1 && norm[k - 1] == '/')
		norm[--k] = '\0';
	if (strcmp(norm, rebuilt) != 0) {
		fprintf(stderr, "path_split(\"%s\") gives \"%s\"\n", path, rebuilt);
		FUZZ_CHECK(!"path_split keeps the path");
	}
}

static void
check_file_kind(const char *name)
{
	enum ws_file f = path_file_kind(name);

	if (f == WS_FILE_NONE)
		return;
	FUZZ_CHECK(f >= 0 && f < WS_FILE_COUNT);
	FUZZ_CHECK(strcmp(path_file_name(f), name) == 0);
}

#define FUZZ_MAX_NAMED 32

static void
check_assign(const uint8_t *data, size_t size)
{
	struct path_named v[FUZZ_MAX_NAMED];
	char *copy = fuzz_cstr(data, size), *line, *save = NULL;
	size_t n = 0;

	/* NULs end the string early: that is fine, names are C strings */
	for (line = strtok_r(copy, "\n", &save); line && n < FUZZ_MAX_NAMED;
	     line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = NULL;

		if (t1) {
			*t1++ = '\0';
			t2 = strchr(t1, '\t');
			if (t2)
				*t2++ = '\0';
		}
		v[n].name = line;
		v[n].id = t1 ? t1 : "";
		v[n].created_at = t2 ? t2 : "";
		v[n].dirname = (char *)1;
		v[n].keep = NULL;
		n++;
	}
	FUZZ_CHECK(path_assign_names(v, n) == 0);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(v[i].dirname != NULL);
		if (!fuzz_dirname_ok(v[i].dirname)) {
			fprintf(stderr, "illegal directory name \"%s\"\n", v[i].dirname);
			FUZZ_CHECK(!"assigned name is legal");
		}
		if (fuzz_utf8_ok(v[i].name, strlen(v[i].name)) &&
		    !fuzz_utf8_ok(v[i].dirname, strlen(v[i].dirname))) {
			fprintf(stderr, "name \"%s\" got a directory name cut inside a UTF-8 character: \"%s\"\n",
				v[i].name, v[i].dirname);
			FUZZ_CHECK(!"assigned name is valid UTF-8");
		}
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(v[i].dirname, v[j].dirname) != 0);
	}
	/* deterministic: the same input gives the same names */
	{
		struct path_named w[FUZZ_MAX_NAMED];

		memcpy(w, v, n * sizeof(*w));
		FUZZ_CHECK(path_assign_names(w, n) == 0);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(strcmp(w[i].dirname, v[i].dirname) == 0);
			free(w[i].dirname);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].dirname);
	free(copy);
}

FUZZ_INITIALIZE_LOG_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *all, *name;
	const char *id;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0];
	all = fuzz_cstr(data + 1, size - 1);
	name = all;
	id = strlen(all) < size - 1 ? all + strlen(all) + 1 : "";

	check_encode(name, id, flags & 1);
	check_decode(name);
	check_split(name);
	check_file_kind(name);
	check_assign(data + 1, size - 1);
	free(all);
	return 0;
}
