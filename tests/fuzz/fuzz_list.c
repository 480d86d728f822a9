/*
 * fuzz_list: an arbitrary list reply through model_sanitize,
 * model_quote_big_numbers,
 * model_parse_list (which renders status.json, access, gpus), then
 * snap_build over the result (directory naming, both indexes), a second
 * snapshot built on the first (mtimes carried over, names stable), and the
 * other reply parsers that see API bytes (logs, templates).
 *
 * Invariants (abort() on failure):
 *  - model_sanitize's output is valid UTF-8 and needs no second repair;
 *  - model_quote_big_numbers never breaks a document that parsed;
 *  - a failed parse sets *err and returns no array;
 *  - every struct ws has non-NULL strings, a status that is a plain word,
 *    a status.json rendering that ends in '\n', is valid UTF-8 and parses
 *    back to an object with the same id and name, one-line template/gpus;
 *  - every snapshot entry has a legal, unique directory name (valid
 *    UTF-8, <= 255 bytes, no '/', never "." or ".."), is found by its
 *    directory name and by its id, and ids are unique;
 *  - rebuilding from the same data gives the same names and keeps mtimes.
 */
#include "fuzz_common.h"

#include "log.h"
#include "logbuf.h"
#include "model.h"
#include "path.h"
#include "snap.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>

static void
check_sanitize(const uint8_t *data, size_t size)
{
	size_t olen = 0, olen2 = 0;
	char *fixed = model_sanitize((const char *)data, size, &olen);
	char *again;

	if (!fixed) {
		/* "nothing needed repair" must mean the input is valid UTF-8 */
		if (!fuzz_utf8_ok((const char *)data, size))
			FUZZ_CHECK(!"model_sanitize left invalid UTF-8 unrepaired");
		return;
	}
	FUZZ_CHECK(strlen(fixed) <= olen);
	if (!fuzz_utf8_ok(fixed, olen))
		FUZZ_CHECK(!"model_sanitize output holds invalid UTF-8");
	/* the repaired text must need no further repair (idempotence): a
	 * repair that emits something the next pass repairs again (such as
	 * \u0000) leaves text that jansson refuses */
	again = model_sanitize(fixed, olen, &olen2);
	if (again) {
		fprintf(stderr, "model_sanitize is not idempotent: %zu -> %zu bytes\n",
			olen, olen2);
		free(again);
		FUZZ_CHECK(!"model_sanitize output needs a second repair");
	}
	free(fixed);
}

/* model_quote_big_numbers only ever turns numbers into strings: a document
 * that parsed still parses, with the same shape. */
static void
check_quote(const uint8_t *data, size_t size)
{
	size_t qlen = 0;
	char *q = model_quote_big_numbers((const char *)data, size, &qlen);
	json_t *a, *b;

	if (!q)
		return;
	FUZZ_CHECK(strlen(q) <= qlen);
	if (fuzz_utf8_ok((const char *)data, size))
		FUZZ_CHECK(fuzz_utf8_ok(q, qlen));
	a = json_loadb((const char *)data, size, 0, NULL);
	if (a) {
		b = json_loadb(q, qlen, 0, NULL);
		if (!b)
			FUZZ_CHECK(!"quoting big numbers broke a valid document");
		FUZZ_CHECK(json_typeof(a) == json_typeof(b));
		if (json_is_array(a))
			FUZZ_CHECK(json_array_size(a) == json_array_size(b));
		if (json_is_object(a))
			FUZZ_CHECK(json_object_size(a) == json_object_size(b));
		json_decref(b);
	}
	json_decref(a);
	free(q);
}

