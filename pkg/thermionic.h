/* libthermionic: the public C client library for thermionicd's REST API.
 *
 * This header is the whole API. The library talks to one daemon over its
 * local unix socket (root only, no certificate) or over HTTPS with mutual
 * TLS 1.3, using one libcurl easy handle per client so that consecutive
 * requests reuse one keep-alive connection. Every call blocks until it has
 * an answer, an error, or the client's timeout passes.
 *
 * Conventions
 * -----------
 * - Functions that can fail return 0 (THERMIONIC_OK) or one of the positive
 *   codes of enum thermionic_error. The detail of the last failure on a
 *   client is in thermionic_errmsg(client): for an error envelope it is the
 *   server's own "error" string, unchanged.
 * - Strings passed in are borrowed for the duration of the call only.
 * - Everything a function hands back through an out-parameter is owned by
 *   the caller: cJSON values are released with cJSON_Delete(), strings with
 *   thermionic_free(). On failure out-parameters are set to NULL.
 * - JSON numbers: cJSON keeps numbers as doubles, which cannot hold every
 *   64-bit integer. Every number item in a cJSON value handed back by the
 *   library also carries the number's literal text, exactly as the server
 *   wrote it, in its valuestring (freed by cJSON_Delete like any other).
 *   The SQL functions use it to return exact INTEGER values.
 * - A client is not thread-safe: use it from one thread at a time. Distinct
 *   clients are independent. The first client created initialises libcurl
 *   globally (curl_global_init), which is not thread-safe in itself: create
 *   the first client before starting threads, or call curl_global_init()
 *   yourself first.
 * - Identity: a certificate is named by its "fingerprint", the lowercase
 *   hex SHA-256 of its DER encoding (64 characters).
 *
 * Link with -lthermionic (pkg-config: thermionic); it needs libcurl (built
 * against OpenSSL), OpenSSL, cJSON and libwslay (the event stream). */
#ifndef THERMIONIC_H
#define THERMIONIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define THERMIONIC_API __attribute__((visibility("default")))
#else
#define THERMIONIC_API
#endif

/* Version of the library, also sent as the User-Agent "libthermionic/V". */
#define THERMIONIC_CLIENT_VERSION "0.1.0"

/* Hex characters in a fingerprint, without the terminating NUL. */
#define THERMIONIC_FINGERPRINT_LEN 64

/* Responses larger than this are refused (THERMIONIC_ERR_TOOBIG); so are
 * request bodies. */
#define THERMIONIC_MAX_BODY_BYTES ((size_t)256 * 1024 * 1024)

/* Default timeouts; see thermionic_set_timeout(). */
#define THERMIONIC_DEFAULT_TIMEOUT_MS 60000u
#define THERMIONIC_CONNECT_TIMEOUT_MS 10000u

/* Interval between two polls in thermionic_wait_ready() and
 * thermionic_wait_stopped(). */
#define THERMIONIC_POLL_INTERVAL_MS 100u

enum thermionic_error {
	THERMIONIC_OK = 0,
	/* Could not reach the daemon, or the connection broke before a
	 * complete answer arrived (socket missing, refused, reset, name
	 * resolution failure). */
	THERMIONIC_ERR_CONNECT,
	/* TLS failure: the client certificate or key cannot be loaded, the
	 * handshake failed, the server refused the client certificate. */
	THERMIONIC_ERR_TLS,
	/* The server answered with an error envelope (or with a non-2xx
	 * status and no envelope). thermionic_errmsg() holds the server's
	 * "error" string, thermionic_status() the HTTP status. */
	THERMIONIC_ERR_HTTP,
	/* The answer is not a valid envelope, or its metadata does not have
	 * the shape the typed helper expects. */
	THERMIONIC_ERR_PROTO,
	/* A bad argument: NULL where a value is required, malformed address,
	 * fingerprint, path or method. Nothing was sent. */
	THERMIONIC_ERR_INVALID,
	/* Out of memory. */
	THERMIONIC_ERR_NOMEM,
	/* A response (or request body) above THERMIONIC_MAX_BODY_BYTES. */
	THERMIONIC_ERR_TOOBIG,
	/* The request took longer than the client's timeout, or a wait
	 * reached its deadline. */
	THERMIONIC_ERR_TIMEOUT,
	/* The handshake was aborted because the server's certificate does not
	 * match the pinned fingerprint. Nothing was sent to that server.
	 * thermionic_errmsg() says "server certificate fingerprint X does not
	 * match pinned Y". */
	THERMIONIC_ERR_PIN,
	/* A local file could not be read, written, synced or renamed
	 * (thermionic_backup(), thermionic_restore()). thermionic_errmsg()
	 * names the file and the system error. */
	THERMIONIC_ERR_IO,
	/* thermionic_backup() without OVERWRITE: the file exists. */
	THERMIONIC_ERR_EXISTS,
};

