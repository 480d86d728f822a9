/*
 * model_spec: what users write: spec.json (completeness, validation, the
 * skeleton, the template check), the workspace templates, and control
 * commands. Pure apart from allocation.
 */
#include "model.h"
#include "model_int.h"
#include "log.h"
#include "path.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shape of what was written so far, from strings and nesting alone
 * (no parse): a prefix of an object, one object then white space, or
 * something no later bytes can turn into one object. */
enum spec_shape { SPEC_PREFIX, SPEC_OBJECT, SPEC_NOT_OBJECT, SPEC_TRAILING };

/* *at: where the object ends (SPEC_OBJECT), or the first offending byte. */
static enum spec_shape
spec_shape(const char *buf, size_t len, size_t *at)
{
	int depth = 0, in_str = 0, esc = 0;
	size_t i = 0;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	*at = i;
	if (i == len)
		return SPEC_PREFIX;
	if (buf[i] != '{')
		return SPEC_NOT_OBJECT;
	for (; i < len && (depth > 0 || i == *at); i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	if (depth > 0)
		return SPEC_PREFIX;
	*at = i;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len) {
		*at = i;
		return SPEC_TRAILING;
	}
	return SPEC_OBJECT;
}

int
model_spec_complete(const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root;
	size_t end;
	int ok;

	switch (spec_shape(buf, len, &end)) {
	case SPEC_PREFIX:
		return 0;
	case SPEC_NOT_OBJECT:
	case SPEC_TRAILING:
		return -1;	/* no later bytes can make it one object */
	case SPEC_OBJECT:
		break;
	}
	root = json_loadb(buf, end, 0, &jerr);
	if (!root)	/* balanced, so every error is final */
		return -1;
	ok = json_is_object(root);
	json_decref(root);
	return ok ? 1 : -1;
}

/* The message for a spec that can never be one object, or NULL. */
static char *
spec_shape_error(const char *buf, size_t len)
{
	size_t at;
	char *shown, *msg = NULL;

	switch (spec_shape(buf, len, &at)) {
	case SPEC_NOT_OBJECT:
		shown = model_escape_text(buf + at, len - at, 20);
		msg = model_asprintf("spec.json must be one JSON object, starting with '{' "
				     "(it starts with \"%s\")", shown ? shown : "?");
		free(shown);
		break;
	case SPEC_TRAILING:
		shown = model_escape_text(buf + at, len - at, 20);
		msg = model_asprintf("spec.json: trailing characters after the object, at byte %zu: \"%s\" "
				     "(one JSON object only; JSON has no comments)",
				     at, shown ? shown : "?");
		free(shown);
		break;
	default:
		break;
	}
	return msg;
}

/* A workspace template (what .templates/NAME.json holds) copied into
 * spec.json: say so, and show the command that makes a spec of it. */
static char *
spec_template_error(json_t *root, const char *name)
{
	json_t *tname = json_object_get(root, "name");
	char dir[PATH_NAME_MAX + 1];

	if (!json_is_object(json_object_get(root, "variables")) ||
	    json_object_get(root, "template") || json_object_get(root, "resources") ||
	    !json_is_string(tname))
		return NULL;
	path_encode_name(name, "", 0, dir);
	return model_asprintf("spec.json holds a workspace template (\"%s\"), not a create "
			      "request: a create request names its template in \"template\". "
			      "To make one from it, in the mount: : > '%s/spec.json' && "
			      "jq --slurpfile t '.templates/%s.json' "
			      "'.template = {name: $t[0].name, variables: $t[0].variables}' "
			      "'%s/spec.json' > /tmp/spec.json && cp /tmp/spec.json '%s/spec.json'",
			      json_string_value(tname), dir, json_string_value(tname), dir, dir);
}

