/*
 * logbuf: see logbuf.h. Invariants: data holds whole lines only, each
 * ending in '\n'; len <= cap after every feed (once trimmed, down to 3/4
 * of the cap, so that trimming is not a copy per line); base + len only
 * grows.
 */
#include "logbuf.h"
#include "model.h"
#include "rfc3339.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* what repeat detection holds stays small (64 x 4096 x 8 bytes at most):
 * later pods' lines are matched as untimed ones, and past 4096 lines at
 * one timestamp a repeat may pass */
#define LOGBUF_PODS_MAX 64
#define LOGBUF_AT_MAX 4096

struct logbuf_pod {
	struct logbuf_pod *next;
	char *name;
	long long newest_us; /* the newest timestamp seen */
	int live; /* since the reconnect, a newer line came: the replay is over */
	uint64_t *at; /* the lines seen at newest_us */
	size_t nat, aat;
};

static uint64_t
logbuf_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
logbuf_init(struct logbuf *lb, size_t cap, int ndjson)
{
	memset(lb, 0, sizeof(*lb));
	lb->cap = cap < 4096 ? 4096 : cap;
	lb->ndjson = ndjson;
}

void
logbuf_free(struct logbuf *lb)
{
	while (lb->pods) {
		struct logbuf_pod *p = lb->pods;

		lb->pods = p->next;
		free(p->name);
		free(p->at);
		free(p);
	}
	free(lb->data);
	free(lb->part);
	memset(lb, 0, sizeof(*lb));
}

static struct logbuf_pod *
logbuf_pod(struct logbuf *lb, const char *name)
{
	struct logbuf_pod *p;
	size_t n = 0;

	for (p = lb->pods; p; p = p->next, n++)
		if (strcmp(p->name, name) == 0)
			return p;
	if (n >= LOGBUF_PODS_MAX)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p)
		p->name = strdup(name);
	if (!p || !p->name) {
		free(p);
		return NULL;
	}
	p->newest_us = -1;
	p->next = lb->pods;
	lb->pods = p;
	return p;
}

static int
logbuf_pod_has(const struct logbuf_pod *p, uint64_t h)
{
	for (size_t i = 0; i < p->nat; i++)
		if (p->at[i] == h)
			return 1;
	return 0;
}

static void
logbuf_pod_add(struct logbuf_pod *p, uint64_t h)
{
	if (p->nat == p->aat) {
		size_t n = p->aat ? p->aat * 2 : 8;
		uint64_t *nv;

		if (n > LOGBUF_AT_MAX)
			return;
		nv = realloc(p->at, n * sizeof(*nv));
		if (!nv)
			return;
		p->at = nv;
		p->aat = n;
	}
	p->at[p->nat++] = h;
}

static int
logbuf_recent_has(const struct logbuf *lb, uint64_t h)
{
	size_t n = lb->nrecent < LOGBUF_RECENT ? lb->nrecent : LOGBUF_RECENT;

	for (size_t i = 0; i < n; i++)
		if (lb->recent[i] == h)
			return 1;
	return 0;
}

/* Whether line l was held before (after a reconnect); notes it as seen. */
static int
logbuf_repeat(struct logbuf *lb, const struct model_log_line *l)
{
	uint64_t h = logbuf_hash(l->text);
	struct logbuf_pod *p = NULL;
	long long us;

	if (rfc3339_parse(l->timestamp, &us) == 0)
		p = logbuf_pod(lb, l->pod);
	if (!p) {
		if (lb->replay && logbuf_recent_has(lb, h))
			return 1;
		lb->recent[lb->nrecent++ % LOGBUF_RECENT] = h;
		return 0;
	}
	if (lb->replay && !p->live &&
	    (us < p->newest_us || (us == p->newest_us && logbuf_pod_has(p, h))))
		return 1;
	/* the first line newer than any held ends this pod's replay: later
	 * ones are new whatever their order */
	if (lb->replay && us > p->newest_us)
		p->live = 1;
	if (us > p->newest_us) {
		p->newest_us = us;
		p->nat = 0;
	}
	if (us == p->newest_us)
		logbuf_pod_add(p, h);
	return 0;
}

/* Drop the oldest whole lines down to 3/4 of the cap. */
static void
logbuf_trim(struct logbuf *lb)
{
	size_t want = lb->cap / 4 * 3, cut;
	const char *nl;

	if (lb->len <= lb->cap)
		return;
	cut = lb->len - want;
	nl = memchr(lb->data + cut - 1, '\n', lb->len - (cut - 1));
	cut = nl ? (size_t)(nl - lb->data) + 1 : lb->len;
	memmove(lb->data, lb->data + cut, lb->len - cut);
	lb->len -= cut;
	lb->base += cut;
}

