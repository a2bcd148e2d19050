/* The daemon's state, shared by the files of this module only. */
#ifndef TM_DAEMON_PRIV_H
#define TM_DAEMON_PRIV_H

#include <openssl/ssl.h>

#include "internal/daemon/cluster_read_index.h"
#include "internal/raft/lease.h"
#include "internal/daemon/cluster_relay.h"
#include "internal/daemon/daemon.h"
#include "internal/daemon/trust_set.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/looplag.h"
#include "internal/membership/token.h"
#include "internal/tls/tls.h"

enum cluster_phase {
	CLUSTER_STANDALONE,
	CLUSTER_JOINING,
	CLUSTER_MEMBER,
};

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

	/* Cluster membership (cluster*.c). */
	struct nodedb_member self; /* raft id, name, clustered */
	enum cluster_phase phase;
	char cluster_fingerprint[TLS_FINGERPRINT_LEN + 1]; /* "" standalone */
	char cluster_message[TM_ERRMSG_SIZE]; /* progress or last error */
	uint64_t join_target; /* raft index a joining member must reach */
	bool recover_at_open; /* enable: raft_recover at the next open */
	bool enabling;	      /* an enable is under way */
	struct cluster_reopen *reopen; /* while the global part restarts */
	/* Members' own certificates: whom raft traffic and member calls
	 * are taken from (mirrored from the global database), with their
	 * raft ids, to refuse members lost in a recovery (cluster_lost.c).
	 * Owned. */
	struct cluster_member_cert {
		char fingerprint[TLS_FINGERPRINT_LEN + 1];
		uint64_t id;
		bool spare;
	} *member_certs;
	size_t n_member_certs;
	uv_timer_t rebalance; /* leader: roles follow the members table */
	bool rebalance_alive;
	bool rebalance_busy; /* a raft_add/raft_assign is in flight */
	bool handover_busy;  /* stopping: leadership transfer in flight */
	/* The local member list's addresses (cluster_address.c). Owned. */
	struct cluster_member_address {
		uint64_t id;
		char address[TOKEN_ADDRESS_MAX + 1];
	} *member_addresses;
	size_t n_member_addresses;
	struct cluster_announce *announce; /* owned; a move told the leader */
	struct cluster_heartbeat *heartbeat; /* owned; NULL until started */
	bool heartbeat_alive;		     /* its timer, until closed */
	struct cluster_read_index read_index; /* follower: asks to the leader */
	uint64_t confirm_first; /* leader: the voter asked first in a round */
	struct lease lease;	/* leader: reads confirmed without asking */
	bool lease_renewing;	/* a round for the lease is out */
	uint64_t lease_dropped_term; /* no lease in this term: handed over */
	uint64_t lease_reads;	/* read batches confirmed by the lease */
	struct cluster_relay relay;	      /* follower: writes to relay */
	void (*ready_cb)(struct daemon *d, void *arg, int status,
			 const char *errmsg); /* daemon_when_ready */
	void *ready_arg;

	struct nodedb *nodedb;	   /* owned */
	bool check_running; /* a periodic content check (heartbeat) */
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
	/* The effective configuration is CONFIG, rebuilt from the others by
	 * daemon_config_refresh(): LOCAL_CONFIG (local.db) merged with
	 * GLOBAL_CONFIG (the global database's config table) and, until
	 * they have moved there, LEGACY_GLOBAL (global keys an older
	 * version left in local.db; the table wins over them). */
	cJSON *config;	      /* owned */
	cJSON *local_config;  /* owned */
	cJSON *global_config; /* owned */
	cJSON *legacy_global; /* owned; NULL once moved (migrate.c) */
	struct daemon_migration *migration; /* while legacy rows move */

	/* The trust store (trust.c): the global database's certificates
	 * table, rebuilt when an applied entry changes it. Empty until the
	 * global database has been read. */
	struct trust_set trust;

	struct hclient *hclient; /* calls to other members; NULL once closed */
	bool hclient_closing;
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
	/* Events (events_*.c, doc/events.md). */
	struct events_bus *events; /* owned; NULL before start / once freed */
	uv_async_t ev_tap;	   /* log lines from any thread */
	bool ev_tap_alive;
	uv_timer_t ev_leader_timer; /* watches raft's leader */
	bool ev_leader_alive;
	uint64_t ev_leader;	       /* raft id of the leader last seen */
	struct ev_member *ev_members; /* the members table as last seen */
	size_t n_ev_members;
	bool ev_members_loaded;
	struct events_relay *ev_relay; /* NULL once closed */
	int ev_announced_level;	       /* logging level told to others */
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
/* daemon.c: the global schema is up to date: read the cluster-wide
 * configuration and the trust store, move what an older version left in
 * local.db (migrate.c), then the member is READY. */
void daemon_global_ready(struct daemon *d);
/* daemon.c: CB(D, ARG, 0, "") once the member is READY again (after a
 * restart of its global part), or with an error if it stops first. One
 * waiter at a time. */
typedef void (*daemon_ready_cb)(struct daemon *d, void *arg, int status,
				const char *errmsg);
void daemon_when_ready(struct daemon *d, daemon_ready_cb cb, void *arg);
/* The member stops: the waiter gets TM_SHUTDOWN and ERRMSG. */
void daemon_ready_waiter_fail(struct daemon *d, const char *errmsg);
/* stop.c: finish stopping if nothing is left open. */
void daemon_maybe_stopped(struct daemon *d);

