/* Key strength of certificates used to authenticate: a key that can be
 * broken lets anyone holding its certificate's fingerprint in a trust store
 * act as that client. NIST SP 800-57's 112-bit floor, in key sizes: RSA and
 * DSA keys of 2048 bits, EC keys on curves of 256 bits (P-256 and up);
 * Ed25519 and Ed448 pass. */
#include "internal/tls/tls.h"

#include <openssl/evp.h>

#include "internal/lib/err.h"

#define TLS_MIN_RSA_BITS 2048
#define TLS_MIN_EC_BITS 256
#define TLS_MIN_SECURITY_BITS 112

int tls_check_key_strength(EVP_PKEY *key, char *errmsg)
{
	if (key == NULL) {
		tm_errmsg_printf(errmsg, "certificate without a usable public "
					 "key");
		return TM_INVALID;
	}
	int bits = EVP_PKEY_get_bits(key);
	const char *kind = NULL;
	int min = 0;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		kind = "RSA";
		min = TLS_MIN_RSA_BITS;
		break;
	case EVP_PKEY_DSA:
		kind = "DSA";
		min = TLS_MIN_RSA_BITS;
		break;
	case EVP_PKEY_EC:
		kind = "EC";
		min = TLS_MIN_EC_BITS;
		break;
	default:
		if (EVP_PKEY_get_security_bits(key) >= TLS_MIN_SECURITY_BITS) {
			return 0;
		}
		tm_errmsg_printf(errmsg,
				 "%s key of %d bits is too weak (use RSA of "
				 "at least %d bits, or EC P-256 or larger)",
				 OBJ_nid2sn(EVP_PKEY_get_base_id(key)), bits,
				 TLS_MIN_RSA_BITS);
		return TM_INVALID;
	}
	if (bits >= min) {
		return 0;
	}
	tm_errmsg_printf(errmsg,
			 "%s key of %d bits is too weak (use RSA of at least "
			 "%d bits, or EC P-256 or larger)",
			 kind, bits, TLS_MIN_RSA_BITS);
	return TM_INVALID;
}
