/* therm's remote mode: addresses, the config directory, pin files, and
 * trust-on-first-use against a TLS server whose certificate changes. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/therm/remote.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "test/unit/client/cli_run.h"
#include "test/unit/client/fake_server.h"

#define RUN(...) cli_run(__VA_ARGS__, (const char *)NULL)

static void assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL) {
		fail_msg("\"%s\" not found in:\n%s", part, text);
	}
}

static void test_address_normalize(void **state)
{
	static const struct {
		const char *in;
		const char *address;
		const char *host;
		unsigned port;
	} good[] = {
	    {"node1", "node1:8443", "node1", 8443},
	    {"node1:9000", "node1:9000", "node1", 9000},
	    {"10.0.0.1:1", "10.0.0.1:1", "10.0.0.1", 1},
	    {"[::1]", "[::1]:8443", "::1", 8443},
	    {"[fe80::1%eth0]:8443", "[fe80::1%eth0]:8443", "fe80::1%eth0",
	     8443},
	    {"::1", "[::1]:8443", "::1", 8443},
	};
	static const char *bad[] = {
	    "",	    ":80",    "host:0", "host:65536", "host:x", "host:",
	    "[::1", "[::1]x", "a/b",	"a b",	      "[]:80",	"host:-1",
	};
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		char *address;
		char *host;
		unsigned port;
		assert_int_equal(therm_address_normalize(good[i].in, &address,
							 &host, &port, errmsg),
				 0);
		assert_string_equal(address, good[i].address);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		tm_free(address);
		tm_free(host);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *address = (char *)1;
		char *host = (char *)1;
		unsigned port;
		if (therm_address_normalize(bad[i], &address, &host, &port,
					    errmsg) != TM_INVALID) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
		assert_null(address);
		assert_null(host);
		assert_contains(errmsg, "invalid address");
	}
}

static void test_config_dir(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *dir;
	(void)state;

	setenv("XDG_CONFIG_HOME", "/x/config", 1);
	setenv("HOME", "/home/u", 1);
	dir = therm_config_dir(errmsg);
	assert_string_equal(dir, "/x/config/thermionic");
	tm_free(dir);
	/* A relative XDG_CONFIG_HOME is ignored, as the spec says. */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	dir = therm_config_dir(errmsg);
	assert_string_equal(dir, "/home/u/.config/thermionic");
	tm_free(dir);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	assert_null(therm_config_dir(errmsg));
	assert_contains(errmsg, "HOME");
	if (saved_home != NULL) {
		setenv("HOME", saved_home, 1);
		free(saved_home);
	}
}

