/*
 * bench.h - the public interface of bench/: the arbench program's pieces (command line, size
 * sweep, timing and statistics, correctness checks, table and JSON output) so that tests can
 * drive them without mpirun.  The emulated fabric (bench/lab/) has its own private header.
 */
#ifndef ARBENCH_BENCH_H
#define ARBENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <mpi.h>

#include "allreduce/allreduce.h"
#include "topo/topo.h"

#define BENCH_VERSION	   "0.1.0"
#define BENCH_JSON_VERSION 1
#define BENCH_MAX_ALGOS	   16

/* Exit codes of arbench: the programs' shared ones (topo.h). */
enum {
	BENCH_EXIT_OK = ARB_EXIT_OK,
	BENCH_EXIT_CHECK = ARB_EXIT_CHECK,     /* wrong results, or --min-busbw not met */
	BENCH_EXIT_USAGE = ARB_EXIT_INPUT,     /* bad input: flags, sizes, memory */
	BENCH_EXIT_RUNTIME = ARB_EXIT_RUNTIME, /* a collective failed or timed out (MPI_Abort) */
};

/* The shortest --timeout (s) other than 0 (off): the arrival check polls every 100 us, and on a
 * busy node a process is often not scheduled for a millisecond. */
#define BENCH_MIN_TIMEOUT 1e-3

/* ---- command line (cli.c) ---------------------------------------------------------------- */

/* How per-rank times are combined into one figure (nccl-tests' -a 1, 2, 3, 0). */
enum bench_agg { BENCH_AGG_AVG, BENCH_AGG_MIN, BENCH_AGG_MAX, BENCH_AGG_RANK0, BENCH_AGG_COUNT };

struct bench_opts {
	uint64_t minbytes, maxbytes; /* -b, -e */
	double stepfactor;	     /* -f; > 1 multiplies, otherwise stepbytes adds */
	uint64_t stepbytes;	     /* -i */
	int iters, warmup;	     /* -n, -w */
	int check;		     /* -c 0/1 */
	bool types[AR_DTYPE_COUNT];  /* -d */
	bool ops[AR_OP_COUNT];	     /* -o */
	size_t n_algos;		     /* -A: indices into the algorithm registry, in order */
	size_t algos[BENCH_MAX_ALGOS];
	bool algos_all;	       /* -A all (or no -A): unsupported ones are skipped */
	const char *transport; /* -t */
	const char *ib_dev;    /* --ib-dev NAME[:PORT] (verbs), NULL for the first active */
	int gid_index;	       /* --gid-index (verbs), when gid_index_set */
	bool gid_index_set;
	const char *json_path; /* -J, NULL for none */
	enum bench_agg agg;    /* -a */
	double min_busbw;      /* --min-busbw in GB/s; < 0 when not given */
	double timeout;	       /* --timeout seconds; 0 = none */
	uint64_t segment;      /* --segment bytes; 0 = library default */
	bool shared_buffers;   /* -R 1: buffers from ar_mem_alloc (node-shared) */
	bool anonymize, quiet, help, version;
};

/* Parse a size with an optional K, M, G (powers of 1024, nccl-tests' meaning) or T suffix and
 * an optional trailing B: "8", "1K", "64M", "1GB".  0 or -EINVAL (junk, overflow). */
int bench_parse_size(const char *text, uint64_t *out);

/* Parse argv into *o (defaults first).  0, or -EINVAL with a one-line message in err that
 * says what was wrong and what is expected.  Does not print; reentrant (resets getopt). */
int bench_parse_args(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen);

/* The --help text (defaults and units) to f. */
void bench_usage(FILE *f);

const char *bench_agg_name(enum bench_agg a);

/* The byte sizes of the sweep for one element size: minbytes..maxbytes by stepfactor or
 * stepbytes, each rounded down to a whole number of elements, zero and repeats dropped.
 * Returns the count written to sizes (at most cap). */
size_t bench_sizes(const struct bench_opts *o, size_t elem_size, uint64_t *sizes, size_t cap);

/* "64 MiB", "8 B", "1.5 KiB" into buf (for progress and messages). */
const char *bench_fmt_bytes(uint64_t bytes, char *buf, size_t len);

/* ---- statistics (stats.c) ---------------------------------------------------------------- */

struct bench_stats {
	double min, p50, avg, p99, max;
};

/* Percentile q (0..100) of n sorted samples, linear interpolation between closest ranks
 * (numpy's default).  0 when n is 0. */
