/*
 * keyring: the official CLI's login in the Secret Service (on Linux the
 * system keyring), read and written with libsecret exactly as Python's
 * keyring library stores it, so that both see each other's tokens: four
 * items with the attributes service=exalsius_cli and
 * username=<client_id>_access_token, _id_token, _refresh_token and _expiry
 * (ISO-8601 UTC), plus application="Python keyring library", labelled
 * "Password for '<username>' on 'exalsius_cli'".
 *
 * GLib must not be started before the daemon forks (its D-Bus thread would
 * not survive the fork): call these only from the process that serves.
 */
#ifndef EXFS_KEYRING_H
#define EXFS_KEYRING_H

#include "oauth.h"

#define KEYRING_SERVICE "exalsius_cli"

/* Read the login: 0 (t->access set), -ENOENT when there is none,
 * -EHOSTUNREACH when no Secret Service answers, -EACCES when it is locked;
 * *err set unless 0. */
int keyring_load(const char *client_id, struct oauth_tokens *t, char **err);
/* Write the login (t->id and t->refresh only when set, so that values the
 * service did not rotate stay): 0 or -errno with *err. */
int keyring_save(const char *client_id, const struct oauth_tokens *t,
		 char **err);
/* Remove the four items: 0 (also when there were none) or -errno. */
int keyring_remove(const char *client_id, char **err);

#endif
