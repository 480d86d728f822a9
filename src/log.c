/*
 * log: one sink chosen at start-up, one secret scrubbed from every line.
 * The state here is written only by log_open()/log_set_secret() before the
 * FUSE threads start and read-only afterwards, which is why this module may
 * keep it in file-scope variables.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define LOG_LINE_MAX 2048

static int log_foreground = 1;
static int log_debug;
static char *log_secret;

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
	free(log_secret);
	log_secret = (secret && *secret) ? strdup(secret) : NULL;
}

void
log_close(void)
{
	log_set_secret(NULL);
	if (!log_foreground)
		closelog();
}

/* Replace every occurrence of the secret in buf (in place, shrinking). */
static void
log_scrub(char *buf)
{
	static const char mask[] = "[REDACTED]";
	size_t slen;
	char *p;

	if (!log_secret)
		return;
	slen = strlen(log_secret);
	while ((p = strstr(buf, log_secret)) != NULL) {
		size_t rest = strlen(p + slen);
		size_t mlen = sizeof(mask) - 1 < slen ? sizeof(mask) - 1 : 1;

		memcpy(p, mlen == 1 ? "*" : mask, mlen);
		memmove(p + mlen, p + slen, rest + 1);
	}
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
