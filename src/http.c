/*
 * http: libcurl behind a small pool. Invariants: an easy handle is used by
 * one thread at a time (taken from and returned to the pool under pool_mu);
 * the share object locks its own data through http_share_lock; nothing is
 * sent to the network while pool_mu is held.
 */
#include "http.h"
#include "cred.h"
#include "log.h"
#include "secret.h"
#include "model.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_POOL_MAX 16

struct http {
	pthread_mutex_t base_mu;
	char *base_url;		/* guarded by base_mu: may change once (the /v1 fallback) */
	int base_settled;	/* guarded by base_mu */
	int anonymous;
	struct cred *cred;	/* where the token comes from */
	int own_cred;		/* made from cfg->token, freed with the client */
	char *cafile;
	long timeout_ms, connect_timeout_ms;
	int retries;
	size_t max_body;
	CURLSH *share;
	pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_mu;
	CURL *pool[HTTP_POOL_MAX];	/* guarded by pool_mu */
	int npool;			/* guarded by pool_mu */
	unsigned int seed;		/* guarded by pool_mu: jitter */
	pthread_mutex_t stats_mu;
	struct http_stats stats;	/* guarded by stats_mu */
	double lat[HTTP_LAT_RING];	/* guarded by stats_mu */
	unsigned long nlat;		/* guarded by stats_mu */
};

struct http_buf {
	char *data;
	size_t len, cap, max;
	int overflow;
};

static void
http_share_lock(CURL *c, curl_lock_data data, curl_lock_access a, void *u)
{
	struct http *h = u;

	(void)c;
	(void)a;
	pthread_mutex_lock(&h->share_mu[data]);
}

static void
http_share_unlock(CURL *c, curl_lock_data data, void *u)
{
	struct http *h = u;

	(void)c;
	pthread_mutex_unlock(&h->share_mu[data]);
}

/* Nonzero when host (length n) is a loopback name or address. */
static int
http_host_loopback(const char *host, size_t n)
{
	int parts = 0, digits = 0;

	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (n == 5 && strncmp(host, "[::1]", 5) == 0))
		return 1;
	if (n < 4 || strncmp(host, "127.", 4) != 0)
		return 0;
	/* a dotted quad 127.a.b.c, nothing else */
	for (size_t i = 0; i < n; i++) {
		if (host[i] >= '0' && host[i] <= '9') {
			if (++digits > 3)
				return 0;
		} else if (host[i] == '.' && digits > 0) {
			parts++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return parts == 3 && digits > 0;
}

int
http_url_allowed(const char *url)
{
	const char *host;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	host = url + 7;
	if (strchr(host, '@'))
		return 0;	/* no userinfo tricks */
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		n = close ? (size_t)(close - host) + 1 : strlen(host);
	} else {
		n = strcspn(host, ":/?#");
	}
	return http_host_loopback(host, n);
}

struct http *
http_new(const struct http_cfg *cfg, char **err)
{
	struct http *h = calloc(1, sizeof(*h));
	size_t blen;

	*err = NULL;
	if (!h)
		goto nomem;
	pthread_mutex_init(&h->pool_mu, NULL);
	pthread_mutex_init(&h->stats_mu, NULL);
	pthread_mutex_init(&h->base_mu, NULL);
	h->anonymous = cfg->anonymous;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_mu[i], NULL);
	h->base_url = strdup(cfg->base_url);
	if (!h->base_url)
		goto nomem;
	blen = strlen(h->base_url);
	while (blen > 0 && h->base_url[blen - 1] == '/')
		h->base_url[--blen] = '\0';
	h->cred = cfg->cred;
	if (!h->cred && !h->anonymous) {
		struct cred_cfg cc = { .token = cfg->token, .no_keyring = 1 };

		h->cred = cred_new(&cc, err);
		h->own_cred = 1;
		if (!h->cred) {
			http_free(h);
			return NULL;
		}
	}
	if (cfg->cafile && !(h->cafile = strdup(cfg->cafile)))
		goto nomem;
	h->timeout_ms = cfg->timeout_ms;
	h->connect_timeout_ms = cfg->connect_timeout_ms;
	h->retries = cfg->retries;
	h->max_body = cfg->max_body;
	h->seed = (unsigned int)time(NULL);
	h->share = curl_share_init();
	if (!h->share)
		goto nomem;
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, http_share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, http_share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return h;
nomem:
	*err = strdup("out of memory creating the HTTP client");
	http_free(h);
	return NULL;
}

