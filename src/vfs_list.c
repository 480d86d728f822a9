/*
 * vfs_list: the workspace listing through the cache: fetching it (and one
 * workspace after a change), and serving the last good listing for up to
 * max_stale when a refresh fails transiently (stale-on-error).
 */
#include "vfs_int.h"
#include "log.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fetching ----------------------------------------------------------- */

/* Tell the kernel (queued) what a refresh changed: workspaces whose data
 * changed, names that are gone. */
static void
list_note_changes(struct vfs *v, const struct snap *prev, const struct snap *s)
{
	int names = 0; /* the root's listing changed */

	for (size_t i = 0; i < s->n; i++) {
		const struct snap_ent *e = &s->v[i];
		const struct snap_ent *old = snap_find_id(prev, e->ws->id);

		if (!old || strcmp(old->dirname, e->dirname) != 0)
			names = 1;
		if (old && (old->mtime != e->mtime || strcmp(old->dirname, e->dirname) != 0))
			vfs_note_changed(v, e->dirname, 0);
	}
	for (size_t i = 0; i < prev->n; i++) {
		const struct snap_ent *o = &prev->v[i];
		const struct snap_ent *e = snap_find_id(s, o->ws->id);

		if (!e || strcmp(e->dirname, o->dirname) != 0) {
			vfs_note_changed(v, o->dirname, 1);
			names = 1;
		}
	}
	if (names && v->invalidate_later)
		v->invalidate_later(v->invalidate_arg, "/", 0);
}

static int
vfs_fetch_list(void *arg, const char *key, void **val, char **err)
{
	struct vfs *v = arg;
	struct snap_names names = vfs_snap_names_proto;
	long long now = vfs_now_ms(v);
	long long grace = v->ttl_ms > VFS_NAME_GRACE_MS ? v->ttl_ms : VFS_NAME_GRACE_MS;
	struct vfs_tomb **pp, *t;
	struct vfs_pin **qq, *p;
	struct ws **arr;
	struct snap *prev, *s;
	size_t n;
	int rc;

	(void)key;
	rc = api_list(v->http, v->cluster, &arr, &n, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->mu);
	prev = v->last ? snap_ref(v->last) : NULL;
	pthread_mutex_unlock(&v->mu);
	names.arg = v;
	s = snap_build_kept(arr, n, prev, time(NULL), &names);
	free(arr);
	if (s && prev)
		list_note_changes(v, prev, s);
	snap_unref(prev);
	/* parsing a large list leaves hundreds of MB of freed small blocks:
	 * give them back instead of keeping them as resident memory */
	malloc_trim(0);
	if (!s) {
		*err = strdup("out of memory building the workspace list");
		return -ENOMEM;
	}
	pthread_mutex_lock(&v->mu);
	snap_unref(v->last);
	v->last = snap_ref(s);
	/* forget deletions the API no longer lists, once their grace ran */
	for (pp = &v->tombs; (t = *pp) != NULL;) {
		if (!snap_find_id(s, t->id) && now - t->deleted_ms >= grace) {
			*pp = t->next;
			free(t->id);
			free(t->dirname);
			free(t);
		} else {
			pp = &t->next;
		}
	}
	/* a listed workspace keeps its name through the listing now */
	for (qq = &v->pins; (p = *qq) != NULL;) {
		if (snap_find_id(s, p->id)) {
			*qq = p->next;
			free(p->id);
			free(p->dirname);
			free(p);
		} else {
			qq = &p->next;
		}
	}
	pthread_mutex_unlock(&v->mu);
	log_msg(LOG_LVL_DEBUG, "listed %zu workspaces", s->n);
	*val = s;
	return 0;
}
int
vfs_fetch_one(void *arg, const char *key, void **val, char **err)
{
	struct vfs *v = arg;
	struct snap *prev, *s;
	struct ws *w;
	int rc;

	rc = api_describe(v->http, key + 2, &w, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->mu);
	prev = v->last ? snap_ref(v->last) : NULL;
	pthread_mutex_unlock(&v->mu);
	s = snap_build(&w, 1, prev, time(NULL));
	snap_unref(prev);
	if (!s) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	*val = s;
	return 0;
}

/* The last good listing, if it may still be served after a failure. */
static struct snap *
vfs_stale_locked(struct vfs *v, long long now, unsigned long *seq)
{
	if (!v->last || v->max_stale_ms <= 0 ||
	    now - v->last_ok_ms > v->max_stale_ms)
		return NULL;
	*seq = v->last_seq;
	v->stale_serves++;
	return snap_ref(v->last);
}

static long long
list_pause_ms(const struct vfs *v)
{
	return v->ttl_ms > 1000 ? v->ttl_ms : 1000;
}

/* Ask the API now (or join whoever does). When the refresh fails
 * transiently, the last listing is served for up to max_stale, and the
 * refresh is retried at most once per max(ttl, 1 s). */
