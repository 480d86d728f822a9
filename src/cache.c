/*
 * cache: entries in a short list (the list entry plus the few workspaces
 * changed since the last list refresh; cache_prune keeps it short), one
 * mutex, one condition variable for all waiters. Invariants: a value is
 * handed out only as a new reference; no fetch runs with mu held; an entry
 * with inflight set is never freed.
 */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cache_entry {
	struct cache_entry *next;
	char *key;
	void *val;		/* NULL until a fetch succeeded */
	unsigned long seq;	/* sequence when val's fetch started */
	unsigned long stale_seq;/* sequence of the invalidation, if invalid */
	long long fetched_at;
	int invalid;
	int inflight;
	unsigned long flight_seq;/* sequence when the fetch in flight started */
	int waiters;		/* joiners still to read the result */
	unsigned long flight;	/* counts completed fetches */
	int last_rc;		/* result of the last completed fetch */
	char *last_err;
};

struct cache {
	pthread_mutex_t mu;
	pthread_cond_t done;
	long long ttl_ms;
	struct cache_hooks hooks;
	struct cache_entry *head;	/* guarded by mu */
	unsigned long seq;		/* guarded by mu */
	struct cache_stats stats;	/* guarded by mu */
};

static long long
cache_monotonic(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cache *
cache_new(long long ttl_ms, const struct cache_hooks *hooks)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->done, NULL);
	c->ttl_ms = ttl_ms;
	c->hooks = *hooks;
	if (!c->hooks.clock)
		c->hooks.clock = cache_monotonic;
	return c;
}

static void
cache_entry_free(struct cache *c, struct cache_entry *e)
{
	if (e->val)
		c->hooks.unref(e->val);
	free(e->last_err);
	free(e->key);
	free(e);
}

void
cache_free(struct cache *c)
{
	struct cache_entry *e, *n;

	if (!c)
		return;
	for (e = c->head; e; e = n) {
		n = e->next;
		cache_entry_free(c, e);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->done);
	free(c);
}

static struct cache_entry *
cache_find(struct cache *c, const char *key)
{
	for (struct cache_entry *e = c->head; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static int
cache_fresh_within(const struct cache_entry *e, long long now, long long max_age)
{
	return e->val && !e->invalid && max_age > 0 && now - e->fetched_at < max_age;
}

static int
cache_fresh(struct cache *c, struct cache_entry *e, long long now)
{
	return cache_fresh_within(e, now, c->ttl_ms);
}

int
cache_get(struct cache *c, const char *key, cache_fetch_fn fetch, void *arg,
	  void **val, unsigned long *seq, char **err)
{
	return cache_get_within(c, key, c->ttl_ms, fetch, arg, val, seq, err);
}

int
cache_get_within(struct cache *c, const char *key, long long max_age_ms,
		 cache_fetch_fn fetch, void *arg, void **val,
		 unsigned long *seq, char **err)
{
	struct cache_entry *e;
	unsigned long start_seq, flight;
	void *got = NULL;
	char *ferr = NULL;
	int rc;

	*val = NULL;
	*err = NULL;
	pthread_mutex_lock(&c->mu);
	e = cache_find(c, key);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strdup(key))) {
			free(e);
			pthread_mutex_unlock(&c->mu);
			*err = strdup("out of memory");
			return -ENOMEM;
		}
		e->next = c->head;
		c->head = e;
	}
