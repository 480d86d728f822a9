/*
 * fuzz_spec: arbitrary spec.json and control bytes.
 *
 * model_spec_complete and model_spec_build (fixed directory name, without
 * and with a -o cluster filter), model_spec_check_template over the built
 * body, and model_parse_control against a reference implementation of the
 * README's rule (one command per line, white space around it ignored,
 * case-insensitive, start/stop only, at most MODEL_CMD_MAX).
 *
 * Invariants (abort() on failure):
 *  - build returns 0 with a body and no error, or -EINVAL/-EFBIG with an
 *    error and no body; over MODEL_SPEC_MAX bytes it is always -EFBIG;
 *  - a built body is a JSON object with "name" equal to the directory's
 *    name, a UUID cluster_id (the mount's when a cluster is set), a
 *    non-empty template.name, an object template.variables and an object
 *    resources, and every other top-level member of the spec kept;
 *  - a spec that builds is complete (the create would have happened);
 *    model_spec_complete says 1, 0 or -1, and -1 ("can never parse", so
 *    the write fails at once) is final: appending never completes it;
 *  - control parsing agrees with the reference and never sends on error.
 */
#include "fuzz_common.h"

#include "log.h"
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <strings.h>

#define FUZZ_NAME "fuzz-name"
#define FUZZ_CLUSTER "11111111-1111-4111-8111-111111111111"

static struct model_templates *templates;

static const char templates_body[] =
	"{\"workspace_templates\":["
	"{\"name\":\"jupyter-notebook\",\"variables\":{\"notebook_port\":\"8888\",\"notebook_password\":\"\"}},"
	"{\"name\":\"vscode-devcontainer\",\"variables\":{\"ssh_port\":\"22\"}},"
	"{\"name\":\"llm-inference\",\"variables\":{\"model\":\"\",\"port\":\"8000\"}}],"
	"\"total\":3}";

static void
check_body(const char *body, const char *cluster, const char *spec,
	   size_t len)
{
	json_t *root, *tpl, *v, *orig;
	const char *key;
	char *err = NULL;
	int rc;

	root = json_loads(body, 0, NULL);
	FUZZ_CHECK(json_is_object(root));
	v = json_object_get(root, "name");
	FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), FUZZ_NAME) == 0);
	v = json_object_get(root, "cluster_id");
	FUZZ_CHECK(json_is_string(v) && model_is_uuid(json_string_value(v)));
	if (cluster)
		FUZZ_CHECK(strcasecmp(json_string_value(v), cluster) == 0);
	tpl = json_object_get(root, "template");
	FUZZ_CHECK(json_is_object(tpl));
	v = json_object_get(tpl, "name");
	FUZZ_CHECK(json_is_string(v) && *json_string_value(v));
	FUZZ_CHECK(json_is_object(json_object_get(tpl, "variables")));
	FUZZ_CHECK(json_is_object(json_object_get(root, "resources")));
	/* nothing of the user's spec is dropped */
	orig = json_loadb(spec, len, 0, NULL);
	FUZZ_CHECK(json_is_object(orig));
	json_object_foreach(orig, key, v)
		FUZZ_CHECK(json_object_get(root, key) != NULL);
	json_decref(orig);
	json_decref(root);

	rc = model_spec_check_template(body, templates, &err);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK((rc == 0) == (err == NULL));
	free(err);
}

static void
check_build(const char *buf, size_t len, const char *cluster, int complete)
{
	char *body = (char *)1, *err = (char *)1;
	int rc = model_spec_build(buf, len, FUZZ_NAME, cluster, &body, &err);

	if (len > MODEL_SPEC_MAX)
		FUZZ_CHECK(rc == -EFBIG);
	if (complete < 0)	/* can never parse: never sent */
		FUZZ_CHECK(rc != 0);
	if (rc == 0) {
		FUZZ_CHECK(body != NULL && err == NULL);
		/* a spec that can be sent is one the write path sends */
		FUZZ_CHECK(complete == 1);
		check_body(body, cluster, buf, len);
		free(body);
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -EFBIG || rc == -ENOMEM);
		FUZZ_CHECK(body == NULL && err != NULL);
		FUZZ_CHECK(*err != '\0');
		free(err);
	}
}

/* The README's control rule, written independently. */
static int
ref_control(const char *buf, size_t len, enum model_cmd *cmds, size_t *n)
{
	size_t i = 0;

	*n = 0;
	while (i <= len) {
		size_t b = i, e;

		while (i < len && buf[i] != '\n')
			i++;
		e = i;
		i++;
		while (b < e && isspace((unsigned char)buf[b]))
			b++;
		while (e > b && isspace((unsigned char)buf[e - 1]))
			e--;
		if (b == e)
			continue;
		if (*n == MODEL_CMD_MAX)
			return -EINVAL;
		if (e - b == 5 && strncasecmp(buf + b, "start", 5) == 0)
			cmds[(*n)++] = MODEL_CMD_START;
		else if (e - b == 4 && strncasecmp(buf + b, "stop", 4) == 0)
			cmds[(*n)++] = MODEL_CMD_STOP;
		else
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

static void
check_control(const char *buf, size_t len)
{
	enum model_cmd cmds[MODEL_CMD_MAX], want[MODEL_CMD_MAX];
	size_t n = 99, wn = 0;
	char *err = (char *)1;
	int rc = model_parse_control(buf, len, cmds, &n, &err);
	int wrc = ref_control(buf, len, want, &wn);

	FUZZ_CHECK(rc == wrc);
	if (rc == 0) {
		FUZZ_CHECK(err == NULL);
		FUZZ_CHECK(n == wn && n >= 1 && n <= MODEL_CMD_MAX);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(cmds[i] == want[i]);
			FUZZ_CHECK(strcmp(model_cmd_name(cmds[i]),
					  cmds[i] == MODEL_CMD_START ? "start" : "stop") == 0);
		}
	} else {
		FUZZ_CHECK(rc == -EINVAL);
		FUZZ_CHECK(err != NULL && *err != '\0');
		free(err);
	}
}

/* -1 ("can never parse") is final: a write that fails with it must not be
 * one that more bytes would have completed. */
static void
check_final(const char *buf, size_t len)
{
	static const char *const tails[] = { "}", "\"}", "]}", "\"]}", " }", "0}" };

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t tl = strlen(tails[i]);
		char *more = malloc(len + tl);

		FUZZ_CHECK(more);
		memcpy(more, buf, len);
		memcpy(more + len, tails[i], tl);
		if (model_spec_complete(more, len + tl) == 1) {
			fprintf(stderr, "a spec called final completes with \"%s\" appended\n",
				tails[i]);
			FUZZ_CHECK(!"a final spec error is final");
		}
		free(more);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *err = NULL;

	(void)argc;
	(void)argv;
	log_open(1, 0);
	if (model_templates_parse(templates_body, strlen(templates_body),
				  &templates, &err) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy without a terminator, so overreads are caught */
	char *buf = malloc(size ? size : 1);
	int complete;

	FUZZ_CHECK(buf);
	if (size)
		memcpy(buf, data, size);
	complete = model_spec_complete(buf, size);
	FUZZ_CHECK(complete == -1 || complete == 0 || complete == 1);
	if (complete == -1)
		check_final(buf, size);
	check_build(buf, size, NULL, complete);
	check_build(buf, size, FUZZ_CLUSTER, complete);
	check_control(buf, size);
	free(buf);
	return 0;
}
