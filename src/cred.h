/*
 * cred: where the access token comes from, and keeping it valid.
 *
 * Sources, in order (the first that gives a token wins; cfg.pin names the
 * only one to use): a command (-o token_cmd, run again after a 401 and
 * shortly before a JWT's expiry), a file (-o token_file, read again when
 * it changes), the environment (EXALSIUS_TOKEN / ACCESS_TOKEN, fixed), the
 * official CLI's login in the Secret Service ("keyring"), our own login
 * file ("store"). A login (keyring or store) is renewed with its refresh
 * token a few minutes before it expires and after a 401, and the renewed
 * tokens are written back where they came from. A login is looked up at
 * first use (never before the daemon forks) and again whenever it is
 * missing or refused, so a new login is picked up without a remount.
 * Tokens are checked to be printable ASCII without spaces (no header
 * injection), and never logged.
 */
#ifndef EXFS_CRED_H
#define EXFS_CRED_H

struct http;

struct cred_cfg {
	const char *token; /* from the environment, or NULL */
	const char *file; /* -o token_file, or NULL */
	const char *cmd; /* -o token_cmd, or NULL */
	const char *pin; /* -o token_source: cmd, file, env, keyring, store; NULL = any */
	struct http *auth; /* the login service (borrowed, anonymous); NULL: no renewal */
	const char *client_id; /* of the login service (default the official CLI's) */
	const char *audience;
	const char *scope;
	const char *store_path; /* our own login file; NULL = no store */
	int no_keyring; /* never ask the Secret Service */
};

struct cred;

/* NULL with *err on failure (a bad file mode, a failing command, an
 * unusable token, a pin that names a source not configured): the mount
 * must not start. A cred with no source at all gives no token. */
struct cred *cred_new(const struct cred_cfg *cfg, char **err);
void cred_free(struct cred *c);

/* The current token, copied into a new allocation (*token NULL when there
 * is none, with *err saying why), renewing it first when it is about to
 * expire. rejected is the token a 401 refused (NULL otherwise): the call
 * then returns a different one if it can, and concurrent callers that
 * were refused the same token share one renewal. 0, or -errno with *err
 * when a renewal failed (the old token is still returned if it may work). */
int cred_get(struct cred *c, const char *rejected, char **token, char **err);

/* Nonzero when the token can change (anything but a fixed token). */
int cred_refreshable(const struct cred *c);

/* 0 when t (trimmed in place of trailing white space) is usable. */
int cred_clean(char *t);

/* What the mount uses, for a root file (.account): "key value" lines
 * (source, subject, email, organisation, expires, status, message),
 * allocated in *out; never a token. 0 or -ENOMEM. */
int cred_describe(struct cred *c, char **out);

/* Whether the login service refused to renew the login (until a new
 * login is found): the mount then serves what it holds, within max_stale. */
int cred_login_refused(struct cred *c);

/* The name of a source as cfg.pin spells it; NULL when unknown. */
const char *cred_source_name(struct cred *c);

#endif
