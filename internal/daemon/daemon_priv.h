/* The daemon's state, shared by the files of this module only. */
#ifndef TM_DAEMON_PRIV_H
#define TM_DAEMON_PRIV_H

#include <openssl/ssl.h>

#include "internal/daemon/daemon.h"
#include "internal/lib/looplag.h"
#include "internal/tls/tls.h"

struct daemon {
	uv_loop_t *loop;
	char *dir; /* state directory, owned */
	enum daemon_state state;
	int exit_code;
	int lock_fd; /* flock'ed DIR/daemon.lock, -1 if none */

	char *server_name; /* hostname, owned */
	char *cert_pem;	   /* member certificate, owned */
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
	SSL_CTX *tls_ctx;	 /* server context, owned */
	SSL_CTX *tls_client_ctx; /* the member's certificate, for raft's
				    connections to other members; owned */

	/* Whom raft traffic is taken from and sent to (global.c,
	 * raft_admit). Until clustering lands a member is never clustered
	 * and its member list is empty. */
	bool clustered;
	char **member_fingerprints; /* owned */
	size_t n_member_fingerprints;

	struct nodedb *nodedb;	   /* owned */
	struct gdb *gdb;	   /* owned; NULL until open / once closed */
	struct raftnode *raftnode; /* owned; NULL until open / once closed */
	struct schema_upgrade *schema_upgrade; /* while the schema is checked */
	bool raft_closing;
	bool gdb_closing;
	struct pool *pool;     /* owned: the global database's readers and
				  batches; NULL once closed */
	struct pool *api_pool; /* owned: the API's own work off the loop
				  (target local, backups); NULL once closed */
	int pools_closing;
	cJSON *config; /* current config, owned */

	struct rest_server *rest;	 /* owned; NULL once closed */
	struct listener *unix_listener;	 /* owned; NULL once closed */
	struct listener *https_listener; /* owned; NULL if not listening */
	int listeners_closing;		 /* close callbacks still pending */
	uv_timer_t drain_timer; /* while DRAINING: is anything in flight? */
	bool drain_alive;
	uint64_t drain_deadline; /* uv_now() in ms */
	uv_signal_t signals[2];
	bool signals_alive;
	int signals_closing;
	struct looplag lag; /* the loop's lag, measured while running */
	bool lag_alive;	    /* ... until its close callback */
};

void daemon_set_state(struct daemon *d, enum daemon_state next);

/* startcheck.c: remove DIR/backup-* files left by a killed backup. */
void daemon_remove_backup_leftovers(struct daemon *d);
/* Before opening local.db: refuse (TM_CORRUPT, errmsg "refusing to
 * start: ...", advice logged) when it is missing or empty while
 * DIR/global holds raft state. */
int daemon_check_local_db(struct daemon *d, char *errmsg);
/* After opening it: refuse when it names no raft member while DIR/global
 * holds raft state. */
int daemon_check_raft_member(struct daemon *d, char *errmsg);
/* local.db failed to open or load (ERRMSG says why): prefix ERRMSG with
 * "refusing to start" and log what to do. */
void daemon_local_db_failed(struct daemon *d, char *errmsg);

/* global.c */
int daemon_global_open(struct daemon *d, char *errmsg);
/* Give the global database the limits of the current config. */
void daemon_global_limits(struct daemon *d);
/* Check and update the global schema; calls daemon_global_ready() when
 * done, or stops the daemon on failure. */
void daemon_global_schema(struct daemon *d);
/* Stop a schema check waiting to retry (daemon_stop). */
void daemon_global_schema_cancel(struct daemon *d);
/* daemon.c: the global database is usable; the member is READY. */
void daemon_global_ready(struct daemon *d);

#endif /* TM_DAEMON_PRIV_H */
