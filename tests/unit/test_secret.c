/*
 * test_secret: the one place that clears strings that held a token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "secret.h"

#include <stdlib.h>
#include <string.h>

static void
secret_clear_zeroes(void **state)
{
	char buf[] = "Bearer-token-123";
	size_t n = strlen(buf);

	(void)state;
	secret_clear(buf);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf[i], 0);
	secret_clear(NULL);
}

static void
secret_wipe_frees(void **state)
{
	(void)state;
	/* under valgrind (make valgrind) a missing free shows as a leak */
	secret_wipe(strdup("token"));
	secret_wipe(strdup(""));
	secret_wipe(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secret_clear_zeroes),
		cmocka_unit_test(secret_wipe_frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