/* Static description of a code ("could not connect"); never NULL. */
THERMIONIC_API const char *thermionic_strerror(int code);

/* Release a string returned by the library. NULL is a no-op. */
THERMIONIC_API void thermionic_free(void *ptr);

/*
 * Clients
 */

struct thermionic_client;

/* A client for the daemon's unix socket at SOCKET_PATH (for example
 * "/var/lib/thermionic/unix.socket"). No I/O happens here: the socket is
 * connected by the first request, so a client can be created before the
 * daemon starts (see thermionic_wait_ready()).
 *
 * Errors: THERMIONIC_ERR_INVALID (NULL or empty path, path longer than a
 * unix socket address allows), THERMIONIC_ERR_NOMEM. On success *OUT is an
 * owned client (thermionic_close()); on failure it is NULL. */
THERMIONIC_API int thermionic_connect_unix(const char *socket_path,
					   struct thermionic_client **out);

/* A client for https://ADDRESS, where ADDRESS is "host:port" or
 * "[ipv6]:port". The connection uses TLS 1.3 only and presents the client
 * certificate CLIENT_CERT_PATH with its key CLIENT_KEY_PATH (PEM files;
 * both NULL to present none, which a daemon treats as untrusted).
 *
 * The server is authenticated by its certificate's fingerprint only, not
 * by a CA or host name. The check runs inside the TLS handshake, before
 * any HTTP byte is sent:
 * - PINNED_FINGERPRINT given (64 hex digits, any case, ':' separators
 *   allowed): a server presenting another certificate fails the handshake
 *   with THERMIONIC_ERR_PIN.
 * - PINNED_FINGERPRINT NULL: the first certificate seen is accepted and
 *   exposed through thermionic_server_fingerprint() so the caller can
 *   store it; from then on the client is pinned to it for its lifetime
 *   (a reconnection to a server with another certificate fails with
 *   THERMIONIC_ERR_PIN).
 *
 * No I/O happens here; files are read and the connection is made by the
 * first request. Errors: THERMIONIC_ERR_INVALID (empty address, malformed
 * fingerprint, only one of cert/key given), THERMIONIC_ERR_TLS (libcurl is
 * not built against OpenSSL), THERMIONIC_ERR_NOMEM. Ownership as for
 * thermionic_connect_unix(). */
THERMIONIC_API int thermionic_connect_https(const char *address,
					    const char *client_cert_path,
					    const char *client_key_path,
					    const char *pinned_fingerprint,
					    struct thermionic_client **out);

/* Close the connection and free CLIENT. NULL is a no-op. Responses obtained
 * earlier stay valid (they own their data). */
THERMIONIC_API void thermionic_close(struct thermionic_client *client);

/* Message for the last failed call on CLIENT; "" after a success. Borrowed:
 * valid until the next call on CLIENT. */
THERMIONIC_API const char *
thermionic_errmsg(const struct thermionic_client *client);

/* HTTP status of the last request on CLIENT, or 0 if it got no HTTP answer
 * (connection or TLS failure, nothing sent yet). */
THERMIONIC_API int thermionic_status(const struct thermionic_client *client);

/* Fingerprint of the server certificate this client has accepted (64
 * lowercase hex characters): the pinned one once a handshake presented
 * it, or, without a pin, the first one seen. NULL before any handshake got
 * that far, after only mismatching ones, and for unix socket clients.
 * Borrowed: valid until CLIENT is closed. */
THERMIONIC_API const char *
thermionic_server_fingerprint(const struct thermionic_client *client);

