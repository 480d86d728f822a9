/*
 * utf8: the one UTF-8 validator (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF). Pure.
 */
#ifndef EXFS_UTF8_H
#define EXFS_UTF8_H

#include <stddef.h>

/* Length of the valid sequence at p (at most n bytes), 0 if invalid. */
size_t utf8_seq_len(const unsigned char *p, size_t n);
/* Nonzero when the n bytes at s are all valid UTF-8. */
int utf8_valid(const char *s, size_t n);

#endif
