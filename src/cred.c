/*
 * cred: one mutex guards the current token and the refresh state; the
 * helper command runs with the mutex held so that concurrent 401s run it
 * once (they wait for its result instead of starting their own).
 */
#include "cred.h"
#include "log.h"
#include "model.h"

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
#define CRED_MIN_RERUN_S 5		/* a 401 storm runs the helper at most this often */
#define CRED_EXPIRY_MARGIN_S 60

struct cred {
	pthread_mutex_t mu;
	char *file;
	char *cmd;
	char *token;		/* guarded by mu */
	int changed;		/* guarded by mu: not yet reported by cred_get */
	struct stat st;		/* guarded by mu: the file as last read */
	time_t checked;		/* guarded by mu: last stat of the file */
	time_t ran;		/* guarded by mu: last run of the command */
	time_t exp;		/* guarded by mu: JWT expiry, 0 if unknown */
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

/* The "exp" claim of a JWT (header.payload.signature), 0 if none. */
static time_t
cred_jwt_exp(const char *t)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = strchr(t, '.'), *q, *e;
	char payload[4096];
	unsigned int acc = 0;
	size_t n = 0;
	int bits = 0;
	long long exp;

	if (!p || !(q = strchr(p + 1, '.')))
		return 0;
	for (const char *c = p + 1; c < q && n + 1 < sizeof(payload); c++) {
		const char *k = strchr(b64, *c);

		if (!k || !*c)
			return 0;
		acc = (acc << 6) | (unsigned int)(k - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			payload[n++] = (char)((acc >> bits) & 0xFF);
		}
	}
	payload[n] = '\0';
	e = strstr(payload, "\"exp\"");
	if (!e || !(e = strchr(e, ':')))
		return 0;
	exp = strtoll(e + 1, NULL, 10);
	return exp > 0 ? (time_t)exp : 0;
}

/* Install a new token (taking ownership); it must be usable. */
static int
cred_set_locked(struct cred *c, char *t, char **err)
{
	if (cred_clean(t) < 0) {
		cred_wipe(t);
		*err = strdup("the access token is empty or holds white space or control characters");
		return -EINVAL;
	}
	if (!c->token || strcmp(c->token, t) != 0)
		c->changed = 1;
	log_set_secret(t);
	cred_wipe(c->token);
	c->token = t;
	c->exp = cred_jwt_exp(t);
	return 0;
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
	return cred_set_locked(c, buf, err);
}

/* Run the helper: its standard output is the token. */
static int
cred_run_locked(struct cred *c, char **err)
{
	char *buf = calloc(1, CRED_MAX + 1);
	struct timespec start, now;
	int pfd[2], status = 0;
	size_t n = 0;
	pid_t pid;

	c->ran = time(NULL);
	if (!buf || pipe2(pfd, O_CLOEXEC) < 0) {
		free(buf);
		*err = strdup("cannot run token_cmd: out of resources");
		return -EIO;
	}
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", c->cmd, (char *)NULL);
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
	return cred_set_locked(c, buf, err);
}

struct cred *
cred_new(const char *token, const char *file, const char *cmd, char **err)
{
	struct cred *c = calloc(1, sizeof(*c));
	int rc = 0;

	*err = NULL;
	if (!c) {
		*err = strdup("out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	if (file) {
		c->file = strdup(file);
		rc = c->file ? cred_read_file_locked(c, err) : -ENOMEM;
	} else if (cmd) {
		c->cmd = strdup(cmd);
		rc = c->cmd ? cred_run_locked(c, err) : -ENOMEM;
	} else if (token) {
		char *t = strdup(token);

		rc = t ? cred_set_locked(c, t, err) : -ENOMEM;
	}
	c->changed = 0;
	c->checked = time(NULL);
	if (rc < 0) {
		if (!*err)
			*err = strdup("out of memory");
		cred_free(c);
		return NULL;
	}
	return c;
}

void
cred_free(struct cred *c)
{
	if (!c)
		return;
	cred_wipe(c->token);
	free(c->file);
	free(c->cmd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int
cred_refreshable(const struct cred *c)
{
	return c->file || c->cmd;
}

int
cred_get(struct cred *c, int force, char **token, char **err)
{
	time_t now = time(NULL);
	int rc = 0;

	*token = NULL;
	*err = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->file && (force || now != c->checked)) {
		struct stat st;

		c->checked = now;
		if (stat(c->file, &st) == 0 &&
		    (force || st.st_mtim.tv_sec != c->st.st_mtim.tv_sec ||
		     st.st_mtim.tv_nsec != c->st.st_mtim.tv_nsec ||
		     st.st_ino != c->st.st_ino || st.st_size != c->st.st_size))
			rc = cred_read_file_locked(c, err);
	} else if (c->cmd) {
		int expiring = c->exp && now >= c->exp - CRED_EXPIRY_MARGIN_S;

		if ((force && now - c->ran >= CRED_MIN_RERUN_S) ||
		    (expiring && now - c->ran >= CRED_MIN_RERUN_S))
			rc = cred_run_locked(c, err);
	}
	if (c->token)
		*token = strdup(c->token);
	if (rc == 0) {
		rc = c->changed;
		c->changed = 0;
	}
	pthread_mutex_unlock(&c->mu);
	if (rc < 0)
		log_msg(LOG_LVL_ERR, "refreshing the access token: %s", *err ? *err : strerror(-rc));
	return rc;
}
