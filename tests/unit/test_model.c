/*
 * test_model: model.c driven with literal documents. Covers the list,
 * describe and id replies (skipped entries, defaults, the pretty rendering,
 * created_at parsing), problem+json messages, UUID checks, when a spec.json
 * write is complete, spec validation and the request body it produces, the
 * draft skeleton, control commands and the workspace reference count.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "quiet.h"

#include "model.h"
#include "model_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_0304_05 1767323045	/* 2026-01-02T03:04:05Z */
#define CLUSTER "123e4567-e89b-12d3-a456-426614174001"


static int
parse_list(const char *body, struct ws ***v, size_t *n, char **err)
{
	int rc;

	*err = NULL;
	quiet_begin();
	rc = model_parse_list(body, strlen(body), v, n, err);
	quiet_end();
	return rc;
}

static const char list_body[] =
	"{\"total\": 7, \"workspaces\": ["
	" {\"name\": \"alpha\", \"id\": \"11111111-1111-4111-8111-111111111111\","
	"  \"zeta\": 1, \"cluster_id\": \"" CLUSTER "\","
	"  \"workspace_status\": \"RUNNING\", \"created_at\": \"2026-01-02T03:04:05Z\","
	"  \"resources\": {\"gpu_count\": 2, \"gpu_type\": \"A100\"}, \"alpha\": [1, 2]},"
	" {\"name\": \"no-id\"},"
	" {\"id\": \"22222222-2222-4222-8222-222222222222\", \"name\": 5},"
	" {\"id\": \"33333333-3333-4333-8333-333333333333\", \"name\": \"beta\","
	"  \"workspace_status\": \"HIBERNATING_SOMEHOW\","
	"  \"created_at\": \"2026-01-02T03:04:05.123456Z\"},"
	" \"not an object\","
	" {\"id\": \"44444444-4444-4444-8444-444444444444\", \"name\": \"gamma\","
	"  \"created_at\": \"2026-01-02T05:04:05+02:00\"},"
	" {\"id\": \"55555555-5555-4555-8555-555555555555\", \"name\": \"delta\","
	"  \"workspace_status\": null, \"created_at\": \"2026-01-02T01:34:05-01:30\"},"
	" {\"id\": 6, \"name\": \"six\"},"
	" {\"id\": \"77777777-7777-4777-8777-777777777777\", \"name\": \"\","
	"  \"created_at\": \"yesterday\"}"
	"]}";

static void
model_parse_list_good(void **state)
{
	struct ws **v;
	size_t n;
	char *err;

	(void)state;
	assert_int_equal(parse_list(list_body, &v, &n, &err), 0);
	assert_null(err);
	assert_int_equal(n, 5);
	assert_string_equal(v[0]->id, "11111111-1111-4111-8111-111111111111");
	assert_string_equal(v[0]->name, "alpha");
	assert_string_equal(v[0]->cluster_id, CLUSTER);
	assert_string_equal(v[0]->status, "RUNNING");
	assert_string_equal(v[0]->created_at, "2026-01-02T03:04:05Z");
	assert_int_equal(v[0]->refs, 1);

	assert_string_equal(v[1]->name, "beta");
	assert_string_equal(v[1]->status, "HIBERNATING_SOMEHOW");
	assert_string_equal(v[1]->cluster_id, "");
	assert_string_equal(v[2]->name, "gamma");
	assert_string_equal(v[2]->status, "UNKNOWN");
	assert_string_equal(v[3]->name, "delta");
	assert_string_equal(v[3]->status, "UNKNOWN");
	assert_string_equal(v[4]->id, "77777777-7777-4777-8777-777777777777");
	assert_string_equal(v[4]->name, "");
	model_ws_array_free(v, n);
}

/* \u0000 (and a raw NUL) in a name: kept as the NUL mark, shown as %00
 * by path.c, as \u0000 in status.json, as a space in lines of text. */
static void
model_parse_list_nul(void **state)
{
	static const char body[] =
		"{\"workspaces\": [{\"id\": \"11111111-1111-4111-8111-111111111111\","
		" \"name\": \"nul\\u0000x\", \"cluster_id\": \"\", \"template\": {},"
		" \"resources\": {}},"
		" {\"id\": \"22222222-2222-4222-8222-222222222222\","
		" \"name\": \"raw\0y\", \"cluster_id\": \"\", \"template\": {},"
		" \"resources\": {}}]}";
	struct ws **v;
	size_t n;
	char *err, *json, line[] = "a\xEF\xBF\xBF" "b\tc";

	(void)state;
	quiet_begin();
	assert_int_equal(model_parse_list(body, sizeof(body) - 1, &v, &n, &err), 0);
	quiet_end();
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "nul" MODEL_NUL_MARK "x");
	assert_string_equal(v[1]->name, "raw" MODEL_NUL_MARK "y");
	json = model_ws_json(v[0]);
	assert_non_null(strstr(json, "\"name\": \"nul\\u0000x\""));
	assert_int_equal(strlen(json), v[0]->json_len);
	free(json);
	model_ws_array_free(v, n);
	model_clean_line(line);
	assert_string_equal(line, "a b c");
}

