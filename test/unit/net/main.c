/* The net unit tests: one executable, one cmocka group per file. */
#include <signal.h>

int test_address_run(void);
int test_peer_closed_run(void);
int test_peer_key_run(void);
int test_caps_run(void);
int test_connect_cancel_run(void);
int test_tls_conn_run(void);
int test_unix_run(void);

int main(void)
{
	/* As in the daemon: a write to a closed socket is an error, not a
	 * signal. */
	signal(SIGPIPE, SIG_IGN);
	int failed = 0;
	failed += test_address_run();
	failed += test_tls_conn_run();
	failed += test_unix_run();
	failed += test_peer_closed_run();
	failed += test_peer_key_run();
	failed += test_caps_run();
	failed += test_connect_cancel_run();
	return failed == 0 ? 0 : 1;
}