int
model_spec_build(const char *buf, size_t len, const char *name,
		 const char *cluster, char **body, char **err)
{
	json_error_t jerr;
	json_t *root, *v, *tpl;
	int rc = -EINVAL;

	*body = NULL;
	*err = NULL;
	if (len > MODEL_SPEC_MAX) {
		*err = model_asprintf("spec.json is larger than %d bytes",
				      MODEL_SPEC_MAX);
		return -EFBIG;
	}
	*err = spec_shape_error(buf, len);
	if (*err)
		return -EINVAL;
	root = json_loadb(buf, len, 0, &jerr);
	if (!root) {
		*err = model_asprintf("spec.json is not valid JSON: %s (line %d, column %d)",
				      jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		*err = strdup("spec.json must hold one JSON object");
		goto out;
	}
	*err = spec_template_error(root, name);
	if (*err)
		goto out;
	v = json_object_get(root, "name");
	if (v && !json_is_string(v)) {
		*err = strdup("spec.json: \"name\" must be a string");
		goto out;
	}
	if (v && strcmp(json_string_value(v), name) != 0) {
		*err = model_asprintf("spec.json: \"name\" (%s) differs from the directory's name (%s)",
				      json_string_value(v), name);
		goto out;
	}
	if (!v && json_object_set_new(root, "name", json_string(name)) < 0) {
		*err = strdup("spec.json: the directory name is not valid UTF-8");
		goto out;
	}
	v = json_object_get(root, "cluster_id");
	if (!v && cluster) {
		json_object_set_new(root, "cluster_id", json_string(cluster));
		v = json_object_get(root, "cluster_id");
	}
	if (json_is_string(v) && (!*json_string_value(v) ||
				  strcmp(json_string_value(v), MODEL_ZERO_UUID) == 0)) {
		/* the skeleton's blank (or an older skeleton's zero UUID):
		 * saving an untouched draft must not create on no cluster */
		*err = model_asprintf("spec.json: \"cluster_id\" is %s: set it to the id of "
				      "the cluster to create on (ls .by-cluster shows the clusters)",
				      *json_string_value(v) ? "the zero UUID placeholder" : "empty");
		goto out;
	}
	if (!json_is_string(v) || !model_is_uuid(json_string_value(v))) {
		*err = strdup("spec.json: \"cluster_id\" must be a UUID");
		goto out;
	}
	if (cluster && strcasecmp(json_string_value(v), cluster) != 0) {
		*err = model_asprintf("spec.json: \"cluster_id\" differs from the mount's cluster %s",
				      cluster);
		goto out;
	}
	tpl = json_object_get(root, "template");
	if (!json_is_object(tpl)) {
		*err = strdup("spec.json: \"template\" must be an object");
		goto out;
	}
	v = json_object_get(tpl, "name");
	if (!json_is_string(v) || !*json_string_value(v)) {
		*err = strdup("spec.json: \"template.name\" must be a non-empty string");
		goto out;
	}
	v = json_object_get(tpl, "variables");
	if (!v)
		json_object_set_new(tpl, "variables", json_object());
	else if (!json_is_object(v)) {
		*err = strdup("spec.json: \"template.variables\" must be an object");
		goto out;
	}
	if (!json_is_object(json_object_get(root, "resources"))) {
		*err = strdup("spec.json: \"resources\" must be an object");
		goto out;
	}
	*body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!*body) {
		*err = strdup("out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

struct model_templates {
	int refs;		/* atomic */
	size_t n;
	char **names;
	char **json;
	json_t *root;		/* the parsed reply, for variables */
};

struct model_templates *
model_templates_ref(struct model_templates *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

void
model_templates_unref(struct model_templates *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->names[i]);
		free(t->json[i]);
	}
	free(t->names);
	free(t->json);
	json_decref(t->root);
	free(t);
}

int
model_templates_parse(const char *body, size_t len, struct model_templates **out,
		      char **err)
{
	struct model_templates *t;
	json_t *arr, *e;
	size_t i;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	t->refs = 1;
	t->root = model_load(body, len, err);
	if (!t->root)
		goto fail;
	arr = json_object_get(t->root, "workspace_templates");
	if (!json_is_array(arr)) {
		*err = strdup("API templates reply has no \"workspace_templates\" array");
		goto fail;
	}
	t->names = calloc(json_array_size(arr) + 1, sizeof(*t->names));
	t->json = calloc(json_array_size(arr) + 1, sizeof(*t->json));
	if (!t->names || !t->json)
		goto nomem;
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		char *clean, *dump;

		/* a template must have a name usable as a file name, and one
		 * the others do not have once control characters are gone */
		if (!name || !*name || strchr(name, '/') || name[0] == '.' ||
		    strlen(name) > 200) {
			log_msg(LOG_LVL_WARN, "template %zu skipped: no usable name", i);
			continue;
		}
		clean = strdup(name);
		if (!clean)
			goto nomem;
		model_clean_line(clean);
		if (model_templates_find(t, clean) >= 0 || strcmp(clean, name) != 0) {
			log_msg(LOG_LVL_WARN, "template %zu skipped: a repeated name or control characters in it", i);
			free(clean);
			continue;
		}
		dump = json_dumps(e, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		t->names[t->n] = clean;
		t->json[t->n] = dump ? model_asprintf("%s\n", dump) : NULL;
		free(dump);
		if (!t->json[t->n]) {
			free(t->names[t->n]);
			goto nomem;
		}
		t->n++;
	}
	*out = t;
	return 0;
nomem:
	*err = strdup("out of memory");
fail:
	model_templates_unref(t);
	return -EIO;
}

size_t
model_templates_count(const struct model_templates *t)
{
	return t ? t->n : 0;
}

const char *
model_templates_name(const struct model_templates *t, size_t i)
{
	return t && i < t->n ? t->names[i] : NULL;
}

const char *
model_templates_json(const struct model_templates *t, size_t i)
{
	return t && i < t->n ? t->json[i] : NULL;
}

long
model_templates_find(const struct model_templates *t, const char *name)
{
	for (size_t i = 0; t && name && i < t->n; i++)
		if (strcmp(t->names[i], name) == 0)
			return (long)i;
	return -1;
}

/* The variables object of template name in the parsed reply. */
static json_t *
model_templates_vars(const struct model_templates *t, const char *name)
{
	json_t *arr = json_object_get(t->root, "workspace_templates"), *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && strcmp(n, name) == 0)
			return json_object_get(e, "variables");
	}
	return NULL;
}

