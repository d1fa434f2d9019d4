/*
 * planner.h - the public interface of planner/: the arplan subcommands (each a function taking
 * its own argc/argv and returning an exit code) and the pieces tests drive directly.
 */
#ifndef ARBENCH_PLANNER_H
#define ARBENCH_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "topo/topo.h"

/* arplan's exit codes: the programs' shared ones (topo.h). */
enum plan_exit {
	PLAN_EXIT_OK = ARB_EXIT_OK,
	PLAN_EXIT_CHECK = ARB_EXIT_CHECK, /* a check failed */
	PLAN_EXIT_USAGE = ARB_EXIT_INPUT, /* bad input: options, files, values */
	PLAN_EXIT_INTERNAL = ARB_EXIT_RUNTIME,
};

/* `arplan topo [--json|--dot] FILE.yaml` and `arplan topo --from-results RESULTS.json`.
 * Prints to out, errors to err; returns a plan_exit code. */
int plan_cmd_topo(int argc, char **argv, FILE *out, FILE *err);

/* `arplan fit [--topo T.yaml] RESULTS... -o calib.yaml`: calibrate the link model. */
int plan_cmd_fit(int argc, char **argv, FILE *out, FILE *err);
/* `arplan predict --topo T.yaml [--calib C.yaml] ...`: predicted time per algorithm and size. */
int plan_cmd_predict(int argc, char **argv, FILE *out, FILE *err);
/* Sizes as arbench takes them ("64K", "1M", "1G": powers of 1024).  0 or -EINVAL. */
int plan_parse_size(const char *s, size_t *out);

/* `arplan validate RESULTS... --topo T.yaml [--calib C.yaml] [--json] [--max-error X] ...`:
 * measured against predicted time per row, median and max |error|.  Exit 0, 1 when --max-error
 * is exceeded, 2 bad input. */
int plan_cmd_validate(int argc, char **argv, FILE *out, FILE *err);

/* `arplan step --topo T.yaml --workload W.yaml [--calib C.yaml] [--json]`: one training step,
 * the GPU idle fraction, MFU.  Exit 0, 2 bad input. */
int plan_cmd_step(int argc, char **argv, FILE *out, FILE *err);
/* `arplan compare T1.yaml T2.yaml ... --workload W.yaml [--calib C.yaml] [--json|--csv]`: the
 * step, cost and power side by side per topology.  Exit 0, 2 bad input. */
int plan_cmd_compare(int argc, char **argv, FILE *out, FILE *err);

/* `arplan sweep --workload W.yaml --gpus N [--calib C.yaml] [--json|--csv]`: builds the usual
 * fabric options for N GPUs and compares them.  Exit 0, 2 bad input. */
int plan_cmd_sweep(int argc, char **argv, FILE *out, FILE *err);

/* `arplan report RESULTS.json... -o FILE [--format html|md|csv] [--topo T.yaml [--calib C.yaml]]
 * [--expect GBPS] [--anonymize] [--keep-plots DIR]`: a self-contained report.  Exit 0, 1 below
 * --expect, 2 bad input, 3 gnuplot or the output failed. */
int plan_cmd_report(int argc, char **argv, FILE *out, FILE *err);

/* Write an explicit-family topology YAML describing the cluster measured in an arbench results
 * file (fields hosts, nodes_info, ranks_per_node).  nic_rate: rate for NICs whose speed the
 * results do not give (e.g. "100Gbit"), or NULL.  0, -EINVAL with a one-line message in
 * msg, or -ENOMEM. */
int plan_topo_from_results(const char *results_path, const char *nic_rate, FILE *out, char *msg,
			   size_t msglen);

/* ---- one data-parallel training step's schedule, for `arbench overlap` ---------------------- */

/* What `arplan step` models for one data-parallel rank (planner/step.c), times in seconds from
 * the step's start: forward and backward of every micro-batch take compute_s; the last
 * micro-batch's backward, [bwd_end_s - window_s, bwd_end_s), produces the gradients, and DDP
 * bucket i (bytes[i], reduced as float elements) becomes ready at ready_s[i].  With a scale
 * factor X, compute time, gradient bytes and bucket size are all X times the workload's, so
 * the buckets are as many and become ready at the same fractions of backward. */
struct plan_timeline {
	char workload[64]; /* its name */
	int world;	   /* data-parallel ranks */
	double scale;
	double compute_s, window_s, bwd_end_s;
	double grad_bytes;   /* per rank, all buckets */
	double bucket_bytes; /* a full bucket */
	unsigned micro_batches;
	bool overlap; /* false: every bucket is ready at the end of backward */
	size_t n_buckets;
	double *bytes, *ready_s; /* [n_buckets] */
};

/* The timeline of workload_path (a workload YAML) on world data-parallel ranks, the GPU's peak
 * from the catalog that topo_path (a topology YAML) uses, scaled by scale.  Only data
 * parallelism: a workload with tensor, pipeline or expert parallelism is refused, as is a
 * data degree other than world.  0; -EINVAL with one line in msg (file:line:column for file
 * errors); -ENOMEM. */
int plan_timeline_load(const char *workload_path, const char *topo_path, int world, double scale,
		       struct plan_timeline *out, char *msg, size_t msglen);
void plan_timeline_free(struct plan_timeline *t);

#endif /* ARBENCH_PLANNER_H */
