/*
 * fs: the FUSE low-level callbacks. Each one maps its inode to a path
 * (inode.h), makes one vfs call and turns the result into a reply; no
 * policy lives here. Replies to waits are sent later, from the thread
 * that sees the wait end (see vfs.h, vfs_open_wait).
 */
#ifndef EXFS_FS_H
#define EXFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "inode.h"

/* Mount-wide settings the callbacks need besides the vfs. */
struct fs_ctx {
	struct vfs *vfs;
	struct inode_table *inodes;
	struct fuse_session *se;	/* set before the loop starts */
	uid_t uid;
	gid_t gid;
	mode_t umask;			/* bits taken away from every mode */
	double kernel_timeout;	/* entry/attr caching in the kernel, seconds;
				 * what this mount changes is invalidated */
};

/* A session serving c (borrowed; c->se is set too), or NULL. */
struct fuse_session *fs_session_new(struct fuse_args *args, struct fs_ctx *c);

/* Hooks for the vfs (see struct vfs_cfg): wake a poller, drop a poll
 * handle, drop what the kernel caches of a path (arg: the fs_ctx). */
void fs_poll_notify(void *ph);
void fs_poll_destroy(void *ph);
void fs_invalidate(void *arg, const char *path);

#endif
