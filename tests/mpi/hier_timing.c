/*
 * hier_timing.c - tuning aid for allreduce/hier.c: times one algorithm of the library against
 * MPI_Allreduce on float sum, out of place, and prints time and busbw side by side.
 *
 *   mpirun -np 2 build/tests/mpi/hier_timing [-a algo] [-s slot_bytes] [-n iters] [-w warmup]
 *          BYTES...
 *
 * Times are the mean over iters of the slowest rank's time (as nccl-tests); busbw = S/t *
 * 2(p-1)/p in GB/s = 1e9 B/s.  Exit 2 on bad arguments, 1 if the library call fails.
 */
#include "allreduce/allreduce.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Mean seconds per call over iters (slowest rank); negative errno if the library failed. */
static double time_calls(struct ar_comm *c, const char *algo, const float *in, float *out,
			 size_t count, int warmup, int iters, int *err)
{
	double t0 = 0, dt, worst;

	*err = 0;
	for (int i = 0; i < warmup + iters; i++) {
		if (i == warmup) {
			MPI_Barrier(MPI_COMM_WORLD);
			t0 = MPI_Wtime();
		}
		if (algo) {
			*err = ar_allreduce(c, algo, in, out, count, AR_FLOAT, AR_SUM);
			if (*err)
				return 0;
		} else {
			MPI_Allreduce(in, out, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		}
	}
	dt = (MPI_Wtime() - t0) / iters;
	MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
	return worst;
}

static int usage(int rank)
{
	if (rank == 0)
		fprintf(stderr, "usage: hier_timing [-a algo] [-s slot_bytes] [-n iters] "
				"[-w warmup] BYTES...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct ar_comm_config cfg = {0};
	const char *algo = "hier";
	int iters = 20, warmup = 3, rank, size, opt, rc = 0;
	struct ar_comm *c;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	while ((opt = getopt(argc, argv, "a:s:n:w:")) != -1) {
		if (opt == 'a')
			algo = optarg;
		else if (opt == 's')
			cfg.segment_bytes = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			iters = atoi(optarg);
		else if (opt == 'w')
			warmup = atoi(optarg);
		else
			return MPI_Finalize(), usage(rank);
	}
	if (optind >= argc || iters < 1 || warmup < 0)
		return MPI_Finalize(), usage(rank);
	cfg.timeout_sec = 60;
	if (ar_comm_create(MPI_COMM_WORLD, &cfg, &c)) {
		fprintf(stderr, "hier_timing: %s\n", ar_last_error_text());
		MPI_Finalize();
		return 1;
	}
	if (rank == 0)
		printf("# %d ranks, float sum, out of place, %s vs MPI_Allreduce\n"
		       "# %12s %12s %10s %12s %10s %7s\n",
		       size, algo, "bytes", "algo_us", "busbw", "mpi_us", "busbw", "ratio");
	for (int a = optind; a < argc; a++) {
		size_t bytes = strtoull(argv[a], NULL, 0), count = bytes / sizeof(float);
		float *in = malloc(count * sizeof(float) + 64),
		      *out = malloc(count * sizeof(float) + 64);
		double f = size > 1 ? 2.0 * (size - 1) / size : 1.0, ta, tm;
		int err;

		if (!in || !out) {
			fprintf(stderr, "hier_timing: out of memory\n");
			rc = 1;
			free(in);
			free(out);
			break;
		}
		for (size_t i = 0; i < count; i++)
			in[i] = (float)((i + rank) % 7);
		memset(out, 0, count * sizeof(float));
		ta = time_calls(c, algo, in, out, count, warmup, iters, &err);
		if (err) {
			fprintf(stderr, "hier_timing: %s\n", ar_comm_error(c));
			rc = 1;
			free(in);
			free(out);
			break;
		}
		tm = time_calls(c, NULL, in, out, count, warmup, iters, &err);
		if (rank == 0)
			printf("  %12zu %12.1f %10.2f %12.1f %10.2f %7.2f\n", count * sizeof(float),
			       ta * 1e6, count * 4 / ta * f / 1e9, tm * 1e6,
			       count * 4 / tm * f / 1e9, tm / ta);
		free(in);
		free(out);
	}
	ar_comm_destroy(c);
	MPI_Finalize();
	return rc;
}