void
http_free(struct http *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	if (h->share)
		curl_share_cleanup(h->share);
	if (h->own_cred)
		cred_free(h->cred);
	free(h->base_url);
	free(h->cafile);
	pthread_mutex_destroy(&h->stats_mu);
	pthread_mutex_destroy(&h->pool_mu);
	pthread_mutex_destroy(&h->base_mu);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_mu[i]);
	free(h);
}

static CURL *
http_take(struct http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->pool_mu);
	if (h->npool > 0)
		c = h->pool[--h->npool];
	pthread_mutex_unlock(&h->pool_mu);
	if (!c) {
		c = curl_easy_init();
		if (c)
			curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	}
	return c;
}

static void
http_give(struct http *h, CURL *c)
{
	pthread_mutex_lock(&h->pool_mu);
	if (h->npool < HTTP_POOL_MAX) {
		h->pool[h->npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->pool_mu);
	if (c)
		curl_easy_cleanup(c);
}

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *u)
{
	struct http_buf *b = u;
	size_t n = size * nmemb;

	if (b->len + n > b->max) {
		b->overflow = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Note a Retry-After given in seconds (an HTTP-date is left to backoff). */
static size_t
http_header_cb(char *buf, size_t size, size_t nitems, void *u)
{
	static const char name[] = "retry-after:";
	size_t n = size * nitems, k = sizeof(name) - 1;
	long *retry_after = u;

	if (n > k && strncasecmp(buf, name, k) == 0) {
		long secs = 0;
		size_t i = k, digits = 0;

		while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		for (; i < n && buf[i] >= '0' && buf[i] <= '9' && digits < 6; i++, digits++)
			secs = secs * 10 + (buf[i] - '0');
		if (digits > 0)
			*retry_after = secs;
	}
	return n;
}

int
http_should_retry(enum http_retry retry, int rc, int unsent, long status,
		  int attempt, int max_retries)
{
	if (attempt >= max_retries)
		return 0;
	if (rc == -EACCES || rc == -EFBIG || rc == -ENOMEM)
		return 0;
	if (rc < 0)
		return retry == HTTP_RETRY_IDEMPOTENT || unsent;
	if (status == 429)
		return 1;
	return retry == HTTP_RETRY_IDEMPOTENT && status >= 500 && status <= 599;
}

long
http_backoff_ms(int attempt, long jitter)
{
	long ms = 200;

	for (int i = 1; i < attempt && ms < 5000; i++)
		ms *= 2;
	if (ms > 5000)
		ms = 5000;
	return ms + (jitter > 0 ? jitter : 0);
}

static void
http_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Map a curl failure to an errno; *unsent when nothing reached the server,
 * *unknown when the request may have reached it but no answer came back. */
static int
http_curl_errno(CURLcode cc, int overflow, int *unsent, int *unknown)
{
	*unsent = 0;
	*unknown = cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_GOT_NOTHING ||
		   cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
		   cc == CURLE_PARTIAL_FILE;
	if (overflow)
		return -EFBIG;
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		*unsent = 1;
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* One attempt; fills resp or returns -errno with *err. */
static int
http_once(struct http *h, CURL *c, const char *method, const char *url,
	  const char *auth, const char *body, const char *ctype, long budget_ms, int fresh,
	  size_t max_body, int partial_ok, struct http_resp *resp, int *unsent,
	  long *retry_after, char **err)
{
	struct curl_slist *hdrs = NULL;
	struct http_buf b = { .max = max_body };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int rc = 0;

	*unsent = 0;
	*retry_after = -1;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	hdrs = curl_slist_append(hdrs, "Accept: application/json, application/problem+json");
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	if (body)
		hdrs = curl_slist_append(hdrs, ctype);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 h->connect_timeout_ms < budget_ms ? h->connect_timeout_ms : budget_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	/* our own parse: libcurl reports 0 both for "Retry-After: 0" and none */
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, retry_after);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "exalsiusfs/" EXFS_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* on a reused connection that dies, libcurl silently sends the request
	 * again: never acceptable for a request that must not run twice */
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
	if (h->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cafile);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	} else if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK && partial_ok && b.len > 0 &&
	    (b.overflow || cc == CURLE_OPERATION_TIMEDOUT) &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status) == CURLE_OK &&
	    resp->status == 200) {
		/* a stream cut at its size or time bound: keep what came */
		resp->truncated = 1;
		cc = CURLE_OK;
	}
	if (cc != CURLE_OK) {
		rc = http_curl_errno(cc, b.overflow, unsent, &resp->unknown);
		if (rc == -EFBIG)
			*err = model_asprintf("%s %s: reply larger than %zu bytes",
					      method, url, max_body);
		else
			*err = model_asprintf("%s %s: %s", method, url,
					      errbuf[0] ? errbuf : curl_easy_strerror(cc));
		free(b.data);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);

	resp->body = b.data ? b.data : strdup("");
	resp->len = b.len;
	if (!resp->body)
		rc = -ENOMEM;