static int
plain_word(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static int
one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* status.json's string v is the model's s, where the model holds each
 * NUL the API sent as U+FFFF (shown as \u0000 in status.json) */
static int
same_but_nul(const json_t *v, const char *s)
{
	const char *p = json_string_value(v);
	size_t n = json_string_length(v), i = 0;

	if (!p)
		return 0;
	for (; i < n; i++, s++) {
		if (p[i] == '\0') {
			if (strncmp(s, "\xef\xbf\xbf", 3) != 0)
				return 0;
			s += 2;
		} else if (p[i] != *s) {
			return 0;
		}
	}
	return *s == '\0';
}

static void
check_ws(const struct ws *w)
{
	json_error_t jerr;
	json_t *root;
	char *json = model_ws_json(w), *pretty;

	FUZZ_CHECK(w->id && w->name && w->cluster_id && w->status &&
		   w->created_at && w->compact && json && w->access &&
		   w->template_name && w->gpus);
	FUZZ_CHECK(plain_word(w->status));
	FUZZ_CHECK(w->json_len == strlen(json));
	FUZZ_CHECK(w->json_len >= 2 && json[w->json_len - 1] == '\n');
	FUZZ_CHECK(fuzz_utf8_ok(json, w->json_len));
	FUZZ_CHECK(one_line(w->template_name));
	FUZZ_CHECK(one_line(w->gpus) && !strchr(w->gpus, ' '));
	/* the access file: lines of printable text */
	for (const char *p = w->access; *p; p++)
		FUZZ_CHECK(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	FUZZ_CHECK(w->access[0] == '\0' || w->access[strlen(w->access) - 1] == '\n');
	/* a NUL from the API is shown as \u0000 */
	root = json_loads(json, JSON_ALLOW_NUL, &jerr);
	if (!root && strstr(jerr.text, "NUL byte in object key")) {
		/* valid JSON that jansson cannot hold (a key with \u0000, as the
		 * API sent it): check the rest with the NULs spelled otherwise */
		for (char *p = json; (p = strstr(p, "\\u0000")) != NULL; p += 6)
			if (p == json || p[-1] != '\\')
				memcpy(p, "\\ufffd", 6);
		root = json_loads(json, JSON_ALLOW_NUL, &jerr);
		FUZZ_CHECK(json_is_object(root));
		json_decref(root);
		free(json);
		return;
	}
	if (!json_is_object(root))
		fprintf(stderr, "status.json does not load (%s):\n%s", jerr.text, json);
	FUZZ_CHECK(json_is_object(root));
	/* the re-indented text is exactly jansson's own indented dump */
	pretty = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	FUZZ_CHECK(pretty && strlen(pretty) + 1 == w->json_len &&
		   memcmp(pretty, json, w->json_len - 1) == 0);
	free(pretty);
	free(json);
	FUZZ_CHECK(json_is_string(json_object_get(root, "id")));
	FUZZ_CHECK(same_but_nul(json_object_get(root, "id"), w->id));
	FUZZ_CHECK(same_but_nul(json_object_get(root, "name"), w->name));
	json_decref(root);
}

static void
check_snap(const struct snap *s, size_t n)
{
	FUZZ_CHECK(s->refs == 1);
	FUZZ_CHECK(s->n <= n);
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_ent *e = &s->v[i];

		FUZZ_CHECK(e->ws && e->dirname);
		if (!fuzz_dirname_ok(e->dirname)) {
			fprintf(stderr, "bad directory name \"%s\" for name \"%.80s\"\n",
				e->dirname, e->ws->name);
			FUZZ_CHECK(!"directory name is legal");
		}
		FUZZ_CHECK(fuzz_utf8_ok(e->dirname, strlen(e->dirname)));
		FUZZ_CHECK(snap_find_dir(s, e->dirname) == e);
		FUZZ_CHECK(snap_find_id(s, e->ws->id) == e);
	}
}

static void
check_list(const uint8_t *data, size_t size)
{
	struct ws **v = NULL, **v2;
	struct snap *s1, *s2;
	char *err = NULL;
	size_t n = 99;
	int rc;

	rc = model_parse_list((const char *)data, size, &v, &n, &err);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EIO || rc == -ENOMEM);
		FUZZ_CHECK(err != NULL);
		FUZZ_CHECK(v == NULL && n == 0);
		free(err);
		return;
	}
	FUZZ_CHECK(rc == 0 && v != NULL);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(v[i] && v[i]->refs == 1);
		check_ws(v[i]);
	}
	free(err);	/* not expected, but allowed */

	/* a second array with references to the same workspaces */
	v2 = calloc(n ? n : 1, sizeof(*v2));
	FUZZ_CHECK(v2);
	for (size_t i = 0; i < n; i++)
		v2[i] = model_ws_ref(v[i]);

	s1 = snap_build(v, n, NULL, 1000);
	FUZZ_CHECK(s1 != NULL);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(v[i] == NULL);	/* references were stolen */
	free(v);
	check_snap(s1, n);
	for (size_t i = 0; i < s1->n; i++)
		FUZZ_CHECK(s1->v[i].mtime == 1000);

	s2 = snap_build(v2, n, s1, 2000);
	FUZZ_CHECK(s2 != NULL);
	free(v2);
	check_snap(s2, n);
	FUZZ_CHECK(s2->n == s1->n);
	for (size_t i = 0; i < s2->n; i++) {
		/* same data: same names, same order, unchanged mtimes */
		FUZZ_CHECK(strcmp(s2->v[i].dirname, s1->v[i].dirname) == 0);
		FUZZ_CHECK(s2->v[i].ws == s1->v[i].ws);
		FUZZ_CHECK(s2->v[i].mtime == 1000);
	}
	snap_unref(s1);
	snap_unref(s2);
}

