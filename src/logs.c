/*
 * logs: see logs.h. Each stream struct is on L->all from its start until
 * logs_free or until it is reaped (its thread ended, joined, and no
 * reader holds it). A stream may be found by id until it is told to end
 * (stop set), and never again after.
 */
#include "logs.h"
#include "api.h"
#include "http.h"
#include "log.h"
#include "logbuf.h"
#include "model.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LOGS_BACKOFF_MIN_MS 500
#define LOGS_BACKOFF_MAX_MS 30000
#define LOGS_TICK_MS 1000 /* the longest a stream's thread sleeps */
#define LOGS_HEALTHY_MS 2000 /* a connection this long was no failure */

struct logs_req {
	struct logs_req *next; /* L->reqs */
	struct logs_stream *s;
	const void *key;
	enum logs_wait_kind kind;
	unsigned long long off;
	int armed, cancelled;
	logs_done_fn done;
	void *arg;
	int rc; /* when answered */
};

struct logs_poller {
	struct logs_poller *next; /* L->pollers */
	struct logs_stream *s;
	const void *owner;
	void *ph;
};

struct logs_stream {
	struct logs_stream *next; /* L->all */
	struct logs *L;
	char *id;
	struct logbuf buf;
	struct http_stream *hs;
	pthread_t thread;
	pthread_cond_t cv; /* with L->mu: wakes the thread between connections */
	int readers;
	int stop, dead;
	int connected; /* a transfer is under way */
	int settled; /* the first burst is in */
	int gone; /* deleted: nothing more will come */
	int err; /* the last failure, 0 after a success */
	long long created_ms, conn_ms, data_ms, last_use_ms;
	long long answer_ms; /* the connection's status line came (0: not yet) */
	time_t mtime;
};

struct logs {
	struct logs_cfg cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* with mu: a stream's thread ended */
	struct logs_stream *all; /* guarded by mu */
	struct logs_req *reqs; /* guarded by mu */
	struct logs_poller *pollers; /* guarded by mu */
	int threads; /* guarded by mu: running */
	int closing; /* guarded by mu */
	unsigned long started; /* guarded by mu */
};

static long long
logs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct logs *
logs_new(const struct logs_cfg *cfg)
{
	struct logs *L = calloc(1, sizeof(*L));

	if (!L)
		return NULL;
	L->cfg = *cfg;
	pthread_mutex_init(&L->mu, NULL);
	pthread_cond_init(&L->cv, NULL);
	return L;
}

/* ---- requests and pollers (under mu) -------------------------------------- */

/* Whether req can be answered now; its rc set. */
static int
logs_req_ready(struct logs_req *r)
{
	struct logs_stream *s = r->s;

	if (r->cancelled) {
		r->rc = -EINTR;
		return 1;
	}
	if (r->kind == LOGS_SETTLED) {
		if (!s->settled && !s->gone && !s->stop)
			return 0;
		r->rc = logbuf_end(&s->buf) == 0 && s->gone  ? -ENOENT
			: logbuf_end(&s->buf) == 0 && s->err ? s->err
							     : 0;
		return 1;
	}
	r->rc = 0;
	return r->off < logbuf_end(&s->buf) || s->gone || s->stop;
}

/* Move the armed requests of s (all of them with every) that can be
 * answered onto *out. */
static void
logs_take_ready(struct logs *L, struct logs_stream *s, struct logs_req **out)
{
	struct logs_req **pp = &L->reqs;

	while (*pp) {
		struct logs_req *r = *pp;

		if (r->s == s && r->armed && logs_req_ready(r)) {
			*pp = r->next;
			r->next = *out;
			*out = r;
		} else {
			pp = &r->next;
		}
	}
}

/* Answer them (no lock held). */
static void
logs_answer(struct logs_req *list)
{
	while (list) {
		struct logs_req *r = list;

		list = r->next;
		r->done(r->arg, r->rc);
		free(r);
	}
}

/* Move the pollers of s (of owner only, unless NULL; every one with s
 * NULL) onto *out, to be woken or dropped without the lock. */
