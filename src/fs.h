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

#include <pthread.h>

/* What the notifier thread tells the kernel, in order. */
struct fs_note;
/* An open directory's entries (fs.c). */
struct fs_dir;

/* Notifications sent from a thread of their own: a refresh may run
 * inside any request, and telling the kernel that a name is gone from
 * inside a request on its directory would deadlock. */
struct fs_notifier {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* with mu: work or stop */
	struct fs_note *head; /* guarded by mu */
	struct fs_note **tail; /* guarded by mu */
	int stop; /* guarded by mu */
	int running; /* guarded by mu */
	pthread_t thread;
};

/* Mount-wide settings the callbacks need besides the vfs. */
struct fs_ctx {
	struct vfs *vfs;
	struct inode_table *inodes;
	struct fuse_session *se; /* set before the loop starts */
	uid_t uid;
	gid_t gid;
	mode_t umask; /* bits taken away from every mode */
	double kernel_timeout; /* entry/attr caching in the kernel, seconds;
				 * what changes is invalidated */
	struct fs_notifier notes;
	/* open directories: the kernel may drop a RELEASEDIR queued at
	 * unmount, so whatever is still here at fs_ctx_destroy is freed */
	pthread_mutex_t dirs_mu;
	struct fs_dir *dirs; /* guarded by dirs_mu */
};

/* Prepare and free c's notifier (call around the session's life). */
void fs_ctx_init(struct fs_ctx *c);
void fs_ctx_destroy(struct fs_ctx *c);
/* A session serving c (borrowed; c->se is set too), or NULL. */
struct fuse_session *fs_session_new(struct fuse_args *args, struct fs_ctx *c);

/* Hooks for the vfs (see struct vfs_cfg; arg: the fs_ctx): wake a
 * poller, drop a poll handle, drop what the kernel caches of a path now
 * or from the notifier thread. */
void fs_poll_notify(void *arg, void *ph);
void fs_poll_destroy(void *ph);
void fs_invalidate(void *arg, const char *path);
void fs_invalidate_later(void *arg, const char *path, int gone);

#endif
