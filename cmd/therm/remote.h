/* Remote (HTTPS) mode of therm: the user's client certificate, and the
 * server fingerprints pinned on first contact.
 *
 * Files, under $XDG_CONFIG_HOME/thermionic (default ~/.config/thermionic,
 * mode 0700):
 *   client.crt, client.key   therm's own certificate and key (key 0600),
 *                            created on first use by tls_ensure_keypair
 *                            with CN "therm@<hostname>"
 *   servers/<host>_<port>.fingerprint
 *                            the pinned server fingerprint: 64 lowercase
 *                            hex digits and a newline. Characters of
 *                            <host> other than letters, digits, '.' and
 *                            '-' are written as '_' ("[::1]:8443" ->
 *                            "__1_8443.fingerprint").
 *
 * Trust on first use: without a pin file (and without --fingerprint) the
 * first certificate the server shows is accepted and written to the pin
 * file, and "Pinned certificate FP for ADDRESS" goes to stderr. Later
 * runs refuse any other certificate inside the TLS handshake, before a
 * request is sent. To accept a new server certificate, delete the pin
 * file, or give the new fingerprint with --fingerprint (which replaces
 * the pin once a handshake with it succeeded). */
#ifndef THERM_REMOTE_H
#define THERM_REMOTE_H

#include <stdbool.h>
#include <stdio.h>

#include "pkg/thermionic.h"

#define THERM_DEFAULT_PORT 8443

struct therm_remote {
	bool active;	  /* an HTTPS client was set up */
	char *address;	  /* owned, normalised "host:port" / "[v6]:port" */
	char *config_dir; /* owned */
	char *pin_path;	  /* owned */
	bool have_stored; /* the pin file existed and was valid */
	char stored[THERMIONIC_FINGERPRINT_LEN + 1];
	bool have_explicit; /* --fingerprint */
	char explicit_fp[THERMIONIC_FINGERPRINT_LEN + 1];
};

/* Normalise a user-given address: "host", "host:port", "[v6]",
 * "[v6]:port" or a bare IPv6 literal; the port defaults to
 * THERM_DEFAULT_PORT. *ADDRESS ("host:port", IPv6 bracketed) and *HOST
 * (without brackets) are owned by the caller (tm_free). 0 or TM_INVALID
 * with ERRMSG (TM_ERRMSG_SIZE) set. */
int therm_address_normalize(const char *in, char **address, char **host,
			    unsigned *port, char *errmsg);

/* $XDG_CONFIG_HOME/thermionic if that is set and absolute, else
 * $HOME/.config/thermionic. Owned; NULL with ERRMSG set if neither
 * variable gives a directory. */
char *therm_config_dir(char *errmsg);

/* CONFIG_DIR/servers/<host>_<port>.fingerprint. Owned. */
char *therm_pin_path(const char *config_dir, const char *host, unsigned port);

/* Read the pin file at PATH into FP (65 bytes). A missing file is not an
 * error: 0 with *FOUND false. TM_CORRUPT if the file holds anything but
 * one fingerprint (surrounding white space allowed), TM_IO if it cannot
 * be read. */
int therm_pin_read(const char *path, char *fp, bool *found, char *errmsg);

/* Write FP and a newline to PATH atomically and durably (mode 0644),
 * creating its directory (0700) first. */
int therm_pin_write(const char *path, const char *fp, char *errmsg);

/* Set up an HTTPS client for ADDRESS (user-given, normalised here):
 * ensure the config directory and the client key pair, read the pin file,
 * and connect (lazily) with EXPLICIT_FP (normalised, may be NULL) or the
 * stored pin or no pin. Warnings (a key readable by others) go to ERR.
 * R is zeroed first; release with therm_remote_close. */
int therm_remote_connect(struct therm_remote *r, const char *address,
			 const char *explicit_fp, FILE *err,
			 struct thermionic_client **out, char *errmsg);

/* After the command: if CLIENT accepted a server certificate that is not
 * the stored pin, write it to the pin file and tell the user on ERR. */
int therm_remote_finish(struct therm_remote *r,
			const struct thermionic_client *client, FILE *err,
			char *errmsg);

void therm_remote_close(struct therm_remote *r);

#endif /* THERM_REMOTE_H */
