/*
 * path: name encoding, collision naming and path splitting. Everything here
 * is a pure function of its arguments so the unit tests can pin it down.
 */
#include "path.h"
#include "htab.h"
#include "rfc3339.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const path_files[WS_FILE_COUNT] = {
	[WS_FILE_STATUS_JSON] = "status.json",
	[WS_FILE_STATUS] = "status",
	[WS_FILE_ID] = "id",
	[WS_FILE_CONTROL] = "control",
	[WS_FILE_ERROR] = "error",
	[WS_FILE_SPEC] = "spec.json",
	[WS_FILE_ACCESS] = "access",
	[WS_FILE_LOGS] = "logs",
	[WS_FILE_WAIT] = "wait",
	[WS_FILE_LOGS_FOLLOW] = "logs.follow",
};

enum ws_file
path_file_kind(const char *name)
{
	for (int i = 0; i < WS_FILE_COUNT; i++)
		if (strcmp(name, path_files[i]) == 0)
			return (enum ws_file)i;
	return WS_FILE_NONE;
}

const char *
path_file_name(enum ws_file f)
{
	return (f >= 0 && f < WS_FILE_COUNT) ? path_files[f] : "";
}

static int
path_must_escape(unsigned char c, size_t pos)
{
	return c == '/' || c == '%' || c < 0x20 || c == 0x7f ||
	       (pos == 0 && c == '.');
}

/* The short id used in suffixes: the first 8 alphanumerics of the id. */
static void
path_id8(const char *id, char out[9])
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

size_t
path_encode_name(const char *name, const char *id, int with_suffix,
		 char out[PATH_NAME_MAX + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	char id8[9], suffix[16];
	size_t len = 0, limit, slen;
	int cut = 0;

	path_id8(id, id8);
	slen = (size_t)snprintf(suffix, sizeof(suffix), "@%s", id8);
	for (size_t i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];
		size_t unit = path_must_escape(c, i) ? 3 : 1;

		/* the NUL mark (U+FFFF, see model.h) stands for a NUL: %00 */
		if (strncmp(name + i, "\xEF\xBF\xBF", 3) == 0) {
			if (len + 3 > PATH_NAME_MAX) {
				cut = 1;
				break;
			}
			memcpy(out + len, "%00", 3);
			len += 3;
			i += 2;
			continue;
		}
		if (len + unit > PATH_NAME_MAX) {
			cut = 1;
			break;
		}
		if (unit == 3) {
			out[len++] = '%';
			out[len++] = hex[c >> 4];
			out[len++] = hex[c & 15];
		} else {
			out[len++] = (char)c;
		}
	}
	if (!cut && !with_suffix && len > 0) {
		out[len] = '\0';
		return len;
	}
	limit = PATH_NAME_MAX - slen;
	if (len > limit) {
		len = limit;
		/* never end inside a %XX escape */
		if (len >= 1 && out[len - 1] == '%')
			len -= 1;
		else if (len >= 2 && out[len - 2] == '%')
			len -= 2;
		/* never end inside a UTF-8 sequence: back up to the start of
		 * the last one and drop it only if it does not fit whole */
		{
			size_t start = len;

			while (start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0x80)
				start--;
			if (start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0xC0 &&
			    utf8_seq_len((const unsigned char *)out + start - 1,
					 len - (start - 1)) == 0)
				len = start - 1;
		}
	}
	memcpy(out + len, suffix, slen + 1);
	return len + slen;
}

