/*
 * cache: a TTL cache of reference-counted values under string keys, with
 * single-flight fetching (concurrent misses of one key share one fetch)
 * and invalidation that a racing fetch cannot undo. No FUSE, no curl: the
 * fetch is a callback and the clock is injectable, so tests need no sleep.
 *
 * Every fetch and every invalidation takes a number from one counter
 * (a sequence); callers compare sequences to know which of two entries
 * is newer.
 */
#ifndef EXFS_CACHE_H
#define EXFS_CACHE_H

struct cache;

/* Milliseconds from some fixed point; must not go backwards. */
typedef long long (*cache_clock_fn)(void *arg);
/* Fetch the value for a key: 0 with a new reference in *val, or -errno
 * with *err allocated. Called without any cache lock held. */
typedef int (*cache_fetch_fn)(void *arg, const char *key, void **val, char **err);

struct cache_hooks {
	void *(*ref)(void *val);	/* take a reference */
	void (*unref)(void *val);	/* drop one */
	cache_clock_fn clock;		/* NULL: CLOCK_MONOTONIC */
	void *clock_arg;
};

struct cache_stats {
	unsigned long hits;	/* answered from a fresh entry */
	unsigned long misses;	/* started a fetch */
	unsigned long joins;	/* waited for a fetch another caller started */
	unsigned long errors;	/* fetches that failed */
};

enum cache_state { CACHE_ABSENT, CACHE_FRESH, CACHE_STALE };

/* New cache; ttl_ms 0 means every get fetches (unless joining). */
struct cache *cache_new(long long ttl_ms, const struct cache_hooks *hooks);
/* Free the cache and drop its references; no call may be in flight. */
void cache_free(struct cache *c);

/* A fresh value for key, fetching when absent, stale or invalidated.
 * 0 with a new reference in *val and its sequence in *seq (may be NULL),
 * or the fetch's -errno with *err allocated. */
int cache_get(struct cache *c, const char *key, cache_fetch_fn fetch,
	      void *arg, void **val, unsigned long *seq, char **err);
/* cache_get, with "fresh" meaning fetched less than max_age_ms ago
 * instead of within the TTL (a caller that must see changes made
 * elsewhere more often than the TTL, as waits do). */
int cache_get_within(struct cache *c, const char *key, long long max_age_ms,
		     cache_fetch_fn fetch, void *arg, void **val,
		     unsigned long *seq, char **err);
/* The value held for key without fetching, when it has one that no
 * invalidation has overtaken and that was fetched at most max_age_ms ago:
 * 0 with a new reference in *val, its sequence in *seq (may be NULL) and
 * in *fresh whether it is within the TTL; -ENOENT otherwise. This is what
 * lets readers be served while a refresh runs (stale-while-refreshing). */
int cache_peek(struct cache *c, const char *key, long long max_age_ms,
	       void **val, unsigned long *seq, int *fresh);
/* The state of key without fetching; *seq is the sequence of its value
 * (FRESH) or of the invalidation or fetch that made it stale (STALE). */
enum cache_state cache_state(struct cache *c, const char *key, unsigned long *seq);
/* Mark key stale (a fetch in flight will store its value as stale). */
void cache_invalidate(struct cache *c, const char *key);
/* Forget key's entry unless a fetch of it is in flight. */
void cache_drop(struct cache *c, const char *key);
/* Remove idle entries whose sequence is below seq, except key keep. */
void cache_prune(struct cache *c, unsigned long seq, const char *keep);
/* Copy the counters. */
void cache_get_stats(struct cache *c, struct cache_stats *out);

#endif