static void
model_parse_list_created(void **state)
{
	struct ws **v;
	size_t n;
	char *err;

	(void)state;
	assert_int_equal(parse_list(list_body, &v, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(v[0]->created, T_0304_05);	/* Z */
	assert_int_equal(v[1]->created, T_0304_05);	/* fraction */
	assert_int_equal(v[2]->created, T_0304_05);	/* +02:00 */
	assert_int_equal(v[3]->created, T_0304_05);	/* -01:30 */
	assert_int_equal(v[4]->created, 0);		/* not a time */
	assert_string_equal(v[4]->created_at, "yesterday");
	model_ws_array_free(v, n);
}

/* status.json: 2-space indent, key order kept, one '\n', same object. */
static void
model_parse_list_json_rendering(void **state)
{
	json_t *orig, *back, *first;
	struct ws **v;
	size_t n;
	char *err;
	const char *p_name, *p_id, *p_zeta, *p_cl, *p_alpha;
	char *j, *j1;

	(void)state;
	assert_int_equal(parse_list(list_body, &v, &n, &err), 0);
	assert_true(n >= 1);
	j = model_ws_json(v[0]);
	assert_non_null(j);
	assert_int_equal(v[0]->json_len, strlen(j));
	assert_true(v[0]->json_len > 3);
	assert_int_equal(j[v[0]->json_len - 1], '\n');
	assert_int_equal(j[v[0]->json_len - 2], '}');
	assert_int_equal(strncmp(j, "{\n  \"name\": \"alpha\",\n", 21), 0);
	assert_non_null(strstr(j, "\n  \"resources\": {\n    \"gpu_count\": 2,\n"));
	assert_null(strchr(j, '\t'));
	/* the order of the API, not sorted */
	p_name = strstr(j, "\"name\"");
	p_id = strstr(j, "\"id\"");
	p_zeta = strstr(j, "\"zeta\"");
	p_cl = strstr(j, "\"cluster_id\"");
	p_alpha = strstr(j, "\"alpha\":");
	assert_true(p_name && p_id && p_zeta && p_cl && p_alpha);
	assert_true(p_name < p_id && p_id < p_zeta && p_zeta < p_cl && p_cl < p_alpha);

	orig = json_loads(list_body, 0, NULL);
	assert_non_null(orig);
	first = json_array_get(json_object_get(orig, "workspaces"), 0);
	back = json_loadb(j, v[0]->json_len, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(first, back));
	json_decref(back);
	/* the others parse back to their sources too */
	j1 = model_ws_json(v[1]);
	assert_non_null(j1);
	back = json_loadb(j1, v[1]->json_len, 0, NULL);
	assert_true(json_equal(json_array_get(json_object_get(orig, "workspaces"), 3),
			       back));
	json_decref(back);
	json_decref(orig);
	free(j);
	free(j1);
	model_ws_array_free(v, n);
}

static void
model_parse_list_errors(void **state)
{
	static const char *const bad[] = {
		"not json", "", "{\"workspaces\": [", "{}", "{\"workspaces\": {}}",
		"{\"workspaces\": null}", "[]", "{\"workspace\": []}",
	};
	static struct ws *sentinel[1];
	struct ws **v;
	size_t n;
	char *err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = sentinel;	/* must be reset */
		n = 99;
		assert_int_equal(parse_list(bad[i], &v, &n, &err), -EIO);
		assert_non_null(err);
		assert_true(strlen(err) > 0);
		if (i >= 3)
			assert_non_null(strstr(err, "workspaces"));
		else
			assert_non_null(strstr(err, "JSON"));
		assert_null(v);
		assert_int_equal(n, 0);
		free(err);
	}
	/* an empty list is a list */
	assert_int_equal(parse_list("{\"workspaces\": []}", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_non_null(v);
	model_ws_array_free(v, n);
}

/* status.json is kept compact and re-indented on read: byte for byte what
 * jansson's JSON_INDENT(2) writes, plus one '\n'. */
static void
model_reindent_matches_jansson(void **state)
{
	static const char *const docs[] = {
		"{}",
		"[]",
		"{\"a\": {}, \"b\": [], \"c\": [{}, [], [[]], {\"d\": {}}]}",
		"{\"s\": \"{[,:]}\\\" \\\\\", \"t\": \"\\\\\", \"u\": \"\\u00e9\\u2603\"}",
		"{\"n\": -1.5e300, \"i\": 12345678901, \"z\": 0, \"f\": 0.1,"
		" \"t\": true, \"x\": false, \"nil\": null, \"e\": \"\"}",
		"{\"deep\": [[[[{\"a\": [1, {\"b\": [2, 3]}]}]]]], \"last\": {\"k\": \"v\"}}",
		"{\"id\": \"11111111-1111-4111-8111-111111111111\", \"name\": \"a b/c\","
		" \"access_information\": [{\"port_number\": 22, \"external_ips\": [\"1.2.3.4\"]}],"
		" \"resources\": {\"gpu_count\": 2, \"gpu_type\": \"A100\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *o = json_loads(docs[i], 0, NULL);
		char *compact, *pretty, *got;
		size_t n;

		assert_non_null(o);
		compact = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		pretty = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		assert_non_null(compact);
		assert_non_null(pretty);
		n = model_reindent(compact, strlen(compact), NULL);
		assert_int_equal(n, strlen(pretty) + 1);
		got = calloc(1, n + 1);
		assert_non_null(got);
		assert_int_equal(model_reindent(compact, strlen(compact), got), n);
		assert_int_equal(got[n - 1], '\n');
		got[n - 1] = '\0';
		assert_string_equal(got, pretty);
		free(got);
		free(compact);
		free(pretty);
		json_decref(o);
	}
}

/* Workspaces are held with their keys shrunk: what comes back is the object as sent
 * (compact, key order kept), status.json is its indented form, and equal
 * objects have equal held bytes (the page-cache version relies on it). */
static void
model_ws_held_shrunk(void **state)
{
	static const char body[] =
		"{\"workspaces\": ["
		"{\"id\": \"11111111-1111-4111-8111-111111111111\", \"name\": \"a\", \"zeta\": 1,"
		" \"workspace_status\": \"RUNNING\", \"description\": \"\u00e9 \\\" x\","
		" \"resources\": {\"gpu_count\": 2, \"gpu_type\": \"A100\"}, \"alpha\": [1, 2, 3]},"
		"{\"id\": \"22222222-2222-4222-8222-222222222222\", \"name\": \"b\","
		" \"x\\\"name\": \"\\\"id\\\":\\u0001\\n\", \"\\u0002\": {\"owner\": \"\\\"owner\\\":\"}},"
		"{\"id\": \"33333333-3333-4333-8333-333333333333\", \"name\": \"a\", \"zeta\": 1,"
		" \"workspace_status\": \"RUNNING\", \"description\": \"\u00e9 \\\" x\","
		" \"resources\": {\"gpu_count\": 2, \"gpu_type\": \"A100\"}, \"alpha\": [1, 2, 3]}"
		"]}";
	json_t *root = json_loads(body, 0, NULL), *arr;
	struct ws **v;
	size_t n;
	char *err = NULL;

	(void)state;
	assert_non_null(root);
	arr = json_object_get(root, "workspaces");
	assert_int_equal(model_parse_list(body, strlen(body), &v, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		char *want = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		char *pretty = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		char *got = model_ws_compact(v[i]), *json = model_ws_json(v[i]);

		assert_non_null(want);
		assert_non_null(got);
		assert_string_equal(got, want);
		assert_int_equal(v[i]->compact_len, strlen(want));
		assert_true(v[i]->held_len < v[i]->compact_len);
		assert_non_null(json);
		assert_int_equal(strlen(json), strlen(pretty) + 1);
		assert_memory_equal(json, pretty, strlen(pretty));
		free(want);
		free(pretty);
		free(got);
		free(json);
	}
	/* the first and the third differ only in id: different bytes, hashes */
	assert_true(model_ws_hash(v[0]) != model_ws_hash(v[2]));
	model_ws_array_free(v, n);
	/* the same object parsed twice: the same held bytes and hash */
	{
		struct ws **a, **b;
		size_t na, nb;
		unsigned long long ha;

		assert_int_equal(model_parse_list(body, strlen(body), &a, &na, &err), 0);
		assert_int_equal(model_parse_list(body, strlen(body), &b, &nb, &err), 0);
		assert_int_equal(a[0]->held_len, b[0]->held_len);
		assert_memory_equal(a[0]->compact, b[0]->compact, a[0]->held_len);
		ha = model_ws_hash(a[0]);
		assert_true(ha == model_ws_hash(b[0]));
		model_ws_array_free(a, na);
		model_ws_array_free(b, nb);
	}
	json_decref(root);
}

/* The list reply is parsed one workspace at a time when it has the plain
 * shape, and whole otherwise; both must give the same answers. */
static void
model_parse_list_shapes(void **state)
{
#define W(name) "{\"id\": \"11111111-1111-4111-8111-111111111111\", \"name\": \"" name "\"}"
	static const struct {
		const char *body;
		const char *names;	/* space-separated, NULL: -EIO */
	} cases[] = {
		{ "{\"workspaces\":[" W("a") "," W("b") "]}", "a b" },
		{ " \n{ \"workspaces\" :\t[ " W("a") " ,\n " W("b") " ] } \n", "a b" },
		{ "{\"total\": 2, \"meta\": {\"workspaces\": [" W("x") "]}, \"workspaces\": ["
		  W("a") "], \"after\": [1, \"]\", {\"}\": null}]}", "a" },
		{ "{\"workspaces\": []}", "" },
		{ "{\"workspaces\": [ ], \"total\": 0}", "" },
		{ "{\"workspaces\": [" W("a") ", 5, \"s\", null, " W("b") "]}", "a b" },
		{ "{\"workspaces\": [" W("a") ", {\"name\": \"no id\"}, " W("b") "]}", "a b" },
		{ "{\"workspaces\": [" W("old") "], \"workspaces\": [" W("new") "]}", "new" },
		{ "{\"work\\u0073paces\": [" W("esc") "]}", "esc" },
		{ "{\"workspaces\": [" W("a") ", {\"id\": \"x\", \"name\": \"big\","
		  " \"n\": 123456789012345678901234567890}]}", "a big" },
		{ "{\"workspaces\": [" W("a") "," W("b"), NULL },
		{ "{\"workspaces\": [" W("a") "]", NULL },
		{ "{\"workspaces\": [" W("a") "]} trailing", NULL },
		{ "{\"workspaces\": [" W("a") "], \"x\": nope}", NULL },
		{ "{\"workspaces\": [" W("a") "] \"x\": 1}", NULL },
		{ "{\"workspaces\": [" W("a") " " W("b") "]}", NULL },
		{ "{\"workspaces\": [" W("a") ",]}", NULL },
		{ "{\"x\": 1 \"workspaces\": [" W("a") "]}", NULL },
		{ "{\"workspaces\": {}}", NULL },
		{ "[" W("a") "]", NULL },
	};
#undef W

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ws **v = NULL;
		size_t n = 0;
		char *err = NULL, got[256] = "";
		int rc = parse_list(cases[i].body, &v, &n, &err);

		if (!cases[i].names) {
			if (rc != -EIO)
				fail_msg("case %zu: rc %d, expected -EIO", i, rc);
			assert_non_null(err);
			free(err);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu: rc %d (%s)", i, rc, err ? err : "");
		for (size_t k = 0; k < n; k++) {
			strcat(got, k ? " " : "");
			strcat(got, v[k]->name);
		}
		if (strcmp(got, cases[i].names) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, got, cases[i].names);
		model_ws_array_free(v, n);
	}
}

static void
model_parse_describe_cases(void **state)
{
	static const char good[] =
		"{\"workspace\": {\"id\": \"11111111-1111-4111-8111-111111111111\","
		" \"name\": \"nb\", \"workspace_status\": \"PENDING\","
		" \"created_at\": \"2026-01-02T03:04:05Z\"}}";
	static const char *const bad[] = {
		"{\"workspace\": {\"name\": \"nb\"}}",
		"{\"workspace\": {\"id\": \"x\"}}",
		"{\"workspace\": []}",
		"{\"workspaces\": [{\"id\": \"x\", \"name\": \"y\"}]}",
		"nope",
	};
	struct ws *w;
	char *err = NULL, *j;

	(void)state;
	assert_int_equal(model_parse_describe(good, strlen(good), &w, &err), 0);
	assert_non_null(w);
	assert_string_equal(w->name, "nb");
	assert_string_equal(w->status, "PENDING");
	assert_int_equal(w->created, T_0304_05);
	j = model_ws_json(w);
	assert_non_null(j);
	assert_int_equal(strlen(j), w->json_len);
	assert_int_equal(j[w->json_len - 1], '\n');
	free(j);
	model_ws_unref(w);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(model_parse_describe(bad[i], strlen(bad[i]), &w, &err),
				 -EIO);
		assert_null(w);
		assert_non_null(err);
		free(err);
	}
}

static void
model_parse_id_reply_cases(void **state)
{
	static const char *const bad[] = {
		"{}", "{\"workspace_id\": 5}", "{\"id\": \"x\"}", "garbage", "[\"x\"]",
	};
	char *id, *err = NULL;
	const char *good = "{\"workspace_id\": \"11111111-1111-4111-8111-111111111111\"}";

	(void)state;
	assert_int_equal(model_parse_id_reply(good, strlen(good), &id, &err), 0);
	assert_string_equal(id, "11111111-1111-4111-8111-111111111111");
	free(id);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(model_parse_id_reply(bad[i], strlen(bad[i]), &id, &err),
				 -EIO);
		assert_null(id);
		assert_non_null(err);
		free(err);
	}
}

/* The message of a problem body, or NULL, compared with want. */
static void
check_detail(const char *body, const char *want)
{
	char *m = model_problem_detail(body, body ? strlen(body) : 0);
	const char *shown = body ? body : "(null)";

	if (!want) {
		if (m)
			fail_msg("body %s gave \"%s\", expected NULL", shown, m);
		return;
	}
	if (!m)
		fail_msg("body %s gave NULL, expected \"%s\"", shown, want);
	assert_string_equal(m, want);
	free(m);
}

static void
model_problem_detail_cases(void **state)
{
	(void)state;
	check_detail("{\"detail\": {\"type\": \"x\", \"title\": \"Conflict\", \"status\": 409,"
		     " \"detail\": \"The cluster with ID 123 is busy.\"}}",
		     "The cluster with ID 123 is busy.");
	check_detail("{\"detail\": \"plain string\"}", "plain string");
	check_detail("{\"title\": \"Not Found\", \"status\": 404}", "Not Found");
	check_detail("{\"detail\": {\"title\": \"Inner Title\"}}", "Inner Title");
	check_detail("{\"detail\": 5, \"title\": \"Top\"}", "Top");
	check_detail("", NULL);
	check_detail(NULL, NULL);
	check_detail("<html>502 Bad Gateway</html>", NULL);
	check_detail("[{\"detail\": \"x\"}]", NULL);
	check_detail("\"detail\"", NULL);
	check_detail("{}", NULL);
	/* len is honoured: a prefix of a valid body is not valid */
	assert_null(model_problem_detail("{\"detail\": \"x\"}", 5));
}

static void
model_is_uuid_cases(void **state)
{
	(void)state;
	assert_true(model_is_uuid("123e4567-e89b-12d3-a456-426614174000"));
	assert_true(model_is_uuid("123E4567-E89B-12D3-A456-426614174000"));
	assert_true(model_is_uuid("00000000-0000-0000-0000-000000000000"));
	assert_false(model_is_uuid(NULL));
	assert_false(model_is_uuid(""));
	assert_false(model_is_uuid("123e4567-e89b-12d3-a456-42661417400"));
	assert_false(model_is_uuid("123e4567-e89b-12d3-a456-4266141740000"));
	assert_false(model_is_uuid("123e4567e89b-12d3-a456-4266141740000"));
	assert_false(model_is_uuid("123e4567-e89b-12d3-a456_426614174000"));
	assert_false(model_is_uuid("123e4567-e89b-12d3-a4566-42661417400"));
	assert_false(model_is_uuid("g23e4567-e89b-12d3-a456-426614174000"));
	assert_false(model_is_uuid("123e4567-e89b-12d3-a456-42661417400/"));
	assert_false(model_is_uuid("../../../../../../../../../etc/passwd"));
	assert_false(model_is_uuid("123e456789ab12d3a456426614174000abcd"));
}

static const char spec_sample[] =
	"{\n"
	"  \"name\": \"nb\",\n"
	"  \"cluster_id\": \"" CLUSTER "\",\n"
	"  \"template\": {\"name\": \"jupyter-notebook\", \"variables\": "
	"{\"braces\": \"}}}\", \"list\": [1, {\"x\": {}}, \"]\"]}},\n"
	"  \"resources\": {\"gpu_count\": 1},\n"
	"  \"description\": \"a \\\"quoted\\\" }\"\n"
	"}";

static void
model_spec_complete_prefixes(void **state)
{
	size_t len = strlen(spec_sample);
	char *skel;

	(void)state;
	assert_true(model_spec_complete(spec_sample, len));
	for (size_t i = 0; i < len; i++)
		if (model_spec_complete(spec_sample, i))
			fail_msg("a prefix of %zu bytes counts as complete", i);
	skel = model_spec_skeleton("nb", NULL, NULL, -1);
	assert_non_null(skel);
	len = strlen(skel);
	while (len > 0 && (skel[len - 1] == '\n' || skel[len - 1] == ' '))
		len--;
	assert_true(model_spec_complete(skel, strlen(skel)));
	for (size_t i = 0; i < len; i++)
		if (model_spec_complete(skel, i))
			fail_msg("a prefix of %zu bytes of the skeleton counts as complete", i);
	free(skel);
}

static void
model_spec_complete_cases(void **state)
{
	char buf[512];

	(void)state;
	snprintf(buf, sizeof(buf), "%s \n\t\r\n  \n", spec_sample);
	assert_true(model_spec_complete(buf, strlen(buf)));
	assert_true(model_spec_complete("{}", 2));
	assert_true(model_spec_complete("  {}\n", 5));
	/* never one object, whatever follows: final (-1) at once */
	assert_int_equal(model_spec_complete("[1, 2]", 6), -1);
	assert_int_equal(model_spec_complete("[{}]", 4), -1);
	assert_int_equal(model_spec_complete("42", 2), -1);
	assert_int_equal(model_spec_complete("\"{}\"", 4), -1);
	assert_int_equal(model_spec_complete("null", 4), -1);
	assert_int_equal(model_spec_complete("}", 1), -1);
	assert_int_equal(model_spec_complete("// c\n{}", 7), -1);
	/* trailing characters after the object: final too */
	assert_int_equal(model_spec_complete("{} {}", 5), -1);
	assert_int_equal(model_spec_complete("{}x", 3), -1);
	assert_int_equal(model_spec_complete("{\"a\": 1} // comment\n", 22), -1);
	assert_int_equal(model_spec_complete("{\"a\": 1} /", 11), -1);
	assert_int_equal(model_spec_complete("x{}", 3), -1);
	assert_int_equal(model_spec_complete("{\"a\": \"\\u0000\"}", 15), -1);
	assert_int_equal(model_spec_complete("{\"a\": 123456789012345678901234567890}", 37), -1);
	/* still a prefix: braces and quotes inside strings do not count */
	assert_int_equal(model_spec_complete("{\"a\": {}", 8), 0);
	assert_int_equal(model_spec_complete("{\"a\": \"}\"", 9), 0);
	assert_int_equal(model_spec_complete("{\"a\": \"\\\"}", 10), 0);
	assert_int_equal(model_spec_complete("{\"a\": \"}\"}", 10), 1);
	assert_false(model_spec_complete("", 0));
	assert_false(model_spec_complete("\n\n", 2));
	/* len is honoured */
	assert_false(model_spec_complete("{}", 1));
}

/* Build a spec; returns rc, leaves *body / *err for the caller. */
static int
build(const char *spec, const char *name, const char *cluster, char **body,
      char **err)
{
	int rc = model_spec_build(spec, strlen(spec), name, cluster, body, err);

	if (rc == 0) {
		assert_non_null(*body);
		assert_null(*err);
	} else {
		assert_null(*body);
		assert_non_null(*err);
	}
	return rc;
}

/* Expect -EINVAL whose message contains word. */
static void
build_fails(const char *spec, const char *name, const char *cluster,
	    const char *word)
{
	char *body, *err;
	int rc = build(spec, name, cluster, &body, &err);

	if (rc != -EINVAL)
		fail_msg("spec %s: rc %d, expected -EINVAL", spec, rc);
	if (!strstr(err, word))
		fail_msg("spec %s: message \"%s\" does not mention %s", spec, err, word);
	free(err);
}

static void
model_spec_build_valid(void **state)
{
	static const char spec[] =
		"{\n  \"cluster_id\": \"" CLUSTER "\",\n"
		"  \"template\": {\"name\": \"jupyter-notebook\", \"variables\": {\"x\": \"1\"}},\n"
		"  \"resources\": {\"gpu_count\": 1, \"memory_gb\": 16},\n"
		"  \"description\": \"d\"\n}\n";
	char *body, *err;

	(void)state;
	assert_int_equal(build(spec, "my nb", NULL, &body, &err), 0);
	assert_string_equal(body,
			    "{\"cluster_id\":\"" CLUSTER "\",\"template\":{\"name\":"
			    "\"jupyter-notebook\",\"variables\":{\"x\":\"1\"}},"
			    "\"resources\":{\"gpu_count\":1,\"memory_gb\":16},"
			    "\"description\":\"d\",\"name\":\"my nb\"}");
	free(body);
	/* a name in the spec that agrees is kept where it is */
	assert_int_equal(build(spec_sample, "nb", NULL, &body, &err), 0);
	assert_int_equal(strncmp(body, "{\"name\":\"nb\",\"cluster_id\"", 25), 0);
	assert_null(strchr(body, '\n'));
	free(body);
	/* a directory name that needs JSON escaping */
	assert_int_equal(build(spec, "a\"b/c", NULL, &body, &err), 0);
	assert_non_null(strstr(body, "\"name\":\"a\\\"b/c\"}"));
	free(body);
}

static void
model_spec_build_variables_added(void **state)
{
	static const char spec[] =
		"{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"t\"},"
		" \"resources\": {}}";
	char *body, *err;

	(void)state;
	assert_int_equal(build(spec, "n", NULL, &body, &err), 0);
	assert_string_equal(body,
			    "{\"cluster_id\":\"" CLUSTER "\",\"template\":{\"name\":\"t\","
			    "\"variables\":{}},\"resources\":{},\"name\":\"n\"}");
	free(body);
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"t\","
		    " \"variables\": []}, \"resources\": {}}", "n", NULL, "variables");
}

static void
model_spec_build_invalid(void **state)
{
	(void)state;
	/* a template (.templates/NAME.json) is not a create request */
	build_fails("{\"name\": \"jupyter-notebook\", \"description\": \"d\","
		    " \"variables\": {\"notebook_port\": \"8888\"}}", "my nb", NULL,
		    "spec.json holds a workspace template (\"jupyter-notebook\"), not a create request");
	build_fails("{\"name\": \"jupyter-notebook\", \"variables\": {}}", "my nb", NULL,
		    ": > 'my nb/spec.json' && jq --slurpfile t '.templates/jupyter-notebook.json' ");
	/* what can never be one object says what is wrong */
	build_fails("{\"name\": \"nb\"} // comment", "nb", NULL,
		    "trailing characters after the object, at byte 15: \"// comment\"");
	build_fails("{} {}", "nb", NULL, "trailing characters after the object, at byte 3");
	build_fails("[1, 2]", "nb", NULL, "must be one JSON object, starting with '{' (it starts with \"[1, 2]\")");
	build_fails("{\"name\": \"other\", \"cluster_id\": \"" CLUSTER "\","
		    " \"template\": {\"name\": \"t\"}, \"resources\": {}}", "nb", NULL,
		    "name");
	build_fails("{\"name\": \"other\", \"cluster_id\": \"" CLUSTER "\","
		    " \"template\": {\"name\": \"t\"}, \"resources\": {}}", "nb", NULL,
		    "other");
	build_fails("{\"name\": 7, \"cluster_id\": \"" CLUSTER "\","
		    " \"template\": {\"name\": \"t\"}, \"resources\": {}}", "nb", NULL,
		    "name");
	build_fails("{\"template\": {\"name\": \"t\"}, \"resources\": {}}", "nb", NULL,
		    "cluster_id");
	build_fails("{\"cluster_id\": \"not-a-uuid\", \"template\": {\"name\": \"t\"},"
		    " \"resources\": {}}", "nb", NULL, "cluster_id");
	build_fails("{\"cluster_id\": 5, \"template\": {\"name\": \"t\"},"
		    " \"resources\": {}}", "nb", NULL, "cluster_id");
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"resources\": {}}", "nb", NULL,
		    "template");
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": \"t\","
		    " \"resources\": {}}", "nb", NULL, "template");
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"variables\": {}},"
		    " \"resources\": {}}", "nb", NULL, "template.name");
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"\"},"
		    " \"resources\": {}}", "nb", NULL, "template.name");
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"t\"}}",
		    "nb", NULL, "resources");
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"t\"},"
		    " \"resources\": [1]}", "nb", NULL, "resources");
	build_fails("{\"cluster_id\": \"" CLUSTER "\"", "nb", NULL, "JSON");
	build_fails("not json at all", "nb", NULL, "JSON");
	build_fails("[{\"cluster_id\": \"" CLUSTER "\"}]", "nb", NULL, "object");
	/* a directory name that is not UTF-8 cannot become "name" */
	build_fails("{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"t\"},"
		    " \"resources\": {}}", "bad\xff", NULL, "name");
}