/* "a, b, c": the keys of an object, or the template names (allocated). */
static char *
model_join(json_t *obj, const struct model_templates *t)
{
	const char *key;
	char *buf = NULL;
	size_t len = 0, n = 0;
	json_t *v;
	FILE *fp = open_memstream(&buf, &len);

	if (!fp)
		return NULL;
	json_object_foreach(obj, key, v) {
		fprintf(fp, "%s%s", n++ ? ", " : "", key);
	}
	for (size_t i = 0; t && i < t->n; i++)
		fprintf(fp, "%s%s", n++ ? ", " : "", t->names[i]);
	if (n == 0)
		fputs("none", fp);
	fclose(fp);
	return buf;
}

int
model_spec_check_template(const char *body, const struct model_templates *t,
			  char **err)
{
	json_t *root, *tpl, *known, *v;
	const char *name, *key;
	char *list = NULL;
	int rc = -EINVAL;

	*err = NULL;
	root = json_loads(body, 0, NULL);
	tpl = json_object_get(root, "template");
	name = json_string_value(json_object_get(tpl, "name"));
	if (!name) {
		*err = strdup("spec.json: \"template.name\" must be a string");
		goto out;
	}
	if (model_templates_find(t, name) < 0) {
		list = model_join(NULL, t);
		*err = model_asprintf("spec.json: unknown template \"%s\" (known: %s)",
				      name, list ? list : "");
		goto out;
	}
	known = model_templates_vars(t, name);
	json_object_foreach(json_object_get(tpl, "variables"), key, v) {
		if (!json_object_get(known, key)) {
			list = model_join(known, NULL);
			*err = model_asprintf("spec.json: template \"%s\" has no variable \"%s\" (known: %s)",
					      name, key, list ? list : "");
			goto out;
		}
		if (!json_is_string(v)) {
			*err = model_asprintf("spec.json: template variable \"%s\" must be a string",
					      key);
			goto out;
		}
	}
	rc = 0;
out:
	free(list);
	json_decref(root);
	return rc;
}

