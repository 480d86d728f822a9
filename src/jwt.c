/*
 * jwt: base64url and the few claims the mount shows or acts on. Strings
 * in a claims struct are owned by it.
 */
#include "jwt.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define JWT_MAX_PAYLOAD 65536

static int
jwt_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

char *
jwt_b64url_decode(const char *in, size_t n, size_t *len)
{
	unsigned int acc = 0;
	size_t o = 0;
	int bits = 0;
	char *out;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return NULL;	/* a lone 6-bit group cannot end a byte */
	out = malloc(n * 3 / 4 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int v = jwt_b64_value((unsigned char)in[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	out[o] = '\0';
	if (len)
		*len = o;
	return out;
}

static char *
jwt_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? strdup(s) : NULL;
}

static long long
jwt_int(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return 0;
}

/* The organisation: plain claims first, then a namespaced one such as
 * "https://example/org_name" (custom claims must be URLs at Auth0). */
static char *
jwt_org(json_t *obj)
{
	static const char *const plain[] = { "org_name", "org_id", "organization" };
	const char *key;
	json_t *v;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *s = jwt_str(obj, plain[i]);

		if (s)
			return s;
	}
	json_object_foreach(obj, key, v) {
		if (strstr(key, "://") && strstr(key, "org") && json_is_string(v) &&
		    *json_string_value(v))
			return strdup(json_string_value(v));
	}
	return NULL;
}

int
jwt_claims(const char *token, struct jwt_claims *out)
{
	const char *p, *q;
	char *payload;
	json_t *obj;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!token || !(p = strchr(token, '.')) || !(q = strchr(p + 1, '.')))
		return -EINVAL;
	if ((size_t)(q - p - 1) > JWT_MAX_PAYLOAD)
		return -EINVAL;
	payload = jwt_b64url_decode(p + 1, (size_t)(q - p - 1), &n);
	if (!payload)
		return -EINVAL;
	obj = json_loadb(payload, n, JSON_REJECT_DUPLICATES, NULL);
	memset(payload, 0, n);
	free(payload);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return -EINVAL;
	}
	out->exp = jwt_int(obj, "exp");
	out->iat = jwt_int(obj, "iat");
	out->sub = jwt_str(obj, "sub");
	out->email = jwt_str(obj, "email");
	out->org = jwt_org(obj);
	json_decref(obj);
	return 0;
}

void
jwt_claims_free(struct jwt_claims *c)
{
	free(c->sub);
	free(c->email);
	free(c->org);
	memset(c, 0, sizeof(*c));
}