static void
model_spec_build_cluster_filter(void **state)
{
	static const char other[] = "ffffffff-e89b-12d3-a456-426614174001";
	static const char upper[] = "123E4567-E89B-12D3-A456-426614174001";
	char spec[256], *body, *err;

	(void)state;
	assert_int_equal(build("{\"template\": {\"name\": \"t\"}, \"resources\": {}}",
			       "nb", CLUSTER, &body, &err), 0);
	assert_non_null(strstr(body, "\"cluster_id\":\"" CLUSTER "\""));
	free(body);
	snprintf(spec, sizeof(spec), "{\"cluster_id\": \"%s\", \"template\":"
		 " {\"name\": \"t\"}, \"resources\": {}}", other);
	build_fails(spec, "nb", CLUSTER, "cluster");
	snprintf(spec, sizeof(spec), "{\"cluster_id\": \"%s\", \"template\":"
		 " {\"name\": \"t\"}, \"resources\": {}}", upper);
	assert_int_equal(build(spec, "nb", CLUSTER, &body, &err), 0);
	free(body);
	/* the filter itself is no excuse for a bad id in the spec */
	build_fails("{\"cluster_id\": \"x\", \"template\": {\"name\": \"t\"},"
		    " \"resources\": {}}", "nb", CLUSTER, "cluster_id");
}