static void
check_describe(const uint8_t *data, size_t size)
{
	struct ws *w = NULL;
	char *err = NULL;
	int rc = model_parse_describe((const char *)data, size, &w, &err);

	if (rc == 0) {
		FUZZ_CHECK(w != NULL);
		check_ws(w);
		model_ws_unref(w);
	} else {
		FUZZ_CHECK(w == NULL && err != NULL);
	}
	free(err);
}

/* The live log's buffer agrees with the whole-body rendering whatever the
 * pieces; a reconnect that sends it all again adds nothing; a small cap
 * keeps whole lines and offsets that only grow. */
static void
check_logbuf(const uint8_t *data, size_t size, const char *text)
{
	struct logbuf lb, small;
	unsigned long long off = 0, end;
	size_t step = size % 7 + 1, tlen = strlen(text);
	char *buf;

	logbuf_init(&lb, 1 << 26, 0);
	logbuf_init(&small, 4096, 0);
	for (size_t i = 0; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;
		unsigned long long before = logbuf_end(&small);

		FUZZ_CHECK(logbuf_feed(&lb, (const char *)data + i, n) >= 0);
		FUZZ_CHECK(logbuf_feed(&small, (const char *)data + i, n) >= 0);
		FUZZ_CHECK(logbuf_end(&small) >= before && small.len <= small.cap);
		FUZZ_CHECK(small.len == 0 || small.data[small.len - 1] == '\n');
	}
	/* the text rendering ends every line with a newline; a last line
	 * without one is still incomplete in the buffer */
	buf = malloc(lb.len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(logbuf_copy(&lb, &off, buf, lb.len) == lb.len);
	FUZZ_CHECK(lb.len <= tlen && memcmp(buf, text, lb.len) == 0);
	free(buf);
	end = logbuf_end(&lb);
	logbuf_reconnect(&lb);
	FUZZ_CHECK(logbuf_feed(&lb, (const char *)data, size) >= 0);
	logbuf_reconnect(&lb);
	/* (lines without a timestamp are matched against the last 4096) */
	FUZZ_CHECK(lb.lines >= LOGBUF_RECENT || logbuf_end(&lb) == end);
	logbuf_free(&lb);
	logbuf_free(&small);
}

static void
check_other_replies(const uint8_t *data, size_t size)
{
	struct model_templates *t = NULL;
	size_t skipped = 0;
	char *err = NULL, *text;

	text = model_logs_text((const char *)data, size, &skipped);
	FUZZ_CHECK(text != NULL);
	for (const char *p = text; *p; p++)
		FUZZ_CHECK(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	check_logbuf(data, size, text);
	free(text);

	if (model_templates_parse((const char *)data, size, &t, &err) == 0) {
		size_t n = model_templates_count(t);

		for (size_t i = 0; i < n; i++) {
			const char *name = model_templates_name(t, i);
			char *skel;

			FUZZ_CHECK(name && *name && !strchr(name, '/') && name[0] != '.');
			FUZZ_CHECK(one_line(name));
			/* names are unique: they are file names in .templates/ */
			if (model_templates_find(t, name) != (long)i) {
				fprintf(stderr, "template %zu has the name \"%s\" of template %ld\n",
					i, name, model_templates_find(t, name));
				FUZZ_CHECK(!"template names are unique");
			}
			FUZZ_CHECK(model_templates_json(t, i) != NULL);
			skel = model_spec_skeleton("fuzz", NULL, t, (long)i);
			FUZZ_CHECK(skel != NULL);
			free(skel);
		}
		FUZZ_CHECK(model_templates_name(t, n) == NULL);
		model_templates_unref(t);
	} else {
		FUZZ_CHECK(t == NULL && err != NULL);
	}
	free(err);
}

FUZZ_INITIALIZE_LOG_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_sanitize(data, size);
	check_quote(data, size);
	check_list(data, size);
	check_describe(data, size);
	check_other_replies(data, size);
	return 0;
}
