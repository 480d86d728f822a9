/*
 * vfs: the filesystem's policy in plain C. Paths in, 0 or -errno out; no
 * FUSE types. It owns the mount's state: the cache of the workspace list
 * and of changed workspaces, the drafts made by mkdir, the per-workspace
 * error messages and the ids deleted through this mount.
 */
#ifndef EXFS_VFS_H
#define EXFS_VFS_H

#include "cache.h"
#include "http.h"

#include <sys/types.h>
#include <time.h>

struct vfs;
struct vfs_file;

struct vfs_cfg {
	const char *cluster;	/* only this cluster's workspaces, or NULL */
	long long ttl_ms;	/* cache_ttl */
	int ro;			/* refuse every mutation with EROFS */
	long long max_stale_ms;	/* serve the last listing this long when refreshes fail */
	long long wait_timeout_ms;	/* wait/STATE gives up after this (0: 600 s) */
	long long wait_interval_ms;	/* and asks the API this often (0: 1 s) */
	cache_clock_fn clock;	/* NULL: monotonic */
	void *clock_arg;
	/* wake a poller and free ph, after every invalidation queued
	 * before it (NULL: no poll) */
	void (*poll_notify)(void *arg, void *ph);
	void (*poll_destroy)(void *ph);	/* free ph without waking */
	/* drop what the kernel caches of path (may be NULL): now, from a
	 * request that changed it, or queued (gone: the name no longer
	 * exists), from a refresh that may run inside any request */
	void (*invalidate)(void *arg, const char *path);
	void (*invalidate_later)(void *arg, const char *path, int gone);
	void *invalidate_arg;	/* for all three */
	/* the text of .account: which login the mount uses (never a token);
	 * allocated, or NULL (may be NULL: "none") */
	char *(*account)(void *arg);
	void *account_arg;
	/* whether the login was refused (may be NULL): API calls then fail
	 * with EACCES, and what is held is served within max_stale */
	int (*login_refused)(void *arg);
	/* live logs (0: the defaults in vfs.c) */
	size_t logs_cap;		/* bytes held per workspace */
	int logs_streams;		/* streams open at once */
	long long logs_idle_ms;		/* cat logs ends after this much quiet */
	long long logs_grace_ms;	/* a stream outlives its last reader */
	int logs_ndjson;		/* logs holds the API's JSON lines */
};

struct vfs_attr {
	int is_dir;
	int is_link;
	mode_t mode;		/* permission bits only */
	off_t size;
	time_t mtime;
	int live;		/* grows by itself (logs): never cache attributes */
};

/* Called by vfs_readdir for each entry; nonzero stops the listing. */
typedef int (*vfs_fill_fn)(void *ctx, const char *name, const struct vfs_attr *a);

/* New mount state using the client h (borrowed). NULL on failure. */
struct vfs *vfs_new(const struct vfs_cfg *cfg, struct http *h);
/* Free the state; no call may be in flight. */
void vfs_free(struct vfs *v);
/* Start and stop the background thread (poll notifications); call from
 * the FUSE init and destroy callbacks. */
int vfs_start(struct vfs *v);
void vfs_stop(struct vfs *v);

int vfs_getattr(struct vfs *v, const char *path, struct vfs_attr *a);
/* Fill a directory's entries; *cacheable says whether the kernel may keep
 * the listing (the root and workspace directories, whose changes are
 * announced). */
int vfs_readdir(struct vfs *v, const char *path, vfs_fill_fn fill, void *ctx,
		int *cacheable);
/* Open a file; flags as open(2). *out is the handle to pass back. */
int vfs_open(struct vfs *v, const char *path, int flags, struct vfs_file **out);
/* Read from the snapshot the open took (a later read from offset 0 takes
 * a fresh one); bytes read or -errno. */
int vfs_read(struct vfs *v, struct vfs_file *f, char *buf, size_t size, off_t off);
/* Create a file (only editors' temporary files in drafts); like open. */
int vfs_create(struct vfs *v, const char *path, int flags, struct vfs_file **out);
/* The target of a .by-id or .by-cluster link, NUL-terminated in buf. */
int vfs_readlink(struct vfs *v, const char *path, char *buf, size_t size);
/* poll(2): *revents now; ph (may be NULL) is kept to be woken when a
 * status file's content changes, as sysfs does (POLLPRI | POLLERR). */