static void test_pin_path(void **state)
{
	char *path;
	(void)state;
	path = therm_pin_path("/c", "127.0.0.1", 8443);
	assert_string_equal(path, "/c/servers/127.0.0.1_8443.fingerprint");
	tm_free(path);
	path = therm_pin_path("/c", "fe80::1%eth0", 9);
	assert_string_equal(path, "/c/servers/fe80__1_eth0_9.fingerprint");
	tm_free(path);
	path = therm_pin_path("/c", "node-1.example.org", 1);
	assert_string_equal(path,
			    "/c/servers/node-1.example.org_1.fingerprint");
	tm_free(path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_pin_read_write(void **state)
{
	const char *fp = "00112233445566778899aabbccddeeff00112233445566778899"
			 "aabbccddeeff";
	char dir[] = "/tmp/thermc-pin-XXXXXX";
	char errmsg[TM_ERRMSG_SIZE];
	char out[THERMIONIC_FINGERPRINT_LEN + 1];
	char path[128];
	char sub[96];
	struct stat st;
	bool found = true;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/servers", dir);
	snprintf(path, sizeof path, "%s/h_1.fingerprint", sub);

	assert_int_equal(therm_pin_read(path, out, &found, errmsg), 0);
	assert_false(found);

	assert_int_equal(therm_pin_write(path, fp, errmsg), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(therm_pin_read(path, out, &found, errmsg), 0);
	assert_true(found);
	assert_string_equal(out, fp);

	/* Hand-written pins: upper case, colons, blank lines are fine. */
	write_file(path, "\n  00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
			 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF \n");
	assert_int_equal(therm_pin_read(path, out, &found, errmsg), 0);
	assert_string_equal(out, fp);

	write_file(path, "not a fingerprint\n");
	assert_int_equal(therm_pin_read(path, out, &found, errmsg), TM_CORRUPT);
	assert_contains(errmsg, path);
	write_file(path, "");
	assert_int_equal(therm_pin_read(path, out, &found, errmsg), TM_CORRUPT);

	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

/* The whole remote flow against a TLS server. */

struct fixture {
	X509 *cert_a;
	EVP_PKEY *key_a;
	char fp_a[65];
	X509 *cert_b;
	EVP_PKEY *key_b;
	char fp_b[65];
	char home[64];
	char config[96];
	char pin_path[192];
	char address[64];
	struct fake_server server;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_cert_make("member-a", &f->cert_a, &f->key_a);
	fake_cert_fingerprint(f->cert_a, f->fp_a);
	fake_cert_make("member-b", &f->cert_b, &f->key_b);
	fake_cert_fingerprint(f->cert_b, f->fp_b);
	strcpy(f->home, "/tmp/thermc-home-XXXXXX");
	assert_non_null(mkdtemp(f->home));
	setenv("XDG_CONFIG_HOME", f->home, 1);
	snprintf(f->config, sizeof f->config, "%s/thermionic", f->home);
	fake_server_start_tls(&f->server, f->cert_a, f->key_a, 0);
	snprintf(f->address, sizeof f->address, "127.0.0.1:%d", f->server.port);
	snprintf(f->pin_path, sizeof f->pin_path,
		 "%s/servers/127.0.0.1_%d.fingerprint", f->config,
		 f->server.port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	fake_server_stop(&f->server);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->home);
	assert_int_equal(system(cmd), 0);
	unsetenv("XDG_CONFIG_HOME");
	X509_free(f->cert_a);
	EVP_PKEY_free(f->key_a);
	X509_free(f->cert_b);
	EVP_PKEY_free(f->key_b);
	free(f);
	return 0;
}

static void assert_pin_file(struct fixture *f, const char *fp)
{
	char out[THERMIONIC_FINGERPRINT_LEN + 1];
	char errmsg[TM_ERRMSG_SIZE];
	bool found = false;
	assert_int_equal(therm_pin_read(f->pin_path, out, &found, errmsg), 0);
	assert_true(found);
	assert_string_equal(out, fp);
}

static void restart_with(struct fixture *f, X509 *cert, EVP_PKEY *key)
{
	int port = f->server.port;
	fake_server_stop(&f->server);
	fake_server_start_tls(&f->server, cert, key, port);
}

static void test_first_contact_pins(void **state)
{
	struct fixture *f = *state;
	char message[256];
	char key_path[160];
	struct cli_result r;
	struct stat st;

	fake_server_sync(&f->server, "{\"api_version\":\"1.0\"}", NULL);
	r = RUN("--address", f->address, "info");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "api_version: 1.0\n");
	snprintf(message, sizeof message, "Pinned certificate %s for %s\n",
		 f->fp_a, f->address);
	assert_string_equal(r.err, message);
	cli_result_free(&r);
	assert_pin_file(f, f->fp_a);

	/* The client identity was created with a private key. */
	snprintf(key_path, sizeof key_path, "%s/client.key", f->config);
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->config, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_not_equal(f->server.client_fingerprint[0], '\0');

	/* Second contact: silent. */
	fake_server_sync(&f->server, "{\"api_version\":\"1.0\"}", NULL);
	r = RUN("--address", f->address, "info");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	cli_result_free(&r);
}

static void test_changed_certificate_is_refused(void **state)
{
	struct fixture *f = *state;
	char message[256];
	struct cli_result r;

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "info");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);

	restart_with(f, f->cert_b, f->key_b);
	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "config", "show");
	assert_int_equal(r.rc, 1);
	snprintf(message, sizeof message,
		 "therm: server certificate fingerprint %s does not match "
		 "pinned %s\n",
		 f->fp_b, f->fp_a);
	assert_contains(r.err, message);
	assert_contains(r.err, f->pin_path);
	assert_contains(r.err, "delete");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	assert_pin_file(f, f->fp_a);

	/* Re-pin explicitly with --fingerprint. */
	r = RUN("--address", f->address, "--fingerprint", f->fp_b, "config",
		"show");
	assert_int_equal(r.rc, 0);
	snprintf(message, sizeof message, "Pinned certificate %s for %s\n",
		 f->fp_b, f->address);
	assert_string_equal(r.err, message);
	cli_result_free(&r);
	assert_pin_file(f, f->fp_b);

	/* Or by deleting the pin file. */
	restart_with(f, f->cert_a, f->key_a);
	assert_int_equal(unlink(f->pin_path), 0);
	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "config", "show");
	assert_int_equal(r.rc, 0);
	assert_contains(r.err, f->fp_a);
	cli_result_free(&r);
	assert_pin_file(f, f->fp_a);
}

