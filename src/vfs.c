/*
 * vfs: resolves a path to a node (see vfs_int.h), gives its attributes
 * and dispatches the operations. The state below it is in vfs_state.c,
 * the listing in vfs_list.c, contents in vfs_render.c, drafts in
 * vfs_draft.c, the root's dot entries in vfs_dot.c; waiting (above it) in
 * vfs_wait.c.
 * Locks and cache keys: see vfs_int.h.
 */
#include "vfs_int.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void *
vfs_tpl_ref(void *p)
{
	return model_templates_ref(p);
}

static void
vfs_tpl_unref(void *p)
{
	model_templates_unref(p);
}

void
vfs_node_release(struct node *n)
{
	snap_unref(n->list);
	snap_unref(n->one);
	draft_unref(n->draft);
	model_templates_unref(n->tpl);
	free(n->target);
	memset(n, 0, sizeof(*n));
}

/* Fill n->cur: the listing's data, or a fresher describe after a change
 * made through this mount. The first read after the change waits for the
 * describe; later ones take it as held (a list refresh supersedes it). A
 * describe that fails transiently leaves the listing's data in place
 * (unless max_stale=0): the failure is in the error file, and status
 * stays readable. */
static int
vfs_resolve_ws(struct vfs *v, struct node *n, unsigned long lseq)
{
	char key[PATH_NAME_MAX + 8];
	long long max_age = v->max_stale_ms > v->ttl_ms ? v->max_stale_ms : v->ttl_ms;
	unsigned long s = 0;
	void *val;
	char *err = NULL;
	int rc, fresh;

	n->cur = n->ent;
	vfs_ws_key(key, sizeof(key), n->ent->ws->id);
	if (cache_state(v->cache, key, &s) == CACHE_ABSENT || s < lseq)
		return 0;
	rc = cache_peek(v->cache, key, max_age, &val, NULL, &fresh);
	if (rc < 0)
		rc = cache_get(v->cache, key, vfs_fetch_one, v, &val, NULL, &err);
	if (rc < 0) {
		log_msg(LOG_LVL_ERR, "refreshing %s: %s", n->ent->dirname,
			err ? err : strerror(-rc));
		vfs_note_error(v, n->ent->ws->id, "refresh", "refresh",
			       err ? err : strerror(-rc));
		free(err);
		/* with max_stale=0 nothing older is ever served; else the
		 * listing's data stands, and later reads do not ask again */
		if (!vfs_stale_ok(v, rc) || v->max_stale_ms <= 0)
			return rc;
		cache_drop(v->cache, key);
		return 0;
	}
	n->one = val;
	if (n->one->n == 1)
		n->cur = &n->one->v[0];
	vfs_note_error(v, n->ent->ws->id, "refresh", "refresh", NULL);
	return 0;
}

/* A state a wait file may name: a workspace_status of the published
 * spec, or one the API shows now for any workspace (so a status the API
 * adds later can be waited on once it is in use). Anything else is
 * ENOENT at lookup: a typo never blocks. */
static int
vfs_state_name(const struct snap *list, const char *s)
{
	static const char *const known[] = {
		"PENDING", "RUNNING", "STOPPED", "DELETED", "FAILED",
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(s, known[i]) == 0)
			return 1;
	for (size_t i = 0; list && i < list->n; i++)
		if (strcmp(list->v[i].ws->status, s) == 0)
			return 1;
	return 0;
}

/* The children of a workspace or draft directory. */
static int
vfs_resolve_child(struct node *n, const struct path_parts *pp)
{
	n->file = path_file_kind(pp->file);
	if (n->kind == NODE_DRAFT) {
		if (n->file == WS_FILE_SPEC || n->file == WS_FILE_ERROR)
			return pp->kind == PATH_FILE ? 0 : -ENOTDIR;
		if (n->file == WS_FILE_NONE && draft_has_temp(n->draft, pp->file)) {
			n->kind = NODE_TEMP;
			memcpy(n->leaf, pp->file, strlen(pp->file) + 1);
			return pp->kind == PATH_FILE ? 0 : -ENOTDIR;
		}
		return -ENOENT;
	}
	if (n->file == WS_FILE_NONE || n->file == WS_FILE_SPEC)
		return -ENOENT;
	if (n->file == WS_FILE_WAIT) {
		n->kind = NODE_WAITDIR;
		if (pp->kind == PATH_FILE)
			return 0;
		if (!vfs_state_name(n->list, pp->leaf))
			return -ENOENT;
		n->kind = NODE_WAIT;
		memcpy(n->leaf, pp->leaf, strlen(pp->leaf) + 1);
		return 0;
	}
	return pp->kind == PATH_FILE ? 0 : -ENOTDIR;
}

/* How vfs_resolve_opt resolves: RESOLVE_DESCRIBE takes a workspace's
 * data after a change made through this mount (opening control for
 * writing needs only its id, and the command invalidates it anyway);
 * RESOLVE_OPEN counts as an open (cache_ttl=0 asks the API). */
#define RESOLVE_DESCRIBE 1
#define RESOLVE_OPEN 2

