/*
 * arbench.c - the arbench program: parse the command line, run the sweep, exit with its
 * verdict.  Bad input is reported once, by rank 0, and every rank leaves through MPI_Finalize
 * with exit status 2 (no MPI_Abort); a failing collective aborts the job from sweep.c.
 */
#include "bench/bench.h"

#include <stdio.h>
#include <string.h>

/* `arbench NAME ...`: subcommands with their own options; each initialises MPI itself. */
static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{"overlap", bench_overlap_main},
};

int main(int argc, char **argv)
{
	struct bench_opts o;
	char err[1024];
	int rank, code;

	for (size_t i = 0; argc > 1 && i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (bench_parse_args(argc, argv, &o, err, sizeof(err))) {
		if (rank == 0)
			fprintf(stderr, "arbench: %s\n", err);
		MPI_Finalize();
		return BENCH_EXIT_USAGE;
	}
	if (o.help || o.version) {
		if (rank == 0 && o.help)
			bench_usage(stdout);
		else if (rank == 0)
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
