/*
 * test_log: what log.c writes to stderr in the foreground, captured by
 * pointing fd 2 at a temporary file. Covers the secret registered with
 * log_set_secret (never written, "[REDACTED]" in its place, also when it
 * occurs several times or the line is cut at the buffer size), forgetting
 * it, control characters replaced, and the debug level switch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "eyJhbGciOi.SECRET-token-0123456789abcdef"

struct capture {
	FILE *tmp;
	int saved;
};

static void
capture_begin(struct capture *c)
{
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	fflush(stderr);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), 2) >= 0);
}

/* Restore stderr and return what was written (allocated). */
static char *
capture_end(struct capture *c)
{
	char *buf;
	long n;

	fflush(stderr);
	assert_true(dup2(c->saved, 2) >= 0);
	close(c->saved);
	assert_int_equal(fseek(c->tmp, 0, SEEK_END), 0);
	n = ftell(c->tmp);
	assert_true(n >= 0);
	rewind(c->tmp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, c->tmp), (size_t)n);
	buf[n] = '\0';
	fclose(c->tmp);
	return buf;
}

static int
log_setup(void **state)
{
	(void)state;
	log_open(1, 0);
	return 0;
}

static int
log_teardown(void **state)
{
	(void)state;
	log_close();
	return 0;
}

static void
log_msg_scrubs_secret(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	log_set_secret(SECRET);
	capture_begin(&c);
	log_msg(LOG_LVL_ERR, "GET /v1/workspaces with Bearer %s failed", SECRET);
	out = capture_end(&c);
	assert_null(strstr(out, SECRET));
	assert_string_equal(out,
			    "exalsiusfs: error: GET /v1/workspaces with Bearer [REDACTED] failed\n");
	free(out);

	capture_begin(&c);
	log_msg(LOG_LVL_WARN, "%s|%s%s|end %s", SECRET, SECRET, SECRET, "x" SECRET);
	out = capture_end(&c);
	assert_null(strstr(out, SECRET));
	assert_string_equal(out, "exalsiusfs: warning: [REDACTED]|[REDACTED][REDACTED]"
			    "|end x[REDACTED]\n");
	free(out);
	log_set_secret(NULL);
}

static void
log_msg_short_secret(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	log_set_secret("s3cr3t");
	capture_begin(&c);
	log_msg(LOG_LVL_INFO, "token=s3cr3t; again s3cr3ts3cr3t");
	out = capture_end(&c);
	assert_null(strstr(out, "s3cr3t"));
	assert_int_equal(strncmp(out, "exalsiusfs: info: token=", 24), 0);
	assert_non_null(strstr(out, "; again "));
	free(out);
	log_set_secret(NULL);
}

/* Without a secret, or after forgetting it, text is written as it is. */
static void
log_msg_forget_secret(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	log_set_secret(SECRET);
	log_set_secret(NULL);
	capture_begin(&c);
	log_msg(LOG_LVL_ERR, "value %s", SECRET);
	out = capture_end(&c);
	assert_string_equal(out, "exalsiusfs: error: value " SECRET "\n");
	free(out);
	log_set_secret("");
	capture_begin(&c);
	log_msg(LOG_LVL_ERR, "empty secret scrubs nothing");
	out = capture_end(&c);
	assert_string_equal(out, "exalsiusfs: error: empty secret scrubs nothing\n");
	free(out);
}

/*
 * A line longer than the log's buffer is cut; the secret near the cut
 * must not come out in part (half a token is still a leak).
 */
static void
log_msg_scrubs_secret_cut_by_truncation(void **state)
{
	struct capture c;
	char pad[4096], half[sizeof(SECRET) / 2 + 1];
	char *out;
	int bad = 0;

	(void)state;
	memcpy(half, SECRET, sizeof(half) - 1);
	half[sizeof(half) - 1] = '\0';
	log_set_secret(SECRET);
	for (size_t padlen = 2000; padlen < 2060; padlen++) {
		memset(pad, 'p', padlen);
		pad[padlen] = '\0';
		capture_begin(&c);
		log_msg(LOG_LVL_ERR, "%s%s", pad, SECRET);
		out = capture_end(&c);
		if (strstr(out, half)) {
			if (!bad)
				print_error("with %zu bytes before it, the line ends in \"...%.*s\"\n",
					    padlen, 40, out + strlen(out) - 41);
			bad++;
		}
		assert_null(strstr(out, SECRET));
		free(out);
	}
	log_set_secret(NULL);
	assert_int_equal(bad, 0);
}

static void
log_msg_replaces_control_chars(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	capture_begin(&c);
	log_msg(LOG_LVL_ERR, "a\x01" "b\nc\rd\x1b[31me\tf");
	out = capture_end(&c);
	assert_string_equal(out, "exalsiusfs: error: a?b?c?d?[31me\tf\n");
	free(out);
	/* a name with a newline cannot forge a second log line */
	capture_begin(&c);
	log_msg(LOG_LVL_INFO, "workspace %s", "x\nexalsiusfs: error: forged");
	out = capture_end(&c);
	assert_non_null(strchr(out, '\n'));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);
}

static void
log_msg_levels(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	capture_begin(&c);
	log_msg(LOG_LVL_DEBUG, "hidden");
	log_msg(LOG_LVL_INFO, "shown");
	out = capture_end(&c);
	assert_string_equal(out, "exalsiusfs: info: shown\n");
	free(out);
	log_open(1, 1);
	capture_begin(&c);
	log_msg(LOG_LVL_DEBUG, "now shown %d", 42);
	out = capture_end(&c);
	assert_string_equal(out, "exalsiusfs: debug: now shown 42\n");
	free(out);
	log_open(1, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_msg_scrubs_secret),
		cmocka_unit_test(log_msg_short_secret),
		cmocka_unit_test(log_msg_forget_secret),
		cmocka_unit_test(log_msg_scrubs_secret_cut_by_truncation),
		cmocka_unit_test(log_msg_replaces_control_chars),
		cmocka_unit_test(log_msg_levels),
	};

	return cmocka_run_group_tests(tests, log_setup, log_teardown);
}
