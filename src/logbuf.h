/*
 * logbuf: the held log of one workspace, as its file shows it. Raw NDJSON
 * arrives in pieces of any size; complete lines are rendered ("TIMESTAMP
 * POD MESSAGE", or the JSON itself) and appended. Offsets are absolute and
 * only grow: when the held bytes pass the cap, the oldest whole lines go
 * and the base offset moves up, so a reader's offset never points at other
 * bytes than it did.
 *
 * After a reconnect the API sends the log again from its start; lines
 * already held are recognised and skipped (logbuf_reconnect): per pod,
 * a line older than the newest timestamp seen is a repeat, and one at that
 * timestamp is a repeat when the same (pod, timestamp, message) was seen.
 * Lines without a readable timestamp are matched against the last
 * LOGBUF_RECENT ones seen.
 *
 * Plain data, no lock: the caller (logs.c) guards it.
 */
#ifndef EXFS_LOGBUF_H
#define EXFS_LOGBUF_H
#include <stddef.h>
#include <stdint.h>

#define LOGBUF_LINE_MAX (1024 * 1024) /* a longer line is skipped */
#define LOGBUF_RECENT 4096

struct logbuf_pod;

struct logbuf {
	char *data; /* bytes [base, base + len) */
	size_t len, alloc, cap;
	unsigned long long base;
	char *part; /* an incomplete line, awaiting its end */
	size_t plen, palloc;
	int part_too_long; /* the incomplete line is being skipped */
	int ndjson; /* hold JSON lines, not text */
	int replay; /* a reconnect happened: skip repeats */
	struct logbuf_pod *pods;
	uint64_t recent[LOGBUF_RECENT]; /* lines without a timestamp */
	size_t nrecent;
	unsigned long lines, skipped, repeats;
};

void logbuf_init(struct logbuf *lb, size_t cap, int ndjson);
void logbuf_free(struct logbuf *lb);
/* Take n bytes of the stream; the number of bytes the file grew by, or
 * -ENOMEM (what was taken before stays). */
long logbuf_feed(struct logbuf *lb, const char *buf, size_t n);
/* The stream ended cleanly: an incomplete last line is complete (the
 * body ended there). The bytes the file grew by, or -ENOMEM. */
long logbuf_flush(struct logbuf *lb);
/* The connection ended: an incomplete last line is dropped, and the next
 * connection's lines are checked for repeats. */
void logbuf_reconnect(struct logbuf *lb);
/* The absolute offset just past the last held byte (the file's size). */
unsigned long long logbuf_end(const struct logbuf *lb);
/* Copy up to size bytes from *off; an *off below the held bytes is moved
 * up to the first held byte. Returns the bytes copied (0 at the end). */
size_t logbuf_copy(const struct logbuf *lb, unsigned long long *off, char *buf,
		   size_t size);
#endif