again:
	if (cache_fresh_within(e, c->hooks.clock(c->hooks.clock_arg), max_age_ms)) {
		c->stats.hits++;
		goto hand_out;
	}
	if (e->inflight && e->invalid && e->stale_seq > e->flight_seq) {
		/* the fetch in flight started before an invalidation this
		 * caller must see the effect of: let it land, then fetch anew
		 * (or join whoever did so first) */
		flight = e->flight;
		e->waiters++;
		while (e->inflight && e->flight == flight)
			pthread_cond_wait(&c->done, &c->mu);
		e->waiters--;
		goto again;
	}
	if (e->inflight) {
		/* join the fetch in flight and take its result */
		c->stats.joins++;
		flight = e->flight;
		e->waiters++;
		while (e->inflight && e->flight == flight)
			pthread_cond_wait(&c->done, &c->mu);
		e->waiters--;
		if (e->last_rc < 0) {
			rc = e->last_rc;
			*err = e->last_err ? strdup(e->last_err) : NULL;
			pthread_mutex_unlock(&c->mu);
			return rc;
		}
		goto hand_out;
	}
	c->stats.misses++;
	e->inflight = 1;
	start_seq = ++c->seq;
	e->flight_seq = start_seq;
	pthread_mutex_unlock(&c->mu);

	rc = fetch(arg, key, &got, &ferr);

	pthread_mutex_lock(&c->mu);
	e->inflight = 0;
	e->flight++;
	e->last_rc = rc;
	free(e->last_err);
	e->last_err = NULL;
	if (rc < 0) {
		c->stats.errors++;
		e->last_err = ferr ? strdup(ferr) : NULL;
		pthread_cond_broadcast(&c->done);
		pthread_mutex_unlock(&c->mu);
		*err = ferr;
		return rc;
	}
	if (e->val)
		c->hooks.unref(e->val);
	e->val = got;
	e->seq = start_seq;
	e->fetched_at = c->hooks.clock(c->hooks.clock_arg);
	/* an invalidation that arrived during the fetch wins */
	e->invalid = e->invalid && e->stale_seq > start_seq;
	pthread_cond_broadcast(&c->done);
	free(ferr);
hand_out:
	*val = c->hooks.ref(e->val);
	if (seq)
		*seq = e->seq;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int
cache_peek(struct cache *c, const char *key, long long max_age_ms, void **val,
	   unsigned long *seq, int *fresh)
{
	struct cache_entry *e;
	long long now;
	int rc = -ENOENT;

	*val = NULL;
	pthread_mutex_lock(&c->mu);
	now = c->hooks.clock(c->hooks.clock_arg);
	e = cache_find(c, key);
	if (e && e->val && !e->invalid && now - e->fetched_at <= max_age_ms) {
		*val = c->hooks.ref(e->val);
		if (seq)
			*seq = e->seq;
		*fresh = cache_fresh(c, e, now);
		c->stats.hits++;
		rc = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

enum cache_state
cache_state(struct cache *c, const char *key, unsigned long *seq)
{
	enum cache_state st = CACHE_ABSENT;
	struct cache_entry *e;

	pthread_mutex_lock(&c->mu);
	e = cache_find(c, key);
	if (e && (e->val || e->invalid)) {
		if (cache_fresh(c, e, c->hooks.clock(c->hooks.clock_arg))) {
			st = CACHE_FRESH;
			*seq = e->seq;
		} else {
			st = CACHE_STALE;
			*seq = e->invalid ? e->stale_seq : e->seq;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return st;
}

void
cache_invalidate(struct cache *c, const char *key)
{
	struct cache_entry *e;

	pthread_mutex_lock(&c->mu);
	e = cache_find(c, key);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e && !(e->key = strdup(key))) {
			free(e);
			e = NULL;
		}
		if (e) {
			e->next = c->head;
			c->head = e;
		}
	}
	if (e) {
		e->invalid = 1;
		e->stale_seq = ++c->seq;
	}
	pthread_mutex_unlock(&c->mu);
}

void
cache_drop(struct cache *c, const char *key)
{
	struct cache_entry **pp, *e;

	pthread_mutex_lock(&c->mu);
	for (pp = &c->head; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->key, key) == 0) {
			if (!e->inflight && !e->waiters) {
				*pp = e->next;
				cache_entry_free(c, e);
			}
			break;
		}
	pthread_mutex_unlock(&c->mu);
}

void
cache_prune(struct cache *c, unsigned long seq, const char *keep)
{
	struct cache_entry **pp, *e;

	pthread_mutex_lock(&c->mu);
	for (pp = &c->head; (e = *pp) != NULL;) {
		unsigned long s = e->invalid ? e->stale_seq : e->seq;

		if (!e->inflight && !e->waiters && s < seq && strcmp(e->key, keep) != 0) {
			*pp = e->next;
			cache_entry_free(c, e);
		} else {
			pp = &e->next;
		}
	}
	pthread_mutex_unlock(&c->mu);
}

void
cache_get_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->stats;
	pthread_mutex_unlock(&c->mu);
}
