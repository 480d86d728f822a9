/*
 * test_vfs: the filesystem's policy layers without a mount, driven through
 * vfs.h against a fake workspace API served by a thread of this process on
 * 127.0.0.1 (port 0): one open handle read by 16 threads at once (also run
 * under ThreadSanitizer by make tsan), names that stay put after an rmdir,
 * drafts never shadowed by a workspace of the same name and rmdir of a
 * draft with other files, waits answered from the watcher (reached state,
 * typo, cancel, delete). The fake API holds the list as JSON, changes it
 * for start and delete, and counts what it was asked. Every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http.h"
#include "vfs.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ID1 "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define ID2 "22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define ID3 "33333333-cccc-4ccc-8ccc-cccccccccccc"
#define WS(id, name, status, created) \
	"{\"id\": \"" id "\", \"name\": \"" name "\", \"workspace_status\": \"" status \
	"\", \"created_at\": \"" created "\", \"cluster_id\": \"" ID3 "\"}"

/* ---- the fake API ----------------------------------------------------------- */

struct api {
	int lfd, port;
	pthread_t th;
	pthread_mutex_t mu;
	json_t *list;	/* guarded by mu: the workspaces array */
	int stop;	/* guarded by mu */
	int lists, describes, deletes, starts;	/* guarded by mu */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
api_reply(int fd, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, strlen(body));

	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0 ||
	    send(fd, body, strlen(body), MSG_NOSIGNAL) < 0)
		return;
}

/* The index of id in the list, or -1 (under mu). */
static long
api_find(struct api *a, const char *id)
{
	size_t i;
	json_t *w;

	json_array_foreach(a->list, i, w)
		if (strcmp(json_string_value(json_object_get(w, "id")), id) == 0)
			return (long)i;
	return -1;
}

