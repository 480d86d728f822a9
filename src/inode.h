/*
 * inode: the mount's inode numbers. Each inode is bound to one path in
 * the mount (the names themselves stay put for the mount's lifetime, see
 * path.h and snap.h) and counts the kernel's lookups; it is freed when the
 * kernel forgets the last one. No FUSE types: numbers in, numbers out.
 *
 * Locks: one mutex inside the table guards everything; no call blocks.
 */
#ifndef EXFS_INODE_H
#define EXFS_INODE_H

#include <stddef.h>
#include <stdint.h>

#define INODE_ROOT 1 /* FUSE_ROOT_ID */
#define INODE_PATH_MAX 1024 /* three components of 255 bytes and slashes */

struct inode_table;

/* A table holding only the root ("/"), which is never forgotten. */
struct inode_table *inode_table_new(void);
void inode_table_free(struct inode_table *t);

/* The path of ino into buf; -ENOENT when ino is unknown (forgotten) or
 * was unlinked, -ENAMETOOLONG when buf is too small. */
int inode_path(struct inode_table *t, uint64_t ino, char *buf, size_t size);
/* The path of name inside directory parent into buf (not looked up). */
int inode_child_path(struct inode_table *t, uint64_t parent, const char *name,
		     char *buf, size_t size);
/* The inode of name in parent, made if absent, with its lookup count
 * raised by one (the kernel now holds it): 0 and *ino, or -errno. */
int inode_lookup(struct inode_table *t, uint64_t parent, const char *name,
		 uint64_t *ino);
/* The kernel dropped n lookups of ino; at zero the inode is freed. */
void inode_forget(struct inode_table *t, uint64_t ino, uint64_t n);
/* The inode bound to path now, or 0 (nothing is made). */
uint64_t inode_find(struct inode_table *t, const char *path);
/* name in parent is gone: its inode stays valid for open handles but no
 * longer resolves to a path. */
void inode_unlink(struct inode_table *t, uint64_t parent, const char *name);
/* Move the binding of parent/name to newparent/newname (the inode that
 * held the target is unlinked). */
int inode_rename(struct inode_table *t, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname);
/* Record version as what the kernel may cache of ino's pages; returns the
 * version recorded before (0: none, or ino unknown). */
unsigned long long inode_swap_version(struct inode_table *t, uint64_t ino,
				      unsigned long long version);
/* Inodes alive (the root included), for tests and .stats. */
size_t inode_count(struct inode_table *t);

#endif
