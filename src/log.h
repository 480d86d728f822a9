/*
 * log: the daemon's log. Lines go to stderr in the foreground and to syslog
 * otherwise. The access token is registered once with log_set_secret() and
 * every line is scrubbed of it before it is written, so no caller can leak
 * it by mistake.
 */
#ifndef EXFS_LOG_H
#define EXFS_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Choose the sink and the verbosity; call once before threads start. */
void log_open(int foreground, int debug);
/* Remember a string that must never be written (copied; the last four
 * are kept, for a token that was refreshed). NULL forgets them all. */
void log_set_secret(const char *secret);
/* Write one line (no newline needed) at the given level. */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Release what log_set_secret() copied. */
void log_close(void);

#endif
