/*
 * logs: the live log streams of a mount. One stream per workspace however
 * many read it: a thread of its own keeps one GET /workspace/{id}/logs
 * open, reconnects with backoff when the API closes it or it fails (the
 * replay is skipped, see logbuf.h), and holds the lines in a logbuf.
 * Readers take a reference (logs_acquire); a stream outlives its last
 * reader by the grace time, then closes and its lines are dropped.
 *
 * Nothing here blocks a caller: what must wait (an open until the first
 * burst of lines is in, a follower at the end) registers a request that
 * the stream's thread answers (logs_wait, logs_arm), or that an interrupt
 * ends (logs_cancel).
 *
 * Lock: logs.mu guards the streams, each stream's fields and held lines,
 * the requests and the pollers. It is never held across a network call
 * or a callback.
 */
#ifndef EXFS_LOGS_H
#define EXFS_LOGS_H
#include <stddef.h>
#include <time.h>

struct http;
struct logs;
struct logs_stream;

struct logs_cfg {
	struct http *http;
	size_t cap; /* bytes held per workspace */
	int max_streams; /* open at once */
	long long idle_ms; /* a stream this quiet has sent its burst */
	long long settle_max_ms; /* ... or after this long in any case */
	long long grace_ms; /* kept open after the last reader */
	int ndjson; /* hold the JSON lines, not text */
	/* wake a poller and free ph / free ph without waking */
	void (*poll_notify)(void *arg, void *ph);
	void (*poll_destroy)(void *ph);
	void *poll_arg;
	/* a failure to note for workspace id (msg NULL: it works again) */
	void (*note)(void *arg, const char *id, const char *msg);
	void *note_arg;
};

enum logs_wait_kind {
	LOGS_SETTLED, /* the first burst is in (or the stream failed) */
	LOGS_DATA, /* bytes past an offset, or nothing more will come */
};
typedef void (*logs_done_fn)(void *arg, int rc);

struct logs *logs_new(const struct logs_cfg *cfg);
/* End every stream's thread; requests still waiting are answered, and
 * no stream starts any more (the mount ends). */
void logs_stop(struct logs *L);
/* logs_stop, then free everything, also what readers still hold. */
void logs_free(struct logs *L);
/* A reference to id's stream, started if need be; -EAGAIN when
 * max_streams are open and each has a reader; -EIO at once for an id
 * that is not a UUID (no stream could ever connect). */
int logs_acquire(struct logs *L, const char *id, struct logs_stream **out);
/* Drop a reference; the poller of owner (if any) goes with it. */
void logs_release(struct logs *L, struct logs_stream *s, const void *owner);
/* The size and time of id's held log; -ENOENT when no stream is open. */
int logs_size(struct logs *L, const char *id, unsigned long long *size,
	      time_t *mtime);
/* Copy held bytes from *off (moved up past dropped ones); 0 at the end.
 * *ended: nothing more will come (the workspace is gone or the mount
 * ends). */
size_t logs_copy(struct logs *L, struct logs_stream *s, unsigned long long *off,
		 char *buf, size_t size, int *ended);
/* Whether s is ready (kind, off): 0 yes, -errno yes but failed (an open
 * of a log that could not be had), or 1: a request was registered under
 * key, answered by done(arg, rc) exactly once from another thread, after
 * logs_arm(key). logs_cancel(key) answers it with -EINTR. */
int logs_wait(struct logs *L, struct logs_stream *s, enum logs_wait_kind kind,
	      unsigned long long off, const void *key, logs_done_fn done,
	      void *arg);
void logs_arm(struct logs *L, const void *key);
void logs_cancel(struct logs *L, const void *key);
/* poll(2) of a follower at off: *revents POLLIN when bytes or the end
 * are there; else ph (may be NULL) is woken when they come. */
int logs_poll(struct logs *L, struct logs_stream *s, const void *owner,
	      unsigned long long off, void *ph, unsigned *revents);
/* Close the streams nobody has open (of id, or all with NULL) and drop
 * their lines: the next open fetches the log again (.ctl refresh). */
void logs_drop_unread(struct logs *L, const char *id);
/* The workspace was deleted: its followers get end-of-file. */
void logs_gone(struct logs *L, const char *id);
/* Streams open now and started since the mount. */
void logs_counts(struct logs *L, unsigned long *open, unsigned long *started);
#endif
