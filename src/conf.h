/*
 * conf: the official CLI's settings that the mount shares with it: the
 * API host (EXLS_BACKEND_HOST, else backend_host in
 * $XDG_CONFIG_HOME/exalsius/config.yaml) and the login service
 * (EXLS_AUTH0_DOMAIN, EXLS_AUTH0_CLIENT_ID, EXLS_AUTH0_AUDIENCE), with the
 * CLI's defaults. YAML is read with libyaml. No state.
 */
#ifndef EXFS_CONF_H
#define EXFS_CONF_H

#define CONF_AUTH0_DOMAIN "exalsius.eu.auth0.com"
#define CONF_AUTH0_CLIENT_ID "kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B"
#define CONF_AUTH0_AUDIENCE "https://api.exalsius.ai"
#define CONF_AUTH0_SCOPE "openid audience profile email offline_access userview nodeagent"

/* The login service's settings, as the official CLI takes them. */
struct conf_auth {
	char *url;		/* auth_url, else https://$EXLS_AUTH0_DOMAIN; allocated */
	const char *client_id;	/* $EXLS_AUTH0_CLIENT_ID or the CLI's (borrowed) */
	const char *audience;	/* $EXLS_AUTH0_AUDIENCE or the CLI's (borrowed) */
	const char *scope;
};

/* Fill *a: 0, or -EINVAL with *err when the URL is not https:// (plain
 * http:// only to a loopback host), -ENOMEM. Free with conf_auth_free. */
int conf_auth(const char *auth_url, struct conf_auth *a, char **err);
void conf_auth_free(struct conf_auth *a);

/* The CLI's config.yaml path, allocated; NULL without XDG_CONFIG_HOME/HOME. */
char *conf_cli_config_path(void);

/* The value of a top-level scalar key in a YAML file, allocated in *out:
 * 0, -ENOENT (no file or no such key), -EINVAL with *err (not YAML). */
int conf_yaml_get(const char *path, const char *key, char **out, char **err);

/* The API host as the CLI would use it, allocated in *out with *from set to
 * where it came from ("EXLS_BACKEND_HOST" or the config file's path, both
 * static or owned by out's caller via *from_owned): 0, or -ENOENT when the
 * CLI sets none. */
int conf_backend_host(char **out, char **from);

#endif
