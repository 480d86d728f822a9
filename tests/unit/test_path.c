/*
 * test_path: the pure name rules of path.c. Covers path_encode_name
 * (escapes, the leading dot, "." and "..", empty names, cutting long names
 * at escape and UTF-8 boundaries, forced suffixes), path_decode_name
 * (round trips, rejected spellings, small buffers), path_assign_names
 * (collisions, order independence, literal "@id8" names, 1000 names),
 * path_split and the file kind table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_A "abcdef12-3456-4789-8abc-def012345678"
#define SUFFIX_A "@abcdef12"

/* Encode into a fresh buffer and check the returned length agrees. */
static const char *
enc(char out[PATH_NAME_MAX + 1], const char *name, const char *id, int sfx)
{
	size_t n = path_encode_name(name, id, sfx, out);

	assert_int_equal(n, strlen(out));
	assert_true(n <= PATH_NAME_MAX);
	return out;
}

static int
str_ends_with(const char *s, const char *end)
{
	size_t a = strlen(s), b = strlen(end);

	return a >= b && memcmp(s + a - b, end, b) == 0;
}

/* Nonzero when s[0..n) is well-formed UTF-8 (no sequence cut short). */
static int
utf8_complete(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 :
			   (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;

		if (k == 0 || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)s[i + j] & 0xC0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

static void
path_encode_name_keeps_plain_names(void **state)
{
	static const char *const plain[] = {
		"train-llama", "a.b", "x.", "x..y", "notebook_01", "with space",
		"x@y", "h\xc3\xa9llo", "\xf0\x9f\x98\x80", "~tilde", "A",
	};
	char out[PATH_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_string_equal(enc(out, plain[i], ID_A, 0), plain[i]);
}

static void
path_encode_name_escapes(void **state)
{
	char out[PATH_NAME_MAX + 1];

	(void)state;
	assert_string_equal(enc(out, "a/b", ID_A, 0), "a%2Fb");
	assert_string_equal(enc(out, "50%", ID_A, 0), "50%25");
	assert_string_equal(enc(out, "/", ID_A, 0), "%2F");
	assert_string_equal(enc(out, "\x01", ID_A, 0), "%01");
	assert_string_equal(enc(out, "a\x1f" "b", ID_A, 0), "a%1Fb");
	assert_string_equal(enc(out, "\x7f", ID_A, 0), "%7F");
	assert_string_equal(enc(out, "tab\there", ID_A, 0), "tab%09here");
	assert_string_equal(enc(out, "nl\n", ID_A, 0), "nl%0A");
	assert_string_equal(enc(out, ".hidden", ID_A, 0), "%2Ehidden");
	assert_string_equal(enc(out, ".a.b", ID_A, 0), "%2Ea.b");
	assert_string_equal(enc(out, "%2F", ID_A, 0), "%252F");
}

/* A NUL from the API arrives as the NUL mark U+FFFF (model.h): %00, so
 * that names with NUL and U+FFFD stay apart. */
static void
path_encode_name_nul_mark(void **state)
{
	char out[PATH_NAME_MAX + 1], name[300];

	(void)state;
	assert_string_equal(enc(out, "nul\xEF\xBF\xBFx", ID_A, 0), "nul%00x");
	assert_string_equal(enc(out, "\xEF\xBF\xBF", ID_A, 0), "%00");
	assert_string_equal(enc(out, "a\xEF\xBF\xBD", ID_A, 0), "a\xEF\xBF\xBD");
	/* a mark cut at the end of the string is no mark */
	assert_string_equal(enc(out, "a\xEF\xBF", ID_A, 0), "a\xEF\xBF");
	/* cutting a long name never splits the %00 */
	memset(name, 'n', 250);
	memcpy(name + 250, "\xEF\xBF\xBF", 4);
	assert_string_equal(enc(out, name, ID_A, 0) + 250, "%00");
	memset(name, 'n', 254);
	memcpy(name + 254, "\xEF\xBF\xBF", 4);
	enc(out, name, ID_A, 0);
	assert_true(str_ends_with(out, SUFFIX_A));
	assert_null(strstr(out, "%0@"));
	assert_null(strstr(out, "%@"));
}

/* Every byte in the middle of a name: escaped exactly when it must be. */
static void
path_encode_name_every_byte(void **state)
{
	char out[PATH_NAME_MAX + 1], name[4], want[8];

	(void)state;
	for (int c = 1; c < 256; c++) {
		int esc = c == '/' || c == '%' || c < 0x20 || c == 0x7f;

		name[0] = 'x';
		name[1] = (char)c;
		name[2] = 'y';
		name[3] = '\0';
		if (esc)
			snprintf(want, sizeof(want), "x%%%02Xy", c);
		else
			snprintf(want, sizeof(want), "x%cy", c);
		enc(out, name, ID_A, 0);
		if (c >= 0x80) {	/* not valid UTF-8 alone, but kept */
			assert_int_equal((unsigned char)out[1], c);
			assert_int_equal(strlen(out), 3);
		} else {
			assert_string_equal(out, want);
		}
	}
}

static void
path_encode_name_never_dot_or_dotdot(void **state)
{
	static const char *const names[] = { ".", "..", "...", ".%", "./" };
	char out[PATH_NAME_MAX + 1];

	(void)state;
	assert_string_equal(enc(out, ".", ID_A, 0), "%2E");
	assert_string_equal(enc(out, "..", ID_A, 0), "%2E.");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enc(out, names[i], ID_A, 0);
		assert_string_not_equal(out, ".");
		assert_string_not_equal(out, "..");
		assert_int_not_equal(out[0], '.');
	}
}

static void
path_encode_name_empty_gets_id(void **state)
{
	char out[PATH_NAME_MAX + 1];

	(void)state;
	assert_string_equal(enc(out, "", ID_A, 0), SUFFIX_A);
	assert_string_equal(enc(out, "", "12345678-aaaa-bbbb-cccc-dddddddddddd", 0),
			    "@12345678");
}

static void
path_encode_name_forced_suffix(void **state)
{
	char out[PATH_NAME_MAX + 1];

	(void)state;
	assert_string_equal(enc(out, "x", ID_A, 1), "x" SUFFIX_A);
	assert_string_equal(enc(out, "a/b", ID_A, 1), "a%2Fb" SUFFIX_A);
	assert_string_equal(enc(out, "", ID_A, 1), SUFFIX_A);
	/* "first 8 hex digits of its id": dashes skipped */
	assert_string_equal(enc(out, "x", "0123-4567-89ab-cdef", 1), "x@01234567");
}

static void
path_encode_name_255_is_kept(void **state)
{
	char name[300], out[PATH_NAME_MAX + 1];

	(void)state;
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_string_equal(enc(out, name, ID_A, 0), name);
	/* 85 escapes are exactly 255 bytes */
	for (int i = 0; i < 85; i++)
		name[i] = '/';
	name[85] = '\0';
	assert_int_equal(strlen(enc(out, name, ID_A, 0)), 255);
	assert_false(str_ends_with(out, SUFFIX_A));
	name[85] = '/';
	name[86] = '\0';
	assert_true(str_ends_with(enc(out, name, ID_A, 0), SUFFIX_A));
	memset(name, 'a', 256);
	name[256] = '\0';
	enc(out, name, ID_A, 0);
	assert_int_equal(strlen(out), 255);
	assert_true(str_ends_with(out, SUFFIX_A));
}

/*
 * Check one cut: out is <cut prefix>@id8, the prefix is no longer than
 * needed, is a canonical encoding (so never ends inside %XX), decodes to a
 * prefix of name that ends on a UTF-8 boundary.
 */
static void
check_cut(const char *name, const char *out)
{
	char prefix[PATH_NAME_MAX + 1], dec[PATH_NAME_MAX + 1];
	size_t plen, dlen;

	assert_true(strlen(out) <= PATH_NAME_MAX);
	assert_true(str_ends_with(out, SUFFIX_A));
	plen = strlen(out) - strlen(SUFFIX_A);
	memcpy(prefix, out, plen);
	prefix[plen] = '\0';
	/* nothing worth keeping was thrown away: at most one unit short */
	assert_true(plen + 4 >= PATH_NAME_MAX - strlen(SUFFIX_A));
	assert_int_equal(path_decode_name(prefix, dec, sizeof(dec)), 0);
	dlen = strlen(dec);
	assert_memory_equal(dec, name, dlen);
	assert_true(utf8_complete(dec, dlen));
	/* the next byte of the name starts a character */
	assert_int_not_equal((unsigned char)name[dlen] & 0xC0, 0x80);
}

static void
path_encode_name_cut_ascii(void **state)
{
	char name[301], out[PATH_NAME_MAX + 1];

	(void)state;
	memset(name, 'a', 300);
	name[300] = '\0';
	enc(out, name, ID_A, 0);
	assert_int_equal(strlen(out), 255);
	check_cut(name, out);
}

/* Names of '/' (3-byte escapes) cut at every alignment. */
static void
path_encode_name_cut_escapes(void **state)
{
	char name[400], out[PATH_NAME_MAX + 1];

	(void)state;
	for (int shift = 0; shift < 3; shift++) {
		memset(name, 'a', (size_t)shift);
		memset(name + shift, '/', 300);
		name[shift + 300] = '\0';
		enc(out, name, ID_A, 0);
		check_cut(name, out);
	}
	/* '%' too, and a mix with control bytes */
	for (int shift = 0; shift < 3; shift++) {
		memset(name, 'b', (size_t)shift);
		for (int i = 0; i < 300; i++)
			name[shift + i] = i % 2 ? '%' : '\x01';
		name[shift + 300] = '\0';
		enc(out, name, ID_A, 0);
		check_cut(name, out);
	}
}

/* Names of 'é' (2 bytes) and of a 4-byte emoji, at every alignment. */
static void
path_encode_name_cut_utf8(void **state)
{
	static const char *const chars[] = { "\xc3\xa9", "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80" };
	char name[700], out[PATH_NAME_MAX + 1];

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		size_t clen = strlen(chars[c]);

		for (int shift = 0; shift < 4; shift++) {
			size_t n = (size_t)shift;

			memset(name, 'a', n);
			while (n < 300) {
				memcpy(name + n, chars[c], clen);
				n += clen;
			}
			name[n] = '\0';
			enc(out, name, ID_A, 0);
			check_cut(name, out);
		}
	}
	/* alternating 'é' and '/' mixes both boundaries */
	for (int shift = 0; shift < 5; shift++) {
		size_t n = (size_t)shift;

		memset(name, 'z', n);
		while (n < 300) {
			memcpy(name + n, "\xc3\xa9/", 3);
			n += 3;
		}
		name[n] = '\0';
		enc(out, name, ID_A, 0);
		check_cut(name, out);
	}
}

static void
path_decode_name_round_trips(void **state)
{
	static const char *const names[] = {
		"plain", "a/b", "50%", ".hidden", ".", "..", "x\x01y", "\x7f",
		"h\xc3\xa9llo", "a.b.", "x@abcdef12", "%2F", "/%/", "tab\t",
	};
	char out[PATH_NAME_MAX + 1], dec[PATH_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enc(out, names[i], ID_A, 0);
		assert_int_equal(path_decode_name(out, dec, sizeof(dec)), 0);
		assert_string_equal(dec, names[i]);
	}
	assert_int_equal(path_decode_name("a%2Fb", dec, sizeof(dec)), 0);
	assert_string_equal(dec, "a/b");
	assert_int_equal(path_decode_name("%2E", dec, sizeof(dec)), 0);
	assert_string_equal(dec, ".");
}

static void
path_decode_name_rejects(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", ".x", "%G1", "%1G", "%2", "%", "a%", "%00",
		"a%00b", "%41", "%2f", "a%2fb", "%2e", "a/b", "x\x01", "%7f",
		"%2E%2E", "a%2E", "%C3%A9",
	};
	char dec[PATH_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(dec, 'Q', sizeof(dec));
		if (path_decode_name(bad[i], dec, sizeof(dec)) != -EINVAL)
			fail_msg("path_decode_name(\"%s\") accepted", bad[i]);
	}
}

