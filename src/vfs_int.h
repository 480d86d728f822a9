/*
 * vfs_int: what the vfs_*.c files share and nobody else sees: the mount's
 * state, the resolved node of a path, open handles and drafts.
 *
 * Layers, each calling only those before it (scripts/callgraph.sh checks
 * it from the object files): vfs_state (notes, tombstones, pins, pollers,
 * kernel notices) <- vfs_list (the listing, its refresher) <- vfs_draft,
 * vfs_dot, vfs_render <- vfs (resolve, operations) <- vfs_wait (waits, the
 * watcher, vfs_start/vfs_stop). The one call upward, "a workspace was
 * deleted", goes through the on_deleted hook set at start-up.
 *
 * Locks: vfs.mu guards the drafts list, error messages, tombstones, pins,
 * the last listing, the stale-serving state, the refresher's and the
 * watcher's flags, the waiters and the pollers; each draft's mu guards
 * its buffers and state; each open file's mu its snapshot. No API call is
 * made with any of them held.
 * Cache keys: "L" for the listing, "w:ID" for a workspace refreshed alone
 * after a mutation (used only while newer than the listing), and the
 * templates in a cache of their own.
 */
#ifndef EXFS_VFS_INT_H
#define EXFS_VFS_INT_H

#include "api.h"
#include "cache.h"
#include "logs.h"
#include "model.h"
#include "path.h"
#include "snap.h"
#include "vfs.h"

#include <pthread.h>
#include <time.h>

#define VFS_LIST_KEY "L"
#define VFS_TPL_KEY "T"
#define VFS_CONTROL_MAX 4096
#define VFS_TEMP_MAX 16		/* editor temporary files per draft */

enum draft_state { DRAFT_EDIT, DRAFT_CREATING, DRAFT_CREATED };

/* An editor's temporary file inside a draft (sed -i, vim, nano). */
struct draft_temp {
	struct draft_temp *next;
	char *name;
	char *buf;
	size_t len;
	time_t mtime;
};

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
	struct draft_temp *temps;	/* guarded by mu */
	size_t ntemps;			/* guarded by mu */
};

/* The last failure noted for a workspace: what failed (the action or
 * "refresh"), in which group it is cleared (a later success of the same
 * group clears it: control, delete, refresh, logs, wait). */
struct vfs_error {
	struct vfs_error *next;
	char *id;
	char *msg;			/* "stop failed: HTTP 409: ..." */
	char group[16];
	time_t mtime;
};

/* A workspace this mount deleted: hidden at once, and its name held
 * back from other workspaces until the API stops listing it and at least
 * VFS_NAME_GRACE_MS (or cache_ttl, if longer) has passed. */
struct vfs_tomb {
	struct vfs_tomb *next;
	char *id;
	char *dirname;
	long long deleted_ms;
};

/* A name promised to a workspace this mount just created from a draft,
 * until a listing shows the workspace (then the listing keeps it). */
struct vfs_pin {
	struct vfs_pin *next;
	char *id;
	char *dirname;
};

#define VFS_NAME_GRACE_MS 60000

/* Live logs (options logs_max, logs_streams; see the README) */
#define VFS_LOGS_CAP (8UL * 1024 * 1024)
#define VFS_LOGS_STREAMS 128
#define VFS_LOGS_IDLE_MS 1000
#define VFS_LOGS_SETTLE_MAX_MS 10000
#define VFS_LOGS_GRACE_MS 30000

/* An open of wait/STATE, answered when the state is reached. */
enum waiter_state { WAITER_PREPARING, WAITER_CANCELLED, WAITER_WAITING };

struct vfs_waiter {
	struct vfs_waiter *next;
	const void *key;		/* the caller's request */
	unsigned long long wseq;	/* unique, as keys may be reused */
	char *path;			/* the wait file, opened at the end */
	int flags;
	char *id;
	char *dirname;
	char *state;
	long long deadline_ms;
	enum waiter_state st;
	vfs_wait_done_fn done;
	void *arg;
};

