/*
 * cred: one mutex (mu) guards the current token and the renewal state.
 * Renewal (running the helper command, asking the login service, reading
 * or writing the Secret Service) happens with mu released and `busy` set:
 * one renewal at a time; a caller whose token still works never waits for
 * it, a caller that needs the renewed token (expired, or refused by a 401)
 * waits on `done` for that one renewal instead of starting its own.
 */
#include "cred.h"
#include "jwt.h"
#include "keyring.h"
#include "log.h"
#include "model.h"
#include "oauth.h"
#include "rfc3339.h"
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRED_MAX 16384
#define CRED_CMD_TIMEOUT_MS 10000
#define CRED_MIN_RERUN_S 5	/* a 401 runs the helper at most this often */
#define CRED_CMD_MARGIN_S 60	/* the helper runs this long before a JWT's exp */
#define CRED_LOGIN_MARGIN_S 300	/* a login is renewed this long before it expires, */
				/* at most a quarter of its lifetime */
#define CRED_RETRY_S 10		/* no renewal this long after one failed without an answer */
#define CRED_LOOK_S 1		/* a missing login is looked for at most this often */

enum cred_kind { CRED_NONE, CRED_CMD, CRED_FILE, CRED_ENV, CRED_KEYRING, CRED_STORE };

static const char *const cred_names[] = {
	[CRED_NONE] = "none", [CRED_CMD] = "cmd", [CRED_FILE] = "file",
	[CRED_ENV] = "env", [CRED_KEYRING] = "keyring", [CRED_STORE] = "store",
};

static const char *const cred_descs[] = {
	[CRED_NONE] = "no token",
	[CRED_CMD] = "-o token_cmd",
	[CRED_FILE] = "-o token_file",
	[CRED_ENV] = "EXALSIUS_TOKEN or ACCESS_TOKEN",
	[CRED_KEYRING] = "the exls login in the Secret Service",
	[CRED_STORE] = "the login of exalsiusfs login",
};

struct cred {
	pthread_mutex_t mu;
	pthread_cond_t done;	/* with mu: a renewal ended */
	/* set by cred_new, read-only afterwards */
	char *file;
	char *cmd;
	int login;		/* the login sources (keyring, store) may be used */
	int use_keyring;
	int use_store;
	char *client_id, *audience, *scope, *store_path;
	struct http *auth;
	/* guarded by mu */
	enum cred_kind kind;	/* where the token came from */
	struct oauth_tokens tok; /* tok.access is the token */
	long long iat;		/* of tok.access when a JWT, else 0 */
	int busy;		/* a renewal is running */
	int refused;		/* the login service refused the refresh token */
	char *why;		/* the last failure, for the log and .account */
	time_t looked;		/* last look for a login */
	time_t retry_at;	/* no renewal before this (the service did not answer) */
	struct stat st;		/* the token file as last read */
	time_t checked;		/* last stat of the token file */
	time_t ran;		/* last run of the command */
	time_t ran_401;		/* last run of the command after a 401 */
	unsigned long renewals;	/* successful renewals */
};

int
cred_clean(char *t)
{
	size_t n = strlen(t);

	while (n > 0 && isspace((unsigned char)t[n - 1]))
		t[--n] = '\0';
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x21 || t[i] > 0x7e)
			return -EINVAL;
	return 0;
}

