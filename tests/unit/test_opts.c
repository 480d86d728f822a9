/*
 * test_opts: strict option numbers (digits only, bounds, the message
 * naming the option and its range) and the "already mounted here" test
 * over /proc/self/mountinfo text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct opts_num TTL = { "cache_ttl", "seconds", 0, 86400 };
static const struct opts_num RETRIES = { "retries", NULL, 0, 10 };

static void
test_number_accepts(void **state)
{
	char *err = (char *)"unset";
	int v = -1;

	(void)state;
	assert_int_equal(opts_number(&TTL, "0", &v, &err), 0);
	assert_int_equal(v, 0);
	assert_null(err);
	assert_int_equal(opts_number(&TTL, "86400", &v, &err), 0);
	assert_int_equal(v, 86400);
	assert_int_equal(opts_number(&TTL, "007", &v, &err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(opts_number(&RETRIES, "10", &v, &err), 0);
	assert_int_equal(v, 10);
}

static void
test_number_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"1e3",
		" 5",
		"5 ",
		"+5",
		"-1",
		"0x10",
		"1.5",
		"86401",
		"99999999999",
		"999999999999999999999999999999",
		"ten",
		"5s",
	};
	char *err;
	int v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(opts_number(&TTL, bad[i], &v, &err), -EINVAL);
		assert_int_equal(v, 42);
		assert_non_null(err);
		assert_non_null(strstr(err, "cache_ttl="));
		assert_non_null(strstr(err, bad[i]));
		assert_non_null(strstr(err, "from 0 to 86400"));
		free(err);
	}
	assert_int_equal(opts_number(&TTL, NULL, &v, &err), -EINVAL);
	free(err);
}

static void
test_number_message(void **state)
{
	char *err;
	int v;

	(void)state;
	assert_int_equal(opts_number(&TTL, "1e3", &v, &err), -EINVAL);
	assert_string_equal(err, "cache_ttl=1e3: must be a whole number of seconds from 0 to 86400");
	free(err);
	assert_int_equal(opts_number(&RETRIES, "11", &v, &err), -EINVAL);
	assert_string_equal(err, "retries=11: must be a whole number from 0 to 10");
	free(err);
}

static const char MOUNTINFO[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"40 22 0:35 / /tmp/with\\040space rw,nosuid,nodev,relatime shared:20 - fuse.exalsiusfs exalsiusfs rw,user_id=0,group_id=0\n"
	"41 22 0:36 / /tmp/other rw,relatime - fuse.sshfs host:/ rw,user_id=0\n"
	"42 22 0:37 / /tmp/plain rw,relatime - fuse.exalsiusfs exalsiusfs rw,user_id=0\n"
	"43 22 0:38 / /tmp/back\\134slash rw - fuse.exalsiusfs exalsiusfs rw";

static void
test_mounted_at(void **state)
{
	const char *fs = "fuse.exalsiusfs";

	(void)state;
	assert_true(opts_mounted_at(MOUNTINFO, "/tmp/plain", fs));
	assert_true(opts_mounted_at(MOUNTINFO, "/tmp/with space", fs));
	assert_true(opts_mounted_at(MOUNTINFO, "/tmp/back\\slash", fs));
	/* another file system there, or ours elsewhere */
	assert_false(opts_mounted_at(MOUNTINFO, "/tmp/other", fs));
	assert_false(opts_mounted_at(MOUNTINFO, "/", fs));
	assert_false(opts_mounted_at(MOUNTINFO, "/tmp/plai", fs));
	assert_false(opts_mounted_at(MOUNTINFO, "/tmp/plain/x", fs));
	assert_false(opts_mounted_at(MOUNTINFO, "/tmp/with\\040space", fs));
	/* a type that only starts like ours */
	assert_false(opts_mounted_at(MOUNTINFO, "/tmp/plain", "fuse.exalsius"));
	assert_false(opts_mounted_at("", "/tmp/plain", fs));
	assert_false(opts_mounted_at("garbage without fields\n\n", "/tmp/plain", fs));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_accepts),
		cmocka_unit_test(test_number_refuses),
		cmocka_unit_test(test_number_message),
		cmocka_unit_test(test_mounted_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
