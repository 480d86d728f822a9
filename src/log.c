/*
 * log: one sink chosen at start-up, one secret scrubbed from every line.
 * The sink is chosen by log_open() before the FUSE threads start and only
 * read afterwards; the secrets change when the token is refreshed and are
 * guarded by log_mu. This module keeps that state in file-scope variables
 * because every thread must reach the one log.
 */
#include "log.h"
#include "secret.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define LOG_LINE_MAX 2048

#define LOG_SECRETS 4

static int log_foreground = 1;
static int log_debug;
/* the current token and the few before it (a refreshed token may still be
 * in messages about requests that used the old one) */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_secrets[LOG_SECRETS];	/* guarded by log_mu */

void
log_open(int foreground, int debug)
{
	log_foreground = foreground;
	log_debug = debug;
	if (!foreground)
		openlog("exalsiusfs", LOG_PID, LOG_DAEMON);
}

void
log_set_secret(const char *secret)
{
	pthread_mutex_lock(&log_mu);
	if (!secret || !*secret) {
		for (int i = 0; i < LOG_SECRETS; i++) {
			secret_wipe(log_secrets[i]);
			log_secrets[i] = NULL;
		}
	} else {
		secret_wipe(log_secrets[LOG_SECRETS - 1]);
		memmove(log_secrets + 1, log_secrets,
			(LOG_SECRETS - 1) * sizeof(*log_secrets));
		log_secrets[0] = strdup(secret);
	}
	pthread_mutex_unlock(&log_mu);
}

void
log_close(void)
{
	log_set_secret(NULL);
	if (!log_foreground)
		closelog();
}

/* Replace every occurrence of one secret in buf (in place, shrinking). */
static void
log_scrub_one(char *buf, const char *secret)
{
	static const char mask[] = "[REDACTED]";
	size_t slen = strlen(secret);
	char *p;

	while ((p = strstr(buf, secret)) != NULL) {
		size_t rest = strlen(p + slen);
		size_t mlen = sizeof(mask) - 1 < slen ? sizeof(mask) - 1 : 1;

		memcpy(p, mlen == 1 ? "*" : mask, mlen);
		memmove(p + mlen, p + slen, rest + 1);
	}
}

static void
log_scrub(char *buf)
{
	pthread_mutex_lock(&log_mu);
	for (int i = 0; i < LOG_SECRETS; i++)
		if (log_secrets[i] && *log_secrets[i])
			log_scrub_one(buf, log_secrets[i]);
	pthread_mutex_unlock(&log_mu);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char *buf = NULL;
	va_list ap;
	int n;

	if (lvl == LOG_LVL_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* scrub the whole line first, then cut it: a cut may not split a secret */
	log_scrub(buf);
	if (strlen(buf) > LOG_LINE_MAX)
		buf[LOG_LINE_MAX] = '\0';
	for (char *p = buf; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = '?';
	if (log_foreground)
		fprintf(stderr, "exalsiusfs: %s: %s\n", names[lvl], buf);
	else
		syslog(prio[lvl], "%s", buf);
	free(buf);
}