/* A poll(2) on a status file waiting for the status to change. */
struct vfs_poller {
	struct vfs_poller *next;
	const void *owner;		/* the open handle that polls */
	char *id;
	char *status;			/* what the handle saw */
	void *ph;			/* the caller's poll handle */
};

struct vfs {
	char *cluster;
	long long ttl_ms;
	int ro;
	long long max_stale_ms;
	long long wait_timeout_ms;
	long long wait_interval_ms;
	cache_clock_fn clock;
	void *clock_arg;
	void (*poll_notify)(void *arg, void *ph);	/* wake the poller, free ph */
	void (*poll_destroy)(void *ph);	/* free ph without waking */
	void (*invalidate)(void *arg, const char *path);
	void (*invalidate_later)(void *arg, const char *path, int gone);
	void *invalidate_arg;
	char *(*account)(void *arg);
	void *account_arg;		/* also login_refused's */
	int (*login_refused)(void *arg);
	/* the upper layer's hook (set by vfs_start before any request): a
	 * workspace was deleted through this mount */
	void (*on_deleted)(struct vfs *v, const char *id);
	struct http *http;
	struct logs *logs;		/* the live log streams (own lock) */
	struct cache *cache;
	struct cache *tpl_cache;
	time_t started;
	pthread_mutex_t mu;
	struct draft *drafts;		/* guarded by mu */
	struct vfs_error *errors;	/* guarded by mu */
	struct vfs_tomb *tombs;		/* guarded by mu */
	struct vfs_pin *pins;		/* guarded by mu */
	struct snap *last;		/* guarded by mu: newest listing */
	unsigned long last_seq;		/* guarded by mu: its cache sequence */
	long long last_ok_ms;		/* guarded by mu: when it was fetched */
	long long fail_ms;		/* guarded by mu: last failed refresh */
	char *stale_msg;		/* guarded by mu: why data is stale */
	unsigned long stale_serves;	/* guarded by mu */
	unsigned long pruned_seq;	/* guarded by mu */
	struct vfs_poller *pollers;	/* guarded by mu */
	struct vfs_waiter *waiters;	/* guarded by mu */
	unsigned long long wait_seq;	/* guarded by mu */
	int wait_kick;			/* guarded by mu: check waiters now */
	pthread_cond_t poll_cv;		/* with mu: wakes the poll thread */
	int poll_stop;			/* guarded by mu: threads end */
	pthread_cond_t refresh_cv;	/* with mu: wakes the refresher */
	int refresh_wanted;		/* guarded by mu */
	int refresher_running;		/* guarded by mu */
	pthread_t refresher;
	int poll_running;
	pthread_t poll_thread;
	/* open handles: the kernel may drop a RELEASE queued at unmount, so
	 * whatever is still here at vfs_free is freed there */
	pthread_mutex_t files_mu;
	struct vfs_file *files;		/* guarded by files_mu */
};

enum node_kind {
	NODE_ROOT,
	NODE_WS,		/* a workspace directory or one of its files */
	NODE_WAITDIR,		/* <ws>/wait */
	NODE_WAIT,		/* <ws>/wait/STATE */
	NODE_DRAFT,		/* a draft directory, its spec.json or error */
	NODE_TEMP,		/* an editor's temporary file in a draft */
	NODE_STATS,		/* .stats */
	NODE_ACCOUNT,		/* .account */
	NODE_TSV,		/* .workspaces.tsv */
	NODE_CTL,		/* .ctl */
	NODE_BYID_DIR,		/* .by-id */
	NODE_BYCL_DIR,		/* .by-cluster */
	NODE_BYCL_CLUSTER,	/* .by-cluster/<cluster> */
	NODE_TPL_DIR,		/* .templates */
	NODE_TPL,		/* .templates/<name>.json */
	NODE_LINK,		/* a symbolic link in .by-id or .by-cluster */
};