out:
	/* detach stack buffers before the handle goes back to the pool */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

static long long
http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
http_record(struct http *h, int slot, int rc, long status, long long ms)
{
	pthread_mutex_lock(&h->stats_mu);
	h->stats.requests[slot]++;
	if (rc < 0)
		h->stats.transport_errors[slot]++;
	else if (status >= 200 && status < 300)
		h->stats.status_2xx[slot]++;
	else if (status >= 400 && status < 500)
		h->stats.status_4xx[slot]++;
	else if (status >= 500)
		h->stats.status_5xx[slot]++;
	h->lat[h->nlat++ % HTTP_LAT_RING] = (double)ms;
	pthread_mutex_unlock(&h->stats_mu);
}

static int
http_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
http_get_stats(struct http *h, struct http_stats *out)
{
	double lat[HTTP_LAT_RING];
	size_t n;

	pthread_mutex_lock(&h->stats_mu);
	*out = h->stats;
	n = h->nlat < HTTP_LAT_RING ? h->nlat : HTTP_LAT_RING;
	memcpy(lat, h->lat, n * sizeof(*lat));
	pthread_mutex_unlock(&h->stats_mu);
	out->lat_p50_ms = out->lat_p99_ms = 0;
	if (n == 0)
		return;
	qsort(lat, n, sizeof(*lat), http_cmp_double);
	out->lat_p50_ms = lat[(n - 1) / 2];
	out->lat_p99_ms = lat[(n - 1) * 99 / 100];
}

static int
http_do_opts(struct http *h, int slot, const char *method, const char *path,
	     const char *body, const char *ctype, enum http_retry retry,
	     size_t max_body, long max_ms, int partial_ok,
	     struct http_resp *resp, char **err);

#define HTTP_CT_JSON "Content-Type: application/json"
#define HTTP_CT_FORM "Content-Type: application/x-www-form-urlencoded"
#define HTTP_AUTH_PREFIX "Authorization: Bearer "

/* The Authorization header line for the current token (allocated in
 * *auth, which is replaced when the token differs from the one it holds;
 * after a 401 that token is the one refused). 1 when the token changed,
 * 0 when not, -EACCES with *err when there is none. */