double bench_percentile(const double *sorted, size_t n, double q);
/* Sort samples[0..n) in place and fill *out. */
void bench_stats_compute(double *samples, size_t n, struct bench_stats *out);
/* algbw in GB/s (1e9 B/s) = bytes / seconds; 0 when seconds <= 0. */
double bench_algbw(uint64_t bytes, double seconds);
/* busbw = algbw * 2(p-1)/p (all-reduce). */
double bench_busbw(double algbw, int nranks);

/* ---- correctness (check.c) --------------------------------------------------------------- */

/*
 * The data of a checked all-reduce.  Rank r's element i is f((7r + i) mod M) with M = 251, a
 * small integer (sum/avg: -2..2, min/max: -5..5, prod: +-1 or +-2; unsigned types have no
 * negative values), made sparse (zero for sum, one for prod) when the rank count would
 * otherwise let a partial result leave the range where the type holds integers exactly
 * (bfloat16: 256, half: 2048).  Then any reduction order gives the same bits, and the expected
 * result of element i depends only on i mod M: it is computed once per residue.
 */
#define BENCH_CHECK_PERIOD 251

struct bench_check {
	enum ar_dtype dtype;
	enum ar_op op;
	int nranks;
	size_t esize;
	int sparse; /* residues x with x % sparse != 0 are neutral */
	unsigned char expect[BENCH_CHECK_PERIOD][8]; /* expected element per residue */
};

/* Prepare the expected values for nranks ranks.  0 or -EINVAL. */
int bench_check_init(struct bench_check *c, enum ar_dtype dtype, enum ar_op op, int nranks);
/* Fill rank's input of count elements. */
void bench_check_fill(const struct bench_check *c, int rank, void *buf, size_t count);
/* Number of elements of buf that differ (bitwise) from the expected result. */
size_t bench_check_wrong(const struct bench_check *c, const void *buf, size_t count);
/* Number of elements of buf that differ from rank's input (sendbuf must stay untouched). */
size_t bench_check_input_wrong(const struct bench_check *c, int rank, const void *buf,
			       size_t count);
/* Fill with data whose all-reduce is a fixed point (0 for sum/avg, 1 for prod, the check data
 * for min/max), so repeated in-place timing never overflows or turns denormal. */
void bench_fill_timing(const struct bench_check *c, int rank, void *buf, size_t count);

/* ---- the cluster (cluster.c): hostnames and hwloc summaries over MPI ------------------------ */

struct bench_cluster {
	int rank, nranks;
	char (*hostnames)[256];	      /* [nranks], every rank */
	struct topo_cluster_map map;  /* every rank */
	struct topo_node_info *nodes; /* [map.n_nodes], rank 0 only (NULL elsewhere) */
	int discover_err;	      /* first discovery error seen by rank 0, 0 if none */
};

/* Collective over comm: gather hostnames, build the map, run hwloc discovery on the first rank
 * of each node and collect the summaries at rank 0.  0 or a negative errno (same on every
 * rank). */
int bench_cluster_gather(MPI_Comm comm, struct bench_cluster *cl);
void bench_cluster_free(struct bench_cluster *cl);
/* Display name of node n: its hostname, or "nodeN" when anonymized. */
const char *bench_node_name(const struct bench_cluster *cl, int n, bool anonymize, char *buf,
			    size_t len);

/* ---- results, table (output.c) and JSON (json.c) -------------------------------------------- */

struct bench_result {
	uint64_t size; /* bytes = count * element size */
	size_t count;
	enum ar_dtype dtype;
	enum ar_op op;
	const char *algo;
	const char *transport;
	bool inplace;
	struct bench_stats time_us; /* over iterations, of the per-iteration time combined over
				     * ranks per -a */
	double algbw, busbw;	    /* GB/s, from time_us.avg */
	uint64_t wrong;		    /* summed over ranks; 0 when -c 0 */
	int slowest_rank;	    /* rank with the largest mean iteration time */
};

void bench_table_header(FILE *f, const struct bench_opts *o, const struct bench_cluster *cl,
			const char *mpi_library);
/* One row: out-of-place and in-place results of the same size, type, op and algorithm. */
void bench_table_row(FILE *f, const struct bench_result *oop, const struct bench_result *ip,
		     bool checked);
/* "# Out of bounds values : N OK|FAILED" and the average busbw per algorithm. */
void bench_table_footer(FILE *f, const struct bench_result *res, size_t n, uint64_t wrong);

struct bench_run_info {
	int argc;
	char **argv;
	const char *mpi_library; /* first line of MPI_Get_library_version */
	const struct bench_cluster *cl;
	const struct bench_opts *o;
};

/* The document without results (version, command, hosts, nodes_info, results: []).  With
 * o->anonymize every hostname is replaced by nodeN in every string of the document.  NULL on
 * out of memory. */