static int vfs_resolve_opt(struct vfs *v, const char *path, struct node *n,
			   int how);

int
vfs_resolve(struct vfs *v, const char *path, struct node *n)
{
	return vfs_resolve_opt(v, path, n, RESOLVE_DESCRIBE);
}

static int
vfs_resolve_opt(struct vfs *v, const char *path, struct node *n, int how)
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
		rc = dot_resolve(v, &pp, n);
		goto out;
	}
	rc = vfs_list_want(v, how & RESOLVE_OPEN ? VFS_WANT_OPEN : VFS_WANT_HELD,
			   &n->list, &lseq);
	if (rc < 0)
		return rc;
	n->ent = snap_find_dir(n->list, pp.top);
	if (n->ent && !vfs_tombstoned(v, n->ent->ws->id)) {
		n->kind = NODE_WS;
		n->cur = n->ent;
		if (how & RESOLVE_DESCRIBE)
			rc = vfs_resolve_ws(v, n, lseq);
	} else if ((n->draft = vfs_find_draft(v, pp.top)) != NULL) {
		n->kind = NODE_DRAFT;
		n->ent = NULL;
	} else {
		rc = -ENOENT;
	}
	if (rc == 0 && pp.kind != PATH_TOP)
		rc = vfs_resolve_child(n, &pp);
out:
	if (rc < 0)
		vfs_node_release(n);
	return rc;
}

static int
vfs_is_dir(const struct node *n)
{
	switch (n->kind) {
	case NODE_ROOT:
	case NODE_WAITDIR:
	case NODE_BYID_DIR:
	case NODE_BYCL_DIR:
	case NODE_BYCL_CLUSTER:
	case NODE_TPL_DIR:
		return 1;
	case NODE_WS:
	case NODE_DRAFT:
		return n->file == WS_FILE_NONE;
	default:
		return 0;
	}
}

/* The logs files: read from the workspace's live stream (logs.c). */
static int
vfs_is_log(enum node_kind kind, enum ws_file file)
{
	return kind == NODE_WS && (file == WS_FILE_LOGS || file == WS_FILE_LOGS_FOLLOW);
}

/* The files rendered from the workspace object alone. */
static int
vfs_is_ws_rendering(const struct node *n)
{
	return n->kind == NODE_WS &&
	       (n->file == WS_FILE_STATUS_JSON || n->file == WS_FILE_STATUS ||
		n->file == WS_FILE_ID || n->file == WS_FILE_ACCESS);
}

static int
vfs_is_writable(const struct node *n)
{
	return n->kind == NODE_CTL || n->kind == NODE_TEMP ||
	       (n->kind == NODE_WS && n->file == WS_FILE_CONTROL) ||
	       (n->kind == NODE_DRAFT && n->file == WS_FILE_SPEC);
}

/* The size of the common workspace files without rendering them (what
 * ls -l and stat ask for most); 0 when it must be rendered. Must agree
 * with vfs_render. */
static int
vfs_size_fast(const struct node *n, off_t *size)
{
	const struct ws *w;

	if (n->kind != NODE_WS)
		return 0;
	w = n->cur->ws;
	switch (n->file) {
	case WS_FILE_STATUS_JSON:
		*size = (off_t)w->json_len;
		return 1;
	case WS_FILE_STATUS:
		*size = (off_t)strlen(w->status) + 1;
		return 1;
	case WS_FILE_ID:
		*size = (off_t)strlen(w->id) + 1;
		return 1;
	case WS_FILE_ACCESS:
		*size = (off_t)strlen(w->access);
		return 1;
	default:
		return 0;
	}
}

/* Attributes; the size of a file is its current rendering's, except for
 * wait files, which block (size 0: they are read with direct I/O to the
 * end anyway), and the logs, whose size is what is held (live: it grows
 * while the stream runs). */
static int
vfs_attr(struct vfs *v, const struct node *n, struct vfs_attr *a)
{
	char *s;
	size_t len;
	int rc;

	memset(a, 0, sizeof(*a));
	a->mtime = v->started;
	if (n->kind == NODE_LINK) {
		a->is_link = 1;
		a->mode = 0777;
		a->size = (off_t)strlen(n->target);
		a->mtime = n->cur->ws->created ? n->cur->ws->created : v->started;
		return 0;
	}
	if (vfs_is_dir(n)) {
		a->is_dir = 1;
		a->mode = 0755;
		if (n->kind == NODE_WS || n->kind == NODE_WAITDIR)
			a->mtime = n->cur->ws->created ? n->cur->ws->created : v->started;
		if (n->kind == NODE_DRAFT) {
			pthread_mutex_lock(&n->draft->mu);
			a->mtime = n->draft->mtime;
			pthread_mutex_unlock(&n->draft->mu);
		}
		return 0;
	}
	a->mode = vfs_is_writable(n) ? 0644 : 0444;
	if (vfs_is_log(n->kind, n->file)) {
		unsigned long long size = 0;

		/* what is held now; nothing held is 0 (an open fetches it) */
		a->live = 1;
		a->mtime = n->cur->mtime;
		if (n->file == WS_FILE_LOGS &&
		    logs_size(v->logs, n->cur->ws->id, &size, &a->mtime) == 0)
			a->size = (off_t)size;
		return 0;
	}
	if (n->kind == NODE_WAIT) {
		a->mtime = n->cur->mtime;
		return 0;
	}
	if (vfs_size_fast(n, &a->size)) {
		a->mtime = n->cur->mtime;
		return 0;
	}
	rc = vfs_render(v, n, &s, &len, &a->mtime);
	if (rc < 0)
		return rc;
	free(s);
	a->size = (off_t)len;
	return 0;
}

