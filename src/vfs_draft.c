/*
 * vfs_draft: drafts made by mkdir. A draft holds spec.json (buffered; the
 * write, or rename, that completes the JSON document creates the
 * workspace), an error file, and the temporary files editors make (sed -i,
 * vim, nano), which live in memory and may be renamed onto spec.json.
 *
 * Invariants: a draft's state moves EDIT -> CREATING -> (EDIT | CREATED);
 * only one create is in flight per draft (CREATING refuses other writers);
 * no API call is made with d->mu held.
 */
#include "vfs_int.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct draft *
draft_new(const char *dirname, const char *name)
{
	struct draft *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->dirname = strdup(dirname);
	d->name = strdup(name);
	if (!d->dirname || !d->name) {
		free(d->dirname);
		free(d->name);
		free(d);
		return NULL;
	}
	d->refs = 1;
	d->mtime = time(NULL);
	pthread_mutex_init(&d->mu, NULL);
	return d;
}

void
draft_ref(struct draft *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
}

static void
draft_temp_free(struct draft_temp *t)
{
	free(t->name);
	free(t->buf);
	free(t);
}

void
draft_unref(struct draft *d)
{
	if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	while (d->temps) {
		struct draft_temp *t = d->temps;

		d->temps = t->next;
		draft_temp_free(t);
	}
	pthread_mutex_destroy(&d->mu);
	free(d->dirname);
	free(d->name);
	free(d->buf);
	free(d->error);
	free(d);
}

void
draft_set_error(struct draft *d, const char *msg)
{
	pthread_mutex_lock(&d->mu);
	free(d->error);
	d->error = msg ? strdup(msg) : NULL;
	d->error_mtime = time(NULL);
	pthread_mutex_unlock(&d->mu);
}

struct draft *
vfs_find_draft(struct vfs *v, const char *dirname)
{
	struct draft *d;

	pthread_mutex_lock(&v->mu);
	for (d = v->drafts; d; d = d->next)
		if (strcmp(d->dirname, dirname) == 0) {
			draft_ref(d);
			break;
		}
	pthread_mutex_unlock(&v->mu);
	return d;
}

void
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

/* ---- templates ---------------------------------------------------------- */

static int
vfs_fetch_templates(void *arg, const char *key, void **val, char **err)
{
	struct vfs *v = arg;
	struct model_templates *t;
	int rc;

	(void)key;
	rc = api_templates(v->http, &t, err);
	if (rc == 0)
		*val = t;
	return rc;
}

struct model_templates *
vfs_templates(struct vfs *v, int *rcp, char **err)
{
	void *val = NULL;
	int rc;

	*err = NULL;
	rc = cache_get(v->tpl_cache, VFS_TPL_KEY, vfs_fetch_templates, v, &val,
		       NULL, err);
	if (rcp)
		*rcp = rc < 0 ? rc : 0;
	return rc < 0 ? NULL : val;
}

/* ---- rendering ---------------------------------------------------------- */

static char *
draft_memdup(const char *buf, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, buf, len);
		s[len] = '\0';
	}
	return s;
}

int
draft_render_spec(struct vfs *v, struct draft *d, char **out, size_t *len,
		  time_t *mtime)
{
	struct model_templates *tpl;
	struct snap *last;
	const char *only = NULL;
	char *err = NULL;
	long i;

	pthread_mutex_lock(&d->mu);
	*mtime = d->mtime;
	if (d->len > 0) {
		*out = draft_memdup(d->buf, d->len);
		*len = d->len;
		pthread_mutex_unlock(&d->mu);
		return *out ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&d->mu);
	/* a fresh draft shows a skeleton built on a real template, on the
	 * mount's cluster, else on the listing's only cluster, else blank */
	pthread_mutex_lock(&v->mu);
	last = v->last ? snap_ref(v->last) : NULL;
	pthread_mutex_unlock(&v->mu);
	for (size_t k = 0; !v->cluster && last && k < last->n; k++) {
		const char *c = last->v[k].ws->cluster_id;

		if (!model_is_uuid(c) || (only && strcasecmp(only, c) != 0)) {
			only = NULL;
			break;
		}
		only = c;
	}
	tpl = vfs_templates(v, NULL, &err);
	free(err);
	i = model_templates_find(tpl, "jupyter-notebook");
	*out = model_spec_skeleton(d->name, v->cluster ? v->cluster : only, tpl, i >= 0 ? i : 0);
	snap_unref(last);
	model_templates_unref(tpl);
	if (!*out)
		return -ENOMEM;
	*len = strlen(*out);
	return 0;
}