json_t *bench_json_new(const struct bench_run_info *info);
/* Append one result.  0 or -ENOMEM. */
int bench_json_add(json_t *doc, const struct bench_result *r);
/* Replace every occurrence of each hostname (and of its short form before the first '.') in
 * every string of the document by "nodeN" (N = index in hostnames).  0 or -ENOMEM. */
int bench_json_anonymize(json_t *doc, const char *const *hostnames, int n);
/* Write doc to a new path.tmp.PID.N (O_EXCL, never through a planted symlink), then rename to
 * path (a reader never sees half a file), keeping path's mode.  A read-only path is refused
 * (-EACCES), as is a symlink (-ELOOP) or directory (-EISDIR) at path.  0 or -errno. */
int bench_json_write(const json_t *doc, const char *path);

/* ---- the run (sweep.c) ------------------------------------------------------------------- */

/* Run the whole sweep over comm (collective).  Prints the table on rank 0, writes the JSON.
 * Returns an exit code (BENCH_EXIT_*); a runtime failure of a collective prints its error once
 * and calls MPI_Abort.  err/errlen receive a bad-input message for rank 0 to print when the
 * return is BENCH_EXIT_USAGE (same return on every rank). */
int bench_run(MPI_Comm comm, const struct bench_opts *o, int argc, char **argv, char *err,
	      size_t errlen);

/* ---- progress on stderr (progress.c) --------------------------------------------------------- */

/* A long run's progress with an estimate of the time left: printed by one rank on stderr, at
 * most once a second and only once the run has taken 3 s, never with quiet.  Work is counted
 * in any unit that grows about linearly with time (e.g. bytes moved plus a per-message cost). */
struct bench_progress {
	double t_start, t_last; /* MPI_Wtime() seconds */
	double total, done;	/* work units */
	bool enabled;
};

void bench_progress_start(struct bench_progress *p, double total_work, bool enabled);
/* Account done_work more units as finished. */
void bench_progress_add(struct bench_progress *p, double done_work);
/* "[what] ... about N s left" on stderr when due.  what: e.g. "12/40 sizes, 64 MiB ring". */
void bench_progress_show(struct bench_progress *p, const char *what);
/* Seconds left by linear extrapolation of the work done so far; < 0 when unknown. */
double bench_progress_eta(const struct bench_progress *p, double now);

/* ---- the end-of-run summary of a sweep (output.c) ------------------------------------------- */

/* Size bands of the summary: small < 64 KiB <= medium < 1 MiB <= large. */
#define BENCH_BAND_SMALL_MAX (64u << 10)
#define BENCH_BAND_LARGE_MIN (1u << 20)

/* "# Summary" lines: per size band, the algorithm with the highest mean algbw over the band's
 * rows (both placements; busbw orders the same, and algbw still orders on one rank), with its
 * mean busbw and time.  Nothing for a band without rows. */
void bench_table_summary(FILE *f, const struct bench_result *res, size_t n);

/* ---- arbench links: point-to-point bandwidth and latency between nodes (links*.c) ----------- */

enum bench_links_pattern {
	BENCH_LINKS_ALL,	 /* every pair, round-robin (circle method): p-1 or p rounds */
	BENCH_LINKS_RING,	 /* neighbours in node order: 2 rounds, 3 when p is odd */
	BENCH_LINKS_RANDOM_RING, /* neighbours in a random order (--seed) */
	BENCH_LINKS_SHIFT,	 /* round k: every i streams to i+k at once (mpiGraph), k=1..p-1 */
	BENCH_LINKS_BISECTION,	 /* one round: half i paired with half i + p/2, all at once */
	BENCH_LINKS_PATTERN_COUNT
};

const char *bench_links_pattern_name(enum bench_links_pattern pat);
/* 0 or -EINVAL. */
int bench_links_pattern_parse(const char *name, enum bench_links_pattern *out);

/* One measured pair in a round: a and b are participant indices (0..p-1).  In a pairwise
 * pattern every rank is in at most one pair of a round and the pair is measured both ways; in
 * a directed pattern (shift) a streams to b, and every rank sends once and receives once. */
struct bench_link_pair {
	int a, b;
};

struct bench_links_plan {
	bool directed;
	int n_rounds;
	size_t n_pairs;
	struct bench_link_pair *pairs; /* every round's pairs, round after round */
	size_t *round_start;	       /* [n_rounds + 1]: round r is pairs[start[r]..start[r+1]) */
};

/* The rounds of pattern over p participants (p >= 1; p = 1 gives no pairs); seed orders
 * random-ring.  0 or -ENOMEM / -EINVAL. */
