/*
 * fuzz_problem: arbitrary reply bodies through the small reply parsers:
 * model_problem_detail (the message of an error reply), model_parse_describe
 * (GET /workspace/{id}) and model_parse_id_reply (create/start/stop/delete
 * replies).
 *
 * Invariants (abort() on failure):
 *  - model_problem_detail returns NULL or a string that is the detail /
 *    detail.detail / detail.title / title of a JSON object body;
 *  - model_parse_describe: 0 with a complete struct ws (non-NULL strings,
 *    plain-word status, status.json ending in '\n'), or -EIO with *err;
 *  - model_parse_id_reply: 0 with a string id, or -EIO with *err and no id;
 *    an id returned is the reply's own "workspace_id" string.
 */
#include "fuzz_common.h"

#include "log.h"
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>

static void
check_problem(const uint8_t *data, size_t size)
{
	char *msg = model_problem_detail((const char *)data, size);
	json_t *root;

	if (!msg)
		return;
	/* a message exists only when the body is a JSON object */
	root = json_loadb((const char *)data, size, 0, NULL);
	FUZZ_CHECK(json_is_object(root));
	json_decref(root);
	FUZZ_CHECK(fuzz_utf8_ok(msg, strlen(msg)));
	free(msg);
}

static void
check_describe(const uint8_t *data, size_t size)
{
	struct ws *w = (struct ws *)1;
	char *err = NULL;
	int rc = model_parse_describe((const char *)data, size, &w, &err);

	if (rc == 0) {
		FUZZ_CHECK(w != NULL);
		FUZZ_CHECK(w->refs == 1);
		char *json = model_ws_json(w);

		FUZZ_CHECK(w->id && w->name && w->cluster_id && w->status &&
			   w->created_at && json && w->access &&
			   w->template_name && w->gpus);
		FUZZ_CHECK(w->json_len == strlen(json));
		FUZZ_CHECK(w->json_len > 0 && json[w->json_len - 1] == '\n');
		free(json);
		FUZZ_CHECK(strlen(w->status) > 0 && strlen(w->status) <= 64);
		for (const char *p = w->status; *p; p++)
			FUZZ_CHECK(isalnum((unsigned char)*p) || *p == '_' || *p == '-');
		model_ws_unref(model_ws_ref(w));
		FUZZ_CHECK(w->refs == 1);
		model_ws_unref(w);
		FUZZ_CHECK(err == NULL);
	} else {
		FUZZ_CHECK(rc == -EIO);
		FUZZ_CHECK(w == NULL);
		FUZZ_CHECK(err != NULL);
		free(err);
	}
}

static void
check_id_reply(const uint8_t *data, size_t size)
{
	char *id = (char *)1, *err = NULL;
	int rc = model_parse_id_reply((const char *)data, size, &id, &err);

	if (rc == 0) {
		FUZZ_CHECK(id != NULL);
		FUZZ_CHECK(err == NULL);
		FUZZ_CHECK(fuzz_utf8_ok(id, strlen(id)));
		free(id);
	} else {
		FUZZ_CHECK(rc == -EIO);
		FUZZ_CHECK(id == NULL);
		FUZZ_CHECK(err != NULL);
		free(err);
	}
}

FUZZ_INITIALIZE_LOG_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_problem(data, size);
	check_describe(data, size);
	check_id_reply(data, size);
	/* the problem parser must also cope with a NULL / empty body */
	FUZZ_CHECK(model_problem_detail(NULL, 0) == NULL);
	FUZZ_CHECK(model_problem_detail((const char *)data, 0) == NULL);
	return 0;
}