char *
model_spec_skeleton(const char *name, const char *cluster,
		    const struct model_templates *tpl, long i)
{
	json_t *root, *vars = NULL;
	const char *tname = "jupyter-notebook";
	char *dump, *s;

	if (tpl && i >= 0 && (size_t)i < tpl->n) {
		tname = tpl->names[i];
		vars = json_deep_copy(model_templates_vars(tpl, tname));
	}
	if (!json_is_object(vars)) {
		json_decref(vars);
		vars = json_object();
	}
	root = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:i, s:s, s:s, s:i, s:i, s:i}, s:s}",
			 "name", name,
			 "cluster_id", cluster ? cluster : "",
			 "template", "name", tname, "variables", vars,
			 "resources", "gpu_count", 1, "gpu_type", "A100",
			 "gpu_vendor", "NVIDIA", "cpu_cores", 4, "memory_gb", 16,
			 "storage_gb", 100,
			 "description", "");
	if (!root) {
		/* the name is not valid UTF-8: fall back to a name-less one */
		root = json_pack("{s:s}", "cluster_id", cluster ? cluster : "");
		if (!root)
			return NULL;
	}
	dump = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!dump)
		return NULL;
	s = model_asprintf("%s\n", dump);
	free(dump);
	return s;
}

const char *
model_cmd_name(enum model_cmd c)
{
	return c == MODEL_CMD_START ? "start" : "stop";
}

char *
model_escape_text(const char *s, size_t n, size_t max)
{
	char *buf = NULL;
	size_t len = 0, i = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (!fp)
		return NULL;
	while (i < n && i < max) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c >= 0x80 ? utf8_seq_len((const unsigned char *)s + i, n - i) : 1;

		if (c == '"' || c == '\\') {
			fprintf(fp, "\\%c", c);
		} else if (c >= 0x20 && c < 0x7f) {
			fputc(c, fp);
		} else if (k > 1 && !(c == 0xC2 && (unsigned char)s[i + 1] < 0xA0)) {
			fwrite(s + i, 1, k, fp);	/* readable text, C1 controls aside */
			i += k;
			continue;
		} else {
			fprintf(fp, "\\x%02X", c);
		}
		i++;
	}
	if (i < n)
		fputs("...", fp);
	fclose(fp);
	return buf;
}

int
model_cmd_reached(enum model_cmd cmd, const char *status)
{
	if (!status)
		return 0;
	if (cmd == MODEL_CMD_START)
		return strcmp(status, "RUNNING") == 0 || strcmp(status, "PENDING") == 0;
	return strcmp(status, "STOPPED") == 0;
}

int
model_parse_control(const char *buf, size_t len, enum model_cmd *cmds,
		    size_t *n, char **err)
{
	const char *nul = memchr(buf, '\0', len);
	size_t i = 0;

	*n = 0;
	*err = NULL;
	if (nul) {
		/* "start\0stop" must not read as an unknown command "start" */
		*err = model_asprintf("control: a NUL byte at offset %zu (commands are "
				      "text, one a line: start, stop)", (size_t)(nul - buf));
		return -EINVAL;
	}
	while (i < len) {
		size_t b = i, e;

		while (i < len && buf[i] != '\n')
			i++;
		e = i++;
		while (b < e && isspace((unsigned char)buf[b]))
			b++;
		while (e > b && isspace((unsigned char)buf[e - 1]))
			e--;
		if (b == e)
			continue;
		if (*n == MODEL_CMD_MAX) {
			*err = model_asprintf("control: more than %d commands in one write",
					      MODEL_CMD_MAX);
			return -EINVAL;
		}
		if (e - b == 5 && strncasecmp(buf + b, "start", 5) == 0) {
			cmds[(*n)++] = MODEL_CMD_START;
		} else if (e - b == 4 && strncasecmp(buf + b, "stop", 4) == 0) {
			cmds[(*n)++] = MODEL_CMD_STOP;
		} else {
			/* what was written is echoed into error: escaped */
			char *shown = model_escape_text(buf + b, e - b, 40);

			*err = model_asprintf("control: unknown command \"%s\" (known: start, stop)",
					      shown ? shown : "?");
			free(shown);
			return -EINVAL;
		}
	}
	if (*n == 0) {
		*err = strdup("control: no command given (known: start, stop)");
		return -EINVAL;
	}
	return 0;
}
