/*
 * vfs: resolves a path to a node (the root, a workspace, a draft, or one of
 * their files), renders file contents, and performs the mutations.
 *
 * Locks: v->mu guards the drafts list, error messages, tombstones and the
 * last list snapshot; each draft's mu guards its buffer and state. Never is
 * an API call made with either held. Cache keys: "L" for the list, "w:ID"
 * for a workspace refreshed on its own after a mutation; such an entry is
 * used only while it is newer (by cache sequence) than the list.
 */
#include "vfs.h"
#include "api.h"
#include "log.h"
#include "model.h"
#include "path.h"
#include "snap.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VFS_LIST_KEY "L"
#define VFS_CONTROL_MAX 4096
static const char vfs_control_help[] = "start\nstop\n";

enum draft_state { DRAFT_EDIT, DRAFT_CREATING, DRAFT_CREATED };

struct draft {
	int refs;			/* atomic */
	struct draft *next;		/* guarded by vfs mu */
	char *dirname;
	char *name;			/* decoded: the workspace name */
	pthread_mutex_t mu;
	char *buf;			/* guarded by mu: spec.json bytes */
	size_t len;			/* guarded by mu */
	enum draft_state state;		/* guarded by mu */
	time_t mtime;			/* guarded by mu */
	char *error;			/* guarded by mu */
	time_t error_mtime;		/* guarded by mu */
};

struct vfs_error {
	struct vfs_error *next;
	char *id;
	char *msg;
	time_t mtime;
};

struct vfs_tomb {
	struct vfs_tomb *next;
	char *id;
};

struct vfs {
	char *cluster;
	long long ttl_ms;
	int ro;
	struct http *http;
	struct cache *cache;
	time_t started;
	pthread_mutex_t mu;
	struct draft *drafts;		/* guarded by mu */
	struct vfs_error *errors;	/* guarded by mu */
	struct vfs_tomb *tombs;		/* guarded by mu */
	struct snap *last;		/* guarded by mu: newest list */
	unsigned long last_seq;		/* guarded by mu: its cache sequence */
	long long last_ok_ms;		/* guarded by mu: when it was fetched */
	long long fail_ms;		/* guarded by mu: last failed refresh, 0 if none since */
	char *stale_msg;		/* guarded by mu: why we serve stale data */
	unsigned long stale_serves;	/* guarded by mu */
	unsigned long pruned_seq;	/* guarded by mu */
	long long max_stale_ms;
	cache_clock_fn clock;
	void *clock_arg;
};

enum node_kind { NODE_ROOT, NODE_WS, NODE_DRAFT, NODE_STATS };
#define VFS_STATS_NAME ".stats"

struct node {
	enum node_kind kind;
	enum ws_file file;		/* WS_FILE_NONE: the directory */
	struct snap *list;		/* reference, NODE_WS */
	struct snap *one;		/* reference when refreshed alone */
	const struct snap_ent *ent;	/* the listing's entry (dirname) */
	const struct snap_ent *cur;	/* the current data (ws, mtime) */
	struct draft *draft;		/* reference, NODE_DRAFT */
};

struct vfs_file {
	enum node_kind kind;
	enum ws_file file;
	char *content;			/* the snapshot read by this handle */
	size_t len;
	char *id;			/* workspace id, NODE_WS */
	struct draft *draft;		/* reference, NODE_DRAFT */
	int wrote;			/* spec.json: written through this handle */
	int create_rc;			/* spec.json: failed create, for flush */
};

/* ---- small helpers ------------------------------------------------------ */

static void *
vfs_snap_ref(void *p)
{
	return snap_ref(p);
}

static void
vfs_snap_unref(void *p)
{
	snap_unref(p);
}

static void
draft_unref(struct draft *d)
{
	if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_mutex_destroy(&d->mu);
	free(d->dirname);
	free(d->name);
	free(d->buf);
	free(d->error);
	free(d);
}

static void
node_release(struct node *n)
{
	snap_unref(n->list);
	snap_unref(n->one);
	draft_unref(n->draft);
	memset(n, 0, sizeof(*n));
}

static int
vfs_tombstoned(struct vfs *v, const char *id)
{
	int found = 0;

	pthread_mutex_lock(&v->mu);
	for (struct vfs_tomb *t = v->tombs; t && !found; t = t->next)
		found = strcmp(t->id, id) == 0;
	pthread_mutex_unlock(&v->mu);
	return found;
}

