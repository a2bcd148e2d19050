/* Join token secrets: drawn from OpenSSL's CSPRNG, compared in constant
 * time. Apart from token.c so that the codec builds without the RNG. */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "internal/lib/err.h"
#include "internal/membership/token.h"
#include "internal/tls/tls.h"

int token_secret_new(unsigned char out[TOKEN_SECRET_SIZE], char *errmsg)
{
	if (RAND_bytes(out, TOKEN_SECRET_SIZE) != 1) {
		tls_errmsg_from_queue(errmsg, "token secret: RAND_bytes()");
		return TM_TLS;
	}
	return 0;
}

bool token_secret_equal(const unsigned char a[TOKEN_SECRET_SIZE],
			const unsigned char b[TOKEN_SECRET_SIZE])
{
	return CRYPTO_memcmp(a, b, TOKEN_SECRET_SIZE) == 0;
}
