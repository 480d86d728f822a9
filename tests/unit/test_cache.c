/*
 * test_cache: cache.c with an injected clock (a counter in the fixture, so
 * no test sleeps for a TTL) and small reference-counted values whose live
 * count must be back to zero after cache_free. Covers first fetch, hits
 * within the TTL, refetch at the TTL, ttl 0, invalidation (also from inside
 * a fetch), errors that are not cached, cache_state and sequence order,
 * cache_prune, and single-flight: 8 threads, one fetch, 7 joins, for a
 * succeeding and for a failing fetch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cache.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TTL 1000
#define NTHREADS 8

/* A value: refcounted, numbered by the fetch that made it. */
struct val {
	int refs;
	int id;
};

static int val_live;	/* values not yet freed; atomic */

static struct val *
val_new(int id)
{
	struct val *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->refs = 1;
	v->id = id;
	__atomic_add_fetch(&val_live, 1, __ATOMIC_RELAXED);
	return v;
}

static void *
val_ref(void *p)
{
	struct val *v = p;

	__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

static void
val_unref(void *p)
{
	struct val *v = p;

	if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(v);
		__atomic_sub_fetch(&val_live, 1, __ATOMIC_RELAXED);
	}
}

static int
val_refs(const struct val *v)
{
	return __atomic_load_n(&v->refs, __ATOMIC_ACQUIRE);
}

struct fx {
	struct cache *c;
	long long now;			/* the clock, ms; atomic */
	int fetches;			/* atomic */
	int made;			/* ids handed out; atomic */
	int fail_rc;			/* next fetches fail with this */
	const char *fail_msg;
	int invalidate_in_fetch;
	int prune_in_fetch;
	int hold;			/* fetches wait while set; atomic */
	unsigned long wait_joins;	/* fetch waits for this many joins */
	unsigned long joins_seen;
};

static long long
fx_clock(void *arg)
{
	struct fx *f = arg;

	return __atomic_load_n(&f->now, __ATOMIC_ACQUIRE);
}

static void
fx_set_now(struct fx *f, long long t)
{
	__atomic_store_n(&f->now, t, __ATOMIC_RELEASE);
}

