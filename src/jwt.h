/*
 * jwt: the claims of a JSON Web Token (header.payload.signature), decoded
 * but not verified: the mount only needs to know when a token expires and
 * whose it is, the API checks the signature. Pure; jansson stays inside.
 */
#ifndef EXFS_JWT_H
#define EXFS_JWT_H

#include <stddef.h>

struct jwt_claims {
	long long exp;		/* seconds since 1970, 0 when absent */
	long long iat;		/* seconds since 1970, 0 when absent */
	char *sub;		/* each allocated, NULL when absent */
	char *email;
	char *org;		/* org_name, else org_id, else an ".../org..." claim */
};

/* Decode base64url (padding optional) into a new NUL-terminated buffer,
 * its length in *len; NULL when the text is not base64url or on ENOMEM. */
char *jwt_b64url_decode(const char *in, size_t n, size_t *len);

/* Fill *out from token's payload: 0, or -EINVAL when token is not a JWT
 * with a JSON object payload (*out then holds nothing to free). */
int jwt_claims(const char *token, struct jwt_claims *out);

/* Free the strings of *c (not c itself). */
void jwt_claims_free(struct jwt_claims *c);

#endif
