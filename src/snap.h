/*
 * snap: an immutable, reference-counted view of the workspace list: every
 * workspace with its directory name (see path.h) and the time this mount
 * last saw its content change, indexed by directory name and by id.
 * Readers hold a reference for as long as they use an entry.
 */
#ifndef EXFS_SNAP_H
#define EXFS_SNAP_H

#include "htab.h"
#include "model.h"
#include "path.h"

#include <stddef.h>
#include <time.h>

struct snap_ent {
	struct ws *ws;		/* one reference owned by the snapshot */
	char *dirname;
	time_t mtime;		/* when this mount saw the content change */
};

struct snap {
	int refs;		/* atomic */
	size_t n;
	struct snap_ent *v;	/* in the API's order */
	struct htab by_dir;
	struct htab by_id;
	time_t built;
};

/* Build a snapshot from n workspaces, stealing the references in v (the
 * array itself stays the caller's). Duplicate ids after the first are
 * dropped with a log line. prev (may be NULL) supplies unchanged mtimes.
 * NULL on allocation failure (the references are dropped then). */
struct snap *snap_build(struct ws **v, size_t n, const struct snap *prev,
			time_t now);
/* How a mount keeps names put (see path_assign_names_kept): names of
 * workspaces in prev are kept; pinned (may be NULL) gives a name promised
 * to an id not listed yet (a draft just created), copied into out, 1 if
 * any; reserved (may be NULL) holds names back from other workspaces. */
struct snap_names {
	int (*pinned)(void *arg, const char *id, char out[PATH_NAME_MAX + 1]);
	path_reserved_fn reserved;
	void *arg;
};

/* snap_build, with names kept from prev and names (may be NULL). */
struct snap *snap_build_kept(struct ws **v, size_t n, const struct snap *prev,
			     time_t now, const struct snap_names *names);
/* Take a reference; returns s. */
struct snap *snap_ref(struct snap *s);
/* Drop a reference; NULL allowed. */
void snap_unref(struct snap *s);
/* Entry by directory name or by id; NULL if absent. Borrowed from s. */
const struct snap_ent *snap_find_dir(const struct snap *s, const char *dirname);
const struct snap_ent *snap_find_id(const struct snap *s, const char *id);

#endif
