/*
 * inode: two chained hash tables over one set of nodes, by number and by
 * path. Numbers are never reused within a mount (a 64-bit counter), so a
 * stale number the kernel still sends can never reach another file.
 */
#include "inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inode {
	uint64_t ino;
	uint64_t nlookup;
	unsigned long long version; /* what the kernel may cache */
	char *path; /* the block's own bytes after the struct; NULL once unlinked */
	struct inode *next_ino;
	struct inode *next_path;
};

/* A node and its path in one block (one allocation per inode: 400,000
 * of them after a sweep of 100,000 workspaces); NULL when out of memory. */
static struct inode *
inode_alloc(const char *path)
{
	size_t len = strlen(path) + 1;
	struct inode *n = malloc(sizeof(*n) + len);

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->path = memcpy((char *)(n + 1), path, len);
	return n;
}

struct inode_table {
	pthread_mutex_t mu;
	size_t cap; /* guarded by mu: buckets, power of two */
	size_t count; /* guarded by mu */
	uint64_t next; /* guarded by mu: the next number */
	struct inode **by_ino; /* guarded by mu */
	struct inode **by_path; /* guarded by mu */
};

static size_t
inode_hash_ino(uint64_t ino, size_t cap)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static size_t
inode_hash_path(const char *p, size_t cap)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct inode *
inode_get(const struct inode_table *t, uint64_t ino)
{
	struct inode *n = t->by_ino[inode_hash_ino(ino, t->cap)];

	while (n && n->ino != ino)
		n = n->next_ino;
	return n;
}

static struct inode *
inode_get_path(const struct inode_table *t, const char *path)
{
	struct inode *n = t->by_path[inode_hash_path(path, t->cap)];

	while (n && strcmp(n->path, path) != 0)
		n = n->next_path;
	return n;
}

static void
inode_link_path(struct inode_table *t, struct inode *n)
{
	size_t b = inode_hash_path(n->path, t->cap);

	n->next_path = t->by_path[b];
	t->by_path[b] = n;
}

static void
inode_unlink_path(struct inode_table *t, struct inode *n)
{
	struct inode **pp = &t->by_path[inode_hash_path(n->path, t->cap)];

	while (*pp && *pp != n)
		pp = &(*pp)->next_path;
	if (*pp)
		*pp = n->next_path;
	n->path = NULL;
}

/* Double the buckets when the table is full; failure leaves it as it was
 * (longer chains, still correct). */
static void
inode_grow(struct inode_table *t)
{
	size_t cap = t->cap * 2;
	struct inode **bi = calloc(cap, sizeof(*bi));
	struct inode **bp = calloc(cap, sizeof(*bp));

	if (!bi || !bp) {
		free(bi);
		free(bp);
		return;
	}
	for (size_t i = 0; i < t->cap; i++) {
		struct inode *n = t->by_ino[i], *next;

		for (; n; n = next) {
			size_t b = inode_hash_ino(n->ino, cap);

			next = n->next_ino;
			n->next_ino = bi[b];
			bi[b] = n;
			if (n->path) {
				b = inode_hash_path(n->path, cap);
				n->next_path = bp[b];
				bp[b] = n;
			}
		}
	}
	free(t->by_ino);
	free(t->by_path);
	t->by_ino = bi;
	t->by_path = bp;
	t->cap = cap;
}

static struct inode *
inode_add(struct inode_table *t, const char *path)
{
	struct inode *n = inode_alloc(path);
	size_t b;

	if (!n)
		return NULL;
	if (t->count >= t->cap)
		inode_grow(t);
	n->ino = t->next++;
	b = inode_hash_ino(n->ino, t->cap);
	n->next_ino = t->by_ino[b];
	t->by_ino[b] = n;
	inode_link_path(t, n);
	t->count++;
	return n;
}

struct inode_table *
inode_table_new(void)
{
	struct inode_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	t->cap = 64;
	t->next = INODE_ROOT;
	t->by_ino = calloc(t->cap, sizeof(*t->by_ino));
	t->by_path = calloc(t->cap, sizeof(*t->by_path));
	if (!t->by_ino || !t->by_path || !inode_add(t, "/")) {
		inode_table_free(t);
		return NULL;
	}
	return t;
}

void
inode_table_free(struct inode_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->by_ino && i < t->cap; i++) {
		struct inode *n = t->by_ino[i], *next;

		for (; n; n = next) {
			next = n->next_ino;
			free(n);
		}
	}
	free(t->by_ino);
	free(t->by_path);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* parent's path joined with name, under mu. */
