/* A member's (or client's) own key pair: generated once, then loaded.
 *
 * Happy path, first start: neither file exists -> ECDSA P-256 key ->
 * self-signed X.509 v3 certificate -> key written (0600) then certificate
 * (0644), each atomically and fsync'd.
 * Happy path, later starts: both files exist -> both parse -> the key
 * matches the certificate.
 * Failures: only one of the two files exists (refused, nothing written);
 * unreadable or unparsable files; a key that does not match the
 * certificate; key generation, signing or writing fails. */
#include "internal/tls/tls.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define KEYPAIR_MAX_FILE (1 << 20)
#define KEYPAIR_VALID_YEARS 10
/* notBefore is set a little in the past so that a peer whose clock lags
 * ours does not see a certificate from the future. */
#define KEYPAIR_BACKDATE_SECONDS (60 * 60)

static int keypair_set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn != NULL;
	/* 128 random bits; retry the (astronomically unlikely) zero, which
	 * RFC 5280 forbids. */
	while (ok &&
	       (ok = BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)) ==
		   1 &&
	       BN_is_zero(bn)) {
	}
	ok = ok && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : TM_TLS;
}

static int keypair_set_validity(X509 *x)
{
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL) {
		return TM_TLS;
	}
	tm.tm_year += KEYPAIR_VALID_YEARS;
	time_t not_after = timegm(&tm);
	if (ASN1_TIME_set(X509_getm_notBefore(x),
			  now - KEYPAIR_BACKDATE_SECONDS) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL) {
		return TM_TLS;
	}
	return 0;
}

static int keypair_add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *val)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, val);
	if (ext == NULL) {
		return TM_TLS;
	}
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : TM_TLS;
}

static bool keypair_push_name(GENERAL_NAMES *names, int type, void *value)
{
	GENERAL_NAME *name = GENERAL_NAME_new();
	if (name == NULL) {
		return false;
	}
	GENERAL_NAME_set0_value(name, type, value);
	if (sk_GENERAL_NAME_push(names, name) <= 0) {
		GENERAL_NAME_free(name);
		return false;
	}
	return true;
}

/* A DNS name must be printable ASCII; an odd hostname is left out rather
 * than failing the whole certificate. */
static bool keypair_dns_ok(const char *host)
{
	if (host[0] == '\0') {
		return false;
	}
	for (const char *p = host; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~') {
			return false;
		}
	}
	return true;
}

/* subjectAltName = DNS:<hostname>, IP:127.0.0.1, IP:::1. Built by hand
 * rather than from a config string so that no hostname can inject extra
 * names. */
static int keypair_add_san(X509 *x)
{
	char host[256];
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	int rv = TM_TLS;
	if (names == NULL) {
		return TM_TLS;
	}
	if (gethostname(host, sizeof host) != 0) {
		host[0] = '\0';
	}
	host[sizeof host - 1] = '\0';
	if (keypair_dns_ok(host)) {
		ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
		if (dns == NULL || ASN1_STRING_set(dns, host, -1) != 1) {
			ASN1_IA5STRING_free(dns);
			goto out;
		}
		if (!keypair_push_name(names, GEN_DNS, dns)) {
			ASN1_IA5STRING_free(dns);
			goto out;
		}
	} else {
		LOGW("tls: hostname \"%s\" is not usable as a DNS name; "
		     "left out of the certificate",
		     host);
	}
	const char *ips[] = {"127.0.0.1", "::1"};
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(ips[i]);
		if (ip == NULL) {
			goto out;
		}
		if (!keypair_push_name(names, GEN_IPADD, ip)) {
			ASN1_OCTET_STRING_free(ip);
			goto out;
		}
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0,
			      X509V3_ADD_DEFAULT) == 1) {
		rv = 0;
	}
out:
	GENERAL_NAMES_free(names);
	return rv;
}

static int keypair_add_extensions(X509 *x, bool server)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (keypair_add_ext(x, &v3, NID_basic_constraints,
			    "critical,CA:FALSE") != 0 ||
	    keypair_add_ext(x, &v3, NID_key_usage,
			    "critical,digitalSignature") != 0 ||
	    keypair_add_ext(x, &v3, NID_ext_key_usage,
			    server ? "serverAuth,clientAuth" : "clientAuth") !=
		0 ||
	    keypair_add_ext(x, &v3, NID_subject_key_identifier, "hash") != 0) {
		return TM_TLS;
	}
	return keypair_add_san(x);
}

static X509 *keypair_make_cert(EVP_PKEY *key, const char *common_name,
			       bool server, char *errmsg)
{
	X509 *x = X509_new();
	if (x == NULL) {
		goto err;
	}
	X509_NAME *name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    keypair_set_serial(x) != 0 || keypair_set_validity(x) != 0 ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)common_name, -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    keypair_add_extensions(x, server) != 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		goto err_after_new;
	}
	return x;

