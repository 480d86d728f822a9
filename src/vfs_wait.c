/*
 * vfs_wait: blocking until a workspace reaches a state (opening
 * <ws>/wait/STATE), and poll(2) on <ws>/status. The API has no push, so
 * both ask it: a waiter describes its workspace every wait_interval; the
 * poll thread checks the workspaces that have pollers once a second
 * through the cache (so it costs at most one listing per cache_ttl).
 */
#include "vfs_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
wait_sleep(struct vfs *v, long long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&v->mu);
	if (!v->poll_stop)
		pthread_cond_timedwait(&v->poll_cv, &v->mu, &ts);
	pthread_mutex_unlock(&v->mu);
}

int
wait_for_state(struct vfs *v, const char *dirname, const char *id,
	       const char *state)
{
	long long deadline = vfs_now_ms(v) + v->wait_timeout_ms;
	char key[PATH_NAME_MAX + 8];
	char *err = NULL;
	int rc;

	vfs_ws_key(key, sizeof(key), id);
	for (;;) {
		struct ws *w = NULL;

		rc = api_describe(v->http, id, &w, &err);
		if (rc == 0) {
			int done = strcmp(w->status, state) == 0;
			int failed = !done && strcmp(w->status, "FAILED") == 0;

			model_ws_unref(w);
			if (done) {
				/* what we saw is news for every reader */
				cache_invalidate(v->cache, key);
				return 0;
			}
			if (failed) {
				err = model_asprintf("workspace FAILED while waiting for %s", state);
				rc = -EIO;
				break;
			}
		} else if (!vfs_transient_errno(rc)) {
			break;	/* 404, 401...: waiting cannot succeed */
		} else {
			free(err);
			err = NULL;
		}
		if (v->interrupted && v->interrupted()) {
			rc = -EINTR;
			break;
		}
		if (vfs_now_ms(v) >= deadline) {
			err = model_asprintf("still not %s after %lld s (wait_timeout)",
					     state, v->wait_timeout_ms / 1000);
			rc = -ETIMEDOUT;
			break;
		}
		/* the last nap ends at the deadline, for one last look */
		wait_sleep(v, deadline - vfs_now_ms(v) < v->wait_interval_ms
			      ? deadline - vfs_now_ms(v) : v->wait_interval_ms);
		pthread_mutex_lock(&v->mu);
		rc = v->poll_stop ? -EINTR : 0;
		pthread_mutex_unlock(&v->mu);
		if (rc < 0)
			break;
	}
	log_msg(LOG_LVL_ERR, "wait for %s on %s: %s", state, dirname,
		err ? err : strerror(-rc));
	vfs_set_error(v, id, err ? err : strerror(-rc));
	free(err);
	return rc;
}

/* The current status of workspace id (allocated), or NULL. */
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
		if (n.kind == NODE_WS)
			st = strdup(n.cur->ws->status);
		vfs_node_release(&n);
	}
	free(path);
	return st;
}

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
			v->poll_notify(p->ph);
			free(p->id);
			free(p->status);
			free(p);
			return;
		}
}

static void *
wait_poll_thread(void *arg)
{
	struct vfs *v = arg;

	for (;;) {
		struct wait_check *chk = NULL;
		struct vfs_poller *p;
		size_t n = 0, i;
		int stop;

		wait_sleep(v, 1000);
		pthread_mutex_lock(&v->mu);
		stop = v->poll_stop;
		for (p = v->pollers; p; p = p->next)
			n++;
		if (!stop && n)
			chk = calloc(n, sizeof(*chk));
		for (i = 0, p = v->pollers; chk && p; p = p->next, i++) {
			chk[i].owner = p->owner;
			chk[i].id = strdup(p->id);
			chk[i].status = strdup(p->status);
		}
		pthread_mutex_unlock(&v->mu);
		if (stop)
			return NULL;
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
}

int
wait_add_poller(struct vfs *v, const void *owner, const char *id,
		const char *status, void *ph)
{
	struct vfs_poller *p;

	pthread_mutex_lock(&v->mu);
	for (p = v->pollers; p; p = p->next)
		if (p->owner == owner)
			break;
	if (p) {
		v->poll_destroy(p->ph);
		p->ph = ph;
		pthread_mutex_unlock(&v->mu);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->id = strdup(id)) || !(p->status = strdup(status))) {
		if (p)
			free(p->id);
		free(p);
		pthread_mutex_unlock(&v->mu);
		return -ENOMEM;
	}
	p->owner = owner;
	p->ph = ph;
	p->next = v->pollers;
	v->pollers = p;
	pthread_mutex_unlock(&v->mu);
	return 0;
}

void
wait_forget_poller(struct vfs *v, const void *owner)
{
	struct vfs_poller **pp, *p;

	pthread_mutex_lock(&v->mu);
	for (pp = &v->pollers; (p = *pp) != NULL; pp = &p->next)
		if (p->owner == owner) {
			*pp = p->next;
			v->poll_destroy(p->ph);
			free(p->id);
			free(p->status);
			free(p);
			break;
		}
	pthread_mutex_unlock(&v->mu);
}

int
wait_start(struct vfs *v)
{
	if (!v->poll_notify)
		return 0;
	if (pthread_create(&v->poll_thread, NULL, wait_poll_thread, v) != 0)
		return -EAGAIN;
	v->poll_running = 1;
	return 0;
}

void
wait_stop(struct vfs *v)
{
	pthread_mutex_lock(&v->mu);
	v->poll_stop = 1;
	pthread_cond_broadcast(&v->poll_cv);
	pthread_mutex_unlock(&v->mu);
	if (v->poll_running)
		pthread_join(v->poll_thread, NULL);
	v->poll_running = 0;
	pthread_mutex_lock(&v->mu);
	while (v->pollers)
		wait_fire_locked(v, v->pollers->owner);
	pthread_mutex_unlock(&v->mu);
}