static void
logs_take_pollers(struct logs *L, struct logs_stream *s, const void *owner,
		  struct logs_poller **out)
{
	struct logs_poller **pp = &L->pollers;

	while (*pp) {
		struct logs_poller *p = *pp;

		if ((!s || p->s == s) && (!owner || p->owner == owner)) {
			*pp = p->next;
			p->next = *out;
			*out = p;
		} else {
			pp = &p->next;
		}
	}
}

/* Free a list of pollers (no lock held): each woken first (wake), or
 * dropped without a wake-up. */
static void
logs_end_pollers(struct logs *L, struct logs_poller *list, int wake)
{
	while (list) {
		struct logs_poller *p = list;

		list = p->next;
		if (wake && L->cfg.poll_notify)
			L->cfg.poll_notify(L->cfg.poll_arg, p->ph);
		else if (!wake && L->cfg.poll_destroy)
			L->cfg.poll_destroy(p->ph);
		free(p);
	}
}

/* ---- the stream's thread -------------------------------------------------- */

/* A piece of the body: held, and whoever waits for it told. */
static int
logs_data(void *arg, const char *buf, size_t n)
{
	struct logs_stream *s = arg;
	struct logs *L = s->L;
	struct logs_req *ready = NULL;
	struct logs_poller *woken = NULL;
	unsigned long skipped = 0;
	long grew;
	int stop, clear = 0;

	pthread_mutex_lock(&L->mu);
	stop = s->stop;
	if (!stop) {
		/* an answer is coming: the stream works (again) */
		clear = s->err != 0;
		s->err = 0;
		skipped = s->buf.skipped;
		grew = logbuf_feed(&s->buf, buf, n);
		skipped = s->buf.skipped - skipped;
		if (grew > 0) {
			s->data_ms = logs_now();
			s->mtime = time(NULL);
			logs_take_ready(L, s, &ready);
			logs_take_pollers(L, s, NULL, &woken);
		}
	}
	pthread_mutex_unlock(&L->mu);
	logs_answer(ready);
	logs_end_pollers(L, woken, 1);
	if (skipped)
		log_msg(LOG_LVL_WARN, "logs of %s: %lu unreadable lines skipped", s->id, skipped);
	if (clear && L->cfg.note)
		L->cfg.note(L->cfg.note_arg, s->id, NULL);
	return stop;
}

