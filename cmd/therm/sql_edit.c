/* The shell's line source on a terminal: libedit (emacs key bindings,
 * ~/.editrc honoured) with a history file kept in the user's therm
 * configuration directory, mode 0600 (it may hold data typed in SQL). The
 * history is saved after each entry, so it survives a Ctrl-C. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <histedit.h>

#include "cmd/therm/sql.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

#define EDIT_HISTORY_SIZE 1000

struct edit_source {
	struct therm_line_source base; /* first: the shell sees this */
	EditLine *el;		       /* owned */
	History *hist;		       /* owned */
	char *history_path;	       /* owned; NULL: no history file */
	char *history_dir;	       /* owned */
	const char *prompt;	       /* borrowed, of the read in progress */
	FILE *out;		       /* borrowed */
};

char *therm_sql_history_path(char *errmsg)
{
	char *dir = therm_config_dir(errmsg);
	char *path;
	if (dir == NULL) {
		return NULL;
	}
	path = tm_asprintf("%s/%s", dir, THERM_SQL_HISTORY_FILE);
	tm_free(dir);
	return path;
}

static char *edit_prompt_cb(EditLine *el)
{
	struct edit_source *e = NULL;
	el_get(el, EL_CLIENTDATA, &e);
	return (char *)(e != NULL ? e->prompt : "");
}

static char *edit_read(struct therm_line_source *src, const char *prompt)
{
	struct edit_source *e = (struct edit_source *)src;
	const char *line;
	size_t len;
	int count = 0;

	e->prompt = prompt;
	line = el_gets(e->el, &count);
	if (line == NULL || count <= 0) {
		fputc('\n', e->out); /* end the prompt's line */
		return NULL;
	}
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
		len--;
	}
	return tm_strndup(line, len);
}

static void edit_remember(struct therm_line_source *src, const char *entry)
{
	struct edit_source *e = (struct edit_source *)src;
	char errmsg[TM_ERRMSG_SIZE];
	HistEvent ev;
	int fd;

	history(e->hist, &ev, H_ENTER, entry);
	if (e->history_path == NULL ||
	    fs_ensure_dir(e->history_dir, 0700, errmsg) != 0) {
		return;
	}
	/* Create it private before libedit opens it with the umask. */
	fd = open(e->history_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		history(e->hist, &ev, H_SAVE, e->history_path);
	}
}

struct therm_line_source *therm_edit_open(struct therm_ctx *ctx)
{
	struct edit_source *e = tm_calloc(1, sizeof *e);
	char errmsg[TM_ERRMSG_SIZE];
	HistEvent ev;

	e->el = el_init("therm", ctx->in, ctx->out, ctx->err);
	e->hist = history_init();
	if (e->el == NULL || e->hist == NULL) {
		therm_edit_close(&e->base);
		return NULL;
	}
	e->base.read = edit_read;
	e->base.remember = edit_remember;
	e->out = ctx->out;
	history(e->hist, &ev, H_SETSIZE, EDIT_HISTORY_SIZE);
	history(e->hist, &ev, H_SETUNIQUE, 1);
	el_set(e->el, EL_CLIENTDATA, e);
	el_set(e->el, EL_PROMPT, edit_prompt_cb);
	el_set(e->el, EL_EDITOR, "emacs");
	el_set(e->el, EL_SIGNAL, 1);
	el_set(e->el, EL_HIST, history, e->hist);
	el_source(e->el, NULL);
	e->history_dir = therm_config_dir(errmsg);
	if (e->history_dir != NULL) {
		e->history_path = tm_asprintf("%s/%s", e->history_dir,
					      THERM_SQL_HISTORY_FILE);
		history(e->hist, &ev, H_LOAD, e->history_path);
	}
	return &e->base;
}

void therm_edit_close(struct therm_line_source *src)
{
	struct edit_source *e = (struct edit_source *)src;
	if (e == NULL) {
		return;
	}
	if (e->el != NULL) {
		el_end(e->el);
	}
	if (e->hist != NULL) {
		history_end(e->hist);
	}
	tm_free(e->history_path);
	tm_free(e->history_dir);
	tm_free(e);
}
