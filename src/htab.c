/*
 * htab: FNV-1a hashing, load factor kept under 1/2 so probes stay short.
 */
#include "htab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
htab_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int
htab_init(struct htab *h, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2 + 1)
		cap <<= 1;
	h->keys = calloc(cap, sizeof(*h->keys));
	h->vals = calloc(cap, sizeof(*h->vals));
	if (!h->keys || !h->vals) {
		free(h->keys);
		free(h->vals);
		h->keys = NULL;
		h->vals = NULL;
		h->cap = h->len = 0;
		return -ENOMEM;
	}
	h->cap = cap;
	h->len = 0;
	return 0;
}

static int
htab_grow(struct htab *h)
{
	struct htab n;

	if (htab_init(&n, h->cap) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->keys[i])
			htab_put(&n, h->keys[i], h->vals[i]);
	htab_free(h);
	*h = n;
	return 0;
}

int
htab_put(struct htab *h, const char *key, void *val)
{
	size_t i;

	if (h->cap == 0 && htab_init(h, 8) < 0)
		return -ENOMEM;
	if ((h->len + 1) * 2 > h->cap && htab_grow(h) < 0)
		return -ENOMEM;
	i = htab_hash(key) & (h->cap - 1);
	while (h->keys[i]) {
		if (strcmp(h->keys[i], key) == 0)
			return -EEXIST;
		i = (i + 1) & (h->cap - 1);
	}
	h->keys[i] = key;
	h->vals[i] = val;
	h->len++;
	return 0;
}

void *
htab_get(const struct htab *h, const char *key)
{
	size_t i;

	if (h->cap == 0)
		return NULL;
	i = htab_hash(key) & (h->cap - 1);
	while (h->keys[i]) {
		if (strcmp(h->keys[i], key) == 0)
			return h->vals[i];
		i = (i + 1) & (h->cap - 1);
	}
	return NULL;
}

void
htab_free(struct htab *h)
{
	free(h->keys);
	free(h->vals);
	h->keys = NULL;
	h->vals = NULL;
	h->cap = h->len = 0;
}
