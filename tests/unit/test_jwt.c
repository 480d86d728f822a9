/*
 * test_jwt: base64url decoding (padding, the URL alphabet, refusals) and
 * claims from literal tokens: exp/iat as integers or reals, sub, email,
 * the organisation from plain and namespaced claims, and tokens that are
 * not JWTs at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "jwt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base64url of a JSON payload, built at run time so the tests read plainly */
static char *
b64url(const char *s)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 4 / 3 + 4);
	unsigned int acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | (unsigned char)s[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = a[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return out;
}

static char *
token_of(const char *payload)
{
	char *p = b64url(payload);
	size_t n = strlen(p) + 64;
	char *t = malloc(n);

	snprintf(t, n, "eyJhbGciOiJIUzI1NiJ9.%s.c2ln", p);
	free(p);
	return t;
}

static void
test_b64url(void **state)
{
	size_t n;
	char *s;

	(void)state;
	s = jwt_b64url_decode("aGVsbG8", 7, &n);
	assert_non_null(s);
	assert_int_equal(n, 5);
	assert_string_equal(s, "hello");
	free(s);
	s = jwt_b64url_decode("aGVsbG8=", 8, &n);
	assert_string_equal(s, "hello");
	free(s);
	s = jwt_b64url_decode("-_8", 3, &n);	/* the URL alphabet: fb ff */
	assert_int_equal(n, 2);
	assert_int_equal((unsigned char)s[0], 0xfb);
	assert_int_equal((unsigned char)s[1], 0xff);
	free(s);
	assert_null(jwt_b64url_decode("a+b/", 4, &n));
	assert_null(jwt_b64url_decode("abcde", 5, &n));
	s = jwt_b64url_decode("", 0, &n);
	assert_int_equal(n, 0);
	free(s);
}

static void
test_claims(void **state)
{
	struct jwt_claims c;
	char *t;

	(void)state;
	t = token_of("{\"sub\":\"auth0|u1\",\"email\":\"a@example.com\",\"exp\":1800000000,"
		     "\"iat\":1799996400,\"org_id\":\"org_1\",\"org_name\":\"Team\"}");
	assert_int_equal(jwt_claims(t, &c), 0);
	assert_int_equal(c.exp, 1800000000LL);
	assert_int_equal(c.iat, 1799996400LL);
	assert_string_equal(c.sub, "auth0|u1");
	assert_string_equal(c.email, "a@example.com");
	assert_string_equal(c.org, "Team");
	jwt_claims_free(&c);
	free(t);

	t = token_of("{\"exp\":1800000000.5,\"https://exalsius.ai/org_id\":\"org_9\"}");
	assert_int_equal(jwt_claims(t, &c), 0);
	assert_int_equal(c.exp, 1800000000LL);
	assert_null(c.sub);
	assert_null(c.email);
	assert_string_equal(c.org, "org_9");
	jwt_claims_free(&c);
	free(t);

	t = token_of("{\"exp\":\"soon\",\"sub\":7}");
	assert_int_equal(jwt_claims(t, &c), 0);
	assert_int_equal(c.exp, 0);
	assert_null(c.sub);
	jwt_claims_free(&c);
	free(t);
}

static void
test_not_jwt(void **state)
{
	struct jwt_claims c;
	char *t;

	(void)state;
	assert_int_equal(jwt_claims("opaque-token", &c), -EINVAL);
	assert_int_equal(jwt_claims("a.b", &c), -EINVAL);
	assert_int_equal(jwt_claims("a.!!!.c", &c), -EINVAL);
	assert_int_equal(jwt_claims(NULL, &c), -EINVAL);
	t = token_of("[1,2]");
	assert_int_equal(jwt_claims(t, &c), -EINVAL);
	free(t);
	t = token_of("{\"exp\":1,\"exp\":2}");
	assert_int_equal(jwt_claims(t, &c), -EINVAL);
	free(t);
	t = token_of("{\"exp\":");
	assert_int_equal(jwt_claims(t, &c), -EINVAL);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_not_jwt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