static void
model_spec_build_size(void **state)
{
	static const char head[] =
		"{\"cluster_id\": \"" CLUSTER "\", \"template\": {\"name\": \"t\"},"
		" \"resources\": {}}";
	char *buf = malloc(MODEL_SPEC_MAX + 2), *body, *err;

	(void)state;
	assert_non_null(buf);
	memset(buf, ' ', MODEL_SPEC_MAX + 1);
	memcpy(buf, head, strlen(head));
	buf[MODEL_SPEC_MAX + 1] = '\0';
	/* exactly 64 KiB is accepted */
	assert_int_equal(model_spec_build(buf, MODEL_SPEC_MAX, "nb", NULL, &body, &err),
			 0);
	free(body);
	/* one byte more is not */
	assert_int_equal(model_spec_build(buf, MODEL_SPEC_MAX + 1, "nb", NULL, &body,
					  &err), -EFBIG);
	assert_null(body);
	assert_non_null(err);
	free(err);
	free(buf);
}

static void
model_spec_skeleton_cases(void **state)
{
	char *s, *body, *err;
	json_t *root;

	(void)state;
	s = model_spec_skeleton("nb", NULL, NULL, -1);
	assert_non_null(s);
	assert_int_equal(s[strlen(s) - 1], '\n');
	assert_int_not_equal(s[strlen(s) - 2], '\n');
	assert_true(model_spec_complete(s, strlen(s)));
	root = json_loads(s, 0, NULL);
	assert_true(json_is_object(root));
	assert_string_equal(json_string_value(json_object_get(root, "name")), "nb");
	/* no cluster known: left blank, and an untouched skeleton never builds */
	assert_string_equal(json_string_value(json_object_get(root, "cluster_id")), "");
	json_decref(root);
	build_fails(s, "nb", NULL, "\"cluster_id\" is empty: set it to the id of the cluster");
	free(s);
	s = model_spec_skeleton("nb", CLUSTER, NULL, -1);
	assert_int_equal(build(s, "nb", NULL, &body, &err), 0);
	free(body);
	free(s);
	/* the zero UUID placeholder of older skeletons is refused by name */
	build_fails("{\"cluster_id\": \"00000000-0000-0000-0000-000000000000\","
		    " \"template\": {\"name\": \"t\"}, \"resources\": {}}", "nb", NULL,
		    "\"cluster_id\" is the zero UUID placeholder");

	s = model_spec_skeleton("we\"ird/na me", CLUSTER, NULL, -1);
	assert_non_null(s);
	root = json_loads(s, 0, NULL);
	assert_true(json_is_object(root));
	assert_string_equal(json_string_value(json_object_get(root, "name")),
			    "we\"ird/na me");
	assert_string_equal(json_string_value(json_object_get(root, "cluster_id")),
			    CLUSTER);
	json_decref(root);
	assert_int_equal(build(s, "we\"ird/na me", CLUSTER, &body, &err), 0);
	free(body);
	free(s);

	/* a name that is not UTF-8 still gives a JSON object */
	s = model_spec_skeleton("bad\xff", NULL, NULL, -1);
	assert_non_null(s);
	root = json_loads(s, 0, NULL);
	assert_true(json_is_object(root));
	json_decref(root);
	free(s);
}

