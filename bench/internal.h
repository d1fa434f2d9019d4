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

/* ---- arbench overlap's training step (overlap_step.c) ------------------------------------ */

struct plan_timeline;
struct bench__gpu; /* the emulated GPU: a thread that sleeps through compute */

/* What one rank saw in one step, seconds: compute = the step's start to the end of backward;
 * comm = the time inside the bucket all-reduces; exposed = the last bucket's end past the end
 * of backward (0 when it ends before); step = the start to max(end of backward, last bucket);
 * idle = exposed / step. */
struct bench__step_times {
	double compute, comm, exposed, step, idle;
};

/* Start the GPU thread for timeline t (which must outlive it).  0 or a negative errno. */
int bench__gpu_start(const struct plan_timeline *t, struct bench__gpu **out);
void bench__gpu_stop(struct bench__gpu *g);
/* Run one step: the GPU thread sleeps through forward and backward and marks each bucket ready
 * at its time; this thread (the only one that calls MPI) all-reduces bucket i (counts[i] float
 * elements at offsets[i] of sendbuf into recvbuf) with algo as soon as it is ready.  Returns
 * 0, or the library's error (ar_comm_error(c) says more) with *times unset. */
int bench__gpu_step(struct bench__gpu *g, struct ar_comm *c, const char *algo, const float *sendbuf,
		    float *recvbuf, const size_t *offsets, const size_t *counts,
		    struct bench__step_times *times);

#endif /* ARBENCH_BENCH_INTERNAL_H */
