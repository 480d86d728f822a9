/*
 * model_int: what the model_*.c files share; json_t stays inside them.
 */
#ifndef EXFS_MODEL_INT_H
#define EXFS_MODEL_INT_H

#include <jansson.h>
#include <stddef.h>

/* Parse an API reply (repairing bad strings first); NULL with *err. */
json_t *model_load(const char *body, size_t len, char **err);
/* Control characters (tab and newline included) become spaces, in place. */
void model_clean_line(char *s);

#endif
