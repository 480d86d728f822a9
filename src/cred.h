/*
 * cred: where the access token comes from. A fixed token (from the
 * environment), a file that is read again when it changes, or a command
 * (a credential helper) that is run again after a 401 and shortly before
 * a JWT's expiry. Tokens are checked to be printable ASCII without spaces
 * (no header injection), and never logged.
 */
#ifndef EXFS_CRED_H
#define EXFS_CRED_H

struct cred;

/* Exactly one source; the others NULL. NULL with *err on failure (a bad
 * file mode, a failing command, an unusable token): the mount must not
 * start. A cred with no source at all gives no token. */
struct cred *cred_new(const char *token, const char *file, const char *cmd,
		      char **err);
void cred_free(struct cred *c);

/* The current token, copied into a new allocation (*token NULL when there
 * is none), refreshing it first when its source says so; force asks for a
 * fresh one now (after a 401). Returns 1 when the token changed since the
 * last call, 0 when not, -errno with *err when a refresh failed (the old
 * token is kept and returned). */
int cred_get(struct cred *c, int force, char **token, char **err);

/* Nonzero when the token can change (a file or a command). */
int cred_refreshable(const struct cred *c);

/* 0 when t (trimmed in place of trailing white space) is usable. */
int cred_clean(char *t);

#endif
