/* Error codes shared by every module.
 *
 * Functions return 0 on success or one of these positive codes. Codes from
 * libraries (libuv's negative numbers, SQLite result codes, curl codes,
 * OpenSSL's error queue) are translated at the module that calls the library,
 * and the detail goes into that module's errmsg buffer. */
#ifndef TM_ERR_H
#define TM_ERR_H

#define TM_ERRMSG_SIZE 256

#define TM_ERRORS(X)                                                  \
	X(TM_NOMEM, "out of memory")                                  \
	X(TM_INVALID, "invalid argument")                             \
	X(TM_NOTFOUND, "not found")                                   \
	X(TM_EXISTS, "already exists")                                \
	X(TM_IO, "I/O error")                                         \
	X(TM_TLS, "TLS error")                                        \
	X(TM_DB, "database error")                                    \
	X(TM_TOOBIG, "too large")                                     \
	X(TM_TIMEOUT, "timed out")                                    \
	X(TM_PROTO, "protocol error")                                 \
	X(TM_PERM, "permission denied")                               \
	X(TM_BUSY, "busy")                                            \
	X(TM_CANCELED, "canceled")                                    \
	X(TM_SHUTDOWN, "shutting down")                               \
	X(TM_NOTLEADER, "not the leader")                             \
	X(TM_CONFLICT, "conflict")                                    \
	X(TM_NEWER, "newer than supported")                           \
	X(TM_CORRUPT, "corrupt data")                                 \
	X(TM_NOSPACE, "not enough disk space")                        \
	/* a peer could not be reached: nothing was sent to it */     \
	X(TM_CONNECT, "could not connect")                            \
	/* a peer's certificate is not the one pinned */              \
	X(TM_PIN, "certificate mismatch")

enum {
	TM_OK = 0,
#define TM_ERR_ENUM(code, msg) code,
	TM_ERRORS(TM_ERR_ENUM)
#undef TM_ERR_ENUM
	TM_ERR_MAX
};

/* Static message for a code; never NULL. */
const char *tm_strerror(int code);

/* Format into an errmsg buffer of TM_ERRMSG_SIZE bytes. */
void tm_errmsg_printf(char *errmsg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current content of errmsg: "<prefix>: <old errmsg>". */
void tm_errmsg_wrapf(char *errmsg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* TM_ERR_H */
