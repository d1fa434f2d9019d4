/*
 * fuzz.h - what every libFuzzer target in tests/fuzz/ shares: a private scratch directory and
 * writing the input into a file there (the parsers read files, not buffers).  A target is one
 * file tests/fuzz/fuzz_NAME.c that includes this header, defines LLVMFuzzerTestOneInput and
 * names its seeds on a line "// fuzz-seeds: GLOB..." (paths from the top of the tree; a line
 * comment, since a glob's slash-star would open a block comment); `make fuzz`
 * builds and runs every such file (tests/fuzz/run.sh).  Header-only, so a target needs no
 * Makefile change.
 */
#ifndef ARBENCH_TESTS_FUZZ_H
#define ARBENCH_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ARB_SRCDIR /* the top of the source tree, set by the Makefile */
#define ARB_SRCDIR "."
#endif

/* This process's scratch directory (made once, removed at exit). */
static char fuzz__dir[64];

static void fuzz__cleanup(void)
{
	char cmd[128];

	if (fuzz__dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz__dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: could not remove %s\n", fuzz__dir);
	}
}

static inline const char *fuzz_dir(void)
{
	if (!fuzz__dir[0]) {
		snprintf(fuzz__dir, sizeof(fuzz__dir), "/tmp/arbench-fuzz.XXXXXX");
		if (!mkdtemp(fuzz__dir))
			abort();
		atexit(fuzz__cleanup);
	}
	return fuzz__dir;
}

/* dir/sub (sub may hold one '/': "topologies/in.yaml" makes "topologies"). */
static inline void fuzz_path(char *buf, size_t len, const char *sub)
{
	const char *slash = strchr(sub, '/');

	if (slash) {
		snprintf(buf, len, "%s/%.*s", fuzz_dir(), (int)(slash - sub), sub);
		mkdir(buf, 0700);
	}
	snprintf(buf, len, "%s/%s", fuzz_dir(), sub);
}

/* Write the input to dir/sub; the path in buf. */
static inline void fuzz_write(char *buf, size_t len, const char *sub, const uint8_t *data,
			      size_t size)
{
	FILE *f;

	fuzz_path(buf, len, sub);
	f = fopen(buf, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
}

/* A symlink dir/sub -> ARB_SRCDIR/target (e.g. the shipped catalog beside the input). */
static inline void fuzz_link(const char *sub, const char *target)
{
	char p[256], t[512];

	fuzz_path(p, sizeof(p), sub);
	snprintf(t, sizeof(t), "%s/%s", ARB_SRCDIR, target);
	unlink(p);
	if (symlink(t, p))
		abort();
}

#endif /* ARBENCH_TESTS_FUZZ_H */