/* ---- the operations ----------------------------------------------------- */

/* A log stream failed (msg) or works again (NULL): the error file. */
static void
vfs_logs_note(void *arg, const char *id, const char *msg)
{
	vfs_note_error(arg, id, "logs", "logs", msg);
}

static struct logs *
vfs_logs_new(struct vfs *v, const struct vfs_cfg *cfg)
{
	struct logs_cfg lc = {
		.http = v->http,
		.cap = cfg->logs_cap ? cfg->logs_cap : VFS_LOGS_CAP,
		.max_streams = cfg->logs_streams > 0 ? cfg->logs_streams : VFS_LOGS_STREAMS,
		.idle_ms = cfg->logs_idle_ms > 0 ? cfg->logs_idle_ms : VFS_LOGS_IDLE_MS,
		.settle_max_ms = VFS_LOGS_SETTLE_MAX_MS,
		.grace_ms = cfg->logs_grace_ms > 0 ? cfg->logs_grace_ms : VFS_LOGS_GRACE_MS,
		.ndjson = cfg->logs_ndjson,
		.poll_notify = v->poll_notify,
		.poll_destroy = v->poll_destroy,
		.poll_arg = v->invalidate_arg,
		.note = vfs_logs_note,
		.note_arg = v,
	};

	return logs_new(&lc);
}

struct vfs *
vfs_new(const struct vfs_cfg *cfg, struct http *h)
{
	struct cache_hooks hooks = {
		.ref = vfs_snap_ref,
		.unref = vfs_snap_unref,
		.clock = cfg->clock,
		.clock_arg = cfg->clock_arg,
	};
	struct cache_hooks tpl_hooks = hooks;
	struct vfs *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	tpl_hooks.ref = vfs_tpl_ref;
	tpl_hooks.unref = vfs_tpl_unref;
	v->ttl_ms = cfg->ttl_ms;
	v->ro = cfg->ro;
	v->max_stale_ms = cfg->max_stale_ms;
	v->wait_timeout_ms = cfg->wait_timeout_ms > 0 ? cfg->wait_timeout_ms : 600000;
	v->wait_interval_ms = cfg->wait_interval_ms > 0 ? cfg->wait_interval_ms : 1000;
	v->clock = cfg->clock;
	v->clock_arg = cfg->clock_arg;
	v->poll_notify = cfg->poll_notify;
	v->poll_destroy = cfg->poll_destroy;
	v->invalidate = cfg->invalidate;
	v->invalidate_later = cfg->invalidate_later;
	v->invalidate_arg = cfg->invalidate_arg;
	v->account = cfg->account;
	v->account_arg = cfg->account_arg;
	v->login_refused = cfg->login_refused;
	v->http = h;
	v->started = time(NULL);
	pthread_mutex_init(&v->mu, NULL);
	pthread_mutex_init(&v->files_mu, NULL);
	pthread_cond_init(&v->poll_cv, NULL);
	pthread_cond_init(&v->refresh_cv, NULL);
	/* templates change rarely: keep them ten times the list's TTL */
	if ((cfg->cluster && !(v->cluster = strdup(cfg->cluster))) ||
	    !(v->cache = cache_new(cfg->ttl_ms, &hooks)) ||
	    !(v->tpl_cache = cache_new(cfg->ttl_ms * 10, &tpl_hooks)) ||
	    !(v->logs = vfs_logs_new(v, cfg))) {
		vfs_free(v);
		return NULL;
	}
	return v;
}


void
vfs_free(struct vfs *v)
{
	unsigned long orphans = 0;

	if (!v)
		return;
	while (v->files) {
		vfs_release(v, v->files);
		orphans++;
	}
	if (orphans)
		log_msg(LOG_LVL_DEBUG, "freed %lu open files the kernel never released",
			orphans);
	logs_free(v->logs);
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
		free(t->dirname);
		free(t);
	}
	while (v->pins) {
		struct vfs_pin *p = v->pins;

		v->pins = p->next;
		free(p->id);
		free(p->dirname);
		free(p);
	}
	snap_unref(v->last);
	free(v->stale_msg);
	cache_free(v->cache);
	cache_free(v->tpl_cache);
	pthread_cond_destroy(&v->poll_cv);
	pthread_cond_destroy(&v->refresh_cv);
	pthread_mutex_destroy(&v->files_mu);
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
	vfs_node_release(&n);
	return rc;
}