/* Parse a control write; returns rc, checks *err follows it. */
static int
control(const char *buf, enum model_cmd *cmds, size_t *n, char **err)
{
	int rc = model_parse_control(buf, strlen(buf), cmds, n, err);

	if (rc == 0)
		assert_null(*err);
	else
		assert_non_null(*err);
	return rc;
}

static void
model_parse_control_good(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		enum model_cmd c0, c1;
	} good[] = {
		{ "start", 1, MODEL_CMD_START, 0 },
		{ "stop\n", 1, MODEL_CMD_STOP, 0 },
		{ "  START  \n", 1, MODEL_CMD_START, 0 },
		{ "\tStOp\r\n", 1, MODEL_CMD_STOP, 0 },
		{ "start\nstop\n", 2, MODEL_CMD_START, MODEL_CMD_STOP },
		{ "\n\nstop\n\n  \nstart", 2, MODEL_CMD_STOP, MODEL_CMD_START },
	};
	enum model_cmd cmds[MODEL_CMD_MAX];
	size_t n;
	char *err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(control(good[i].in, cmds, &n, &err), 0);
		assert_int_equal(n, good[i].n);
		assert_int_equal(cmds[0], good[i].c0);
		if (n > 1)
			assert_int_equal(cmds[1], good[i].c1);
	}
	assert_string_equal(model_cmd_name(MODEL_CMD_START), "start");
	assert_string_equal(model_cmd_name(MODEL_CMD_STOP), "stop");
}