/* Limit each request to TIMEOUT_MS milliseconds in total (connection,
 * handshake, transfer); 0 means no limit. The default is
 * THERMIONIC_DEFAULT_TIMEOUT_MS. Connecting alone is also limited to
 * THERMIONIC_CONNECT_TIMEOUT_MS. */
THERMIONIC_API void thermionic_set_timeout(struct thermionic_client *client,
					   unsigned timeout_ms);

/*
 * Generic request
 */

enum thermionic_response_type {
	THERMIONIC_RESPONSE_SYNC,
	THERMIONIC_RESPONSE_ASYNC,
};

/* A decoded success envelope. The struct itself is storage provided by the
 * caller; the library fills it and its members are owned by it until
 * thermionic_response_clear(). A caller may keep METADATA by taking the
 * pointer and setting the member to NULL before clearing. */
struct thermionic_response {
	int status;			    /* HTTP status (2xx) */
	enum thermionic_response_type type; /* "sync" or "async" */
	char *operation;		    /* "operation" field; never NULL */
	cJSON *metadata;		    /* NULL when JSON null */
	char *etag; /* ETag header exactly as sent, quotes included; NULL if
		       absent. Pass it back unchanged as IF_MATCH. */
};

/* Send METHOD ("GET", "PUT", "PATCH", "POST", "DELETE", ...) to PATH
 * (absolute, starting with '/', already percent-encoded, may carry a
 * query string) with BODY_JSON as the request body (a JSON text sent with
 * Content-Type: application/json; NULL for none) and, if IF_MATCH is not
 * NULL, an "If-Match: IF_MATCH" header.
 *
 * On success fills *OUT (if OUT is not NULL; otherwise the answer is
 * discarded). On failure *OUT is zeroed, so thermionic_response_clear() is
 * always safe. Error mapping:
 * - error envelope, or non-2xx status without one -> THERMIONIC_ERR_HTTP,
 *   errmsg = the server's "error" (or "HTTP <status> <reason>")
 * - body that is not a JSON envelope -> THERMIONIC_ERR_PROTO
 * - transport failures -> THERMIONIC_ERR_CONNECT / _TLS / _PIN / _TIMEOUT
 * - body above THERMIONIC_MAX_BODY_BYTES -> THERMIONIC_ERR_TOOBIG */
THERMIONIC_API int thermionic_request(struct thermionic_client *client,
				      const char *method, const char *path,
				      const char *body_json,
				      const char *if_match,
				      struct thermionic_response *out);

/* Release what RESPONSE owns and zero it. The struct itself is the
 * caller's. NULL is a no-op. */
THERMIONIC_API void
thermionic_response_clear(struct thermionic_response *response);

/*
 * Server
 */

/* GET /1.0. *INFO (owned) is the metadata object: api_version,
 * api_extensions, auth ("trusted"/"untrusted"), auth_method, environment
 * and config. Untrusted clients see only part of it. */
THERMIONIC_API int thermionic_server_info(struct thermionic_client *client,
					  cJSON **info);

/* GET /1.0/ready. *READY is true when the daemon answers 200 with
 * {"ready":true}, false when it answers 503 (not ready yet). Other
 * failures are returned as errors. */
THERMIONIC_API int thermionic_ready(struct thermionic_client *client,
				    bool *ready);

/* Poll thermionic_ready() every THERMIONIC_POLL_INTERVAL_MS until the
 * daemon is ready or TIMEOUT_MS have passed (0: check once). Connection
 * failures (daemon not started yet), request time-outs and "not ready"
 * answers are retried; any other error (TLS, pin mismatch, 403, ...) is
 * returned at once. On deadline: THERMIONIC_ERR_TIMEOUT with an errmsg
 * naming the last reason. Each poll's own timeout is bounded by the time
 * left. */
THERMIONIC_API int thermionic_wait_ready(struct thermionic_client *client,
					 unsigned timeout_ms);

/* PUT /1.0/shutdown: the daemon answers, then stops. Use
 * thermionic_wait_stopped() to wait until it is gone. */
THERMIONIC_API int thermionic_shutdown(struct thermionic_client *client);

/* Poll GET /1.0 every THERMIONIC_POLL_INTERVAL_MS until the daemon no
 * longer answers (connection refused, reset or closed during the
 * handshake), or TIMEOUT_MS have passed (THERMIONIC_ERR_TIMEOUT). A pin
 * mismatch is returned as an error: something else is answering. */
