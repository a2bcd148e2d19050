/* Small file-system helpers with explicit durability. */
#ifndef TM_FS_H
#define TM_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Create DIR (and parents) if missing, then force its mode to MODE.
 * Returns 0 or TM_IO with errmsg set. */
int fs_ensure_dir(const char *dir, mode_t mode, char *errmsg);

/* Write DATA to PATH atomically: write a temporary file in the same
 * directory with MODE, fsync it, rename it over PATH, fsync the directory. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    char *errmsg);

/* Read a whole file into a NUL-terminated buffer owned by the caller.
 * Fails with TM_TOOBIG past MAX bytes, TM_NOTFOUND if it does not exist. */
int fs_read_all(const char *path, size_t max, char **out, size_t *len,
		char *errmsg);

/* Copy SRC to DST durably (fsync'd, atomic rename). */
int fs_copy(const char *src, const char *dst, mode_t mode, char *errmsg);

/* fsync PATH (a file or a directory). */
int fs_sync(const char *path, char *errmsg);

/* fsync the directory holding PATH. */
int fs_sync_parent(const char *path, char *errmsg);

/* Remove PATH and, if it is a directory, everything under it; a missing
 * PATH is not an error. Symbolic links are removed, never followed. */
int fs_remove_tree(const char *path, char *errmsg);

/* 1 if PATH exists. */
int fs_exists(const char *path);

#endif /* TM_FS_H */
