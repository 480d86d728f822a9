/*
 * test_conf: the official CLI's settings: a top-level YAML key (quoted,
 * plain, after nested blocks), keys that only look alike (nested, or a
 * value), a missing file, a file that is not YAML, and the order
 * EXLS_BACKEND_HOST before config.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/exfs-test-conf.XXXXXX";

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_yaml(void **state)
{
	char path[256], *v = NULL, *err = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	put(path, "auth0:\n  backend_host: nested\n  list: [a, b]\nother: backend_host\n"
		  "backend_host: \"https://api.example.test\"\n");
	assert_int_equal(conf_yaml_get(path, "backend_host", &v, &err), 0);
	assert_string_equal(v, "https://api.example.test");
	free(v);
	put(path, "backend_host: http://127.0.0.1:8000\n");
	assert_int_equal(conf_yaml_get(path, "backend_host", &v, &err), 0);
	assert_string_equal(v, "http://127.0.0.1:8000");
	free(v);
	put(path, "auth0:\n  backend_host: nested\n");
	assert_int_equal(conf_yaml_get(path, "backend_host", &v, &err), -ENOENT);
	assert_null(v);
	put(path, "backend_host: [unclosed\n");
	assert_int_equal(conf_yaml_get(path, "backend_host", &v, &err), -EINVAL);
	assert_non_null(err);
	free(err);
	snprintf(path, sizeof(path), "%s/absent.yaml", dir);
	assert_int_equal(conf_yaml_get(path, "backend_host", &v, &err), -ENOENT);
}

static void
test_backend_host(void **state)
{
	char path[256], *v = NULL, *from = NULL;

	(void)state;
	setenv("XDG_CONFIG_HOME", dir, 1);
	unsetenv("EXLS_BACKEND_HOST");
	assert_int_equal(conf_backend_host(&v, &from), -ENOENT);
	snprintf(path, sizeof(path), "%s/exalsius", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/exalsius/config.yaml", dir);
	put(path, "backend_host: https://from-file.test\n");
	assert_int_equal(conf_backend_host(&v, &from), 0);
	assert_string_equal(v, "https://from-file.test");
	assert_string_equal(from, path);
	free(v);
	free(from);
	setenv("EXLS_BACKEND_HOST", "https://from-env.test", 1);
	assert_int_equal(conf_backend_host(&v, &from), 0);
	assert_string_equal(v, "https://from-env.test");
	assert_string_equal(from, "EXLS_BACKEND_HOST");
	free(v);
	free(from);
	unsetenv("EXLS_BACKEND_HOST");
	unlink(path);
}

static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_backend_host),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