struct node {
	enum node_kind kind;
	enum ws_file file;		/* NODE_WS/NODE_DRAFT: WS_FILE_NONE = dir */
	char leaf[PATH_NAME_MAX + 1];	/* state, temp name, cluster id */
	char *target;			/* NODE_LINK: allocated */
	struct snap *list;		/* reference */
	struct snap *one;		/* reference when refreshed alone */
	const struct snap_ent *ent;	/* the listing's entry (dirname) */
	const struct snap_ent *cur;	/* the current data (ws, mtime) */
	struct draft *draft;		/* reference */
	struct model_templates *tpl;	/* reference, NODE_TPL */
	long tpl_idx;
};

/* An open file. The kernel may use one handle from many threads at once
 * (pread on a shared fd): everything that changes after the open is
 * guarded by mu, which is never held across an API call. */
struct vfs_file {
	enum node_kind kind;
	enum ws_file file;
	char *path;			/* to render again (read at 0, poll) */
	char *id;			/* workspace id, NODE_WS */
	struct draft *draft;		/* reference, NODE_DRAFT/NODE_TEMP */
	char *temp;			/* NODE_TEMP: its name */
	pthread_mutex_t mu;
	char *content;			/* guarded by mu: the snapshot read */
	size_t len;			/* guarded by mu */
	int reads;			/* guarded by mu: reads at offset 0 */
	char *status;			/* guarded by mu: NODE_WS status file */
	int wrote;			/* guarded by mu: spec.json written */
	int create_rc;			/* guarded by mu: failed create, for flush */
	int control_rc;			/* control: a failed command (atomic); later
					 * writes through this handle send nothing */
	struct ws *ws;			/* status.json, status, id, access read-only:
					 * the data at open (a reference), rendered at
					 * the first read (the kernel may hold the pages) */
	struct logs_stream *log;	/* logs, logs.follow: a reference */
	unsigned long long log_shift;	/* guarded by mu: bytes dropped under the
					 * reader (added to the kernel's offset) */
	unsigned long long log_next;	/* guarded by mu: where the next read goes */
	struct vfs_file *prev, *next;	/* vfs->files, under files_mu */
};

/* vfs_list.c: the listing (above vfs_state.c) */
int vfs_fetch_one(void *arg, const char *key, void **val, char **err);
/* vfs_list_want(VFS_WANT_HELD) */
int vfs_list(struct vfs *v, struct snap **out, unsigned long *seq);
/* What a caller needs of the listing: what is held (lookups, attributes,
 * reads) or, with cache_ttl=0, the API's answer now (open, readdir). */
enum vfs_want { VFS_WANT_HELD, VFS_WANT_OPEN };
int vfs_list_want(struct vfs *v, enum vfs_want want, struct snap **out,
		  unsigned long *seq);
/* A listing fetched at most max_age_ms ago, asking the API if need be. */
int vfs_list_within(struct vfs *v, long long max_age_ms, struct snap **out,
		    unsigned long *seq);
/* The background refresher (stale-while-refreshing). */
int list_start(struct vfs *v);
void list_stop(struct vfs *v);

/* vfs_state.c: below every other layer (see its header) */
/* Whether a failed refresh may be ridden out on held data: a transient
 * failure, or EACCES while the login is refused (api_transient else). */
int vfs_stale_ok(struct vfs *v, int rc);
/* The cache key of one workspace refreshed alone ("w:ID"). */
void vfs_ws_key(char *buf, size_t size, const char *id);
long long vfs_now_ms(struct vfs *v);
int vfs_tombstoned(struct vfs *v, const char *id);
int vfs_tombstoned_locked(struct vfs *v, const char *id);
/* Promise dirname to the workspace id just created from a draft. */
void vfs_pin_name(struct vfs *v, const char *id, const char *dirname);
/* The snap_names callbacks of this mount (pins, drafts, tombstones). */
extern const struct snap_names vfs_snap_names_proto;
/* Note that action (start, stop, delete, refresh, logs, wait) of group
 * failed with msg; msg NULL clears a note of that group. */
