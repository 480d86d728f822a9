/*
 * fs: thin FUSE low-level glue (see libfuse's example/passthrough_ll.c).
 * Inode numbers come from inode.c, every operation is the vfs call of the
 * inode's path, and the reply is sent here or, for a wait, later from the
 * thread that sees the wait end. Dynamic files are opened with direct_io
 * so that a size change between stat and read never truncates a read.
 */
#include "fs.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FS_UNKNOWN_INO 0xffffffffu /* d_ino of a plain readdir entry */

static void fs_notifier_start(struct fs_ctx *c);
static void fs_notifier_stop(struct fs_ctx *c);

static struct fs_ctx *
fs_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct vfs_file *
fs_file(const struct fuse_file_info *fi)
{
	return (struct vfs_file *)(uintptr_t)fi->fh;
}

static void
fs_fill_stat(const struct fs_ctx *c, const struct vfs_attr *a, uint64_t ino,
	     struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	/* umask only takes bits away: a read-only file never gains any */
	st->st_mode = (a->is_dir ? S_IFDIR : a->is_link ? S_IFLNK
							: S_IFREG) |
		      (a->is_link ? a->mode : a->mode & ~c->umask);
	st->st_nlink = a->is_dir ? 2 : 1;
	st->st_size = a->size;
	st->st_uid = c->uid;
	st->st_gid = c->gid;
	st->st_blksize = 4096;
	st->st_blocks = (a->size + 511) / 512;
	st->st_mtime = st->st_ctime = st->st_atime = a->mtime;
}

/* The path of ino, or an errno reply sent and 0 returned. */
static int
fs_path(fuse_req_t req, fuse_ino_t ino, char *buf)
{
	if (inode_path(fs_ctx(req)->inodes, ino, buf, INODE_PATH_MAX) == 0)
		return 1;
	fuse_reply_err(req, ENOENT);
	return 0;
}

static int
fs_child(fuse_req_t req, fuse_ino_t parent, const char *name, char *buf)
{
	int rc = inode_child_path(fs_ctx(req)->inodes, parent, name, buf,
				  INODE_PATH_MAX);

	if (rc == 0)
		return 1;
	fuse_reply_err(req, -rc);
	return 0;
}

static void
fs_reply_rc(fuse_req_t req, int rc)
{
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* An entry for name in parent with attributes a: the inode is looked up
 * (its count raised) into e. */
static int
fs_entry(struct fs_ctx *c, fuse_ino_t parent, const char *name,
	 const struct vfs_attr *a, struct fuse_entry_param *e)
{
	uint64_t ino;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = inode_lookup(c->inodes, parent, name, &ino);
	if (rc < 0)
		return rc;
	e->ino = ino;
	e->generation = 1;
	fs_fill_stat(c, a, ino, &e->attr);
	/* a live file's size grows by itself: the kernel asks each time */
	e->attr_timeout = a->live ? 0 : c->kernel_timeout;
	e->entry_timeout = c->kernel_timeout;
	return 0;
}

/* Reply with the entry of path (name in parent), taking the lookup back
 * if the kernel never gets the reply. */
static void
fs_reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
	       const char *path)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fuse_entry_param e;
	struct vfs_attr a;
	int rc;

	rc = vfs_getattr(c->vfs, path, &a);
	if (rc == 0)
		rc = fs_entry(c, parent, name, &a, &e);
	if (rc < 0) {
		fs_reply_rc(req, rc);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		inode_forget(c->inodes, e.ino, 1);
}

/* ---- lifetime ------------------------------------------------------------ */

static void
fs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs_ctx *c = userdata;

	(void)conn;
	/* threads start here, not before fuse_daemonize() forks */
	fs_notifier_start(c);
	if (vfs_start(c->vfs) < 0)
		log_msg(LOG_LVL_ERR, "could not start the background threads");
}

/* Set once the session ends (atomic): replies still owed then (a log
 * reader answered at unmount) find the device closed, which is no error. */
static int fs_ending;