static void test_explicit_fingerprint_mismatch(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;
	struct stat st;

	r = RUN("--address", f->address, "--fingerprint", f->fp_b, "info");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "does not match pinned");
	assert_contains(r.err, "--fingerprint");
	cli_result_free(&r);
	/* Nothing is pinned after a failed handshake. */
	assert_int_not_equal(stat(f->pin_path, &st), 0);
	assert_int_equal(fake_server_n_requests(&f->server), 0);
}

static void test_corrupt_pin_file(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;
	char servers[128];

	snprintf(servers, sizeof servers, "%s/servers", f->config);
	mkdir(f->config, 0700);
	mkdir(servers, 0700);
	write_file(f->pin_path, "garbage\n");
	r = RUN("--address", f->address, "info");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "does not hold a certificate fingerprint");
	assert_contains(r.err, "delete it");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_connections(&f->server), 0);
}

static void test_version_unreachable_remote(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;
	int port = f->server.port;
	char address[64];

	fake_server_stop(&f->server);
	snprintf(address, sizeof address, "127.0.0.1:%d", port);
	r = RUN("--address", address, "version", "--format", "json");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
			    "{\n  \"client_version\": \"0.1.0\",\n"
			    "  \"server_version\": \"unreachable\"\n}\n");
	cli_result_free(&r);
	fake_server_start_tls(&f->server, f->cert_a, f->key_a, 0);
}

/* A loopback port nobody listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static const char *info_json = "{\"api_version\":\"1.0\"}";

/* --address with several members: a refused one is skipped, and each
 * address is pinned on its own. */
static void test_failover_pins_each_address(void **state)
{
	struct fixture *f = *state;
	struct fake_server other;
	char other_pin[192];
	char message[256];
	char list[160];
	struct cli_result r;
	struct stat st;
	int port = closed_port();
	char closed_pin[192];

	snprintf(list, sizeof list, "127.0.0.1:%d,%s", port, f->address);
	snprintf(closed_pin, sizeof closed_pin,
		 "%s/servers/127.0.0.1_%d.fingerprint", f->config, port);
	fake_server_sync(&f->server, info_json, NULL);
	fake_server_sync(&f->server, info_json, NULL);
	r = RUN("--address", list, "info");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "api_version: 1.0\n");
	snprintf(message, sizeof message, "Pinned certificate %s for %s\n",
		 f->fp_a, f->address);
	assert_string_equal(r.err, message);
	cli_result_free(&r);
	assert_pin_file(f, f->fp_a);
	assert_int_not_equal(stat(closed_pin, &st), 0);

	/* Another member, with another certificate, first in the list: it
	 * gets a pin of its own; the first member's stays. */
	fake_server_start_tls(&other, f->cert_b, f->key_b, 0);
	snprintf(list, sizeof list, "127.0.0.1:%d,%s", other.port, f->address);
	snprintf(other_pin, sizeof other_pin,
		 "%s/servers/127.0.0.1_%d.fingerprint", f->config, other.port);
	fake_server_sync(&other, info_json, NULL);
	fake_server_sync(&other, info_json, NULL);
	r = RUN("--address", list, "info");
	assert_int_equal(r.rc, 0);
	assert_contains(r.err, f->fp_b);
	cli_result_free(&r);
	assert_int_equal(stat(other_pin, &st), 0);
	assert_pin_file(f, f->fp_a);
	assert_int_equal(fake_server_n_requests(&f->server), 2);

	/* That member down: the next one, already pinned, answers. */
	fake_server_stop(&other);
	fake_server_sync(&f->server, info_json, NULL);
	fake_server_sync(&f->server, info_json, NULL);
	r = RUN("--address", list, "info");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	unlink(other_pin);
}

/* A pin mismatch is not a connection failure: no failover past it. */
static void test_failover_stops_at_pin_mismatch(void **state)
{
	struct fixture *f = *state;
	struct fake_server other;
	char list[160];
	struct cli_result r;

	fake_server_start_tls(&other, f->cert_b, f->key_b, 0);
	snprintf(list, sizeof list, "%s,127.0.0.1:%d", f->address, other.port);
	r = RUN("--address", list, "--fingerprint", f->fp_b, "info");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "does not match pinned");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&other), 0);
	fake_server_stop(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_address_normalize),
	    cmocka_unit_test(test_config_dir),
	    cmocka_unit_test(test_pin_path),
	    cmocka_unit_test(test_pin_read_write),
	    cmocka_unit_test_setup_teardown(test_first_contact_pins, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_changed_certificate_is_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_explicit_fingerprint_mismatch,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_pin_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_version_unreachable_remote,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failover_pins_each_address,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failover_stops_at_pin_mismatch,
					    setup, teardown),
	};
	return cmocka_run_group_tests_name("client-pin", tests, NULL, NULL);
}