static void
path_decode_name_small_buffer(void **state)
{
	char dec[8];

	(void)state;
	assert_int_equal(path_decode_name("abcdef", dec, 4), -ENAMETOOLONG);
	assert_int_equal(path_decode_name("abcdef", dec, 6), -ENAMETOOLONG);
	assert_int_equal(path_decode_name("abcdef", dec, 7), 0);
	assert_string_equal(dec, "abcdef");
	/* escapes count once decoded */
	assert_int_equal(path_decode_name("%2F%2F", dec, 3), 0);
	assert_string_equal(dec, "//");
	assert_int_equal(path_decode_name("%2F%2F%2F", dec, 3), -ENAMETOOLONG);
}

/* Assign names to n entries and return them through v[].dirname. */
static void
assign(struct path_named *v, size_t n)
{
	assert_int_equal(path_assign_names(v, n), 0);
	for (size_t i = 0; i < n; i++)
		assert_non_null(v[i].dirname);
}

static void
release(struct path_named *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].dirname);
		v[i].dirname = NULL;
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All dirnames distinct, legal, never "." or "..". */
static void
assert_unique(struct path_named *v, size_t n)
{
	char **s = malloc(n * sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		s[i] = v[i].dirname;
		assert_true(strlen(s[i]) > 0 && strlen(s[i]) <= PATH_NAME_MAX);
		assert_null(strchr(s[i], '/'));
		assert_string_not_equal(s[i], ".");
		assert_string_not_equal(s[i], "..");
	}
	qsort(s, n, sizeof(*s), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1], s[i]) == 0)
			fail_msg("dirname \"%s\" given twice", s[i]);
	free(s);
}