static void
fs_destroy(void *userdata)
{
	struct fs_ctx *c = userdata;

	__atomic_store_n(&fs_ending, 1, __ATOMIC_RELAXED);
	vfs_stop(c->vfs);
	fs_notifier_stop(c);
}

/* ---- names ---------------------------------------------------------------- */

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[INODE_PATH_MAX];

	if (fs_child(req, parent, name, path))
		fs_reply_entry(req, parent, name, path);
}

static void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(fs_ctx(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inode_forget(fs_ctx(req)->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	char path[INODE_PATH_MAX];
	struct vfs_attr a;
	struct stat st;
	int rc;

	(void)fi;
	if (!fs_path(req, ino, path))
		return;
	rc = vfs_getattr(c->vfs, path, &a);
	if (rc < 0) {
		fs_reply_rc(req, rc);
		return;
	}
	fs_fill_stat(c, &a, ino, &st);
	fuse_reply_attr(req, &st, a.live ? 0 : c->kernel_timeout);
}

static void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
	   struct fuse_file_info *fi)
{
	struct vfs *v = fs_ctx(req)->vfs;
	char path[INODE_PATH_MAX];
	int rc = 0;

	if (!fs_path(req, ino, path))
		return;
	/* an editor may chmod or chown its temporary file: allowed, ignored */
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		rc = vfs_chmod(v, path);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		rc = vfs_truncate(v, path, attr->st_size, fi ? fs_file(fi) : NULL);
	/* touch(1) on an existing file succeeds; times are the mount's own */
	if (rc < 0)
		fs_reply_rc(req, rc);
	else
		fs_getattr(req, ino, fi);
}

static void
fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char path[INODE_PATH_MAX], buf[INODE_PATH_MAX];
	int rc;

	if (!fs_path(req, ino, path))
		return;
	rc = vfs_readlink(fs_ctx(req)->vfs, path, buf, sizeof(buf));
	if (rc < 0)
		fs_reply_rc(req, rc);
	else
		fuse_reply_readlink(req, buf);
}

static void
fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	char path[INODE_PATH_MAX];
	int rc;

	(void)mode;
	if (!fs_child(req, parent, name, path))
		return;
	rc = vfs_mkdir(fs_ctx(req)->vfs, path);
	if (rc < 0)
		fs_reply_rc(req, rc);
	else
		fs_reply_entry(req, parent, name, path);
}

static void
fs_remove(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct fs_ctx *c = fs_ctx(req);
	char path[INODE_PATH_MAX];
	int rc;

	if (!fs_child(req, parent, name, path))
		return;
	rc = dir ? vfs_rmdir(c->vfs, path) : vfs_unlink(c->vfs, path);
	if (rc == 0)
		inode_unlink(c->inodes, parent, name);
	fs_reply_rc(req, rc);
}

static void
fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_remove(req, parent, name, 0);
}

static void
fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_remove(req, parent, name, 1);
}

static void
fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct fs_ctx *c = fs_ctx(req);
	char from[INODE_PATH_MAX], to[INODE_PATH_MAX];
	int rc;

	if (!fs_child(req, parent, name, from) || !fs_child(req, newparent, newname, to))
		return;
	if (flags) {
		fuse_reply_err(req, EINVAL); /* no RENAME_EXCHANGE / NOREPLACE */
		return;
	}
	rc = vfs_rename(c->vfs, from, to);
	if (rc == 0)
		inode_rename(c->inodes, parent, name, newparent, newname);
	fs_reply_rc(req, rc);
}

static void
fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	char path[INODE_PATH_MAX];

	(void)newparent;
	(void)newname;
	if (fs_path(req, ino, path))
		fs_reply_rc(req, vfs_refuse(fs_ctx(req)->vfs, path));
}

static void
fs_refuse_new(fuse_req_t req)
{
	fuse_reply_err(req, vfs_is_ro(fs_ctx(req)->vfs) ? EROFS : EPERM);
}

static void
fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fs_refuse_new(req);
}

static void
fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	 dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fs_refuse_new(req);
}

/* ---- files ---------------------------------------------------------------- */

