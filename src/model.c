/*
 * model: jansson in, C structs and strings out. Every function here is a
 * pure transformation (plus allocation), so the unit tests drive it with
 * literal documents. Invariant: a struct ws always has non-NULL strings.
 */
#include "model.h"
#include "log.h"
#include "model_int.h"
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

char *
model_msg_lead(const char *lead, const char *msg)
{
	size_t n = strlen(lead);

	if (strncmp(msg, lead, n) == 0 && (msg[n] == ':' || msg[n] == '\0'))
		return strdup(msg);
	return model_asprintf("%s: %s", lead, msg);
}

struct ws *
model_ws_ref(struct ws *w)
{
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

unsigned long long
model_ws_hash(struct ws *w)
{
	unsigned long long h = __atomic_load_n(&w->hash, __ATOMIC_RELAXED);

	if (h)
		return h;
	h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < w->held_len; i++)
		h = (h ^ (unsigned char)w->compact[i]) * 0x100000001b3ULL;
	h = h ? h : 1;
	/* the same value whoever computes it: a plain store suffices */
	__atomic_store_n(&w->hash, h, __ATOMIC_RELAXED);
	return h;
}

void
model_ws_unref(struct ws *w)
{
	if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (!w->packed) {
		free(w->id);
		free(w->name);
		free(w->cluster_id);
		free(w->status);
		free(w->created_at);
		free(w->compact);
		free(w->access);
		free(w->template_name);
		free(w->gpus);
	}
	free(w);
}

/* The workspace in one allocation: the struct, then its strings and its
 * held object (ten allocations each would add their headers and rounding
 * 100,000 times). Consumes w; NULL when out of memory (w is freed then). */
