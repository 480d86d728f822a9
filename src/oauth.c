/*
 * oauth: request bodies built here, replies parsed here (jansson stays
 * inside); no state of its own, so any thread may call it.
 */
#include "oauth.h"
#include "http.h"
#include "jwt.h"
#include "model.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OAUTH_DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

struct http *
oauth_http_new(const char *url, long timeout_ms, int retries, char **err)
{
	struct http_cfg hc = { 0 };

	hc.base_url = url;
	hc.anonymous = 1;
	hc.timeout_ms = timeout_ms;
	hc.connect_timeout_ms = timeout_ms < 10000 ? timeout_ms : 10000;
	hc.retries = retries;
	hc.max_body = 1024 * 1024;
	return http_new(&hc, err);
}

static void
oauth_wipe(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void
oauth_tokens_free(struct oauth_tokens *t)
{
	oauth_wipe(t->access);
	oauth_wipe(t->id);
	oauth_wipe(t->refresh);
	memset(t, 0, sizeof(*t));
}

int
oauth_tokens_copy(struct oauth_tokens *dst, const struct oauth_tokens *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->expiry = src->expiry;
	if ((src->access && !(dst->access = strdup(src->access))) ||
	    (src->id && !(dst->id = strdup(src->id))) ||
	    (src->refresh && !(dst->refresh = strdup(src->refresh)))) {
		oauth_tokens_free(dst);
		return -ENOMEM;
	}
	return 0;
}

void
oauth_device_free(struct oauth_device *d)
{
	oauth_wipe(d->device_code);
	free(d->user_code);
	free(d->uri);
	free(d->uri_complete);
	memset(d, 0, sizeof(*d));
}

char *
oauth_form_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 3 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* "k1=v1&k2=v2..." from NULL-terminated key/value pairs; values escaped.
 * The result may hold a secret: free it with oauth_wipe. */
static char *
oauth_form(const char *const *kv)
{
	size_t cap = 1, o = 0;
	char *out, *v;

	for (size_t i = 0; kv[i]; i += 2)
		cap += strlen(kv[i]) + 2 + 3 * strlen(kv[i + 1]);
	out = malloc(cap);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; kv[i]; i += 2) {
		v = oauth_form_escape(kv[i + 1]);
		if (!v) {
			oauth_wipe(out);
			return NULL;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%s=%s", i ? "&" : "", kv[i], v);
		oauth_wipe(v);
	}
	return out;
}

/* A short printable copy of a server-chosen string, for messages. */
static char *
oauth_clean(const char *s)
{
	char buf[161];
	size_t o = 0;

	for (; s && *s && o < sizeof(buf) - 1; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	buf[o] = '\0';
	return strdup(buf);
}

static char *
oauth_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? strdup(s) : NULL;
}

/* POST form to path: the parsed JSON object reply (new reference) and its
 * status, or -errno with *err. */
static int
oauth_call(struct http *h, const char *path, const char *const *kv,
	   long *status, json_t **out, char **err)
{
	struct http_resp resp;
	char *form = oauth_form(kv);
	int rc;

	*out = NULL;
	if (!form) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	rc = http_post_form(h, path, form, &resp, err);
	oauth_wipe(form);
	if (rc < 0)
		return rc;
	*status = resp.status;
	*out = json_loadb(resp.body, resp.len, 0, NULL);
	if (resp.body)
		memset(resp.body, 0, resp.len);
	http_resp_free(&resp);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		*err = model_asprintf("the login service answered %s with HTTP %ld and no JSON object",
				      path, *status);
		return -EIO;
	}
	return 0;
}

/* Fill *t from a successful token reply. */
static int
oauth_tokens_from(json_t *o, struct oauth_tokens *t, char **err)
{
	json_t *ei = json_object_get(o, "expires_in");
	struct jwt_claims c;

	memset(t, 0, sizeof(*t));
	t->access = oauth_jstr(o, "access_token");
	t->id = oauth_jstr(o, "id_token");
	t->refresh = oauth_jstr(o, "refresh_token");
	if (!t->access) {
		oauth_tokens_free(t);
		*err = strdup("the login service answered without an access_token");
		return -EIO;
	}
	if (jwt_claims(t->access, &c) == 0) {
		t->expiry = c.exp;
		jwt_claims_free(&c);
	}
	if (!t->expiry && json_is_integer(ei) && json_integer_value(ei) > 0)
		t->expiry = (long long)time(NULL) + (long long)json_integer_value(ei);
	return 0;
}

