/* Replay driver for the fuzz targets: runs LLVMFuzzerTestOneInput on every
 * file named on the command line (or in the directories named), so the
 * seed corpus is exercised by the test suite with any compiler and under
 * the sanitizers. With clang, the same target files link against libFuzzer
 * instead (see doc/fuzzing.md). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int run_path(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	DIR *dir = opendir(path);
	struct dirent *e;
	int rv = 0;
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		char child[4096];
		snprintf(child, sizeof child, "%s/%s", path, e->d_name);
		rv |= run_path(child, count);
	}
	if (dir != NULL) {
		closedir(dir);
	}
	return rv;
}

int main(int argc, char **argv)
{
	int count = 0;
	int rv = 0;
	for (int i = 1; i < argc; i++) {
		rv |= run_path(argv[i], &count);
	}
	printf("ok 1 - replayed %d inputs\n", count);
	return rv;
}
