/* Unit tests for internal/tls: key pairs on disk, fingerprints, strict
 * certificate parsing, contexts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"

struct fixture {
	char dir[64];
	char cert[128];
	char key[128];
	char errmsg[TM_ERRMSG_SIZE];
};

static int setup(void **state)
{
	struct fixture *f = tm_calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tm-tls-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		return -1;
	}
	snprintf(f->cert, sizeof f->cert, "%s/server.crt", f->dir);
	snprintf(f->key, sizeof f->key, "%s/server.key", f->dir);
	*state = f;
	return 0;
}

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nftw(f->dir, remove_cb, 8, FTW_DEPTH | FTW_PHYS);
	tm_free(f);
	return 0;
}

static char *read_file(const char *path)
{
	char *text;
	char errmsg[TM_ERRMSG_SIZE];
	int rv = fs_read_all(path, 1 << 20, &text, NULL, errmsg);
	assert_int_equal(rv, 0);
	return text;
}

static X509 *load_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static mode_t file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool has_san(X509 *x, int type, const char *text)
{
	GENERAL_NAMES *names =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	bool found = false;
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
		if (name->type != type) {
			continue;
		}
		if (type == GEN_DNS) {
			const char *dns = (const char *)ASN1_STRING_get0_data(
			    name->d.dNSName);
			found = found || strcmp(dns, text) == 0;
		} else {
			ASN1_OCTET_STRING *want = a2i_IPADDRESS(text);
			found = found ||
				ASN1_STRING_cmp(want, name->d.iPAddress) == 0;
			ASN1_OCTET_STRING_free(want);
		}
	}
	GENERAL_NAMES_free(names);
	return found;
}

/* A member's key pair: files, modes and every certificate field the
 * design fixes. */
static void test_keypair_generate_server(void **state)
{
	struct fixture *f = *state;
	int rv =
	    tls_ensure_keypair(f->cert, f->key, "member-one", true, f->errmsg);
	assert_int_equal(rv, 0);
	assert_int_equal(file_mode(f->key), 0600);
	assert_int_equal(file_mode(f->cert), 0644);

	X509 *x = load_cert(f->cert);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);

	/* CN */
	char cn[64];
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					      NID_commonName, cn,
					      sizeof cn) > 0);
	assert_string_equal(cn, "member-one");
	assert_int_equal(
	    X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)),
	    0);

	/* ECDSA P-256, self-signed by that key */
	EVP_PKEY *pub = X509_get0_pubkey(x);
	assert_true(EVP_PKEY_is_a(pub, "EC"));
	char group[32];
	size_t glen = 0;
	assert_int_equal(
	    EVP_PKEY_get_group_name(pub, group, sizeof group, &glen), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(X509_verify(x, pub), 1);

	/* serial: positive, at most 128 bits */
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_false(BN_is_zero(serial));
	assert_false(BN_is_negative(serial));
	assert_true(BN_num_bits(serial) <= 128);
	BN_free(serial);

	/* validity: about ten years from now */
	int days = 0;
	int secs = 0;
	assert_int_equal(
	    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)), 1);
	assert_in_range(days, 3650 - 1, 3653 + 1);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);

	/* SANs */
	char host[256];
	assert_int_equal(gethostname(host, sizeof host), 0);
	assert_true(has_san(x, GEN_DNS, host));
	assert_true(has_san(x, GEN_IPADD, "127.0.0.1"));
	assert_true(has_san(x, GEN_IPADD, "::1"));

	/* constraints and usages */
	assert_int_equal(X509_check_ca(x), 0);
	uint32_t ku = X509_get_key_usage(x);
	assert_true(ku & KU_DIGITAL_SIGNATURE);
	assert_false(ku & KU_KEY_CERT_SIGN);
	uint32_t xku = X509_get_extended_key_usage(x);
	assert_int_equal(xku, XKU_SSL_SERVER | XKU_SSL_CLIENT);
	X509_free(x);
}

static void test_keypair_generate_client(void **state)
{
	struct fixture *f = *state;
	int rv = tls_ensure_keypair(f->cert, f->key, "therm", false, f->errmsg);
	assert_int_equal(rv, 0);
	X509 *x = load_cert(f->cert);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	X509_free(x);
}

