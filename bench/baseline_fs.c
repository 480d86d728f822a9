/*
 * baseline_fs: the FUSE floor for the exalsiusfs benchmark.
 *
 * A minimal, read-only, in-memory libfuse3 high-level filesystem. At start
 * it loads a directory tree (for the benchmark: a copy of an exalsiusfs
 * mount made by bench_helper.py copytree: directories, regular files and
 * symbolic links with their modes and mtimes) into memory and then serves
 * it with the same kernel cache settings as exalsiusfs, so that timing the same sweep over
 * both shows what exalsiusfs adds on top of FUSE itself.
 *
 *   baseline_fs -f -o tree=DIR[,entry_timeout=S,attr_timeout=S,
 *               negative_timeout=S,dio=0|1,flush=0|1,noflush=0|1,
 *               diroff=0|1] MOUNTPOINT
 *
 * Defaults mirror exalsiusfs (src/fs.c fs_init/fs_open, src/main.c):
 * entry/attr/negative timeouts 0, files opened with direct_io, kernel page
 * cache not kept, hard_remove, and the same multithreaded loop setup
 * (max_idle_threads capped as exalsiusfs does). Like exalsiusfs, readdir
 * hands the kernel a stat per entry with flags 0, and getattr reports the
 * mounting user as owner, nlink 2/1, blksize 4096.
 *
 * flush=1 adds a no-op flush callback (exalsiusfs implements flush, so the
 * kernel sends FLUSH on every close); flush=0 (default) leaves it out, as a
 * minimal read-only filesystem would, and the kernel stops sending FLUSH
 * after the first ENOSYS. noflush=1 sets fi->noflush on open (FOPEN_NOFLUSH).
 * diroff=1 makes readdir pass offsets to the filler, so that libfuse calls
 * it once per chunk; with offset 0 (the default, as exalsiusfs does)
 * libfuse buffers the whole directory and, for READDIRPLUS, walks that
 * list from its head for every chunk: O(n^2) for a large directory.
 *
 * Build: cc -O2 -Wall -Wextra -Werror bench/baseline_fs.c \
 *            $(pkg-config --cflags --libs fuse3) -o build/baseline_fs
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE

#include <fuse.h>
#include <fuse_lowlevel.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct bnode {
	char *path;		/* "/", "/a", "/a/b": the key */
	const char *name;	/* last component, points into path */
	int is_dir;
	int is_link;		/* data holds the target */
	mode_t mode;		/* permission bits */
	time_t mtime;
	char *data;		/* file content */
	size_t len;
	struct bnode **kids;	/* directory entries, in load order */
	size_t nkids, capkids;
	struct bnode *hnext;	/* hash chain */
};

struct bopts {
	char *tree;
	double entry_timeout;
	double attr_timeout;
	double negative_timeout;
	int dio;
	int flush;
	int noflush;
	int diroff;
	int help;
};

static struct bnode **htab;
static size_t hsize;
static size_t nnodes;
static struct bopts opts = { NULL, 0.0, 0.0, 0.0, 1, 0, 0, 0, 0 };
static uid_t my_uid;
static gid_t my_gid;

