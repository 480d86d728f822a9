/*
 * test_cred: the token sources without a network: the order (cmd, file,
 * environment, our own login file), token_source pinning and its
 * refusals, the helper command re-run after a 401 right after start-up
 * but at most every 5 s after that, a stale 401 (a token already
 * replaced) answered without a re-run, a storm of 401s from many threads
 * sharing one run, the login file picked up when it appears, a login
 * service that does not answer asked once, not by every request, and
 * .account's text (claims shown, the token never).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cred.h"
#include "oauth.h"
#include "http.h"
#include "store.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/exfs-test-cred.XXXXXX";

/* a JWT with payload {"sub":"auth0|u","email":"a@example.com","org_name":"Team","exp":EXP} */
static char *
jwt(long long exp)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char payload[256], *out = malloc(512);
	unsigned int acc = 0;
	size_t o;
	int bits = 0;

	snprintf(payload, sizeof(payload),
		 "{\"sub\":\"auth0|u\",\"email\":\"a@example.com\",\"org_name\":\"Team\",\"exp\":%lld}", exp);
	o = (size_t)snprintf(out, 512, "eyJhbGciOiJIUzI1NiJ9.");
	for (size_t i = 0; payload[i]; i++) {
		acc = (acc << 8) | (unsigned char)payload[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = a[(acc << (6 - bits)) & 63];
	memcpy(out + o, ".c2ln", sizeof(".c2ln"));
	return out;
}

static void
test_pin_refusals(void **state)
{
	struct cred_cfg cc = { 0 };
	char *err = NULL;

	(void)state;
	cc.pin = "bogus";
	assert_null(cred_new(&cc, &err));
	assert_non_null(strstr(err, "token_source"));
	free(err);
	cc.pin = "cmd";
	assert_null(cred_new(&cc, &err));
	assert_non_null(strstr(err, "token_cmd"));
	free(err);
	cc.pin = NULL;
	cc.file = "/nonexistent";
	cc.cmd = "echo x";
	assert_null(cred_new(&cc, &err));
	free(err);
}

static void
test_env_and_describe(void **state)
{
	struct cred_cfg cc = { 0 };
	char *err = NULL, *tok = NULL, *text = NULL, *t = jwt(time(NULL) + 3600);
	struct cred *c;

	(void)state;
	cc.token = t;
	cc.no_keyring = 1;
	c = cred_new(&cc, &err);
	assert_non_null(c);
	assert_int_equal(cred_get(c, NULL, &tok, &err), 0);
	assert_string_equal(tok, t);
	free(tok);
	assert_int_equal(cred_refreshable(c), 0);
	assert_string_equal(cred_source_name(c), "env");
	assert_int_equal(cred_describe(c, &text), 0);
	assert_non_null(strstr(text, "source env\n"));
	assert_non_null(strstr(text, "email a@example.com\n"));
	assert_non_null(strstr(text, "organisation Team\n"));
	assert_non_null(strstr(text, "status ok\n"));
	assert_null(strstr(text, t));
	assert_null(strstr(text, "eyJ"));
	free(text);
	cred_free(c);
	/* pinned elsewhere, the environment's token is not used */
	cc.pin = "store";
	c = cred_new(&cc, &err);
	assert_non_null(c);
	cred_get(c, NULL, &tok, &err);
	assert_null(tok);
	assert_non_null(err);
	free(err);
	cred_free(c);
	free(t);
}

static void
test_cmd_rerun(void **state)
{
	struct cred_cfg cc = { 0 };
	char cmd[512], *err = NULL, *tok = NULL;
	struct cred *c;

	(void)state;
	/* each run prints the next token: tok1, tok2, ... */
	snprintf(cmd, sizeof(cmd), "n=$(cat %s/n 2>/dev/null || echo 0); n=$((n+1)); "
		 "echo $n > %s/n; echo tok$n", dir, dir);
	cc.cmd = cmd;
	c = cred_new(&cc, &err);
	assert_non_null(c);
	assert_int_equal(cred_get(c, NULL, &tok, &err), 0);
	assert_string_equal(tok, "tok1");
	free(tok);
	/* refused right after start-up: run again at once */
	assert_int_equal(cred_get(c, "tok1", &tok, &err), 0);
	assert_string_equal(tok, "tok2");
	free(tok);
	/* a stale 401 for tok1: no run, the current token */
	assert_int_equal(cred_get(c, "tok1", &tok, &err), 0);
	assert_string_equal(tok, "tok2");
	free(tok);
	/* refused again within 5 s of the last re-run: no run */
	assert_int_equal(cred_get(c, "tok2", &tok, &err), 0);
	assert_string_equal(tok, "tok2");
	free(tok);
	cred_free(c);
}

struct storm {
	struct cred *c;
	char *tok;
};

static void *
storm_thread(void *arg)
{
	struct storm *st = arg;
	char *err = NULL;

	cred_get(st->c, "tok1", &st->tok, &err);
	free(err);
	return NULL;
}

static void
test_cmd_storm(void **state)
{
	struct storm st[8];
	pthread_t th[8];
	struct cred_cfg cc = { 0 };
	char cmd[512], path[300], *err = NULL;
	struct cred *c;
	FILE *f;
	int n = 0;

	(void)state;
	/* each run takes 0.3 s and prints the next token: tok1, tok2, ... */
	snprintf(cmd, sizeof(cmd), "sleep 0.3; n=$(cat %s/s 2>/dev/null || echo 0); n=$((n+1)); "
		 "echo $n > %s/s; echo tok$n", dir, dir);
	cc.cmd = cmd;
	c = cred_new(&cc, &err);
	assert_non_null(c);
	for (int i = 0; i < 8; i++) {
		st[i].c = c;
		st[i].tok = NULL;
		assert_int_equal(pthread_create(&th[i], NULL, storm_thread, &st[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_string_equal(st[i].tok, "tok2");
		free(st[i].tok);
	}
	snprintf(path, sizeof(path), "%s/s", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	fclose(f);
	assert_int_equal(n, 2);	/* start-up, then one run for all eight */
	cred_free(c);
}

static void
test_store_login(void **state)
{
	struct oauth_tokens t = { 0 };
	struct cred_cfg cc = { 0 };
	char path[256], *err = NULL, *tok = NULL, *text = NULL;
	struct cred *c;

	(void)state;
	snprintf(path, sizeof(path), "%s/cfg/login.json", dir);
	cc.client_id = "cid";
	cc.store_path = path;
	cc.no_keyring = 1;
	c = cred_new(&cc, &err);
	assert_non_null(c);
	assert_int_equal(cred_refreshable(c), 1);
	cred_get(c, NULL, &tok, &err);
	assert_null(tok);
	assert_non_null(strstr(err, "log"));
	free(err);
	assert_int_equal(cred_describe(c, &text), 0);
	assert_non_null(strstr(text, "status no-token\n"));
	free(text);
	/* a login appears: picked up by a call a second later (a missing
	 * login is looked for at most once a second) */
	t.access = jwt(time(NULL) + 3600);
	t.refresh = strdup("refresh-secret");
	assert_int_equal(store_save(path, "cid", &t, &err), 0);
	sleep(1);
	assert_int_equal(cred_get(c, NULL, &tok, &err), 0);
	assert_string_equal(tok, t.access);
	free(tok);
	assert_string_equal(cred_source_name(c), "store");
	assert_int_equal(cred_describe(c, &text), 0);
	assert_non_null(strstr(text, "source store\n"));
	assert_non_null(strstr(text, "renewable yes\n"));
	assert_null(strstr(text, "refresh-secret"));
	free(text);
	cred_free(c);
	/* a login of another client is not used */
	cc.client_id = "other";
	c = cred_new(&cc, &err);
	cred_get(c, NULL, &tok, &err);
	assert_null(tok);
	free(err);
	cred_free(c);
	oauth_tokens_free(&t);
}

/* An expired login whose renewal meets a service that never answers:
 * the first request waits for it, the next ones within 10 s do not ask. */
static void
test_renew_backoff(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct oauth_tokens t = { 0 };
	struct cred_cfg cc = { 0 };
	socklen_t sl = sizeof(sa);
	char path[256], url[64], *err = NULL, *tok = NULL;
	struct http *auth;
	struct cred *c;
	int lfd, n = 0, fd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	auth = oauth_http_new(url, 300, 0, &err);
	assert_non_null(auth);
	snprintf(path, sizeof(path), "%s/backoff/login.json", dir);
	t.access = jwt(time(NULL) - 10);
	t.refresh = strdup("refresh-x");
	assert_int_equal(store_save(path, "cid", &t, &err), 0);
	cc.client_id = "cid";
	cc.store_path = path;
	cc.no_keyring = 1;
	cc.auth = auth;
	c = cred_new(&cc, &err);
	assert_non_null(c);
	for (int i = 0; i < 3; i++) {
		cred_get(c, NULL, &tok, &err);
		assert_null(tok);	/* expired: not handed out */
		assert_non_null(err);
		free(err);
		err = NULL;
		sleep(1);		/* past the once-a-second look */
	}
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		n++;
		close(fd);
	}
	assert_int_equal(n, 1);
	cred_free(c);
	http_free(auth);
	curl_global_cleanup();
	close(lfd);
	oauth_tokens_free(&t);
}

static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_refusals),
		cmocka_unit_test(test_env_and_describe),
		cmocka_unit_test(test_cmd_rerun),
		cmocka_unit_test(test_cmd_storm),
		cmocka_unit_test(test_store_login),
		cmocka_unit_test(test_renew_backoff),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
