/*
 * internal.h - what the files of bench/ share and nothing outside bench/ includes: the
 * liveness helpers of liveness.c (collective agreement on errors, the timed arrival check, one
 * report for a failed collective), the command-line pieces arbench and `arbench links` share
 * (cli.c), and the emulated training step of `arbench overlap` (overlap_step.c).
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
/* The first line of MPI_Get_library_version in out, cut to fit (gather.c). */
void bench__mpi_library(char *out, size_t len);
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

/* ---- the command lines of arbench (cli.c) and `arbench links` (links_cli.c) ----------------- */

/* Long-only options both take; each file numbers its own from BENCH__OPT_OWN. */
enum {
	BENCH__OPT_IB_DEV = 256,
	BENCH__OPT_GID_INDEX,
	BENCH__OPT_TIMEOUT,
	BENCH__OPT_ANONYMIZE,
	BENCH__OPT_OWN,
};

/* The getopt_long entries of the options both spell alike: the size sweep, the transport and
 * its verbs device, the JSON file, the timeout, anonymisation, quiet and help. */
#define BENCH__COMMON_LONG_OPTS                                                                    \
	{"minbytes", required_argument, NULL, 'b'}, {"maxbytes", required_argument, NULL, 'e'},    \
		{"stepfactor", required_argument, NULL, 'f'},                                      \
		{"stepbytes", required_argument, NULL, 'i'},                                       \
		{"iters", required_argument, NULL, 'n'},                                           \
		{"warmup_iters", required_argument, NULL, 'w'},                                    \
		{"warmup", required_argument, NULL, 'w'},                                          \
		{"transport", required_argument, NULL, 't'},                                       \
		{"ib-dev", required_argument, NULL, BENCH__OPT_IB_DEV},                            \
		{"gid-index", required_argument, NULL, BENCH__OPT_GID_INDEX},                      \
		{"json", required_argument, NULL, 'J'},                                            \
		{"timeout", required_argument, NULL, BENCH__OPT_TIMEOUT},                          \
		{"anonymize", no_argument, NULL, BENCH__OPT_ANONYMIZE},                            \
		{"quiet", no_argument, NULL, 'q'},                                                 \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

/* Print fmt into err; returns -EINVAL. */
int bench__fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A size option (-b, -e, -i, ...): 0, or -EINVAL with "FLAG 'ARG': expected a size ..." */
int bench__size_arg(const char *flag, const char *arg, uint64_t *out, char *err, size_t errlen);
/* getopt_long's '?' (unknown option) or ':' (no value) as one message: "PREFIXunknown option
 * '-x' (see SEE)"; prefix is "" or "links: ", see where the help is.  Returns -EINVAL. */
int bench__getopt_error(int c, char **argv, const char *prefix, const char *see, char *err,
			size_t errlen);
/* The options both handle alike: -b, -e, -i (sets *step_given), --ib-dev, -J, --anonymize, -q,
 * -h.  0 or -EINVAL (message in err) when c is one of them, 1 when it is not. */
int bench__common_option(int c, const char *arg, struct bench_opts *o, bool *step_given, char *err,
			 size_t errlen);
/* The checks that need every option of the sweep: -b <= -e; min_positive: -b > 0 (links), else
 * -e > 0 (arbench: a sweep of empty messages may start at 0); -i alone means linear steps
 * (nccl-tests; -f > 1 always means geometric); -i 0 with -f 1 never reaches -e; --ib-dev and
 * --gid-index need -t verbs.  0 or -EINVAL with the message in err. */
int bench__check_sweep(struct bench_opts *o, bool min_positive, bool factor_given, bool step_given,
		       char *err, size_t errlen);

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
