/*
 * conf: no state; every call reads the environment or the file afresh.
 */
#include "conf.h"
#include "http.h"
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

int
conf_auth(const char *auth_url, struct conf_auth *a, char **err)
{
	const char *dom = getenv("EXLS_AUTH0_DOMAIN");

	*err = NULL;
	a->client_id = getenv("EXLS_AUTH0_CLIENT_ID");
	if (!a->client_id || !*a->client_id)
		a->client_id = CONF_AUTH0_CLIENT_ID;
	a->audience = getenv("EXLS_AUTH0_AUDIENCE");
	if (!a->audience || !*a->audience)
		a->audience = CONF_AUTH0_AUDIENCE;
	a->scope = CONF_AUTH0_SCOPE;
	if (!dom || !*dom)
		dom = CONF_AUTH0_DOMAIN;
	a->url = auth_url ? strdup(auth_url) : model_asprintf("https://%s", dom);
	if (!a->url) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	if (!http_url_allowed(a->url)) {
		*err = strdup("auth_url must be https:// (plain http:// only to a loopback host)");
		conf_auth_free(a);
		return -EINVAL;
	}
	return 0;
}

void
conf_auth_free(struct conf_auth *a)
{
	free(a->url);
	a->url = NULL;
}

char *
conf_cli_config_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return model_asprintf("%s/exalsius/config.yaml", x);
	if (home && *home)
		return model_asprintf("%s/.config/exalsius/config.yaml", home);
	return NULL;
}

int
conf_yaml_get(const char *path, const char *key, char **out, char **err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, want_value = 0, is_key = 1, rc = -ENOENT, done = 0;
	FILE *f;

	*out = NULL;
	*err = NULL;
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			*err = model_asprintf("%s: not YAML: %s (line %lu)", path,
					      p.problem ? p.problem : "parse error",
					      (unsigned long)p.problem_mark.line + 1);
			rc = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 1 && !is_key)
				is_key = 1;	/* a nested value of a top-level key */
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1)
				break;
			if (is_key) {
				want_value = strcmp((const char *)ev.data.scalar.value, key) == 0;
				is_key = 0;
			} else {
				if (want_value && !*out) {
					*out = strdup((const char *)ev.data.scalar.value);
					rc = *out ? 0 : -ENOMEM;
				}
				want_value = 0;
				is_key = 1;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	if (rc < 0 && *out) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int
conf_backend_host(char **out, char **from)
{
	const char *env = getenv("EXLS_BACKEND_HOST");
	char *path, *err = NULL;
	int rc;

	*out = NULL;
	*from = NULL;
	if (env && *env) {
		*out = strdup(env);
		*from = strdup("EXLS_BACKEND_HOST");
		return *out && *from ? 0 : -ENOMEM;
	}
	path = conf_cli_config_path();
	if (!path)
		return -ENOENT;
	rc = conf_yaml_get(path, "backend_host", out, &err);
	if (rc == -EINVAL)
		fprintf(stderr, "exalsiusfs: warning: %s; backend_host ignored\n", err);
	free(err);
	if (rc == 0 && **out) {
		*from = path;
		return 0;
	}
	free(*out);
	*out = NULL;
	free(path);
	return -ENOENT;
}
