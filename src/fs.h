/*
 * fs: the FUSE callbacks. Each one turns its arguments into one vfs call
 * and its result into a reply; no policy lives here.
 */
#ifndef EXFS_FS_H
#define EXFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>

/* Mount-wide settings the callbacks need besides the vfs. */
struct fs_ctx {
	struct vfs *vfs;
	uid_t uid;
	gid_t gid;
	double kernel_timeout;	/* entry/attr caching in the kernel, seconds;
				 * what this mount changes is invalidated */
};

/* The operations table; private_data must be a struct fs_ctx. */
extern const struct fuse_operations fs_ops;

/* Hooks for the vfs (see struct vfs_cfg): wake a poller, drop a poll
 * handle, and ask whether the current request was interrupted. */
void fs_poll_notify(void *ph);
void fs_poll_destroy(void *ph);
int fs_interrupted(void);
/* Drop the kernel's cached attributes of path (from within a request). */
void fs_invalidate(const char *path);

#endif
