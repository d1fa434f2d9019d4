/*
 * planner_bytes.c - the planner's schedules against what the library really sends: every
 * MPI_Isend of the transport is counted per destination (PMPI interposition), one all-reduce
 * of each algorithm runs, and rank 0 compares the p x p matrix of bytes with
 * plan_schedule_bytes() for the same algorithm, count, placement and segment size.
 *
 *   mpirun -np P planner_bytes [MAP]     MAP: node index of every rank, e.g. 0,0,1,1
 *                                        (default: one node per rank)
 * Exit 0 when every matrix matches to the byte, 1 otherwise (each mismatch printed).
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allreduce/allreduce.h"
#include "planner/internal.h"

static double *sent; /* [world size] bytes this rank sent to each world rank */
static int counting;

/* Count the bytes of every send of the transport, by world rank of the destination. */
int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm,
	      MPI_Request *req)
{
	if (counting && dest >= 0) {
		MPI_Group g, world;
		int wr, size;

		MPI_Comm_group(comm, &g);
		MPI_Comm_group(MPI_COMM_WORLD, &world);
		MPI_Group_translate_ranks(g, 1, &dest, world, &wr);
		MPI_Type_size(type, &size);
		sent[wr] += (double)count * size;
		MPI_Group_free(&g);
		MPI_Group_free(&world);
	}
	return PMPI_Isend(buf, count, type, dest, tag, comm, req);
}

int main(int argc, char **argv)
{
	int p, rank, fails = 0, checks = 0;
	int *map;
	size_t segs[] = {0, 65536};

	MPI_Init(&argc, &argv);
	MPI_Comm_size(MPI_COMM_WORLD, &p);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	map = malloc(sizeof(int) * (size_t)p);
	sent = calloc((size_t)p, sizeof(double));
	for (int r = 0; r < p; r++)
		map[r] = r;
	if (argc > 1) {
		char *s = argv[1];

		for (int r = 0; r < p; r++) {
			map[r] = (int)strtol(s, &s, 10);
			if (*s == ',')
				s++;
		}
	}
	for (size_t si = 0; si < sizeof(segs) / sizeof(segs[0]); si++) {
		struct ar_comm_config cfg = {.segment_bytes = segs[si], .node_of_rank = map};
		struct ar_comm *c;
		size_t counts[] = {0, 1, (size_t)p - 1, (size_t)p + 1, 300001};

		if (ar_comm_create(MPI_COMM_WORLD, &cfg, &c)) {
			fprintf(stderr, "ar_comm_create: %s\n", ar_last_error_text());
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
		for (const char *const *a = plan_algos; *a; a++) {
			for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
				size_t n = counts[ci];
				float *in = calloc(n + 1, sizeof(float)),
				      *out = calloc(n + 1, sizeof(float));
				double *all =
					rank == 0 ? malloc(sizeof(double) * (size_t)p * p) : NULL;

				/* once to set up (hier's segment, its inter-node communicator) */
				ar_allreduce(c, *a, in, out, n, AR_FLOAT, AR_SUM);
				memset(sent, 0, sizeof(double) * (size_t)p);
				MPI_Barrier(MPI_COMM_WORLD);
				counting = 1;
				int rc = ar_allreduce(c, *a, in, out, n, AR_FLOAT, AR_SUM);
				counting = 0;
				MPI_Gather(sent, p, MPI_DOUBLE, all, p, MPI_DOUBLE, 0,
					   MPI_COMM_WORLD);
				if (rank == 0) {
					struct plan_schedule s;
					double *want = malloc(sizeof(double) * (size_t)p * p);
					struct plan_lib_settings set = {.segment_bytes = segs[si]};
					int bad = 0;

					if (rc || plan_schedule_build(*a, p, map, n, sizeof(float),
								      &set, &s)) {
						printf("FAIL %s count %zu: run %d or schedule "
						       "failed\n",
						       *a, n, rc);
						fails++;
					} else {
						double total = 0;

						plan_schedule_bytes(&s, want);
						for (int i = 0; i < p * p; i++)
							total += all[i];
						/* the interposition must see the library's sends at
						 * all */
						if (p > 1 && n >= (size_t)p && total <= 0 &&
						    bad++ < 4)
							printf("FAIL %s p=%d count %zu: no send "
							       "counted\n",
							       *a, p, n);
						for (int i = 0; i < p * p; i++)
							if (fabs(want[i] - all[i]) > 0.5) {
								if (bad++ < 4)
									printf("FAIL %s p=%d count "
									       "%zu seg %zu: rank "
									       "%d -> %d sends "
									       "%.0f B, schedule "
									       "says %.0f B\n",
									       *a, p, n, segs[si],
									       i / p, i % p, all[i],
									       want[i]);
							}
						fails += bad != 0;
						plan_schedule_free(&s);
					}
					checks++;
					free(want);
				}
				free(all);
				free(in);
				free(out);
			}
		}
		ar_comm_destroy(c);
	}
	if (rank == 0)
		printf("planner_bytes: p=%d: %d of %d schedules match the library's bytes per "
		       "peer\n",
		       p, checks - fails, checks);
	MPI_Bcast(&fails, 1, MPI_INT, 0, MPI_COMM_WORLD);
	free(map);
	free(sent);
	MPI_Finalize();
	return fails ? 1 : 0;
}