/* Two generations never share a key or a serial. */
static void test_keypair_fresh_each_time(void **state)
{
	struct fixture *f = *state;
	char cert2[160];
	char key2[160];
	snprintf(cert2, sizeof cert2, "%s/other.crt", f->dir);
	snprintf(key2, sizeof key2, "%s/other.key", f->dir);
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "a", true, f->errmsg), 0);
	assert_int_equal(tls_ensure_keypair(cert2, key2, "a", true, f->errmsg),
			 0);
	X509 *a = load_cert(f->cert);
	X509 *b = load_cert(cert2);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
					      X509_get0_serialNumber(b)),
			     0);
	assert_int_not_equal(
	    EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 1);
	X509_free(a);
	X509_free(b);
}

static void test_keypair_reload(void **state)
{
	struct fixture *f = *state;
	char fp1[TLS_FINGERPRINT_LEN + 1];
	char fp2[TLS_FINGERPRINT_LEN + 1];
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	char *pem1 = read_file(f->cert);
	char *key1 = read_file(f->key);
	assert_int_equal(tls_fingerprint_pem(pem1, fp1, f->errmsg), 0);

	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	char *pem2 = read_file(f->cert);
	char *key2 = read_file(f->key);
	assert_int_equal(tls_fingerprint_pem(pem2, fp2, f->errmsg), 0);
	assert_string_equal(fp1, fp2);
	assert_string_equal(pem1, pem2);
	assert_string_equal(key1, key2);
	tm_free(pem1);
	tm_free(pem2);
	tm_free(key1);
	tm_free(key2);
}

static void test_keypair_lone_key_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	char *key_before = read_file(f->key);
	assert_int_equal(unlink(f->cert), 0);

	int rv = tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg);
	assert_int_equal(rv, TM_CORRUPT);
	assert_non_null(strstr(f->errmsg, f->key));
	assert_non_null(strstr(f->errmsg, f->cert));
	assert_false(fs_exists(f->cert));
	char *key_after = read_file(f->key);
	assert_string_equal(key_before, key_after);
	tm_free(key_before);
	tm_free(key_after);
}

static void test_keypair_lone_cert_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	assert_int_equal(unlink(f->key), 0);
	int rv = tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg);
	assert_int_equal(rv, TM_CORRUPT);
	assert_false(fs_exists(f->key));
}

static void test_keypair_mismatch_refused(void **state)
{
	struct fixture *f = *state;
	char cert2[160];
	char key2[160];
	snprintf(cert2, sizeof cert2, "%s/other.crt", f->dir);
	snprintf(key2, sizeof key2, "%s/other.key", f->dir);
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "a", true, f->errmsg), 0);
	assert_int_equal(tls_ensure_keypair(cert2, key2, "b", true, f->errmsg),
			 0);
	int rv = tls_ensure_keypair(f->cert, key2, "a", true, f->errmsg);
	assert_int_equal(rv, TM_CORRUPT);
	assert_non_null(strstr(f->errmsg, "does not match"));
}

static void test_keypair_garbage_files(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(fs_write_atomic(f->cert, "nope\n", 5, 0644, f->errmsg),
			 0);
	assert_int_equal(fs_write_atomic(f->key, "nope\n", 5, 0600, f->errmsg),
			 0);
	int rv = tls_ensure_keypair(f->cert, f->key, "a", true, f->errmsg);
	assert_int_equal(rv, TM_CORRUPT);
	assert_non_null(strstr(f->errmsg, f->cert));
}

/* Our fingerprint is what `openssl x509 -fingerprint -sha256` prints,
 * lowercased and without colons. */
