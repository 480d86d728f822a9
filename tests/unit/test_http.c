/*
 * test_http: http.c's pure policy (http_should_retry, http_backoff_ms,
 * http_url_allowed) and http_do end to end against a tiny HTTP server run
 * in a thread of this process on 127.0.0.1, port 0: bodies, the bearer
 * header, retries and their backoff, Retry-After, one time budget for all
 * attempts, the body cap, timeouts, resp.unknown and the per-slot
 * counters of http_get_stats. The server serves a
 * fixed number of connections from a script of replies, records what it
 * received and when, and closes its listening socket after the last
 * accept, so an unexpected extra attempt is refused and shows. Every
 * socket wait is bounded by SO_RCVTIMEO. Nothing but 127.0.0.1 is
 * contacted (proxies are switched off in main).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "quiet.h"

#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "sekrit-t0ken-4-tests"
#define SRV_MAX 4
#define SRV_WAIT_S 3		/* bound on every accept and recv */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* ---- the pure parts ---- */

static void
http_should_retry_idempotent(void **state)
{
	const enum http_retry I = HTTP_RETRY_IDEMPOTENT;

	(void)state;
	assert_true(http_should_retry(I, -ETIMEDOUT, 0, 0, 0, 2));
	assert_true(http_should_retry(I, -EHOSTUNREACH, 1, 0, 0, 2));
	assert_true(http_should_retry(I, -EIO, 0, 0, 1, 2));
	assert_true(http_should_retry(I, 0, 0, 429, 0, 2));
	assert_true(http_should_retry(I, 0, 0, 500, 0, 2));
	assert_true(http_should_retry(I, 0, 0, 502, 0, 2));
	assert_true(http_should_retry(I, 0, 0, 503, 1, 2));
	assert_true(http_should_retry(I, 0, 0, 599, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 200, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 204, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 400, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 401, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 404, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 409, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 422, 0, 2));
	assert_false(http_should_retry(I, 0, 0, 600, 0, 2));
	/* the budget */
	assert_false(http_should_retry(I, 0, 0, 503, 2, 2));
	assert_false(http_should_retry(I, -ETIMEDOUT, 0, 0, 2, 2));
	assert_false(http_should_retry(I, 0, 0, 429, 3, 2));
	assert_false(http_should_retry(I, -EIO, 0, 0, 0, 0));
	assert_false(http_should_retry(I, 0, 0, 503, 0, 0));
}

static void
http_should_retry_unsent(void **state)
{
	const enum http_retry U = HTTP_RETRY_UNSENT;

	(void)state;
	assert_true(http_should_retry(U, -EHOSTUNREACH, 1, 0, 0, 2));
	assert_true(http_should_retry(U, 0, 0, 429, 0, 2));
	assert_true(http_should_retry(U, 0, 0, 429, 1, 2));
	assert_false(http_should_retry(U, -ETIMEDOUT, 0, 0, 0, 2));
	assert_false(http_should_retry(U, -EIO, 0, 0, 0, 2));
	assert_false(http_should_retry(U, 0, 0, 500, 0, 2));
	assert_false(http_should_retry(U, 0, 0, 503, 0, 2));
	assert_false(http_should_retry(U, 0, 0, 502, 0, 2));
	assert_false(http_should_retry(U, 0, 0, 200, 0, 2));
	assert_false(http_should_retry(U, 0, 0, 400, 0, 2));
	assert_false(http_should_retry(U, -EHOSTUNREACH, 1, 0, 2, 2));
	assert_false(http_should_retry(U, 0, 0, 429, 2, 2));
}

static void
http_should_retry_never(void **state)
{
	static const int never[] = { -EACCES, -EFBIG, -ENOMEM };

	(void)state;
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		for (int unsent = 0; unsent < 2; unsent++) {
			assert_false(http_should_retry(HTTP_RETRY_IDEMPOTENT, never[i],
						       unsent, 0, 0, 5));
			assert_false(http_should_retry(HTTP_RETRY_UNSENT, never[i],
						       unsent, 0, 0, 5));
		}
}

