/*
 * model: jansson in, C structs and strings out. Every function here is a
 * pure transformation (plus allocation), so the unit tests drive it with
 * literal documents. Invariant: a struct ws always has non-NULL strings.
 */
#include "model.h"
#include "log.h"
#include "rfc3339.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
model_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
model_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

struct ws *
model_ws_ref(struct ws *w)
{
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

void
model_ws_unref(struct ws *w)
{
	if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(w->id);
	free(w->name);
	free(w->cluster_id);
	free(w->status);
	free(w->created_at);
	free(w->json);
	free(w->access);
	free(w->template_name);
	free(w->gpus);
	free(w);
}

void
model_ws_array_free(struct ws **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		model_ws_unref(v[i]);
	free(v);
}

int
model_is_uuid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t i;
	int d = 0;

	if (!s || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* RFC 3339 to time_t; 0 when it is not understood. */
static time_t
model_parse_time(const char *s)
{
	long long us;

	return rfc3339_parse(s, &us) == 0 ? (time_t)(us / 1000000) : 0;
}

static char *
model_str_field(json_t *o, const char *key, const char *dflt)
{
	json_t *v = json_object_get(o, key);

	return strdup(json_is_string(v) ? json_string_value(v) : dflt);
}

/* Make a string safe for one line of a text file: control characters
 * (tab, newline included) become spaces. In place. */
static void
model_clean_line(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* "2xA100", "1", or "0" from a Hardware object. */
static char *
model_render_gpus(json_t *res)
{
	json_t *cnt = json_object_get(res, "gpu_count");
	json_t *type = json_object_get(res, "gpu_type");
	long long n = json_is_integer(cnt) ? json_integer_value(cnt) : 0;
	char *s;

	if (n > 0 && json_is_string(type) && *json_string_value(type))
		s = model_asprintf("%lldx%.32s", n, json_string_value(type));
	else
		s = model_asprintf("%lld", n);
	model_clean_line(s);
	for (char *p = s; p && *p; p++)
		if (*p == ' ')
			*p = '_';
	return s;
}

/* One access entry as the official CLI shows it (allocated). */
static char *
model_access_line(json_t *e)
{
	json_t *ip0 = json_array_get(json_object_get(e, "external_ips"), 0);
	json_t *port = json_object_get(e, "port_number");
	const char *proto = json_string_value(json_object_get(e, "access_protocol"));
	long long p = json_is_integer(port) ? json_integer_value(port) : 0;
	const char *ip = json_string_value(ip0);
	char *line;

	if (!ip || !*ip)
		line = strdup("<pending>");
	else if (proto && strcasecmp(proto, "SSH") == 0)
		line = p == 22 ? model_asprintf("ssh dev@%s", ip)
			       : model_asprintf("ssh -p %lld dev@%s", p, ip);
	else if (proto && strcasecmp(proto, "HTTPS") == 0)
		line = model_asprintf("https://%s:%lld", ip, p);
	else if (proto && strcasecmp(proto, "HTTP") == 0)
		line = model_asprintf("http://%s:%lld", ip, p);
	else
		line = model_asprintf("%s:%lld", ip, p);
	model_clean_line(line);
	return line;
}

/* The access file: one connect line per access entry, then one "# " note
 * line per entry with its port name and description, so that the first
 * line is always a command (`$(head -1 access)`). */
static char *
model_render_access(json_t *arr)
{
	char *buf = NULL;
	size_t len = 0, i;
	json_t *e;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	if (!fp)
		return NULL;
	json_array_foreach(arr, i, e) {
		char *line = json_is_object(e) ? model_access_line(e) : NULL;

		if (line)
			fprintf(fp, "%s\n", line);
		free(line);
	}
	json_array_foreach(arr, i, e) {
		const char *pname = json_string_value(json_object_get(e, "port_name"));
		const char *desc = json_string_value(json_object_get(e, "access_description"));
		char *line, *note;

		if (!json_is_object(e) || (!pname && !desc))
			continue;
		line = model_access_line(e);
		note = model_asprintf("# %s: %s%s%s", line ? line : "", pname ? pname : "",
				      pname && desc ? ", " : "", desc ? desc : "");
		model_clean_line(note);
		if (note)
			fprintf(fp, "%s\n", note);
		free(note);
		free(line);
	}
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A status is shown verbatim when it is a short printable word. */
static int
model_status_ok(const char *st)
{
	size_t n = st ? strlen(st) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)st[i]) && st[i] != '_' && st[i] != '-')
			return 0;
	return 1;
}

/* Build a ws from one Workspace object; NULL (with reason) if unusable. */
static struct ws *
model_ws_from_json(json_t *o, const char **why)
{
	struct ws *w;
	char *dump;
	size_t dlen;

	if (!json_is_object(o)) {
		*why = "not an object";
		return NULL;
	}
	if (!json_is_string(json_object_get(o, "id"))) {
		*why = "no string id";
		return NULL;
	}
	if (!json_is_string(json_object_get(o, "name"))) {
		*why = "no string name";
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		*why = "out of memory";
		return NULL;
	}
	w->refs = 1;
	w->id = model_str_field(o, "id", "");
	w->name = model_str_field(o, "name", "");
	w->cluster_id = model_str_field(o, "cluster_id", "");
	w->status = model_str_field(o, "workspace_status", "UNKNOWN");
	w->created_at = model_str_field(o, "created_at", "");
	dump = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!w->id || !w->name || !w->cluster_id || !w->status ||
	    !w->created_at || !dump) {
		free(dump);
		model_ws_unref(w);
		*why = "out of memory";
		return NULL;
	}
	if (!model_status_ok(w->status)) {
		log_msg(LOG_LVL_WARN, "workspace %.64s: workspace_status is not a plain word; shown as UNKNOWN",
			w->id);
		free(w->status);
		w->status = strdup("UNKNOWN");
	}
	w->created = model_parse_time(w->created_at);
	w->access = model_render_access(json_object_get(o, "access_information"));
	w->template_name = model_str_field(json_object_get(o, "template"), "name", "");
	w->gpus = model_render_gpus(json_object_get(o, "resources"));
	model_clean_line(w->template_name);
	if (!w->access || !w->template_name || !w->gpus) {
		free(dump);
		model_ws_unref(w);
		*why = "out of memory";
		return NULL;
	}
	dlen = strlen(dump);
	w->json = realloc(dump, dlen + 2);
	if (!w->json) {
		free(dump);
		model_ws_unref(w);
		*why = "out of memory";
		return NULL;
	}
	w->json[dlen] = '\n';
	w->json[dlen + 1] = '\0';
	w->json_len = dlen + 1;
	return w;
}

