/*
 * secret: clearing memory that held the access token, in one place, with
 * explicit_bzero so that the compiler cannot drop the clearing as a dead
 * store before free().
 */
#ifndef EXFS_SECRET_H
#define EXFS_SECRET_H

/* Overwrite the string s (up to its NUL) with zeros; NULL is a no-op. */
void secret_clear(char *s);
/* secret_clear, then free; NULL is a no-op. */
void secret_wipe(char *s);

#endif