int
vfs_readlink(struct vfs *v, const char *path, char *buf, size_t size)
{
	struct node n;
	int rc;

	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	if (n.kind != NODE_LINK) {
		rc = -EINVAL;
	} else if (size > 0) {
		snprintf(buf, size, "%s", n.target);
	}
	vfs_node_release(&n);
	return rc;
}

/* Fill the children of a workspace, wait or draft directory. */
static int
vfs_readdir_children(struct vfs *v, struct node *n, vfs_fill_fn fill, void *ctx)
{
	struct vfs_attr a;
	struct node child;

	if (n->kind == NODE_WAITDIR)
		return 0;	/* never listed: find and grep -r must not block */
	for (int f = 0; f < WS_FILE_COUNT; f++) {
		child = *n;
		child.file = (enum ws_file)f;
		if (n->kind == NODE_WS && (f == WS_FILE_SPEC || f == WS_FILE_LOGS_FOLLOW))
			continue;	/* logs.follow never ends: find, grep -r, tar */
		if (n->kind == NODE_DRAFT && f != WS_FILE_SPEC && f != WS_FILE_ERROR)
			continue;
		if (f == WS_FILE_WAIT)
			child.kind = NODE_WAITDIR;
		if (vfs_attr(v, &child, &a) < 0)
			continue;
		if (fill(ctx, path_file_name(child.file), &a))
			return 0;
	}
	if (n->kind == NODE_DRAFT) {
		pthread_mutex_lock(&n->draft->mu);
		for (struct draft_temp *t = n->draft->temps; t; t = t->next) {
			memset(&a, 0, sizeof(a));
			a.mode = 0644;
			a.size = (off_t)t->len;
			a.mtime = t->mtime;
			if (fill(ctx, t->name, &a))
				break;
		}
		pthread_mutex_unlock(&n->draft->mu);
	}
	return 0;
}

static int
vfs_readdir_root(struct vfs *v, vfs_fill_fn fill, void *ctx)
{
	struct vfs_attr a = { .is_dir = 1, .mode = 0755 };
	struct snap *s = NULL;
	unsigned long seq;
	int rc;

	rc = vfs_list_want(v, VFS_WANT_OPEN, &s, &seq);
	if (rc == -ENOENT)
		rc = -EIO;	/* readdir(3) would take ENOENT for "empty" */
	if (rc < 0)
		return rc;
	if (dot_fill_root(v, fill, ctx))
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_ent *e = &s->v[i];

		if (vfs_tombstoned(v, e->ws->id))
			continue;
		a.mtime = e->ws->created ? e->ws->created : v->started;
		if (fill(ctx, e->dirname, &a))
			goto out;
	}
	pthread_mutex_lock(&v->mu);
	for (struct draft *d = v->drafts; d; d = d->next) {
		const struct snap_ent *e = snap_find_dir(s, d->dirname);

		/* the draft just created shows as its workspace; a deleted
		 * one still listed hides nothing (as lookup does) */
		if (e && !vfs_tombstoned_locked(v, e->ws->id))
			continue;
		a.mtime = v->started;
		if (fill(ctx, d->dirname, &a))
			break;
	}
	pthread_mutex_unlock(&v->mu);
out:
	snap_unref(s);
	return 0;
}

int
vfs_readdir(struct vfs *v, const char *path, vfs_fill_fn fill, void *ctx,
	    int *cacheable)
{
	struct vfs_attr a;
	struct node n;
	int rc;

	*cacheable = 0;
	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	if (!vfs_is_dir(&n)) {
		vfs_node_release(&n);
		return -ENOTDIR;
	}
	/* the root's and a workspace's listings change only as announced */
	*cacheable = n.kind == NODE_ROOT || n.kind == NODE_WS;
	vfs_attr(v, &n, &a);
	if (fill(ctx, ".", &a) || fill(ctx, "..", &a))
		goto out;
	switch (n.kind) {
	case NODE_ROOT:
		rc = vfs_readdir_root(v, fill, ctx);
		break;
	case NODE_BYID_DIR:
	case NODE_BYCL_DIR:
	case NODE_BYCL_CLUSTER:
	case NODE_TPL_DIR:
		rc = dot_readdir(v, &n, fill, ctx);
		break;
	default:
		rc = vfs_readdir_children(v, &n, fill, ctx);
		break;
	}
out:
	vfs_node_release(&n);
	return rc;
}

static struct vfs_file *
vfs_file_new(struct vfs *v, const struct node *n, const char *path)
{
	struct vfs_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->kind = n->kind;
	f->file = n->file;
	pthread_mutex_init(&f->mu, NULL);
	f->path = strdup(path);
	/* the workspace is the one the listing named, whatever came later */
	if (n->ent)
		f->id = strdup(n->ent->ws->id);
	if (n->draft) {
		f->draft = n->draft;
		draft_ref(f->draft);
	}
	if (n->kind == NODE_TEMP)
		f->temp = strdup(n->leaf);
	if (!f->path || (n->ent && !f->id) || (n->kind == NODE_TEMP && !f->temp)) {
		free(f->path);
		free(f->id);
		free(f->temp);
		draft_unref(f->draft);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return NULL;
	}
	pthread_mutex_lock(&v->files_mu);
	f->next = v->files;
	if (v->files)
		v->files->prev = f;
	v->files = f;
	pthread_mutex_unlock(&v->files_mu);
	return f;
}