static void
api_serve(struct api *a, int fd)
{
	char req[4096], method[8] = "", path[256] = "", id[64] = "", *body = NULL;
	size_t got = 0;
	ssize_t n;
	long i;

	while (got < sizeof(req) - 1 && (n = recv(fd, req + got, sizeof(req) - 1 - got, 0)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[got] = '\0';
	if (sscanf(req, "%7s %255s", method, path) != 2) {
		api_reply(fd, 400, "{}");
		return;
	}
	pthread_mutex_lock(&a->mu);
	if (strcmp(method, "GET") == 0 && strcmp(path, "/v1/workspaces") == 0) {
		json_t *o = json_pack("{sO}", "workspaces", a->list);

		a->lists++;
		body = json_dumps(o, 0);
		json_decref(o);
		api_reply(fd, 200, body);
	} else if (sscanf(path, "/v1/workspace/%36[0-9a-f-]", id) == 1 &&
		   (i = api_find(a, id)) >= 0) {
		json_t *w = json_array_get(a->list, (size_t)i);

		if (strcmp(method, "DELETE") == 0) {
			a->deletes++;
			json_array_remove(a->list, (size_t)i);
			api_reply(fd, 200, "{}");
		} else if (strcmp(method, "POST") == 0 && strstr(path, "/start")) {
			a->starts++;
			json_object_set_new(w, "workspace_status", json_string("RUNNING"));
			api_reply(fd, 200, "{}");
		} else {
			a->describes++;
			body = json_dumps(w, 0);
			api_reply(fd, 200, body);
		}
	} else {
		api_reply(fd, 404, "{\"detail\": \"not found\"}");
	}
	pthread_mutex_unlock(&a->mu);
	free(body);
}

static void *
api_main(void *arg)
{
	struct api *a = arg;

	for (;;) {
		struct pollfd p = { .fd = a->lfd, .events = POLLIN };
		int stop, fd;

		pthread_mutex_lock(&a->mu);
		stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(a->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		api_serve(a, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

static void
api_start(struct api *a, const char *list)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t alen = sizeof(sa);
	json_error_t je;

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	a->list = json_loads(list, 0, &je);
	assert_non_null(a->list);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(a->lfd >= 0);
	assert_int_equal(bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(a->lfd, 64), 0);
	assert_int_equal(getsockname(a->lfd, (struct sockaddr *)&sa, &alen), 0);
	a->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&a->th, NULL, api_main, a), 0);
}

static void
api_stop(struct api *a)
{
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	close(a->lfd);
	json_decref(a->list);
	pthread_mutex_destroy(&a->mu);
}

/* Add a workspace to the list, as another client would. */
static void
api_add(struct api *a, const char *ws)
{
	json_error_t je;
	json_t *w = json_loads(ws, 0, &je);

	assert_non_null(w);
	pthread_mutex_lock(&a->mu);
	json_array_append_new(a->list, w);
	pthread_mutex_unlock(&a->mu);
}

static void
api_set_status(struct api *a, const char *id, const char *status)
{
	long i;

	pthread_mutex_lock(&a->mu);
	i = api_find(a, id);
	assert_true(i >= 0);
	json_object_set_new(json_array_get(a->list, (size_t)i), "workspace_status",
			    json_string(status));
	pthread_mutex_unlock(&a->mu);
}

static int
api_count(struct api *a, const int *field)
{
	int n;

	pthread_mutex_lock(&a->mu);
	n = *field;
	pthread_mutex_unlock(&a->mu);
	return n;
}

/* ---- a vfs on it ------------------------------------------------------------ */

struct fixture {
	struct api api;
	struct http *h;
	struct vfs *v;
};

static void
fixture_start(struct fixture *fx, const char *list, long long ttl_ms)
{
	struct http_cfg hc = { 0 };
	struct vfs_cfg vc = { 0 };
	char base[64], *err = NULL;

	api_start(&fx->api, list);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", fx->api.port);
	hc.base_url = base;
	hc.token = "unit-token";
	hc.timeout_ms = 5000;
	hc.connect_timeout_ms = 2000;
	hc.max_body = 1 << 20;
	fx->h = http_new(&hc, &err);
	assert_non_null(fx->h);
	vc.ttl_ms = ttl_ms;
	vc.max_stale_ms = 0;
	vc.wait_timeout_ms = 10000;
	vc.wait_interval_ms = 50;
	fx->v = vfs_new(&vc, fx->h);
	assert_non_null(fx->v);
	assert_int_equal(vfs_start(fx->v), 0);
}

static void
fixture_stop(struct fixture *fx)
{
	vfs_stop(fx->v);
	vfs_free(fx->v);
	http_free(fx->h);
	api_stop(&fx->api);
}

/* Whether name is in directory path. */
struct names {
	char v[16][64];
	int n;
};

static int
collect(void *ctx, const char *name, const struct vfs_attr *a)
{
	struct names *ns = ctx;

	(void)a;
	if (ns->n < 16)
		snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s", name);
	return 0;
}

static int
listed(struct vfs *v, const char *dir, const char *name)
{
	struct names ns = { .n = 0 };
	int cacheable;

	assert_int_equal(vfs_readdir(v, dir, collect, &ns, &cacheable), 0);
	for (int i = 0; i < ns.n; i++)
		if (strcmp(ns.v[i], name) == 0)
			return 1;
	return 0;
}

/* ---- handles ---------------------------------------------------------------- */

#define READERS 16
#define READS 2000

struct reader {
	struct vfs *v;
	struct vfs_file *f;
	const char *want;
	int bad;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	char buf[4096];

	for (int i = 0; i < READS; i++) {
		/* offset 0 takes a fresh rendering: the handle's snapshot is
		 * swapped under the other readers */
		off_t off = (i % 3 == 0) ? 0 : (off_t)(i % 7);
		int n = vfs_read(r->v, r->f, buf, sizeof(buf), off);

		if (n < 0 || (size_t)n != strlen(r->want) - (size_t)off ||
		    memcmp(buf, r->want + off, (size_t)n) != 0)
			r->bad++;
	}
	return NULL;
}

static void
vfs_handle_read_by_16_threads(void **state)
{
	struct fixture fx;
	struct reader r[READERS];
	pthread_t th[READERS];
	struct vfs_file *f;
	char first[4096];
	int n, bad = 0;

	(void)state;
	fixture_start(&fx, "[" WS(ID1, "a", "RUNNING", "2026-01-01T00:00:00Z") "]", 60000);
	assert_int_equal(vfs_open(fx.v, "/a/status.json", O_RDONLY, &f), 0);
	n = vfs_read(fx.v, f, first, sizeof(first) - 1, 0);
	assert_true(n > 0);
	first[n] = '\0';
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct reader){ .v = fx.v, .f = f, .want = first };
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &r[i]), 0);
	}
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
		bad += r[i].bad;
	}
	assert_int_equal(bad, 0);
	vfs_release(fx.v, f);
	fixture_stop(&fx);
}

/* The bytes an open hands to the kernel's page cache are the ones a read
 * of the same handle returns; a buffer too small is -EFBIG; direct-I/O
 * files (control) have none. Handing them over counts as the handle's
 * first read: after a change, a read from the start (poll(2), then
 * lseek(2) and read) gets the new content. */