static void
http_backoff_ms_sequence(void **state)
{
	static const long want[] = { 200, 400, 800, 1600, 3200, 5000, 5000, 5000 };

	(void)state;
	for (int a = 1; a <= 8; a++)
		assert_int_equal(http_backoff_ms(a, 0), want[a - 1]);
	assert_int_equal(http_backoff_ms(100, 0), 5000);
	assert_int_equal(http_backoff_ms(INT_MAX, 0), 5000);
	assert_int_equal(http_backoff_ms(1, 37), 237);
	assert_int_equal(http_backoff_ms(3, 99), 899);
	assert_int_equal(http_backoff_ms(50, 99), 5099);
	assert_int_equal(http_backoff_ms(2, -5), 400);
}

static void
http_url_allowed_accepts(void **state)
{
	static const char *const ok[] = {
		"https://api.exalsius.ai/v1", "HTTPS://api.exalsius.ai", "https://10.0.0.1/",
		"http://127.0.0.1:8080/v1", "http://127.0.0.1", "http://127.0.0.1/",
		"http://127.1.2.3:9/v1", "http://localhost/v1", "http://localhost",
		"http://localhost:8080", "HTTP://LOCALHOST/v1", "http://[::1]:9/v1",
		"http://[::1]/", "http://[::1]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!http_url_allowed(ok[i]))
			fail_msg("%s refused", ok[i]);
}

static void
http_url_allowed_refuses(void **state)
{
	static const char *const no[] = {
		"http://example.com", "http://example.com/v1", "http://10.0.0.1/",
		"http://localhost.evil.com", "http://localhost.evil.com/v1",
		"http://localhostx/", "http://localhost@evil.com/",
		"http://[::1]@evil.com/",
		"http://128.0.0.1/", "ftp://127.0.0.1/", "file:///etc/passwd",
		"ws://localhost/", "//localhost/", "localhost", "", "http://",
		"httpx://localhost/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (http_url_allowed(no[i]))
			fail_msg("%s allowed", no[i]);
}

/*
 * Plain http to a host that only looks like loopback: the token would go
 * out in clear text. "127." as a prefix matches DNS names, and a
 * "user:pass@" part makes curl connect to whatever follows the '@'.
 */
static void
http_url_allowed_refuses_loopback_lookalikes(void **state)
{
	static const char *const no[] = {
		"http://127.0.0.1.evil.com/v1", "http://127.0.0.1.nip.io/",
		"http://127.evil.com/", "http://127.0.0.1@evil.com/v1",
		"http://127.0.0.1:80@evil.com/", "http://localhost:80@evil.com/v1",
		"http://localhost:x@evil.com/", "http://[::1]:9@evil.com/",
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (http_url_allowed(no[i])) {
			print_error("http_url_allowed(\"%s\") = 1, expected 0\n", no[i]);
			bad++;
		}
	assert_int_equal(bad, 0);
}

/* ---- http_do without a server ---- */

static struct http *
client(const char *base, const char *token, long timeout_ms, int retries,
       size_t max_body)
{
	struct http_cfg cfg = {
		.base_url = base,
		.token = token,
		.timeout_ms = timeout_ms,
		.connect_timeout_ms = timeout_ms,
		.retries = retries,
		.max_body = max_body,
	};
	char *err = NULL;
	struct http *h = http_new(&cfg, &err);

	if (!h)
		fail_msg("http_new: %s", err ? err : "?");
	assert_null(err);
	return h;
}

static void
http_do_refused(void **state)
{
	struct http *h = client("http://127.0.0.1:1", TOKEN, 2000, 0, 1 << 20);
	struct http_resp resp;
	char *err;

	(void)state;
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), -EHOSTUNREACH);
	assert_non_null(err);
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	assert_null(strstr(err, TOKEN));
	assert_int_equal(resp.attempts, 1);
	assert_null(resp.body);
	/* refused: certainly not received */
	assert_int_equal(resp.unknown, 0);
	free(err);
	http_free(h);
}

/* Nothing reached the server: HTTP_RETRY_UNSENT may try again. */
static void
http_do_refused_unsent_retries(void **state)
{
	struct http *h = client("http://127.0.0.1:1", TOKEN, 2000, 2, 1 << 20);
	struct http_resp resp;
	char *err;

	(void)state;
	quiet_begin();
	assert_int_equal(http_do(h, 0, "POST", "/workspaces", "{}", HTTP_RETRY_UNSENT,
				 &resp, &err), -EHOSTUNREACH);
	quiet_end();
	assert_int_equal(resp.attempts, 3);
	assert_non_null(err);
	free(err);
	http_free(h);
}

static void
http_do_no_token(void **state)
{
	/* port 1 would answer EHOSTUNREACH if anything were sent */
	struct http *h = client("http://127.0.0.1:1", NULL, 2000, 3, 1 << 20);
	struct http_resp resp;
	char *err;

	(void)state;
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), -EACCES);
	assert_non_null(err);
	assert_non_null(strcasestr(err, "token"));
	assert_int_equal(resp.status, 0);
	assert_null(resp.body);
	free(err);
	http_free(h);
}

