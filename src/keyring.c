/*
 * keyring: libsecret only; no state of its own (libsecret keeps its
 * connection to the service and is safe to call from several threads).
 */
#include "keyring.h"
#include "model.h"
#include "rfc3339.h"

#include <errno.h>
#include <libsecret/secret.h>
#include <stdlib.h>
#include <string.h>

#define KEYRING_APP "Python keyring library"

/* Search by service and username only, like the Python library, so that
 * items stored by either program match (no xdg:schema attribute). */
static const SecretSchema keyring_schema = {
	"org.freedesktop.Secret.Generic", SECRET_SCHEMA_DONT_MATCH_NAME,
	{
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "application", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

static const char *const keyring_kinds[] = { "access_token", "id_token",
					     "refresh_token", "expiry" };

/* -errno for a libsecret error, with a message (never a secret). */
static int
keyring_error(GError *e, const char *what, char **err)
{
	int rc = -EHOSTUNREACH;

	if (e && e->domain == SECRET_ERROR && e->code == SECRET_ERROR_IS_LOCKED)
		rc = -EACCES;
	*err = model_asprintf("Secret Service: %s: %s", what,
			      e && e->message ? e->message : "failed");
	if (e)
		g_error_free(e);
	return rc;
}

/* One item's secret (allocated with malloc), NULL when absent. */
static int
keyring_get(const char *client_id, const char *kind, char **out, char **err)
{
	char *user = model_asprintf("%s_%s", client_id, kind);
	GError *e = NULL;
	gchar *v;

	*out = NULL;
	if (!user) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	v = secret_password_lookup_sync(&keyring_schema, NULL, &e, "service",
					KEYRING_SERVICE, "username", user, NULL);
	free(user);
	if (e)
		return keyring_error(e, "reading the exls login", err);
	if (v) {
		*out = strdup(v);
		secret_password_free(v);
		if (!*out) {
			*err = strdup("out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int
keyring_load(const char *client_id, struct oauth_tokens *t, char **err)
{
	char *v[4] = { NULL, NULL, NULL, NULL };
	long long us;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	*err = NULL;
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = keyring_get(client_id, keyring_kinds[i], &v[i], err);
	if (rc == 0 && !v[0]) {
		*err = strdup("no exls login in the Secret Service");
		rc = -ENOENT;
	}
	if (rc < 0) {
		struct oauth_tokens tmp = { v[0], v[1], v[2], 0 };

		oauth_tokens_free(&tmp);
		free(v[3]);
		return rc;
	}
	t->access = v[0];
	t->id = v[1];
	t->refresh = v[2];
	if (v[3] && rfc3339_parse(v[3], &us) == 0)
		t->expiry = us / 1000000;
	free(v[3]);
	return 0;
}

static int
keyring_put(const char *client_id, const char *kind, const char *value,
	    char **err)
{
	char *user = model_asprintf("%s_%s", client_id, kind);
	char *label = user ? model_asprintf("Password for '%s' on '%s'", user,
					    KEYRING_SERVICE) : NULL;
	GError *e = NULL;

	if (!user || !label) {
		free(user);
		free(label);
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	/* items another version of the library stored with other attributes
	 * would shadow ours: one item per username */
	secret_password_clear_sync(&keyring_schema, NULL, NULL, "service",
				   KEYRING_SERVICE, "username", user, NULL);
	secret_password_store_sync(&keyring_schema, SECRET_COLLECTION_DEFAULT,
				   label, value, NULL, &e, "service", KEYRING_SERVICE,
				   "username", user, "application", KEYRING_APP, NULL);
	free(user);
	free(label);
	if (e)
		return keyring_error(e, "storing the login", err);
	return 0;
}

int
keyring_save(const char *client_id, const struct oauth_tokens *t, char **err)
{
	char exp[40];
	int rc = 0;

	*err = NULL;
	if (rfc3339_format(t->expiry > 0 ? t->expiry : 0, exp, sizeof(exp)) < 0)
		exp[0] = '\0';
	/* the refresh token first: losing a rotated one logs the user out */
	if (t->refresh)
		rc = keyring_put(client_id, "refresh_token", t->refresh, err);
	if (rc == 0 && t->access)
		rc = keyring_put(client_id, "access_token", t->access, err);
	if (rc == 0 && t->id)
		rc = keyring_put(client_id, "id_token", t->id, err);
	if (rc == 0)
		rc = keyring_put(client_id, "expiry", exp, err);
	return rc;
}

int
keyring_remove(const char *client_id, char **err)
{
	int rc = 0;

	*err = NULL;
	for (int i = 0; i < 4; i++) {
		char *user = model_asprintf("%s_%s", client_id, keyring_kinds[i]);
		GError *e = NULL;

		if (!user) {
			*err = strdup("out of memory");
			return -ENOMEM;
		}
		secret_password_clear_sync(&keyring_schema, NULL, &e, "service",
					   KEYRING_SERVICE, "username", user, NULL);
		free(user);
		if (e && rc == 0)
			rc = keyring_error(e, "removing the login", err);
		else if (e)
			g_error_free(e);
	}
	return rc;
}
