/*
 * oauth: the login service's two endpoints as the official client uses
 * them: the device-code flow (RFC 8628) and the refresh_token grant, with
 * form-encoded bodies, through an http client made with cfg.anonymous.
 * Tokens are secrets: they never enter an error message.
 */
#ifndef EXFS_OAUTH_H
#define EXFS_OAUTH_H

struct http;

/* A login: each string allocated (refresh and id may be NULL). */
struct oauth_tokens {
	char *access;
	char *id;
	char *refresh;
	long long expiry;	/* seconds since 1970 when access expires, 0 unknown */
};

struct oauth_cfg {
	const char *client_id;
	const char *audience;
	const char *scope;
};

struct oauth_device {
	char *device_code;	/* a secret, like a token */
	char *user_code;
	char *uri;		/* verification_uri */
	char *uri_complete;	/* verification_uri_complete, may be NULL */
	int interval;		/* seconds between polls */
	int expires_in;		/* seconds the code is good for */
};

/* A client for the login service at url (no Authorization header, bodies
 * up to 1 MiB); NULL with *err on failure. Free with http_free. */
struct http *oauth_http_new(const char *url, long timeout_ms, int retries,
			    char **err);

/* Wipe and free the strings of *t (not t itself). */
void oauth_tokens_free(struct oauth_tokens *t);
/* Deep copy; 0 or -ENOMEM (dst then empty). */
int oauth_tokens_copy(struct oauth_tokens *dst, const struct oauth_tokens *src);
/* Free the strings of *d (not d itself). */
void oauth_device_free(struct oauth_device *d);

/* POST /oauth/device/code: 0 with *d filled, or -errno with *err. */
int oauth_device_start(struct http *h, const struct oauth_cfg *cfg,
		       struct oauth_device *d, char **err);
/* One poll of POST /oauth/token for a device code: 0 with *out filled;
 * -EAGAIN not yet approved; -EBUSY slow down (wait 5 s longer from now
 * on); -ETIMEDOUT the code expired; -EACCES refused by the user or the
 * service; other -errno for transport failures. *err set unless 0. */
int oauth_device_poll(struct http *h, const struct oauth_cfg *cfg,
		      const char *device_code, struct oauth_tokens *out,
		      char **err);
/* POST /oauth/token with grant_type=refresh_token: 0 with *out filled
 * (out->refresh NULL when the service does not rotate it), -EACCES when
 * the refresh token is refused (log in again), other -errno otherwise. */
int oauth_refresh(struct http *h, const struct oauth_cfg *cfg,
		  const char *refresh, struct oauth_tokens *out, char **err);

/* application/x-www-form-urlencoded escaping of s, allocated. Pure. */
char *oauth_form_escape(const char *s);

#endif
