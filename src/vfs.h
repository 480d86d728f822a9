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
	cache_clock_fn clock;	/* NULL: monotonic */
	void *clock_arg;
};

struct vfs_attr {
	int is_dir;
	mode_t mode;		/* permission bits only */
	off_t size;
	time_t mtime;
};

/* Called by vfs_readdir for each entry; nonzero stops the listing. */
typedef int (*vfs_fill_fn)(void *ctx, const char *name, const struct vfs_attr *a);

/* New mount state using the client h (borrowed). NULL on failure. */
struct vfs *vfs_new(const struct vfs_cfg *cfg, struct http *h);
/* Free the state; no call may be in flight. */
void vfs_free(struct vfs *v);

int vfs_getattr(struct vfs *v, const char *path, struct vfs_attr *a);
int vfs_readdir(struct vfs *v, const char *path, vfs_fill_fn fill, void *ctx);
/* Open a file; flags as open(2). *out is the handle to pass back. */
int vfs_open(struct vfs *v, const char *path, int flags, struct vfs_file **out);
/* Read from the snapshot the open took; bytes read or -errno. */
int vfs_read(struct vfs_file *f, char *buf, size_t size, off_t off);
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