static void test_fingerprint_matches_openssl_cli(void **state)
{
	struct fixture *f = *state;
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		skip();
	}
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd,
		 "openssl x509 -noout -fingerprint -sha256 -in %s", f->cert);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[256] = "";
	assert_non_null(fgets(line, sizeof line, p));
	assert_int_equal(pclose(p), 0);

	const char *eq = strchr(line, '=');
	assert_non_null(eq);
	char expected[TLS_FINGERPRINT_LEN + 1];
	size_t n = 0;
	for (const char *s = eq + 1; *s != '\0' && *s != '\n'; s++) {
		if (*s == ':') {
			continue;
		}
		assert_true(n < TLS_FINGERPRINT_LEN);
		expected[n++] = (char)tolower((unsigned char)*s);
	}
	expected[n] = '\0';
	assert_int_equal(n, TLS_FINGERPRINT_LEN);

	char *pem = read_file(f->cert);
	char fp[TLS_FINGERPRINT_LEN + 1];
	assert_int_equal(tls_fingerprint_pem(pem, fp, f->errmsg), 0);
	assert_string_equal(fp, expected);

	X509 *x = load_cert(f->cert);
	char fp2[TLS_FINGERPRINT_LEN + 1];
	assert_int_equal(tls_fingerprint_x509(x, fp2), 0);
	assert_string_equal(fp2, expected);
	X509_free(x);
	tm_free(pem);
}

static void test_fingerprint_pem_garbage(void **state)
{
	struct fixture *f = *state;
	char fp[TLS_FINGERPRINT_LEN + 1];
	int rv = tls_fingerprint_pem("hello", fp, f->errmsg);
	assert_int_equal(rv, TM_INVALID);
	assert_true(strlen(f->errmsg) > 0);
	assert_int_equal(ERR_peek_error(), 0);
}

static void assert_parse_fails(struct fixture *f, const char *text,
			       const char *message_part)
{
	char *canonical = (char *)"untouched";
	char *cn = (char *)"untouched";
	char fp[TLS_FINGERPRINT_LEN + 1] = "";
	f->errmsg[0] = '\0';
	int rv = tls_cert_parse(text, &canonical, fp, &cn, f->errmsg);
	assert_int_equal(rv, TM_INVALID);
	assert_string_equal(canonical, "untouched");
	assert_string_equal(cn, "untouched");
	if (strstr(f->errmsg, message_part) == NULL) {
		fail_msg("message \"%s\" lacks \"%s\"", f->errmsg,
			 message_part);
	}
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_cert_parse_garbage(void **state)
{
	struct fixture *f = *state;
	assert_parse_fails(f, "", "no PEM certificate");
	assert_parse_fails(f, "garbage", "no PEM certificate");
	assert_parse_fails(f,
			   "-----BEGIN CERTIFICATE-----\n"
			   "!!!! not base64 !!!!\n"
			   "-----END CERTIFICATE-----\n",
			   "no PEM certificate");
	assert_parse_fails(f,
			   "-----BEGIN CERTIFICATE-----\n"
			   "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IERFUg==\n"
			   "-----END CERTIFICATE-----\n",
			   "invalid X.509 certificate");
	assert_parse_fails(f,
			   "-----BEGIN CERTIFICATE-----\n"
			   "MIIB\n", /* truncated */
			   "no PEM certificate");
}

static void test_cert_parse_refuses_extra_blocks(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	char *cert = read_file(f->cert);
	char *key = read_file(f->key);

	char *two = tm_asprintf("%s%s", cert, cert);
	assert_parse_fails(f, two, "exactly one certificate");
	char *with_key = tm_asprintf("%s%s", cert, key);
	assert_parse_fails(f, with_key, "exactly one certificate");
	assert_parse_fails(f, key, "expected a PEM \"CERTIFICATE\" block");

	tm_free(two);
	tm_free(with_key);
	tm_free(cert);
	tm_free(key);
}

static void test_cert_parse_ok(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "héllo", false, f->errmsg), 0);
	char *cert = read_file(f->cert);
	char expected_fp[TLS_FINGERPRINT_LEN + 1];
	assert_int_equal(tls_fingerprint_pem(cert, expected_fp, f->errmsg), 0);

	/* Surrounding text, as pasted from `openssl x509 -text`. */
	char *pasted = tm_asprintf("Certificate:\n  some text\n%s\n\n", cert);
	char *canonical = NULL;
	char *cn = NULL;
	char fp[TLS_FINGERPRINT_LEN + 1];
	int rv = tls_cert_parse(pasted, &canonical, fp, &cn, f->errmsg);
	assert_int_equal(rv, 0);
	assert_string_equal(canonical, cert);
	assert_string_equal(fp, expected_fp);
	assert_string_equal(cn, "héllo");
	tm_free(canonical);
	tm_free(cn);

	/* Optional outputs. */
	assert_int_equal(tls_cert_parse(cert, NULL, fp, NULL, f->errmsg), 0);
	assert_string_equal(fp, expected_fp);
	tm_free(pasted);
	tm_free(cert);
}

