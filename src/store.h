/*
 * store: our own login, for machines without a Secret Service: one JSON
 * file, $XDG_CONFIG_HOME/exalsiusfs/login.json (~/.config/... without
 * XDG_CONFIG_HOME), mode 0600 in a 0700 directory, replaced atomically
 * (written to a temporary file, then renamed over the old one).
 */
#ifndef EXFS_STORE_H
#define EXFS_STORE_H

#include "oauth.h"

/* The file's path, allocated; NULL when neither XDG_CONFIG_HOME nor HOME
 * is set (or ENOMEM). */
char *store_default_path(void);

/* Read the login at path: 0, -ENOENT when there is none, -EACCES when the
 * file is readable by others (it is then ignored) or unreadable, -EINVAL
 * when it is not a login; *err set unless 0. *client_id (allocated, may be
 * NULL) is the client the tokens belong to. */
int store_load(const char *path, struct oauth_tokens *t, char **client_id,
	       char **err);
/* Write the login atomically with mode 0600: 0 or -errno with *err. */
int store_save(const char *path, const char *client_id,
	       const struct oauth_tokens *t, char **err);
/* Remove the file: 0 (also when there was none) or -errno with *err. */
int store_remove(const char *path, char **err);

#endif
