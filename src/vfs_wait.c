/*
 * vfs_wait: waiting for a workspace state (opening <ws>/wait/STATE) and
 * poll(2) on <ws>/status, both served by one watcher thread. The API has
 * no push, so the watcher asks it: while anyone waits, it takes a listing
 * at most wait_interval old (one list request per interval for all
 * waiters together) and answers every wait it decides; pollers are
 * checked once a second against the held data (costing at most one
 * listing per cache_ttl). A waiter holds no thread: its reply is sent
 * through its done callback by whichever thread ends the wait (the
 * watcher, an rmdir, an interrupt, the unmount).
 *
 * Locks: v->mu guards the waiter and poller lists (vfs_int.h); no
 * callback and no API call runs with it held.
 */
#include "vfs_int.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- waiters -------------------------------------------------------------- */

static void
wait_free(struct vfs_waiter *w)
{
	free(w->path);
	free(w->id);
	free(w->dirname);
	free(w->state);
	free(w);
}

/* Under mu: unlink the waiter with key (and wseq, unless 0). */
static struct vfs_waiter *
wait_take_locked(struct vfs *v, const void *key, unsigned long long wseq)
{
	struct vfs_waiter **pp, *w;

	for (pp = &v->waiters; (w = *pp) != NULL; pp = &w->next)
		if (w->key == key && (!wseq || w->wseq == wseq)) {
			*pp = w->next;
			return w;
		}
	return NULL;
}

/* End a waiter taken off the list: open its file on success, note a
 * failure (but not an interruption) in the workspace's error file. */
static void
wait_finish(struct vfs *v, struct vfs_waiter *w, int rc, const char *why)
{
	struct vfs_file *f = NULL;

	if (rc == 0)
		rc = vfs_open(v, w->path, w->flags, &f);
	if (rc < 0 && rc != -EINTR) {
		char *action = model_asprintf("wait for %s", w->state);

		log_msg(LOG_LVL_ERR, "wait for %s on %s: %s", w->state, w->dirname,
			why ? why : strerror(-rc));
		vfs_note_error(v, w->id, "wait", action ? action : "wait",
			       why ? why : strerror(-rc));
		free(action);
	} else if (rc == 0) {
		vfs_note_error(v, w->id, "wait", "wait", NULL);
	}
	w->done(w->arg, rc, f);
	wait_free(w);
}

int
vfs_wait_begin(struct vfs *v, const char *path, int flags, const void *key,
	       vfs_wait_done_fn done, void *arg)
{
	struct vfs_waiter *w;
	struct node n;
	int rc;

	if ((flags & O_ACCMODE) != O_RDONLY)
		return 0; /* vfs_open refuses it */
	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	if (n.kind != NODE_WAIT) {
		vfs_node_release(&n);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->id = strdup(n.ent->ws->id)) ||
	    !(w->dirname = strdup(n.ent->dirname)) || !(w->state = strdup(n.leaf))) {
		if (w)
			wait_free(w);
		vfs_node_release(&n);
		return -ENOMEM;
	}
	vfs_node_release(&n);
	w->key = key;
	w->flags = flags;
	w->done = done;
	w->arg = arg;
	w->deadline_ms = vfs_now_ms(v) + v->wait_timeout_ms;
	w->st = WAITER_PREPARING;
	pthread_mutex_lock(&v->mu);
	w->wseq = ++v->wait_seq;
	w->next = v->waiters;
	v->waiters = w;
	pthread_mutex_unlock(&v->mu);
	return 1;
}

void
vfs_wait_arm(struct vfs *v, const void *key)
{
	struct vfs_waiter *w;

	pthread_mutex_lock(&v->mu);
	for (w = v->waiters; w && w->key != key; w = w->next)
		;
	if (w && (w->st == WAITER_CANCELLED || v->poll_stop)) {
		w = wait_take_locked(v, key, w->wseq);
		pthread_mutex_unlock(&v->mu);
		wait_finish(v, w, -EINTR, NULL);
		return;
	}
	if (w) {
		w->st = WAITER_WAITING;
		v->wait_kick = 1; /* look at once */
		pthread_cond_broadcast(&v->poll_cv);
	}
	pthread_mutex_unlock(&v->mu);
}

void
vfs_wait_cancel(struct vfs *v, const void *key)
{
	struct vfs_waiter *w;

	pthread_mutex_lock(&v->mu);
	for (w = v->waiters; w && w->key != key; w = w->next)
		;
	if (w && w->st == WAITER_PREPARING) {
		w->st = WAITER_CANCELLED; /* vfs_wait_arm ends it */
		w = NULL;
	} else if (w && w->st == WAITER_WAITING) {
		w = wait_take_locked(v, key, w->wseq);
	} else {
		w = NULL;
	}
	pthread_mutex_unlock(&v->mu);
	if (w) {
		log_msg(LOG_LVL_DEBUG, "wait for %s on %s interrupted", w->state, w->dirname);
		wait_finish(v, w, -EINTR, NULL);
	}
}

