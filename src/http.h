/*
 * http: the only module that speaks libcurl. A pool of easy handles
 * (reused, so connections are kept alive) with DNS and TLS sessions shared
 * between them; connect and total timeouts; a cap on reply bodies; retries
 * with exponential backoff and jitter for requests that may be repeated.
 * The bearer token is set on each request here and nowhere else.
 */
#ifndef EXFS_HTTP_H
#define EXFS_HTTP_H

#include <stddef.h>

struct http;
struct cred;

struct http_cfg {
	const char *base_url;	/* e.g. https://api.exalsius.ai/v1, copied */
	struct cred *cred;	/* token source (borrowed), or NULL: */
	const char *token;	/* a fixed bearer token or NULL, copied */
	const char *cafile;	/* extra CA bundle or NULL, copied */
	long timeout_ms;	/* total per attempt */
	long connect_timeout_ms;
	int retries;		/* extra attempts for repeatable requests */
	size_t max_body;	/* reply bodies larger than this fail (EIO) */
	int anonymous;		/* no Authorization header (a login service) */
};

/* How a request may be repeated when its outcome is not a clean answer. */
enum http_retry {
	HTTP_RETRY_IDEMPOTENT,	/* on connection errors, timeouts, 429, 5xx */
	HTTP_RETRY_UNSENT,	/* only when nothing reached the server: refused connection, 429 */
};

struct http_resp {
	long status;
	char *body;		/* NUL-terminated, owned */
	size_t len;
	int attempts;
	int unknown;		/* failed after the request may have arrived */
	int truncated;		/* http_get_partial: cut at its size or time bound */
};

/* Counters kept per caller-chosen slot (the API operation). */
#define HTTP_SLOTS 8
#define HTTP_LAT_RING 1024

struct http_stats {
	unsigned long requests[HTTP_SLOTS];	/* attempts sent */
	unsigned long status_2xx[HTTP_SLOTS];
	unsigned long status_4xx[HTTP_SLOTS];
	unsigned long status_5xx[HTTP_SLOTS];
	unsigned long transport_errors[HTTP_SLOTS];
	unsigned long retries;
	double lat_p50_ms, lat_p99_ms;		/* over the last HTTP_LAT_RING */
};

/* Create the client; NULL with *err allocated on failure. */
struct http *http_new(const struct http_cfg *cfg, char **err);
/* Close all connections and free the client. */
void http_free(struct http *h);

/* Perform METHOD base_url+path with an optional JSON body; all attempts
 * together stay within the configured timeout. Returns 0 when
 * an HTTP answer arrived (any status, body in *resp, free it with
 * http_resp_free), or -errno (ETIMEDOUT, EHOSTUNREACH, EIO, EACCES when no
 * token, EFBIG reply too large) with *err allocated. */
int http_do(struct http *h, int slot, const char *method, const char *path,
	    const char *body, enum http_retry retry, struct http_resp *resp,
	    char **err);
/* Copy the counters (slot is the http_do argument, 0..HTTP_SLOTS-1). */
void http_get_stats(struct http *h, struct http_stats *out);
/* GET a reply that may be a stream: a 200 body is kept when it reaches
 * max_body bytes or max_ms (resp->truncated set) instead of failing. */
int http_get_partial(struct http *h, int slot, const char *path,
		     size_t max_body, long max_ms, struct http_resp *resp,
		     char **err);
/* POST an application/x-www-form-urlencoded body (a login service's
 * token endpoint); sent again only when it cannot have arrived, since a
 * refresh token is used up by the first request that reaches the server.
 * Returns as http_do. */
int http_post_form(struct http *h, const char *path, const char *form,
		   struct http_resp *resp, char **err);
/* Replace the base URL (copied) for the requests that start from now on. */
int http_set_base_url(struct http *h, const char *url);
/* The base URL in use, allocated (NULL on ENOMEM). */
char *http_base_url(struct http *h);
/* Whether the base URL is known to answer (http_base_settle was called):
 * until then a 404 of the first listing may try the other base path. */
int http_base_settled(struct http *h);
void http_base_settle(struct http *h);
/* Free a reply's body. */
void http_resp_free(struct http_resp *resp);

/* Whether attempt number `attempt` (0-based) may be followed by another,
 * given the transport result rc (0 or -errno) and the HTTP status. Pure. */
int http_should_retry(enum http_retry retry, int rc, int unsent, long status,
		      int attempt, int max_retries);
/* Backoff before retry `attempt` (1-based) in ms: 200 * 2^(attempt-1),
 * capped at 5 s, plus jitter in [0, jitter_ms). Pure given jitter. */
long http_backoff_ms(int attempt, long jitter);

/*
 * Streams: a GET whose 200 body arrives over time (a log), driven by one
 * thread of the caller's: http_stream_start begins it (with a new token
 * when reauth: the last one was refused with 401), http_stream_run moves
 * it on for at most timeout_ms and says whether it has ended. Only
 * http_stream_wakeup may be called from another thread (it makes a
 * waiting http_stream_run return early). No bound on the transfer's
 * length; connecting is bounded and TCP keepalive finds a dead peer.
 */
struct http_stream;
/* Each piece of a 200 body, as it arrives; nonzero stops the transfer. */
typedef int (*http_data_fn)(void *arg, const char *buf, size_t n);
struct http_stream_end {
	int rc;			/* 0: an answer (status); -ECANCELED: data() stopped it;
				 * else the transport failure (-errno, err) */
	long status;		/* 0 when no answer came */
	char *err;		/* allocated, for rc < 0 */
	char *body;		/* a non-200 answer's body (the first 64 KiB) */
	size_t len;
};
struct http_stream *http_stream_new(struct http *h, int slot);
int http_stream_start(struct http_stream *s, const char *path, int reauth,
		      http_data_fn data, void *arg, char **err);
/* 1 while the transfer goes on; 0 when it ended (end filled: free it with
 * http_stream_end_free). */
int http_stream_run(struct http_stream *s, long timeout_ms,
		    struct http_stream_end *end);
/* The status of a running transfer's answer, 0 until it came. */
long http_stream_status(struct http_stream *s);
void http_stream_wakeup(struct http_stream *s);
void http_stream_end_free(struct http_stream_end *end);
void http_stream_free(struct http_stream *s);
/* Nonzero when url is https://, or http:// to a loopback host. */
int http_url_allowed(const char *url);

#endif