static struct ws *
model_ws_pack(struct ws *w)
{
	char **fields[] = { &w->id, &w->name, &w->cluster_id, &w->status,
			    &w->created_at, &w->access, &w->template_name,
			    &w->gpus };
	size_t nf = sizeof(fields) / sizeof(fields[0]), need = sizeof(*w), len;
	struct ws *p;
	char *at;

	for (size_t i = 0; i < nf; i++)
		need += strlen(*fields[i]) + 1;
	need += w->held_len;
	p = malloc(need);
	if (!p) {
		model_ws_unref(w);
		return NULL;
	}
	*p = *w;
	p->packed = 1;
	at = (char *)(p + 1);
	for (size_t i = 0; i < nf; i++) {
		/* the same field of p, found by its offset in w */
		char **dst = (char **)((char *)p + ((char *)fields[i] - (char *)w));

		len = strlen(*fields[i]) + 1;
		memcpy(at, *fields[i], len);
		*dst = at;
		at += len;
	}
	memcpy(at, w->compact, w->held_len);
	p->compact = at;
	model_ws_unref(w);
	return p;
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
void
model_clean_line(char *s)
{
	for (; s && *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
		else if (strncmp(s, MODEL_NUL_MARK, 3) == 0) {	/* a NUL: a control too */
			*s = ' ';
			memmove(s + 1, s + 3, strlen(s + 3) + 1);
		}
	}
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
	else if (strspn(ip, "0123456789abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-[]") != strlen(ip))
		line = strdup("<invalid address>");	/* never extra ssh arguments */
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

static size_t
model_newline(char *out, size_t o, int depth)
{
	if (out) {
		out[o] = '\n';
		memset(out + o + 1, ' ', 2 * (size_t)(depth > 0 ? depth : 0));
	}
	return o + 1 + 2 * (size_t)(depth > 0 ? depth : 0);
}

size_t
model_reindent(const char *in, size_t len, char *out)
{
	size_t i, o = 0;
	int depth = 0, instr = 0;

/* ch is evaluated only when writing: no side effects in it */
#define PUT(ch) do { if (out) out[o] = (ch); o++; } while (0)
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (instr) {
			if (c == '\xEF' && i + 2 < len && in[i + 1] == '\xBF' &&
			    in[i + 2] == '\xBF') {
				/* the NUL mark: shown as the API sent it */
				PUT('\\');
				PUT('u');
				PUT('0');
				PUT('0');
				PUT('0');
				PUT('0');
				i += 2;
				continue;
			}
			PUT(c);
			if (c == '\\' && i + 1 < len) {
				i++;
				PUT(in[i]);
			} else if (c == '"') {
				instr = 0;
			}
			continue;
		}
		switch (c) {
		case '"':
			instr = 1;
			PUT(c);
			break;
		case '{':
		case '[':
			PUT(c);
			if (i + 1 < len && in[i + 1] == (c == '{' ? '}' : ']')) {
				i++;
				PUT(in[i]);	/* jansson writes {} and [] */
				break;
			}
			o = model_newline(out, o, ++depth);
			break;
		case '}':
		case ']':
			o = model_newline(out, o, --depth);
			PUT(c);
			break;
		case ',':
			PUT(c);
			o = model_newline(out, o, depth);
			break;
		case ':':
			PUT(c);
			PUT(' ');
			break;
		default:
			PUT(c);
			break;
		}
	}
	PUT('\n');
#undef PUT
	return o;
}

/* The workspace object is held with the schema's keys shrunk: each
 * '"key":' of the list below is one byte, 0x01 + its index. jansson never
 * writes a byte below 0x20 unescaped, so the substitution is lossless for
 * any object, and deterministic: equal objects have equal held bytes
 * (model_ws_hash and snap's mtimes rely on it). Keys are about half of an
 * object's bytes. zlib with a preset dictionary held about 10% less but
 * cost about 50 us per workspace to parse on a 2-core test machine. */
static const char *const model_keys[] = {
	"\"id\":", "\"name\":", "\"cluster_id\":", "\"workspace_status\":",
	"\"template\":", "\"description\":", "\"variables\":", "\"owner\":",
	"\"owner_username\":", "\"owner_org_id\":", "\"owner_org_name\":",
	"\"owner_teams\":", "\"access_information\":", "\"access_type\":",
	"\"access_description\":", "\"access_protocol\":", "\"port_name\":",
	"\"port_number\":", "\"external_ips\":", "\"resources\":",
	"\"gpu_count\":", "\"gpu_vendor\":", "\"gpu_type\":", "\"gpu_memory\":",
	"\"cpu_cores\":", "\"memory_gb\":", "\"storage_gb\":", "\"created_at\":",
	"\"to_be_deleted_at\":", "\"namespace\":",
};
#define MODEL_NKEYS (sizeof(model_keys) / sizeof(model_keys[0]))

/* Shrink compact JSON (len bytes) into out (len bytes suffice); the
 * length written. */
static size_t
model_shrink(const char *in, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t k = MODEL_NKEYS;

		/* a key follows '{' or ','; its second byte is checked first */
		if (in[i] == '"' && i > 0 && (in[i - 1] == '{' || in[i - 1] == ',') &&
		    i + 1 < len)
			for (k = 0; k < MODEL_NKEYS; k++) {
				size_t kl;

				if (model_keys[k][1] != in[i + 1])
					continue;
				kl = strlen(model_keys[k]);
				if (kl <= len - i && memcmp(in + i, model_keys[k], kl) == 0) {
					out[o++] = (char)(1 + k);
					i += kl;
					break;
				}
			}
		if (k == MODEL_NKEYS)
			out[o++] = in[i++];
	}
	return o;
}

char *
model_ws_compact(const struct ws *w)
{
	char *out = malloc(w->compact_len + 1), *at = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < w->held_len; i++) {
		unsigned char c = (unsigned char)w->compact[i];

		if (c >= 1 && c <= MODEL_NKEYS) {
			size_t kl = strlen(model_keys[c - 1]);

			memcpy(at, model_keys[c - 1], kl);
			at += kl;
		} else {
			*at++ = (char)c;
		}
	}
	*at = '\0';
	return out;
}

char *
model_ws_json(const struct ws *w)
{
	char *c = model_ws_compact(w), *s = c ? malloc(w->json_len + 1) : NULL;

	if (s) {
		model_reindent(c, w->compact_len, s);
		s[w->json_len] = '\0';
	}
	free(c);
	return s;
}