/* Files up to this size are handed to the kernel's page cache with the
 * open that first sees their version (fs_store). */
#define FS_STORE_MAX 16384

/* Put f's bytes into the kernel's page cache for inode ino, so the reads
 * after this open are served without a READ round trip: 1 when they are
 * there, 0 when the kernel will ask (too big, or the kernel refused). */
static int
fs_store(struct fs_ctx *c, fuse_ino_t ino, struct vfs_file *f)
{
	char buf[FS_STORE_MAX];
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	int n = vfs_file_bytes(f, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	bv.buf[0].mem = buf;
	bv.buf[0].size = (size_t)n;
	return fuse_lowlevel_notify_store(c->se, ino, 0, &bv, 0) == 0;
}

/* The kernel may keep a read-only file's pages while the bytes are the
 * ones it cached (same version); when they changed, its attributes are
 * dropped first, so the size it reads up to is the new one, and the open
 * that first sees a version stores its bytes (fs_store). Everything
 * else (control, drafts, logs, dot files) is read with direct I/O. */
static void
fs_set_open(struct fs_ctx *c, fuse_ino_t ino, struct fuse_file_info *fi,
	    struct vfs_file *f)
{
	unsigned long long ver = 0;

	fi->fh = (uint64_t)(uintptr_t)f;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if ((fi->flags & O_ACCMODE) == O_RDONLY && c->kernel_timeout > 0)
		ver = vfs_file_version(f);
	if (ver) {
		unsigned long long old = inode_swap_version(c->inodes, ino, ver);

		fi->direct_io = 0;
		fi->keep_cache = old == ver;
		/* 0: the kernel holds no pages of ours, and any attributes it
		 * holds were dropped when the version was (fs_note_send) */
		if (old && old != ver && c->se)
			fuse_lowlevel_notify_inval_inode(c->se, ino, -1, 0);
		if (old != ver && c->se && fs_store(c, ino, f))
			fi->keep_cache = 1;
	}
	/* close(2) of a reader has nothing to report: spare the round trip */
	fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY;
}

/* Reply to an open with handle f; the handle goes if the kernel never
 * gets the reply. */
static void
fs_reply_open(struct fs_ctx *c, fuse_req_t req, fuse_ino_t ino,
	      struct fuse_file_info *fi, struct vfs_file *f)
{
	fs_set_open(c, ino, fi, f);
	if (fuse_reply_open(req, fi) != 0)
		vfs_release(c->vfs, f);
}

/* An open that waits (wait/STATE): the request and its file info, kept
 * until the wait ends. */
struct fs_wait {
	fuse_req_t req;
	fuse_ino_t ino;
	struct fuse_file_info fi;
	struct fs_ctx *c;
};

static void
fs_wait_done(void *arg, int rc, struct vfs_file *f)
{
	struct fs_wait *w = arg;

	if (rc < 0) {
		fuse_reply_err(w->req, -rc);
	} else {
		fs_reply_open(w->c, w->req, w->ino, &w->fi, f);
	}
	free(w);
}

static void
fs_wait_interrupted(fuse_req_t req, void *data)
{
	struct fs_ctx *c = data;

	vfs_wait_cancel(c->vfs, req);
}

/* An open or a read answered later (the logs): the request and what
 * the answer needs. */
struct fs_later {
	fuse_req_t req;
	fuse_ino_t ino;
	struct fuse_file_info fi; /* the open's */
	struct vfs_file *f;
	size_t size; /* the read's */
	off_t off;
	struct fs_ctx *c;
};

static void
fs_reply_read(fuse_req_t req, struct vfs *v, struct vfs_file *f, size_t size,
	      off_t off)
{
	char *buf = malloc(size ? size : 1);
	int n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = vfs_read(v, f, buf, size, off);
	if (n < 0)
		fs_reply_rc(req, n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void
fs_later_open_done(void *arg, int rc)
{
	struct fs_later *l = arg;

	if (rc < 0) {
		vfs_release(l->c->vfs, l->f);
		fuse_reply_err(l->req, -rc);
	} else {
		fs_reply_open(l->c, l->req, l->ino, &l->fi, l->f);
	}
	free(l);
}

static void
fs_later_read_done(void *arg, int rc)
{
	struct fs_later *l = arg;

	if (rc < 0)
		fuse_reply_err(l->req, -rc);
	else
		fs_reply_read(l->req, l->c->vfs, l->f, l->size, l->off);
	free(l);
}

static void
fs_later_interrupted(fuse_req_t req, void *data)
{
	struct fs_ctx *c = data;

	vfs_ready_cancel(c->vfs, req);
}

/* 0 when f is ready for the open (off < 0) or the read: the caller
 * answers; 1 when the answer is sent later, or an error was sent now. */
static int
fs_later(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	 struct vfs_file *f, size_t size, off_t off)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_later *l;
	int rc;

	if (!vfs_may_wait(f))
		return 0; /* every open and read but the logs': nothing to keep */
	l = malloc(sizeof(*l));
	if (!l) {
		if (off < 0)
			vfs_release(c->vfs, f);
		fuse_reply_err(req, ENOMEM);
		return 1;
	}
	*l = (struct fs_later){ .req = req, .ino = ino, .fi = *fi, .f = f, .size = size, .off = off, .c = c };
	rc = vfs_ready(c->vfs, f, off, (fi->flags & O_NONBLOCK) != 0, req,
		       off < 0 ? fs_later_open_done : fs_later_read_done, l);
	if (rc > 0) {
		/* Ctrl-C ends it (may call back at once) */
		fuse_req_interrupt_func(req, fs_later_interrupted, c);
		vfs_ready_arm(c->vfs, req);
		return 1;
	}
	free(l);
	if (rc == 0)
		return 0;
	if (off < 0)
		vfs_release(c->vfs, f);
	fs_reply_rc(req, rc);
	return 1;
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	char path[INODE_PATH_MAX];
	struct vfs_file *f;
	int rc = 0;

	if (!fs_path(req, ino, path))
		return;
	/* only wait/STATE answers later: spare every other open a lookup */
	if (strstr(path, "/wait/")) {
		struct fs_wait *w = malloc(sizeof(*w));

		if (!w) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		*w = (struct fs_wait){ .req = req, .ino = ino, .fi = *fi, .c = c };
		rc = vfs_wait_begin(c->vfs, path, fi->flags, req, fs_wait_done, w);
		if (rc > 0) {
			/* answered later; Ctrl-C ends it (may call back at once) */
			fuse_req_interrupt_func(req, fs_wait_interrupted, c);
			vfs_wait_arm(c->vfs, req);
			return;
		}
		free(w);
	}
	if (rc == 0)
		rc = vfs_open(c->vfs, path, fi->flags, &f);
	if (rc < 0) {
		fs_reply_rc(req, rc);
		return;
	}
	if (fs_later(req, ino, fi, f, 0, -1))
		return;
	fs_reply_open(c, req, ino, fi, f);
}

static void
fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	  struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	char path[INODE_PATH_MAX];
	struct fuse_entry_param e;
	struct vfs_file *f;
	struct vfs_attr a;
	int rc;

	(void)mode;
	if (!fs_child(req, parent, name, path))
		return;
	/* only editors' temporary files in drafts; elsewhere EPERM */
	rc = vfs_create(c->vfs, path, fi->flags, &f);
	if (rc < 0) {
		fs_reply_rc(req, rc);
		return;
	}
	rc = vfs_getattr(c->vfs, path, &a);
	if (rc == 0)
		rc = fs_entry(c, parent, name, &a, &e);
	if (rc < 0) {
		vfs_release(c->vfs, f);
		fs_reply_rc(req, rc);
		return;
	}
	fs_set_open(c, e.ino, fi, f);
	fi->noflush = 0;
	if (fuse_reply_create(req, &e, fi) != 0) {
		inode_forget(c->inodes, e.ino, 1);
		vfs_release(c->vfs, f);
	}
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	struct fuse_file_info *fi)
{
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!fs_later(req, ino, fi, fs_file(fi), size, off))
		fs_reply_read(req, fs_ctx(req)->vfs, fs_file(fi), size, off);
}