static int
http_auth(struct http *h, int refused, char **auth, char **err)
{
	const char *old = *auth ? *auth + strlen(HTTP_AUTH_PREFIX) : NULL;
	char *token = NULL, *cerr = NULL;
	int changed;

	cred_get(h->cred, refused ? old : NULL, &token, &cerr);
	if (!token) {
		*err = cerr ? cerr : strdup("no access token: log in (exls login or exalsiusfs login), "
					     "or set EXALSIUS_TOKEN, -o token_file or -o token_cmd");
		return -EACCES;
	}
	free(cerr);
	changed = !old || strcmp(old, token) != 0;
	if (changed) {
		secret_wipe(*auth);
		*auth = model_asprintf(HTTP_AUTH_PREFIX "%s", token);
	}
	secret_wipe(token);
	if (!*auth) {
		*err = strdup("out of memory");
		return -EACCES;
	}
	return changed;
}

int
http_do(struct http *h, int slot, const char *method, const char *path,
	const char *body, enum http_retry retry, struct http_resp *resp,
	char **err)
{
	return http_do_opts(h, slot, method, path, body, HTTP_CT_JSON, retry,
			    h->max_body, h->timeout_ms, 0, resp, err);
}

int
http_post_form(struct http *h, const char *path, const char *form,
	       struct http_resp *resp, char **err)
{
	return http_do_opts(h, 0, "POST", path, form, HTTP_CT_FORM,
			    HTTP_RETRY_UNSENT, h->max_body, h->timeout_ms, 0,
			    resp, err);
}

int
http_set_base_url(struct http *h, const char *url)
{
	char *u = strdup(url);
	size_t n;

	if (!u)
		return -ENOMEM;
	n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	pthread_mutex_lock(&h->base_mu);
	free(h->base_url);
	h->base_url = u;
	pthread_mutex_unlock(&h->base_mu);
	return 0;
}

int
http_base_settled(struct http *h)
{
	int v;

	pthread_mutex_lock(&h->base_mu);
	v = h->base_settled;
	pthread_mutex_unlock(&h->base_mu);
	return v;
}

void
http_base_settle(struct http *h)
{
	pthread_mutex_lock(&h->base_mu);
	h->base_settled = 1;
	pthread_mutex_unlock(&h->base_mu);
}

char *
http_base_url(struct http *h)
{
	char *u;

	pthread_mutex_lock(&h->base_mu);
	u = strdup(h->base_url);
	pthread_mutex_unlock(&h->base_mu);
	return u;
}

int
http_get_partial(struct http *h, int slot, const char *path, size_t max_body,
		 long max_ms, struct http_resp *resp, char **err)
{
	if (max_ms > h->timeout_ms)
		max_ms = h->timeout_ms;
	return http_do_opts(h, slot, "GET", path, NULL, NULL,
			    HTTP_RETRY_IDEMPOTENT, max_body, max_ms, 1, resp, err);
}

static int
http_do_opts(struct http *h, int slot, const char *method, const char *path,
	     const char *body, const char *ctype, enum http_retry retry,
	     size_t max_body, long max_ms, int partial_ok,
	     struct http_resp *resp, char **err)
{
	long long deadline = http_now_ms() + max_ms;
	char *url = NULL, *auth = NULL;
	int rc, attempt, reauth = 0;
	CURL *c = NULL;