int
vfs_open(struct vfs *v, const char *path, int flags, struct vfs_file **out)
{
	int writing = (flags & O_ACCMODE) != O_RDONLY;
	struct vfs_file *f = NULL;
	struct node n;
	time_t mtime;
	int rc;

	*out = NULL;
	rc = vfs_resolve_opt(v, path, &n, RESOLVE_OPEN |
			     ((flags & O_ACCMODE) != O_WRONLY ||
			      strcmp(strrchr(path, '/'), "/control") != 0 ? RESOLVE_DESCRIBE : 0));
	if (rc < 0)
		return rc;
	if (vfs_is_dir(&n)) {
		rc = -EISDIR;
		goto out;
	}
	if (writing && v->ro && n.kind != NODE_CTL) {	/* refresh changes nothing */
		rc = -EROFS;
		goto out;
	}
	if (writing && !vfs_is_writable(&n)) {
		rc = -EACCES;
		goto out;
	}
	f = vfs_file_new(v, &n, path);
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	/* libfuse asks for atomic O_TRUNC: the truncate comes with the open */
	if (writing && (flags & O_TRUNC))
		rc = vfs_truncate(v, path, 0, f);
	if (rc == 0 && vfs_is_log(n.kind, n.file))
		rc = logs_acquire(v->logs, f->id, &f->log);
	else if (rc == 0 && vfs_is_ws_rendering(&n) && (flags & O_ACCMODE) == O_RDONLY)
		f->ws = model_ws_ref(n.cur->ws);	/* rendered at the first read */
	else if (rc == 0 && n.kind == NODE_WAIT)
		f->content = model_asprintf("%s\n", n.leaf);
	else if (rc == 0 && (flags & O_ACCMODE) != O_WRONLY)
		rc = vfs_render(v, &n, &f->content, &f->len, &mtime);
	if (rc == 0 && n.kind == NODE_WAIT)
		f->len = f->content ? strlen(f->content) : 0;
	if (rc == 0 && n.kind == NODE_WS && n.file == WS_FILE_STATUS &&
	    !(f->status = strdup(n.cur->ws->status)))
		rc = -ENOMEM;
	if (rc < 0) {
		vfs_release(v, f);
		goto out;
	}
	*out = f;
out:
	vfs_node_release(&n);
	return rc;
}

/* A read from the start of a handle that was read or polled before gets
 * the current content (as sysfs files do after poll + lseek(0)). The new
 * rendering is made without the handle's lock, then swapped in. */
static int
vfs_refresh_handle(struct vfs *v, struct vfs_file *f)
{
	struct node n;
	char *s = NULL, *st = NULL;
	size_t len = 0;
	time_t mtime;
	int rc;

	if (f->kind == NODE_WAIT || vfs_is_log(f->kind, f->file))
		return 0;	/* one-shot, or read from the stream */
	rc = vfs_resolve_opt(v, f->path, &n, RESOLVE_DESCRIBE | RESOLVE_OPEN);
	if (rc < 0)
		return rc;
	rc = vfs_render(v, &n, &s, &len, &mtime);
	if (rc == 0 && n.cur && !(st = strdup(n.cur->ws->status)))
		rc = -ENOMEM;
	vfs_node_release(&n);
	if (rc < 0) {
		free(s);
		free(st);
		return rc;
	}
	pthread_mutex_lock(&f->mu);
	free(f->content);
	f->content = s;
	f->len = len;
	if (f->status) {
		free(f->status);
		f->status = st;
		st = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	free(st);
	return 0;
}

/* A read of the logs: the kernel's offset plus what was dropped under
 * this reader (it never reads a byte twice, see logbuf.h). */
static int
vfs_read_log(struct vfs *v, struct vfs_file *f, char *buf, size_t size, off_t off)
{
	unsigned long long want, at;
	size_t n;
	int ended;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&f->mu);
	want = at = (unsigned long long)off + f->log_shift;
	pthread_mutex_unlock(&f->mu);
	n = logs_copy(v->logs, f->log, &at, buf, size, &ended);
	pthread_mutex_lock(&f->mu);
	/* the shift this offset needed (concurrent reads agree on it) */
	if (at > want && at - (unsigned long long)off > f->log_shift)
		f->log_shift = at - (unsigned long long)off;
	f->log_next = at + n;
	pthread_mutex_unlock(&f->mu);
	return (int)n;
}

/* A handle on a workspace's object renders it at its first use: what
 * the open saw. 0 or -ENOMEM. */
