/*
 * api: one function per endpoint, all built on api_call(), which owns the
 * single policy for turning a reply into 0 or -errno plus a message.
 */
#include "api.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* http keeps its counters per operation: every operation needs a slot */
_Static_assert(API_OP_COUNT <= HTTP_SLOTS, "more API operations than HTTP stats slots");

static const char *const api_op_names[API_OP_COUNT] = {
	[API_LIST] = "list",
	[API_DESCRIBE] = "describe",
	[API_CREATE] = "create",
	[API_DELETE] = "delete",
	[API_START] = "start",
	[API_STOP] = "stop",
	[API_LOGS] = "logs",
	[API_TEMPLATES] = "templates",
};

const char *
api_op_name(enum api_op op)
{
	return op >= 0 && op < API_OP_COUNT ? api_op_names[op] : "unknown";
}

int
api_transient(int rc)
{
	return rc == -EIO || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
	       rc == -EAGAIN;
}

int
api_errno(long status, enum api_op op)
{
	if (status >= 200 && status <= 299)
		return 0;
	switch (status) {
	case 400:
	case 422:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return op == API_CREATE ? -EEXIST : -EBUSY;
	case 429:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/* Perform a request; on 2xx leave the body in *resp and return 0, else
 * return -errno with *err set (resp freed). */
static int api_reply_errno(enum api_op op, struct http_resp *resp, char **err);

static int
api_call(struct http *h, enum api_op op, const char *method, const char *path,
	 const char *body, enum http_retry retry, struct http_resp *resp,
	 char **err)
{
	int rc;

	rc = http_do(h, (int)op, method, path, body, retry, resp, err);
	if (rc < 0)
		return rc;
	return api_reply_errno(op, resp, err);
}

/* The errno of an answer; on failure *err is set and resp freed. */
static int
api_reply_errno(enum api_op op, struct http_resp *resp, char **err)
{
	char *detail;
	int rc;

	if (resp->status >= 500)
		resp->unknown = 1;
	rc = api_errno(resp->status, op);
	if (rc == 0)
		return 0;
	detail = model_problem_detail(resp->body, resp->len);
	*err = model_asprintf("%s failed: HTTP %ld%s%s%s", api_op_name(op),
			      resp->status, detail ? ": " : "",
			      detail ? detail : "",
			      resp->attempts > 1 ? " (after retries)" : "");
	free(detail);
	http_resp_free(resp);
	return rc;
}

int
api_check_id(const char *id, char **err)
{
	if (model_is_uuid(id))
		return 0;
	if (err)
		*err = strdup("workspace id from the API is not a UUID; refusing to use it in a URL");
	return -EIO;
}

/* "/workspace/{id}{suffix}" into path, for an id that is a UUID only:
 * 0, or -EIO with *err (api_check_id). */
static int
api_ws_path(char path[API_PATH_MAX], const char *id, const char *suffix,
	    char **err)
{
	int rc = api_check_id(id, err);

	if (rc == 0)
		snprintf(path, API_PATH_MAX, "/workspace/%s%s", id, suffix);
	return rc;
}

/* The same host with /v1 removed, or added: the published spec and the
 * official CLI disagree on the base path. Allocated. */
static char *
api_other_base(const char *base)
{
	size_t n = strlen(base);

	if (n >= 3 && strcmp(base + n - 3, "/v1") == 0)
		return model_asprintf("%.*s", (int)(n - 3), base);
	return model_asprintf("%s/v1", base);
}

/* The first listing answered 404: try the other base path once, keep the
 * one that answers. Returns the listing's result; *err names both URLs
 * when neither answers. */
static int
api_list_fallback(struct http *h, const char *path, struct http_resp *resp,
		  char **err)
{
	char *old = http_base_url(h), *alt = old ? api_other_base(old) : NULL;
	char *err2 = NULL;
	int rc;

	if (!old || !alt || http_set_base_url(h, alt) < 0) {
		free(old);
		free(alt);
		return -ENOENT;
	}
	rc = api_call(h, API_LIST, "GET", path, NULL, HTTP_RETRY_IDEMPOTENT,
		      resp, &err2);
	if (rc == 0) {
		log_msg(LOG_LVL_WARN, "the API answered 404 at %s; using %s", old, alt);
		free(*err);
		*err = NULL;
	} else {
		http_set_base_url(h, old);
		free(*err);
		*err = model_asprintf("no workspace listing at %s%s nor at %s%s (%s); check api_url",
				      old, path, alt, path, err2 ? err2 : "failed");
		rc = -ENOENT;
	}
	free(err2);
	free(old);
	free(alt);
	return rc;
}

int
api_list(struct http *h, const char *cluster, struct ws ***v, size_t *n,
	 char **err)
{
	struct http_resp resp;
	char path[API_PATH_MAX];
	int rc;

	*v = NULL;
	*n = 0;
	if (cluster)
		snprintf(path, sizeof(path), "/workspaces?cluster_id=%s", cluster);
	else
		snprintf(path, sizeof(path), "/workspaces");
	rc = api_call(h, API_LIST, "GET", path, NULL, HTTP_RETRY_IDEMPOTENT,
		      &resp, err);
	if (rc == -ENOENT && !http_base_settled(h)) {
		rc = api_list_fallback(h, path, &resp, err);
		http_base_settle(h);
	}
	if (rc < 0)
		return rc;
	http_base_settle(h);
	rc = model_parse_list(resp.body, resp.len, v, n, err);
	http_resp_free(&resp);
	return rc;
}

int
api_describe(struct http *h, const char *id, struct ws **out, char **err)
{
	struct http_resp resp;
	char path[API_PATH_MAX];
	int rc;

	*out = NULL;
	if ((rc = api_ws_path(path, id, "", err)) < 0)
		return rc;
	rc = api_call(h, API_DESCRIBE, "GET", path, NULL, HTTP_RETRY_IDEMPOTENT,
		      &resp, err);
	if (rc < 0)
		return rc;
	rc = model_parse_describe(resp.body, resp.len, out, err);
	http_resp_free(&resp);
	if (rc == 0 && strcasecmp((*out)->id, id) != 0) {
		/* never show (or act on) another workspace under this name */
		*err = strdup("the API answered a describe with another workspace's id");
		model_ws_unref(*out);
		*out = NULL;
		rc = -EIO;
	}
	return rc;
}

int
api_create(struct http *h, const char *body, char **id, int *unknown,
	   char **err)
{
	struct http_resp resp;
	int rc;

	*id = NULL;
	/* never repeated blindly: a lost reply may mean it was created */
	rc = api_call(h, API_CREATE, "POST", "/workspaces", body,
		      HTTP_RETRY_UNSENT, &resp, err);
	*unknown = rc < 0 && resp.unknown;
	if (rc < 0)
		return rc;
	rc = model_parse_id_reply(resp.body, resp.len, id, err);
	*unknown = rc < 0;	/* 201 with a reply we cannot read */
	http_resp_free(&resp);
	return rc;
}

int
api_delete(struct http *h, const char *id, char **err)
{
	struct http_resp resp;
	char path[API_PATH_MAX];
	int rc;

	if ((rc = api_ws_path(path, id, "", err)) < 0)
		return rc;
	rc = api_call(h, API_DELETE, "DELETE", path, NULL,
		      HTTP_RETRY_IDEMPOTENT, &resp, err);
	if (rc == 0)
		http_resp_free(&resp);
	return rc;
}

int
api_command(struct http *h, const char *id, enum model_cmd cmd, char **err)
{
	struct http_resp resp;
	char path[API_PATH_MAX];
	int rc;

	if ((rc = api_ws_path(path, id, cmd == MODEL_CMD_START ? "/start" : "/stop", err)) < 0)
		return rc;
	resp.attempts = 0;
	rc = api_call(h, cmd == MODEL_CMD_START ? API_START : API_STOP, "POST",
		      path, NULL, HTTP_RETRY_IDEMPOTENT, &resp, err);
	if (rc == 0)
		http_resp_free(&resp);
	if (rc == -EBUSY && resp.attempts > 1) {
		/* a 409 after a retry may be the first attempt's own effect */
		struct ws *w = NULL;
		char *derr = NULL;

		if (api_describe(h, id, &w, &derr) == 0 &&
		    model_cmd_reached(cmd, w->status)) {
			log_msg(LOG_LVL_INFO, "workspace %s: %s answered 409 on a retry; "
				"the workspace is %s, so the first attempt took effect",
				id, model_cmd_name(cmd), w->status);
			free(*err);
			*err = NULL;
			rc = 0;
		}
		model_ws_unref(w);
		free(derr);
	}
	return rc;
}

int
api_logs_start(struct http_stream *s, const char *id, int reauth,
	       http_data_fn data, void *arg, char **err)
{
	char path[API_PATH_MAX];
	int rc;

	*err = NULL;
	if ((rc = api_ws_path(path, id, "/logs", err)) < 0)
		return rc;
	return http_stream_start(s, path, reauth, data, arg, err);
}

int
api_logs_end(struct http_stream_end *end, char **err)
{
	struct http_resp resp = { 0 };
	int rc;

	*err = NULL;
	if (end->rc < 0) {
		*err = end->err;
		end->err = NULL;
		return end->rc;
	}
	resp.status = end->status;
	resp.body = end->body;
	resp.len = end->len;
	resp.attempts = 1;
	end->body = NULL;
	end->len = 0;
	rc = api_reply_errno(API_LOGS, &resp, err);
	http_resp_free(&resp);
	return rc;
}

int
api_templates(struct http *h, struct model_templates **out, char **err)
{
	struct http_resp resp;
	int rc;

	*out = NULL;
	rc = api_call(h, API_TEMPLATES, "GET", "/management/workspace-templates",
		      NULL, HTTP_RETRY_IDEMPOTENT, &resp, err);
	if (rc < 0)
		return rc;
	rc = model_templates_parse(resp.body, resp.len, out, err);
	http_resp_free(&resp);
	return rc;
}