/* ---- the in-process server ---- */

struct srv_reply {
	int status;
	const char *headers;	/* extra header lines, each ending in CRLF */
	const char *body;	/* NULL: fill bytes of 'x' */
	size_t fill;
	int hang;		/* read the request, never answer */
};

struct srv {
	int lfd;
	int port;
	int nconn;		/* connections to serve */
	int started;
	pthread_t th;
	struct srv_reply reply[SRV_MAX];
	/* written by the thread, read after the join */
	char req[SRV_MAX][8192];
	int served;
	long long got_at[SRV_MAX], sent_at[SRV_MAX];
};

static void
srv_timeouts(int fd)
{
	struct timeval tv = { SRV_WAIT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
srv_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* Read one request (head and Content-Length body) into buf. */
static void
srv_read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0, want = 0;
	char *end = NULL;

	buf[0] = '\0';
	while (len + 1 < cap) {
		ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);

		if (k <= 0)
			break;
		len += (size_t)k;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");

			want = (size_t)(end + 4 - buf);
			if (cl && cl < end)
				want += strtoul(cl + 17, NULL, 10);
		}
		if (end && len >= want)
			break;
	}
}

static void
srv_answer(int fd, const struct srv_reply *r)
{
	char head[1024];
	char *fill = NULL;
	const char *body = r->body;
	size_t blen;
	int n;

	if (!body) {
		fill = malloc(r->fill + 1);
		if (!fill)
			return;
		memset(fill, 'x', r->fill);
		fill[r->fill] = '\0';
		body = fill;
	}
	blen = strlen(body);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d Scripted\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
		     r->status, blen, r->headers ? r->headers : "");
	srv_send_all(fd, head, (size_t)n);
	srv_send_all(fd, body, blen);
	free(fill);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;

	for (int i = 0; i < s->nconn; i++) {
		char drain[512];
		int fd = accept(s->lfd, NULL, NULL);

		if (fd < 0)
			break;
		if (i == s->nconn - 1) {
			/* a further attempt must be refused, not queued */
			close(s->lfd);
			s->lfd = -1;
		}
		srv_timeouts(fd);
		srv_read_request(fd, s->req[i], sizeof(s->req[i]));
		s->got_at[i] = now_ms();
		if (s->reply[i].hang) {
			/* until the client gives up and closes */
			while (recv(fd, drain, sizeof(drain), 0) > 0)
				;
		} else {
			srv_answer(fd, &s->reply[i]);
		}
		s->sent_at[i] = now_ms();
		s->served++;
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
	}
	return NULL;
}

static void
srv_start(struct srv *s, int nconn)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	assert_true(nconn > 0 && nconn <= SRV_MAX);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	srv_timeouts(s->lfd);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	s->nconn = nconn;
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	s->started = 1;
}