/* The OAuth error of a failed reply: its code in *code (allocated). */
static char *
oauth_error_msg(json_t *o, long status, const char *what, char **code)
{
	char *e = oauth_clean(json_string_value(json_object_get(o, "error")));
	char *d = oauth_clean(json_string_value(json_object_get(o, "error_description")));
	char *msg = model_asprintf("%s: HTTP %ld: %s%s%s", what, status,
				   e && *e ? e : "error", d && *d ? ": " : "", d ? d : "");

	*code = e;
	free(d);
	return msg;
}

int
oauth_device_start(struct http *h, const struct oauth_cfg *cfg,
		   struct oauth_device *d, char **err)
{
	const char *kv[] = { "client_id", cfg->client_id, "scope", cfg->scope,
			     "audience", cfg->audience, NULL };
	long status = 0;
	json_t *o;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = oauth_call(h, "/oauth/device/code", kv, &status, &o, err);
	if (rc < 0)
		return rc;
	if (status != 200) {
		char *code = NULL;

		*err = oauth_error_msg(o, status, "asking for a device code", &code);
		free(code);
		json_decref(o);
		return status == 403 || status == 401 ? -EACCES : -EIO;
	}
	d->device_code = oauth_jstr(o, "device_code");
	d->user_code = oauth_jstr(o, "user_code");
	d->uri = oauth_jstr(o, "verification_uri");
	d->uri_complete = oauth_jstr(o, "verification_uri_complete");
	d->interval = (int)json_integer_value(json_object_get(o, "interval"));
	d->expires_in = (int)json_integer_value(json_object_get(o, "expires_in"));
	json_decref(o);
	if (d->interval < 1 || d->interval > 60)
		d->interval = 5;
	if (d->expires_in < 1)
		d->expires_in = 900;
	if (!d->device_code || !d->user_code || !d->uri) {
		oauth_device_free(d);
		*err = strdup("the login service's device code answer lacks device_code, user_code or verification_uri");
		return -EIO;
	}
	return 0;
}

/* POST a grant to /oauth/token: 0 with the tokens in *out, -errno when
 * the service could not be asked, 1 when it answered with an error (then
 * *err says so in the words of what, *code is its error code). */
static int
oauth_token_grant(struct http *h, const char **kv, const char *what,
		  struct oauth_tokens *out, long *status, char **code, char **err)
{
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	*status = 0;
	*code = NULL;
	rc = oauth_call(h, "/oauth/token", kv, status, &o, err);
	if (rc < 0)
		return rc;
	if (*status == 200) {
		rc = oauth_tokens_from(o, out, err);
		json_decref(o);
		return rc;
	}
	*err = oauth_error_msg(o, *status, what, code);
	json_decref(o);
	return 1;
}

int
oauth_device_poll(struct http *h, const struct oauth_cfg *cfg,
		  const char *device_code, struct oauth_tokens *out, char **err)
{
	const char *kv[] = { "grant_type", OAUTH_DEVICE_GRANT, "client_id",
			     cfg->client_id, "device_code", device_code, NULL };
	char *code;
	long status;
	int rc;

	rc = oauth_token_grant(h, kv, "logging in", out, &status, &code, err);
	if (rc <= 0)
		return rc;
	if (code && strcmp(code, "authorization_pending") == 0)
		rc = -EAGAIN;
	else if (code && strcmp(code, "slow_down") == 0)
		rc = -EBUSY;
	else if (code && strcmp(code, "expired_token") == 0)
		rc = -ETIMEDOUT;
	else if (status >= 400 && status < 500 && status != 429)
		rc = -EACCES;
	else if (status == 429)
		rc = -EBUSY;
	else
		rc = -EIO;
	free(code);
	return rc;
}

int
oauth_refresh(struct http *h, const struct oauth_cfg *cfg, const char *refresh,
	      struct oauth_tokens *out, char **err)
{
	const char *kv[] = { "grant_type", "refresh_token", "client_id",
			     cfg->client_id, "refresh_token", refresh, NULL };
	char *code;
	long status;
	int rc;

	rc = oauth_token_grant(h, kv, "renewing the access token", out, &status, &code, err);
	if (rc <= 0)
		return rc;
	free(code);
	/* 4xx: this refresh token will not work again; 429 and 5xx may pass */
	return status >= 400 && status < 500 && status != 429 ? -EACCES : -EIO;
}
