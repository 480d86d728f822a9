/*
 * snap: built once, then only read. The hash tables borrow their keys from
 * the entries (dirname, ws->id), which live as long as the snapshot.
 */
#include "snap.h"
#include "log.h"
#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct snap *
snap_ref(struct snap *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void
snap_unref(struct snap *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < s->n; i++) {
		model_ws_unref(s->v[i].ws);
		free(s->v[i].dirname);
	}
	htab_free(&s->by_dir);
	htab_free(&s->by_id);
	free(s->v);
	free(s);
}

struct snap *
snap_build(struct ws **v, size_t n, const struct snap *prev, time_t now)
{
	return snap_build_kept(v, n, prev, now, NULL);
}

/* The names to keep: pinned ones, then what prev showed unless a pin
 * claims that name. Allocated in one block (keep points into it). */
static char *
snap_keeps(struct path_named *named, size_t k, const struct snap *prev,
	   const struct snap_names *names)
{
	char *block = malloc(k ? k * (PATH_NAME_MAX + 1) : 1);
	struct htab pinned = { 0 };

	if (!block || htab_init(&pinned, 4) < 0) {
		free(block);
		return NULL;
	}
	for (size_t i = 0; i < k; i++) {
		char *slot = block + i * (PATH_NAME_MAX + 1);

		named[i].keep = NULL;
		if (names->pinned && names->pinned(names->arg, named[i].id, slot)) {
			named[i].keep = slot;
			if (htab_put(&pinned, slot, slot) == -ENOMEM)
				goto fail;
		}
	}
	for (size_t i = 0; i < k; i++) {
		char *slot = block + i * (PATH_NAME_MAX + 1);
		const struct snap_ent *old;

		if (named[i].keep || !prev || !(old = snap_find_id(prev, named[i].id)) ||
		    htab_get(&pinned, old->dirname))
			continue;
		snprintf(slot, PATH_NAME_MAX + 1, "%s", old->dirname);
		named[i].keep = slot;
	}
	htab_free(&pinned);
	return block;
fail:
	htab_free(&pinned);
	free(block);
	return NULL;
}

struct snap *
snap_build_kept(struct ws **v, size_t n, const struct snap *prev, time_t now,
		const struct snap_names *names)
{
	struct path_named *named = NULL;
	char *keeps = NULL;
	struct snap *s;
	size_t i, k = 0;

	s = calloc(1, sizeof(*s));
	if (!s || !(s->v = calloc(n ? n : 1, sizeof(*s->v))) ||
	    !(named = calloc(n ? n : 1, sizeof(*named))) ||
	    htab_init(&s->by_id, n) < 0 || htab_init(&s->by_dir, n) < 0)
		goto fail;
	s->refs = 1;
	s->built = now;
	for (i = 0; i < n; i++) {
		if (htab_put(&s->by_id, v[i]->id, &s->v[k]) < 0) {
			log_msg(LOG_LVL_WARN, "list holds workspace id %.64s twice; later copy skipped",
				v[i]->id);
			model_ws_unref(v[i]);
			v[i] = NULL;
			continue;
		}
		s->v[k].ws = v[i];
		v[i] = NULL;
		named[k].name = s->v[k].ws->name;
		named[k].id = s->v[k].ws->id;
		named[k].created_at = s->v[k].ws->created_at;
		k++;
	}
	s->n = k;
	if (names && !(keeps = snap_keeps(named, k, prev, names)))
		goto fail;
	if (path_assign_names_kept(named, k, names ? names->reserved : NULL,
				   names ? names->arg : NULL) < 0)
		goto fail;
	free(keeps);
	keeps = NULL;
	for (i = 0; i < k; i++) {
		const struct snap_ent *old;
		struct snap_ent *e = &s->v[i];

		e->dirname = named[i].dirname;
		htab_put(&s->by_dir, e->dirname, e);
		old = prev ? snap_find_id(prev, e->ws->id) : NULL;
		e->mtime = (old && old->ws->held_len == e->ws->held_len &&
			    memcmp(old->ws->compact, e->ws->compact, e->ws->held_len) == 0)
			   ? old->mtime : now;
	}
	free(named);
	return s;
fail:
	free(keeps);
	for (i = 0; i < n; i++)
		model_ws_unref(v[i]);
	if (s) {
		s->refs = 1;
		snap_unref(s);
	}
	free(named);
	return NULL;
}

const struct snap_ent *
snap_find_dir(const struct snap *s, const char *dirname)
{
	return htab_get(&s->by_dir, dirname);
}

const struct snap_ent *
snap_find_id(const struct snap *s, const char *id)
{
	return htab_get(&s->by_id, id);
}