static void
model_parse_control_bad(void **state)
{
	static const char *const bad[] = {
		"", "\n\n", "  \n \t\n", "start\nbogus", "bogus\nstart", "start stop",
		"starts", "sto", "restart", "st\nart", "stop;", "\"stop\"",
	};
	enum model_cmd cmds[MODEL_CMD_MAX];
	size_t n;
	char *err;

	(void)state;
	assert_int_equal(control("bogus", cmds, &n, &err), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	free(err);
	assert_int_equal(control("", cmds, &n, &err), -EINVAL);
	assert_int_equal(n, 0);
	free(err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (control(bad[i], cmds, &n, &err) != -EINVAL)
			fail_msg("control write \"%s\" accepted", bad[i]);
		free(err);
	}
	/* an embedded NUL is part of the line, not its end, and is named */
	assert_int_equal(model_parse_control("stop\0x", 6, cmds, &n, &err), -EINVAL);
	assert_non_null(strstr(err, "a NUL byte at offset 4"));
	free(err);
	assert_int_equal(model_parse_control("start\0stop\n", 11, cmds, &n, &err), -EINVAL);
	assert_non_null(strstr(err, "NUL byte at offset 5"));
	assert_null(strstr(err, "unknown command"));
	free(err);
	/* garbage is escaped when echoed: controls, invalid UTF-8, quotes */
	assert_int_equal(control("a\x1b[31m\xff\xfe\"b\\\x7f\xc2\x85z", cmds, &n, &err), -EINVAL);
	assert_string_equal(err, "control: unknown command \"a\\x1B[31m\\xFF\\xFE\\\"b\\\\\\x7F\\xC2\\x85z\" (known: start, stop)");
	free(err);
	/* readable UTF-8 stays readable */
	assert_int_equal(control("\xef\xbd\x93top", cmds, &n, &err), -EINVAL);
	assert_string_equal(err, "control: unknown command \"\xef\xbd\x93top\" (known: start, stop)");
	free(err);
	/* a very long unknown command is named, but briefly */
	{
		char longcmd[1000];

		memset(longcmd, 'z', sizeof(longcmd) - 1);
		longcmd[sizeof(longcmd) - 1] = '\0';
		assert_int_equal(control(longcmd, cmds, &n, &err), -EINVAL);
		assert_non_null(strstr(err, "zzzz..."));
		assert_true(strlen(err) < 200);
		free(err);
	}
}

static void
model_parse_control_max(void **state)
{
	enum model_cmd cmds[MODEL_CMD_MAX + 4];
	char buf[(MODEL_CMD_MAX + 2) * 6 + 1];
	size_t n, len = 0;
	char *err;

	(void)state;
	for (int i = 0; i < MODEL_CMD_MAX; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n",
					i % 2 ? "stop" : "start");
	assert_int_equal(control(buf, cmds, &n, &err), 0);
	assert_int_equal(n, MODEL_CMD_MAX);
	assert_int_equal(cmds[MODEL_CMD_MAX - 1], MODEL_CMD_STOP);
	snprintf(buf + len, sizeof(buf) - len, "stop\n");
	assert_int_equal(control(buf, cmds, &n, &err), -EINVAL);
	free(err);
}

static void
model_ws_ref_unref(void **state)
{
	static const char body[] =
		"{\"workspace\": {\"id\": \"i\", \"name\": \"n\"}}";
	struct ws *w, *r;
	char *err;

	(void)state;
	assert_int_equal(model_parse_describe(body, strlen(body), &w, &err), 0);
	assert_int_equal(w->refs, 1);
	r = model_ws_ref(w);
	assert_ptr_equal(r, w);
	assert_int_equal(w->refs, 2);
	model_ws_ref(w);
	assert_int_equal(w->refs, 3);
	model_ws_unref(w);
	model_ws_unref(w);
	assert_int_equal(w->refs, 1);
	assert_string_equal(w->name, "n");
	model_ws_unref(NULL);
	model_ws_unref(w);	/* freed: ASan/valgrind would see a leak otherwise */
}

static void
model_strings(void **state)
{
	char *s;

	(void)state;
	assert_null(model_strdup(NULL));
	s = model_strdup("abc");
	assert_string_equal(s, "abc");
	free(s);
	s = model_asprintf("%s-%d", "x", 42);
	assert_string_equal(s, "x-42");
	free(s);
	/* the states a command asks for, or that lead there */
	assert_true(model_cmd_reached(MODEL_CMD_START, "RUNNING"));
	assert_true(model_cmd_reached(MODEL_CMD_START, "PENDING"));
	assert_false(model_cmd_reached(MODEL_CMD_START, "STOPPED"));
	assert_false(model_cmd_reached(MODEL_CMD_START, "FAILED"));
	assert_true(model_cmd_reached(MODEL_CMD_STOP, "STOPPED"));
	assert_false(model_cmd_reached(MODEL_CMD_STOP, "RUNNING"));
	assert_false(model_cmd_reached(MODEL_CMD_STOP, "PENDING"));
	assert_false(model_cmd_reached(MODEL_CMD_STOP, NULL));
	/* a message that names the failure itself is not wrapped again */
	s = model_msg_lead("create failed", "create failed: HTTP 500: boom");
	assert_string_equal(s, "create failed: HTTP 500: boom");
	free(s);
	s = model_msg_lead("create failed", "POST http://h/v1/workspaces: Empty reply from server");
	assert_string_equal(s, "create failed: POST http://h/v1/workspaces: Empty reply from server");
	free(s);
	s = model_msg_lead("create failed", "create failedness");
	assert_string_equal(s, "create failed: create failedness");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_parse_list_good),
		cmocka_unit_test(model_parse_list_created),
		cmocka_unit_test(model_parse_list_nul),
		cmocka_unit_test(model_parse_list_json_rendering),
		cmocka_unit_test(model_parse_list_errors),
		cmocka_unit_test(model_reindent_matches_jansson),
		cmocka_unit_test(model_ws_held_shrunk),
		cmocka_unit_test(model_parse_list_shapes),
		cmocka_unit_test(model_parse_describe_cases),
		cmocka_unit_test(model_parse_id_reply_cases),
		cmocka_unit_test(model_problem_detail_cases),
		cmocka_unit_test(model_is_uuid_cases),
		cmocka_unit_test(model_spec_complete_prefixes),
		cmocka_unit_test(model_spec_complete_cases),
		cmocka_unit_test(model_spec_build_valid),
		cmocka_unit_test(model_spec_build_variables_added),
		cmocka_unit_test(model_spec_build_invalid),
		cmocka_unit_test(model_spec_build_cluster_filter),
		cmocka_unit_test(model_spec_build_size),
		cmocka_unit_test(model_spec_skeleton_cases),
		cmocka_unit_test(model_parse_control_good),
		cmocka_unit_test(model_parse_control_bad),
		cmocka_unit_test(model_parse_control_max),
		cmocka_unit_test(model_ws_ref_unref),
		cmocka_unit_test(model_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