static void
vfs_handle_bytes_for_the_page_cache(void **state)
{
	struct fixture fx;
	struct vfs_file *f, *ctl;
	char bytes[4096], read[4096], tiny[4];
	int n, m;

	(void)state;
	fixture_start(&fx, "[" WS(ID1, "a", "RUNNING", "2026-01-01T00:00:00Z") "]", 60000);
	assert_int_equal(vfs_open(fx.v, "/a/status.json", O_RDONLY, &f), 0);
	n = vfs_file_bytes(f, bytes, sizeof(bytes));
	assert_true(n > 2);
	assert_int_equal(bytes[0], '{');
	assert_int_equal(vfs_file_bytes(f, tiny, sizeof(tiny)), -EFBIG);
	m = vfs_read(fx.v, f, read, sizeof(read), 0);
	assert_int_equal(m, n);
	assert_memory_equal(read, bytes, (size_t)n);
	vfs_release(fx.v, f);
	assert_int_equal(vfs_open(fx.v, "/a/status", O_RDONLY, &f), 0);
	assert_int_equal(vfs_file_bytes(f, bytes, sizeof(bytes)), 8);
	assert_memory_equal(bytes, "RUNNING\n", 8);
	api_set_status(&fx.api, ID1, "STOPPED");
	assert_int_equal(vfs_open(fx.v, "/.ctl", O_WRONLY, &ctl), 0);
	assert_int_equal(vfs_write(fx.v, ctl, "refresh", 7, 0), 7);
	vfs_release(fx.v, ctl);
	assert_int_equal(vfs_read(fx.v, f, read, sizeof(read), 0), 8);
	assert_memory_equal(read, "STOPPED\n", 8);
	vfs_release(fx.v, f);
	assert_int_equal(vfs_open(fx.v, "/a/control", O_RDONLY, &f), 0);
	assert_int_equal(vfs_file_bytes(f, bytes, sizeof(bytes)), -EINVAL);
	vfs_release(fx.v, f);
	fixture_stop(&fx);
}

/* ---- names ------------------------------------------------------------------ */

static void
vfs_names_stay_put_after_rmdir(void **state)
{
	struct fixture fx;
	struct vfs_attr a;

	(void)state;
	fixture_start(&fx, "[" WS(ID2, "x", "RUNNING", "2026-01-02T00:00:00Z") ","
			   WS(ID1, "x", "RUNNING", "2026-01-01T00:00:00Z") "]", 0);
	/* the older one has the plain name, the newer one name@id8 */
	assert_int_equal(vfs_getattr(fx.v, "/x", &a), 0);
	assert_int_equal(vfs_getattr(fx.v, "/x@22222222", &a), 0);
	assert_int_equal(vfs_rmdir(fx.v, "/x"), 0);
	assert_int_equal(api_count(&fx.api, &fx.api.deletes), 1);
	/* the survivor keeps its name; a retried rmdir acts on nothing */
	assert_int_equal(vfs_getattr(fx.v, "/x", &a), -ENOENT);
	assert_true(listed(fx.v, "/", "x@22222222"));
	assert_false(listed(fx.v, "/", "x"));
	assert_int_equal(vfs_rmdir(fx.v, "/x"), -ENOENT);
	assert_int_equal(vfs_open(fx.v, "/x/control", O_WRONLY, &(struct vfs_file *){ NULL }), -ENOENT);
	assert_int_equal(api_count(&fx.api, &fx.api.deletes), 1);
	fixture_stop(&fx);
}

/* ---- drafts ----------------------------------------------------------------- */

static void
vfs_draft_never_shadowed(void **state)
{
	struct fixture fx;
	struct vfs_file *f;
	struct vfs_attr a;

	(void)state;
	/* cache_ttl=0: every readdir asks the API */
	fixture_start(&fx, "[" WS(ID1, "a", "RUNNING", "2026-01-01T00:00:00Z") "]", 0);
	assert_int_equal(vfs_mkdir(fx.v, "/d"), 0);
	assert_true(listed(fx.v, "/", "d"));
	/* another client creates a workspace named d */
	api_add(&fx.api, WS(ID2, "d", "PENDING", "2026-01-03T00:00:00Z"));
	assert_true(listed(fx.v, "/", "d"));
	assert_true(listed(fx.v, "/", "d@22222222"));
	assert_int_equal(vfs_getattr(fx.v, "/d/spec.json", &a), 0);
	/* rmdir d removes the draft only */
	assert_int_equal(vfs_rmdir(fx.v, "/d"), 0);
	assert_int_equal(api_count(&fx.api, &fx.api.deletes), 0);
	assert_true(listed(fx.v, "/", "d@22222222"));
	/* a draft holding other files is not empty */
	assert_int_equal(vfs_mkdir(fx.v, "/e"), 0);
	assert_int_equal(vfs_create(fx.v, "/e/sedAbC123", O_WRONLY | O_CREAT, &f), 0);
	vfs_release(fx.v, f);
	assert_int_equal(vfs_rmdir(fx.v, "/e"), -ENOTEMPTY);
	assert_int_equal(vfs_unlink(fx.v, "/e/sedAbC123"), 0);
	assert_int_equal(vfs_rmdir(fx.v, "/e"), 0);
	fixture_stop(&fx);
}

