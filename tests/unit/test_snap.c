/*
 * test_snap: snapshots built from workspaces parsed out of literal list
 * bodies (model_parse_list). Covers directory naming through path.c's
 * rules, lookup by directory name and by id, duplicate ids (the first
 * copy wins), mtimes carried over from the previous snapshot only when the
 * rendering is unchanged, and that every reference is given back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "snap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID1 "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define ID2 "22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define ID3 "33333333-cccc-4ccc-8ccc-cccccccccccc"
#define ID4 "44444444-dddd-4ddd-8ddd-dddddddddddd"

#define WS(id, name, status, created) \
	"{\"id\": \"" id "\", \"name\": \"" name "\", \"workspace_status\": \"" \
	status "\", \"created_at\": \"" created "\"}"

static const char list_v1[] = "{\"workspaces\": ["
	WS(ID2, "nb", "RUNNING", "2026-01-02T00:00:00Z") ","
	WS(ID1, "nb", "RUNNING", "2026-01-01T00:00:00Z") ","
	WS(ID3, "a/b", "STOPPED", "2026-01-03T00:00:00Z") ","
	WS(ID1, "dup of 1", "PENDING", "2026-01-09T00:00:00Z") ","
	WS(ID4, ".dot", "PENDING", "2026-01-04T00:00:00Z")
	"]}";

/* ID2 changed status, ID3 gone, the rest the same. */
static const char list_v2[] = "{\"workspaces\": ["
	WS(ID2, "nb", "STOPPED", "2026-01-02T00:00:00Z") ","
	WS(ID1, "nb", "RUNNING", "2026-01-01T00:00:00Z") ","
	WS(ID4, ".dot", "PENDING", "2026-01-04T00:00:00Z")
	"]}";

/* Parse a list body; the array is the caller's (free with free()). */
static struct ws **
parse(const char *body, size_t *n)
{
	struct ws **v = NULL;
	char *err = NULL;

	if (model_parse_list(body, strlen(body), &v, n, &err) != 0)
		fail_msg("model_parse_list: %s", err ? err : "?");
	return v;
}