static void test_server_ctx(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "m", true, f->errmsg), 0);
	SSL_CTX *ctx = NULL;
	assert_int_equal(tls_server_ctx(f->cert, f->key, &ctx, f->errmsg), 0);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
	int mode = SSL_CTX_get_verify_mode(ctx);
	assert_true(mode & SSL_VERIFY_PEER);
	assert_false(mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	assert_non_null(SSL_CTX_get0_certificate(ctx));
	SSL_CTX_free(ctx);
}

static void test_server_ctx_missing_files(void **state)
{
	struct fixture *f = *state;
	SSL_CTX *ctx = NULL;
	int rv = tls_server_ctx(f->cert, f->key, &ctx, f->errmsg);
	assert_int_equal(rv, TM_TLS);
	assert_null(ctx);
	assert_non_null(strstr(f->errmsg, f->cert));
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_client_ctx(void **state)
{
	struct fixture *f = *state;
	SSL_CTX *ctx = NULL;
	assert_int_equal(tls_client_ctx(NULL, NULL, &ctx, f->errmsg), 0);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
	assert_null(SSL_CTX_get0_certificate(ctx));
	SSL_CTX_free(ctx);

	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "c", false, f->errmsg), 0);
	assert_int_equal(tls_client_ctx(f->cert, f->key, &ctx, f->errmsg), 0);
	assert_non_null(SSL_CTX_get0_certificate(ctx));
	SSL_CTX_free(ctx);
}

static void test_client_ctx_mismatched_key(void **state)
{
	struct fixture *f = *state;
	char cert2[160];
	char key2[160];
	snprintf(cert2, sizeof cert2, "%s/other.crt", f->dir);
	snprintf(key2, sizeof key2, "%s/other.key", f->dir);
	assert_int_equal(
	    tls_ensure_keypair(f->cert, f->key, "a", false, f->errmsg), 0);
	assert_int_equal(tls_ensure_keypair(cert2, key2, "b", false, f->errmsg),
			 0);
	SSL_CTX *ctx = NULL;
	int rv = tls_client_ctx(f->cert, key2, &ctx, f->errmsg);
	assert_int_equal(rv, TM_TLS);
	assert_null(ctx);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_errmsg_from_queue(void **state)
{
	struct fixture *f = *state;
	ERR_clear_error();
	tls_errmsg_from_queue(f->errmsg, "thing");
	assert_string_equal(f->errmsg, "thing: unknown TLS error");

	ERR_raise_data(ERR_LIB_SSL, SSL_R_UNSUPPORTED_PROTOCOL, "detail %d",
		       42);
	tls_errmsg_from_queue(f->errmsg, "handshake");
	assert_non_null(strstr(f->errmsg, "handshake: "));
	assert_non_null(strstr(f->errmsg, "unsupported protocol"));
	assert_non_null(strstr(f->errmsg, "detail 42"));
	assert_int_equal(ERR_peek_error(), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_keypair_generate_server),
	    T(test_keypair_generate_client),
	    T(test_keypair_fresh_each_time),
	    T(test_keypair_reload),
	    T(test_keypair_lone_key_refused),
	    T(test_keypair_lone_cert_refused),
	    T(test_keypair_mismatch_refused),
	    T(test_keypair_garbage_files),
	    T(test_fingerprint_matches_openssl_cli),
	    T(test_fingerprint_pem_garbage),
	    T(test_cert_parse_garbage),
	    T(test_cert_parse_refuses_extra_blocks),
	    T(test_cert_parse_ok),
	    T(test_server_ctx),
	    T(test_server_ctx_missing_files),
	    T(test_client_ctx),
	    T(test_client_ctx_mismatched_key),
	    T(test_errmsg_from_queue),
	};
	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