THERMIONIC_API int thermionic_wait_stopped(struct thermionic_client *client,
					   unsigned timeout_ms);

/*
 * Configuration (the daemon's keys: core.https_address,
 * core.request_timeout, core.max_request_size, raft.snapshot_threshold,
 * raft.snapshot_trailing, cluster.*, user.*). Member keys apply to the
 * member asked; cluster keys to every member of its cluster. Values are
 * always strings. IF_MATCH is
 * an ETag from thermionic_config_get() or NULL; with a stale one the
 * server answers 412 (THERMIONIC_ERR_HTTP, thermionic_status() == 412).
 * An unknown key or a bad value is a 400 with the server's message.
 */

/* GET /1.0/config. *CONFIG (owned) is an object of the set keys with
 * string values. If ETAG is not NULL, *ETAG receives the ETag header value
 * (owned, thermionic_free; NULL if the server sent none). */
THERMIONIC_API int thermionic_config_get(struct thermionic_client *client,
					 cJSON **config, char **etag);

/* PATCH /1.0/config {KEY: VALUE}. */
THERMIONIC_API int thermionic_config_set(struct thermionic_client *client,
					 const char *key, const char *value,
					 const char *if_match);

/* PATCH /1.0/config {KEY: null}: back to the default. */
THERMIONIC_API int thermionic_config_unset(struct thermionic_client *client,
					   const char *key,
					   const char *if_match);

/* PATCH /1.0/config with CHANGES (borrowed), an object whose members are
 * strings (set) or null (unset). */
THERMIONIC_API int thermionic_config_patch(struct thermionic_client *client,
					   const cJSON *changes,
					   const char *if_match);

/* GET /1.0/config?all=1: every key the daemon knows. *KEYS (owned) is
 * an array of objects {"key", "scope" ("member" or "cluster"), "type",
 * "default", "value" (in force on the member asked), "set" (bool),
 * "description"}; "user.*" comes once as itself, then each user key
 * set. */
THERMIONIC_API int thermionic_config_get_all(struct thermionic_client *client,
					     cJSON **keys);

/* thermionic_config_patch, and *RESULT (owned, may be NULL) receives the
 * daemon's answer: {"member": the member that took the change, "index":
 * the raft index of its cluster-wide write (0: none), "changes": [{"key",
 * "scope", "value", "set", "changed"}], "in_force": [{"name", "address",
 * "in_force" (bool), "message"}] (after a cluster-wide write: each member
 * and whether it applied it within a few seconds; a member down is named,
 * it does not fail the change), "config": the configuration after}. */
THERMIONIC_API int
thermionic_config_patch_result(struct thermionic_client *client,
			       const cJSON *changes, const char *if_match,
			       cJSON **result);

/* PUT /1.0/config with CONFIG (borrowed): keys absent from CONFIG are
 * unset. */
THERMIONIC_API int thermionic_config_replace(struct thermionic_client *client,
					     const cJSON *config,
					     const char *if_match);

/*
 * Trust store: client certificates the daemon accepts. Each entry is an
 * object {"fingerprint", "name", "type":"client", "certificate": PEM,
 * "added_at": unix seconds}.
 */

/* GET /1.0/certificates. *LIST (owned) is an array of entries. */
THERMIONIC_API int thermionic_trust_list(struct thermionic_client *client,
					 cJSON **list);

/* GET /1.0/certificates/FINGERPRINT, where FINGERPRINT may be a unique
 * prefix (hex digits, any case). *ENTRY (owned) is the entry. A missing
 * entry is THERMIONIC_ERR_HTTP with status 404. */
THERMIONIC_API int thermionic_trust_get(struct thermionic_client *client,
					const char *fingerprint, cJSON **entry);

/* POST /1.0/certificates {"certificate": PEM, "name": NAME}. NAME may be
 * NULL (the server picks one). If ENTRY is not NULL, *ENTRY (owned) is the
 * stored entry. Already trusted: THERMIONIC_ERR_HTTP, status 409. */
THERMIONIC_API int thermionic_trust_add(struct thermionic_client *client,
					const char *pem, const char *name,
					cJSON **entry);

/* DELETE /1.0/certificates/FINGERPRINT (the full 64 hex digits). Absent:
 * THERMIONIC_ERR_HTTP, status 404. */