static int
vfs_render_handle(struct vfs_file *f)
{
	char *s = NULL;
	size_t len = 0;
	int todo;

	if (!f->ws)
		return 0;
	pthread_mutex_lock(&f->mu);
	todo = !f->content;
	pthread_mutex_unlock(&f->mu);
	if (todo && vfs_render_ws(f->file, f->ws, &s, &len) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&f->mu);
	if (!f->content) {
		f->content = s;
		f->len = len;
		s = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	free(s);
	return 0;
}

/* Whether f is a pure rendering of the listing (a workspace's status.json,
 * status, id or access, or a template): what the kernel may cache. */
static int
vfs_file_cacheable(const struct vfs_file *f)
{
	return f->ws || f->kind == NODE_TPL ||
	       (f->kind == NODE_WS && (f->file == WS_FILE_STATUS_JSON || f->file == WS_FILE_STATUS ||
				       f->file == WS_FILE_ID || f->file == WS_FILE_ACCESS));
}

int
vfs_file_bytes(struct vfs_file *f, char *buf, size_t size)
{
	int n;

	if (!vfs_file_cacheable(f))
		return -EINVAL;
	if (vfs_render_handle(f) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&f->mu);
	n = !f->content ? 0 : f->len > size ? -EFBIG : (int)f->len;
	if (n > 0) {
		memcpy(buf, f->content, (size_t)n);
		/* the kernel holds them as if read: a read from the start
		 * after poll(2) and lseek(2) gets the current content */
		f->reads++;
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}

int
vfs_read(struct vfs *v, struct vfs_file *f, char *buf, size_t size, off_t off)
{
	int again;

	if (f->log)
		return vfs_read_log(v, f, buf, size, off);
	if (vfs_render_handle(f) < 0)
		return -ENOMEM;

	pthread_mutex_lock(&f->mu);
	again = off == 0 && f->reads++ > 0;
	pthread_mutex_unlock(&f->mu);
	if (again) {
		int rc = vfs_refresh_handle(v, f);

		if (rc < 0)
			return rc;
	}
	pthread_mutex_lock(&f->mu);
	if (!f->content || off < 0 || (size_t)off >= f->len) {
		size = 0;
	} else {
		if (size > f->len - (size_t)off)
			size = f->len - (size_t)off;
		memcpy(buf, f->content + off, size);
	}
	pthread_mutex_unlock(&f->mu);
	return (int)size;
}

unsigned long long
vfs_file_version(struct vfs_file *f)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	/* the same object gives the same bytes: no need to render them */
	if (f->ws)
		return (model_ws_hash(f->ws) ^ (unsigned long long)f->file) | 1;
	if (!vfs_file_cacheable(f))
		return 0;
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; f->content && i < f->len; i++)
		h = (h ^ (unsigned char)f->content[i]) * 0x100000001b3ULL;
	h ^= f->len;
	pthread_mutex_unlock(&f->mu);
	return h ? h : 1;
}

static int
vfs_write_control(struct vfs *v, struct vfs_file *f, const char *buf, size_t size)
{
	enum model_cmd cmds[MODEL_CMD_MAX];
	char *err = NULL;
	size_t n = 0, i = 0;
	int rc;

	/* bash's echo and printf write each line apart: after a failure the
	 * rest of what the user wrote is not sent (error keeps the reason) */
	rc = __atomic_load_n(&f->control_rc, __ATOMIC_RELAXED);
	if (rc < 0)
		return rc;
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
		vfs_ws_key(key, sizeof(key), f->id);
		cache_invalidate(v->cache, key);
		if (rc == -ENOENT)	/* gone elsewhere: show it at once */
			cache_invalidate(v->cache, VFS_LIST_KEY);
		if (rc < 0)
			goto fail;
		log_msg(LOG_LVL_INFO, "workspace %s: %s sent", f->id,
			model_cmd_name(cmds[i]));
	}
	vfs_set_error(v, f->id, NULL);
	vfs_invalidate_siblings(v, f->path);
	return (int)size;
fail:
	__atomic_store_n(&f->control_rc, rc, __ATOMIC_RELAXED);
	log_msg(LOG_LVL_ERR, "workspace %s: %s", f->id, err ? err : strerror(-rc));
	/* name the command that failed; a write refused whole is "control" */
	vfs_note_error(v, f->id, "control", rc != -EINVAL && rc != -EFBIG && i < n
		       ? model_cmd_name(cmds[i]) : "control", err ? err : strerror(-rc));
	vfs_invalidate_siblings(v, f->path);
	free(err);
	return rc;
}

int
vfs_write(struct vfs *v, struct vfs_file *f, const char *buf, size_t size,
	  off_t off)
{
	if (v->ro && f->kind != NODE_CTL)
		return -EROFS;
	switch (f->kind) {
	case NODE_WS:
		if (f->file == WS_FILE_CONTROL)
			return vfs_write_control(v, f, buf, size);
		break;
	case NODE_DRAFT:
		if (f->file == WS_FILE_SPEC)
			return draft_write_spec(v, f, buf, size, off);
		break;
	case NODE_TEMP:
		return draft_temp_write(f->draft, f->temp, buf, size, off);
	case NODE_CTL:
		return dot_write_ctl(v, buf, size);
	default:
		break;
	}
	return -EBADF;
}

int
vfs_flush(struct vfs *v, struct vfs_file *f)
{
	(void)v;
	return draft_flush(f);
}