static void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	 off_t off, struct fuse_file_info *fi)
{
	int n;

	(void)ino;
	n = vfs_write(fs_ctx(req)->vfs, fs_file(fi), buf, size, off);
	if (n < 0)
		fs_reply_rc(req, n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fs_reply_rc(req, vfs_flush(fs_ctx(req)->vfs, fs_file(fi)));
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	vfs_release(fs_ctx(req)->vfs, fs_file(fi));
	fuse_reply_err(req, 0);
}

static void
fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	struct fuse_pollhandle *ph)
{
	unsigned revents = 0;
	int rc;

	(void)ino;
	rc = vfs_poll(fs_ctx(req)->vfs, fs_file(fi), ph, &revents);
	if (rc < 0)
		fs_reply_rc(req, rc);
	else
		fuse_reply_poll(req, revents);
}

/* ---- directories ---------------------------------------------------------- */

/* A directory's entries, taken whole at opendir: readdir continues from
 * an offset into it, so a listing is one consistent snapshot. */
struct fs_dirent {
	char *name;
	struct vfs_attr a;
};

struct fs_dir {
	size_t n, cap;
	struct fs_dirent *v;
	struct fs_dir *prev, *next; /* fs_ctx.dirs, under dirs_mu */
};

static void
fs_dir_free(struct fs_dir *d)
{
	for (size_t i = 0; d && i < d->n; i++)
		free(d->v[i].name);
	if (d)
		free(d->v);
	free(d);
}