static int
inode_join_locked(struct inode_table *t, uint64_t parent, const char *name,
		  char *buf, size_t size)
{
	struct inode *p = inode_get(t, parent);
	int k;

	if (!p || !p->path)
		return -ENOENT;
	if (strchr(name, '/') || strlen(name) > 255)
		return -ENAMETOOLONG;
	k = snprintf(buf, size, "%s%s%s", p->path,
		     strcmp(p->path, "/") == 0 ? "" : "/", name);
	return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 0;
}

int
inode_path(struct inode_table *t, uint64_t ino, char *buf, size_t size)
{
	struct inode *n;
	int rc = -ENOENT;

	pthread_mutex_lock(&t->mu);
	n = inode_get(t, ino);
	if (n && n->path)
		rc = snprintf(buf, size, "%s", n->path) >= (int)size ? -ENAMETOOLONG : 0;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int
inode_child_path(struct inode_table *t, uint64_t parent, const char *name,
		 char *buf, size_t size)
{
	int rc;

	pthread_mutex_lock(&t->mu);
	rc = inode_join_locked(t, parent, name, buf, size);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int
inode_lookup(struct inode_table *t, uint64_t parent, const char *name,
	     uint64_t *ino)
{
	char path[INODE_PATH_MAX];
	struct inode *n;
	int rc;

	pthread_mutex_lock(&t->mu);
	rc = inode_join_locked(t, parent, name, path, sizeof(path));
	if (rc == 0) {
		n = inode_get_path(t, path);
		if (!n)
			n = inode_add(t, path);
		if (n) {
			n->nlookup++;
			*ino = n->ino;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void
inode_forget(struct inode_table *t, uint64_t ino, uint64_t nlookup)
{
	struct inode **pp, *n;

	if (ino == INODE_ROOT)
		return;
	pthread_mutex_lock(&t->mu);
	pp = &t->by_ino[inode_hash_ino(ino, t->cap)];
	while ((n = *pp) != NULL && n->ino != ino)
		pp = &n->next_ino;
	if (n) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		if (n->nlookup == 0) {
			*pp = n->next_ino;
			if (n->path)
				inode_unlink_path(t, n);
			free(n);
			t->count--;
		}
	}
	pthread_mutex_unlock(&t->mu);
}

uint64_t
inode_find(struct inode_table *t, const char *path)
{
	struct inode *n;
	uint64_t ino;

	pthread_mutex_lock(&t->mu);
	n = inode_get_path(t, path);
	ino = n ? n->ino : 0;
	pthread_mutex_unlock(&t->mu);
	return ino;
}

void
inode_unlink(struct inode_table *t, uint64_t parent, const char *name)
{
	char path[INODE_PATH_MAX];
	struct inode *n;

	pthread_mutex_lock(&t->mu);
	if (inode_join_locked(t, parent, name, path, sizeof(path)) == 0 &&
	    (n = inode_get_path(t, path)) != NULL && n->ino != INODE_ROOT)
		inode_unlink_path(t, n);
	pthread_mutex_unlock(&t->mu);
}

int
inode_rename(struct inode_table *t, uint64_t parent, const char *name,
	     uint64_t newparent, const char *newname)
{
	char from[INODE_PATH_MAX], to[INODE_PATH_MAX];
	struct inode *src = NULL, *dst, *moved = NULL, **pp;
	int rc;

	pthread_mutex_lock(&t->mu);
	rc = inode_join_locked(t, parent, name, from, sizeof(from));
	if (rc == 0)
		rc = inode_join_locked(t, newparent, newname, to, sizeof(to));
	if (rc == 0) {
		src = inode_get_path(t, from);
		moved = src ? inode_alloc(to) : NULL;
		rc = !src ? -ENOENT : !moved ? -ENOMEM
					     : 0;
	}
	if (rc == 0) {
		/* the node moves to a block with the new path, same number */
		dst = inode_get_path(t, to);
		if (dst && dst != src)
			inode_unlink_path(t, dst);
		inode_unlink_path(t, src);
		pp = &t->by_ino[inode_hash_ino(src->ino, t->cap)];
		while (*pp != src)
			pp = &(*pp)->next_ino;
		moved->ino = src->ino;
		moved->nlookup = src->nlookup;
		moved->version = src->version;
		moved->next_ino = src->next_ino;
		*pp = moved;
		free(src);
		inode_link_path(t, moved);
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

unsigned long long
inode_swap_version(struct inode_table *t, uint64_t ino, unsigned long long version)
{
	unsigned long long old = 0;
	struct inode *n;

	pthread_mutex_lock(&t->mu);
	n = inode_get(t, ino);
	if (n) {
		old = n->version;
		n->version = version;
	}
	pthread_mutex_unlock(&t->mu);
	return old;
}

size_t
inode_count(struct inode_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->count;
	pthread_mutex_unlock(&t->mu);
	return n;
}
