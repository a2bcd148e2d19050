/* The daemon's state, shared by the files of this module only. */
#ifndef TM_DAEMON_PRIV_H
#define TM_DAEMON_PRIV_H

#include <openssl/ssl.h>

#include "internal/daemon/daemon.h"
#include "internal/tls/tls.h"

struct daemon {
	uv_loop_t *loop;
	char *dir;          /* state directory, owned */
	enum daemon_state state;
	int exit_code;
	int lock_fd;        /* flock'ed DIR/daemon.lock, -1 if none */

	char *server_name;  /* hostname, owned */
	char *cert_pem;     /* member certificate, owned */
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
	SSL_CTX *tls_ctx;   /* server context, owned */

	struct nodedb *nodedb; /* owned */
	cJSON *config;         /* current config, owned */

	struct rest_server *rest;          /* owned; NULL once closed */
	struct listener *unix_listener;    /* owned; NULL once closed */
	struct listener *https_listener;   /* owned; NULL if not listening */
	int listeners_closing;             /* close callbacks still pending */
	uv_signal_t signals[2];
	bool signals_alive;
	int signals_closing;
};

void daemon_set_state(struct daemon *d, enum daemon_state next);

#endif /* TM_DAEMON_PRIV_H */