static int
fs_dir_fill(void *ctx, const char *name, const struct vfs_attr *a)
{
	struct fs_dir *d = ctx;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct fs_dirent *nv = realloc(d->v, cap * sizeof(*nv));

		if (!nv)
			return 1;
		d->v = nv;
		d->cap = cap;
	}
	d->v[d->n].name = strdup(name);
	if (!d->v[d->n].name)
		return 1;
	d->v[d->n].a = *a;
	d->n++;
	return 0;
}

/* Put d on (add) or take it off the open directories' list. */
static void
fs_dir_track(struct fs_ctx *c, struct fs_dir *d, int add)
{
	pthread_mutex_lock(&c->dirs_mu);
	if (add) {
		d->prev = NULL;
		d->next = c->dirs;
		if (c->dirs)
			c->dirs->prev = d;
		c->dirs = d;
	} else {
		if (d->prev)
			d->prev->next = d->next;
		else
			c->dirs = d->next;
		if (d->next)
			d->next->prev = d->prev;
	}
	pthread_mutex_unlock(&c->dirs_mu);
}

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[INODE_PATH_MAX];
	struct fs_dir tmp = { 0 }, *d;
	int rc, cacheable;

	if (!fs_path(req, ino, path))
		return;
	/* nothing of ours on the heap while the listing may be fetched: at
	 * unmount libfuse cancels a worker that is still waiting */
	rc = vfs_readdir(fs_ctx(req)->vfs, path, fs_dir_fill, &tmp, &cacheable);
	d = rc < 0 ? NULL : malloc(sizeof(*d));
	if (rc == 0 && !d)
		rc = -ENOMEM;
	if (rc < 0) {
		for (size_t i = 0; i < tmp.n; i++)
			free(tmp.v[i].name);
		free(tmp.v);
		fs_reply_rc(req, rc);
		return;
	}
	*d = tmp;
	fi->fh = (uint64_t)(uintptr_t)d;
	/* the root's and a workspace's listing may stay in the kernel: what
	 * changes them is announced (see fs_note_send) */
	if (fs_ctx(req)->kernel_timeout > 0 && cacheable) {
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	fs_dir_track(fs_ctx(req), d, 1);
	if (fuse_reply_open(req, fi) != 0) {
		fs_dir_track(fs_ctx(req), d, 0);
		fs_dir_free(d);
	}
}