/* A growable output buffer that starts copying only at the first repair. */
struct model_fix {
	const char *in;
	size_t done;		/* bytes of in already accounted for */
	char *out;
	size_t len, cap;
	int oom;
};

static void
model_fix_emit(struct model_fix *f, size_t upto, const char *rep, size_t rlen)
{
	size_t need;

	if (f->oom)
		return;
	need = f->len + (upto - f->done) + rlen + 1;
	if (need > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(f->out, cap);
		if (!p) {
			f->oom = 1;
			return;
		}
		f->out = p;
		f->cap = cap;
	}
	memcpy(f->out + f->len, f->in + f->done, upto - f->done);
	f->len += upto - f->done;
	memcpy(f->out + f->len, rep, rlen);
	f->len += rlen;
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t
model_utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

static int
model_hex4(const char *p, size_t n, unsigned int *v)
{
	*v = 0;
	if (n < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

char *
model_sanitize(const char *in, size_t len, size_t *outlen)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	struct model_fix f = { .in = in };
	int in_str = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80) {
			size_t l = model_utf8_len((const unsigned char *)in + i, len - i);

			if (l == 0) {
				model_fix_emit(&f, i, fffd, 3);
				f.done = ++i;
			} else {
				i += l;
			}
			continue;
		}
		if (!in_str) {
			in_str = c == '"';
			i++;
			continue;
		}
		if (c == '"') {
			in_str = 0;
			i++;
		} else if (c < 0x20) {
			char esc[8];

			snprintf(esc, sizeof(esc), "\\u%04x", c);
			model_fix_emit(&f, i, esc, 6);
			f.done = ++i;
		} else if (c == '\\' && i + 1 < len && in[i + 1] == 'u') {
			unsigned int u, lo;

			if (!model_hex4(in + i + 2, len - i - 2, &u)) {
				i += 2;	/* invalid escape: the parser will say so */
				continue;
			}
			if (u >= 0xD800 && u <= 0xDBFF && i + 11 < len &&
			    in[i + 6] == '\\' && in[i + 7] == 'u' &&
			    model_hex4(in + i + 8, len - i - 8, &lo) &&
			    lo >= 0xDC00 && lo <= 0xDFFF) {
				i += 12;	/* a proper surrogate pair */
			} else if (u == 0 || (u >= 0xD800 && u <= 0xDFFF)) {
				model_fix_emit(&f, i, "\\ufffd", 6);
				f.done = i += 6;
			} else {
				i += 6;
			}
		} else if (c == '\\') {
			i += 2;
		} else {
			i++;
		}
	}
	if (!f.out && !f.oom)
		return NULL;
	model_fix_emit(&f, len, "", 0);
	if (f.oom) {
		free(f.out);
		return NULL;
	}
	f.out[f.len] = '\0';
	*outlen = f.len;
	return f.out;
}