/* Record (msg non-NULL) or clear the error shown in a workspace's file. */
static void
vfs_set_error(struct vfs *v, const char *id, const char *msg)
{
	struct vfs_error **pp, *e;

	pthread_mutex_lock(&v->mu);
	for (pp = &v->errors; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->id, id) == 0)
			break;
	if (e && !msg) {
		*pp = e->next;
		free(e->id);
		free(e->msg);
		free(e);
	} else if (msg) {
		char *m = strdup(msg);

		if (!e && m && (e = calloc(1, sizeof(*e))) != NULL) {
			e->id = strdup(id);
			if (!e->id) {
				free(e);
				e = NULL;
			} else {
				e->next = v->errors;
				v->errors = e;
			}
		}
		if (e && m) {
			free(e->msg);
			e->msg = m;
			e->mtime = time(NULL);
		} else {
			free(m);
		}
	}
	pthread_mutex_unlock(&v->mu);
}

static void
draft_set_error(struct draft *d, const char *msg)
{
	pthread_mutex_lock(&d->mu);
	free(d->error);
	d->error = msg ? strdup(msg) : NULL;
	d->error_mtime = time(NULL);
	pthread_mutex_unlock(&d->mu);
}

static struct draft *
vfs_find_draft(struct vfs *v, const char *dirname)
{
	struct draft *d;

	pthread_mutex_lock(&v->mu);
	for (d = v->drafts; d; d = d->next)
		if (strcmp(d->dirname, dirname) == 0) {
			__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
			break;
		}
	pthread_mutex_unlock(&v->mu);
	return d;
}

static void
vfs_remove_draft(struct vfs *v, struct draft *d)
{
	struct draft **pp;
	int found = 0;

	pthread_mutex_lock(&v->mu);
	for (pp = &v->drafts; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&v->mu);
	if (found)
		draft_unref(d);	/* the list's reference */
}

/* ---- fetching ----------------------------------------------------------- */

static int
vfs_fetch_list(void *arg, const char *key, void **val, char **err)
{
	struct vfs *v = arg;
	struct vfs_tomb **pp, *t;
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
	s = snap_build(arr, n, prev, time(NULL));
	free(arr);
	snap_unref(prev);
	if (!s) {
		*err = strdup("out of memory building the workspace list");
		return -ENOMEM;
	}
	pthread_mutex_lock(&v->mu);
	snap_unref(v->last);
	v->last = snap_ref(s);
	/* forget deletions the API no longer lists */
	for (pp = &v->tombs; (t = *pp) != NULL;) {
		if (!snap_find_id(s, t->id)) {
			*pp = t->next;
			free(t->id);
			free(t);
		} else {
			pp = &t->next;
		}
	}
	pthread_mutex_unlock(&v->mu);
	log_msg(LOG_LVL_DEBUG, "listed %zu workspaces", s->n);
	*val = s;
	return 0;
}

static int
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

