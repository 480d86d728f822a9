/*
 * test_logbuf: the held log of one workspace: lines split across pieces,
 * rendering as text or JSON, unreadable lines skipped, the cap dropping
 * the oldest whole lines while offsets keep counting up, and a reconnect's
 * replay skipped without losing a line sent after it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "logbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L1 "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:00:01.000Z\",\"log_message\":\"one\"}\n"
#define L2 "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:00:02.000Z\",\"log_message\":\"two\"}\n"
#define L3 "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:00:03.000Z\",\"log_message\":\"three\"}\n"
#define L3B "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:00:03.000Z\",\"log_message\":\"three b\"}\n"
#define Q1 "{\"pod_name\":\"q\",\"timestamp\":\"2026-01-01T00:00:00.500Z\",\"log_message\":\"q one\"}\n"

/* Everything held, from the start, NUL-terminated (allocated). */
static char *
held(const struct logbuf *lb)
{
	unsigned long long off = 0;
	char *buf = calloc(1, lb->len + 1);
	size_t n;

	assert_non_null(buf);
	n = logbuf_copy(lb, &off, buf, lb->len + 1);
	assert_int_equal(n, lb->len);
	assert_true(off == lb->base);
	return buf;
}

static void
logbuf_renders_text_across_pieces(void **state)
{
	struct logbuf lb;
	const char *in = L1 L2;
	char *s;
	long grew = 0;

	(void)state;
	logbuf_init(&lb, 1 << 20, 0);
	/* one byte at a time: lines appear only when complete */
	for (size_t i = 0; in[i]; i++) {
		long g = logbuf_feed(&lb, in + i, 1);

		assert_true(g >= 0);
		if (in[i] != '\n')
			assert_int_equal(g, 0);
		grew += g;
	}
	s = held(&lb);
	assert_string_equal(s, "2026-01-01T00:00:01.000Z p one\n"
			       "2026-01-01T00:00:02.000Z p two\n");
	assert_int_equal(grew, (long)strlen(s));
	assert_true(logbuf_end(&lb) == strlen(s));
	free(s);
	logbuf_free(&lb);
}

static void
logbuf_ndjson_and_bad_lines(void **state)
{
	struct logbuf lb;
	char *s;

	(void)state;
	logbuf_init(&lb, 1 << 20, 1);
	assert_true(logbuf_feed(&lb, "[1,2]\n{cut\n\n" L1, strlen("[1,2]\n{cut\n\n" L1)) > 0);
	s = held(&lb);
	assert_string_equal(s, "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:00:01.000Z\","
			       "\"log_message\":\"one\"}\n");
	assert_int_equal(lb.skipped, 2);
	free(s);
	logbuf_free(&lb);
	/* a control character in a message never splits the text line */
	logbuf_init(&lb, 1 << 20, 0);
	logbuf_feed(&lb, "{\"log_message\":\"a\\nb\"}\n", 24);
	s = held(&lb);
	assert_string_equal(s, "- - a b\n");
	free(s);
	logbuf_free(&lb);
}