static struct draft_temp *
draft_find_temp(struct draft *d, const char *name)
{
	struct draft_temp *t;

	for (t = d->temps; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			break;
	return t;
}

int
draft_has_temp(struct draft *d, const char *name)
{
	int found;

	pthread_mutex_lock(&d->mu);
	found = draft_find_temp(d, name) != NULL;
	pthread_mutex_unlock(&d->mu);
	return found;
}

int
draft_render_temp(struct draft *d, const char *name, char **out, size_t *len,
		  time_t *mtime)
{
	struct draft_temp *t;
	int rc = -ENOENT;

	pthread_mutex_lock(&d->mu);
	t = draft_find_temp(d, name);
	if (t) {
		*out = draft_memdup(t->buf ? t->buf : "", t->len);
		*len = t->len;
		*mtime = t->mtime;
		rc = *out ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* ---- buffers ------------------------------------------------------------ */

/* Write size bytes at off into a buffer capped at MODEL_SPEC_MAX. */
static int
draft_put(char **buf, size_t *len, const char *src, size_t size, off_t off)
{
	size_t end;

	if (off < 0 || (size_t)off > MODEL_SPEC_MAX ||
	    size > MODEL_SPEC_MAX - (size_t)off)
		return -EFBIG;
	end = (size_t)off + size;
	if (end > *len || !*buf) {
		char *p = realloc(*buf, (end > *len ? end : *len) + 1);

		if (!p)
			return -ENOMEM;
		if (end > *len)
			memset(p + *len, 0, end - *len);
		*buf = p;
		if (end > *len)
			*len = end;
	}
	memcpy(*buf + off, src, size);
	return 0;
}

static int
draft_resize(char **buf, size_t *len, off_t size)
{
	if (size < 0 || size > MODEL_SPEC_MAX)
		return -EFBIG;
	if ((size_t)size > *len) {
		char *p = realloc(*buf, (size_t)size + 1);

		if (!p)
			return -ENOMEM;
		memset(p + *len, 0, (size_t)size - *len);
		*buf = p;
	}
	*len = (size_t)size;
	return 0;
}

int
draft_truncate_spec(struct draft *d, off_t size)
{
	int rc;

	pthread_mutex_lock(&d->mu);
	rc = d->state != DRAFT_EDIT ? -EBUSY : draft_resize(&d->buf, &d->len, size);
	if (rc == 0)
		d->mtime = time(NULL);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* ---- creating ----------------------------------------------------------- */

/* A create failed without a clear answer: list (bypassing the cache) and
 * look for a workspace of the draft's name that the last listing did not
 * have. Returns 0 with *id when it was created after all, else rc with an
 * explanation in *err. Never creates anything itself. */
static int
draft_reconcile(struct vfs *v, struct draft *d, int rc, char **id, char **err)
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
		char *what = model_msg_lead("create failed", why ? why : strerror(-rc));

		*err = model_asprintf("%s; the listing confirms nothing was created, "
				      "write spec.json again to retry", what ? what : "create failed");
		free(what);
	}
	free(why);
	free(lerr);
	return rc;
}

/* Validate a complete spec and create the workspace. The draft is in
 * state CREATING (so nobody else writes) and d->mu is not held. */
static int
draft_create(struct vfs *v, struct draft *d, const char *spec, size_t len,
	     char **idp, char **err)
{
	struct model_templates *tpl;
	char *body = NULL, *id = NULL, *terr = NULL;
	int rc, unknown = 0;

	rc = model_spec_build(spec, len, d->name, v->cluster, &body, err);
	if (rc < 0)
		return rc;
	tpl = vfs_templates(v, NULL, &terr);
	if (tpl) {
		rc = model_spec_check_template(body, tpl, err);
		model_templates_unref(tpl);
	} else {
		/* the check is a courtesy; the API has the last word */
		log_msg(LOG_LVL_WARN, "draft %s: templates unavailable (%s); variables not checked",
			d->dirname, terr ? terr : "unknown error");
	}
	free(terr);
	if (rc == 0) {
		rc = api_create(v->http, body, &id, &unknown, err);
		if (rc < 0 && unknown)
			rc = draft_reconcile(v, d, rc, &id, err);
	}
	free(body);
	if (rc == 0)
		log_msg(LOG_LVL_INFO, "workspace %s created with id %s", d->dirname, id);
	*idp = id;
	return rc;
}

/* With d->mu held and the buffer complete: create, and settle the state.
 * Returns with d->mu released. */
static int
draft_commit_locked(struct vfs *v, struct draft *d, char **err)
{
	char *copy = draft_memdup(d->buf, d->len);
	char *id = NULL;
	size_t len = d->len;
	int rc;

	if (!copy) {
		pthread_mutex_unlock(&d->mu);
		return -ENOMEM;
	}
	d->state = DRAFT_CREATING;
	pthread_mutex_unlock(&d->mu);
	rc = draft_create(v, d, copy, len, &id, err);
	free(copy);
	pthread_mutex_lock(&d->mu);
	d->state = rc < 0 ? DRAFT_EDIT : DRAFT_CREATED;
	pthread_mutex_unlock(&d->mu);
	if (rc == 0) {
		char path[PATH_NAME_MAX + 16];

		draft_set_error(d, NULL);
		/* the directory now shows the real workspace, under the
		 * draft's name whatever else the API lists by then */
		if (id)
			vfs_pin_name(v, id, d->dirname);
		vfs_remove_draft(v, d);
		cache_invalidate(v->cache, VFS_LIST_KEY);
		snprintf(path, sizeof(path), "/%s/-", d->dirname);
		vfs_invalidate_siblings(v, path);
	}
	free(id);
	return rc;
}

/* What a write did through handle f, for its close (flush). */
static void
draft_file_result(struct vfs_file *f, int wrote, int rc)
{
	pthread_mutex_lock(&f->mu);
	f->wrote |= wrote;
	f->create_rc = rc;
	pthread_mutex_unlock(&f->mu);
}

static int
draft_all_space(const char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (!isspace((unsigned char)buf[i]))
			return 0;
	return 1;
}

static int
draft_fail(struct draft *d, int rc, char *err)
{
	log_msg(LOG_LVL_ERR, "draft %s: %s", d->dirname, err ? err : strerror(-rc));
	draft_set_error(d, err ? err : strerror(-rc));
	free(err);
	return rc;
}

int
draft_write_spec(struct vfs *v, struct vfs_file *f, const char *buf,
		 size_t size, off_t off)
{
	struct draft *d = f->draft;
	char *err = NULL;
	int rc;

	pthread_mutex_lock(&d->mu);
	if (d->state == DRAFT_CREATED) {
		rc = draft_all_space(buf, size) ? (int)size : -EBUSY;
		pthread_mutex_unlock(&d->mu);
		return rc;
	}
	if (d->state == DRAFT_CREATING) {
		pthread_mutex_unlock(&d->mu);
		return -EBUSY;
	}
	rc = draft_put(&d->buf, &d->len, buf, size, off);
	if (rc < 0) {
		pthread_mutex_unlock(&d->mu);
		draft_file_result(f, 0, rc);
		return draft_fail(d, rc, rc == -EFBIG
				  ? model_asprintf("spec.json: over the %d-byte limit", MODEL_SPEC_MAX)
				  : NULL);
	}
	d->mtime = time(NULL);
	draft_file_result(f, 1, 0);
	rc = model_spec_complete(d->buf, d->len);
	if (rc == 0) {
		pthread_mutex_unlock(&d->mu);
		return (int)size;
	}
	/* complete, or beyond repair: the build reports which (EINVAL) */
	rc = draft_commit_locked(v, d, &err);
	if (rc < 0) {
		draft_file_result(f, 1, rc);
		return draft_fail(d, rc, err);
	}
	return (int)size;
}

int
draft_flush(struct vfs_file *f)
{
	struct draft *d = f->draft;
	int rc = 0, wrote, create_rc;

	if (f->kind != NODE_DRAFT || f->file != WS_FILE_SPEC)
		return 0;
	pthread_mutex_lock(&f->mu);
	wrote = f->wrote;
	create_rc = f->create_rc;
	pthread_mutex_unlock(&f->mu);
	if (!wrote)
		return 0;
	pthread_mutex_lock(&d->mu);
	if (d->state != DRAFT_CREATED)
		rc = create_rc < 0 ? create_rc : -EINVAL;
	pthread_mutex_unlock(&d->mu);
	if (rc == -EINVAL && create_rc == 0)
		draft_fail(d, rc, strdup("spec.json: the bytes written do not form one complete JSON object"));
	return rc;
}

/* ---- editors' temporary files ------------------------------------------- */

int
draft_temp_create(struct draft *d, const char *name)
{
	struct draft_temp *t;
	int rc = 0;

	if (path_file_kind(name) != WS_FILE_NONE || name[0] == '\0')
		return -EEXIST;
	pthread_mutex_lock(&d->mu);
	if (draft_find_temp(d, name)) {
		rc = -EEXIST;
	} else if (d->ntemps >= VFS_TEMP_MAX) {
		rc = -ENOSPC;
	} else if (!(t = calloc(1, sizeof(*t))) || !(t->name = strdup(name))) {
		free(t);
		rc = -ENOMEM;
	} else {
		t->mtime = time(NULL);
		t->next = d->temps;
		d->temps = t;
		d->ntemps++;
	}
	pthread_mutex_unlock(&d->mu);
	if (rc == -ENOSPC)
		log_msg(LOG_LVL_WARN, "draft %s: more than %d temporary files refused",
			d->dirname, VFS_TEMP_MAX);
	return rc;
}

int
draft_temp_write(struct draft *d, const char *name, const char *buf,
		 size_t size, off_t off)
{
	struct draft_temp *t;
	int rc = -ENOENT;

	pthread_mutex_lock(&d->mu);
	t = draft_find_temp(d, name);
	if (t) {
		rc = draft_put(&t->buf, &t->len, buf, size, off);
		t->mtime = time(NULL);
	}
	pthread_mutex_unlock(&d->mu);
	return rc < 0 ? rc : (int)size;
}

int
draft_temp_truncate(struct draft *d, const char *name, off_t size)
{
	struct draft_temp *t;
	int rc = -ENOENT;

	pthread_mutex_lock(&d->mu);
	t = draft_find_temp(d, name);
	if (t) {
		rc = draft_resize(&t->buf, &t->len, size);
		t->mtime = time(NULL);
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* Unlink a temporary file (with d->mu held); its struct if found. */
static struct draft_temp *
draft_temp_take(struct draft *d, const char *name)
{
	struct draft_temp **pp, *t;

	for (pp = &d->temps; (t = *pp) != NULL; pp = &t->next)
		if (strcmp(t->name, name) == 0) {
			*pp = t->next;
			d->ntemps--;
			return t;
		}
	return NULL;
}

int
draft_temp_unlink(struct draft *d, const char *name)
{
	struct draft_temp *t;

	pthread_mutex_lock(&d->mu);
	t = draft_temp_take(d, name);
	pthread_mutex_unlock(&d->mu);
	if (!t)
		return path_file_kind(name) == WS_FILE_NONE ? -ENOENT : -EPERM;
	draft_temp_free(t);
	return 0;
}

int
draft_rename(struct vfs *v, struct draft *d, const char *from, const char *to)
{
	enum ws_file ff = path_file_kind(from), tf = path_file_kind(to);
	struct draft_temp *t, *old;
	char *err = NULL;
	int rc = 0;

	if (ff == WS_FILE_ERROR || tf == WS_FILE_ERROR ||
	    (ff != WS_FILE_NONE && ff != WS_FILE_SPEC) ||
	    (tf != WS_FILE_NONE && tf != WS_FILE_SPEC))
		return -EPERM;
	if (strcmp(from, to) == 0)
		return 0;
	pthread_mutex_lock(&d->mu);
	if (d->state != DRAFT_EDIT) {
		pthread_mutex_unlock(&d->mu);
		return -EBUSY;
	}
	if (ff == WS_FILE_SPEC) {
		/* spec.json moved aside (an editor's backup): keep its bytes */
		old = draft_temp_take(d, to);
		if (!old && d->ntemps >= VFS_TEMP_MAX) {
			pthread_mutex_unlock(&d->mu);
			return -ENOSPC;
		}
		t = old ? old : calloc(1, sizeof(*t));
		if (!t || (!old && !(t->name = strdup(to)))) {
			free(t);
			pthread_mutex_unlock(&d->mu);
			return -ENOMEM;
		}
		free(t->buf);
		t->buf = d->buf;
		t->len = d->len;
		t->mtime = time(NULL);
		t->next = d->temps;
		d->temps = t;
		d->ntemps++;
		d->buf = NULL;
		d->len = 0;
		pthread_mutex_unlock(&d->mu);
		return 0;
	}
	t = draft_temp_take(d, from);
	if (!t) {
		pthread_mutex_unlock(&d->mu);
		return -ENOENT;
	}
	if (tf == WS_FILE_NONE) {
		/* temporary file to temporary file */
		old = draft_temp_take(d, to);
		if (old)
			draft_temp_free(old);
		free(t->name);
		t->name = strdup(to);
		if (!t->name) {
			draft_temp_free(t);
			pthread_mutex_unlock(&d->mu);
			return -ENOMEM;
		}
		t->next = d->temps;
		d->temps = t;
		d->ntemps++;
		pthread_mutex_unlock(&d->mu);
		return 0;
	}
	/* onto spec.json: counts as writing it */
	free(d->buf);
	d->buf = t->buf;
	d->len = t->len;
	d->mtime = time(NULL);
	t->buf = NULL;
	draft_temp_free(t);
	if (model_spec_complete(d->buf, d->len) == 0) {
		pthread_mutex_unlock(&d->mu);
		return draft_fail(d, -EINVAL, strdup("spec.json: the renamed file is not one complete JSON object"));
	}
	rc = draft_commit_locked(v, d, &err);
	return rc < 0 ? draft_fail(d, rc, err) : 0;
}