static void
srv_join(struct srv *s)
{
	if (s->started) {
		pthread_join(s->th, NULL);
		s->started = 0;
	}
}

/* A client of the fixture's server, base URL with a trailing slash. */
static struct http *
srv_client(struct srv *s, long timeout_ms, int retries, size_t max_body)
{
	char base[64];

	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1/", s->port);
	return client(base, TOKEN, timeout_ms, retries, max_body);
}

/* End of a test with a client: free it, wait for the server thread, and
 * check how many requests it served. */
static void
srv_finish(struct srv *s, struct http *h, int served)
{
	http_free(h);
	srv_join(s);
	assert_int_equal(s->served, served);
}

static int
srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->lfd = -1;
	*state = s;
	return 0;
}

static int
srv_teardown(void **state)
{
	struct srv *s = *state;

	srv_join(s);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
	return 0;
}

static void
http_do_ok(void **state)
{
	struct srv *s = *state;
	struct http_stats st;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 200, NULL, "{\"workspaces\": []}", 0, 0 };
	srv_start(s, 1);
	h = srv_client(s, 3000, 0, 1 << 20);
	assert_int_equal(http_do(h, 2, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), 0);
	assert_null(err);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "{\"workspaces\": []}");
	assert_int_equal(resp.len, 18);
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(resp.unknown, 0);
	http_resp_free(&resp);
	assert_null(resp.body);
	http_get_stats(h, &st);
	assert_int_equal(st.requests[2], 1);
	assert_int_equal(st.status_2xx[2], 1);
	assert_int_equal(st.retries, 0);
	assert_true(st.lat_p50_ms >= 0 && st.lat_p50_ms < 3000);
	srv_finish(s, h, 1);
	/* trailing slash of the base URL dropped, path appended */
	assert_int_equal(strncmp(s->req[0], "GET /v1/workspaces HTTP/1.1\r\n", 29), 0);
}

static void
http_do_sends_bearer_token(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 201, NULL, "{\"workspace_id\": \"x\"}", 0, 0 };
	srv_start(s, 1);
	h = srv_client(s, 3000, 0, 1 << 20);
	assert_int_equal(http_do(h, 0, "POST", "/workspaces", "{\"name\":\"nb\"}",
				 HTTP_RETRY_UNSENT, &resp, &err), 0);
	assert_int_equal(resp.status, 201);
	http_resp_free(&resp);
	srv_finish(s, h, 1);
	assert_int_equal(strncmp(s->req[0], "POST /v1/workspaces HTTP/1.1\r\n", 30), 0);
	assert_non_null(strstr(s->req[0], "\r\nAuthorization: Bearer " TOKEN "\r\n"));
	assert_non_null(strcasestr(s->req[0], "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strcasestr(s->req[0], "\r\nAccept: application/json"));
	assert_non_null(strstr(s->req[0], "\r\n\r\n{\"name\":\"nb\"}"));
}

static void
http_do_empty_reply(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 204, NULL, "", 0, 0 };
	srv_start(s, 1);
	h = srv_client(s, 3000, 0, 1 << 20);
	assert_int_equal(http_do(h, 0, "DELETE", "/workspace/x", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), 0);
	assert_int_equal(resp.status, 204);
	assert_non_null(resp.body);
	assert_string_equal(resp.body, "");
	assert_int_equal(resp.len, 0);
	http_resp_free(&resp);
	http_free(h);
	srv_join(s);
	assert_int_equal(strncmp(s->req[0], "DELETE /v1/workspace/x HTTP/1.1\r\n", 33), 0);
}