void
vfs_release(struct vfs *v, struct vfs_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&v->files_mu);
	if (f->prev)
		f->prev->next = f->next;
	else
		v->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&v->files_mu);
	if (f->status && v->poll_destroy)
		wait_forget_poller(v, f);
	if (f->log)
		logs_release(v->logs, f->log, f);
	free(f->path);
	free(f->content);
	free(f->id);
	model_ws_unref(f->ws);
	free(f->status);
	free(f->temp);
	draft_unref(f->draft);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int
vfs_poll(struct vfs *v, struct vfs_file *f, void *ph, unsigned *revents)
{
	struct node n;
	char *seen = NULL;
	int rc;

	*revents = POLLIN | POLLRDNORM;
	if (f->log && f->file == WS_FILE_LOGS_FOLLOW) {
		unsigned long long at;

		pthread_mutex_lock(&f->mu);
		at = f->log_next;
		pthread_mutex_unlock(&f->mu);
		rc = logs_poll(v->logs, f->log, f, at, ph, revents);
		if (*revents)
			*revents |= POLLRDNORM;
		return rc;
	}
	if (f->kind == NODE_WS && f->file == WS_FILE_STATUS) {
		pthread_mutex_lock(&f->mu);
		seen = f->status ? strdup(f->status) : NULL;
		pthread_mutex_unlock(&f->mu);
	}
	if (!seen) {
		if (ph)
			v->poll_destroy(ph);
		return 0;
	}
	rc = vfs_resolve(v, f->path, &n);
	if (rc < 0 || n.kind != NODE_WS || strcmp(n.cur->ws->status, seen) != 0) {
		/* changed (or gone) since this handle last read it */
		*revents |= POLLPRI | POLLERR;
		if (ph)
			v->poll_destroy(ph);
	} else if (ph) {
		rc = wait_add_poller(v, f, f->id, seen, ph);
		if (rc < 0)
			v->poll_destroy(ph);
	}
	vfs_node_release(&n);
	free(seen);
	return 0;
}

int
vfs_truncate(struct vfs *v, const char *path, off_t size, struct vfs_file *f)
{
	struct node n = { 0 };
	int rc = 0;

	if (v->ro && !(f ? f->kind == NODE_CTL : strcmp(path, "/.ctl") == 0))
		return -EROFS;
	if (!f) {
		rc = vfs_resolve(v, path, &n);
		if (rc < 0)
			return rc;
	} else {
		n.kind = f->kind;
		n.file = f->file;
	}
	if (n.kind == NODE_CTL || (n.kind == NODE_WS && n.file == WS_FILE_CONTROL))
		rc = 0;	/* "echo cmd > control" truncates first */
	else if (n.kind == NODE_DRAFT && n.file == WS_FILE_SPEC)
		rc = draft_truncate_spec(f ? f->draft : n.draft, size);
	else if (n.kind == NODE_TEMP)
		rc = draft_temp_truncate(f ? f->draft : n.draft, f ? f->temp : n.leaf, size);
	else if (vfs_is_dir(&n))
		rc = -EISDIR;
	else
		rc = -EACCES;
	if (!f)
		vfs_node_release(&n);
	return rc;
}

int
vfs_create(struct vfs *v, const char *path, int flags, struct vfs_file **out)
{
	struct path_parts pp;
	struct draft *d;
	int rc;

	*out = NULL;
	if (v->ro)
		return -EROFS;
	rc = path_split(path, &pp);
	if (rc < 0)
		return rc;
	/* only a draft takes new files: an editor's temporary ones */
	if (pp.kind != PATH_FILE || pp.top[0] == '.' || !(d = vfs_find_draft(v, pp.top)))
		return -EPERM;
	rc = draft_temp_create(d, pp.file);
	draft_unref(d);
	if (rc == -EEXIST && !(flags & O_EXCL))
		rc = 0;
	if (rc < 0)
		return rc;
	return vfs_open(v, path, flags & ~O_CREAT, out);
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
		vfs_node_release(&n);
		return -EEXIST;
	}
	if (rc != -ENOENT)
		return rc;
	if (path_decode_name(pp.top, name, sizeof(name)) < 0) {
		log_msg(LOG_LVL_ERR, "mkdir %s: not a workspace name in its encoded form",
			pp.top);
		return -EINVAL;
	}
	d = draft_new(pp.top, name);
	if (!d)
		return -ENOMEM;
	rc = 0;
	pthread_mutex_lock(&v->mu);
	for (struct draft *o = v->drafts; o; o = o->next)
		if (strcmp(o->dirname, d->dirname) == 0)
			rc = -EEXIST;	/* a racing mkdir won */
	if (rc == 0) {
		d->next = v->drafts;
		v->drafts = d;
		d = NULL;
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
	if (!vfs_is_dir(&n)) {
		rc = -ENOTDIR;
		goto out;
	}
	if (n.kind != NODE_WS && n.kind != NODE_DRAFT) {
		rc = -EPERM;
		goto out;
	}
	if (n.kind == NODE_DRAFT) {
		/* a draft holding an editor's leftovers or notes is not empty */
		pthread_mutex_lock(&n.draft->mu);
		rc = n.draft->state == DRAFT_CREATING ? -EBUSY : n.draft->temps ? -ENOTEMPTY : 0;
		pthread_mutex_unlock(&n.draft->mu);
		if (rc == 0)
			vfs_remove_draft(v, n.draft);
		goto out;
	}
	rc = api_delete(v->http, n.ent->ws->id, &err);
	vfs_ws_key(key, sizeof(key), n.ent->ws->id);
	cache_invalidate(v->cache, key);
	if (rc == -ENOENT)
		cache_invalidate(v->cache, VFS_LIST_KEY);
	if (rc < 0) {
		log_msg(LOG_LVL_ERR, "rmdir %s: %s", n.ent->dirname,
			err ? err : strerror(-rc));
		vfs_note_error(v, n.ent->ws->id, "delete", "delete", err ? err : strerror(-rc));
		free(err);
		goto out;
	}
	log_msg(LOG_LVL_INFO, "workspace %s (%s) deleted", n.ent->dirname,
		n.ent->ws->id);
	if (v->on_deleted)	/* ends the waits on it (vfs_wait.c) */
		v->on_deleted(v, n.ent->ws->id);
	logs_gone(v->logs, n.ent->ws->id);	/* and its followers read to the end */
	vfs_note_error(v, n.ent->ws->id, "delete", "delete", NULL);
	t = calloc(1, sizeof(*t));
	if (t && (t->id = strdup(n.ent->ws->id)) != NULL &&
	    (t->dirname = strdup(n.ent->dirname)) != NULL) {
		t->deleted_ms = vfs_now_ms(v);
		pthread_mutex_lock(&v->mu);
		t->next = v->tombs;
		v->tombs = t;
		pthread_mutex_unlock(&v->mu);
	} else {
		if (t)
			free(t->id);
		free(t);
	}
	cache_invalidate(v->cache, VFS_LIST_KEY);
out:
	vfs_node_release(&n);
	return rc;
}

