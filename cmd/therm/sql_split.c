/* Splitting SQL text into statements, and the shell's line assembly.
 *
 * SQLite's own sqlite3_complete() decides where a statement ends: it knows
 * string literals, quoted identifiers, "--" and block comments, and the
 * BEGIN ... END of CREATE TRIGGER, so a ';' inside any of them does not
 * end a statement. We only ask it at each ';'. */
#include <ctype.h>
#include <string.h>

#include <sqlite3.h>

#include "cmd/therm/sql.h"
#include "internal/lib/mem.h"

/* Skip white space and comments from P. *OPEN (may be NULL) is set when
 * the text ends inside a block comment. */
static const char *sql_skip_blank(const char *p, bool *open)
{
	if (open != NULL) {
		*open = false;
	}
	for (;;) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			if (end == NULL) {
				if (open != NULL) {
					*open = true;
				}
				return p + strlen(p);
			}
			p = end + 2;
		} else {
			return p;
		}
	}
}

bool therm_sql_blank(const char *text)
{
	return *sql_skip_blank(text, NULL) == '\0';
}

/* Append the statement in TEXT[0..LEN) to the list, trimmed and, if it
 * is COMPLETE, without its final ';', unless it is blank. (An incomplete
 * last statement keeps every byte: its ';' may sit in an open string.) */
static void split_add(const char *text, size_t len, bool complete,
		      char ***stmts, size_t *n)
{
	char *s;
	size_t start = 0;

	while (len > 0 && isspace((unsigned char)text[len - 1])) {
		len--;
	}
	if (complete && len > 0 && text[len - 1] == ';') {
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1])) {
		len--;
	}
	while (start < len && isspace((unsigned char)text[start])) {
		start++;
	}
	s = tm_strndup(text + start, len - start);
	if (therm_sql_blank(s)) {
		tm_free(s);
		return;
	}
	*stmts = tm_realloc(*stmts, (*n + 1) * sizeof **stmts);
	(*stmts)[(*n)++] = s;
}

void therm_sql_split(const char *text, char ***stmts, size_t *n)
{
	size_t len = strlen(text);
	char *candidate = tm_malloc(len + 1);
	size_t start = 0;

	*stmts = NULL;
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != ';') {
			continue;
		}
		memcpy(candidate, text + start, i + 1 - start);
		candidate[i + 1 - start] = '\0';
		if (sqlite3_complete(candidate)) {
			split_add(text + start, i + 1 - start, true, stmts, n);
			start = i + 1;
		}
	}
	split_add(text + start, len - start, false, stmts, n);
	tm_free(candidate);
}

void therm_sql_split_free(char **stmts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tm_free(stmts[i]);
	}
	tm_free(stmts);
}

/* Bytes of the UTF-8 sequence that starts with C (1 for anything else). */
static size_t utf8_seq_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4) {
		return 4;
	}
	if (c >= 0xe0) {
		return c <= 0xef ? 3 : 1;
	}
	return c >= 0xc2 ? 2 : 1;
}

char *therm_sql_summary(const char *sql, size_t max)
{
	const char *p = sql_skip_blank(sql, NULL);
	char *out = tm_malloc(strlen(p) + 4);
	size_t n = 0;
	bool space = false;

	while (*p != '\0') {
		size_t k = utf8_seq_len((unsigned char)*p);
		if (isspace((unsigned char)*p)) {
			space = n > 0;
			p++;
			continue;
		}
		if (strnlen(p, k) < k) {
			k = 1; /* a sequence cut short: copy what is there */
		}
		if (n + (space ? 1 : 0) + k > max) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (space) {
			out[n++] = ' ';
			space = false;
		}
		memcpy(out + n, p, k);
		n += k;
		p += k;
	}
	out[n] = '\0';
	return out;
}

void therm_sql_lines_init(struct therm_sql_lines *l)
{
	l->buf = NULL;
	l->len = 0;
	l->cap = 0;
}

static void lines_append(struct therm_sql_lines *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap == 0 ? 256 : l->cap;
		while (cap < l->len + n + 1) {
			cap *= 2;
		}
		l->buf = tm_realloc(l->buf, cap);
		l->cap = cap;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

/* The pending text without its last newline; the buffer is emptied. */
static char *lines_take(struct therm_sql_lines *l)
{
	char *text;
	size_t len = l->len;
	if (len > 0 && l->buf[len - 1] == '\n') {
		len--;
	}
	text = tm_strndup(l->buf, len);
	l->len = 0;
	return text;
}

enum therm_sql_line therm_sql_lines_feed(struct therm_sql_lines *l,
					 const char *line, char **out)
{
	bool open;

	*out = NULL;
	if (l->len == 0) {
		const char *p = line;
		while (isspace((unsigned char)*p)) {
			p++;
		}
		if (*p == '.') {
			size_t n = strlen(p);
			while (n > 0 && isspace((unsigned char)p[n - 1])) {
				n--;
			}
			*out = tm_strndup(p, n);
			return THERM_SQL_LINE_DOT;
		}
	}
	lines_append(l, line, strlen(line));
	lines_append(l, "\n", 1);
	if (*sql_skip_blank(l->buf, &open) == '\0' && !open) {
		l->len = 0;
		return THERM_SQL_LINE_EMPTY;
	}
	if (!open && sqlite3_complete(l->buf)) {
		*out = lines_take(l);
		return THERM_SQL_LINE_SQL;
	}
	return THERM_SQL_LINE_MORE;
}

bool therm_sql_lines_pending(const struct therm_sql_lines *l)
{
	return l->len > 0;
}

char *therm_sql_lines_take(struct therm_sql_lines *l)
{
	return l->len > 0 ? lines_take(l) : NULL;
}

void therm_sql_lines_close(struct therm_sql_lines *l)
{
	tm_free(l->buf);
	therm_sql_lines_init(l);
}