static void
path_assign_names_duplicates(void **state)
{
	struct path_named v[] = {
		{ "nb", "bbbbbbbb-0000-4000-8000-000000000000", "2026-01-02T00:00:00Z", NULL, NULL },
		{ "other", "dddddddd-0000-4000-8000-000000000000", "2026-01-05T00:00:00Z", NULL, NULL },
		{ "nb", "cccccccc-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "nb", "aaaaaaaa-0000-4000-8000-000000000000", "2026-01-03T00:00:00Z", NULL, NULL },
		{ "a/b", "eeeeeeee-0000-4000-8000-000000000000", "2026-01-04T00:00:00Z", NULL, NULL },
		{ "a/b", "ffffffff-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
	};

	(void)state;
	assign(v, 6);
	assert_string_equal(v[0].dirname, "nb@bbbbbbbb");
	assert_string_equal(v[1].dirname, "other");
	assert_string_equal(v[2].dirname, "nb");
	assert_string_equal(v[3].dirname, "nb@aaaaaaaa");
	assert_string_equal(v[4].dirname, "a%2Fb@eeeeeeee");
	assert_string_equal(v[5].dirname, "a%2Fb");
	release(v, 6);
	assert_int_equal(path_assign_names(v, 0), 0);
}

/* Held-back names: "x" belongs to a draft, "y" to a deleted workspace. */
static int
reserved_xy(void *arg, const char *dirname, const char *id)
{
	(void)arg;
	if (strcmp(dirname, "x") == 0)
		return 1;
	return strcmp(dirname, "y") == 0 && strcmp(id, "99999999-0000-4000-8000-000000000000") != 0;
}

static void
path_assign_names_kept_names_stay(void **state)
{
	/* the oldest "nb" was deleted; the survivor keeps the suffixed name
	 * it had, a newcomer named "x" or "y" never takes a held name */
	struct path_named v[] = {
		{ "nb", "bbbbbbbb-0000-4000-8000-000000000000", "2026-01-02T00:00:00Z", NULL, "nb@bbbbbbbb" },
		{ "x", "cccccccc-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "y", "dddddddd-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "y", "99999999-0000-4000-8000-000000000000", "2026-01-03T00:00:00Z", NULL, "y" },
		/* a newcomer older than a kept name does not take it */
		{ "k", "11111111-0000-4000-8000-000000000000", "2025-01-01T00:00:00Z", NULL, NULL },
		{ "k", "22222222-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, "k" },
	};

	(void)state;
	assert_int_equal(path_assign_names_kept(v, 6, reserved_xy, NULL), 0);
	assert_string_equal(v[0].dirname, "nb@bbbbbbbb");
	assert_string_equal(v[1].dirname, "x@cccccccc");
	assert_string_equal(v[2].dirname, "y@dddddddd");
	assert_string_equal(v[3].dirname, "y");
	assert_string_equal(v[4].dirname, "k@11111111");
	assert_string_equal(v[5].dirname, "k");
	release(v, 6);
}

static void
path_assign_names_tie_broken_by_id(void **state)
{
	struct path_named v[] = {
		{ "w", "22222222-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "w", "11111111-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "w", "33333333-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
	};

	(void)state;
	assign(v, 3);
	assert_string_equal(v[0].dirname, "w@22222222");
	assert_string_equal(v[1].dirname, "w");
	assert_string_equal(v[2].dirname, "w@33333333");
	release(v, 3);
}

/*
 * "Oldest by created_at" is about time, not spelling: RFC 3339 allows an
 * offset and a fraction, and the emulator itself sends both "...05Z" and
 * "...05.123456Z". These pairs are in chronological order (older first).
 */
static void
path_assign_names_oldest_is_chronological(void **state)
{
	static const char *const pairs[][2] = {
		/* 03:00Z is older than 04:00Z */
		{ "2026-01-02T05:00:00+02:00", "2026-01-02T04:00:00Z" },
		/* 05.000 is older than 05.5 */
		{ "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.500000Z" },
	};

	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct path_named v[] = {
			{ "w", "ffffffff-0000-4000-8000-000000000000", pairs[i][0], NULL, NULL },
			{ "w", "00000000-0000-4000-8000-000000000000", pairs[i][1], NULL, NULL },
		};

		assign(v, 2);
		if (strcmp(v[0].dirname, "w") != 0 ||
		    strcmp(v[1].dirname, "w@00000000") != 0) {
			print_error("created_at %s is older than %s, yet they got "
				    "\"%s\" and \"%s\"\n", pairs[i][0], pairs[i][1],
				    v[0].dirname, v[1].dirname);
			bad++;
		}
		release(v, 2);
	}
	assert_int_equal(bad, 0);
}

/* Next lexicographic permutation of p[0..n); 0 after the last. */
static int
next_perm(size_t *p, size_t n)
{
	size_t i, j, t;

	if (n < 2)
		return 0;
	i = n - 1;
	while (i > 0 && p[i - 1] >= p[i])
		i--;
	if (i == 0)
		return 0;
	j = n - 1;
	while (p[j] <= p[i - 1])
		j--;
	t = p[i - 1], p[i - 1] = p[j], p[j] = t;
	for (j = n - 1; i < j; i++, j--)
		t = p[i], p[i] = p[j], p[j] = t;
	return 1;
}

/* Run every permutation of base; each id must get the same dirname. */
static void
check_order_independent(const struct path_named *base, size_t n)
{
	struct path_named v[8], want[8];
	size_t p[8];
	int perms = 0;

	assert_true(n <= 8);
	memcpy(want, base, n * sizeof(*base));
	assign(want, n);
	assert_unique(want, n);
	for (size_t i = 0; i < n; i++)
		p[i] = i;
	do {
		for (size_t i = 0; i < n; i++)
			v[i] = base[p[i]];
		assign(v, n);
		assert_unique(v, n);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(v[i].dirname, want[p[i]].dirname);
		release(v, n);
		perms++;
	} while (next_perm(p, n));
	assert_true(perms > 1);
	release(want, n);
}

static void
path_assign_names_order_independent(void **state)
{
	static const struct path_named base[] = {
		{ "w", "33333333-0000-4000-8000-000000000000", "2026-01-03T00:00:00Z", NULL, NULL },
		{ "w", "11111111-0000-4000-8000-000000000000", "2026-01-03T00:00:00Z", NULL, NULL },
		{ "w", "22222222-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "v", "44444444-0000-4000-8000-000000000000", "", NULL, NULL },
		{ "v", "55555555-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
		{ "", "66666666-0000-4000-8000-000000000000", "2026-01-01T00:00:00Z", NULL, NULL },
	};

	(void)state;
	check_order_independent(base, 6);
}

/* A workspace literally named like another's suffixed name. */
static void
path_assign_names_literal_suffix_collision(void **state)
{
	static const char *const created[] = {
		"2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z",
	};
	struct path_named base[3];

	(void)state;
	/* every assignment of creation times to the three workspaces */
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			for (int c = 0; c < 3; c++) {
				base[0] = (struct path_named){ "x", "11111111-0000-4000-8000-000000000000", created[a], NULL, NULL };
				base[1] = (struct path_named){ "x", "abcdef12-0000-4000-8000-000000000000", created[b], NULL, NULL };
				base[2] = (struct path_named){ "x@abcdef12", "22222222-0000-4000-8000-000000000000", created[c], NULL, NULL };
				check_order_independent(base, 3);
			}
	/* the literal one is oldest: it keeps its name, the second x moves on */
	base[0] = (struct path_named){ "x", "11111111-0000-4000-8000-000000000000", created[1], NULL, NULL };
	base[1] = (struct path_named){ "x", "abcdef12-0000-4000-8000-000000000000", created[2], NULL, NULL };
	base[2] = (struct path_named){ "x@abcdef12", "22222222-0000-4000-8000-000000000000", created[0], NULL, NULL };
	assign(base, 3);
	assert_string_equal(base[0].dirname, "x");
	assert_string_equal(base[2].dirname, "x@abcdef12");
	assert_string_not_equal(base[1].dirname, "x");
	assert_string_not_equal(base[1].dirname, "x@abcdef12");
	assert_int_equal(strncmp(base[1].dirname, "x@", 2), 0);
	release(base, 3);
}

static void
path_assign_names_thousand(void **state)
{
	enum { N = 1000 };
	static const char *const names[] = { "w", "w@00000001", "a/b", "", NULL };
	struct path_named *v = calloc(N, sizeof(*v));
	char (*ids)[40] = calloc(N, sizeof(*ids));
	char (*times)[32] = calloc(N, sizeof(*times));
	char longname[301];

	(void)state;
	assert_non_null(v);
	assert_non_null(ids);
	assert_non_null(times);
	memset(longname, 'L', 300);
	longname[300] = '\0';
	/* distinct short ids */
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%08x-0000-4000-8000-%012x", i, i);
		snprintf(times[i], sizeof(times[i]), "2026-01-01T00:%02d:%02dZ",
			 (i / 60) % 60, i % 60);
		v[i] = (struct path_named){ "same", ids[i], times[i], NULL, NULL };
	}
	assign(v, N);
	assert_unique(v, N);
	release(v, N);
	/* ids that all share their first 8 hex digits: suffixes collide */
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "00000001-0000-4000-8000-%012d", i);
		v[i] = (struct path_named){ names[i % 5] ? names[i % 5] : longname,
					    ids[i], times[i % 7], NULL, NULL };
	}
	assign(v, N);
	assert_unique(v, N);
	release(v, N);
	free(v);
	free(ids);
	free(times);
}

static void
path_split_cases(void **state)
{
	struct path_parts p;
	char big[600];

	(void)state;
	assert_int_equal(path_split("/", &p), 0);
	assert_int_equal(p.kind, PATH_ROOT);
	assert_int_equal(path_split("/a", &p), 0);
	assert_int_equal(p.kind, PATH_TOP);
	assert_string_equal(p.top, "a");
	assert_string_equal(p.file, "");
	assert_int_equal(path_split("/a/", &p), 0);
	assert_int_equal(p.kind, PATH_TOP);
	assert_string_equal(p.top, "a");
	assert_int_equal(path_split("/ws%2Fx/status.json", &p), 0);
	assert_int_equal(p.kind, PATH_FILE);
	assert_string_equal(p.top, "ws%2Fx");
	assert_string_equal(p.file, "status.json");
	assert_int_equal(path_split("/ws/wait/RUNNING", &p), 0);
	assert_int_equal(p.kind, PATH_DEEP);
	assert_string_equal(p.top, "ws");
	assert_string_equal(p.file, "wait");
	assert_string_equal(p.leaf, "RUNNING");
	assert_int_equal(path_split("/a/b/", &p), 0);
	assert_int_equal(p.kind, PATH_FILE);
	assert_int_equal(path_split("/a/b/c/d", &p), -ENOENT);
	assert_int_equal(path_split("/a/b/c/", &p), 0);
	assert_int_equal(p.kind, PATH_DEEP);

	big[0] = '/';
	memset(big + 1, 'n', 300);
	big[301] = '\0';
	assert_int_equal(path_split(big, &p), -ENAMETOOLONG);
	memcpy(big, "/a/", 3);
	memset(big + 3, 'n', 300);
	big[303] = '\0';
	assert_int_equal(path_split(big, &p), -ENAMETOOLONG);
	/* exactly 255 is fine */
	big[0] = '/';
	memset(big + 1, 'n', 255);
	big[256] = '\0';
	assert_int_equal(path_split(big, &p), 0);
	assert_int_equal(p.kind, PATH_TOP);
	assert_int_equal(strlen(p.top), 255);
}

static void
path_file_kind_round_trip(void **state)
{
	(void)state;
	for (int f = 0; f < WS_FILE_COUNT; f++) {
		const char *name = path_file_name((enum ws_file)f);

		assert_true(strlen(name) > 0);
		assert_int_equal(path_file_kind(name), f);
	}
	assert_string_equal(path_file_name(WS_FILE_STATUS_JSON), "status.json");
	assert_string_equal(path_file_name(WS_FILE_STATUS), "status");
	assert_string_equal(path_file_name(WS_FILE_ID), "id");
	assert_string_equal(path_file_name(WS_FILE_CONTROL), "control");
	assert_string_equal(path_file_name(WS_FILE_ERROR), "error");
	assert_string_equal(path_file_name(WS_FILE_SPEC), "spec.json");
	assert_int_equal(path_file_kind("Status.json"), WS_FILE_NONE);
	assert_int_equal(path_file_kind("status.json~"), WS_FILE_NONE);
	assert_int_equal(path_file_kind(""), WS_FILE_NONE);
	assert_string_equal(path_file_name(WS_FILE_NONE), "");
	assert_string_equal(path_file_name(WS_FILE_COUNT), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_encode_name_keeps_plain_names),
		cmocka_unit_test(path_encode_name_escapes),
		cmocka_unit_test(path_encode_name_every_byte),
		cmocka_unit_test(path_encode_name_nul_mark),
		cmocka_unit_test(path_encode_name_never_dot_or_dotdot),
		cmocka_unit_test(path_encode_name_empty_gets_id),
		cmocka_unit_test(path_encode_name_forced_suffix),
		cmocka_unit_test(path_encode_name_255_is_kept),
		cmocka_unit_test(path_encode_name_cut_ascii),
		cmocka_unit_test(path_encode_name_cut_escapes),
		cmocka_unit_test(path_encode_name_cut_utf8),
		cmocka_unit_test(path_decode_name_round_trips),
		cmocka_unit_test(path_decode_name_rejects),
		cmocka_unit_test(path_decode_name_small_buffer),
		cmocka_unit_test(path_assign_names_duplicates),
		cmocka_unit_test(path_assign_names_tie_broken_by_id),
		cmocka_unit_test(path_assign_names_kept_names_stay),
		cmocka_unit_test(path_assign_names_oldest_is_chronological),
		cmocka_unit_test(path_assign_names_order_independent),
		cmocka_unit_test(path_assign_names_literal_suffix_collision),
		cmocka_unit_test(path_assign_names_thousand),
		cmocka_unit_test(path_split_cases),
		cmocka_unit_test(path_file_kind_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