int
vfs_unlink(struct vfs *v, const char *path)
{
	struct node n;
	int rc;

	if (v->ro)
		return -EROFS;
	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	rc = n.kind == NODE_TEMP ? draft_temp_unlink(n.draft, n.leaf)
	     : vfs_is_dir(&n) ? -EISDIR : -EPERM;
	vfs_node_release(&n);
	return rc;
}

int
vfs_rename(struct vfs *v, const char *from, const char *to)
{
	struct path_parts a, b;
	struct draft *d;
	int rc;

	if (v->ro)
		return -EROFS;
	if (path_split(from, &a) < 0 || path_split(to, &b) < 0)
		return -EPERM;
	/* within one draft: editors save through temporary files */
	if (a.kind == PATH_FILE && b.kind == PATH_FILE && a.top[0] != '.' &&
	    strcmp(a.top, b.top) == 0 && (d = vfs_find_draft(v, a.top)) != NULL) {
		rc = draft_rename(v, d, a.file, b.file);
		draft_unref(d);
		return rc;
	}
	return vfs_refuse(v, from);
}

/* Operations the virtual files never allow; allow_temp lets an editor's
 * temporary file through (as a no-op). */
static int
vfs_deny(struct vfs *v, const char *path, int allow_temp)
{
	struct node n;
	int rc;

	rc = vfs_resolve(v, path, &n);
	if (rc < 0)
		return rc;
	rc = allow_temp && n.kind == NODE_TEMP ? 0 : v->ro ? -EROFS : -EPERM;
	vfs_node_release(&n);
	return rc;
}

int
vfs_refuse(struct vfs *v, const char *path)
{
	return vfs_deny(v, path, 0);
}

int
vfs_chmod(struct vfs *v, const char *path)
{
	/* an editor may chmod or chown its temporary file: allowed, ignored */
	return vfs_deny(v, path, 1);
}

int
vfs_may_wait(const struct vfs_file *f)
{
	return f->log != NULL;
}

int
vfs_ready(struct vfs *v, struct vfs_file *f, off_t off, int nonblock,
	  const void *key, vfs_ready_fn done, void *arg)
{
	unsigned long long at;
	unsigned revents = 0;

	if (!f->log)
		return 0;
	if (off < 0)	/* an open of logs: once the first burst is in */
		return f->file == WS_FILE_LOGS
		       ? logs_wait(v->logs, f->log, LOGS_SETTLED, 0, key, done, arg)
		       : 0;
	if (f->file != WS_FILE_LOGS_FOLLOW)
		return 0;	/* logs ends where what is held ends */
	pthread_mutex_lock(&f->mu);
	at = (unsigned long long)off + f->log_shift;
	pthread_mutex_unlock(&f->mu);
	if (nonblock) {
		logs_poll(v->logs, f->log, NULL, at, NULL, &revents);
		return revents ? 0 : -EAGAIN;
	}
	return logs_wait(v->logs, f->log, LOGS_DATA, at, key, done, arg);
}

void
vfs_ready_arm(struct vfs *v, const void *key)
{
	logs_arm(v->logs, key);
}

void
vfs_ready_cancel(struct vfs *v, const void *key)
{
	logs_cancel(v->logs, key);
}