static int
fx_fetches(struct fx *f)
{
	return __atomic_load_n(&f->fetches, __ATOMIC_ACQUIRE);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
fx_fetch(void *arg, const char *key, void **out, char **err)
{
	struct fx *f = arg;
	struct cache_stats st = { 0 };

	__atomic_add_fetch(&f->fetches, 1, __ATOMIC_ACQ_REL);
	for (int i = 0; i < 10000 && __atomic_load_n(&f->hold, __ATOMIC_ACQUIRE); i++)
		sleep_ms(1);
	if (f->invalidate_in_fetch)
		cache_invalidate(f->c, key);
	if (f->prune_in_fetch)
		cache_prune(f->c, ULONG_MAX, "");
	if (f->wait_joins) {
		/* hold the fetch until every other caller has joined it */
		for (int i = 0; i < 5000; i++) {
			cache_get_stats(f->c, &st);
			if (st.joins >= f->wait_joins)
				break;
			sleep_ms(1);
		}
		f->joins_seen = st.joins;
	}
	if (f->fail_rc) {
		*err = strdup(f->fail_msg);
		return f->fail_rc;
	}
	*out = val_new(__atomic_add_fetch(&f->made, 1, __ATOMIC_ACQ_REL));
	return *out ? 0 : -ENOMEM;
}

static int
fx_setup_ttl(void **state, long long ttl)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cache_hooks hooks = {
		.ref = val_ref,
		.unref = val_unref,
		.clock = fx_clock,
	};

	if (!f)
		return -1;
	hooks.clock_arg = f;
	f->c = cache_new(ttl, &hooks);
	if (!f->c) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
fx_setup(void **state)
{
	return fx_setup_ttl(state, TTL);
}

static int
fx_setup_ttl0(void **state)
{
	return fx_setup_ttl(state, 0);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	int live;

	cache_free(f->c);
	free(f);
	live = __atomic_load_n(&val_live, __ATOMIC_ACQUIRE);
	if (live != 0) {
		print_error("%d value(s) still referenced after cache_free\n", live);
		__atomic_store_n(&val_live, 0, __ATOMIC_RELEASE);
		return -1;
	}
	return 0;
}

/* cache_get that must succeed; returns the value's id, drops the ref. */
static int
get_id(struct fx *f, const char *key, unsigned long *seq)
{
	void *v = NULL;
	char *err = NULL;
	int rc = cache_get(f->c, key, fx_fetch, f, &v, seq, &err);
	int id;

	if (rc != 0)
		fail_msg("cache_get(%s) = %d (%s)", key, rc, err ? err : "");
	assert_non_null(v);
	assert_null(err);
	id = ((struct val *)v)->id;
	val_unref(v);
	return id;
}

static void
stats(struct fx *f, unsigned long hits, unsigned long misses,
      unsigned long joins, unsigned long errors)
{
	struct cache_stats st;

	cache_get_stats(f->c, &st);
	assert_int_equal(st.hits, hits);
	assert_int_equal(st.misses, misses);
	assert_int_equal(st.joins, joins);
	assert_int_equal(st.errors, errors);
}

static void
cache_get_fetch_hit_refetch(void **state)
{
	struct fx *f = *state;
	void *v1, *v2;
	char *err;

	assert_int_equal(cache_get(f->c, "k", fx_fetch, f, &v1, NULL, &err), 0);
	assert_int_equal(((struct val *)v1)->id, 1);
	assert_int_equal(fx_fetches(f), 1);
	stats(f, 0, 1, 0, 0);
	/* the cache holds one reference, the caller another */
	assert_int_equal(val_refs(v1), 2);

	fx_set_now(f, TTL - 1);
	assert_int_equal(cache_get(f->c, "k", fx_fetch, f, &v2, NULL, &err), 0);
	assert_ptr_equal(v2, v1);
	assert_int_equal(fx_fetches(f), 1);
	assert_int_equal(val_refs(v1), 3);
	stats(f, 1, 1, 0, 0);
	val_unref(v2);

	fx_set_now(f, TTL);
	assert_int_equal(cache_get(f->c, "k", fx_fetch, f, &v2, NULL, &err), 0);
	assert_ptr_not_equal(v2, v1);
	assert_int_equal(((struct val *)v2)->id, 2);
	assert_int_equal(fx_fetches(f), 2);
	stats(f, 1, 2, 0, 0);
	/* the old value is ours alone now */
	assert_int_equal(val_refs(v1), 1);
	val_unref(v1);
	val_unref(v2);
	assert_int_equal(val_live, 1);
}

static void
cache_get_ttl0_always_fetches(void **state)
{
	struct fx *f = *state;

	assert_int_equal(get_id(f, "k", NULL), 1);
	assert_int_equal(get_id(f, "k", NULL), 2);
	assert_int_equal(get_id(f, "k", NULL), 3);
	assert_int_equal(fx_fetches(f), 3);
	stats(f, 0, 3, 0, 0);
}

static void
cache_get_keys_are_separate(void **state)
{
	struct fx *f = *state;

	assert_int_equal(get_id(f, "a", NULL), 1);
	assert_int_equal(get_id(f, "b", NULL), 2);
	assert_int_equal(get_id(f, "a", NULL), 1);
	assert_int_equal(get_id(f, "b", NULL), 2);
	assert_int_equal(fx_fetches(f), 2);
}

static void
cache_invalidate_forces_refetch(void **state)
{
	struct fx *f = *state;

	assert_int_equal(get_id(f, "k", NULL), 1);
	assert_int_equal(get_id(f, "other", NULL), 2);
	cache_invalidate(f->c, "k");
	assert_int_equal(get_id(f, "k", NULL), 3);
	assert_int_equal(get_id(f, "k", NULL), 3);
	assert_int_equal(get_id(f, "other", NULL), 2);
	assert_int_equal(fx_fetches(f), 3);
	/* invalidating a key never seen: the first get fetches anyway */
	cache_invalidate(f->c, "new");
	assert_int_equal(get_id(f, "new", NULL), 4);
	assert_int_equal(get_id(f, "new", NULL), 4);
}

/* An invalidation racing a fetch must not be undone by its result. */
static void
cache_invalidate_during_fetch(void **state)
{
	struct fx *f = *state;
	unsigned long seq = 0, s2 = 0;

	f->invalidate_in_fetch = 1;
	assert_int_equal(get_id(f, "k", &seq), 1);
	f->invalidate_in_fetch = 0;
	assert_int_equal(cache_state(f->c, "k", &s2), CACHE_STALE);
	assert_true(s2 > seq);
	/* same instant, well within the TTL: still fetched again */
	assert_int_equal(get_id(f, "k", NULL), 2);
	assert_int_equal(fx_fetches(f), 2);
	assert_int_equal(cache_state(f->c, "k", &s2), CACHE_FRESH);
	assert_int_equal(get_id(f, "k", NULL), 2);
	assert_int_equal(fx_fetches(f), 2);
}

static void
cache_get_errors_not_cached(void **state)
{
	struct fx *f = *state;
	unsigned long seq = 0;
	void *v;
	char *err;

	f->fail_rc = -ENOENT;
	f->fail_msg = "workspace gone";
	v = (void *)&seq;
	assert_int_equal(cache_get(f->c, "k", fx_fetch, f, &v, NULL, &err), -ENOENT);
	assert_null(v);
	assert_string_equal(err, "workspace gone");
	free(err);
	assert_int_equal(cache_state(f->c, "k", &seq), CACHE_ABSENT);
	assert_int_equal(cache_get(f->c, "k", fx_fetch, f, &v, NULL, &err), -ENOENT);
	free(err);
	assert_int_equal(fx_fetches(f), 2);
	stats(f, 0, 2, 0, 2);

	f->fail_rc = 0;
	assert_int_equal(get_id(f, "k", NULL), 1);
	assert_int_equal(fx_fetches(f), 3);

	/* a failed refresh reports the error, not the old value */
	fx_set_now(f, 5 * TTL);
	f->fail_rc = -EIO;
	f->fail_msg = "HTTP 502";
	assert_int_equal(cache_get(f->c, "k", fx_fetch, f, &v, NULL, &err), -EIO);
	assert_null(v);
	assert_string_equal(err, "HTTP 502");
	free(err);
	assert_int_equal(cache_state(f->c, "k", &seq), CACHE_STALE);
	f->fail_rc = 0;
	assert_int_equal(get_id(f, "k", NULL), 2);
	assert_int_equal(fx_fetches(f), 5);
}

static void
cache_state_and_sequences(void **state)
{
	struct fx *f = *state;
	unsigned long s_fetch = 0, s_inv = 0, s_re = 0, s_other = 0, s = 0;

	assert_int_equal(cache_state(f->c, "k", &s), CACHE_ABSENT);
	get_id(f, "k", &s_fetch);
	assert_true(s_fetch > 0);
	assert_int_equal(cache_state(f->c, "k", &s), CACHE_FRESH);
	assert_int_equal(s, s_fetch);
	fx_set_now(f, TTL);
	assert_int_equal(cache_state(f->c, "k", &s), CACHE_STALE);
	assert_int_equal(s, s_fetch);
	fx_set_now(f, 0);
	cache_invalidate(f->c, "k");
	assert_int_equal(cache_state(f->c, "k", &s_inv), CACHE_STALE);
	assert_true(s_inv > s_fetch);
	get_id(f, "k", &s_re);
	assert_true(s_re > s_inv);
	assert_int_equal(cache_state(f->c, "k", &s), CACHE_FRESH);
	assert_int_equal(s, s_re);
	/* one counter for all keys */
	get_id(f, "other", &s_other);
	assert_true(s_other > s_re);
	/* a hit reports the sequence of the value it hands out */
	get_id(f, "k", &s);
	assert_int_equal(s, s_re);
	assert_int_equal(cache_state(f->c, "absent", &s), CACHE_ABSENT);
}

static void
cache_prune_idle(void **state)
{
	struct fx *f = *state;
	unsigned long sa, sb, sl, sc, s;

	get_id(f, "a", &sa);
	get_id(f, "b", &sb);
	get_id(f, "list", &sl);
	get_id(f, "c", &sc);
	assert_true(sa < sb && sb < sl && sl < sc);
	assert_int_equal(val_live, 4);
	cache_prune(f->c, sc, "list");
	assert_int_equal(cache_state(f->c, "a", &s), CACHE_ABSENT);
	assert_int_equal(cache_state(f->c, "b", &s), CACHE_ABSENT);
	assert_int_equal(cache_state(f->c, "list", &s), CACHE_FRESH);
	assert_int_equal(cache_state(f->c, "c", &s), CACHE_FRESH);
	assert_int_equal(val_live, 2);
	cache_prune(f->c, ULONG_MAX, "list");
	assert_int_equal(cache_state(f->c, "c", &s), CACHE_ABSENT);
	assert_int_equal(cache_state(f->c, "list", &s), CACHE_FRESH);
	assert_int_equal(val_live, 1);
	/* a pruned key is fetched again */
	assert_int_equal(get_id(f, "a", NULL), 5);
	/* invalidations count by their own sequence */
	cache_invalidate(f->c, "d");
	assert_int_equal(cache_state(f->c, "d", &s), CACHE_STALE);
	cache_prune(f->c, s, "");
	assert_int_equal(cache_state(f->c, "d", &s), CACHE_STALE);
	cache_prune(f->c, s + 1, "");
	assert_int_equal(cache_state(f->c, "d", &s), CACHE_ABSENT);
	assert_int_equal(cache_state(f->c, "list", &s), CACHE_ABSENT);
	assert_int_equal(val_live, 0);
}

/* Pruning while a fetch is in flight must leave that entry alone. */
static void
cache_prune_during_fetch(void **state)
{
	struct fx *f = *state;
	unsigned long s;

	get_id(f, "old", NULL);
	f->prune_in_fetch = 1;
	assert_int_equal(get_id(f, "k", NULL), 2);
	f->prune_in_fetch = 0;
	assert_int_equal(cache_state(f->c, "old", &s), CACHE_ABSENT);
	assert_int_equal(cache_state(f->c, "k", &s), CACHE_FRESH);
	assert_int_equal(get_id(f, "k", NULL), 2);
}

struct caller {
	struct fx *f;
	pthread_t th;
	int rc;
	void *val;
	char *err;
	unsigned long seq;
};

static void *
caller_main(void *arg)
{
	struct caller *c = arg;

	c->rc = cache_get(c->f->c, "k", fx_fetch, c->f, &c->val, &c->seq, &c->err);
	return NULL;
}

static void
run_callers(struct fx *f, struct caller *c)
{
	f->wait_joins = NTHREADS - 1;
	for (int i = 0; i < NTHREADS; i++) {
		c[i] = (struct caller){ .f = f };
		assert_int_equal(pthread_create(&c[i].th, NULL, caller_main, &c[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(c[i].th, NULL);
}

static void
cache_get_single_flight(void **state)
{
	struct fx *f = *state;
	struct caller c[NTHREADS];

	run_callers(f, c);
	assert_int_equal(fx_fetches(f), 1);
	assert_int_equal(f->joins_seen, NTHREADS - 1);
	stats(f, 0, 1, NTHREADS - 1, 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(c[i].rc, 0);
		assert_null(c[i].err);
		assert_ptr_equal(c[i].val, c[0].val);
		assert_int_equal(c[i].seq, c[0].seq);
	}
	assert_int_equal(((struct val *)c[0].val)->id, 1);
	/* one reference per caller plus the cache's */
	assert_int_equal(val_refs(c[0].val), NTHREADS + 1);
	for (int i = 0; i < NTHREADS; i++)
		val_unref(c[i].val);
	assert_int_equal(val_live, 1);
	/* and it is cached for the next caller */
	assert_int_equal(get_id(f, "k", NULL), 1);
	assert_int_equal(fx_fetches(f), 1);
}

static void
cache_get_single_flight_error(void **state)
{
	struct fx *f = *state;
	struct caller c[NTHREADS];

	f->fail_rc = -EIO;
	f->fail_msg = "HTTP 500: boom";
	run_callers(f, c);
	assert_int_equal(fx_fetches(f), 1);
	stats(f, 0, 1, NTHREADS - 1, 1);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(c[i].rc, -EIO);
		assert_null(c[i].val);
		assert_non_null(c[i].err);
		assert_string_equal(c[i].err, "HTTP 500: boom");
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(c[i].err, c[j].err);
	}
	for (int i = 0; i < NTHREADS; i++)
		free(c[i].err);
	/* the error is not kept: the next caller fetches */
	f->fail_rc = 0;
	f->wait_joins = 0;
	assert_int_equal(get_id(f, "k", NULL), 1);
	assert_int_equal(fx_fetches(f), 2);
	assert_int_equal(val_live, 1);
}

/* A caller that arrives after an invalidation never joins a fetch that
 * started before it: it must see the effect of the mutation. */
static void
cache_get_no_join_after_invalidation(void **state)
{
	struct fx *f = *state;
	struct caller a = { .f = f }, b = { .f = f };

	__atomic_store_n(&f->hold, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&a.th, NULL, caller_main, &a), 0);
	for (int i = 0; i < 5000 && fx_fetches(f) < 1; i++)
		sleep_ms(1);
	cache_invalidate(f->c, "k");	/* a mutation lands */
	assert_int_equal(pthread_create(&b.th, NULL, caller_main, &b), 0);
	sleep_ms(50);			/* b is waiting by now */
	__atomic_store_n(&f->hold, 0, __ATOMIC_RELEASE);
	pthread_join(a.th, NULL);
	pthread_join(b.th, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_int_equal(((struct val *)a.val)->id, 1);
	assert_int_equal(((struct val *)b.val)->id, 2);
	assert_true(b.seq > a.seq);
	assert_int_equal(fx_fetches(f), 2);
	val_unref(a.val);
	val_unref(b.val);
}

/* cache_free drops the cache's references (checked in the teardown). */
static void
cache_free_releases(void **state)
{
	struct fx *f = *state;
	void *v;
	char *err;

	get_id(f, "a", NULL);
	get_id(f, "b", NULL);
	assert_int_equal(cache_get(f->c, "c", fx_fetch, f, &v, NULL, &err), 0);
	assert_int_equal(val_live, 3);
	cache_free(f->c);
	f->c = NULL;
	/* only the caller's reference is left */
	assert_int_equal(val_live, 1);
	assert_int_equal(val_refs(v), 1);
	val_unref(v);
	cache_free(NULL);
}

#define FX_TEST(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(cache_get_fetch_hit_refetch),
		cmocka_unit_test_setup_teardown(cache_get_ttl0_always_fetches,
						fx_setup_ttl0, fx_teardown),
		FX_TEST(cache_get_keys_are_separate),
		FX_TEST(cache_invalidate_forces_refetch),
		FX_TEST(cache_invalidate_during_fetch),
		FX_TEST(cache_get_errors_not_cached),
		FX_TEST(cache_state_and_sequences),
		FX_TEST(cache_prune_idle),
		FX_TEST(cache_prune_during_fetch),
		FX_TEST(cache_get_single_flight),
		FX_TEST(cache_get_single_flight_error),
		FX_TEST(cache_get_no_join_after_invalidation),
		FX_TEST(cache_free_releases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
