/* Join token secrets: drawn from OpenSSL's CSPRNG, compared in constant
 * time. Apart from token.c so that the codec builds without the RNG. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <time.h>

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

void token_secret_hash(const unsigned char secret[TOKEN_SECRET_SIZE],
		       char out[2 * TOKEN_SECRET_SIZE + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_Digest(secret, TOKEN_SECRET_SIZE, md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < len && i < TOKEN_SECRET_SIZE; i++) {
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	}
	out[2 * TOKEN_SECRET_SIZE] = '\0';
}

void token_secret_hex(const unsigned char secret[TOKEN_SECRET_SIZE],
		      char out[2 * TOKEN_SECRET_SIZE + 1])
{
	for (unsigned i = 0; i < TOKEN_SECRET_SIZE; i++) {
		snprintf(out + 2 * i, 3, "%02x", secret[i]);
	}
	out[2 * TOKEN_SECRET_SIZE] = '\0';
}

void token_time_text(int64_t t, char out[32])
{
	time_t when = (time_t)t;
	struct tm tm;
	snprintf(out, 32, "?");
	if (gmtime_r(&when, &tm) != NULL) {
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
}
