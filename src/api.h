/*
 * api: the exalsius workspace endpoints. Requests in, model values out,
 * every HTTP status turned into an errno (api_errno) and a human message
 * (problem+json detail.detail when the server sent one). Ids that are not
 * UUIDs are never put into a URL.
 */
#ifndef EXFS_API_H
#define EXFS_API_H

#include "http.h"
#include "model.h"

#include <stddef.h>

enum api_op {
	API_LIST,
	API_DESCRIBE,
	API_CREATE,
	API_DELETE,
	API_START,
	API_STOP,
	API_LOGS,
	API_TEMPLATES,
	API_OP_COUNT
};

/* Room for any path this module builds (a UUID and a short suffix). */
#define API_PATH_MAX 96

/* The operation's name ("list", "describe", ...), for messages and the
 * .stats keys; static storage. */
const char *api_op_name(enum api_op op);
/* Nonzero for a failure that may pass by itself (EIO: 5xx or an unusable
 * reply, ETIMEDOUT, EHOSTUNREACH, EAGAIN: 429): worth serving stale data
 * or waiting through; 401, 403, 404 and 400 are not. Pure. */
int api_transient(int rc);

/* The errno for an HTTP status of an operation: 0 for 2xx. Pure. */
int api_errno(long status, enum api_op op);

/* 0 when a workspace id from the API may go into a URL (a UUID), else
 * -EIO and, when err is not NULL, why in *err (allocated). Every call on
 * one workspace checks it before any request. */
int api_check_id(const char *id, char **err);

/* GET /workspaces[?cluster_id=]: new references in *v (see model.h). */
int api_list(struct http *h, const char *cluster, struct ws ***v, size_t *n,
	     char **err);
/* GET /workspace/{id}: a new reference in *out. */
int api_describe(struct http *h, const char *id, struct ws **out, char **err);
/* POST /workspaces with a validated request body; *id allocated. Never
 * repeated once it may have reached the server; *unknown is set when it
 * failed without a clear answer (no reply, or a 5xx), so the caller must
 * find out by listing whether it was created. */
int api_create(struct http *h, const char *body, char **id, int *unknown,
	       char **err);
/* DELETE /workspace/{id}. */
int api_delete(struct http *h, const char *id, char **err);
/* POST /workspace/{id}/start or /stop. */
int api_command(struct http *h, const char *id, enum model_cmd cmd, char **err);

/* GET /workspace/{id}/logs, a stream (see http_stream_start): begun on
 * s, each piece of the NDJSON body to data. 0, or -errno with *err. */
int api_logs_start(struct http_stream *s, const char *id, int reauth,
		   http_data_fn data, void *arg, char **err);
/* How a log stream ended: 0 when the API closed it after a 200, else
 * -errno (the status mapped as for every call, or the transport's) with
 * *err. Takes end's message and body. */
int api_logs_end(struct http_stream_end *end, char **err);
/* GET /management/workspace-templates: a new reference in *out. */
int api_templates(struct http *h, struct model_templates **out, char **err);

#endif
