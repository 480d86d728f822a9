/*
 * fs: thin FUSE glue. Dynamic files are opened with direct_io so that a
 * size change between stat and read never truncates what a reader sees.
 */
#include "fs.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static struct fs_ctx *
fs_ctx(void)
{
	return fuse_get_context()->private_data;
}

static void
fs_fill_stat(const struct fs_ctx *c, const struct vfs_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = (a->is_dir ? S_IFDIR : a->is_link ? S_IFLNK : S_IFREG) | a->mode;
	st->st_nlink = a->is_dir ? 2 : 1;
	st->st_size = a->size;
	st->st_uid = c->uid;
	st->st_gid = c->gid;
	st->st_blksize = 4096;
	st->st_blocks = (a->size + 511) / 512;
	st->st_mtime = st->st_ctime = st->st_atime = a->mtime;
}

static void *
fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fs_ctx *c = fs_ctx();

	(void)conn;
	cfg->entry_timeout = c->kernel_timeout;
	cfg->attr_timeout = c->kernel_timeout;
	/* a name that appears must appear at once */
	cfg->negative_timeout = 0;
	cfg->direct_io = 0;
	cfg->hard_remove = 1;
	/* threads start here, not before fuse_daemonize() forks */
	if (vfs_start(c->vfs) < 0)
		fprintf(stderr, "exalsiusfs: could not start the poll thread\n");
	return c;
}

static void
fs_destroy(void *data)
{
	struct fs_ctx *c = data;

	vfs_stop(c->vfs);
}

static int
fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct vfs_attr a;
	int rc;

	(void)fi;
	rc = vfs_getattr(fs_ctx()->vfs, path, &a);
	if (rc == 0)
		fs_fill_stat(fs_ctx(), &a, st);
	return rc;
}

struct fs_dir {
	void *buf;
	fuse_fill_dir_t filler;
	const struct fs_ctx *c;
};

static int
fs_dir_fill(void *ctx, const char *name, const struct vfs_attr *a)
{
	struct fs_dir *d = ctx;
	struct stat st;

	fs_fill_stat(d->c, a, &st);
	return d->filler(d->buf, name, &st, 0, 0);
}

static int
fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
	   struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs_dir d = { buf, filler, fs_ctx() };

	(void)off;
	(void)fi;
	(void)flags;
	return vfs_readdir(fs_ctx()->vfs, path, fs_dir_fill, &d);
}

static int
fs_open(const char *path, struct fuse_file_info *fi)
{
	struct vfs_file *f;
	int rc;

	rc = vfs_open(fs_ctx()->vfs, path, fi->flags, &f);
	if (rc < 0)
		return rc;
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	/* close(2) of a reader has nothing to report: spare the round trip */
	fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY;
	return 0;
}

static struct vfs_file *
fs_file(struct fuse_file_info *fi)
{
	return (struct vfs_file *)(uintptr_t)fi->fh;
}

static int
fs_read(const char *path, char *buf, size_t size, off_t off,
	struct fuse_file_info *fi)
{
	(void)path;
	return vfs_read(fs_ctx()->vfs, fs_file(fi), buf, size, off);
}

static int
fs_write(const char *path, const char *buf, size_t size, off_t off,
	 struct fuse_file_info *fi)
{
	(void)path;
	return vfs_write(fs_ctx()->vfs, fs_file(fi), buf, size, off);
}

static int
fs_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	return vfs_flush(fs_ctx()->vfs, fs_file(fi));
}

static int
fs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	vfs_release(fs_ctx()->vfs, fs_file(fi));
	return 0;
}

static int
fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	return vfs_truncate(fs_ctx()->vfs, path, size, fi ? fs_file(fi) : NULL);
}

static int
fs_mkdir(const char *path, mode_t mode)
{
	(void)mode;
	return vfs_mkdir(fs_ctx()->vfs, path);
}

static int
fs_rmdir(const char *path)
{
	return vfs_rmdir(fs_ctx()->vfs, path);
}

static int
fs_unlink(const char *path)
{
	return vfs_unlink(fs_ctx()->vfs, path);
}

static int
fs_rename(const char *from, const char *to, unsigned int flags)
{
	if (flags)
		return -EINVAL;	/* no RENAME_EXCHANGE / NOREPLACE */
	return vfs_rename(fs_ctx()->vfs, from, to);
}

static int
fs_readlink(const char *path, char *buf, size_t size)
{
	return vfs_readlink(fs_ctx()->vfs, path, buf, size);
}

static int
fs_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph,
	unsigned *reventsp)
{
	(void)path;
	return vfs_poll(fs_ctx()->vfs, fs_file(fi), ph, reventsp);
}

static int
fs_link(const char *from, const char *to)
{
	(void)to;
	return vfs_refuse(fs_ctx()->vfs, from);
}

static int
fs_symlink(const char *target, const char *path)
{
	(void)target;
	(void)path;
	return vfs_is_ro(fs_ctx()->vfs) ? -EROFS : -EPERM;
}

static int
fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	(void)fi;
	return vfs_chmod(fs_ctx()->vfs, path);
}

static int
fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)uid;
	(void)gid;
	(void)fi;
	return vfs_chmod(fs_ctx()->vfs, path);
}

static int
fs_utimens(const char *path, const struct timespec tv[2],
	   struct fuse_file_info *fi)
{
	struct vfs_attr a;

	(void)tv;
	(void)fi;
	/* touch(1) on an existing file succeeds; times are the mount's own */
	return vfs_getattr(fs_ctx()->vfs, path, &a);
}

static int
fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct vfs_file *f;
	int rc;

	(void)mode;
	/* only editors' temporary files in drafts; elsewhere EPERM */
	rc = vfs_create(fs_ctx()->vfs, path, fi->flags, &f);
	if (rc < 0)
		return rc;
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->direct_io = 1;
	return 0;
}

static int
fs_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)mode;
	(void)dev;
	(void)path;
	return vfs_is_ro(fs_ctx()->vfs) ? -EROFS : -EPERM;
}

void
fs_poll_notify(void *ph)
{
	fuse_notify_poll(ph);
	fuse_pollhandle_destroy(ph);
}

void
fs_poll_destroy(void *ph)
{
	fuse_pollhandle_destroy(ph);
}

void
fs_invalidate(const char *path)
{
	/* only attributes: contents are read with direct I/O anyway; a path
	 * the kernel does not know is simply not cached */
	fuse_invalidate_path(fuse_get_context()->fuse, path);
}

int
fs_interrupted(void)
{
	return fuse_interrupted();
}

const struct fuse_operations fs_ops = {
	.init = fs_init,
	.destroy = fs_destroy,
	.readlink = fs_readlink,
	.poll = fs_poll,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.truncate = fs_truncate,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.unlink = fs_unlink,
	.rename = fs_rename,
	.link = fs_link,
	.symlink = fs_symlink,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
	.create = fs_create,
	.mknod = fs_mknod,
};
