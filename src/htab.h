/*
 * htab: an insert-only hash table from NUL-terminated strings to pointers,
 * open addressing with linear probing. Keys are borrowed: they must outlive
 * the table (they normally live inside the values). Not thread-safe; the
 * snapshots that use it are immutable once built.
 */
#ifndef EXFS_HTAB_H
#define EXFS_HTAB_H

#include <stddef.h>

struct htab {
	size_t cap;		/* power of two, 0 when empty */
	size_t len;
	const char **keys;
	void **vals;
};

/* Prepare an empty table sized for about n entries; 0 or -ENOMEM. */
int htab_init(struct htab *h, size_t n);
/* Insert key unless present; 0 inserted, -EEXIST present, -ENOMEM. */
int htab_put(struct htab *h, const char *key, void *val);
/* The value for key, or NULL. */
void *htab_get(const struct htab *h, const char *key);
/* Release the table's arrays (not keys or values). */
void htab_free(struct htab *h);

#endif