static void
logbuf_cap_drops_oldest_and_offsets_grow(void **state)
{
	struct logbuf lb;
	unsigned long long off = 0, prev_end = 0;
	char line[200], buf[256];
	size_t n;

	(void)state;
	logbuf_init(&lb, 8192, 0);
	for (int i = 0; i < 1000; i++) {
		int k = snprintf(line, sizeof(line),
				 "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:%02d:%02d.000Z\","
				 "\"log_message\":\"line %04d\"}\n",
				 i / 60, i % 60, i);

		assert_true(logbuf_feed(&lb, line, (size_t)k) > 0);
		assert_true(lb.len <= lb.cap);
		assert_true(logbuf_end(&lb) > prev_end);
		prev_end = logbuf_end(&lb);
	}
	assert_true(lb.base > 0);
	/* held bytes start at a line */
	assert_memory_equal(lb.data, "2026-", 5);
	/* a reader behind the held bytes moves up to them, once */
	n = logbuf_copy(&lb, &off, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(off == lb.base);
	/* the last line is the newest */
	assert_memory_equal(lb.data + lb.len - 10, "line 0999\n", 10);
	off = logbuf_end(&lb);
	assert_int_equal(logbuf_copy(&lb, &off, buf, sizeof(buf)), 0);
	logbuf_free(&lb);
}

static void
logbuf_reconnect_skips_replay_keeps_new(void **state)
{
	struct logbuf lb;
	unsigned long long end;
	char *s;

	(void)state;
	logbuf_init(&lb, 1 << 20, 0);
	logbuf_feed(&lb, Q1 L1 L2 "{\"pod_name\":\"p\",\"timesta", strlen(Q1 L1 L2) + 24);
	end = logbuf_end(&lb);
	/* the connection broke inside a line: that piece is dropped */
	logbuf_reconnect(&lb);
	/* the API sends everything again, then new lines: once one is newer
	 * than all held, the replay is over and every line is the stream's
	 * own, a line sent twice too */
	assert_int_equal(logbuf_feed(&lb, Q1 L1 L2, strlen(Q1 L1 L2)), 0);
	assert_true(logbuf_end(&lb) == end);
	assert_true(logbuf_feed(&lb, L3 L3 L3B, strlen(L3 L3 L3B)) > 0);
	s = held(&lb);
	assert_string_equal(s, "2026-01-01T00:00:00.500Z q q one\n"
			       "2026-01-01T00:00:01.000Z p one\n"
			       "2026-01-01T00:00:02.000Z p two\n"
			       "2026-01-01T00:00:03.000Z p three\n"
			       "2026-01-01T00:00:03.000Z p three\n"
			       "2026-01-01T00:00:03.000Z p three b\n");
	assert_int_equal(lb.repeats, 3);
	free(s);
	/* lines without a timestamp: matched against recent ones */
	logbuf_reconnect(&lb);
	end = logbuf_end(&lb);
	logbuf_feed(&lb, "{\"log_message\":\"untimed\"}\n", 26);
	assert_true(logbuf_end(&lb) > end);
	logbuf_reconnect(&lb);
	end = logbuf_end(&lb);
	logbuf_feed(&lb, "{\"log_message\":\"untimed\"}\n", 26);
	assert_true(logbuf_end(&lb) == end);
	logbuf_free(&lb);
}

static void
logbuf_clean_end_completes_last_line(void **state)
{
	struct logbuf lb;
	char *s;

	(void)state;
	logbuf_init(&lb, 1 << 20, 0);
	logbuf_feed(&lb, L1 "{\"pod_name\":\"p\",\"log_message\":\"last\"}", strlen(L1) + 37);
	assert_true(logbuf_end(&lb) == strlen("2026-01-01T00:00:01.000Z p one\n"));
	assert_true(logbuf_flush(&lb) > 0);
	s = held(&lb);
	assert_string_equal(s, "2026-01-01T00:00:01.000Z p one\n- p last\n");
	free(s);
	assert_int_equal(logbuf_flush(&lb), 0);
	logbuf_free(&lb);
}

static void
logbuf_after_replay_live_lines_in_any_order(void **state)
{
	struct logbuf lb;

	(void)state;
	logbuf_init(&lb, 1 << 20, 0);
	logbuf_feed(&lb, L1 L2, strlen(L1 L2));
	logbuf_reconnect(&lb);
	/* replay, then a newer line, then one older than it (two
	 * containers of one pod writing out of order): both are new */
	logbuf_feed(&lb, L1 L2 L3 L3B, strlen(L1 L2 L3 L3B));
	assert_int_equal(lb.lines, 4);
	logbuf_feed(&lb, "{\"pod_name\":\"p\",\"timestamp\":\"2026-01-01T00:00:02.500Z\","
			 "\"log_message\":\"late\"}\n",
		    77);
	assert_int_equal(lb.lines, 5);
	assert_int_equal(lb.repeats, 2);
	logbuf_free(&lb);
}

static void
logbuf_first_connection_keeps_everything(void **state)
{
	struct logbuf lb;

	(void)state;
	/* before any reconnect, identical lines are the stream's own */
	logbuf_init(&lb, 1 << 20, 0);
	logbuf_feed(&lb, L1 L1 L2 L1, strlen(L1 L1 L2 L1));
	assert_int_equal(lb.lines, 4);
	assert_int_equal(lb.repeats, 0);
	logbuf_free(&lb);
}

static void
logbuf_overlong_line_skipped(void **state)
{
	struct logbuf lb;
	size_t big = LOGBUF_LINE_MAX + 10;
	char *p = malloc(big);

	(void)state;
	assert_non_null(p);
	memset(p, 'x', big);
	logbuf_init(&lb, 1 << 20, 0);
	/* in two pieces, then a good line */
	assert_int_equal(logbuf_feed(&lb, p, big / 2), 0);
	assert_int_equal(logbuf_feed(&lb, p, big - big / 2), 0);
	assert_true(logbuf_feed(&lb, "\n" L1, 1 + strlen(L1)) > 0);
	assert_int_equal(lb.skipped, 1);
	assert_int_equal(lb.lines, 1);
	assert_true(lb.plen == 0);
	logbuf_free(&lb);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(logbuf_renders_text_across_pieces),
		cmocka_unit_test(logbuf_ndjson_and_bad_lines),
		cmocka_unit_test(logbuf_cap_drops_oldest_and_offsets_grow),
		cmocka_unit_test(logbuf_reconnect_skips_replay_keeps_new),
		cmocka_unit_test(logbuf_first_connection_keeps_everything),
		cmocka_unit_test(logbuf_after_replay_live_lines_in_any_order),
		cmocka_unit_test(logbuf_clean_end_completes_last_line),
		cmocka_unit_test(logbuf_overlong_line_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