	memset(resp, 0, sizeof(*resp));
	*err = NULL;
	if (slot < 0 || slot >= HTTP_SLOTS)
		slot = 0;
	if (!h->anonymous && http_auth(h, 0, &auth, err) < 0)
		return -EACCES;
	pthread_mutex_lock(&h->base_mu);
	url = model_asprintf("%s%s", h->base_url, path);
	pthread_mutex_unlock(&h->base_mu);
	c = http_take(h);
	if (!url || !c) {
		rc = -ENOMEM;
		*err = strdup("out of memory");
		goto out;
	}
	for (attempt = 0;; attempt++) {
		long long t0 = http_now_ms();
		long retry_after = -1, wait, budget = (long)(deadline - t0);
		int unsent = 0, unknown;
		unsigned int r;

		free(*err);
		*err = NULL;
		http_resp_free(resp);
		if (budget < 1)
			budget = 1;
		rc = http_once(h, c, method, url, auth, body, ctype, budget,
			       retry == HTTP_RETRY_UNSENT, max_body, partial_ok,
			       resp, &unsent, &retry_after, err);
		http_record(h, slot, rc, resp->status, http_now_ms() - t0);
		resp->attempts = attempt + 1;
		unknown = resp->unknown;
		/* a rejected token: get a fresh one once and ask again */
		if (rc == 0 && resp->status == 401 && !reauth && !h->anonymous &&
		    cred_refreshable(h->cred)) {
			char *cerr = NULL;

			reauth = 1;
			if (http_auth(h, 1, &auth, &cerr) > 0) {
				log_msg(LOG_LVL_INFO, "%s %s: HTTP 401, asking again with a new token",
					method, path);
				attempt--;
				continue;
			}
			free(cerr);
		}
		if (!http_should_retry(retry, rc, unsent, resp->status, attempt,
				       h->retries))
			break;
		pthread_mutex_lock(&h->pool_mu);
		r = (unsigned int)rand_r(&h->seed);
		pthread_mutex_unlock(&h->pool_mu);
		wait = http_backoff_ms(attempt + 1, (long)(r % 100));
		if (retry_after >= 0)
			wait = retry_after * 1000;	/* the server knows best */
		/* the whole request stays within its time budget */
		if (http_now_ms() + wait + 50 >= deadline)
			break;
		resp->unknown = unknown;
		log_msg(LOG_LVL_INFO, "%s %s: %s%ld, retry %d in %ld ms", method,
			path, rc < 0 ? "failed, errno " : "HTTP ",
			rc < 0 ? (long)-rc : resp->status, attempt + 1, wait);
		pthread_mutex_lock(&h->stats_mu);
		h->stats.retries++;
		pthread_mutex_unlock(&h->stats_mu);
		http_sleep_ms(wait);
	}
out:
	if (c)
		http_give(h, c);
	free(url);
	secret_wipe(auth);
	return rc;
}

void
http_resp_free(struct http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
	resp->status = 0;
}

/* ---- streams ------------------------------------------------------------ */

#define HTTP_STREAM_ERR_BODY 65536	/* a refusal's body kept for its message */

struct http_stream {
	struct http *h;
	int slot;
	CURLM *multi;
	CURL *easy;		/* in multi while a transfer runs */
	int running;
	struct curl_slist *hdrs;
	char *auth;		/* the header line, wiped when freed */
	char *url;
	char errbuf[CURL_ERROR_SIZE];
	long long t0, t_answer;	/* started, status line received */
	http_data_fn data;
	void *arg;
	long status;		/* known once the first body byte came */
	struct http_buf err_body;	/* the body of a non-200 answer */
	int stopped;		/* data() asked to stop */
};

static size_t
http_stream_write(char *ptr, size_t size, size_t nmemb, void *u)
{
	struct http_stream *s = u;
	size_t n = size * nmemb;

	if (!s->status)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status != 200) {
		/* a refusal: keep the start of its body for the message */
		if (s->err_body.len + n > s->err_body.max)
			n = s->err_body.max - s->err_body.len;
		if (n > 0 && http_write_cb(ptr, 1, n, &s->err_body) != n)
			return 0;
		return size * nmemb;
	}
	if (s->data(s->arg, ptr, n) != 0) {
		s->stopped = 1;
		return 0;
	}
	return n;
}

struct http_stream *
http_stream_new(struct http *h, int slot)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->h = h;
	s->slot = slot < 0 || slot >= HTTP_SLOTS ? 0 : slot;
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	if (!s->multi || !s->easy) {
		http_stream_free(s);
		return NULL;
	}
	return s;
}

static void
http_stream_detach(struct http_stream *s)
{
	if (s->running)
		curl_multi_remove_handle(s->multi, s->easy);
	s->running = 0;
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	free(s->url);
	s->url = NULL;
	free(s->err_body.data);
	memset(&s->err_body, 0, sizeof(s->err_body));
}