static void
http_do_retries_503(void **state)
{
	struct srv *s = *state;
	struct http_stats st;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 503, NULL, "{\"title\": \"busy\"}", 0, 0 };
	s->reply[1] = (struct srv_reply){ 200, NULL, "second", 0, 0 };
	srv_start(s, 2);
	h = srv_client(s, 3000, 2, 1 << 20);
	quiet_begin();
	assert_int_equal(http_do(h, 3, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), 0);
	quiet_end();
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "second");
	assert_int_equal(resp.attempts, 2);
	http_resp_free(&resp);
	/* both attempts counted in the caller's slot */
	http_get_stats(h, &st);
	assert_int_equal(st.requests[3], 2);
	assert_int_equal(st.status_5xx[3], 1);
	assert_int_equal(st.status_2xx[3], 1);
	assert_int_equal(st.transport_errors[3], 0);
	assert_int_equal(st.requests[0], 0);
	assert_int_equal(st.retries, 1);
	srv_finish(s, h, 2);
	/* no Retry-After header: the first backoff is 200 ms at least */
	if (s->got_at[1] - s->sent_at[0] < 200)
		fail_msg("retried after %lld ms, expected a backoff of >= 200 ms",
			 s->got_at[1] - s->sent_at[0]);
}

/* A 503 to a create is an answer: it is not repeated. */
static void
http_do_unsent_no_retry_on_503(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 503, NULL, "{}", 0, 0 };
	srv_start(s, 1);
	h = srv_client(s, 3000, 2, 1 << 20);
	assert_int_equal(http_do(h, 0, "POST", "/workspaces", "{}", HTTP_RETRY_UNSENT,
				 &resp, &err), 0);
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.attempts, 1);
	http_resp_free(&resp);
	srv_finish(s, h, 1);
}

static void
http_do_429_retry_after_zero(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 429, "Retry-After: 0\r\n", "{}", 0, 0 };
	s->reply[1] = (struct srv_reply){ 201, NULL, "{\"workspace_id\": \"y\"}", 0, 0 };
	srv_start(s, 2);
	h = srv_client(s, 3000, 1, 1 << 20);
	quiet_begin();
	/* 429 is retried even for a create */
	assert_int_equal(http_do(h, 0, "POST", "/workspaces", "{}", HTTP_RETRY_UNSENT,
				 &resp, &err), 0);
	quiet_end();
	assert_int_equal(resp.status, 201);
	assert_int_equal(resp.attempts, 2);
	http_resp_free(&resp);
	srv_finish(s, h, 2);
	/* Retry-After: 0 replaces the 200 ms backoff */
	if (s->got_at[1] - s->sent_at[0] >= 200)
		fail_msg("waited %lld ms despite Retry-After: 0",
			 s->got_at[1] - s->sent_at[0]);
}

/*
 * All attempts share one timeout: a Retry-After longer than what is left
 * of it ends the request at once with the answer in hand (a second
 * attempt would be refused: the server serves one connection).
 */
static void
http_do_retry_after_beyond_budget(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;
	long long t0, took;

	s->reply[0] = (struct srv_reply){ 429, "Retry-After: 3600\r\n", "{}", 0, 0 };
	srv_start(s, 1);
	h = srv_client(s, 2000, 3, 1 << 20);
	t0 = now_ms();
	quiet_begin();
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), 0);
	quiet_end();
	took = now_ms() - t0;
	assert_int_equal(resp.status, 429);
	assert_int_equal(resp.attempts, 1);
	assert_true(took < 1000);
	http_resp_free(&resp);
	srv_finish(s, h, 1);
}

/* A timed-out attempt used the whole budget: no retry after it. */
static void
http_do_total_time_within_timeout(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;
	long long t0, took;

	s->reply[0] = (struct srv_reply){ 0, NULL, NULL, 0, 1 };
	srv_start(s, 1);
	h = srv_client(s, 800, 3, 1 << 20);
	t0 = now_ms();
	quiet_begin();
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), -ETIMEDOUT);
	quiet_end();
	took = now_ms() - t0;
	assert_true(took >= 750);
	if (took >= 1400)
		fail_msg("took %lld ms with a timeout of 800 ms", took);
	assert_int_equal(resp.attempts, 1);
	free(err);
	srv_finish(s, h, 1);
}