static int
path_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
path_decode_name(const char *dirname, char *out, size_t outsz)
{
	char check[PATH_NAME_MAX + 1];
	size_t n = 0;

	if (!*dirname || dirname[0] == '.')
		return -EINVAL;
	for (const char *p = dirname; *p; p++) {
		int c = (unsigned char)*p;

		if (*p == '%') {
			int hi = path_hexval(p[1]);
			int lo = hi < 0 ? -1 : path_hexval(p[2]);

			if (lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			if (c == 0)
				return -EINVAL;
			p += 2;
		}
		if (n + 1 >= outsz)
			return -ENAMETOOLONG;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (!utf8_valid(out, n))
		return -EINVAL;	/* API names are JSON strings: UTF-8 */
	/* Only the canonical spelling is accepted, so that the name a user
	 * types is exactly the name the listing will show. */
	if (strlen(dirname) > PATH_NAME_MAX ||
	    path_encode_name(out, "", 0, check) != strlen(dirname) ||
	    strcmp(check, dirname) != 0)
		return -EINVAL;
	return 0;
}

/* Sort key: creation time (unparseable ones first), then id. */
struct path_order {
	struct path_named *e;
	long long created_us;
};

static int
path_order_cmp(const void *a, const void *b)
{
	const struct path_order *x = a, *y = b;

	if (x->created_us != y->created_us)
		return x->created_us < y->created_us ? -1 : 1;
	return strcmp(x->e->id ? x->e->id : "", y->e->id ? y->e->id : "");
}

/* Whether buf may be given to e: not taken, not reserved for another. */
static int
path_name_free(const struct htab *taken, const char *buf, const struct path_named *e,
	       path_reserved_fn reserved, void *arg)
{
	return !htab_get(taken, buf) && !(reserved && reserved(arg, buf, e->id));
}

int
path_assign_names_kept(struct path_named *v, size_t n, path_reserved_fn reserved,
		       void *arg)
{
	struct path_order *order = NULL;
	struct htab taken = { 0 };
	char buf[PATH_NAME_MAX + 1];
	int rc = -ENOMEM;
	size_t i;

	order = malloc((n ? n : 1) * sizeof(*order));
	if (!order || htab_init(&taken, n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		order[i].e = &v[i];
		if (rfc3339_parse(v[i].created_at, &order[i].created_us) < 0)
			order[i].created_us = 0;
		v[i].dirname = NULL;
	}
	qsort(order, n, sizeof(*order), path_order_cmp);
	/* names already shown stay with their workspaces (first claim wins) */
	for (i = 0; i < n; i++) {
		struct path_named *e = order[i].e;

		if (!e->keep || htab_get(&taken, e->keep))
			continue;
		e->dirname = strdup(e->keep);
		if (!e->dirname || htab_put(&taken, e->dirname, e) < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		struct path_named *e = order[i].e;
		int attempt = 0;

		if (e->dirname)
			continue;
		path_encode_name(e->name, e->id, 0, buf);
		while (!path_name_free(&taken, buf, e, reserved, arg)) {
			/* a suffixed name that is taken too is rare */
			if (attempt++ == 0) {
				path_encode_name(e->name, e->id, 1, buf);
			} else {
				char num[24];
				size_t blen = path_encode_name(e->name, e->id,
							       1, buf);
				int k = snprintf(num, sizeof(num), "~%d",
						 attempt);

				if (blen + (size_t)k > PATH_NAME_MAX)
					blen = PATH_NAME_MAX - (size_t)k;
				memcpy(buf + blen, num, (size_t)k + 1);
			}
		}
		e->dirname = strdup(buf);
		if (!e->dirname || htab_put(&taken, e->dirname, e) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0 && order)
		for (i = 0; i < n; i++) {
			free(v[i].dirname);
			v[i].dirname = NULL;
		}
	htab_free(&taken);
	free(order);
	return rc;
}

int
path_assign_names(struct path_named *v, size_t n)
{
	return path_assign_names_kept(v, n, NULL, NULL);
}

/* Copy one component of at most PATH_NAME_MAX bytes; the next one. */
static const char *
path_take(const char *p, char out[PATH_NAME_MAX + 1], int *rc)
{
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	if (n > PATH_NAME_MAX) {
		*rc = -ENAMETOOLONG;
		return NULL;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return slash && slash[1] ? slash + 1 : NULL;
}

int
path_split(const char *path, struct path_parts *out)
{
	const char *p;
	int rc = 0;

	out->top[0] = out->file[0] = out->leaf[0] = '\0';
	while (*path == '/')
		path++;
	if (!*path) {
		out->kind = PATH_ROOT;
		return 0;
	}
	out->kind = PATH_TOP;
	p = path_take(path, out->top, &rc);
	if (rc < 0 || !p)
		return rc;
	out->kind = PATH_FILE;
	p = path_take(p, out->file, &rc);
	if (rc < 0 || !p)
		return rc;
	out->kind = PATH_DEEP;
	p = path_take(p, out->leaf, &rc);
	if (rc < 0)
		return rc;
	return p ? -ENOENT : 0;
}