void
http_stream_free(struct http_stream *s)
{
	if (!s)
		return;
	if (s->easy)
		http_stream_detach(s);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	secret_wipe(s->auth);
	free(s);
}

int
http_stream_start(struct http_stream *s, const char *path, int reauth,
		  http_data_fn data, void *arg, char **err)
{
	struct http *h = s->h;
	CURL *c = s->easy;
	int rc;

	*err = NULL;
	http_stream_detach(s);
	if (!h->anonymous && (rc = http_auth(h, reauth, &s->auth, err)) < 0)
		return rc;
	pthread_mutex_lock(&h->base_mu);
	s->url = model_asprintf("%s%s", h->base_url, path);
	pthread_mutex_unlock(&h->base_mu);
	s->hdrs = curl_slist_append(NULL, "Accept: application/x-ndjson, application/json, "
					  "application/problem+json");
	if (s->hdrs && s->auth)
		s->hdrs = curl_slist_append(s->hdrs, s->auth);
	if (!s->url || !s->hdrs) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	s->data = data;
	s->arg = arg;
	s->status = 0;
	s->t_answer = 0;
	s->stopped = 0;
	s->errbuf[0] = '\0';
	s->err_body.max = HTTP_STREAM_ERR_BODY;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* no bound on the whole transfer (the stream has no end); one on
	 * connecting, and TCP keepalive finds a peer that vanished */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_stream_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "exalsiusfs/" EXFS_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cafile);
	if (curl_multi_add_handle(s->multi, c) != CURLM_OK) {
		*err = strdup("could not start the transfer");
		return -EIO;
	}
	s->running = 1;
	s->t0 = http_now_ms();
	return 0;
}

/* The transfer ended with cc: fill end, record it. */
static void
http_stream_ended(struct http_stream *s, CURLcode cc, struct http_stream_end *end)
{
	int unsent, unknown;

	memset(end, 0, sizeof(*end));
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &end->status);
	if (s->stopped) {
		end->rc = -ECANCELED;
	} else if (cc != CURLE_OK) {
		end->rc = http_curl_errno(cc, 0, &unsent, &unknown);
		end->err = model_asprintf("GET %s: %s", s->url,
					  s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
	} else if (end->status != 200) {
		end->body = s->err_body.data ? s->err_body.data : strdup("");
		end->len = s->err_body.len;
		memset(&s->err_body, 0, sizeof(s->err_body));
	}
	/* the latency of a stream is the wait for its answer, not its life */
	http_record(s->h, s->slot, end->rc == -ECANCELED ? 0 : end->rc, end->status,
		    (s->t_answer ? s->t_answer : http_now_ms()) - s->t0);
	http_stream_detach(s);
}

int
http_stream_run(struct http_stream *s, long timeout_ms, struct http_stream_end *end)
{
	int still, left;
	CURLMsg *m;

	if (!s->running) {
		memset(end, 0, sizeof(*end));
		end->rc = -EINVAL;
		return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		curl_multi_perform(s->multi, &still);
		while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (m->msg == CURLMSG_DONE && m->easy_handle == s->easy) {
				http_stream_ended(s, m->data.result, end);
				return 0;
			}
		}
		if (pass == 0)
			curl_multi_poll(s->multi, NULL, 0, timeout_ms < 0 ? 0 : (int)timeout_ms, NULL);
	}
	return 1;
}

long
http_stream_status(struct http_stream *s)
{
	long status = 0;

	if (s->running && curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	    status && !s->t_answer)
		s->t_answer = http_now_ms();
	return s->running ? status : 0;
}

void
http_stream_wakeup(struct http_stream *s)
{
	curl_multi_wakeup(s->multi);
}

void
http_stream_end_free(struct http_stream_end *end)
{
	free(end->err);
	free(end->body);
	memset(end, 0, sizeof(*end));
}
