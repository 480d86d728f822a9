/*
 * model: the API's JSON documents turned into C values and back. json_t
 * never leaves this module. A struct ws is immutable once built and
 * reference-counted, so snapshots and readers can share it across threads.
 */
#ifndef EXFS_MODEL_H
#define EXFS_MODEL_H

#include <stddef.h>
#include <time.h>

/* One workspace as the filesystem shows it. */
struct ws {
	int refs;		/* atomic */
	char *id;
	char *name;
	char *cluster_id;
	char *status;		/* workspace_status, "UNKNOWN" if absent */
	char *created_at;	/* as sent, "" if absent */
	time_t created;		/* created_at parsed, 0 if absent or bad */
	char *compact;		/* the object as compact JSON (key order kept),
				 * its keys shrunk: held_len bytes; model_ws_compact */
	size_t held_len;
	size_t compact_len;	/* expanded, without a NUL */
	size_t json_len;	/* its status.json rendering (model_ws_json) */
	char *access;		/* the access file: connect lines, then notes */
	char *template_name;	/* "" if absent */
	char *gpus;		/* "2xA100", "0" when none */
	unsigned long long hash;	/* atomic: of compact, 0 until asked (model_ws_hash) */
	int packed;		/* the strings live in the struct's own block */
};

/* A hash of the object (never 0), computed once: the same for the same
 * JSON, so what is rendered from it may stay in the kernel's page cache. */
unsigned long long model_ws_hash(struct ws *w);

/* status.json: the object with jansson's 2-space indent and a final
 * '\n', json_len bytes plus a NUL, allocated; NULL when out of memory.
 * Kept compact and indented on demand: half the memory at 100,000. */
char *model_ws_json(const struct ws *w);
/* The object as compact JSON, compact_len bytes and a NUL, allocated;
 * NULL when out of memory. */
char *model_ws_compact(const struct ws *w);

/* Re-indent a compact jansson dump (JSON_COMPACT) the way JSON_INDENT(2)
 * lays it out, with a final '\n'. out may be NULL to measure; returns the
 * length written (no NUL is added). */
size_t model_reindent(const char *in, size_t len, char *out);

/* A NUL in an API string (\u0000, which jansson and C strings cannot
 * hold) is kept as U+FFFF, a noncharacter never meant for interchange
 * (so one sent by the API is taken as NUL too): names show it as %00
 * (path_encode_name), status.json as \u0000 (model_reindent), lines of
 * text as a space (model_clean_line). */
#define MODEL_NUL_MARK "\xEF\xBF\xBF"

/* Take one more reference; returns w. */
struct ws *model_ws_ref(struct ws *w);
/* Drop a reference, freeing on the last; NULL is allowed. */
void model_ws_unref(struct ws *w);

/* Parse a list reply {"workspaces":[...]} into a new array of new
 * references (*out, *n, caller frees with model_ws_array_free). Entries
 * without a string id and name are skipped with a log line.
 * 0, or -EIO with *err allocated. */
int model_parse_list(const char *body, size_t len, struct ws ***out,
		     size_t *n, char **err);
/* Free an array from model_parse_list and drop its references. */
void model_ws_array_free(struct ws **v, size_t n);

/* Repair an API reply so that any string content parses: invalid UTF-8
 * becomes U+FFFD, \u0000 and lone surrogate escapes become \ufffd, raw
 * control characters inside strings are escaped. Returns a new buffer
 * (length in *outlen) or NULL when nothing needed repair. */
char *model_sanitize(const char *in, size_t len, size_t *outlen);

/* Quote numbers of more than 18 digits (outside strings) so that a reply
 * with an integer no C type holds still parses; NULL when there is none. */
char *model_quote_big_numbers(const char *in, size_t len, size_t *outlen);

/* Parse a describe reply {"workspace":{...}}; 0 or -EIO with *err. */
int model_parse_describe(const char *body, size_t len, struct ws **out,
			 char **err);

/* Parse {"workspace_id":"..."}; *id allocated. 0 or -EIO with *err. */
int model_parse_id_reply(const char *body, size_t len, char **id, char **err);

/* The human message of a problem+json body (detail.detail, else detail,
 * else title), allocated; NULL when the body is not understood. */
char *model_problem_detail(const char *body, size_t len);

/* Nonzero when s is a canonical UUID (8-4-4-4-12 hex digits). */
int model_is_uuid(const char *s);

/* The largest spec.json accepted, in bytes. */
#define MODEL_SPEC_MAX (64 * 1024)