err_after_new:
	X509_free(x);
err:
	tls_errmsg_from_queue(errmsg, "create certificate");
	return NULL;
}

/* PEM text of the key (PKCS#8, unencrypted) or of the certificate. */
static int keypair_pem(EVP_PKEY *key, X509 *cert, char **out, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL) {
		return TM_TLS;
	}
	int ok = key != NULL ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
							NULL, NULL)
			     : PEM_write_bio_X509(bio, cert);
	if (ok != 1) {
		BIO_free(bio);
		return TM_TLS;
	}
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	*out = tm_malloc((size_t)n);
	memcpy(*out, data, (size_t)n);
	*len = (size_t)n;
	BIO_free(bio);
	return 0;
}

static int keypair_generate(const char *cert_path, const char *key_path,
			    const char *common_name, bool server, char *errmsg)
{
	char *pem;
	size_t len;
	int rv = TM_TLS;

	ERR_clear_error();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (key == NULL) {
		tls_errmsg_from_queue(errmsg, "generate ECDSA P-256 key");
		return TM_TLS;
	}
	X509 *cert = keypair_make_cert(key, common_name, server, errmsg);
	if (cert == NULL) {
		goto err_after_key;
	}
	/* Key first: a crash in between leaves a lone key, which the next
	 * start refuses instead of pairing it with a new certificate. */
	if (keypair_pem(key, NULL, &pem, &len) != 0) {
		tls_errmsg_from_queue(errmsg, "encode key");
		goto err_after_cert;
	}
	rv = fs_write_atomic(key_path, pem, len, 0600, errmsg);
	OPENSSL_cleanse(pem, len);
	tm_free(pem);
	if (rv != 0) {
		goto err_after_cert;
	}
	if (keypair_pem(NULL, cert, &pem, &len) != 0) {
		tls_errmsg_from_queue(errmsg, "encode certificate");
		rv = TM_TLS;
		goto err_after_cert;
	}
	rv = fs_write_atomic(cert_path, pem, len, 0644, errmsg);
	tm_free(pem);
	if (rv == 0) {
		char fp[TLS_FINGERPRINT_LEN + 1];
		tls_fingerprint_x509(cert, fp);
		LOGI("tls: generated certificate %s (CN=%s, fingerprint %s)",
		     cert_path, common_name, fp);
	}

err_after_cert:
	X509_free(cert);
err_after_key:
	EVP_PKEY_free(key);
	return rv;
}

/* Both files exist: check that they parse and belong together. */
static int keypair_check(const char *cert_path, const char *key_path,
			 char *errmsg)
{
	char *text;
	int rv = fs_read_all(cert_path, KEYPAIR_MAX_FILE, &text, NULL, errmsg);
	if (rv != 0) {
		return rv;
	}
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	ERR_clear_error();
	BIO *bio = BIO_new_mem_buf(text, -1);
	if (bio != NULL) {
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	tm_free(text);
	if (cert == NULL) {
		tls_errmsg_from_queue(errmsg, "certificate");
		tm_errmsg_wrapf(errmsg, "%s", cert_path);
		return TM_CORRUPT;
	}

	rv = fs_read_all(key_path, KEYPAIR_MAX_FILE, &text, NULL, errmsg);
	if (rv != 0) {
		goto out;
	}
	bio = BIO_new_mem_buf(text, -1);
	if (bio != NULL) {
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	OPENSSL_cleanse(text, strlen(text));
	tm_free(text);
	if (key == NULL) {
		tls_errmsg_from_queue(errmsg, "private key");
		tm_errmsg_wrapf(errmsg, "%s", key_path);
		rv = TM_CORRUPT;
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		tm_errmsg_printf(errmsg, "key %s does not match certificate %s",
				 key_path, cert_path);
		rv = TM_CORRUPT;
	}
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return rv;
}

int tls_ensure_keypair(const char *cert_path, const char *key_path,
		       const char *common_name, bool server, char *errmsg)
{
	PRE(cert_path != NULL && key_path != NULL && common_name != NULL);
	bool have_cert = fs_exists(cert_path);
	bool have_key = fs_exists(key_path);
	if (have_cert != have_key) {
		tm_errmsg_printf(errmsg,
				 "found %s but not %s; refusing to generate a "
				 "new key pair over half of an old one "
				 "(restore the missing file or remove both)",
				 have_cert ? cert_path : key_path,
				 have_cert ? key_path : cert_path);
		return TM_CORRUPT;
	}
	if (have_cert) {
		struct stat st;
		if (stat(key_path, &st) == 0 && (st.st_mode & 077) != 0) {
			LOGW("tls: private key %s is accessible by other "
			     "users (mode %03o)",
			     key_path, (unsigned)(st.st_mode & 0777));
		}
		return keypair_check(cert_path, key_path, errmsg);
	}
	return keypair_generate(cert_path, key_path, common_name, server,
				errmsg);
}
