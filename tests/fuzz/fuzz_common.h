/*
 * fuzz_common.h: small helpers shared by the libFuzzer targets in this
 * directory. Every invariant failure calls abort() through FUZZ_CHECK so
 * that libFuzzer reports it as a crash and keeps the input.
 */
#ifndef EXFS_FUZZ_COMMON_H
#define EXFS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);               \
			abort();                                          \
		}                                                         \
	} while (0)

/* LLVMFuzzerInitialize for a target that needs nothing but logging to
 * stderr (the code under test logs what it skips). */
#define FUZZ_INITIALIZE_LOG_ONLY                                          \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                \
	int                                                               \
	LLVMFuzzerInitialize(int *argc, char ***argv)                     \
	{                                                                 \
		(void)argc;                                               \
		(void)argv;                                               \
		log_open(1, 0);                                           \
		return 0;                                                 \
	}

/* A NUL-terminated copy of the fuzzer's bytes (NULs inside are kept, so
 * strlen() may be shorter than size). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Nonzero when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static inline int
fuzz_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned int cp;
		size_t len;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xC2 && p[i] <= 0xDF)
			len = 2, cp = p[i] & 0x1F;
		else if (p[i] >= 0xE0 && p[i] <= 0xEF)
			len = 3, cp = p[i] & 0x0F;
		else if (p[i] >= 0xF0 && p[i] <= 0xF4)
			len = 4, cp = p[i] & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		i += len;
	}
	return 1;
}

/* Nonzero when d is a legal, safe directory name as path.h promises:
 * 1..255 bytes, no '/', not "." or "..", no leading '.', no control
 * bytes (they are percent-encoded). */
static inline int
fuzz_dirname_ok(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 255 || d[0] == '.')
		return 0;
	if (strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] == '/' || (unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			return 0;
	return 1;
}

#endif