/* ---- waits ------------------------------------------------------------------ */

struct waited {
	pthread_mutex_t mu;
	int done;		/* guarded by mu */
	int rc;			/* guarded by mu */
	struct vfs_file *f;	/* guarded by mu */
};

static void
wait_done(void *arg, int rc, struct vfs_file *f)
{
	struct waited *w = arg;

	pthread_mutex_lock(&w->mu);
	w->done++;
	w->rc = rc;
	w->f = f;
	pthread_mutex_unlock(&w->mu);
}

/* Wait (5 s at most) for the callback; its rc, or 1 when it never came. */
static int
wait_result(struct waited *w, struct vfs_file **f)
{
	long long end = now_ms() + 5000;
	int done = 0, rc = 1;

	while (now_ms() < end) {
		pthread_mutex_lock(&w->mu);
		done = w->done;
		rc = w->rc;
		if (f)
			*f = w->f;
		pthread_mutex_unlock(&w->mu);
		if (done)
			break;
		usleep(10000);
	}
	assert_true(done <= 1);
	return done ? rc : 1;
}

static void
vfs_waits(void **state)
{
	struct fixture fx;
	struct waited w1 = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct waited w2 = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct waited w3 = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct vfs_file *f = NULL;
	char buf[64];
	int k1, k2, k3, n;

	(void)state;
	fixture_start(&fx, "[" WS(ID1, "w", "PENDING", "2026-01-01T00:00:00Z") ","
			   WS(ID2, "z", "RUNNING", "2026-01-02T00:00:00Z") "]", 0);
	/* a typo never blocks */
	assert_int_equal(vfs_wait_begin(fx.v, "/w/wait/RUNING", O_RDONLY, &k1, wait_done, &w1), -ENOENT);
	/* a state reached later: answered with an open handle */
	assert_int_equal(vfs_wait_begin(fx.v, "/w/wait/RUNNING", O_RDONLY, &k1, wait_done, &w1), 1);
	vfs_wait_arm(fx.v, &k1);
	usleep(200000);
	pthread_mutex_lock(&w1.mu);
	assert_int_equal(w1.done, 0);	/* still waiting */
	pthread_mutex_unlock(&w1.mu);
	api_set_status(&fx.api, ID1, "RUNNING");
	assert_int_equal(wait_result(&w1, &f), 0);
	assert_non_null(f);
	n = vfs_read(fx.v, f, buf, sizeof(buf), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "RUNNING\n", 8);
	vfs_release(fx.v, f);
	/* cancelled (Ctrl-C): EINTR */
	assert_int_equal(vfs_wait_begin(fx.v, "/z/wait/STOPPED", O_RDONLY, &k2, wait_done, &w2), 1);
	vfs_wait_arm(fx.v, &k2);
	vfs_wait_cancel(fx.v, &k2);
	assert_int_equal(wait_result(&w2, NULL), -EINTR);
	/* the workspace deleted: ENOENT at once */
	assert_int_equal(vfs_wait_begin(fx.v, "/z/wait/STOPPED", O_RDONLY, &k3, wait_done, &w3), 1);
	vfs_wait_arm(fx.v, &k3);
	assert_int_equal(vfs_rmdir(fx.v, "/z"), 0);
	assert_int_equal(wait_result(&w3, NULL), -ENOENT);
	fixture_stop(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vfs_handle_read_by_16_threads),
		cmocka_unit_test(vfs_handle_bytes_for_the_page_cache),
		cmocka_unit_test(vfs_names_stay_put_after_rmdir),
		cmocka_unit_test(vfs_draft_never_shadowed),
		cmocka_unit_test(vfs_waits),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