static int
list_fetch_now(struct vfs *v, long long now, long long max_age, struct snap **out,
	       unsigned long *seq)
{
	long long pause = list_pause_ms(v);
	void *val = NULL;
	char *err = NULL;
	int rc, prune;

	pthread_mutex_lock(&v->mu);
	if (v->fail_ms && now - v->fail_ms < pause &&
	    (*out = vfs_stale_locked(v, now, seq)) != NULL) {
		pthread_mutex_unlock(&v->mu);
		return 0;
	}
	pthread_mutex_unlock(&v->mu);

	rc = cache_get_within(v->cache, VFS_LIST_KEY, max_age, vfs_fetch_list, v,
			      &val, seq, &err);
	if (rc < 0) {
		struct snap *stale = NULL;
		int ride = vfs_stale_ok(v, rc);

		pthread_mutex_lock(&v->mu);
		if (ride) {
			v->fail_ms = now ? now : 1;
			stale = vfs_stale_locked(v, now, seq);
			if (stale) {
				free(v->stale_msg);
				v->stale_msg = model_asprintf("listing failed, showing data from %lld s ago: %s",
							      (now - v->last_ok_ms) / 1000,
							      err ? err : strerror(-rc));
			}
		}
		pthread_mutex_unlock(&v->mu);
		/* a permanent answer (401, 403...) ends serving what is held:
		 * every later request asks and gets that answer (a refused
		 * login is ridden out: the user is told to log in again) */
		if (!ride)
			cache_invalidate(v->cache, VFS_LIST_KEY);
		log_msg(stale ? LOG_LVL_WARN : LOG_LVL_ERR, "listing workspaces: %s%s",
			err ? err : strerror(-rc), stale ? " (serving the last listing)" : "");
		free(err);
		if (stale) {
			*out = stale;
			return 0;
		}
		return rc;
	}
	*out = val;
	pthread_mutex_lock(&v->mu);
	if (*seq != v->last_seq || !v->last_ok_ms) {
		v->last_seq = *seq;
		v->last_ok_ms = now;
	}
	v->fail_ms = 0;
	free(v->stale_msg);
	v->stale_msg = NULL;
	/* a listing that worked clears the notes of failed refreshes */
	for (struct vfs_error **pp = &v->errors, *e; (e = *pp) != NULL;) {
		if (strcmp(e->group, "refresh") == 0) {
			*pp = e->next;
			free(e->id);
			free(e->msg);
			free(e);
		} else {
			pp = &e->next;
		}
	}
	prune = v->pruned_seq != *seq;
	v->pruned_seq = *seq;
	pthread_mutex_unlock(&v->mu);
	if (prune)
		cache_prune(v->cache, *seq, VFS_LIST_KEY);
	return 0;
}

/* ---- stale-while-refreshing ---------------------------------------------- */

/* Queue a background refresh; 0 when there is no refresher to do it (the
 * caller then asks itself), 1 when one is queued or a failed one is still
 * pausing. */
static int
list_kick(struct vfs *v, long long now)
{
	int queued;

	pthread_mutex_lock(&v->mu);
	queued = v->refresher_running && !v->poll_stop;
	if (queued && !(v->fail_ms && now - v->fail_ms < list_pause_ms(v))) {
		v->refresh_wanted = 1;
		pthread_cond_signal(&v->refresh_cv);
	}
	pthread_mutex_unlock(&v->mu);
	return queued;
}

static void *
list_refresher(void *arg)
{
	struct vfs *v = arg;

	pthread_mutex_lock(&v->mu);
	while (!v->poll_stop) {
		struct snap *s = NULL;
		unsigned long seq;

		if (!v->refresh_wanted) {
			pthread_cond_wait(&v->refresh_cv, &v->mu);
			continue;
		}
		v->refresh_wanted = 0;
		pthread_mutex_unlock(&v->mu);
		if (list_fetch_now(v, vfs_now_ms(v), v->ttl_ms, &s, &seq) == 0)
			snap_unref(s);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

int
list_start(struct vfs *v)
{
	if (pthread_create(&v->refresher, NULL, list_refresher, v) != 0)
		return -EAGAIN;
	pthread_mutex_lock(&v->mu);
	v->refresher_running = 1;
	pthread_mutex_unlock(&v->mu);
	return 0;
}

void
list_stop(struct vfs *v)
{
	int running;

	pthread_mutex_lock(&v->mu);
	v->poll_stop = 1;
	running = v->refresher_running;
	v->refresher_running = 0;
	pthread_cond_broadcast(&v->refresh_cv);
	pthread_mutex_unlock(&v->mu);
	if (running)
		pthread_join(v->refresher, NULL);
}

/* The listing to answer from (a new reference) and its cache sequence.
 * A listing held and not invalidated is served while it is younger than
 * max_stale (or the TTL, if longer); past the TTL, one refresh runs in the
 * background for every reader. With cache_ttl=0 an open or readdir asks
 * the API; lookups and attributes use what is held. Only with nothing
 * usable held (first use, a mutation through this mount, .ctl refresh)
 * does the caller wait for the API. */
int
vfs_list_want(struct vfs *v, enum vfs_want want, struct snap **out,
	      unsigned long *seq)
{
	long long now = vfs_now_ms(v);
	long long max_age = v->max_stale_ms > v->ttl_ms ? v->max_stale_ms : v->ttl_ms;
	void *val = NULL;
	int fresh = 0;

	if (!(v->ttl_ms == 0 && want == VFS_WANT_OPEN) &&
	    cache_peek(v->cache, VFS_LIST_KEY, max_age, &val, seq, &fresh) == 0) {
		if (fresh || v->ttl_ms == 0 || list_kick(v, now)) {
			if (!fresh && v->ttl_ms > 0) {
				pthread_mutex_lock(&v->mu);
				v->stale_serves++;
				pthread_mutex_unlock(&v->mu);
			}
			*out = val;
			return 0;
		}
		snap_unref(val);
	}
	return list_fetch_now(v, now, v->ttl_ms, out, seq);
}

int
vfs_list_within(struct vfs *v, long long max_age_ms, struct snap **out,
		unsigned long *seq)
{
	return list_fetch_now(v, vfs_now_ms(v), max_age_ms, out, seq);
}

int
vfs_list(struct vfs *v, struct snap **out, unsigned long *seq)
{
	return vfs_list_want(v, VFS_WANT_HELD, out, seq);
}