/* snap_build logs the duplicate id; keep the test output clean. */
static struct snap *
build(struct ws **v, size_t n, const struct snap *prev, time_t now)
{
	int null = open("/dev/null", O_WRONLY), saved;
	struct snap *s;

	assert_true(null >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(null, 2);
	close(null);
	s = snap_build(v, n, prev, now);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return s;
}

static void
snap_build_names_and_lookup(void **state)
{
	const struct snap_ent *e;
	struct ws **v;
	struct snap *s;
	size_t n;

	(void)state;
	v = parse(list_v1, &n);
	assert_int_equal(n, 5);
	s = build(v, n, NULL, 1000);
	assert_non_null(s);
	/* references stolen */
	for (size_t i = 0; i < n; i++)
		assert_null(v[i]);
	free(v);

	assert_int_equal(s->n, 4);
	assert_int_equal(s->built, 1000);
	/* the API's order, duplicate dropped */
	assert_string_equal(s->v[0].ws->id, ID2);
	assert_string_equal(s->v[1].ws->id, ID1);
	assert_string_equal(s->v[2].ws->id, ID3);
	assert_string_equal(s->v[3].ws->id, ID4);
	/* the older "nb" keeps the plain name */
	assert_string_equal(s->v[0].dirname, "nb@22222222");
	assert_string_equal(s->v[1].dirname, "nb");
	assert_string_equal(s->v[2].dirname, "a%2Fb");
	assert_string_equal(s->v[3].dirname, "%2Edot");

	e = snap_find_dir(s, "nb");
	assert_non_null(e);
	assert_string_equal(e->ws->id, ID1);
	assert_ptr_equal(e, &s->v[1]);
	e = snap_find_dir(s, "nb@22222222");
	assert_non_null(e);
	assert_string_equal(e->ws->id, ID2);
	assert_ptr_equal(snap_find_dir(s, "a%2Fb"), &s->v[2]);
	assert_null(snap_find_dir(s, "a/b"));
	assert_null(snap_find_dir(s, ".dot"));
	assert_null(snap_find_dir(s, "missing"));

	e = snap_find_id(s, ID3);
	assert_non_null(e);
	assert_string_equal(e->dirname, "a%2Fb");
	/* the first copy of a duplicated id is the one kept */
	e = snap_find_id(s, ID1);
	assert_string_equal(e->ws->name, "nb");
	assert_string_equal(e->ws->status, "RUNNING");
	assert_null(snap_find_id(s, "99999999-0000-4000-8000-000000000000"));
	for (size_t i = 0; i < s->n; i++)
		assert_int_equal(s->v[i].mtime, 1000);
	snap_unref(s);
}

static void
snap_build_mtime(void **state)
{
	struct ws **v;
	struct snap *s1, *s2, *s3;
	size_t n;

	(void)state;
	v = parse(list_v1, &n);
	s1 = build(v, n, NULL, 1000);
	free(v);
	assert_non_null(s1);

	v = parse(list_v2, &n);
	s2 = build(v, n, s1, 2000);
	free(v);
	assert_non_null(s2);
	assert_int_equal(s2->n, 3);
	/* changed: now; unchanged: the old time */
	assert_int_equal(snap_find_id(s2, ID2)->mtime, 2000);
	assert_int_equal(snap_find_id(s2, ID1)->mtime, 1000);
	assert_int_equal(snap_find_id(s2, ID4)->mtime, 1000);
	assert_null(snap_find_id(s2, ID3));
	assert_string_equal(snap_find_id(s2, ID2)->ws->status, "STOPPED");

	/* carried over again through a second generation */
	v = parse(list_v2, &n);
	s3 = build(v, n, s2, 3000);
	free(v);
	assert_int_equal(snap_find_id(s3, ID2)->mtime, 2000);
	assert_int_equal(snap_find_id(s3, ID1)->mtime, 1000);
	snap_unref(s3);

	/* a workspace that comes back after a gap is new again */
	v = parse(list_v1, &n);
	s3 = build(v, n, s2, 4000);
	free(v);
	assert_int_equal(snap_find_id(s3, ID3)->mtime, 4000);
	assert_int_equal(snap_find_id(s3, ID2)->mtime, 4000);
	assert_int_equal(snap_find_id(s3, ID1)->mtime, 1000);
	snap_unref(s3);
	snap_unref(s2);
	snap_unref(s1);
}

static void
snap_build_releases_references(void **state)
{
	struct ws **v, *keep[5];
	struct snap *s;
	size_t n;

	(void)state;
	v = parse(list_v1, &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		keep[i] = model_ws_ref(v[i]);
		assert_int_equal(keep[i]->refs, 2);
	}
	s = build(v, n, NULL, 1000);
	free(v);
	/* the dropped duplicate was released at once */
	assert_int_equal(keep[3]->refs, 1);
	assert_int_equal(keep[0]->refs, 2);
	assert_ptr_equal(snap_ref(s), s);
	assert_int_equal(s->refs, 2);
	snap_unref(s);
	assert_int_equal(keep[0]->refs, 2);
	snap_unref(s);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(keep[i]->refs, 1);
		model_ws_unref(keep[i]);
	}
	snap_unref(NULL);
}

static void
snap_build_empty(void **state)
{
	struct snap *s;

	(void)state;
	s = snap_build(NULL, 0, NULL, 5);
	assert_non_null(s);
	assert_int_equal(s->n, 0);
	assert_null(snap_find_dir(s, "x"));
	assert_null(snap_find_id(s, ID1));
	snap_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snap_build_names_and_lookup),
		cmocka_unit_test(snap_build_mtime),
		cmocka_unit_test(snap_build_releases_references),
		cmocka_unit_test(snap_build_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