static void
http_do_body_cap(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 200, NULL, NULL, 5000, 0 };
	srv_start(s, 1);
	h = srv_client(s, 3000, 2, 1000);
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), -EFBIG);
	assert_non_null(err);
	assert_non_null(strstr(err, "1000"));
	assert_int_equal(resp.attempts, 1);	/* not retried */
	assert_null(resp.body);
	free(err);
	srv_finish(s, h, 1);
}

static void
http_do_body_at_cap(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 200, NULL, NULL, 1000, 0 };
	srv_start(s, 1);
	h = srv_client(s, 3000, 0, 1000);
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), 0);
	assert_int_equal(resp.len, 1000);
	assert_int_equal(strlen(resp.body), 1000);
	http_resp_free(&resp);
	http_free(h);
	srv_join(s);
}

static void
http_do_timeout(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;
	long long t0, took;

	s->reply[0] = (struct srv_reply){ 0, NULL, NULL, 0, 1 };
	srv_start(s, 1);
	h = srv_client(s, 500, 0, 1 << 20);
	t0 = now_ms();
	assert_int_equal(http_do(h, 0, "GET", "/workspaces", NULL,
				 HTTP_RETRY_IDEMPOTENT, &resp, &err), -ETIMEDOUT);
	took = now_ms() - t0;
	assert_non_null(err);
	assert_null(strstr(err, TOKEN));
	assert_true(took >= 450);
	assert_true(took < 2500);
	/* the request was sent: whether it took effect is unknown */
	assert_int_equal(resp.unknown, 1);
	free(err);
	srv_finish(s, h, 1);
}

/* A create that timed out may have happened: never repeated. */
static void
http_do_timeout_unsent_not_retried(void **state)
{
	struct srv *s = *state;
	struct http *h;
	struct http_resp resp;
	char *err;

	s->reply[0] = (struct srv_reply){ 0, NULL, NULL, 0, 1 };
	srv_start(s, 1);
	h = srv_client(s, 500, 2, 1 << 20);
	assert_int_equal(http_do(h, 0, "POST", "/workspaces", "{}", HTTP_RETRY_UNSENT,
				 &resp, &err), -ETIMEDOUT);
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(resp.unknown, 1);
	free(err);
	srv_finish(s, h, 1);
}

static int
http_group_setup(void **state)
{
	(void)state;
	/* only ever talk to 127.0.0.1 directly */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("no_proxy", "*", 1);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == 0 ? 0 : -1;
}

static int
http_group_teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

#define SRV_TEST(f) cmocka_unit_test_setup_teardown(f, srv_setup, srv_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_should_retry_idempotent),
		cmocka_unit_test(http_should_retry_unsent),
		cmocka_unit_test(http_should_retry_never),
		cmocka_unit_test(http_backoff_ms_sequence),
		cmocka_unit_test(http_url_allowed_accepts),
		cmocka_unit_test(http_url_allowed_refuses),
		cmocka_unit_test(http_url_allowed_refuses_loopback_lookalikes),
		cmocka_unit_test(http_do_refused),
		cmocka_unit_test(http_do_refused_unsent_retries),
		cmocka_unit_test(http_do_no_token),
		SRV_TEST(http_do_ok),
		SRV_TEST(http_do_sends_bearer_token),
		SRV_TEST(http_do_empty_reply),
		SRV_TEST(http_do_retries_503),
		SRV_TEST(http_do_unsent_no_retry_on_503),
		SRV_TEST(http_do_429_retry_after_zero),
		SRV_TEST(http_do_retry_after_beyond_budget),
		SRV_TEST(http_do_total_time_within_timeout),
		SRV_TEST(http_do_body_cap),
		SRV_TEST(http_do_body_at_cap),
		SRV_TEST(http_do_timeout),
		SRV_TEST(http_do_timeout_unsent_not_retried),
	};

	return cmocka_run_group_tests(tests, http_group_setup, http_group_teardown);
}