/* Build a ws from one Workspace object; NULL (with reason) if unusable. */
static struct ws *
model_ws_from_json(json_t *o, const char **why)
{
	struct ws *w;
	char *dump;

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
	/* one cluster, one spelling: UUIDs compare case-insensitively */
	if (w->cluster_id && model_is_uuid(w->cluster_id))
		for (char *p = w->cluster_id; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	w->status = model_str_field(o, "workspace_status", "UNKNOWN");
	w->created_at = model_str_field(o, "created_at", "");
	dump = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
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
	w->compact_len = strlen(dump);
	w->json_len = model_reindent(dump, w->compact_len, NULL);
	/* shrunk in place: never longer than what it shrinks */
	w->held_len = model_shrink(dump, w->compact_len, dump);
	w->compact = dump;
	w = model_ws_pack(w);
	if (!w)
		*why = "out of memory";
	return w;
}

/* json_loadb, retried with huge integers quoted; *err on failure. */
static json_t *
model_load_clean(const char *body, size_t len, char **err)
{
	json_error_t jerr;
	json_t *root;

	root = json_loadb(body, len, 0, &jerr);
	if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
		size_t qlen = 0;
		char *q = model_quote_big_numbers(body, len, &qlen);

		if (q) {
			log_msg(LOG_LVL_WARN, "API reply holds numbers too large to hold; shown as strings");
			root = json_loadb(q, qlen, 0, &jerr);
			free(q);
		}
	}
	if (!root)
		*err = model_asprintf("API reply is not valid JSON (%s at offset %d)",
				      jerr.text, jerr.position);
	return root;
}

/* The body with invalid UTF-8, NUL and control characters repaired:
 * *fixed is the repaired copy (or NULL when body was clean). */
static const char *
model_clean(const char *body, size_t len, char **fixed, size_t *flen)
{
	*fixed = model_sanitize(body, len, flen);
	if (!*fixed) {
		*flen = len;
		return body;
	}
	log_msg(LOG_LVL_WARN, "API reply held invalid UTF-8, NUL or control characters; replaced");
	return *fixed;
}

json_t *
model_load(const char *body, size_t len, char **err)
{
	size_t flen;
	char *fixed;
	const char *b = model_clean(body, len, &fixed, &flen);
	json_t *root = model_load_clean(b, flen, err);

	free(fixed);
	return root;
}

static size_t
model_skip_space(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* The end of the string that starts at s[i] == '"', or 0. */
static size_t
model_skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* The end of the value at s[i], found without judging it (jansson judges
 * it later); 0 when the text ends first. */
static size_t
model_skip_value(const char *s, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = s[i];

		if (c == '"') {
			if (!(i = model_skip_string(s, len, i)))
				return 0;
			if (depth == 0)
				return i;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;	/* a scalar ended by its container */
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && c == ',') {
			return i;
		}
		i++;
	}
	return depth == 0 ? i : 0;
}

/* Where the array of the top-level "workspaces" member opens, or 0. */
static size_t
model_find_list(const char *s, size_t len)
{
	size_t i = model_skip_space(s, len, 0), k;
	int hit;

	if (i >= len || s[i] != '{')
		return 0;
	for (;;) {
		i = model_skip_space(s, len, i + 1);
		if (i >= len || s[i] != '"' || !(k = model_skip_string(s, len, i)))
			return 0;
		hit = k - i == 12 && memcmp(s + i, "\"workspaces\"", 12) == 0;

		i = model_skip_space(s, len, k);
		if (i >= len || s[i] != ':')
			return 0;
		i = model_skip_space(s, len, i + 1);
		if (hit)
			return i < len && s[i] == '[' ? i : 0;
		if (!(i = model_skip_value(s, len, i)))
			return 0;
		i = model_skip_space(s, len, i);
		if (i >= len || s[i] != ',')
			return 0;
	}
}

/* Append to a growing array of references. */
static int
model_push(struct ws ***v, size_t *n, size_t *cap, struct ws *w)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct ws **nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = w;
	return 0;
}

/* The list reply parsed one workspace at a time, so that the whole tree
 * of 100,000 objects never exists at once. 0, -ENOMEM, or 1 when the
 * reply is not of the plain shape (the caller then parses it whole, which
 * judges it and words the error). */
