/*
 * arbench.c - the arbench program: pick the subcommand (the all-reduce sweep when the first
 * argument names none), parse the command line, run it, exit with its verdict.  Bad input is
 * reported once, by rank 0, and every rank leaves through MPI_Finalize with exit status 2 (no
 * MPI_Abort); a failing collective aborts the job from sweep.c.
 */
#include "bench/bench.h"

#include <stdio.h>
#include <string.h>

/* Subcommands: `arbench NAME [options]`; main gets the whole command line (argv[1] = NAME). */
static const struct subcommand {
	const char *name;
	const char *summary; /* one line for --help */
	int (*main)(int argc, char **argv, char *err, size_t errlen);
} subcommands[] = {
	{"overlap",
	 "measured GPU idle fraction of emulated training steps (arplan step's schedule)",
	 bench_overlap_main},
};

static void list_subcommands(FILE *f)
{
	fprintf(f, "\nSubcommands (arbench NAME --help for each):\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	char err[1024] = "";
	int rank, code = -1, provided;

	/* FUNNELED: only the main thread calls MPI, but overlap runs a second (GPU) thread */
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	for (size_t i = 0; argc > 1 && i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			code = subcommands[i].main(argc, argv, err, sizeof(err));
	if (code >= 0) {
		if (rank == 0 && err[0])
			fprintf(stderr, "arbench: %s\n", err);
		MPI_Finalize();
		return code;
	}
	if (bench_parse_args(argc, argv, &o, err, sizeof(err))) {
		if (rank == 0)
			fprintf(stderr, "arbench: %s\n", err);
		MPI_Finalize();
		return BENCH_EXIT_USAGE;
	}
	if (o.help || o.version) {
		if (rank == 0 && o.help) {
			bench_usage(stdout);
			list_subcommands(stdout);
		} else if (rank == 0)
			printf("arbench %s (JSON schema version %d)\n", BENCH_VERSION,
			       BENCH_JSON_VERSION);
		MPI_Finalize();
		return BENCH_EXIT_OK;
	}
	code = bench_run(MPI_COMM_WORLD, &o, argc, argv, err, sizeof(err));
	if (rank == 0 && err[0])
		fprintf(stderr, "arbench: %s\n", err);
	MPI_Finalize();
	return code;
}