static long long
logs_backoff_ms(int attempt)
{
	long long ms = LOGS_BACKOFF_MIN_MS;

	while (--attempt > 0 && ms < LOGS_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < LOGS_BACKOFF_MAX_MS ? ms : LOGS_BACKOFF_MAX_MS;
}

/* Settle and grace; the ms until either may change (under mu). */
static long long
logs_timers(struct logs *L, struct logs_stream *s, long long now)
{
	long long next = LOGS_TICK_MS, quiet_from, left;

	if (!s->settled) {
		/* quiet counts from the answer: connecting, a token and the
		 * server's first byte may take longer than the idle time */
		quiet_from = s->data_ms > s->answer_ms ? s->data_ms : s->answer_ms;
		left = L->cfg.settle_max_ms - (now - s->created_ms);
		if ((s->connected && s->answer_ms && now - quiet_from >= L->cfg.idle_ms) ||
		    left <= 0) {
			s->settled = 1;
		} else {
			if (s->connected && s->answer_ms && L->cfg.idle_ms - (now - quiet_from) < left)
				left = L->cfg.idle_ms - (now - quiet_from);
			next = left < next ? left : next;
		}
	}
	if (s->readers == 0) {
		left = L->cfg.grace_ms - (now - s->last_use_ms);
		if (left <= 0)
			s->stop = 1;
		else if (left < next)
			next = left;
	}
	return next < 1 ? 1 : next;
}

/* The transfer ended: what it means for the stream (under mu). */
static void
logs_ended(struct logs *L, struct logs_stream *s, int rc, const char *msg,
	   int grew, int *attempt, int *reauth, long long *next_ms, char **note)
{
	long long now = logs_now(), wait;
	int healthy = grew || (s->answer_ms && now - s->conn_ms >= LOGS_HEALTHY_MS);

	s->connected = 0;
	if (rc == -ECANCELED || s->stop)
		return;
	if (rc == -ENOENT) {
		/* the workspace is gone: the followers read to the end */
		log_msg(LOG_LVL_INFO, "logs of %s: the workspace is gone", s->id);
		s->settled = 1;
		s->gone = 1;
		s->stop = 1;
		return;
	}
	if (rc == -EACCES && !*reauth) {
		*reauth = 1; /* once with a new token, at once: not settled yet */
		*next_ms = now;
		return;
	}
	s->settled = 1;
	/* the delay doubles while connections fail or end at once */
	*attempt = healthy ? 1 : *attempt + 1;
	wait = logs_backoff_ms(*attempt);
	*next_ms = now + wait;
	if (rc == 0) {
		log_msg(LOG_LVL_INFO, "logs of %s: the API closed the stream; "
				      "reconnecting in %lld ms",
			s->id, wait);
		return;
	}
	s->err = rc;
	log_msg(LOG_LVL_WARN, "logs of %s: %s (reconnecting in %lld ms)", s->id,
		msg ? msg : strerror(-rc), wait);
	*note = model_asprintf("%s", msg ? msg : strerror(-rc));
	(void)L;
}

static void *
logs_main(void *arg)
{
	struct logs_stream *s = arg;
	struct logs *L = s->L;
	int attempt = 0, reauth = 0, conns = 0, grew = 0;
	unsigned long long end0 = 0;
	long long next_ms = 0;

	pthread_mutex_lock(&L->mu);
	while (!s->stop) {
		struct logs_req *ready = NULL;
		long long now = logs_now(), wait;
		char *note = NULL, *err = NULL;
		int rc = 0, running = 1;
		long status = 0;

		if (!s->connected && now >= next_ms) {
			if (conns++ > 0)
				logbuf_reconnect(&s->buf);
			end0 = logbuf_end(&s->buf);
			s->connected = 1;
			s->conn_ms = now;
			s->answer_ms = 0;
			pthread_mutex_unlock(&L->mu);
			rc = api_logs_start(s->hs, s->id, reauth, logs_data, s, &err);
			pthread_mutex_lock(&L->mu);
			if (rc < 0)
				logs_ended(L, s, rc, err, 0, &attempt, &reauth, &next_ms, &note);
			free(err);
			err = NULL;
		}
		wait = logs_timers(L, s, logs_now());
		logs_take_ready(L, s, &ready);
		if (s->stop) {
			pthread_mutex_unlock(&L->mu);
			logs_answer(ready);
			pthread_mutex_lock(&L->mu);
			break;
		}
		if (!s->connected) {
			long long until = next_ms - logs_now();
			struct timespec ts;

			if (until < wait)
				wait = until < 1 ? 1 : until;
			pthread_mutex_unlock(&L->mu);
			logs_answer(ready);
			if (note && L->cfg.note)
				L->cfg.note(L->cfg.note_arg, s->id, note);
			free(note);
			pthread_mutex_lock(&L->mu);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (!s->stop)
				pthread_cond_timedwait(&s->cv, &L->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&L->mu);
		logs_answer(ready);
		if (note && L->cfg.note)
			L->cfg.note(L->cfg.note_arg, s->id, note);
		free(note);
		note = NULL;
		{
			struct http_stream_end end;

			running = http_stream_run(s->hs, (long)wait, &end);
			if (!running) {
				rc = api_logs_end(&end, &err);
				http_stream_end_free(&end);
			} else {
				status = http_stream_status(s->hs);
			}
		}
		pthread_mutex_lock(&L->mu);
		if (running && status && !s->answer_ms) {
			s->answer_ms = logs_now();
			if (status == 200 && s->err) {
				/* it works again */
				s->err = 0;
				pthread_mutex_unlock(&L->mu);
				if (L->cfg.note)
					L->cfg.note(L->cfg.note_arg, s->id, NULL);
				pthread_mutex_lock(&L->mu);
			}
		}
		if (!running) {
			struct logs_poller *woken = NULL;

			/* a body that ended cleanly ends its last line too */
			if (rc == 0 && logbuf_flush(&s->buf) > 0) {
				s->data_ms = logs_now();
				s->mtime = time(NULL);
				logs_take_pollers(L, s, NULL, &woken);
			}
			if (woken) {
				pthread_mutex_unlock(&L->mu);
				logs_end_pollers(L, woken, 1);
				pthread_mutex_lock(&L->mu);
			}
			grew = logbuf_end(&s->buf) > end0;
			logs_ended(L, s, rc, err, grew, &attempt, &reauth, &next_ms, &note);
			if (rc != -EACCES)
				reauth = 0;
			free(err);
			if (note) {
				pthread_mutex_unlock(&L->mu);
				if (L->cfg.note)
					L->cfg.note(L->cfg.note_arg, s->id, note);
				free(note);
				pthread_mutex_lock(&L->mu);
			}
		}
	}
	/* ending: whoever waits gets an answer; the struct is reaped when
	 * no reader holds it */
	{
		struct logs_req *ready = NULL;
		struct logs_poller *woken = NULL;

		s->settled = 1;
		s->dead = 1;
		logs_take_ready(L, s, &ready);
		logs_take_pollers(L, s, NULL, &woken);
		L->threads--;
		pthread_cond_broadcast(&L->cv);
		pthread_mutex_unlock(&L->mu);
		logs_answer(ready);
		logs_end_pollers(L, woken, 1);
		/* the connection closes now, not when the struct is reaped;
		 * nobody wakes a dead stream's transfer (logs_tell_stop) */
		http_stream_free(s->hs);
		s->hs = NULL;
	}
	return NULL;
}

/* ---- readers -------------------------------------------------------------- */

static void
logs_stream_free(struct logs_stream *s)
{
	http_stream_free(s->hs);
	logbuf_free(&s->buf);
	pthread_cond_destroy(&s->cv);
	free(s->id);
	free(s);
}

/* Take off L->all the streams whose thread ended and that no reader
 * holds (under mu), onto *out, to be joined and freed without it. */
static void
logs_take_dead(struct logs *L, struct logs_stream **out)
{
	struct logs_stream **pp = &L->all;

	while (*pp) {
		struct logs_stream *s = *pp;

		if (s->dead && s->readers == 0) {
			*pp = s->next;
			s->next = *out;
			*out = s;
		} else {
			pp = &s->next;
		}
	}
}

static void
logs_reap(struct logs_stream *list)
{
	while (list) {
		struct logs_stream *s = list;

		list = s->next;
		pthread_join(s->thread, NULL);
		logs_stream_free(s);
	}
}

static void
logs_tell_stop(struct logs_stream *s)
{
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	http_stream_wakeup(s->hs);
}

static struct logs_stream *
logs_find(struct logs *L, const char *id)
{
	for (struct logs_stream *s = L->all; s; s = s->next)
		if (!s->stop && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

int
logs_acquire(struct logs *L, const char *id, struct logs_stream **out)
{
	struct logs_stream *s, *dead = NULL, *victim = NULL;
	char *why = NULL;
	int open = 0, rc;

	*out = NULL;
	if ((rc = api_check_id(id, &why)) < 0) {
		/* every connection would be refused before it is made: no
		 * stream, no retries; the error file says why */
		if (L->cfg.note && why)
			L->cfg.note(L->cfg.note_arg, id, why);
		free(why);
		return rc;
	}
	pthread_mutex_lock(&L->mu);
	logs_take_dead(L, &dead);
	if (L->closing) {
		rc = -ESHUTDOWN;
		goto out;
	}
	if ((s = logs_find(L, id)) != NULL) {
		s->readers++;
		s->last_use_ms = logs_now();
		*out = s;
		goto out;
	}
	for (s = L->all; s; s = s->next) {
		if (s->stop)
			continue;
		open++;
		if (s->readers == 0 && (!victim || s->last_use_ms < victim->last_use_ms))
			victim = s;
	}
	if (open >= L->cfg.max_streams) {
		if (!victim) {
			rc = -EAGAIN;
			goto out;
		}
		logs_tell_stop(victim); /* idle in its grace time: make room */
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->id = strdup(id)) || !(s->hs = http_stream_new(L->cfg.http, API_LOGS))) {
		if (s) {
			http_stream_free(s->hs);
			free(s->id);
		}
		free(s);
		rc = -ENOMEM;
		goto out;
	}
	s->L = L;
	logbuf_init(&s->buf, L->cfg.cap, L->cfg.ndjson);
	pthread_cond_init(&s->cv, NULL);
	s->readers = 1;
	s->created_ms = s->last_use_ms = logs_now();
	s->mtime = time(NULL);
	if (pthread_create(&s->thread, NULL, logs_main, s) != 0) {
		logs_stream_free(s);
		rc = -EAGAIN;
		goto out;
	}
	L->threads++;
	L->started++;
	s->next = L->all;
	L->all = s;
	*out = s;
out:
	pthread_mutex_unlock(&L->mu);
	logs_reap(dead);
	if (rc == -EAGAIN)
		log_msg(LOG_LVL_WARN, "logs of %s: %d log streams are open and read "
				      "(-o logs_streams)",
			id, L->cfg.max_streams);
	return rc;
}

void
logs_release(struct logs *L, struct logs_stream *s, const void *owner)
{
	struct logs_poller *drop = NULL;

	pthread_mutex_lock(&L->mu);
	if (owner)
		logs_take_pollers(L, s, owner, &drop);
	s->readers--;
	s->last_use_ms = logs_now();
	if (s->readers == 0)
		pthread_cond_signal(&s->cv); /* its grace time starts */
	pthread_mutex_unlock(&L->mu);
	logs_end_pollers(L, drop, 0);
}

int
logs_size(struct logs *L, const char *id, unsigned long long *size, time_t *mtime)
{
	struct logs_stream *s;
	int rc = -ENOENT;

	pthread_mutex_lock(&L->mu);
	s = logs_find(L, id);
	/* a stream that ended (the workspace gone) keeps its size for those
	 * who still read it: tail -f must not see the file shrink */
	for (struct logs_stream *o = L->all; !s && o; o = o->next)
		if (o->readers > 0 && strcmp(o->id, id) == 0)
			s = o;
	if (s) {
		*size = logbuf_end(&s->buf);
		*mtime = s->mtime;
		rc = 0;
	}
	pthread_mutex_unlock(&L->mu);
	return rc;
}

size_t
logs_copy(struct logs *L, struct logs_stream *s, unsigned long long *off,
	  char *buf, size_t size, int *ended)
{
	size_t n;

	pthread_mutex_lock(&L->mu);
	n = logbuf_copy(&s->buf, off, buf, size);
	*ended = s->gone || s->dead || s->stop;
	pthread_mutex_unlock(&L->mu);
	return n;
}

int
logs_wait(struct logs *L, struct logs_stream *s, enum logs_wait_kind kind,
	  unsigned long long off, const void *key, logs_done_fn done, void *arg)
{
	struct logs_req *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	*r = (struct logs_req){ .s = s, .key = key, .kind = kind, .off = off, .done = done, .arg = arg };
	pthread_mutex_lock(&L->mu);
	if (logs_req_ready(r)) {
		int rc = r->rc;

		pthread_mutex_unlock(&L->mu);
		free(r);
		return rc;
	}
	r->next = L->reqs;
	L->reqs = r;
	pthread_cond_signal(&s->cv); /* its timers may change */
	pthread_mutex_unlock(&L->mu);
	return 1;
}

/* Arm or cancel the request of key; answer it if it can be. */
static void
logs_mark(struct logs *L, const void *key, int cancel)
{
	struct logs_req **pp, *ready = NULL;

	pthread_mutex_lock(&L->mu);
	for (pp = &L->reqs; *pp; pp = &(*pp)->next) {
		struct logs_req *r = *pp;

		if (r->key != key)
			continue;
		if (cancel)
			r->cancelled = 1;
		else
			r->armed = 1;
		if (r->armed && logs_req_ready(r)) {
			*pp = r->next;
			ready = r;
			r->next = NULL;
		}
		break;
	}
	pthread_mutex_unlock(&L->mu);
	logs_answer(ready);
}

void
logs_arm(struct logs *L, const void *key)
{
	logs_mark(L, key, 0);
}

void
logs_cancel(struct logs *L, const void *key)
{
	logs_mark(L, key, 1);
}

int
logs_poll(struct logs *L, struct logs_stream *s, const void *owner,
	  unsigned long long off, void *ph, unsigned *revents)
{
	struct logs_poller *p = NULL, *old = NULL;

	pthread_mutex_lock(&L->mu);
	if (off < logbuf_end(&s->buf) || s->gone || s->dead || s->stop) {
		*revents = POLLIN;
		pthread_mutex_unlock(&L->mu);
		if (ph && L->cfg.poll_destroy)
			L->cfg.poll_destroy(ph);
		return 0;
	}
	*revents = 0;
	/* one poll handle per owner: a new one replaces the old */
	if (owner)
		logs_take_pollers(L, s, owner, &old);
	if (ph && (p = calloc(1, sizeof(*p))) != NULL) {
		*p = (struct logs_poller){ .next = L->pollers, .s = s, .owner = owner, .ph = ph };
		L->pollers = p;
	}
	pthread_mutex_unlock(&L->mu);
	logs_end_pollers(L, old, 0);
	if (ph && !p && L->cfg.poll_destroy)
		L->cfg.poll_destroy(ph);
	return 0;
}

void
logs_gone(struct logs *L, const char *id)
{
	struct logs_stream *s;

	pthread_mutex_lock(&L->mu);
	if ((s = logs_find(L, id)) != NULL) {
		s->gone = 1;
		logs_tell_stop(s); /* the thread answers the followers */
	}
	pthread_mutex_unlock(&L->mu);
}

void
logs_drop_unread(struct logs *L, const char *id)
{
	pthread_mutex_lock(&L->mu);
	for (struct logs_stream *s = L->all; s; s = s->next)
		if (!s->stop && s->readers == 0 && (!id || strcmp(s->id, id) == 0))
			logs_tell_stop(s);
	pthread_mutex_unlock(&L->mu);
}

void
logs_counts(struct logs *L, unsigned long *open, unsigned long *started)
{
	*open = 0;
	pthread_mutex_lock(&L->mu);
	for (struct logs_stream *s = L->all; s; s = s->next)
		if (!s->stop)
			(*open)++;
	*started = L->started;
	pthread_mutex_unlock(&L->mu);
}

void
logs_stop(struct logs *L)
{
	if (!L)
		return;
	pthread_mutex_lock(&L->mu);
	L->closing = 1;
	for (struct logs_stream *s = L->all; s; s = s->next)
		if (!s->dead)
			logs_tell_stop(s);
	while (L->threads > 0)
		pthread_cond_wait(&L->cv, &L->mu);
	pthread_mutex_unlock(&L->mu);
}

void
logs_free(struct logs *L)
{
	struct logs_stream *dead = NULL;
	struct logs_poller *drop = NULL;

	if (!L)
		return;
	logs_stop(L);
	pthread_mutex_lock(&L->mu);
	/* what readers still hold (the kernel may drop a release at
	 * unmount) goes too: no call is in flight any more */
	for (struct logs_stream *s = L->all; s; s = s->next)
		s->readers = 0;
	logs_take_dead(L, &dead);
	while (L->reqs) { /* only those never armed are left */
		struct logs_req *r = L->reqs;

		L->reqs = r->next;
		free(r);
	}
	logs_take_pollers(L, NULL, NULL, &drop);
	pthread_mutex_unlock(&L->mu);
	logs_end_pollers(L, drop, 0);
	logs_reap(dead);
	pthread_cond_destroy(&L->cv);
	pthread_mutex_destroy(&L->mu);
	free(L);
}