static json_t *
model_load(const char *body, size_t len, char **err)
{
	json_error_t jerr;
	size_t flen = 0;
	char *fixed = model_sanitize(body, len, &flen);
	json_t *root;

	if (fixed)
		log_msg(LOG_LVL_WARN, "API reply held invalid UTF-8, NUL or control characters; replaced");
	root = json_loadb(fixed ? fixed : body, fixed ? flen : len, 0, &jerr);
	free(fixed);
	if (!root)
		*err = model_asprintf("API reply is not valid JSON (%s at offset %d)",
				      jerr.text, jerr.position);
	return root;
}

int
model_parse_list(const char *body, size_t len, struct ws ***out, size_t *n,
		 char **err)
{
	json_t *root, *arr;
	struct ws **v = NULL;
	size_t i, k = 0, cnt;
	int rc = -EIO;

	*out = NULL;
	*n = 0;
	root = model_load(body, len, err);
	if (!root)
		return -EIO;
	arr = json_object_get(root, "workspaces");
	if (!json_is_array(arr)) {
		*err = strdup("API list reply has no \"workspaces\" array");
		goto out;
	}
	cnt = json_array_size(arr);
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		*err = strdup("out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		const char *why = NULL;
		struct ws *w = model_ws_from_json(json_array_get(arr, i), &why);

		if (!w) {
			log_msg(LOG_LVL_WARN, "list entry %zu skipped: %s", i, why);
			continue;
		}
		v[k++] = w;
	}
	*out = v;
	*n = k;
	v = NULL;
	rc = 0;
out:
	free(v);
	json_decref(root);
	return rc;
}

int
model_parse_describe(const char *body, size_t len, struct ws **out, char **err)
{
	const char *why = NULL;
	json_t *root;

	*out = NULL;
	root = model_load(body, len, err);
	if (!root)
		return -EIO;
	*out = model_ws_from_json(json_object_get(root, "workspace"), &why);
	json_decref(root);
	if (!*out) {
		*err = model_asprintf("API describe reply unusable: %s", why);
		return -EIO;
	}
	return 0;
}

int
model_parse_id_reply(const char *body, size_t len, char **id, char **err)
{
	json_t *root, *v;

	*id = NULL;
	root = model_load(body, len, err);
	if (!root)
		return -EIO;
	v = json_object_get(root, "workspace_id");
	if (json_is_string(v))
		*id = strdup(json_string_value(v));
	json_decref(root);
	if (!*id) {
		*err = strdup("API reply has no \"workspace_id\"");
		return -EIO;
	}
	return 0;
}

