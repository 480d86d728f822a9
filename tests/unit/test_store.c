/*
 * test_store: our own login file: a round trip through save and load,
 * mode 0600 in a 0700 directory, no temporary file left, refusals (a file
 * others can read, not JSON, no token), a missing file, and the ISO-8601
 * expiry both ways (rfc3339_format and the Python forms it must read).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rfc3339.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
setup(void **state)
{
	char *dir = strdup("/tmp/exfs-test-store.XXXXXX");

	if (!mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	free(*state);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_round_trip(void **state)
{
	struct oauth_tokens t = { strdup("acc"), strdup("idt"), strdup("ref"), 1800000000LL }, u;
	char path[300], dir[256], *cid = NULL, *err = NULL;
	struct stat st;
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/cfg/exalsiusfs", (char *)*state);
	snprintf(path, sizeof(path), "%s/login.json", dir);
	assert_int_equal(store_save(path, "client-1", &t, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(store_load(path, &u, &cid, &err), 0);
	assert_string_equal(u.access, "acc");
	assert_string_equal(u.id, "idt");
	assert_string_equal(u.refresh, "ref");
	assert_int_equal(u.expiry, 1800000000LL);
	assert_string_equal(cid, "client-1");
	free(cid);
	oauth_tokens_free(&u);
	/* replaced in place, nothing else left in the directory */
	free(t.access);
	t.access = strdup("acc2");
	assert_int_equal(store_save(path, "client-1", &t, &err), 0);
	assert_int_equal(store_load(path, &u, &cid, &err), 0);
	assert_string_equal(u.access, "acc2");
	free(cid);
	oauth_tokens_free(&u);
	d = opendir(dir);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 1);
	assert_int_equal(store_remove(path, &err), 0);
	assert_int_equal(store_load(path, &u, &cid, &err), -ENOENT);
	assert_int_equal(store_remove(path, &err), 0);
	oauth_tokens_free(&t);
}

static void
test_refusals(void **state)
{
	char path[256], *cid = NULL, *err = NULL;
	struct oauth_tokens u;
	FILE *f;

	snprintf(path, sizeof(path), "%s/login.json", (char *)*state);
	f = fopen(path, "w");
	fputs("{\"access_token\": \"a\"}", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(store_load(path, &u, &cid, &err), -EACCES);
	assert_non_null(strstr(err, "0600"));
	free(err);
	chmod(path, 0600);
	assert_int_equal(store_load(path, &u, &cid, &err), 0);
	assert_string_equal(u.access, "a");
	assert_null(u.refresh);
	assert_int_equal(u.expiry, 0);
	free(cid);
	oauth_tokens_free(&u);
	f = fopen(path, "w");
	fputs("not json", f);
	fclose(f);
	assert_int_equal(store_load(path, &u, &cid, &err), -EINVAL);
	free(err);
	f = fopen(path, "w");
	fputs("{\"expiry\": \"2026-01-01T00:00:00+00:00\"}", f);
	fclose(f);
	assert_int_equal(store_load(path, &u, &cid, &err), -EINVAL);
	free(err);
}

static void
test_expiry_forms(void **state)
{
	char buf[40];
	long long us;

	(void)state;
	assert_int_equal(rfc3339_format(1767225600LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-01-01T00:00:00+00:00");
	assert_int_equal(rfc3339_format(1767225600LL, buf, 10), -1);
	/* what Python's isoformat() writes, with and without microseconds */
	assert_int_equal(rfc3339_parse("2026-01-01T00:00:00.123456+00:00", &us), 0);
	assert_int_equal(us, 1767225600123456LL);
	assert_int_equal(rfc3339_parse("2026-01-01T01:00:00+01:00", &us), 0);
	assert_int_equal(us, 1767225600000000LL);
	assert_int_equal(rfc3339_parse("2026-01-01T00:00:00", &us), 0);
	assert_int_equal(us, 1767225600000000LL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test(test_expiry_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