/* Take every armed waiter matching id (NULL: all) off the list. */
static struct vfs_waiter *
wait_take_all(struct vfs *v, const char *id)
{
	struct vfs_waiter **pp, *w, *out = NULL;

	pthread_mutex_lock(&v->mu);
	for (pp = &v->waiters; (w = *pp) != NULL;) {
		if (w->st == WAITER_WAITING && (!id || strcmp(w->id, id) == 0)) {
			*pp = w->next;
			w->next = out;
			out = w;
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&v->mu);
	return out;
}

void
wait_end_ws(struct vfs *v, const char *id, int rc)
{
	struct vfs_waiter *w = wait_take_all(v, id), *next;

	for (; w; w = next) {
		next = w->next;
		wait_finish(v, w, rc, rc == -ENOENT ? "the workspace was deleted" : NULL);
	}
}

/* The current status of workspace id (allocated), or NULL when it is
 * gone (deleted, through this mount or elsewhere). */
static char *
wait_status_of(struct vfs *v, const char *id)
{
	struct snap *s = NULL;
	const struct snap_ent *e;
	unsigned long seq;
	char *path, *st = NULL;
	struct node n;

	if (vfs_list(v, &s, &seq) < 0)
		return NULL;
	e = snap_find_id(s, id);
	path = e ? model_asprintf("/%s", e->dirname) : NULL;
	snap_unref(s);
	if (path && vfs_resolve(v, path, &n) == 0) {
		if (n.kind == NODE_WS && strcmp(n.cur->ws->id, id) == 0)
			st = strdup(n.cur->ws->status);
		vfs_node_release(&n);
	}
	free(path);
	return st;
}

/* What the watcher copies of a waiter to judge it without the lock. */
struct wait_view {
	const void *key;
	unsigned long long wseq;
	char *id;
	char *state;
	long long deadline_ms;
};

static int
wait_view_cmp(const void *a, const void *b)
{
	const struct wait_view *x = a, *y = b;

	return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* One look at every armed waiter. */
static void
wait_check_waiters(struct vfs *v)
{
	struct wait_view *view = NULL;
	const char *last_id = NULL;
	char *last_st = NULL;
	struct vfs_waiter *w;
	struct snap *s = NULL;
	unsigned long seq;
	size_t n = 0, i;
	int lrc;

	pthread_mutex_lock(&v->mu);
	for (w = v->waiters; w; w = w->next)
		n += w->st == WAITER_WAITING;
	if (n)
		view = calloc(n, sizeof(*view));
	for (i = 0, w = v->waiters; view && w; w = w->next) {
		if (w->st != WAITER_WAITING)
			continue;
		view[i].key = w->key;
		view[i].wseq = w->wseq;
		view[i].id = strdup(w->id);
		view[i].state = strdup(w->state);
		view[i].deadline_ms = w->deadline_ms;
		i++;
	}
	pthread_mutex_unlock(&v->mu);
	if (!view)
		return;
	/* one listing for all of them, at most one interval old */
	lrc = vfs_list_within(v, v->wait_interval_ms, &s, &seq);
	snap_unref(s);
	/* waiters of one workspace side by side: its status is looked up once */
	qsort(view, n, sizeof(*view), wait_view_cmp);
	for (i = 0; i < n; i++) {
		long long now = vfs_now_ms(v);
		const char *st;
		char *why = NULL;
		int rc = 1; /* still waiting */

		if (lrc == 0 && view[i].id && (!last_id || strcmp(last_id, view[i].id) != 0)) {
			free(last_st);
			last_st = wait_status_of(v, view[i].id);
			last_id = view[i].id;
		}
		st = lrc == 0 ? last_st : NULL;
		if (!view[i].id || !view[i].state) {
			rc = -ENOMEM;
		} else if (lrc < 0 && !api_transient(lrc)) {
			rc = lrc; /* 401, 403...: waiting cannot succeed */
		} else if (lrc == 0 && !st) {
			rc = -ENOENT;
			why = strdup("the workspace is gone");
		} else if (st && strcmp(st, view[i].state) == 0) {
			rc = 0;
		} else if (st && strcmp(st, "FAILED") == 0) {
			rc = -EIO;
			why = model_asprintf("workspace FAILED while waiting for %s",
					     view[i].state);
		} else if (now >= view[i].deadline_ms) {
			rc = -ETIMEDOUT;
			why = model_asprintf("still not %s after %lld s (wait_timeout)",
					     view[i].state, v->wait_timeout_ms / 1000);
		}
		if (rc <= 0) {
			pthread_mutex_lock(&v->mu);
			w = wait_take_locked(v, view[i].key, view[i].wseq);
			pthread_mutex_unlock(&v->mu);
			if (w)
				wait_finish(v, w, rc, why);
		}
		free(why);
	}
	for (i = 0; i < n; i++) {
		free(view[i].id);
		free(view[i].state);
	}
	free(last_st);
	free(view);
}

/* ---- pollers -------------------------------------------------------------- */

struct wait_check {
	const void *owner;
	char *id;
	char *status;
	int changed;
};

/* Under the lock: remove owner's poller and wake it. */
static void
wait_fire_locked(struct vfs *v, const void *owner)
{
	struct vfs_poller **pp, *p;

	for (pp = &v->pollers; (p = *pp) != NULL; pp = &p->next)
		if (p->owner == owner) {
			*pp = p->next;
			v->poll_notify(v->invalidate_arg, p->ph);
			free(p->id);
			free(p->status);
			free(p);
			return;
		}
}

static void
wait_check_pollers(struct vfs *v)
{
	struct wait_check *chk = NULL;
	struct vfs_poller *p;
	size_t n = 0, i;

	pthread_mutex_lock(&v->mu);
	for (p = v->pollers; p; p = p->next)
		n++;
	if (n)
		chk = calloc(n, sizeof(*chk));
	for (i = 0, p = v->pollers; chk && p; p = p->next, i++) {
		chk[i].owner = p->owner;
		chk[i].id = strdup(p->id);
		chk[i].status = strdup(p->status);
	}
	pthread_mutex_unlock(&v->mu);
	/* ask without the lock */
	for (i = 0; chk && i < n; i++) {
		char *st = chk[i].id ? wait_status_of(v, chk[i].id) : NULL;

		chk[i].changed = !st || !chk[i].status || strcmp(st, chk[i].status) != 0;
		free(st);
	}
	pthread_mutex_lock(&v->mu);
	for (i = 0; chk && i < n; i++)
		if (chk[i].changed)
			wait_fire_locked(v, chk[i].owner);
	pthread_mutex_unlock(&v->mu);
	for (i = 0; chk && i < n; i++) {
		free(chk[i].id);
		free(chk[i].status);
	}
	free(chk);
}

/* ---- the watcher thread --------------------------------------------------- */

static void
wait_deadline(struct timespec *ts, long long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *
wait_watcher(void *arg)
{
	struct vfs *v = arg;
	long long tick = v->wait_interval_ms < 1000 ? v->wait_interval_ms : 1000;

	for (;;) {
		struct timespec ts;
		int stop, waiting, polling;

		wait_deadline(&ts, tick);
		pthread_mutex_lock(&v->mu);
		while (!v->poll_stop && !v->wait_kick &&
		       pthread_cond_timedwait(&v->poll_cv, &v->mu, &ts) == 0)
			;
		v->wait_kick = 0;
		stop = v->poll_stop;
		waiting = v->waiters != NULL;
		polling = v->pollers != NULL;
		pthread_mutex_unlock(&v->mu);
		if (stop)
			return NULL;
		if (waiting)
			wait_check_waiters(v);
		if (polling && v->poll_notify)
			wait_check_pollers(v);
	}
}

static void
wait_on_deleted(struct vfs *v, const char *id)
{
	wait_end_ws(v, id, -ENOENT);
}

int
vfs_start(struct vfs *v)
{
	int rc = list_start(v);

	if (rc < 0)
		return rc;
	/* set once, before any request: vfs.c tells the waits of a delete */
	v->on_deleted = wait_on_deleted;
	return wait_start(v);
}

void
vfs_stop(struct vfs *v)
{
	list_stop(v);
	wait_stop(v);
	logs_stop(v->logs);
}

int
wait_start(struct vfs *v)
{
	if (pthread_create(&v->poll_thread, NULL, wait_watcher, v) != 0)
		return -EAGAIN;
	v->poll_running = 1;
	return 0;
}

void
wait_stop(struct vfs *v)
{
	struct vfs_waiter *w, *next;

	pthread_mutex_lock(&v->mu);
	v->poll_stop = 1;
	pthread_cond_broadcast(&v->poll_cv);
	pthread_mutex_unlock(&v->mu);
	if (v->poll_running)
		pthread_join(v->poll_thread, NULL);
	v->poll_running = 0;
	/* the mount ends: so do its waits */
	for (w = wait_take_all(v, NULL); w; w = next) {
		next = w->next;
		wait_finish(v, w, -EINTR, NULL);
	}
	pthread_mutex_lock(&v->mu);
	while (v->pollers)
		wait_fire_locked(v, v->pollers->owner);
	pthread_mutex_unlock(&v->mu);
}