/* cluster.c */
/* After the local database is open: who this member is (migrating the
 * member row from raft_nodes if needed), and for a clustered member the
 * cluster certificate on the HTTPS port. */
int cluster_identity_load(struct daemon *d, char *errmsg);
/* cluster_address.c: the raft address this member starts raft with:
 * its core.https_address if usable, else the member list's (owned). */
char *cluster_raft_address(struct daemon *d);
/* Cache the addresses of the local member list NODES (borrowed). */
void cluster_addresses_load(struct daemon *d,
			    const struct nodedb_raft_node *nodes, size_t n);
/* The address the local member list holds for ID, into BUF. */
bool cluster_member_address(struct daemon *d, uint64_t id, char *buf,
			    size_t size);
/* Called every heartbeat tick: a member whose core.https_address is not
 * the list's tells the leader. */
void cluster_address_tick(struct daemon *d);
void cluster_address_free(struct daemon *d);
/* The transport's admission of a certificate fingerprint. */
bool cluster_is_member_fingerprint(struct daemon *d, const char *fp);
/* Reload the member fingerprints from the local database. */
void cluster_load_fingerprints(struct daemon *d);
/* Start watching the members table of the (new) global database. */
void cluster_watch(struct daemon *d);
/* Serve the cluster certificate from now on. */
int cluster_use_certificate(struct daemon *d, char *errmsg);

/* cluster_reopen.c: close raft and the global database, run PREPARE
 * (wipe, new identity...), open them again; DONE runs when the new
 * global database is open (status 0) or failed. The daemon is JOINING
 * meanwhile (API requests for the global database get 503). */
typedef int (*cluster_prepare_fn)(struct daemon *d, void *arg, char *errmsg);
typedef void (*cluster_reopened_fn)(struct daemon *d, void *arg, int status,
				    const char *errmsg);
void cluster_reopen(struct daemon *d, cluster_prepare_fn prepare,
		    cluster_reopened_fn done, void *arg);
/* daemon_stop during a reopen: true if the reopen holds the global part
 * (stop waits for it). */
bool cluster_reopen_busy(struct daemon *d);

/* cluster_confirm.c: confirm leadership for linearizable reads by asking
 * the voters for their term (gdb_set_confirm), on the global database
 * just opened. */
void cluster_confirm_attach(struct daemon *d);

/* cluster_members.c */
void cluster_rebalance_start(struct daemon *d);
void cluster_rebalance_stop(struct daemon *d);
/* cluster_heartbeat.c: start (or restart) the tick; stop it (closed
 * while DRAINING); free what is left once the HTTPS client is closed. */
void cluster_heartbeat_start(struct daemon *d);
void cluster_heartbeat_stop(struct daemon *d);
void cluster_heartbeat_free(struct daemon *d);
/* cluster_handover.c: stopping leader: transfer leadership (sets
 * handover_busy until raft calls back). */
void cluster_handover(struct daemon *d);
/* Rebalance now (after a join or a role change). */
void cluster_rebalance_soon(struct daemon *d);
/* daemon.c: apply the effective configuration (request limits, connection
 * caps, the global database's limits, raft's snapshot settings). */
void daemon_config_apply(struct daemon *d);

/* config_store.c: the configuration split by where keys live. */
/* Split ALL (owned, taken), as loaded from local.db, into local keys and
 * legacy global keys; build the effective configuration (nothing is
 * applied: the caller starts with it). */
void daemon_config_init(struct daemon *d, cJSON *all);
/* Rebuild d->config from its parts and apply it if it changed. */
void daemon_config_refresh(struct daemon *d);
/* Read the global config table again (on the loop, through gdb's route
 * connection); a missing table reads as empty; bad rows are skipped with a
 * warning. Then refresh. */
void daemon_config_reload_global(struct daemon *d);
/* What local.db's config table must hold: local keys, plus legacy global
 * keys not yet moved. Owned by the caller. */
cJSON *daemon_config_local_rows(struct daemon *d);
/* gdb_watch callback for the config table. */
void daemon_config_watch_cb(void *arg, const char *table);

/* trust.c */
/* Rebuild the trust set from the certificates table, then close the
 * connections of certificates no longer trusted. */
void daemon_trust_reload(struct daemon *d);
/* gdb_watch callback for the certificates table. */
void daemon_trust_watch_cb(void *arg, const char *table);
/* The REST server's trust callback: client or member certificates. */
bool daemon_trust_cb(void *data, const char *fingerprint);
/* Is FP (64 hex digits) a trusted admin client's certificate (type
 * client)? A member's own (type server)? */
bool daemon_trust_client(struct daemon *d, const char *fp);
bool daemon_trust_member(struct daemon *d, const char *fp);

/* migrate.c: move global config keys and certificates that an older
 * version stored in local.db to the global database (one replicated
 * write), then remove them from local.db; calls daemon_global_migrated()
 * when done, whether it worked (logged) or not (logged; retried at the
 * next start). */
void daemon_migrate(struct daemon *d);
void daemon_global_migrated(struct daemon *d);

#endif /* TM_DAEMON_PRIV_H */
