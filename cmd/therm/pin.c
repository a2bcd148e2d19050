/* Server addresses, the per-user config directory and pin files. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/therm/remote.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

#define PIN_FILE_MAX 4096

static bool host_char_ok(char c, bool v6)
{
	if (isalnum((unsigned char)c) || c == '.' || c == '-') {
		return true;
	}
	return v6 ? (c == ':' || c == '%') : c == '_';
}

static int parse_port(const char *text, unsigned *port, char *errmsg)
{
	char *end;
	long value;
	errno = 0;
	value = strtol(text, &end, 10);
	if (text[0] == '\0' || !isdigit((unsigned char)text[0]) ||
	    *end != '\0' || errno != 0 || value < 1 || value > 65535) {
		tm_errmsg_printf(errmsg, "invalid port \"%s\"", text);
		return TM_INVALID;
	}
	*port = (unsigned)value;
	return 0;
}

int therm_address_normalize(const char *in, char **address, char **host,
			    unsigned *port, char *errmsg)
{
	const char *port_text = NULL;
	char *name;
	bool v6 = false;

	*address = NULL;
	*host = NULL;
	*port = THERM_DEFAULT_PORT;
	if (in[0] == '[') {
		const char *close = strchr(in, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			goto bad;
		}
		name = tm_strndup(in + 1, (size_t)(close - in - 1));
		port_text = close[1] == ':' ? close + 2 : NULL;
		v6 = true;
	} else if (strchr(in, ':') != NULL &&
		   strchr(in, ':') != strrchr(in, ':')) {
		name = tm_strdup(in); /* bare IPv6, no port */
		v6 = true;
	} else {
		const char *colon = strchr(in, ':');
		name = colon == NULL ? tm_strdup(in)
				     : tm_strndup(in, (size_t)(colon - in));
		port_text = colon == NULL ? NULL : colon + 1;
	}
	for (const char *p = name; *p != '\0'; p++) {
		if (!host_char_ok(*p, v6)) {
			tm_free(name);
			goto bad;
		}
	}
	if (name[0] == '\0' ||
	    (port_text != NULL && parse_port(port_text, port, errmsg) != 0)) {
		tm_free(name);
		goto bad;
	}
	*host = name;
	*address = v6 ? tm_asprintf("[%s]:%u", name, *port)
		      : tm_asprintf("%s:%u", name, *port);
	return 0;
bad:
	tm_errmsg_printf(errmsg,
			 "invalid address \"%s\": expected HOST[:PORT] or "
			 "[IPV6][:PORT]",
			 in);
	return TM_INVALID;
}

char *therm_config_dir(char *errmsg)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (xdg != NULL && xdg[0] == '/') {
		return tm_asprintf("%s/thermionic", xdg);
	}
	if (home != NULL && home[0] != '\0') {
		return tm_asprintf("%s/.config/thermionic", home);
	}
	tm_errmsg_printf(errmsg, "cannot find the configuration directory: "
				 "neither XDG_CONFIG_HOME nor HOME is set");
	return NULL;
}

char *therm_pin_path(const char *config_dir, const char *host, unsigned port)
{
	char *safe = tm_strdup(host);
	char *path;
	for (char *p = safe; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-') {
			*p = '_';
		}
	}
	path =
	    tm_asprintf("%s/servers/%s_%u.fingerprint", config_dir, safe, port);
	tm_free(safe);
	return path;
}

int therm_pin_read(const char *path, char *fp, bool *found, char *errmsg)
{
	char *data = NULL;
	char *start;
	char *end;
	size_t len;
	int rv;

	*found = false;
	rv = fs_read_all(path, PIN_FILE_MAX, &data, &len, errmsg);
	if (rv == TM_NOTFOUND) {
		return 0;
	}
	if (rv == TM_TOOBIG) {
		tm_errmsg_printf(errmsg, "pin file %s is not a fingerprint",
				 path);
		return TM_CORRUPT;
	}
	if (rv != 0) {
		return rv;
	}
	if (memchr(data, '\0', len) != NULL) {
		goto corrupt;
	}
	start = data;
	while (isspace((unsigned char)*start)) {
		start++;
	}
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1])) {
		end--;
	}
	*end = '\0';
	if (thermionic_fingerprint_normalize(start, fp) != 0) {
		goto corrupt;
	}
	tm_free(data);
	*found = true;
	return 0;
corrupt:
	tm_errmsg_printf(errmsg,
			 "pin file %s does not hold a certificate fingerprint",
			 path);
	tm_free(data);
	return TM_CORRUPT;
}

int therm_pin_write(const char *path, const char *fp, char *errmsg)
{
	char *dir = tm_strdup(path);
	char *slash = strrchr(dir, '/');
	char *line;
	int rv;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rv = fs_ensure_dir(dir, 0700, errmsg);
		if (rv != 0) {
			tm_free(dir);
			return rv;
		}
	}
	tm_free(dir);
	line = tm_asprintf("%s\n", fp);
	rv = fs_write_atomic(path, line, strlen(line), 0644, errmsg);
	tm_free(line);
	return rv;
}