THERMIONIC_API int thermionic_trust_remove(struct thermionic_client *client,
					   const char *fingerprint);

/*
 * Clustering. Every object is handed back as the daemon sent it (owned
 * cJSON); the library checks only the member named below, so that fields
 * added by later daemons pass through.
 *
 * Cluster state (GET /1.0/cluster): {"enabled": bool, "member_name",
 * "fingerprint" (of the cluster certificate; "" when standalone),
 * "state": "standalone"|"joining"|"member", "message" (join progress or
 * the last join error), "applied_index", "target_index" (how far a join's
 * catch-up went)}. Checked: "state" is a string.
 */

/* GET /1.0/cluster. *CLUSTER (owned) is the cluster state. */
THERMIONIC_API int thermionic_cluster_get(struct thermionic_client *client,
					  cJSON **cluster);

/* PUT /1.0/cluster {"enabled": true, "member_name": MEMBER_NAME}: make a
 * standalone daemon the first member of a new cluster. If CLUSTER is not
 * NULL, *CLUSTER (owned) is the new cluster state. Already clustered:
 * THERMIONIC_ERR_HTTP, status 409; core.https_address not set: status 400
 * with the daemon's advice in errmsg. */
THERMIONIC_API int thermionic_cluster_enable(struct thermionic_client *client,
					     const char *member_name,
					     cJSON **cluster);

/* PUT /1.0/cluster {"enabled": true, "token": TOKEN, "address": ADDRESS,
 * "force": FORCE}: start joining the cluster TOKEN was made for. ADDRESS
 * ("host:port") is where the other members will reach this one; NULL
 * leaves it out (the daemon uses core.https_address). The daemon answers
 * at once with state "joining" (*CLUSTER, owned, if CLUSTER is not NULL);
 * poll thermionic_cluster_get() until the state is "member" (joined) or
 * "standalone" (failed: "message" says why). */
THERMIONIC_API int thermionic_cluster_join(struct thermionic_client *client,
					   const char *token,
					   const char *address, bool force,
					   cJSON **cluster);

/* POST /1.0/cluster/members {"name": NAME, "expiry": EXPIRY}: a join
 * token for a new member NAME. EXPIRY is a duration ("90s", "30m", "3h",
 * "2d"), or NULL for the daemon's cluster.join_token_expiry. *TOKEN
 * (owned) is {"name", "token" (the secret to hand to the joiner),
 * "expires_at" (RFC 3339), "addresses", "fingerprint"}; checked: "token"
 * is a string. */
THERMIONIC_API int
thermionic_cluster_token_create(struct thermionic_client *client,
				const char *name, const char *expiry,
				cJSON **token);

/* GET /1.0/cluster/tokens. *LIST (owned) is an array of the pending
 * tokens, without their secret: {"name", "addresses", "fingerprint",
 * "created_at", "expires_at"} (RFC 3339 times); checked: each has a string
 * "name". */
THERMIONIC_API int
thermionic_cluster_token_list(struct thermionic_client *client, cJSON **list);

/* GET /1.0/cluster/check: a content check of every member at one applied
 * index (may take seconds). *LIST (owned) is an array of {"name",
 * "address", "verdict" (ok, diverged, behind, unreachable), "index",
 * "applied_index", "chain", "chain_base", "content", "message"}; checked:
 * each has a string "verdict". */
THERMIONIC_API int thermionic_cluster_check(struct thermionic_client *client,
					    cJSON **list);

/* DELETE /1.0/cluster/tokens/NAME: revoke the pending token for NAME.
 * Unknown: THERMIONIC_ERR_HTTP, status 404. */
THERMIONIC_API int
thermionic_cluster_token_revoke(struct thermionic_client *client,
				const char *name);

/* GET /1.0/cluster/members?recursion=1. *LIST (owned) is an array of
 * members: {"name", "id", "url", "address", "roles" (array of strings:
 * "voter", "leader", ...), "failure_domain", "state" ("ONLINE",
 * "OFFLINE", ...), "message", "description", "schema_version",
 * "api_extensions"}; checked: each has a string "name". */
THERMIONIC_API int
thermionic_cluster_member_list(struct thermionic_client *client, cJSON **list);

