/*
 * test_oauth: form encoding of the values sent to the login service
 * (unreserved characters kept, space as +, everything else %XX, UTF-8
 * byte by byte) and the token struct helpers (deep copy, wipe-free).
 * The requests themselves run against the emulator in t_accounts.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oauth.h"

#include <stdlib.h>
#include <string.h>

static void
test_form_escape(void **state)
{
	char *s;

	(void)state;
	s = oauth_form_escape("AZaz09-._~");
	assert_string_equal(s, "AZaz09-._~");
	free(s);
	s = oauth_form_escape("openid profile email");
	assert_string_equal(s, "openid+profile+email");
	free(s);
	s = oauth_form_escape("urn:ietf:params:oauth:grant-type:device_code");
	assert_string_equal(s, "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
	free(s);
	s = oauth_form_escape("a&b=c+d/\xc3\xa9");
	assert_string_equal(s, "a%26b%3Dc%2Bd%2F%C3%A9");
	free(s);
	s = oauth_form_escape("");
	assert_string_equal(s, "");
	free(s);
}

static void
test_tokens(void **state)
{
	struct oauth_tokens a = { strdup("acc"), NULL, strdup("ref"), 42 }, b;

	(void)state;
	assert_int_equal(oauth_tokens_copy(&b, &a), 0);
	assert_string_equal(b.access, "acc");
	assert_null(b.id);
	assert_string_equal(b.refresh, "ref");
	assert_int_equal(b.expiry, 42);
	assert_ptr_not_equal(b.access, a.access);
	oauth_tokens_free(&a);
	assert_null(a.access);
	assert_int_equal(a.expiry, 0);
	oauth_tokens_free(&b);
	oauth_tokens_free(&b);	/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_escape),
		cmocka_unit_test(test_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