/* Room for need bytes in *buf (*alloc of them), doubling from first. */
static int
logbuf_reserve(char **buf, size_t *alloc, size_t need, size_t first)
{
	size_t a = *alloc ? *alloc : first;
	char *p;

	if (need <= *alloc)
		return 0;
	while (a < need)
		a *= 2;
	p = realloc(*buf, a);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*alloc = a;
	return 0;
}

static int
logbuf_append(struct logbuf *lb, const char *s, size_t n)
{
	if (logbuf_reserve(&lb->data, &lb->alloc, lb->len + n + 1, 4096) < 0)
		return -ENOMEM;
	memcpy(lb->data + lb->len, s, n);
	lb->data[lb->len + n] = '\n';
	lb->len += n + 1;
	logbuf_trim(lb);
	return 0;
}

/* One complete raw line: the bytes the file grew by, or -ENOMEM. */
static long
logbuf_line(struct logbuf *lb, const char *raw, size_t n)
{
	struct model_log_line l;
	const char *out;
	long grew = 0;
	int rc;

	while (n > 0 && (raw[n - 1] == '\r' || raw[n - 1] == ' '))
		n--;
	if (n == 0)
		return 0;
	rc = model_log_line(raw, n, &l);
	if (rc == -ENOMEM)
		return -ENOMEM;
	if (rc < 0) {
		lb->skipped++;
		return 0;
	}
	if (logbuf_repeat(lb, &l)) {
		lb->repeats++;
	} else {
		out = lb->ndjson ? l.raw : l.text;
		grew = (long)strlen(out) + 1;
		if (logbuf_append(lb, out, strlen(out)) < 0)
			grew = -ENOMEM;
		else
			lb->lines++;
	}
	model_log_line_free(&l);
	return grew;
}

static int
logbuf_part_add(struct logbuf *lb, const char *s, size_t n)
{
	if (lb->part_too_long)
		return 0;
	if (lb->plen + n > LOGBUF_LINE_MAX) {
		lb->part_too_long = 1;
		lb->plen = 0;
		return 0;
	}
	if (logbuf_reserve(&lb->part, &lb->palloc, lb->plen + n, 1024) < 0)
		return -ENOMEM;
	memcpy(lb->part + lb->plen, s, n);
	lb->plen += n;
	return 0;
}

long
logbuf_feed(struct logbuf *lb, const char *buf, size_t n)
{
	long grew = 0, g;

	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) : n;

		if (!nl)
			return logbuf_part_add(lb, buf, k) < 0 ? -ENOMEM : grew;
		if (lb->part_too_long) {
			lb->part_too_long = 0;
			lb->skipped++;
			g = 0;
		} else if (lb->plen > 0) {
			if (logbuf_part_add(lb, buf, k) < 0)
				return -ENOMEM;
			g = lb->part_too_long ? 0 : logbuf_line(lb, lb->part, lb->plen);
			if (lb->part_too_long) {
				lb->part_too_long = 0;
				lb->skipped++;
			}
			lb->plen = 0;
		} else {
			g = k > LOGBUF_LINE_MAX ? (lb->skipped++, 0) : logbuf_line(lb, buf, k);
		}
		if (g < 0)
			return g;
		grew += g;
		buf += k + 1;
		n -= k + 1;
	}
	return grew;
}

long
logbuf_flush(struct logbuf *lb)
{
	long g = 0;

	if (lb->plen > 0 && !lb->part_too_long)
		g = logbuf_line(lb, lb->part, lb->plen);
	lb->plen = 0;
	lb->part_too_long = 0;
	return g;
}

void
logbuf_reconnect(struct logbuf *lb)
{
	lb->plen = 0;
	lb->part_too_long = 0;
	lb->replay = 1;
	for (struct logbuf_pod *p = lb->pods; p; p = p->next)
		p->live = 0;
}

unsigned long long
logbuf_end(const struct logbuf *lb)
{
	return lb->base + lb->len;
}

size_t
logbuf_copy(const struct logbuf *lb, unsigned long long *off, char *buf,
	    size_t size)
{
	unsigned long long end = logbuf_end(lb);
	size_t n;

	if (*off < lb->base)
		*off = lb->base;
	if (*off >= end)
		return 0;
	n = end - *off < size ? (size_t)(end - *off) : size;
	memcpy(buf, lb->data + (*off - lb->base), n);
	return n;
}
