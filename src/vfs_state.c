/*
 * vfs_state: the mount's own state below every other vfs layer: the
 * error notes of workspaces, the workspaces this mount deleted
 * (tombstones), names promised to created workspaces (pins) and held
 * back from others, the pollers' registry, what to tell the kernel, and
 * small shared helpers. It calls no other vfs file: the layers are
 * state <- list <- draft, dot, render <- vfs <- wait <- fs
 * (scripts/callgraph.sh shows it).
 * Locks: v->mu guards all of it (see vfs_int.h); no API call is made here.
 */
#include "vfs_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
vfs_stale_ok(struct vfs *v, int rc)
{
	return api_transient(rc) ||
	       (rc == -EACCES && v->login_refused && v->login_refused(v->account_arg));
}

void
vfs_ws_key(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "w:%s", id);
}

long long
vfs_now_ms(struct vfs *v)
{
	struct timespec ts;

	if (v->clock)
		return v->clock(v->clock_arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vfs_tombstoned_locked(struct vfs *v, const char *id)
{
	for (struct vfs_tomb *t = v->tombs; t; t = t->next)
		if (strcmp(t->id, id) == 0)
			return 1;
	return 0;
}

int
vfs_tombstoned(struct vfs *v, const char *id)
{
	int found;

	pthread_mutex_lock(&v->mu);
	found = vfs_tombstoned_locked(v, id);
	pthread_mutex_unlock(&v->mu);
	return found;
}

void
vfs_pin_name(struct vfs *v, const char *id, const char *dirname)
{
	struct vfs_pin *p = calloc(1, sizeof(*p));

	if (!p || !(p->id = strdup(id)) || !(p->dirname = strdup(dirname))) {
		if (p)
			free(p->id);
		free(p);
		return; /* out of memory: the name rule decides */
	}
	pthread_mutex_lock(&v->mu);
	p->next = v->pins;
	v->pins = p;
	pthread_mutex_unlock(&v->mu);
}

static int
vfs_pinned(void *arg, const char *id, char out[PATH_NAME_MAX + 1])
{
	struct vfs *v = arg;
	int found = 0;

	pthread_mutex_lock(&v->mu);
	for (struct vfs_pin *p = v->pins; p && !found; p = p->next)
		if (strcmp(p->id, id) == 0) {
			snprintf(out, PATH_NAME_MAX + 1, "%s", p->dirname);
			found = 1;
		}
	pthread_mutex_unlock(&v->mu);
	return found;
}

/* A name is held back from a new workspace while a draft has it, while
 * it is promised to a created one, and while a deleted one's grace runs. */
static int
vfs_reserved(void *arg, const char *dirname, const char *id)
{
	struct vfs *v = arg;
	int found = 0;

	pthread_mutex_lock(&v->mu);
	for (struct draft *d = v->drafts; d && !found; d = d->next)
		found = strcmp(d->dirname, dirname) == 0;
	for (struct vfs_pin *p = v->pins; p && !found; p = p->next)
		found = strcmp(p->dirname, dirname) == 0 && strcmp(p->id, id) != 0;
	for (struct vfs_tomb *t = v->tombs; t && !found; t = t->next)
		found = strcmp(t->dirname, dirname) == 0 && strcmp(t->id, id) != 0;
	pthread_mutex_unlock(&v->mu);
	return found;
}

const struct snap_names vfs_snap_names_proto = {
	.pinned = vfs_pinned,
	.reserved = vfs_reserved,
};

void
vfs_note_error(struct vfs *v, const char *id, const char *group,
	       const char *action, const char *msg)
{
	struct vfs_error **pp, *e;

	pthread_mutex_lock(&v->mu);
	for (pp = &v->errors; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->id, id) == 0)
			break;
	if (e && !msg) {
		if (strcmp(e->group, group) == 0) {
			*pp = e->next;
			free(e->id);
			free(e->msg);
			free(e);
		}
	} else if (msg) {
		/* API errors already say what failed ("stop failed: HTTP 409"),
		 * as do the control file's own ("control: ...") */
		const char *said = strstr(msg, " failed: ");
		size_t k = said ? (size_t)(said - msg) : 0;
		size_t alen = strlen(action);
		int named = (said && k > 0 && k < 24 &&
			     strspn(msg, "abcdefghijklmnopqrstuvwxyz ") >= k) ||
			    (strncmp(msg, action, alen) == 0 && msg[alen] == ':');
		char *m = named ? strdup(msg) : model_asprintf("%s failed: %s", action, msg);

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
			snprintf(e->group, sizeof(e->group), "%s", group);
			e->mtime = time(NULL);
		} else {
			free(m);
		}
	}
	pthread_mutex_unlock(&v->mu);
}

void
vfs_set_error(struct vfs *v, const char *id, const char *msg)
{
	vfs_note_error(v, id, "control", "control", msg);
}

void
vfs_note_changed(struct vfs *v, const char *dirname, int gone)
{
	char buf[2 * PATH_NAME_MAX + 16];

	if (!v->invalidate_later)
		return;
	snprintf(buf, sizeof(buf), "/%s", dirname);
	if (gone) {
		v->invalidate_later(v->invalidate_arg, buf, 1);
		return;
	}
	for (int f = 0; f < WS_FILE_COUNT; f++) {
		if (f == WS_FILE_WAIT || f == WS_FILE_SPEC)
			continue;
		snprintf(buf, sizeof(buf), "/%s/%s", dirname, path_file_name((enum ws_file)f));
		v->invalidate_later(v->invalidate_arg, buf, 0);
	}
	snprintf(buf, sizeof(buf), "/%s", dirname);
	v->invalidate_later(v->invalidate_arg, buf, 0);
}

void
vfs_invalidate_siblings(struct vfs *v, const char *path)
{
	const char *slash = strrchr(path, '/');
	char buf[2 * PATH_NAME_MAX + 16];
	int dlen;

	if (!v->invalidate || !slash || slash == path)
		return;
	dlen = (int)(slash - path);
	for (int f = 0; f < WS_FILE_COUNT; f++) {
		const char *name = path_file_name((enum ws_file)f);

		if (strcmp(name, slash + 1) == 0 || f == WS_FILE_WAIT)
			continue;
		snprintf(buf, sizeof(buf), "%.*s/%s", dlen, path, name);
		v->invalidate(v->invalidate_arg, buf);
	}
	snprintf(buf, sizeof(buf), "%.*s", dlen, path);
	v->invalidate(v->invalidate_arg, buf);
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
