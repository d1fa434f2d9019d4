/*
 * arbench.c - the arbench program: pick the subcommand (the all-reduce sweep when the first
 * argument names none), parse its command line, run it, exit with its verdict.  Bad input is
 * reported once, by rank 0, and every rank leaves through MPI_Finalize with exit status 2 (no
 * MPI_Abort); a failing transfer or collective aborts the job from where it failed.
 */
#include "bench/bench.h"

#include <stdio.h>
#include <string.h>

static void list_subcommands(FILE *f);

/* The all-reduce sweep: `arbench [options]`. */
static int allreduce_main(int argc, char **argv, char *err, size_t errlen)
{
	struct bench_opts o;
	int rank;

	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (bench_parse_args(argc, argv, &o, err, errlen))
		return BENCH_EXIT_USAGE;
	if (o.help || o.version) {
		if (rank == 0 && o.help) {
			bench_usage(stdout);
			list_subcommands(stdout);
		} else if (rank == 0)
			printf("arbench %s (JSON schema version %d)\n", BENCH_VERSION,
			       BENCH_JSON_VERSION);
		return BENCH_EXIT_OK;
	}
	return bench_run(MPI_COMM_WORLD, &o, argc, argv, err, errlen);
}

/* `arbench links [options]`: argv[1] is "links". */
static int links_main(int argc, char **argv, char *err, size_t errlen)
{
	struct bench_links_opts o;
	int rank;

	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (bench_links_parse_args(argc - 1, argv + 1, &o, err, errlen))
		return BENCH_EXIT_USAGE;
	if (o.common.help) {
		if (rank == 0)
			bench_links_usage(stdout);
		return BENCH_EXIT_OK;
	}
	return bench_links_run(MPI_COMM_WORLD, &o, argc, argv, err, errlen);
}

/* Subcommands: `arbench NAME [options]`; main gets the whole command line (argv[1] = NAME). */
static const struct subcommand {
	const char *name;
	const char *summary; /* one line for --help */
	int (*main)(int argc, char **argv, char *err, size_t errlen);
} subcommands[] = {
	{"links", "point-to-point bandwidth and latency between nodes; flags slow links",
	 links_main},
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
	char err[1024] = "";
	int rank, code = -1, provided;

	/* FUNNELED: only the main thread calls MPI, but overlap runs a second (GPU) thread */
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	for (size_t i = 0; argc > 1 && i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			code = subcommands[i].main(argc, argv, err, sizeof(err));
	if (code < 0)
		code = allreduce_main(argc, argv, err, sizeof(err));
	if (rank == 0 && err[0])
		fprintf(stderr, "arbench: %s\n", err);
	MPI_Finalize();
	return code;
}
