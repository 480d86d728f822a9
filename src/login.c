/*
 * login: the device-code flow's loop (interval, slow_down, expires_in,
 * Ctrl-C) and where the tokens go. Uses oauth, keyring and store; no
 * state of its own beyond one call.
 */
#include "login.h"
#include "conf.h"
#include "http.h"
#include "jwt.h"
#include "keyring.h"
#include "log.h"
#include "oauth.h"
#include "store.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Sleep up to secs seconds; nonzero when *stop was set meanwhile. */
static int
login_nap(int secs, volatile sig_atomic_t *stop)
{
	for (int i = 0; i < secs * 10 && !*stop; i++) {
		struct timespec ts = { 0, 100000000L };

		nanosleep(&ts, NULL);
	}
	return *stop;
}

/* Poll until approved: 0 with *t, else the exit status. */
static int
login_poll(struct http *h, const struct oauth_cfg *oc, const struct oauth_device *d,
	   struct oauth_tokens *t, volatile sig_atomic_t *stop)
{
	time_t deadline = time(NULL) + d->expires_in;
	int interval = d->interval, r;
	char *err = NULL;

	for (;;) {
		if (login_nap(interval, stop)) {
			fprintf(stderr, "exalsiusfs: login: interrupted\n");
			return 130;
		}
		free(err);
		err = NULL;
		r = oauth_device_poll(h, oc, d->device_code, t, &err);
		if (r == 0)
			return 0;
		if (r == -EBUSY) {
			interval += 5;	/* RFC 8628: slow_down adds 5 s for good */
		} else if (r == -ETIMEDOUT || r == -EACCES) {
			if (r == -ETIMEDOUT)
				fprintf(stderr, "exalsiusfs: login: the code expired before the login "
					"was confirmed; run login again\n");
			else
				fprintf(stderr, "exalsiusfs: login: %s\n", err);
			free(err);
			return 1;
		} else if (r != -EAGAIN) {
			log_msg(LOG_LVL_WARN, "login: %s; trying again", err);
		}
		if (time(NULL) >= deadline) {
			fprintf(stderr, "exalsiusfs: login: the code expired before the login was "
				"confirmed; run login again\n");
			free(err);
			return 1;
		}
	}
}

/* Store the login: the Secret Service unless file_only, else our file. */
static int
login_store(const struct conf_auth *a, const struct oauth_tokens *t, int file_only)
{
	char *err = NULL, *path;
	int rc = 1;

	if (!file_only && keyring_save(a->client_id, t, &err) == 0) {
		printf("Logged in; the tokens are in the Secret Service (exls is logged in too).\n");
		return 0;
	}
	if (err)
		printf("No Secret Service (%s).\n", err);
	free(err);
	err = NULL;
	path = store_default_path();
	if (!path) {
		fprintf(stderr, "exalsiusfs: login: neither XDG_CONFIG_HOME nor HOME is set\n");
		return 1;
	}
	if (store_save(path, a->client_id, t, &err) < 0) {
		fprintf(stderr, "exalsiusfs: login: %s\n", err);
	} else {
		printf("Logged in; the tokens are in %s (mode 0600).\n", path);
		rc = 0;
	}
	free(err);
	free(path);
	return rc;
}

int
login_run(int argc, char **argv, volatile sig_atomic_t *stop)
{
	struct oauth_tokens t = { 0 };
	struct oauth_device d = { 0 };
	struct conf_auth a = { 0 };
	struct jwt_claims cl = { 0 };
	struct rlimit nocore = { 0, 0 };
	struct oauth_cfg oc;
	const char *auth_url = NULL;
	struct http *h = NULL;
	char *err = NULL;
	int file_only = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--file") == 0) {
			file_only = 1;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc &&
			   strncmp(argv[i + 1], "auth_url=", 9) == 0) {
			auth_url = argv[++i] + 9;
		} else if (strncmp(argv[i], "-oauth_url=", 11) == 0) {
			auth_url = argv[i] + 11;
		} else {
			fprintf(stderr, "usage: exalsiusfs login [-o auth_url=URL] [--file]\n");
			return 2;
		}
	}
	/* the tokens must not end up in a core file or be read by ptrace */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_open(1, 0);
	if (conf_auth(auth_url, &a, &err) < 0) {
		fprintf(stderr, "exalsiusfs: login: %s\n", err);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		goto out;
	h = oauth_http_new(a.url, 30000, 2, &err);
	if (!h) {
		fprintf(stderr, "exalsiusfs: login: %s\n", err ? err : "out of memory");
		goto out_curl;
	}
	oc = (struct oauth_cfg){ a.client_id, a.audience, a.scope };
	if (oauth_device_start(h, &oc, &d, &err) < 0) {
		fprintf(stderr, "exalsiusfs: login: %s\n", err);
		goto out_curl;
	}
	printf("To log in, open %s\nand enter the code %s\n", d.uri, d.user_code);
	if (d.uri_complete)
		printf("(or open %s)\n", d.uri_complete);
	printf("Waiting for the login to be confirmed (Ctrl-C to give up)...\n");
	fflush(stdout);
	rc = login_poll(h, &oc, &d, &t, stop);
	if (rc == 0)
		rc = login_store(&a, &t, file_only);
	if (rc == 0 && jwt_claims(t.access, &cl) == 0 && (cl.email || cl.sub))
		printf("Account: %s%s%s\n", cl.email ? cl.email : cl.sub,
		       cl.org ? ", organisation " : "", cl.org ? cl.org : "");
	jwt_claims_free(&cl);
out_curl:
	http_free(h);
	curl_global_cleanup();
out:
	oauth_tokens_free(&t);
	oauth_device_free(&d);
	conf_auth_free(&a);
	free(err);
	log_close();
	return rc;
}

int
login_logout(int argc, char **argv)
{
	struct conf_auth a = { 0 };
	char *err = NULL, *path;
	int rc = 0, r;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: exalsiusfs logout\n");
		return 2;
	}
	log_open(1, 0);
	if (conf_auth(NULL, &a, &err) < 0) {
		fprintf(stderr, "exalsiusfs: logout: %s\n", err);
		free(err);
		log_close();
		return 1;
	}
	r = keyring_remove(a.client_id, &err);
	if (r == 0) {
		printf("Removed the login from the Secret Service.\n");
	} else if (r != -EHOSTUNREACH) {
		fprintf(stderr, "exalsiusfs: logout: %s\n", err);
		rc = 1;
	}
	free(err);
	err = NULL;
	path = store_default_path();
	if (path && access(path, F_OK) == 0) {
		if (store_remove(path, &err) == 0) {
			printf("Removed %s.\n", path);
		} else {
			fprintf(stderr, "exalsiusfs: logout: %s\n", err);
			rc = 1;
		}
	}
	free(err);
	free(path);
	conf_auth_free(&a);
	log_close();
	return rc;
}