/* GET /1.0/cluster/members/NAME. *MEMBER (owned) as in the list. Unknown:
 * THERMIONIC_ERR_HTTP, status 404. NAME is percent-encoded by the library
 * here and below. */
THERMIONIC_API int
thermionic_cluster_member_get(struct thermionic_client *client,
			      const char *name, cJSON **member);

/* PATCH /1.0/cluster/members/NAME with CHANGES (borrowed), an object of
 * the fields to change ("failure_domain", "description"). */
THERMIONIC_API int
thermionic_cluster_member_patch(struct thermionic_client *client,
				const char *name, const cJSON *changes);

/* POST /1.0/cluster/members/NAME {"name": NEW_NAME}: rename a member. */
THERMIONIC_API int
thermionic_cluster_member_rename(struct thermionic_client *client,
				 const char *name, const char *new_name);

/* DELETE /1.0/cluster/members/NAME, with "?force=1" if FORCE (remove a
 * member that cannot be reached to leave cleanly). */
THERMIONIC_API int
thermionic_cluster_member_remove(struct thermionic_client *client,
				 const char *name, bool force);

/*
 * SQL (the contract is doc/sql-api.md)
 *
 * One call runs a list of statements against the cluster's global
 * (replicated) database or the member's local database, in one HTTP
 * request. Values are typed as in SQLite; INTEGER values are exact 64-bit
 * integers both ways (never rounded through a double).
 */

enum thermionic_type {
	THERMIONIC_NULL = 0,
	THERMIONIC_INTEGER,
	THERMIONIC_REAL,
	THERMIONIC_TEXT,
	THERMIONIC_BLOB,
};

/* A SQLite value. Only the members of TYPE are meaningful:
 * - INTEGER: INTEGER;
 * - REAL: REAL (finite: JSON has no infinities or NaN);
 * - TEXT: LEN bytes of UTF-8 at BYTES, followed by a NUL in results. A
 *   parameter must not contain a NUL byte (send such data as a BLOB); a
 *   result TEXT that holds one (made by SQL such as char(0)) is cut there.
 * - BLOB: LEN bytes at BYTES (BYTES may be NULL when LEN is 0 in a
 *   parameter; never NULL in a result).
 * In parameters BYTES is borrowed; in results it is owned by the result
 * (see thermionic_sql_results_free()). */
struct thermionic_value {
	enum thermionic_type type;
	int64_t integer;
	double real;
	const char *bytes;
	size_t len;
};

/* Parameter constructors. TEXT is borrowed and must stay valid until the
 * request is sent. */
static inline struct thermionic_value thermionic_value_null(void)
{
	struct thermionic_value v = {THERMIONIC_NULL, 0, 0.0, NULL, 0};
	return v;
}

static inline struct thermionic_value thermionic_value_int(int64_t i)
{
	struct thermionic_value v = {THERMIONIC_INTEGER, i, 0.0, NULL, 0};
	return v;
}

static inline struct thermionic_value thermionic_value_real(double r)
{
	struct thermionic_value v = {THERMIONIC_REAL, 0, r, NULL, 0};
	return v;
}

static inline struct thermionic_value thermionic_value_text(const char *text)
{
	struct thermionic_value v = {THERMIONIC_TEXT, 0, 0.0, text, 0};
	while (text != NULL && text[v.len] != '\0') {
		v.len++;
	}
	return v;
}

static inline struct thermionic_value thermionic_value_blob(const void *data,
							    size_t len)
{
	struct thermionic_value v = {THERMIONIC_BLOB, 0, 0.0,
				     (const char *)data, len};
	return v;
}

/* One statement: SQL holds exactly one SQL statement (a trailing ';' is
 * fine). PARAMS holds N_PARAMS values (NULL when N_PARAMS is 0). With
 * NAMES NULL they are positional (bound to '?' and '?NNN' in order); else
 * NAMES holds N_PARAMS parameter names including their prefix (":k",
 * "@k", "$k"), NAMES[i] naming PARAMS[i]. All borrowed. */
struct thermionic_sql_statement {
	const char *sql;
	const struct thermionic_value *params;
	const char *const *names;
	size_t n_params;
};

enum thermionic_sql_target {
	THERMIONIC_SQL_GLOBAL = 0, /* the replicated cluster database */
	THERMIONIC_SQL_LOCAL,	   /* this member's own database (read-only) */
};