int bench_links_plan_build(enum bench_links_pattern pat, int p, unsigned seed,
			   struct bench_links_plan *out);
void bench_links_plan_free(struct bench_links_plan *plan);

/* Median of n values (mean of the middle two when n is even); 0 when n is 0.  Does not
 * modify values. */
double bench_median(const double *values, size_t n);

/* The options of `arbench links`.  common carries the flags it shares with the sweep (-b -e
 * -f -i -n -w -t --ib-dev --gid-index -J --timeout --anonymize -q); the rest of common keeps
 * its defaults. */
struct bench_links_opts {
	struct bench_opts common;
	enum bench_links_pattern pattern; /* --pattern (all) */
	double threshold;		  /* --threshold, in (0, 1] (0.9) */
	bool fail_below;		  /* --fail-below: flagged links make the exit status 1 */
	bool all_ranks;			  /* --all-ranks: every rank, not one per node */
	bool seed_set;
	unsigned seed; /* --seed (random-ring); from the clock when not given */
};

/* Parse `arbench links` arguments (argv[0] is "links").  0 or -EINVAL with a message. */
int bench_links_parse_args(int argc, char **argv, struct bench_links_opts *o, char *err,
			   size_t errlen);
void bench_links_usage(FILE *f);

/* One directed link at one size, as measured (rank 0 keeps these for the output). */
struct bench_link_result {
	int src, dst; /* ranks */
	int src_node, dst_node;
	uint64_t size;	  /* bytes per message */
	double bw_gbps;	  /* src -> dst alone (shift: all streams at once), GB/s = 1e9 B/s */
	double bibw_gbps; /* both directions at once, summed (pairwise patterns; else < 0) */
	double lat_us;	  /* half the round trip of a size-byte ping-pong (shift: see README) */
	bool flagged;
};

/* Links are judged at sizes of at least this (or at the largest size of a run below it):
 * smaller messages measure latency more than bandwidth. */
#define BENCH_LINKS_JUDGE_MIN (64u << 10)

/* Flag, at every size >= judge_min, the results whose one-way bw_gbps is below threshold
 * times the median over all results of that size (the results of one size are consecutive,
 * as a run produces them); smaller sizes are never flagged, nor are both-ways figures (two
 * flows at once are too noisy on a busy machine).  Returns the number flagged.  medians (may
 * be NULL) receives the bandwidth median of each result's size. */
size_t bench_links_flag(struct bench_link_result *res, size_t n, double threshold,
			uint64_t judge_min, double *medians);

/* The JSON entry of one link: {src, dst, src_host, dst_host, size, bw_gbps, bibw_gbps, lat_us,
 * flagged}, hostnames from cl (nodeN with anonymize).  NULL on out of memory. */
json_t *bench_links_json_entry(const struct bench_link_result *r, const struct bench_cluster *cl,
			       bool anonymize);
/* What the output of a links run needs besides the results. */
struct bench_links_view {
	const struct bench_links_opts *o;
	const struct bench_cluster *cl;
	const int *ranks; /* [n_part]: the rank of each participant */
	int n_part;
	int n_rounds;
	unsigned seed;
	uint64_t judge_min; /* sizes judged: at least this */
	const char *mpi_library;
};

/* The run description and the column header of the per-link table. */
void bench_links_header(FILE *f, const struct bench_links_view *v);
/* The rows of one size (res[0..n) all of that size, flagged already; medians per result):
 * every link beside the median, or only the flagged ones when there are more than 64. */
void bench_links_rows(FILE *f, const struct bench_links_view *v,
		      const struct bench_link_result *res, size_t n, const double *medians);
/* At the end: the bandwidth matrix at the largest size and the latency matrix at the
 * smallest (up to 16 participants), then the summary: medians, flagged links with both
 * hostnames, and the hosts every flagged link touches. */
void bench_links_footer(FILE *f, const struct bench_links_view *v,
			const struct bench_link_result *res, size_t n, const double *medians);

/* Run `arbench links` over comm (collective).  Returns an exit code; err as bench_run. */
int bench_links_run(MPI_Comm comm, const struct bench_links_opts *o, int argc, char **argv,
		    char *err, size_t errlen);

/* ---- subcommands ------------------------------------------------------------------------- */

/* `arbench overlap ...` (overlap.c): the measured GPU idle fraction of emulated data-parallel
 * training steps.  The whole command line (argv[1] is "overlap"); MPI initialised with at
 * least MPI_THREAD_FUNNELED.  Returns the exit code; a message for rank 0 to print in err. */
int bench_overlap_main(int argc, char **argv, char *err, size_t errlen);

#endif /* ARBENCH_BENCH_H */