char *
model_problem_detail(const char *body, size_t len)
{
	json_t *root, *d, *v;
	char *msg = NULL;

	if (!body || !len)
		return NULL;
	root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root))
		goto out;
	d = json_object_get(root, "detail");
	if (json_is_string(d)) {
		msg = strdup(json_string_value(d));
		goto out;
	}
	if (json_is_object(d)) {
		v = json_object_get(d, "detail");
		if (!json_is_string(v))
			v = json_object_get(d, "title");
		if (json_is_string(v)) {
			msg = strdup(json_string_value(v));
			goto out;
		}
	}
	v = json_object_get(root, "title");
	if (json_is_string(v))
		msg = strdup(json_string_value(v));
out:
	json_decref(root);
	return msg;
}

int
model_spec_complete(const char *buf, size_t len)
{
	json_t *root;
	int ok;

	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	/* cheap test first: an object ends in '}' */
	if (len < 2 || buf[len - 1] != '}')
		return 0;
	root = json_loadb(buf, len, 0, NULL);
	ok = json_is_object(root);
	json_decref(root);
	return ok;
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
		char *dump;

		/* a template must have a name usable as a file name */
		if (!name || !*name || strchr(name, '/') || name[0] == '.' ||
		    strlen(name) > 200 || model_templates_find(t, name) >= 0) {
			log_msg(LOG_LVL_WARN, "template %zu skipped: no usable or a repeated name", i);
			continue;
		}
		dump = json_dumps(e, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		t->names[t->n] = strdup(name);
		t->json[t->n] = dump ? model_asprintf("%s\n", dump) : NULL;
		free(dump);
		if (!t->names[t->n] || !t->json[t->n]) {
			free(t->names[t->n]);
			free(t->json[t->n]);
			goto nomem;
		}
		model_clean_line(t->names[t->n]);
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
	json_object_foreach(obj, key, v)
		fprintf(fp, "%s%s", n++ ? ", " : "", key);
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
			 "cluster_id", cluster ? cluster : "00000000-0000-0000-0000-000000000000",
			 "template", "name", tname, "variables", vars,
			 "resources", "gpu_count", 1, "gpu_type", "A100",
			 "gpu_vendor", "NVIDIA", "cpu_cores", 4, "memory_gb", 16,
			 "storage_gb", 100,
			 "description", "");
	if (!root) {
		/* the name is not valid UTF-8: fall back to a name-less one */
		root = json_pack("{s:s}", "cluster_id",
				 cluster ? cluster : "00000000-0000-0000-0000-000000000000");
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

static const char *
model_str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

char *
model_logs_text(const char *body, size_t len, size_t *skipped)
{
	char *buf = NULL;
	size_t blen = 0, i = 0;
	FILE *fp = open_memstream(&buf, &blen);

	*skipped = 0;
	if (!fp)
		return NULL;
	while (i < len) {
		size_t b = i, e;
		json_t *o;

		while (i < len && body[i] != '\n')
			i++;
		e = i++;
		if (e == b)
			continue;
		o = json_loadb(body + b, e - b, 0, NULL);
		if (json_is_object(o)) {
			char *line = model_asprintf("%s %s %s",
						    model_str_or(o, "timestamp", "-"),
						    model_str_or(o, "pod_name", "-"),
						    model_str_or(o, "log_message", ""));

			model_clean_line(line);
			if (line)
				fprintf(fp, "%s\n", line);
			free(line);
		} else {
			(*skipped)++;
		}
		json_decref(o);
	}
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

const char *
model_cmd_name(enum model_cmd c)
{
	return c == MODEL_CMD_START ? "start" : "stop";
}

int
model_parse_control(const char *buf, size_t len, enum model_cmd *cmds,
		    size_t *n, char **err)
{
	size_t i = 0;

	*n = 0;
	*err = NULL;
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
			int shown = (int)(e - b > 40 ? 40 : e - b);

			*err = model_asprintf("control: unknown command \"%.*s\" (known: start, stop)",
					      shown, buf + b);
			return -EINVAL;
		}
	}
	if (*n == 0) {
		*err = strdup("control: no command given (known: start, stop)");
		return -EINVAL;
	}
	return 0;
}
