/*
 * internal.h - what the files of bench/ share and nothing outside bench/ includes: the
 * liveness helpers of liveness.c (collective agreement on errors, the timed arrival check, one
 * report for a failed collective).
 */
#ifndef ARBENCH_BENCH_INTERNAL_H
#define ARBENCH_BENCH_INTERNAL_H

#include "bench/bench.h"

#define BENCH__ERRTEXT 512 /* one error line sent between ranks */

/* Who takes part and how long anyone may be late. */
struct bench_live {
	MPI_Comm comm; /* the benchmark's ranks */
	MPI_Comm ctl;  /* a dup of comm for tokens and error texts, never used by collectives */
	int rank, nranks;
	double timeout; /* seconds; 0 = wait forever */
};

void bench__sleep(double sec);
/* Print "arbench: msg" from this rank and abort the job (exit code BENCH_EXIT_RUNTIME). */
_Noreturn void bench__die(const struct bench_live *l, const char *msg);
/* Collective: did any rank fail?  The lowest failing rank's msg lands in err at rank 0. */
bool bench__agree_failed(const struct bench_live *l, bool failed, const char *msg, char *err,
			 size_t errlen);
/* A collective failed on this rank with text: the job prints one line and aborts.  Blocks
 * until then; never returns. */
_Noreturn void bench__collective_failed(const struct bench_live *l, const char *text);
/* A barrier; with a timeout, rank 0 names the ranks that did not arrive in time and aborts.
 * step and what identify the place for the message. */
void bench__arrival_check(const struct bench_live *l, int step, const char *what);

#endif /* ARBENCH_BENCH_INTERNAL_H */