/* 1 when buf (trailing white space ignored) parses as one complete JSON
 * object: the moment a spec.json write is finished; 0 while it may still
 * become one; -1 when it ends like an object but can never parse (a
 * syntax error, \u0000, nesting or numbers beyond the parser's limits). */
int model_spec_complete(const char *buf, size_t len);
/* (-1 also for anything but '{' first, and for any byte but white space
 * after the object's closing brace: model_spec_build then says which.) */

/* Check a complete spec against the rules of a WorkspaceCreateRequest and
 * produce the request body to send (*body allocated). name is the decoded
 * directory name; cluster, if not NULL, is the mount's cluster filter.
 * 0, or -EINVAL with *err allocated naming the problem. */
int model_spec_build(const char *buf, size_t len, const char *name,
		     const char *cluster, char **body, char **err);

/* The workspace templates, parsed once and shared (reference-counted). */
struct model_templates;

/* Parse {"workspace_templates":[...]}; 0 with *out, or -EIO with *err. */
int model_templates_parse(const char *body, size_t len,
			  struct model_templates **out, char **err);
struct model_templates *model_templates_ref(struct model_templates *t);
void model_templates_unref(struct model_templates *t);
size_t model_templates_count(const struct model_templates *t);
/* The i-th template's name (borrowed); NULL past the end. */
const char *model_templates_name(const struct model_templates *t, size_t i);
/* The i-th template as pretty JSON with '\n' at end (borrowed). */
const char *model_templates_json(const struct model_templates *t, size_t i);
/* Index of the template called name, or -1. */
long model_templates_find(const struct model_templates *t, const char *name);

/* Check a request body from model_spec_build against the templates: the
 * template exists, and every variable it sets is one the template has,
 * with a string value. 0, or -EINVAL with *err. */
int model_spec_check_template(const char *body, const struct model_templates *t,
			      char **err);

/* A fresh draft's spec.json: an allocated JSON skeleton, '\n' at end. It
 * uses the template tpl (may be NULL: a built-in example) with its
 * variables' default values, and cluster as cluster_id ("" when NULL:
 * to be filled in; model_spec_build refuses it empty). */
#define MODEL_ZERO_UUID "00000000-0000-0000-0000-000000000000"
char *model_spec_skeleton(const char *name, const char *cluster,
			  const struct model_templates *tpl, long i);

/* Turn an NDJSON log stream into "TIMESTAMP POD MESSAGE" lines (allocated,
 * each line's control characters made spaces); unreadable lines are
 * skipped and counted in *skipped. */
char *model_logs_text(const char *body, size_t len, size_t *skipped);
/* One NDJSON log line (no newline), repaired as model_sanitize does. */
struct model_log_line {
	char *text;		/* "TIMESTAMP POD MESSAGE", one line, no newline */
	char *raw;		/* the line as JSON, one line, no newline */
	char *pod;		/* pod_name ("" when missing) */
	char *timestamp;	/* as sent ("" when missing) */
};
/* 0 with out filled (free with model_log_line_free), -1 when the line is
 * not a JSON object, -ENOMEM. */
int model_log_line(const char *raw, size_t len, struct model_log_line *out);
void model_log_line_free(struct model_log_line *l);

enum model_cmd { MODEL_CMD_START, MODEL_CMD_STOP };
#define MODEL_CMD_MAX 16

/* Parse a control write: commands one per line, white space around them
 * ignored, case-insensitive. Fills cmds (up to MODEL_CMD_MAX) and *n.
 * 0, or -EINVAL with *err allocated (nothing is to be sent then). */
int model_parse_control(const char *buf, size_t len, enum model_cmd *cmds,
			size_t *n, char **err);
/* "start" or "stop". */
const char *model_cmd_name(enum model_cmd c);
/* Nonzero when a workspace_status is what cmd asks for or on its way
 * there (start: RUNNING or PENDING; stop: STOPPED). */
int model_cmd_reached(enum model_cmd cmd, const char *status);
/* Up to max bytes of s[0..n) as text safe to show in an error message
 * (allocated): printable ASCII and valid UTF-8 as they are, '"' and '\\'
 * escaped with a backslash, every other byte (controls, invalid UTF-8,
 * C1 controls) as \xHH; "..." when cut. */
char *model_escape_text(const char *s, size_t n, size_t max);

/* strdup that returns NULL for NULL. */
char *model_strdup(const char *s);
/* printf into a new allocation; NULL on failure. */
char *model_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "LEAD: MSG" (allocated), or MSG alone when it already starts with LEAD:
 * an API error ("create failed: HTTP 500: ...") says what failed itself,
 * and must not be wrapped into "create failed (create failed: ...)". */
char *model_msg_lead(const char *lead, const char *msg);

#endif