enum thermionic_sql_consistency {
	/* Reads see this member's copy of the global database. */
	THERMIONIC_SQL_CONSISTENCY_NONE = 0,
	/* Reads are confirmed by the raft leader first: they see every write
	 * acknowledged before the request. Global target only. */
	THERMIONIC_SQL_LINEARIZABLE,
};

/* A request; a zeroed struct plus STATEMENTS is a plain global request.
 * Everything is borrowed for the duration of the call. */
struct thermionic_sql_request {
	const struct thermionic_sql_statement *statements;
	size_t n_statements; /* 1..THERMIONIC_SQL_MAX_STATEMENTS */
	enum thermionic_sql_target target;
	/* All-or-nothing: if one statement fails, none of the request's
	 * changes are kept and the whole call fails (THERMIONIC_ERR_HTTP,
	 * errmsg "statement N: ..."). Without it each statement succeeds or
	 * fails on its own. */
	bool transaction;
	enum thermionic_sql_consistency consistency;
};

/* The daemon's limit on statements per request. */
#define THERMIONIC_SQL_MAX_STATEMENTS 1000

/* The outcome of one statement.
 * - ERROR not NULL: the statement failed with this message (SQLite's or
 *   the daemon's); nothing else is set.
 * - else N_COLUMNS > 0: a statement that returns rows (SELECT, PRAGMA,
 *   ... RETURNING); COLUMNS[i] is a column name, TYPES[i] its declared
 *   type ("INTEGER", "TEXT", ...) or NULL for an expression; VALUES holds
 *   N_ROWS * N_COLUMNS values, row by row (thermionic_sql_cell()).
 * - else a statement that returns no rows: ROWS_AFFECTED and
 *   LAST_INSERT_ID (sqlite3_changes() and sqlite3_last_insert_rowid()).
 * Everything is owned by the result array. */
struct thermionic_sql_result {
	char *error;
	size_t n_columns;
	char **columns;
	char **types;
	size_t n_rows;
	struct thermionic_value *values;
	int64_t rows_affected;
	int64_t last_insert_id;
};

/* The value at ROW, COLUMN of RESULT (borrowed from it). */
static inline const struct thermionic_value *
thermionic_sql_cell(const struct thermionic_sql_result *result, size_t row,
		    size_t column)
{
	return &result->values[row * result->n_columns + column];
}

/* POST /1.0/sql with REQUEST. On success *RESULTS holds *N_RESULTS ==
 * REQUEST->n_statements results in statement order (owned:
 * thermionic_sql_results_free()) and the call returns 0 even if some
 * statements failed: check each result's ERROR. On failure *RESULTS is
 * NULL and *N_RESULTS 0:
 * - THERMIONIC_ERR_INVALID: the request cannot be encoded (no statements,
 *   a NULL sql, a name without prefix, a REAL that is not finite, a TEXT
 *   with a NUL byte, an unknown type); errmsg says which statement and
 *   parameter. Nothing was sent.
 * - THERMIONIC_ERR_HTTP: the daemon refused the request as a whole (bad
 *   SQL in a transaction, too many statements, no leader: 503, ...).
 * - THERMIONIC_ERR_PROTO: the answer does not have the documented shape.
 * - transport errors as for thermionic_request(). */
THERMIONIC_API int thermionic_sql(struct thermionic_client *client,
				  const struct thermionic_sql_request *request,
				  struct thermionic_sql_result **results,
				  size_t *n_results);

/* Free N results and the array. NULL is a no-op. */
THERMIONIC_API void
thermionic_sql_results_free(struct thermionic_sql_result *results, size_t n);

/*
 * Events
 */

/* Called with each event as it arrives: a JSON object (doc/events.md),
 * borrowed for the call. A final {"type": "error"} object, without
 * location or sequence, comes from a server that drops this client for
 * reading too slowly. Return 0 to go on, anything else to stop. */
typedef int (*thermionic_event_cb)(void *arg, const cJSON *event);