#define BOPT(t, p) { t, offsetof(struct bopts, p), 1 }
static const struct fuse_opt bopt_spec[] = {
	BOPT("tree=%s", tree),
	BOPT("entry_timeout=%lf", entry_timeout),
	BOPT("attr_timeout=%lf", attr_timeout),
	BOPT("negative_timeout=%lf", negative_timeout),
	BOPT("dio=%d", dio),
	BOPT("flush=%d", flush),
	BOPT("noflush=%d", noflush),
	BOPT("diroff=%d", diroff),
	BOPT("-h", help),
	BOPT("--help", help),
	FUSE_OPT_END
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct bnode *
lookup(const char *path)
{
	struct bnode *n;

	for (n = htab[hash_str(path) & (hsize - 1)]; n; n = n->hnext)
		if (strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

static void
oom(void)
{
	fprintf(stderr, "baseline_fs: out of memory\n");
	exit(1);
}

static void
hash_insert(struct bnode *n)
{
	size_t i;

	if ((nnodes + 1) * 2 > hsize) {
		size_t nsize = hsize ? hsize * 2 : 1024;
		struct bnode **nt = calloc(nsize, sizeof(*nt));

		if (!nt)
			oom();
		for (i = 0; i < hsize; i++) {
			struct bnode *c = htab[i], *next;

			for (; c; c = next) {
				size_t j = hash_str(c->path) & (nsize - 1);

				next = c->hnext;
				c->hnext = nt[j];
				nt[j] = c;
			}
		}
		free(htab);
		htab = nt;
		hsize = nsize;
	}
	i = hash_str(n->path) & (hsize - 1);
	n->hnext = htab[i];
	htab[i] = n;
	nnodes++;
}

static void
add_kid(struct bnode *dir, struct bnode *kid)
{
	if (dir->nkids == dir->capkids) {
		size_t ncap = dir->capkids ? dir->capkids * 2 : 8;
		struct bnode **nk = realloc(dir->kids, ncap * sizeof(*nk));

		if (!nk)
			oom();
		dir->kids = nk;
		dir->capkids = ncap;
	}
	dir->kids[dir->nkids++] = kid;
}

static struct bnode *
new_node(const char *path, const struct stat *st)
{
	struct bnode *n = calloc(1, sizeof(*n));
	const char *slash;

	if (!n || !(n->path = strdup(path)))
		oom();
	slash = strrchr(n->path, '/');
	n->name = slash && slash[1] ? slash + 1 : n->path;
	n->is_dir = S_ISDIR(st->st_mode);
	n->is_link = S_ISLNK(st->st_mode);
	n->mode = st->st_mode & 07777;
	n->mtime = st->st_mtime;
	hash_insert(n);
	return n;
}

static int
read_all(const char *real, struct bnode *n)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(real, O_RDONLY);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				oom();
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	n->data = buf;
	n->len = len;
	return 0;
}

/* Load real directory `real` as node `dir` (whose path is `vpath`). */
static int
load_dir(const char *real, struct bnode *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (depth > 16)
		return -1;
	d = opendir(real);
	if (!d) {
		perror(real);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char rpath[PATH_MAX], vpath[PATH_MAX];
		struct stat st;
		struct bnode *kid;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(rpath, sizeof(rpath), "%s/%s", real, de->d_name) >= (int)sizeof(rpath) ||
		    snprintf(vpath, sizeof(vpath), "%s/%s",
			     strcmp(dir->path, "/") == 0 ? "" : dir->path,
			     de->d_name) >= (int)sizeof(vpath)) {
			fprintf(stderr, "baseline_fs: path too long under %s\n", real);
			rc = -1;
			break;
		}
		if (lstat(rpath, &st) != 0) {
			perror(rpath);
			rc = -1;
			break;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			continue;
		kid = new_node(vpath, &st);
		add_kid(dir, kid);
		if (kid->is_dir) {
			rc = load_dir(rpath, kid, depth + 1);
		} else if (kid->is_link) {
			char target[PATH_MAX];
			ssize_t tl = readlink(rpath, target, sizeof(target) - 1);

			if (tl < 0) {
				perror(rpath);
				rc = -1;
			} else if (!(kid->data = strndup(target, (size_t)tl))) {
				oom();
			} else {
				kid->len = (size_t)tl;
				kid->mode = 0777;
			}
		} else if (read_all(rpath, kid) != 0) {
			perror(rpath);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

static void
fill_stat(const struct bnode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = (n->is_dir ? S_IFDIR : n->is_link ? S_IFLNK : S_IFREG) | n->mode;
	st->st_nlink = n->is_dir ? 2 : 1;
	st->st_size = (off_t)n->len;
	st->st_uid = my_uid;
	st->st_gid = my_gid;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtime = st->st_ctime = st->st_atime = n->mtime;
}

static void *
b_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = opts.entry_timeout;
	cfg->attr_timeout = opts.attr_timeout;
	cfg->negative_timeout = opts.negative_timeout;
	cfg->direct_io = 0;
	cfg->hard_remove = 1;
	return NULL;
}

static int
b_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const struct bnode *n = lookup(path);

	(void)fi;
	if (!n)
		return -ENOENT;
	fill_stat(n, st);
	return 0;
}

static int
b_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
	  struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	const struct bnode *n = lookup(path);
	struct stat st;

	(void)off;
	(void)fi;
	(void)flags;
	if (!n)
		return -ENOENT;
	if (!n->is_dir)
		return -ENOTDIR;
	fill_stat(n, &st);
	if (opts.diroff) {
		/* offset mode: libfuse asks again from `off` for each chunk
		 * instead of buffering the whole directory */
		for (off_t i = off; i < (off_t)n->nkids + 2; i++) {
			const char *name = i == 0 ? "." : i == 1 ? ".." : n->kids[i - 2]->name;

			if (i >= 2)
				fill_stat(n->kids[i - 2], &st);
			if (filler(buf, name, &st, i + 1, 0))
				break;
		}
		return 0;
	}
	if (filler(buf, ".", &st, 0, 0) || filler(buf, "..", &st, 0, 0))
		return 0;
	for (size_t i = 0; i < n->nkids; i++) {
		fill_stat(n->kids[i], &st);
		if (filler(buf, n->kids[i]->name, &st, 0, 0))
			break;
	}
	return 0;
}

static int
b_readlink(const char *path, char *buf, size_t size)
{
	const struct bnode *n = lookup(path);
	size_t len;

	if (!n)
		return -ENOENT;
	if (!n->is_link)
		return -EINVAL;
	if (size == 0)
		return -EINVAL;
	len = n->len < size - 1 ? n->len : size - 1;
	memcpy(buf, n->data, len);
	buf[len] = '\0';
	return 0;
}

static int
b_open(const char *path, struct fuse_file_info *fi)
{
	const struct bnode *n = lookup(path);

	if (!n)
		return -ENOENT;
	if (n->is_dir)
		return -EISDIR;
	if (n->is_link)
		return -ELOOP;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	fi->fh = (uint64_t)(uintptr_t)n;
	fi->direct_io = opts.dio ? 1 : 0;
	fi->keep_cache = 0;
	fi->noflush = opts.noflush ? 1 : 0;
	return 0;
}

static int
b_read(const char *path, char *buf, size_t size, off_t off,
       struct fuse_file_info *fi)
{
	const struct bnode *n = (const struct bnode *)(uintptr_t)fi->fh;

	(void)path;
	if (off < 0 || (size_t)off >= n->len)
		return 0;
	if (size > n->len - (size_t)off)
		size = n->len - (size_t)off;
	memcpy(buf, n->data + off, size);
	return (int)size;
}

static int
b_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

static struct fuse_operations b_ops = {
	.init = b_init,
	.readlink = b_readlink,
	.getattr = b_getattr,
	.readdir = b_readdir,
	.open = b_open,
	.read = b_read,
};

/* The same loop setup as exalsiusfs's main_run (src/main.c). */
static int
run(struct fuse_args *args)
{
	struct fuse_cmdline_opts co = { 0 };
	struct fuse_loop_config *lc;
	struct fuse *f;
	int rc = 1, res;

	if (fuse_parse_cmdline(args, &co) != 0)
		return 1;
	if (!co.mountpoint) {
		fprintf(stderr, "baseline_fs: no mountpoint\n");
		goto out;
	}
	f = fuse_new(args, &b_ops, sizeof(b_ops), NULL);
	if (!f)
		goto out;
	if (fuse_mount(f, co.mountpoint) != 0)
		goto out_destroy;
	if (fuse_daemonize(co.foreground) != 0 ||
	    fuse_set_signal_handlers(fuse_get_session(f)) != 0)
		goto out_unmount;
	if (co.singlethread) {
		res = fuse_loop(f);
	} else {
		lc = fuse_loop_cfg_create();
		if (!lc)
			goto out_signals;
		fuse_loop_cfg_set_clone_fd(lc, co.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, co.max_threads);
		fuse_loop_cfg_set_idle_threads(lc, co.max_idle_threads < 64 ? co.max_idle_threads : 16);
		res = fuse_loop_mt(f, lc);
		fuse_loop_cfg_destroy(lc);
	}
	if (res == -ECONNABORTED || res == ECONNABORTED)
		res = 0;
	rc = res == 0 ? 0 : 8;
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
out_destroy:
	fuse_destroy(f);
out:
	free(co.mountpoint);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct stat st;
	struct bnode *root;
	int rc;

	if (fuse_opt_parse(&args, &opts, bopt_spec, NULL) < 0)
		return 1;
	if (opts.help || !opts.tree) {
		fprintf(stderr,
			"usage: %s [-f] -o tree=DIR[,entry_timeout=S,attr_timeout=S,"
			"negative_timeout=S,dio=0|1,flush=0|1,noflush=0|1,diroff=0|1] MOUNTPOINT\n",
			argv[0]);
		fuse_opt_free_args(&args);
		return opts.help ? 0 : 2;
	}
	if (opts.flush)
		b_ops.flush = b_flush;
	my_uid = getuid();
	my_gid = getgid();
	if (stat(opts.tree, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "baseline_fs: tree=%s is not a directory\n", opts.tree);
		return 2;
	}
	root = new_node("/", &st);
	if (load_dir(opts.tree, root, 0) != 0) {
		fprintf(stderr, "baseline_fs: cannot load %s\n", opts.tree);
		return 2;
	}
	fprintf(stderr, "baseline_fs: loaded %zu nodes from %s\n", nnodes, opts.tree);
	fuse_opt_add_arg(&args, "-ofsname=baseline_fs,subtype=baseline_fs");
	rc = run(&args);
	fuse_opt_free_args(&args);
	free(opts.tree);
	return rc;
}