int vfs_poll(struct vfs *v, struct vfs_file *f, void *ph, unsigned *revents);
/*
 * Waiting for a state: opening <ws>/wait/STATE answers once the workspace
 * is in STATE, and holds no thread meanwhile. vfs_wait_begin returns 0
 * when path is not a wait file opened for reading (open it with vfs_open),
 * -errno when it cannot be waited on, and 1 when a wait was registered
 * under key (the caller's request): done(arg, rc, f) is then called exactly
 * once, from another thread, with an open handle or -errno (ENOENT when
 * the workspace is deleted, EIO when it FAILED, ETIMEDOUT at wait_timeout,
 * EINTR when cancelled). The wait starts with vfs_wait_arm; vfs_wait_cancel
 * (an interrupt) may come before or after it, or after done.
 */
typedef void (*vfs_wait_done_fn)(void *arg, int rc, struct vfs_file *f);
int vfs_wait_begin(struct vfs *v, const char *path, int flags, const void *key,
		   vfs_wait_done_fn done, void *arg);
void vfs_wait_arm(struct vfs *v, const void *key);
void vfs_wait_cancel(struct vfs *v, const void *key);
/*
 * Answering later: the logs files. vfs_ready says whether an open (off
 * < 0, after vfs_open) or a read at off of handle f can be answered now
 * (0), cannot (-errno; -EAGAIN for a nonblocking read with nothing to
 * read), or will be when done(arg, rc) is called from another thread (1):
 * rc 0, go on with vfs_read (or the open's reply), or -errno. The call
 * comes only after vfs_ready_arm(key); vfs_ready_cancel(key) (an
 * interrupt) answers it with -EINTR.
 */
typedef void (*vfs_ready_fn)(void *arg, int rc);
/* Whether vfs_ready may ever answer later for f (the logs files): the
 * others need no request kept. */
int vfs_may_wait(const struct vfs_file *f);
int vfs_ready(struct vfs *v, struct vfs_file *f, off_t off, int nonblock,
	      const void *key, vfs_ready_fn done, void *arg);
void vfs_ready_arm(struct vfs *v, const void *key);
void vfs_ready_cancel(struct vfs *v, const void *key);
int vfs_unlink(struct vfs *v, const char *path);
int vfs_rename(struct vfs *v, const char *from, const char *to);
/* chmod/chown: refused on virtual files, ignored on temporary files. */
int vfs_chmod(struct vfs *v, const char *path);
/* A version of what handle f shows, for the kernel's page cache: the
 * same number for the same bytes; 0 for files read with direct I/O
 * (anything not a pure rendering of the listing). */
unsigned long long vfs_file_version(struct vfs_file *f);
/* The whole content of a handle with a version, copied into buf for the
 * kernel's page cache; it counts as the handle's first read (so a read
 * from the start after it gets the current content, see vfs_read): its
 * length, -EFBIG when it is longer than size, -EINVAL for a handle
 * without a version, or -ENOMEM. */
int vfs_file_bytes(struct vfs_file *f, char *buf, size_t size);
/* Write; bytes written or -errno (the API call happens here). */
int vfs_write(struct vfs *v, struct vfs_file *f, const char *buf, size_t size,
	      off_t off);
/* close(2) of one descriptor: the result close() returns. */
int vfs_flush(struct vfs *v, struct vfs_file *f);
/* The last descriptor is gone. */
void vfs_release(struct vfs *v, struct vfs_file *f);
/* truncate(2) by path (f NULL) or ftruncate(2) by handle. */
int vfs_truncate(struct vfs *v, const char *path, off_t size, struct vfs_file *f);
int vfs_mkdir(struct vfs *v, const char *path);
int vfs_rmdir(struct vfs *v, const char *path);
/* For operations the virtual files never allow (unlink, rename, chmod...):
 * -ENOENT when path does not exist, else -EPERM (-EROFS on a ro mount). */
int vfs_refuse(struct vfs *v, const char *path);
/* Whether nonzero mutations are refused (read-only mount). */
int vfs_is_ro(const struct vfs *v);

#endif
