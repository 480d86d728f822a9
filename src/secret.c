/*
 * secret: see secret.h. Every string that held a token is cleared here.
 */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

void
secret_clear(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

void
secret_wipe(char *s)
{
	secret_clear(s);
	free(s);
}