/* Follow GET /1.0/events on CLIENT's daemon over a WebSocket, blocking,
 * and call CB with each event until CB returns non-zero (then
 * THERMIONIC_OK). TYPES is a comma-separated list of "cluster", "config"
 * and "logging" (NULL: all); LEVEL the least level of logging events
 * ("trace", "debug", "info", "warn", "error"; NULL: "info"). The
 * client's timeout bounds the handshake only; a ping every 30 s checks
 * an idle connection.
 *
 * Errors: THERMIONIC_ERR_HTTP when the daemon refuses (an unknown type or
 * level: 400, with its message); THERMIONIC_ERR_CONNECT when the daemon
 * ends the stream (the message gives the close code and reason, e.g.
 * "1001 shutting down") or the connection breaks; THERMIONIC_ERR_PROTO
 * for an answer that is no WebSocket upgrade; THERMIONIC_ERR_INVALID for
 * TYPES or LEVEL with characters other than lowercase letters and
 * commas; transport errors as for thermionic_request(). The next request
 * on CLIENT opens a new connection. */
THERMIONIC_API int thermionic_events_follow(struct thermionic_client *client,
					    const char *types,
					    const char *level,
					    thermionic_event_cb cb, void *arg);

/*
 * Backup and restore of the global database
 *
 * These two transfers may be far larger and longer than an API call: the
 * client's timeout (thermionic_set_timeout()) limits how long the transfer
 * may stall (no byte moving), not its total duration, and
 * THERMIONIC_MAX_BODY_BYTES does not apply to the database file.
 */

/* The 16 bytes every SQLite database file starts with. */
#define THERMIONIC_SQLITE_HEADER "SQLite format 3"

/* GET /1.0/sql/backup: a consistent copy of the global database, as a
 * SQLite database file, written to PATH atomically: the file is
 * downloaded into a temporary file next to PATH (".NAME.XXXXXX", mode
 * 0600), fsync'ed, then renamed to PATH and the directory fsync'ed, so a
 * failed or interrupted download never leaves a partial file under PATH.
 * Without OVERWRITE an existing PATH is left alone
 * (THERMIONIC_ERR_EXISTS), checked before downloading and again, without
 * a race, when the file is put in place. The file is mode 0600: it holds
 * the whole cluster state. *BYTES (may be NULL) receives the file size.
 *
 * Errors: THERMIONIC_ERR_IO (cannot create, write, sync or rename; errmsg
 * names the file), THERMIONIC_ERR_EXISTS, THERMIONIC_ERR_PROTO (the answer
 * is not a whole SQLite database: no header, or a size that does not match
 * its page size and page count), THERMIONIC_ERR_HTTP (error envelope), and
 * transport errors (a connection lost mid-download is
 * THERMIONIC_ERR_CONNECT). */
THERMIONIC_API int thermionic_backup(struct thermionic_client *client,
				     const char *path, bool overwrite,
				     uint64_t *bytes);

/* The same download written to FD (borrowed, left open; a pipe or socket
 * works). Nothing makes this atomic: on failure FD may hold part of the
 * file. */
THERMIONIC_API int thermionic_backup_fd(struct thermionic_client *client,
					int fd, uint64_t *bytes);

/* POST /1.0/sql/restore with the SQLite database file at PATH as the body
 * (Content-Type application/vnd.sqlite3): the daemon replaces the whole
 * global database with it, on every member (through raft). Before sending
 * anything the file is checked: it must be a regular file that starts
 * with the SQLite header, whose size matches its page size and the page
 * count in its header, and, if it is in WAL mode, that has no non-empty
 * PATH-wal next to it (whose changes the file alone would miss). A file that
 * fails these checks is THERMIONIC_ERR_INVALID with errmsg saying why; one that
 * cannot be read is THERMIONIC_ERR_IO. *BYTES (may be NULL) receives the size
 * sent. */
THERMIONIC_API int thermionic_restore(struct thermionic_client *client,
				      const char *path, uint64_t *bytes);

/*
 * Helpers
 */

/* Normalise a fingerprint written as 64 hex digits in any case, possibly
 * with ':' between byte pairs (as "openssl x509 -fingerprint" prints it),
 * into OUT (THERMIONIC_FINGERPRINT_LEN + 1 bytes, lowercase). Returns 0 or
 * THERMIONIC_ERR_INVALID. */
THERMIONIC_API int thermionic_fingerprint_normalize(const char *in, char *out);

#ifdef __cplusplus
}
#endif

#endif /* THERMIONIC_H */