static long long
vfs_now_ms(struct vfs *v)
{
	struct timespec ts;

	if (v->clock)
		return v->clock(v->clock_arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Failures worth riding out on the last listing; permanent answers
 * (401, 403, 404, 400) are never masked. */
static int
vfs_transient(int rc)
{
	return rc == -EIO || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
	       rc == -EAGAIN;
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

/* The current list snapshot (a new reference) and its cache sequence.
 * When a refresh fails transiently, the last listing is served for up to
 * max_stale, and the refresh is retried at most once per max(ttl, 1 s). */
static int
vfs_list(struct vfs *v, struct snap **out, unsigned long *seq)
{
	long long now = vfs_now_ms(v);
	long long pause = v->ttl_ms > 1000 ? v->ttl_ms : 1000;
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

	rc = cache_get(v->cache, VFS_LIST_KEY, vfs_fetch_list, v, &val, seq, &err);
	if (rc < 0) {
		struct snap *stale = NULL;

		pthread_mutex_lock(&v->mu);
		if (vfs_transient(rc)) {
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
	prune = v->pruned_seq != *seq;
	v->pruned_seq = *seq;
	pthread_mutex_unlock(&v->mu);
	if (prune)
		cache_prune(v->cache, *seq, VFS_LIST_KEY);
	return 0;
}

/* Fill n->cur: the listing's data, or a fresher describe after a change. */
static int
vfs_resolve_ws(struct vfs *v, struct node *n, unsigned long lseq)
{
	char key[PATH_NAME_MAX + 8];
	unsigned long s = 0;
	void *val;
	char *err = NULL;
	int rc;

	n->cur = n->ent;
	snprintf(key, sizeof(key), "w:%s", n->ent->ws->id);
	if (cache_state(v->cache, key, &s) == CACHE_ABSENT || s < lseq)
		return 0;
	rc = cache_get(v->cache, key, vfs_fetch_one, v, &val, NULL, &err);
	if (rc < 0) {
		log_msg(LOG_LVL_ERR, "refreshing %s: %s", n->ent->dirname,
			err ? err : strerror(-rc));
		vfs_set_error(v, n->ent->ws->id, err ? err : strerror(-rc));
		free(err);
		return rc;
	}
	n->one = val;
	if (n->one->n == 1)
		n->cur = &n->one->v[0];
	return 0;
}

static int
vfs_resolve(struct vfs *v, const char *path, struct node *n)
{
	struct path_parts pp;
	unsigned long lseq = 0;
	int rc;

	memset(n, 0, sizeof(*n));
	n->file = WS_FILE_NONE;
	rc = path_split(path, &pp);
	if (rc < 0)
		return rc;
	if (pp.kind == PATH_ROOT) {
		n->kind = NODE_ROOT;
		return 0;
	}
	if (pp.top[0] == '.') {
		/* reserved for the filesystem's own entries */
		if (pp.kind == PATH_TOP && strcmp(pp.top, VFS_STATS_NAME) == 0) {
			n->kind = NODE_STATS;
			n->file = WS_FILE_STATUS;	/* a read-only file */
			return 0;
		}
		return -ENOENT;
	}
	rc = vfs_list(v, &n->list, &lseq);
	if (rc < 0)
		return rc;
	n->ent = snap_find_dir(n->list, pp.top);
	if (n->ent && !vfs_tombstoned(v, n->ent->ws->id)) {
		n->kind = NODE_WS;
		rc = vfs_resolve_ws(v, n, lseq);
		if (rc < 0)
			goto fail;
	} else if ((n->draft = vfs_find_draft(v, pp.top)) != NULL) {
		n->kind = NODE_DRAFT;
	} else {
		rc = -ENOENT;
		goto fail;
	}
	if (pp.kind == PATH_FILE) {
		n->file = path_file_kind(pp.file);
		if (n->file == WS_FILE_NONE ||
		    (n->kind == NODE_WS && n->file == WS_FILE_SPEC) ||
		    (n->kind == NODE_DRAFT && n->file != WS_FILE_SPEC &&
		     n->file != WS_FILE_ERROR)) {
			rc = -ENOENT;
			goto fail;
		}
	}
	return 0;
fail:
	node_release(n);
	return rc;
}

/* ---- rendering ---------------------------------------------------------- */

/* The .stats file: "key value" lines of API and cache counters. */
static char *
vfs_render_stats(struct vfs *v)
{
	static const char *const ops[API_OP_COUNT] = {
		"list", "describe", "create", "delete", "start", "stop"
	};
	struct http_stats hs;
	struct cache_stats cs;
	unsigned long total = 0, stale;
	size_t nws = 0, ndrafts = 0;
	time_t last = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	http_get_stats(v->http, &hs);
	cache_get_stats(v->cache, &cs);
	pthread_mutex_lock(&v->mu);
	stale = v->stale_serves;
	if (v->last) {
		nws = v->last->n;
		last = v->last->built;
	}
	for (struct draft *d = v->drafts; d; d = d->next)
		ndrafts++;
	pthread_mutex_unlock(&v->mu);
	fp = open_memstream(&buf, &len);
	if (!fp)
		return NULL;
	for (int i = 0; i < API_OP_COUNT; i++)
		total += hs.requests[i];
	fprintf(fp, "requests_total %lu\n", total);
	for (int i = 0; i < API_OP_COUNT; i++)
		fprintf(fp, "requests_%s %lu\n", ops[i], hs.requests[i]);
	for (int i = 0; i < API_OP_COUNT; i++)
		fprintf(fp, "responses_%s_2xx %lu\nresponses_%s_4xx %lu\n"
			"responses_%s_5xx %lu\nresponses_%s_failed %lu\n",
			ops[i], hs.status_2xx[i], ops[i], hs.status_4xx[i],
			ops[i], hs.status_5xx[i], ops[i], hs.transport_errors[i]);
	fprintf(fp, "retries %lu\n", hs.retries);
	fprintf(fp, "cache_hits %lu\ncache_misses %lu\ncache_joins %lu\n"
		"cache_errors %lu\ncache_stale_serves %lu\n",
		cs.hits, cs.misses, cs.joins, cs.errors, stale);
	fprintf(fp, "latency_p50_ms %.1f\nlatency_p99_ms %.1f\n",
		hs.lat_p50_ms, hs.lat_p99_ms);
	fprintf(fp, "last_list_refresh %lld\n", (long long)last);
	fprintf(fp, "workspaces %zu\ndrafts %zu\n", nws, ndrafts);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The content of a file node, allocated, and its mtime. */
static int
vfs_render(struct vfs *v, const struct node *n, char **out, size_t *len,
	   time_t *mtime)
{
	const struct ws *w = n->kind == NODE_WS ? n->cur->ws : NULL;
	char *s = NULL;

	*mtime = n->kind == NODE_WS ? n->cur->mtime : v->started;
	if (n->kind == NODE_STATS) {
		s = vfs_render_stats(v);
		*mtime = time(NULL);
		goto done;
	}
	switch (n->file) {
	case WS_FILE_STATUS_JSON:
		s = malloc(w->json_len + 1);
		if (s)
			memcpy(s, w->json, w->json_len + 1);
		break;
	case WS_FILE_STATUS:
		s = model_asprintf("%s\n", w->status);
		break;
	case WS_FILE_ID:
		s = model_asprintf("%s\n", w->id);
		break;
	case WS_FILE_CONTROL:
		s = strdup(vfs_control_help);
		break;
	case WS_FILE_ERROR:
		if (n->kind == NODE_DRAFT) {
			pthread_mutex_lock(&n->draft->mu);
			s = model_asprintf("%s%s", n->draft->error ? n->draft->error : "",
					   n->draft->error ? "\n" : "");
			if (n->draft->error)
				*mtime = n->draft->error_mtime;
			pthread_mutex_unlock(&n->draft->mu);
			break;
		}
		pthread_mutex_lock(&v->mu);
		for (struct vfs_error *e = v->errors; e; e = e->next)
			if (strcmp(e->id, w->id) == 0) {
				s = model_asprintf("%s\n", e->msg);
				*mtime = e->mtime;
				break;
			}
		if (!s && v->stale_msg)
			s = model_asprintf("%s\n", v->stale_msg);
		pthread_mutex_unlock(&v->mu);
		if (!s)
			s = strdup("");
		break;
	case WS_FILE_SPEC:
		pthread_mutex_lock(&n->draft->mu);
		*mtime = n->draft->mtime;
		if (n->draft->len > 0) {
			s = malloc(n->draft->len + 1);
			if (s) {
				memcpy(s, n->draft->buf, n->draft->len);
				s[n->draft->len] = '\0';
			}
			*len = n->draft->len;
			pthread_mutex_unlock(&n->draft->mu);
			*out = s;
			return s ? 0 : -ENOMEM;
		}
		pthread_mutex_unlock(&n->draft->mu);
		s = model_spec_skeleton(n->draft->name, v->cluster);
		break;
	default:
		return -ENOENT;
	}
done:
	if (!s)
		return -ENOMEM;
	*out = s;
	*len = strlen(s);
	return 0;
}

static void
vfs_node_attr(struct vfs *v, const struct node *n, struct vfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->is_dir = 1;
	a->mode = 0755;
	switch (n->kind) {
	case NODE_ROOT:
		a->mtime = v->started;
		break;
	case NODE_WS:
		a->mtime = n->cur->ws->created ? n->cur->ws->created : v->started;
		break;
	case NODE_DRAFT:
		pthread_mutex_lock(&n->draft->mu);
		a->mtime = n->draft->mtime;
		pthread_mutex_unlock(&n->draft->mu);
		break;
	case NODE_STATS:
		a->mtime = time(NULL);
		break;
	}
}

static int
vfs_file_writable(enum ws_file f)
{
	return f == WS_FILE_CONTROL || f == WS_FILE_SPEC;
}

static int
vfs_attr(struct vfs *v, const struct node *n, struct vfs_attr *a)
{
	char *s;
	size_t len;
	int rc;

	vfs_node_attr(v, n, a);
	if (n->file == WS_FILE_NONE)
		return 0;
	rc = vfs_render(v, n, &s, &len, &a->mtime);
	if (rc < 0)
		return rc;
	free(s);
	a->is_dir = 0;
	a->size = (off_t)len;
	a->mode = vfs_file_writable(n->file) ? 0644 : 0444;
	return 0;
}

/* ---- the operations ----------------------------------------------------- */

struct vfs *
vfs_new(const struct vfs_cfg *cfg, struct http *h)
{
	struct cache_hooks hooks = {
		.ref = vfs_snap_ref,
		.unref = vfs_snap_unref,
		.clock = cfg->clock,
		.clock_arg = cfg->clock_arg,
	};
	struct vfs *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->ttl_ms = cfg->ttl_ms;
	v->ro = cfg->ro;
	v->max_stale_ms = cfg->max_stale_ms;
	v->clock = cfg->clock;
	v->clock_arg = cfg->clock_arg;
	v->http = h;
	v->started = time(NULL);
	pthread_mutex_init(&v->mu, NULL);
	if ((cfg->cluster && !(v->cluster = strdup(cfg->cluster))) ||
	    !(v->cache = cache_new(cfg->ttl_ms, &hooks))) {
		vfs_free(v);
		return NULL;
	}
	return v;
}

void
vfs_free(struct vfs *v)
{
	if (!v)
		return;
	while (v->drafts) {
		struct draft *d = v->drafts;

		v->drafts = d->next;
		draft_unref(d);
	}
	while (v->errors) {
		struct vfs_error *e = v->errors;

		v->errors = e->next;
		free(e->id);
		free(e->msg);
		free(e);
	}
	while (v->tombs) {
		struct vfs_tomb *t = v->tombs;

		v->tombs = t->next;
		free(t->id);
		free(t);
	}
	snap_unref(v->last);
	free(v->stale_msg);
	cache_free(v->cache);
	pthread_mutex_destroy(&v->mu);
	free(v->cluster);
	free(v);
}

int
vfs_is_ro(const struct vfs *v)
{
	return v->ro;
}

int
vfs_getattr(struct vfs *v, const char *path, struct vfs_attr *a)
{
	struct node n;
	int rc;

	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	rc = vfs_attr(v, &n, a);
	node_release(&n);
	return rc;
}

int
vfs_readdir(struct vfs *v, const char *path, vfs_fill_fn fill, void *ctx)
{
	struct vfs_attr a;
	struct node n, child;
	int rc;

	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	if (n.file != WS_FILE_NONE) {
		node_release(&n);
		return -ENOTDIR;
	}
	vfs_node_attr(v, &n, &a);
	if (fill(ctx, ".", &a) || fill(ctx, "..", &a))
		goto out;
	if (n.kind == NODE_ROOT) {
		struct snap *s = NULL;
		unsigned long seq;
		struct draft *d;

		rc = vfs_list(v, &s, &seq);
		if (rc == -ENOENT)
			rc = -EIO;	/* readdir(3) would take ENOENT for "empty" */
		if (rc < 0)
			goto out;
		{
			struct node sn = { .kind = NODE_STATS, .file = WS_FILE_STATUS };

			if (vfs_attr(v, &sn, &a) == 0 && fill(ctx, VFS_STATS_NAME, &a))
				goto done_root;
			a.is_dir = 1;
			a.mode = 0755;
			a.size = 0;
		}
		for (size_t i = 0; i < s->n; i++) {
			const struct snap_ent *e = &s->v[i];

			if (vfs_tombstoned(v, e->ws->id))
				continue;
			a.mtime = e->ws->created ? e->ws->created : v->started;
			if (fill(ctx, e->dirname, &a))
				break;
		}
		pthread_mutex_lock(&v->mu);
		for (d = v->drafts; d; d = d->next) {
			if (snap_find_dir(s, d->dirname))
				continue;	/* a workspace took the name */
			a.mtime = v->started;
			if (fill(ctx, d->dirname, &a))
				break;
		}
		pthread_mutex_unlock(&v->mu);
done_root:
		snap_unref(s);
		goto out;
	}
	for (int f = 0; f < WS_FILE_COUNT; f++) {
		child = n;
		child.file = (enum ws_file)f;
		if (n.kind == NODE_WS && f == WS_FILE_SPEC)
			continue;
		if (n.kind == NODE_DRAFT && f != WS_FILE_SPEC && f != WS_FILE_ERROR)
			continue;
		if (vfs_attr(v, &child, &a) < 0)
			continue;
		if (fill(ctx, path_file_name(child.file), &a))
			break;
	}
out:
	node_release(&n);
	return rc;
}

int
vfs_open(struct vfs *v, const char *path, int flags, struct vfs_file **out)
{
	int writing = (flags & O_ACCMODE) != O_RDONLY;
	struct vfs_file *f;
	struct node n;
	time_t mtime;
	int rc;

	*out = NULL;
	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	if (n.file == WS_FILE_NONE) {
		rc = -EISDIR;
		goto out;
	}
	if (writing && v->ro) {
		rc = -EROFS;
		goto out;
	}
	if (writing && !vfs_file_writable(n.file)) {
		rc = -EACCES;
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	f->kind = n.kind;
	f->file = n.file;
	if (n.kind == NODE_WS && !(f->id = strdup(n.ent->ws->id)))
		rc = -ENOMEM;
	if (n.kind == NODE_DRAFT) {
		f->draft = n.draft;
		__atomic_add_fetch(&f->draft->refs, 1, __ATOMIC_RELAXED);
	}
	/* libfuse asks for atomic O_TRUNC: the truncate comes with the open */
	if (rc == 0 && writing && (flags & O_TRUNC))
		rc = vfs_truncate(v, path, 0, f);
	if (rc == 0 && !(flags & O_WRONLY))
		rc = vfs_render(v, &n, &f->content, &f->len, &mtime);
	if (rc < 0) {
		vfs_release(v, f);
		goto out;
	}
	*out = f;
out:
	node_release(&n);
	return rc;
}

int
vfs_read(struct vfs_file *f, char *buf, size_t size, off_t off)
{
	if (!f->content || off < 0 || (size_t)off >= f->len)
		return 0;
	if (size > f->len - (size_t)off)
		size = f->len - (size_t)off;
	memcpy(buf, f->content + off, size);
	return (int)size;
}

static int
vfs_write_control(struct vfs *v, struct vfs_file *f, const char *buf, size_t size)
{
	enum model_cmd cmds[MODEL_CMD_MAX];
	char *err = NULL;
	size_t n, i;
	int rc;

	if (size > VFS_CONTROL_MAX) {
		err = model_asprintf("control: write of %zu bytes is over the %d-byte limit",
				     size, VFS_CONTROL_MAX);
		rc = -EFBIG;
		goto fail;
	}
	rc = model_parse_control(buf, size, cmds, &n, &err);
	if (rc < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		char key[PATH_NAME_MAX + 8];

		rc = api_command(v->http, f->id, cmds[i], &err);
		snprintf(key, sizeof(key), "w:%s", f->id);
		cache_invalidate(v->cache, key);
		if (rc == -ENOENT)	/* gone elsewhere: show it at once */
			cache_invalidate(v->cache, VFS_LIST_KEY);
		if (rc < 0)
			goto fail;
		log_msg(LOG_LVL_INFO, "workspace %s: %s sent", f->id,
			model_cmd_name(cmds[i]));
	}
	vfs_set_error(v, f->id, NULL);
	return (int)size;
fail:
	log_msg(LOG_LVL_ERR, "workspace %s: %s", f->id, err ? err : strerror(-rc));
	vfs_set_error(v, f->id, err ? err : strerror(-rc));
	free(err);
	return rc;
}

static int
vfs_all_space(const char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (!isspace((unsigned char)buf[i]))
			return 0;
	return 1;
}

/* A create failed without a clear answer: list (bypassing the cache) and
 * look for a workspace of the draft's name that the last listing did not
 * have. Returns 0 with *id when it was created after all, else rc with an
 * explanation in *err. Never creates anything itself. */
static int
vfs_reconcile_create(struct vfs *v, struct draft *d, int rc, char **id,
		     char **err)
{
	struct ws **arr = NULL;
	struct snap *prev;
	char *lerr = NULL, *why = *err;
	size_t n = 0, found = 0;
	int lrc;

	lrc = api_list(v->http, v->cluster, &arr, &n, &lerr);
	pthread_mutex_lock(&v->mu);
	prev = v->last ? snap_ref(v->last) : NULL;
	pthread_mutex_unlock(&v->mu);
	for (size_t i = 0; lrc == 0 && i < n; i++) {
		if (strcmp(arr[i]->name, d->name) != 0 ||
		    (prev && snap_find_id(prev, arr[i]->id)))
			continue;
		if (found++ == 0)
			*id = strdup(arr[i]->id);
	}
	snap_unref(prev);
	model_ws_array_free(arr, n);
	if (lrc < 0) {
		*err = model_asprintf("create outcome unknown (%s) and listing failed (%s); "
				      "check with ls before writing spec.json again",
				      why ? why : strerror(-rc), lerr ? lerr : strerror(-lrc));
	} else if (found == 1 && *id) {
		log_msg(LOG_LVL_WARN, "draft %s: create reply lost (%s); the listing shows it was created as %s",
			d->dirname, why ? why : strerror(-rc), *id);
		*err = NULL;
		rc = 0;
	} else if (found > 1) {
		free(*id);
		*id = NULL;
		*err = model_asprintf("create outcome unknown (%s); the listing shows %zu new workspaces of this name",
				      why ? why : strerror(-rc), found);
	} else {
		*err = model_asprintf("create failed (%s); the listing confirms nothing was created, "
				      "write spec.json again to retry", why ? why : strerror(-rc));
	}
	free(why);
	free(lerr);
	return rc;
}

static int
vfs_write_spec(struct vfs *v, struct vfs_file *f, const char *buf, size_t size,
	       off_t off)
{
	struct draft *d = f->draft;
	char *body = NULL, *err = NULL, *id = NULL;
	int rc, unknown = 0;
	size_t end;

	pthread_mutex_lock(&d->mu);
	if (d->state == DRAFT_CREATED) {
		rc = vfs_all_space(buf, size) ? (int)size : -EBUSY;
		pthread_mutex_unlock(&d->mu);
		return rc;
	}
	if (d->state == DRAFT_CREATING) {
		pthread_mutex_unlock(&d->mu);
		return -EBUSY;
	}
	if (off < 0 || (size_t)off > MODEL_SPEC_MAX ||
	    size > MODEL_SPEC_MAX - (size_t)off) {
		pthread_mutex_unlock(&d->mu);
		err = model_asprintf("spec.json: over the %d-byte limit", MODEL_SPEC_MAX);
		rc = -EFBIG;
		goto fail;
	}
	end = (size_t)off + size;
	if (end > d->len) {
		char *p = realloc(d->buf, end + 1);

		if (!p) {
			pthread_mutex_unlock(&d->mu);
			return -ENOMEM;
		}
		d->buf = p;
		memset(d->buf + d->len, 0, end - d->len);
		d->len = end;
	}
	memcpy(d->buf + off, buf, size);
	d->mtime = time(NULL);
	f->wrote = 1;
	f->create_rc = 0;
	if (!model_spec_complete(d->buf, d->len)) {
		pthread_mutex_unlock(&d->mu);
		return (int)size;
	}
	rc = model_spec_build(d->buf, d->len, d->name, v->cluster, &body, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&d->mu);
		goto fail;
	}
	d->state = DRAFT_CREATING;
	pthread_mutex_unlock(&d->mu);

	rc = api_create(v->http, body, &id, &unknown, &err);
	free(body);
	if (rc < 0 && unknown)
		rc = vfs_reconcile_create(v, d, rc, &id, &err);

	pthread_mutex_lock(&d->mu);
	d->state = rc < 0 ? DRAFT_EDIT : DRAFT_CREATED;
	pthread_mutex_unlock(&d->mu);
	if (rc < 0)
		goto fail;
	log_msg(LOG_LVL_INFO, "workspace %s created with id %s", d->dirname, id);
	draft_set_error(d, NULL);
	/* the directory now shows the real workspace */
	vfs_remove_draft(v, d);
	cache_invalidate(v->cache, VFS_LIST_KEY);
	free(id);
	return (int)size;
fail:
	log_msg(LOG_LVL_ERR, "draft %s: %s", d->dirname, err ? err : strerror(-rc));
	draft_set_error(d, err ? err : strerror(-rc));
	f->create_rc = rc;
	free(err);
	return rc;
}

int
vfs_write(struct vfs *v, struct vfs_file *f, const char *buf, size_t size,
	  off_t off)
{
	if (v->ro)
		return -EROFS;
	if (f->file == WS_FILE_CONTROL && f->kind == NODE_WS)
		return vfs_write_control(v, f, buf, size);
	if (f->file == WS_FILE_SPEC && f->kind == NODE_DRAFT)
		return vfs_write_spec(v, f, buf, size, off);
	return -EBADF;
}

int
vfs_flush(struct vfs *v, struct vfs_file *f)
{
	int rc = 0;

	(void)v;
	if (f->kind != NODE_DRAFT || f->file != WS_FILE_SPEC || !f->wrote)
		return 0;
	pthread_mutex_lock(&f->draft->mu);
	if (f->draft->state != DRAFT_CREATED) {
		if (f->create_rc < 0) {
			rc = f->create_rc;
		} else {
			rc = -EINVAL;
			free(f->draft->error);
			f->draft->error = strdup("spec.json: the bytes written do not form one complete JSON object");
			f->draft->error_mtime = time(NULL);
		}
	}
	pthread_mutex_unlock(&f->draft->mu);
	if (rc == -EINVAL && f->create_rc == 0)
		log_msg(LOG_LVL_ERR, "draft %s: spec.json incomplete at close",
			f->draft->dirname);
	return rc;
}

void
vfs_release(struct vfs *v, struct vfs_file *f)
{
	(void)v;
	if (!f)
		return;
	free(f->content);
	free(f->id);
	draft_unref(f->draft);
	free(f);
}

int
vfs_truncate(struct vfs *v, const char *path, off_t size, struct vfs_file *f)
{
	struct draft *d = NULL;
	struct node n = { 0 };
	enum ws_file file;
	int rc = 0;

	if (v->ro)
		return -EROFS;
	if (f) {
		file = f->file;
		if (f->draft) {
			d = f->draft;
			__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
		}
	} else {
		rc = vfs_resolve(v, path, &n);
		if (rc < 0)
			return rc;
		file = n.file;
		d = n.draft;
		n.draft = NULL;
		node_release(&n);
	}
	if (file == WS_FILE_CONTROL) {
		rc = 0;	/* "echo cmd > control" truncates first */
	} else if (file == WS_FILE_SPEC && d) {
		pthread_mutex_lock(&d->mu);
		if (d->state != DRAFT_EDIT) {
			rc = -EBUSY;
		} else if (size < 0 || size > MODEL_SPEC_MAX) {
			rc = -EFBIG;
		} else if ((size_t)size <= d->len) {
			d->len = (size_t)size;
			d->mtime = time(NULL);
		} else {
			char *p = realloc(d->buf, (size_t)size + 1);

			if (!p) {
				rc = -ENOMEM;
			} else {
				memset(p + d->len, 0, (size_t)size - d->len);
				d->buf = p;
				d->len = (size_t)size;
				d->mtime = time(NULL);
			}
		}
		pthread_mutex_unlock(&d->mu);
	} else if (file == WS_FILE_NONE) {
		rc = -EISDIR;
	} else {
		rc = -EACCES;
	}
	draft_unref(d);
	return rc;
}

int
vfs_mkdir(struct vfs *v, const char *path)
{
	char name[4 * PATH_NAME_MAX + 1];
	struct path_parts pp;
	struct draft *d;
	struct node n;
	int rc;

	if (v->ro)
		return -EROFS;
	rc = path_split(path, &pp);
	if (rc < 0)
		return rc;
	if (pp.kind != PATH_TOP)
		return pp.kind == PATH_ROOT ? -EEXIST : -EPERM;
	rc = vfs_resolve(v, path, &n);
	if (rc == 0) {
		node_release(&n);
		return -EEXIST;
	}
	if (rc != -ENOENT)
		return rc;
	if (path_decode_name(pp.top, name, sizeof(name)) < 0) {
		log_msg(LOG_LVL_ERR, "mkdir %s: not a workspace name in its encoded form",
			pp.top);
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->dirname = strdup(pp.top)) || !(d->name = strdup(name))) {
		if (d) {
			free(d->dirname);
			free(d);
		}
		return -ENOMEM;
	}
	d->refs = 1;
	d->mtime = time(NULL);
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_lock(&v->mu);
	for (struct draft *o = v->drafts; o; o = o->next)
		if (strcmp(o->dirname, d->dirname) == 0)
			rc = -EEXIST;	/* a racing mkdir won */
	if (rc == 0 || rc == -ENOENT) {
		d->next = v->drafts;
		v->drafts = d;
		d = NULL;
		rc = 0;
	}
	pthread_mutex_unlock(&v->mu);
	draft_unref(d);
	return rc;
}

int
vfs_rmdir(struct vfs *v, const char *path)
{
	char key[PATH_NAME_MAX + 8];
	struct vfs_tomb *t;
	char *err = NULL;
	struct node n;
	int rc;

	if (v->ro)
		return -EROFS;
	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	if (n.kind == NODE_ROOT) {
		rc = -EBUSY;
		goto out;
	}
	if (n.file != WS_FILE_NONE) {
		rc = -ENOTDIR;
		goto out;
	}
	if (n.kind == NODE_DRAFT) {
		pthread_mutex_lock(&n.draft->mu);
		rc = n.draft->state == DRAFT_CREATING ? -EBUSY : 0;
		pthread_mutex_unlock(&n.draft->mu);
		if (rc == 0)
			vfs_remove_draft(v, n.draft);
		goto out;
	}
	rc = api_delete(v->http, n.ent->ws->id, &err);
	snprintf(key, sizeof(key), "w:%s", n.ent->ws->id);
	cache_invalidate(v->cache, key);
	if (rc == -ENOENT)
		cache_invalidate(v->cache, VFS_LIST_KEY);
	if (rc < 0) {
		log_msg(LOG_LVL_ERR, "rmdir %s: %s", n.ent->dirname,
			err ? err : strerror(-rc));
		vfs_set_error(v, n.ent->ws->id, err ? err : strerror(-rc));
		free(err);
		goto out;
	}
	log_msg(LOG_LVL_INFO, "workspace %s (%s) deleted", n.ent->dirname,
		n.ent->ws->id);
	vfs_set_error(v, n.ent->ws->id, NULL);
	t = calloc(1, sizeof(*t));
	if (t && (t->id = strdup(n.ent->ws->id)) != NULL) {
		pthread_mutex_lock(&v->mu);
		t->next = v->tombs;
		v->tombs = t;
		pthread_mutex_unlock(&v->mu);
	} else {
		free(t);
	}
	cache_invalidate(v->cache, VFS_LIST_KEY);
out:
	node_release(&n);
	return rc;
}

int
vfs_refuse(struct vfs *v, const char *path)
{
	struct node n;
	int rc;

	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	node_release(&n);
	return v->ro ? -EROFS : -EPERM;
}