void vfs_note_error(struct vfs *v, const char *id, const char *group,
		    const char *action, const char *msg);
/* vfs_note_error for the control file (group "control"). */
void vfs_set_error(struct vfs *v, const char *id, const char *msg);
/* Tell the kernel that files of the directory holding path changed (all
 * but path itself, whose request is in progress). */
void vfs_invalidate_siblings(struct vfs *v, const char *path);
/* Queue for the kernel: the files of workspace directory dirname changed,
 * or (gone) the name is no longer there. */
void vfs_note_changed(struct vfs *v, const char *dirname, int gone);
/* The pollers' registry (the watcher in vfs_wait.c reads it): register
 * (or replace) the poll handle of an open status file; drop the poller
 * of a handle being closed. */
int wait_add_poller(struct vfs *v, const void *owner, const char *id,
		    const char *status, void *ph);
void wait_forget_poller(struct vfs *v, const void *owner);

/* vfs.c: resolving paths, the operations */
int vfs_resolve(struct vfs *v, const char *path, struct node *n);
void vfs_node_release(struct node *n);

/* vfs_render.c */
int vfs_render(struct vfs *v, const struct node *n, char **out, size_t *len,
	       time_t *mtime);
/* The files rendered from the workspace object alone (status.json,
 * status, id, access): 1 with *out and *len, 0 for another file, or
 * -ENOMEM. */
int vfs_render_ws(enum ws_file file, const struct ws *w, char **out, size_t *len);

/* vfs_draft.c: drafts made by mkdir, their spec.json and temporary files */
struct draft *draft_new(const char *dirname, const char *name);
void draft_ref(struct draft *d);
void draft_unref(struct draft *d);
void draft_set_error(struct draft *d, const char *msg);
struct draft *vfs_find_draft(struct vfs *v, const char *dirname);
void vfs_remove_draft(struct vfs *v, struct draft *d);
int draft_has_temp(struct draft *d, const char *name);
int draft_render_spec(struct vfs *v, struct draft *d, char **out, size_t *len,
		      time_t *mtime);
int draft_render_temp(struct draft *d, const char *name, char **out,
		      size_t *len, time_t *mtime);
int draft_write_spec(struct vfs *v, struct vfs_file *f, const char *buf,
		     size_t size, off_t off);
int draft_flush(struct vfs_file *f);
int draft_truncate_spec(struct draft *d, off_t size);
int draft_temp_create(struct draft *d, const char *name);
int draft_temp_write(struct draft *d, const char *name, const char *buf,
		     size_t size, off_t off);
int draft_temp_truncate(struct draft *d, const char *name, off_t size);
int draft_temp_unlink(struct draft *d, const char *name);
int draft_rename(struct vfs *v, struct draft *d, const char *from,
		 const char *to);
/* The template list (a new reference) or NULL when it cannot be had;
 * then *rc (if rc is not NULL) holds the errno (EACCES for a bad token). */
struct model_templates *vfs_templates(struct vfs *v, int *rc, char **err);

/* vfs_dot.c: the root's reserved dot entries */
int dot_resolve(struct vfs *v, const struct path_parts *pp, struct node *n);
int dot_readdir(struct vfs *v, const struct node *n, vfs_fill_fn fill,
		void *ctx);
/* List the dot entries themselves; nonzero when fill asked to stop. */
int dot_fill_root(struct vfs *v, vfs_fill_fn fill, void *ctx);
char *dot_render_stats(struct vfs *v);
char *dot_render_tsv(struct vfs *v);
int dot_write_ctl(struct vfs *v, const char *buf, size_t size);

/* vfs_wait.c: waiting for a state, and poll(2) on status; vfs_start and
 * vfs_stop (the threads) */
/* End every wait on workspace id with rc (it was deleted: -ENOENT). */
void wait_end_ws(struct vfs *v, const char *id, int rc);
int wait_start(struct vfs *v);
void wait_stop(struct vfs *v);

#endif
