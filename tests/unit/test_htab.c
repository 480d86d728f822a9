/*
 * test_htab: the insert-only string table. Covers put and get, -EEXIST on
 * a duplicate key (the first value stays), a table that is never
 * initialised (cap 0), and growth to 10000 keys (load factor kept under
 * 1/2) with every key still found afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "htab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
htab_put_get(void **state)
{
	struct htab h;
	int a = 1, b = 2, c = 3;

	(void)state;
	assert_int_equal(htab_init(&h, 4), 0);
	assert_int_equal(h.len, 0);
	assert_int_equal(htab_put(&h, "alpha", &a), 0);
	assert_int_equal(htab_put(&h, "beta", &b), 0);
	assert_int_equal(htab_put(&h, "", &c), 0);
	assert_int_equal(h.len, 3);
	assert_ptr_equal(htab_get(&h, "alpha"), &a);
	assert_ptr_equal(htab_get(&h, "beta"), &b);
	assert_ptr_equal(htab_get(&h, ""), &c);
	assert_null(htab_get(&h, "gamma"));
	assert_null(htab_get(&h, "alph"));
	assert_null(htab_get(&h, "alphaa"));
	htab_free(&h);
	assert_int_equal(h.cap, 0);
	assert_null(htab_get(&h, "alpha"));
}

static void
htab_put_duplicate(void **state)
{
	struct htab h;
	int a = 1, b = 2;
	char key2[] = "same";

	(void)state;
	assert_int_equal(htab_init(&h, 0), 0);
	assert_int_equal(htab_put(&h, "same", &a), 0);
	/* equal content, different pointer: still a duplicate */
	assert_int_equal(htab_put(&h, key2, &b), -EEXIST);
	assert_ptr_equal(htab_get(&h, "same"), &a);
	assert_int_equal(h.len, 1);
	htab_free(&h);
}

static void
htab_empty_table(void **state)
{
	struct htab h = { 0 };
	int a = 1;

	(void)state;
	assert_null(htab_get(&h, "x"));
	assert_null(htab_get(&h, ""));
	htab_free(&h);
	/* a zeroed table may be used without htab_init */
	assert_int_equal(htab_put(&h, "x", &a), 0);
	assert_ptr_equal(htab_get(&h, "x"), &a);
	htab_free(&h);
	assert_int_equal(htab_init(&h, 100), 0);
	assert_true(h.cap >= 201);
	assert_int_equal(h.cap & (h.cap - 1), 0);
	assert_null(htab_get(&h, "x"));
	htab_free(&h);
}

static void
htab_grows(void **state)
{
	enum { N = 10000 };
	char (*keys)[24] = calloc(N, sizeof(*keys));
	struct htab h = { 0 };
	size_t lastcap = 0;
	int grew = 0;

	(void)state;
	assert_non_null(keys);
	assert_int_equal(htab_init(&h, 1), 0);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
		assert_int_equal(htab_put(&h, keys[i], &keys[i]), 0);
		/* load factor stays under 1/2 */
		assert_true(h.len * 2 <= h.cap);
		if (h.cap != lastcap) {
			grew++;
			lastcap = h.cap;
		}
		/* a few earlier keys survive every growth */
		assert_ptr_equal(htab_get(&h, keys[0]), &keys[0]);
		assert_ptr_equal(htab_get(&h, keys[i / 2]), &keys[i / 2]);
	}
	assert_true(grew > 3);
	assert_int_equal(h.len, N);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(htab_get(&h, keys[i]), &keys[i]);
	for (int i = 0; i < N; i++) {
		char probe[24];

		snprintf(probe, sizeof(probe), "key-%d", i);
		assert_int_equal(htab_put(&h, probe, NULL), -EEXIST);
		snprintf(probe, sizeof(probe), "other-%d", i);
		assert_null(htab_get(&h, probe));
	}
	assert_int_equal(h.len, N);
	htab_free(&h);
	free(keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(htab_put_get),
		cmocka_unit_test(htab_put_duplicate),
		cmocka_unit_test(htab_empty_table),
		cmocka_unit_test(htab_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
