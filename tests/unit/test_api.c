/*
 * test_api: the HTTP status to errno table of api.c (DESIGN.md, Errors),
 * for every operation, and the refusals that happen before any request:
 * ids that are not UUIDs never reach a URL, and no token means EACCES.
 * The client points at 127.0.0.1 port 1, so a request that did go out
 * would come back EHOSTUNREACH instead (and a create refused there is
 * known not to have happened: *unknown stays 0).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const enum api_op all_ops[] = {
	API_LIST, API_DESCRIBE, API_CREATE, API_DELETE, API_START, API_STOP,
};
#define NOPS (sizeof(all_ops) / sizeof(all_ops[0]))

/* One name per operation, the .stats keys; distinct, and never NULL. */
static void
api_op_names_cases(void **state)
{
	static const char *const want[API_OP_COUNT] = {
		"list", "describe", "create", "delete", "start", "stop", "logs", "templates",
	};

	(void)state;
	for (int i = 0; i < API_OP_COUNT; i++)
		assert_string_equal(api_op_name((enum api_op)i), want[i]);
	assert_string_equal(api_op_name(API_OP_COUNT), "unknown");
	assert_true(API_OP_COUNT <= HTTP_SLOTS);
}

/* The failures worth waiting through or serving stale data over. */
static void
api_transient_cases(void **state)
{
	(void)state;
	assert_true(api_transient(-EIO));
	assert_true(api_transient(-ETIMEDOUT));
	assert_true(api_transient(-EHOSTUNREACH));
	assert_true(api_transient(-EAGAIN));
	assert_false(api_transient(-EACCES));
	assert_false(api_transient(-ENOENT));
	assert_false(api_transient(-EINVAL));
	assert_false(api_transient(-EBUSY));
	assert_false(api_transient(0));
}

static void
api_errno_success(void **state)
{
	static const long ok[] = { 200, 201, 202, 204, 299 };

	(void)state;
	for (size_t o = 0; o < NOPS; o++)
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			assert_int_equal(api_errno(ok[i], all_ops[o]), 0);
}

static void
api_errno_table(void **state)
{
	static const struct {
		long status;
		int err;
	} table[] = {
		{ 400, -EINVAL }, { 422, -EINVAL }, { 401, -EACCES },
		{ 403, -EACCES }, { 404, -ENOENT }, { 429, -EAGAIN },
		{ 500, -EIO }, { 502, -EIO }, { 503, -EIO }, { 504, -EIO },
		{ 418, -EIO }, { 405, -EIO }, { 301, -EIO }, { 100, -EIO },
		{ 0, -EIO }, { 600, -EIO },
	};

	(void)state;
	for (size_t o = 0; o < NOPS; o++)
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			int got = api_errno(table[i].status, all_ops[o]);

			if (got != table[i].err)
				fail_msg("api_errno(%ld, op %d) = %d, expected %d",
					 table[i].status, (int)all_ops[o], got,
					 table[i].err);
		}
}

static void
api_errno_conflict(void **state)
{
	(void)state;
	assert_int_equal(api_errno(409, API_CREATE), -EEXIST);
	assert_int_equal(api_errno(409, API_START), -EBUSY);
	assert_int_equal(api_errno(409, API_STOP), -EBUSY);
	assert_int_equal(api_errno(409, API_DELETE), -EBUSY);
}

static int
api_client_setup(void **state)
{
	struct http_cfg cfg = {
		.base_url = "http://127.0.0.1:1/v1",
		.token = "t0ken-for-unit-tests",
		.timeout_ms = 2000,
		.connect_timeout_ms = 2000,
		.retries = 0,
		.max_body = 1 << 20,
	};
	char *err = NULL;

	*state = http_new(&cfg, &err);
	if (!*state) {
		free(err);
		return -1;
	}
	return 0;
}

static int
api_client_teardown(void **state)
{
	http_free(*state);
	return 0;
}

static void
api_refuses_non_uuid_ids(void **state)
{
	static const char *const ids[] = {
		"../../clusters", "123e4567-e89b-12d3-a456-42661417400?",
		"x", "", "123e4567-e89b-12d3-a456-426614174000/stop",
	};
	struct http *h = *state;
	struct ws *w;
	char *err;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		err = NULL;
		assert_int_equal(api_describe(h, ids[i], &w, &err), -EIO);
		assert_null(w);
		assert_non_null(strstr(err, "UUID"));
		free(err);
		err = NULL;
		assert_int_equal(api_delete(h, ids[i], &err), -EIO);
		assert_non_null(err);
		free(err);
		err = NULL;
		assert_int_equal(api_command(h, ids[i], MODEL_CMD_STOP, &err), -EIO);
		assert_non_null(err);
		free(err);
	}
	/* a UUID does go out, and finds nobody on port 1 */
	err = NULL;
	assert_int_equal(api_delete(h, "123e4567-e89b-12d3-a456-426614174000", &err),
			 -EHOSTUNREACH);
	assert_non_null(err);
	assert_null(strstr(err, "t0ken-for-unit-tests"));
	free(err);
}

/* Refused before anything was sent: the create certainly did not happen. */
static void
api_create_refused_is_not_unknown(void **state)
{
	struct http *h = *state;
	char *err = NULL, *id;
	int unknown = -1;

	assert_int_equal(api_create(h, "{\"name\":\"nb\"}", &id, &unknown, &err),
			 -EHOSTUNREACH);
	assert_null(id);
	assert_int_equal(unknown, 0);
	assert_non_null(err);
	free(err);
}

static void
api_without_token(void **state)
{
	struct http_cfg cfg = {
		.base_url = "http://127.0.0.1:1/v1",
		.timeout_ms = 2000,
		.connect_timeout_ms = 2000,
		.max_body = 1 << 20,
	};
	struct http *h;
	struct ws **v;
	size_t n;
	char *err = NULL, *id;
	int unknown = -1;

	(void)state;
	h = http_new(&cfg, &err);
	assert_non_null(h);
	assert_int_equal(api_list(h, NULL, &v, &n, &err), -EACCES);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(api_create(h, "{}", &id, &unknown, &err), -EACCES);
	assert_null(id);
	/* nothing was sent, so there is no doubt about the outcome */
	assert_int_equal(unknown, 0);
	free(err);
	http_free(h);
}

static int
api_group_setup(void **state)
{
	(void)state;
	/* port 1 of 127.0.0.1 directly, never through a proxy */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("no_proxy", "*", 1);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == 0 ? 0 : -1;
}

static int
api_group_teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api_op_names_cases),
		cmocka_unit_test(api_transient_cases),
		cmocka_unit_test(api_errno_success),
		cmocka_unit_test(api_errno_table),
		cmocka_unit_test(api_errno_conflict),
		cmocka_unit_test_setup_teardown(api_refuses_non_uuid_ids,
						api_client_setup,
						api_client_teardown),
		cmocka_unit_test_setup_teardown(api_create_refused_is_not_unknown,
						api_client_setup,
						api_client_teardown),
		cmocka_unit_test(api_without_token),
	};

	return cmocka_run_group_tests(tests, api_group_setup, api_group_teardown);
}