static int
model_parse_list_stream(const char *b, size_t len, struct ws ***out, size_t *n)
{
	size_t open = model_find_list(b, len), i, cnt = 0, cap = 0, skipped = 0;
	struct ws **v = NULL;
	json_t *shell;
	char *rest;

	if (!open)
		return 1;
	i = model_skip_space(b, len, open + 1);
	if (i < len && b[i] != ']')
		for (;;) {
			json_error_t jerr;
			json_t *o = NULL;
			const char *why = NULL;
			struct ws *w;

			if (i < len && b[i] == '{')
				o = json_loadb(b + i, len - i, JSON_DISABLE_EOF_CHECK, &jerr);
			if (!o)
				goto plain;	/* not an object, or not JSON */
			i += (size_t)jerr.position;
			w = model_ws_from_json(o, &why);
			json_decref(o);
			if (!w) {
				log_msg(LOG_LVL_WARN, "list entry %zu skipped: %s", cnt + skipped, why);
				skipped++;
			} else if (model_push(&v, &cnt, &cap, w) < 0) {
				model_ws_unref(w);
				model_ws_array_free(v, cnt);
				return -ENOMEM;
			}
			i = model_skip_space(b, len, i);
			if (i < len && b[i] == ']')
				break;
			if (i >= len || b[i] != ',')
				goto plain;
			i = model_skip_space(b, len, i + 1);
		}
	if (i >= len || b[i] != ']')
		goto plain;
	/* the rest must be right too: parse it around an empty array, and
	 * leave a repeated key (which would win) to the whole parse */
	rest = malloc(open + 1 + len - i);
	if (!rest) {
		model_ws_array_free(v, cnt);
		return -ENOMEM;
	}
	memcpy(rest, b, open + 1);
	memcpy(rest + open + 1, b + i, len - i);
	shell = json_loadb(rest, open + 1 + len - i, JSON_REJECT_DUPLICATES, NULL);
	free(rest);
	if (!shell || !json_is_array(json_object_get(shell, "workspaces")) ||
	    json_array_size(json_object_get(shell, "workspaces")) != 0) {
		json_decref(shell);
		goto plain;
	}
	json_decref(shell);
	if (!v && !(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	*out = v;
	*n = cnt;
	return 0;
plain:
	model_ws_array_free(v, cnt);
	return 1;
}

int
model_parse_list(const char *body, size_t len, struct ws ***out, size_t *n,
		 char **err)
{
	json_t *root, *arr;
	struct ws **v = NULL;
	size_t i, k = 0, cnt, flen;
	char *fixed;
	const char *b;
	int rc;

	*out = NULL;
	*n = 0;
	b = model_clean(body, len, &fixed, &flen);
	rc = model_parse_list_stream(b, flen, out, n);
	if (rc <= 0) {
		free(fixed);
		if (rc < 0)
			*err = strdup("out of memory");
		return rc;
	}
	log_msg(LOG_LVL_DEBUG, "list reply not of the plain shape: parsed whole");
	rc = -EIO;
	root = model_load_clean(b, flen, err);
	free(fixed);
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

static const char *
model_str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

int
model_log_line(const char *raw, size_t len, struct model_log_line *out)
{
	size_t flen = 0;
	char *fixed = model_sanitize(raw, len, &flen);
	const char *src = fixed ? fixed : raw;
	json_t *o;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (fixed)
		len = flen;
	o = json_loadb(src, len, 0, NULL);
	if (json_is_object(o)) {
		out->text = model_asprintf("%s %s %s",
					   model_str_or(o, "timestamp", "-"),
					   model_str_or(o, "pod_name", "-"),
					   model_str_or(o, "log_message", ""));
		/* the raw line as compact JSON: one line however it was sent */
		out->raw = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		out->pod = strdup(model_str_or(o, "pod_name", ""));
		out->timestamp = strdup(model_str_or(o, "timestamp", ""));
		if (out->text)
			model_clean_line(out->text);
		rc = out->text && out->raw && out->pod && out->timestamp ? 0 : -ENOMEM;
		if (rc < 0)
			model_log_line_free(out);
	}
	json_decref(o);
	free(fixed);
	return rc;
}

void
model_log_line_free(struct model_log_line *l)
{
	free(l->text);
	free(l->raw);
	free(l->pod);
	free(l->timestamp);
	memset(l, 0, sizeof(*l));
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
		struct model_log_line l;
		size_t b = i, e;

		while (i < len && body[i] != '\n')
			i++;
		e = i++;
		if (e == b)
			continue;
		if (model_log_line(body + b, e - b, &l) == 0) {
			fprintf(fp, "%s\n", l.text);
			model_log_line_free(&l);
		} else {
			(*skipped)++;
		}
	}
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
