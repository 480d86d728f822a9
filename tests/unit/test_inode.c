/*
 * test_inode: the inode table: lookups count, forget frees at zero and
 * never reuses a number, paths join under their parent, unlink and
 * rename move bindings, and growth keeps every inode reachable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "inode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
inode_lookup_counts_and_forgets(void **state)
{
	struct inode_table *t = inode_table_new();
	char buf[INODE_PATH_MAX];
	uint64_t a, b, c, f;

	(void)state;
	assert_non_null(t);
	assert_int_equal(inode_path(t, INODE_ROOT, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(inode_lookup(t, INODE_ROOT, "ws", &a), 0);
	assert_int_equal(inode_lookup(t, INODE_ROOT, "ws", &b), 0);
	assert_true(a == b && a != INODE_ROOT);
	assert_int_equal(inode_lookup(t, a, "status", &f), 0);
	assert_int_equal(inode_path(t, f, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/ws/status");
	assert_int_equal(inode_find(t, "/ws/status"), f);
	assert_int_equal(inode_count(t), 3);
	inode_forget(t, a, 1);
	assert_int_equal(inode_path(t, a, buf, sizeof(buf)), 0);
	inode_forget(t, a, 1);
	assert_int_equal(inode_path(t, a, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(inode_find(t, "/ws"), 0);
	/* a new lookup gets a new number, never the old one */
	assert_int_equal(inode_lookup(t, INODE_ROOT, "ws", &c), 0);
	assert_true(c != a);
	inode_forget(t, INODE_ROOT, 100); /* the root stays */
	assert_int_equal(inode_path(t, INODE_ROOT, buf, sizeof(buf)), 0);
	assert_int_equal(inode_child_path(t, c, "error", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/ws/error");
	assert_int_equal(inode_child_path(t, 999999, "x", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(inode_path(t, f, buf, 4), -ENAMETOOLONG);
	inode_table_free(t);
}

static void
inode_unlink_and_rename(void **state)
{
	struct inode_table *t = inode_table_new();
	char buf[INODE_PATH_MAX];
	uint64_t d, tmp, spec, again;

	(void)state;
	assert_int_equal(inode_lookup(t, INODE_ROOT, "draft", &d), 0);
	assert_int_equal(inode_lookup(t, d, "spec.json", &spec), 0);
	assert_int_equal(inode_lookup(t, d, ".spec.swp", &tmp), 0);
	/* an editor saves: the temporary file replaces spec.json */
	assert_int_equal(inode_rename(t, d, ".spec.swp", d, "spec.json"), 0);
	assert_int_equal(inode_path(t, tmp, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/draft/spec.json");
	assert_int_equal(inode_path(t, spec, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(inode_find(t, "/draft/.spec.swp"), 0);
	assert_int_equal(inode_rename(t, d, "nothing", d, "x"), -ENOENT);
	/* rmdir: the directory's inode no longer resolves; a new one is made */
	inode_unlink(t, INODE_ROOT, "draft");
	assert_int_equal(inode_path(t, d, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(inode_lookup(t, INODE_ROOT, "draft", &again), 0);
	assert_true(again != d);
	inode_forget(t, d, 1);
	inode_forget(t, spec, 1);
	inode_forget(t, tmp, 1);
	inode_forget(t, again, 1);
	assert_int_equal(inode_count(t), 1);
	inode_table_free(t);
}

static void
inode_many(void **state)
{
	struct inode_table *t = inode_table_new();
	static uint64_t ino[5000];
	char name[32], buf[INODE_PATH_MAX];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		assert_int_equal(inode_lookup(t, INODE_ROOT, name, &ino[i]), 0);
	}
	assert_int_equal(inode_count(t), 5001);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "/w%d", i);
		assert_int_equal(inode_path(t, ino[i], buf, sizeof(buf)), 0);
		assert_string_equal(buf, name);
		assert_int_equal(inode_find(t, name), ino[i]);
	}
	for (int i = 0; i < 5000; i += 2)
		inode_forget(t, ino[i], 1);
	assert_int_equal(inode_count(t), 2501);
	inode_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inode_lookup_counts_and_forgets),
		cmocka_unit_test(inode_unlink_and_rename),
		cmocka_unit_test(inode_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