static int
fs_is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static void
fs_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi, int plus)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	char *buf = malloc(size ? size : 1);
	size_t pos = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = off < 0 ? 0 : (size_t)off; i < d->n; i++) {
		const struct fs_dirent *de = &d->v[i];
		size_t need;

		if (plus) {
			struct fuse_entry_param e = { 0 };

			/* . and .. make no dentries and take no lookup */
			if (fs_is_dot(de->name))
				fs_fill_stat(c, &de->a, FS_UNKNOWN_INO, &e.attr);
			else if (fs_entry(c, ino, de->name, &de->a, &e) < 0)
				break;
			need = fuse_add_direntry_plus(req, buf + pos, size - pos,
						      de->name, &e, (off_t)i + 1);
			if (need > size - pos) {
				if (e.ino)
					inode_forget(c->inodes, e.ino, 1);
				break;
			}
		} else {
			struct stat st;

			fs_fill_stat(c, &de->a, FS_UNKNOWN_INO, &st);
			need = fuse_add_direntry(req, buf + pos, size - pos,
						 de->name, &st, (off_t)i + 1);
			if (need > size - pos)
				break;
		}
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	   struct fuse_file_info *fi)
{
	fs_readdir_common(req, ino, size, off, fi, 0);
}

static void
fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	fs_readdir_common(req, ino, size, off, fi, 1);
}

static void
fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;

	(void)ino;
	fs_dir_track(fs_ctx(req), d, 0);
	fs_dir_free(d);
	fuse_reply_err(req, 0);
}

/* ---- telling the kernel --------------------------------------------------- */

enum fs_note_kind { NOTE_INODE,
		    NOTE_GONE,
		    NOTE_POLL };

struct fs_note {
	struct fs_note *next;
	enum fs_note_kind kind;
	void *ph; /* NOTE_POLL */
	char path[]; /* NOTE_INODE, NOTE_GONE */
};