static void
cred_wipe(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static void
cred_why_locked(struct cred *c, const char *msg)
{
	free(c->why);
	c->why = msg ? strdup(msg) : NULL;
}

/* Install a new set of tokens (taking ownership); the access token must
 * be usable. Called with mu held. */
static int
cred_install_locked(struct cred *c, enum cred_kind kind, struct oauth_tokens *t,
		    char **err)
{
	struct jwt_claims cl;

	if (!t->access || cred_clean(t->access) < 0) {
		oauth_tokens_free(t);
		*err = strdup("the access token is empty or holds white space or control characters");
		return -EINVAL;
	}
	log_set_secret(t->access);
	if (t->refresh)
		log_set_secret(t->refresh);
	c->iat = 0;
	if (jwt_claims(t->access, &cl) == 0) {
		if (cl.exp)
			t->expiry = cl.exp;
		c->iat = cl.iat;
		jwt_claims_free(&cl);
	}
	oauth_tokens_free(&c->tok);
	c->tok = *t;
	memset(t, 0, sizeof(*t));
	c->kind = kind;
	return 0;
}

static int
cred_set_plain_locked(struct cred *c, enum cred_kind kind, char *token, char **err)
{
	struct oauth_tokens t = { .access = token };

	return cred_install_locked(c, kind, &t, err);
}

static int
cred_read_file_locked(struct cred *c, char **err)
{
	char *buf = calloc(1, CRED_MAX + 1);
	struct stat st;
	ssize_t n;
	int fd;

	if (!buf) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	fd = open(c->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = model_asprintf("cannot read token_file %s: %s", c->file, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(buf);
		return -EACCES;
	}
	if (st.st_mode & 077) {
		*err = model_asprintf("token_file %s is readable or writable by group or others "
				      "(mode %03o); run chmod 600 on it", c->file,
				      (unsigned)(st.st_mode & 0777));
		close(fd);
		free(buf);
		return -EACCES;
	}
	n = read(fd, buf, CRED_MAX);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	c->st = st;
	return cred_set_plain_locked(c, CRED_FILE, buf, err);
}

/* Run the helper (mu not held): its standard output, allocated, in *out. */
static int
cred_run(const char *cmd, char **out, char **err)
{
	char *buf = calloc(1, CRED_MAX + 1);
	struct timespec start, now;
	int pfd[2], status = 0;
	size_t n = 0;
	pid_t pid;

	*out = NULL;
	if (!buf || pipe2(pfd, O_CLOEXEC) < 0) {
		free(buf);
		*err = strdup("cannot run token_cmd: out of resources");
		return -EIO;
	}
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		free(buf);
		*err = strdup("cannot run token_cmd: fork failed");
		return -EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		long left;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = CRED_CMD_TIMEOUT_MS - ((now.tv_sec - start.tv_sec) * 1000 +
					      (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		r = read(pfd[0], buf + n, CRED_MAX - n);
		if (r <= 0 || (n += (size_t)r) >= CRED_MAX)
			break;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cred_wipe(buf);
		*err = strdup("token_cmd failed (non-zero exit, signal or timeout)");
		return -EACCES;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* Read the login sources in order (mu not held): 0 with *t and *kind, or
 * -ENOENT / -errno with *err. */
static int
cred_load_login(struct cred *c, struct oauth_tokens *t, enum cred_kind *kind,
		char **err)
{
	char *e = NULL, *cid = NULL;
	int rc = -ENOENT;

	*err = NULL;
	if (c->use_keyring) {
		rc = keyring_load(c->client_id, t, &e);
		if (rc == 0) {
			*kind = CRED_KEYRING;
			return 0;
		}
		if (rc != -ENOENT && rc != -EHOSTUNREACH)
			log_msg(LOG_LVL_WARN, "%s", e);
		else
			log_msg(LOG_LVL_DEBUG, "%s", e ? e : "no exls login");
		*err = e;
		e = NULL;
	}
	if (c->use_store) {
		rc = store_load(c->store_path, t, &cid, &e);
		if (rc == 0 && cid && *cid && strcmp(cid, c->client_id) != 0) {
			oauth_tokens_free(t);
			free(e);
			e = model_asprintf("%s belongs to another client id; ignored", c->store_path);
			rc = -ENOENT;
		}
		free(cid);
		if (rc == 0) {
			free(*err);
			*err = NULL;
			*kind = CRED_STORE;
			return 0;
		}
		if (rc != -ENOENT) {
			log_msg(LOG_LVL_WARN, "%s", e);
			free(*err);
			*err = e;
			e = NULL;
		}
		free(e);
	}
	if (!*err || rc == -ENOENT || rc == -EHOSTUNREACH) {
		free(*err);
		*err = strdup("no login found: run exls login or exalsiusfs login "
			      "(or set EXALSIUS_TOKEN, -o token_file or -o token_cmd)");
		rc = -ENOENT;
	}
	return rc;
}

/* Write renewed tokens back to where they came from (mu not held). */
static void
cred_write_back(struct cred *c, enum cred_kind kind, const struct oauth_tokens *t)
{
	char *e = NULL;
	int rc = 0;

	if (kind == CRED_KEYRING)
		rc = keyring_save(c->client_id, t, &e);
	else if (kind == CRED_STORE)
		rc = store_save(c->store_path, c->client_id, t, &e);
	if (rc < 0)
		log_msg(LOG_LVL_ERR, "writing the renewed login back: %s", e ? e : strerror(-rc));
	free(e);
}

/* The seconds before expiry at which a login is renewed. */
static long long
cred_margin(long long exp, long long iat, long long max)
{
	long long m = max;

	if (iat > 0 && exp > iat && (exp - iat) / 4 < m)
		m = (exp - iat) / 4;
	return m;
}

enum cred_step { STEP_NONE, STEP_CMD, STEP_LOOK, STEP_RENEW };

/* Renew a login (mu not held): read the source again (the other client
 * may have renewed it, or the user logged in anew), adopt what is there if
 * it differs from `cur` and has not expired, else use its refresh token.
 * 0 with *out and *kind, or -errno with *err; -EACCES means log in again,
 * and then *out may hold the refused login (to remember it); -EAGAIN when
 * the service would have to be asked but may not be yet (!may_ask). */
static int
cred_renew(struct cred *c, const char *cur, const char *cur_refresh, int look_only,
	   int may_ask, struct oauth_tokens *out, enum cred_kind *kind, char **err)
{
	struct oauth_cfg oc = { c->client_id, c->audience, c->scope };
	struct oauth_tokens t, fresh;
	struct jwt_claims cl;
	time_t now = time(NULL);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cred_load_login(c, &t, kind, err);
	if (rc < 0)
		return rc;
	if (t.access && jwt_claims(t.access, &cl) == 0) {
		if (cl.exp)
			t.expiry = cl.exp;	/* the token knows best */
		jwt_claims_free(&cl);
	}
	if (t.access && (!cur || strcmp(cur, t.access) != 0) &&
	    (t.expiry == 0 || t.expiry > now)) {
		*out = t;	/* a new login, or renewed by the other client */
		return 0;
	}
	if (look_only && cur && t.access && strcmp(cur, t.access) == 0 &&
	    (!t.refresh || (cur_refresh && strcmp(cur_refresh, t.refresh) == 0))) {
		/* nothing new since it was refused: do not ask the service again */
		oauth_tokens_free(&t);
		*err = strdup("the login can no longer be renewed: log in again "
			      "(exls login or exalsiusfs login)");
		return -EACCES;
	}
	if (!t.refresh || !c->auth) {
		*out = t;	/* kept, so that it is not tried again */
		*err = strdup("the login has expired and holds no refresh token: log in again "
			      "(exls login or exalsiusfs login)");
		return -EACCES;
	}
	if (!may_ask) {
		oauth_tokens_free(&t);
		*err = strdup("the login service did not answer; trying again in a few seconds");
		return -EAGAIN;
	}
	rc = oauth_refresh(c->auth, &oc, t.refresh, &fresh, err);
	if (rc < 0) {
		if (rc == -EACCES)
			*out = t;	/* kept, so that it is not tried again */
		else
			oauth_tokens_free(&t);
		if (rc == -EACCES) {
			char *m = model_asprintf("%s; log in again (exls login or exalsiusfs login)",
						 *err ? *err : "the refresh token was refused");

			free(*err);
			*err = m;
		}
		return rc;
	}
	/* values the service did not rotate stay as they were */
	if (!fresh.refresh) {
		fresh.refresh = t.refresh;
		t.refresh = NULL;
	}
	if (!fresh.id) {
		fresh.id = t.id;
		t.id = NULL;
	}
	oauth_tokens_free(&t);
	cred_write_back(c, *kind, &fresh);
	*out = fresh;
	return 0;
}

struct cred *
cred_new(const struct cred_cfg *cfg, char **err)
{
	struct cred *c = calloc(1, sizeof(*c));
	const char *pin = cfg->pin;
	int rc = 0;

	*err = NULL;
	if (!c) {
		*err = strdup("out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->done, NULL);
	if (pin && strcmp(pin, "cmd") && strcmp(pin, "file") && strcmp(pin, "env") &&
	    strcmp(pin, "keyring") && strcmp(pin, "store")) {
		*err = strdup("token_source must be one of cmd, file, env, keyring, store");
		goto fail;
	}
	if ((pin && !strcmp(pin, "cmd") && !cfg->cmd) ||
	    (pin && !strcmp(pin, "file") && !cfg->file)) {
		*err = model_asprintf("token_source=%s needs -o token_%s", pin, pin);
		goto fail;
	}
	if (cfg->file && cfg->cmd) {
		*err = strdup("give token_file or token_cmd, not both");
		goto fail;
	}
	c->client_id = strdup(cfg->client_id ? cfg->client_id : "");
	c->audience = strdup(cfg->audience ? cfg->audience : "");
	c->scope = strdup(cfg->scope ? cfg->scope : "");
	c->store_path = cfg->store_path ? strdup(cfg->store_path) : NULL;
	if (!c->client_id || !c->audience || !c->scope ||
	    (cfg->store_path && !c->store_path)) {
		*err = strdup("out of memory");
		goto fail;
	}
	c->auth = cfg->auth;
	c->checked = time(NULL);
	if (cfg->cmd && (!pin || !strcmp(pin, "cmd"))) {
		char *out = NULL;

		c->cmd = strdup(cfg->cmd);
		rc = c->cmd ? cred_run(c->cmd, &out, err) : -ENOMEM;
		c->ran = time(NULL);
		if (rc == 0)
			rc = cred_set_plain_locked(c, CRED_CMD, out, err);
		c->kind = CRED_CMD;
	} else if (cfg->file && (!pin || !strcmp(pin, "file"))) {
		c->file = strdup(cfg->file);
		rc = c->file ? cred_read_file_locked(c, err) : -ENOMEM;
	} else if (cfg->token && *cfg->token && (!pin || !strcmp(pin, "env"))) {
		char *t = strdup(cfg->token);

		rc = t ? cred_set_plain_locked(c, CRED_ENV, t, err) : -ENOMEM;
	} else if (!pin || !strcmp(pin, "keyring") || !strcmp(pin, "store")) {
		c->use_keyring = !cfg->no_keyring && (!pin || !strcmp(pin, "keyring"));
		c->use_store = c->store_path && (!pin || !strcmp(pin, "store"));
		c->login = c->use_keyring || c->use_store;
	}
	if (rc < 0) {
		if (!*err)
			*err = strdup("out of memory");
		goto fail;
	}
	return c;
fail:
	cred_free(c);
	return NULL;
}

void
cred_free(struct cred *c)
{
	if (!c)
		return;
	oauth_tokens_free(&c->tok);
	free(c->file);
	free(c->cmd);
	free(c->client_id);
	free(c->audience);
	free(c->scope);
	free(c->store_path);
	free(c->why);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int
cred_refreshable(const struct cred *c)
{
	return c->file || c->cmd || c->login;
}

int
cred_login_refused(struct cred *c)
{
	int refused;

	pthread_mutex_lock(&c->mu);
	refused = c->refused;
	pthread_mutex_unlock(&c->mu);
	return refused;
}

const char *
cred_source_name(struct cred *c)
{
	enum cred_kind k;

	pthread_mutex_lock(&c->mu);
	k = c->kind;
	pthread_mutex_unlock(&c->mu);
	return cred_names[k];
}

/* What, if anything, must happen before a token can be handed out; mu
 * held, no renewal running. *soft when the token still works (a failure
 * of this renewal must not fail the caller). */
static enum cred_step
cred_next_locked(struct cred *c, const char *rejected, time_t now, int *soft)
{
	const char *cur = c->tok.access;
	int same = rejected && cur && strcmp(cur, rejected) == 0;
	long long exp = c->tok.expiry;

	*soft = 0;
	if (rejected && cur && !same)
		return STEP_NONE;	/* already renewed by someone else */
	if (c->cmd) {
		int expiring = exp && now >= exp - CRED_CMD_MARGIN_S;

		/* the start-up run does not count: a token that rotates at
		 * once must still be fetched again after its first 401 */
		if ((same && now - c->ran_401 >= CRED_MIN_RERUN_S) ||
		    (expiring && now - c->ran >= CRED_MIN_RERUN_S))
			return STEP_CMD;
		return STEP_NONE;
	}
	if (!c->login)
		return STEP_NONE;
	if (!cur || c->refused)
		return now - c->looked >= CRED_LOOK_S || same ? STEP_LOOK : STEP_NONE;
	/* after a renewal failed without an answer (the login service down),
	 * requests fail at once for a while instead of each waiting for it */
	if ((same || (exp && now >= exp)) && now >= c->retry_at)
		return STEP_RENEW;
	if (exp && now >= exp - cred_margin(exp, c->iat, CRED_LOGIN_MARGIN_S) &&
	    now >= c->retry_at) {
		*soft = 1;
		return STEP_RENEW;
	}
	return STEP_NONE;
}

/* Nonzero when the caller may go on with the current token while a
 * renewal runs: it has one, it is not the refused one and not expired. */
static int
cred_usable_locked(struct cred *c, const char *rejected, time_t now)
{
	const char *cur = c->tok.access;

	return cur && !c->refused && (!rejected || strcmp(cur, rejected) != 0) &&
	       (!c->tok.expiry || now < c->tok.expiry);
}

int
cred_get(struct cred *c, const char *rejected, char **token, char **err)
{
	enum cred_step step;
	time_t now = time(NULL);
	int rc = 0, soft = 0, logged = 0;

	*token = NULL;
	*err = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->file && (rejected || now != c->checked)) {
		struct stat st;

		c->checked = now;
		if (stat(c->file, &st) == 0 &&
		    (rejected || st.st_mtim.tv_sec != c->st.st_mtim.tv_sec ||
		     st.st_mtim.tv_nsec != c->st.st_mtim.tv_nsec ||
		     st.st_ino != c->st.st_ino || st.st_size != c->st.st_size))
			rc = cred_read_file_locked(c, err);
	}
	while (c->busy && !cred_usable_locked(c, rejected, now)) {
		pthread_cond_wait(&c->done, &c->mu);
		now = time(NULL);
		rejected = NULL;	/* the renewal that ran answers the 401 */
	}
	step = c->busy ? STEP_NONE : cred_next_locked(c, rejected, now, &soft);
	if (step != STEP_NONE) {
		struct oauth_tokens t = { 0 };
		enum cred_kind kind = c->kind;
		char *cur = c->tok.access ? strdup(c->tok.access) : NULL;
		char *cur_refresh = c->tok.refresh ? strdup(c->tok.refresh) : NULL;
		char *out = NULL;

		c->busy = 1;
		if (step == STEP_LOOK)
			c->looked = now;
		if (step == STEP_CMD) {
			c->ran = now;
			if (rejected)
				c->ran_401 = now;
		}
		pthread_mutex_unlock(&c->mu);
		if (step == STEP_CMD) {
			rc = cred_run(c->cmd, &out, err);
			t.access = out;
			kind = CRED_CMD;
		} else {
			rc = cred_renew(c, cur, cur_refresh, step == STEP_LOOK,
					now >= c->retry_at, &t, &kind, err);
		}
		cred_wipe(cur);
		cred_wipe(cur_refresh);
		pthread_mutex_lock(&c->mu);
		if (rc == 0) {
			enum cred_kind was = c->kind;
			int had = c->tok.access != NULL;

			rc = cred_install_locked(c, kind, &t, err);
			if (rc == 0) {
				if (step == STEP_RENEW)
					c->renewals++;
				if (c->login && (!had || was != kind || c->refused))
					log_msg(LOG_LVL_INFO, "access token: using %s", cred_descs[kind]);
				else if (step == STEP_RENEW)
					log_msg(LOG_LVL_INFO, "access token renewed (%s)", cred_descs[kind]);
				c->refused = 0;
				cred_why_locked(c, NULL);
			}
		} else {
			char *ierr = NULL;

			/* a refused login stays installed (it is not handed out
			 * once expired): a look finds nothing new without asking
			 * the login service again */
			if (rc == -EACCES && c->login && t.access &&
			    cred_install_locked(c, kind, &t, &ierr) < 0)
				free(ierr);
			oauth_tokens_free(&t);
			if (rc == -EACCES && c->login && c->tok.access && !c->refused)
				c->refused = 1;
			else if (rc == -EACCES && c->login)
				logged = 1;	/* said when it was first refused */
			if (rc != -EACCES && rc != -EAGAIN && rc != -ENOENT)
				c->retry_at = time(NULL) + CRED_RETRY_S;
			cred_why_locked(c, *err);
		}
		c->busy = 0;
		pthread_cond_broadcast(&c->done);
	}
	/* a refused login whose token has expired is no token at all */
	if (c->tok.access && !(c->login && c->refused && c->tok.expiry &&
			       time(NULL) >= c->tok.expiry))
		*token = strdup(c->tok.access);
	if (!*token && !*err)
		*err = c->why ? strdup(c->why) :
		       model_asprintf("no access token (token_source %s gives none)",
				      cred_names[c->kind]);
	pthread_mutex_unlock(&c->mu);
	/* a missing login is said by whoever needed the token, not here
	 * once a second */
	if (rc < 0 && !logged && !(step == STEP_LOOK && rc == -ENOENT))
		log_msg(LOG_LVL_ERR, "access token: %s", *err ? *err : strerror(-rc));
	return rc;
}

int
cred_describe(struct cred *c, char **out)
{
	char exp[40] = "-", *sub = NULL, *email = NULL, *org = NULL;
	const char *status, *msg;
	struct jwt_claims cl = { 0 };
	long long left = 0;
	int has_refresh;

	pthread_mutex_lock(&c->mu);
	if (c->tok.access && jwt_claims(c->tok.access, &cl) == 0) {
		sub = cl.sub;
		email = cl.email;
		org = cl.org;
	}
	if (c->tok.expiry > 0) {
		rfc3339_format(c->tok.expiry, exp, sizeof(exp));
		left = c->tok.expiry - (long long)time(NULL);
	}
	has_refresh = c->tok.refresh != NULL;
	if (!c->tok.access)
		status = "no-token";
	else if (c->refused)
		status = "login-required";
	else if (c->tok.expiry && left <= 0)
		status = "expired";
	else
		status = "ok";
	msg = c->why ? c->why : (c->tok.access ? "" : "no login found: run exls login or exalsiusfs login");
	*out = model_asprintf("source %s\n"
			      "source_detail %s\n"
			      "subject %s\n"
			      "email %s\n"
			      "organisation %s\n"
			      "expires %s\n"
			      "expires_in %lld\n"
			      "renewable %s\n"
			      "renewals %lu\n"
			      "status %s\n"
			      "message %s\n",
			      cred_names[c->kind], cred_descs[c->kind],
			      sub ? sub : "-", email ? email : "-", org ? org : "-",
			      exp, left > 0 ? left : 0,
			      c->cmd || c->file ? "reread" : has_refresh ? "yes" : "no",
			      c->renewals, status, *msg ? msg : "-");
	pthread_mutex_unlock(&c->mu);
	jwt_claims_free(&cl);
	/* the message is ours or the service's; it never holds a token, and
	 * a line break in it would forge a key */
	if (*out)
		for (char *p = strstr(*out, "message "); p && *p; p++)
			if (*p == '\n' && p[1] != '\0')
				*p = ' ';
	return *out ? 0 : -ENOMEM;
}