static void
fs_note_push(struct fs_ctx *c, enum fs_note_kind kind, const char *path, void *ph)
{
	size_t len = path ? strlen(path) + 1 : 1;
	struct fs_note *n = malloc(sizeof(*n) + len);
	struct fs_notifier *q = &c->notes;

	if (!n) {
		if (ph)
			fs_poll_destroy(ph);
		return; /* the kernel's timeouts still bound what it keeps */
	}
	n->next = NULL;
	n->kind = kind;
	n->ph = ph;
	memcpy(n->path, path ? path : "", len);
	pthread_mutex_lock(&q->mu);
	*q->tail = n;
	q->tail = &n->next;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void
fs_note_send(struct fs_ctx *c, struct fs_note *n)
{
	uint64_t ino;
	const char *slash;

	switch (n->kind) {
	case NOTE_POLL:
		fuse_lowlevel_notify_poll(n->ph);
		fuse_pollhandle_destroy(n->ph);
		break;
	case NOTE_INODE:
		ino = inode_find(c->inodes, n->path);
		if (ino && c->se) {
			inode_swap_version(c->inodes, ino, 0);
			fuse_lowlevel_notify_inval_inode(c->se, ino, 0, 0);
		}
		break;
	case NOTE_GONE:
		/* only names at the root go: the kernel drops what is below */
		slash = strrchr(n->path, '/');
		if (c->se && slash == n->path && inode_find(c->inodes, n->path))
			fuse_lowlevel_notify_inval_entry(c->se, INODE_ROOT, slash + 1,
							 strlen(slash + 1));
		break;
	}
}

static void *
fs_notifier_main(void *arg)
{
	struct fs_ctx *c = arg;
	struct fs_notifier *q = &c->notes;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct fs_note *n = q->head;

		if (!n) {
			if (q->stop)
				break;
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		q->head = n->next;
		if (!q->head)
			q->tail = &q->head;
		pthread_mutex_unlock(&q->mu);
		fs_note_send(c, n);
		free(n);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

void
fs_ctx_init(struct fs_ctx *c)
{
	pthread_mutex_init(&c->dirs_mu, NULL);
	c->dirs = NULL;
	pthread_mutex_init(&c->notes.mu, NULL);
	pthread_cond_init(&c->notes.cv, NULL);
	c->notes.head = NULL;
	c->notes.tail = &c->notes.head;
}

void
fs_ctx_destroy(struct fs_ctx *c)
{
	struct fs_note *n;

	while ((n = c->notes.head) != NULL) {
		c->notes.head = n->next;
		if (n->ph)
			fuse_pollhandle_destroy(n->ph);
		free(n);
	}
	pthread_cond_destroy(&c->notes.cv);
	pthread_mutex_destroy(&c->notes.mu);
	while (c->dirs) {
		struct fs_dir *d = c->dirs;

		c->dirs = d->next;
		fs_dir_free(d);
	}
	pthread_mutex_destroy(&c->dirs_mu);
}

static void
fs_notifier_start(struct fs_ctx *c)
{
	pthread_mutex_lock(&c->notes.mu);
	c->notes.stop = 0;
	c->notes.running = pthread_create(&c->notes.thread, NULL, fs_notifier_main, c) == 0;
	pthread_mutex_unlock(&c->notes.mu);
}

/* Send what is queued, then end the thread. */
static void
fs_notifier_stop(struct fs_ctx *c)
{
	int running;

	pthread_mutex_lock(&c->notes.mu);
	c->notes.stop = 1;
	running = c->notes.running;
	c->notes.running = 0;
	pthread_cond_signal(&c->notes.cv);
	pthread_mutex_unlock(&c->notes.mu);
	if (running)
		pthread_join(c->notes.thread, NULL);
}

void
fs_poll_notify(void *arg, void *ph)
{
	/* behind the invalidations queued before it: a woken poller that
	 * reads again must not get pages the kernel still holds */
	fs_note_push(arg, NOTE_POLL, NULL, ph);
}

void
fs_poll_destroy(void *ph)
{
	fuse_pollhandle_destroy(ph);
}

void
fs_invalidate(void *arg, const char *path)
{
	struct fs_ctx *c = arg;
	uint64_t ino = inode_find(c->inodes, path);

	/* attributes and cached pages; a path the kernel does not hold is
	 * not cached anywhere */
	if (ino && c->se) {
		inode_swap_version(c->inodes, ino, 0);
		fuse_lowlevel_notify_inval_inode(c->se, ino, 0, 0);
	}
}

void
fs_invalidate_later(void *arg, const char *path, int gone)
{
	fs_note_push(arg, gone ? NOTE_GONE : NOTE_INODE, path, NULL);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.destroy = fs_destroy,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.create = fs_create,
	.poll = fs_poll,
};

/* libfuse's own messages go to our log, at their level. Two are not
 * errors for us: reading the device fails with ECONNABORTED when a lazy
 * unmount aborts the connection while requests are in flight, and the
 * session loop's caller treats that as a clean end (main_run); and once
 * the session ends, a reply still owed finds the device closed. Both
 * are logged as information. (libfuse 3.14 reports a failed read of the
 * device with perror(3) instead, which no log function sees: that line
 * reaches stderr as "fuse: reading device: ...".) */
static void
fs_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	enum log_level lvl = LOG_LVL_DEBUG;
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (level <= FUSE_LOG_ERR)
		lvl = LOG_LVL_ERR;
	else if (level == FUSE_LOG_WARNING)
		lvl = LOG_LVL_WARN;
	else if (level <= FUSE_LOG_INFO)
		lvl = LOG_LVL_INFO;
	if (lvl <= LOG_LVL_WARN && (strstr(line, strerror(ECONNABORTED)) ||
				    __atomic_load_n(&fs_ending, __ATOMIC_RELAXED)))
		lvl = LOG_LVL_INFO;
	log_msg(lvl, "%s", line);
}

struct fuse_session *
fs_session_new(struct fuse_args *args, struct fs_ctx *c)
{
	fuse_set_log_func(fs_fuse_log);
	c->se = fuse_session_new(args, &fs_ops, sizeof(fs_ops), c);
	return c->se;
}
