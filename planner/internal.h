/*
 * internal.h - what the files of planner/ share and nothing outside planner/ (and its tests)
 * may use: algorithm schedules, the prediction engine, calibrations and results files.
 *
 *   schedule.c   an algorithm -> phases of flows between ranks, from allreduce/'s layout code
 *   schedule_hier.c  hier's phases, with schedule.c's builder
 *   flow_ctx.c      the flow engine's context: ranks -> graph vertices, caches, scratch
 *   flow_route.c    a phase's flows routed into its layout (resources per flow, contiguous)
 *   flow_fill.c     max-min fair rates of a layout by progressive filling
 *   flow_predict.c  rates per distinct phase, phase and call times (plan_predict)
 *   model.c      link figures per class (from the topology or a calibration), closed forms
 *   calib.c      calib.yaml in (libcyaml, file:line:column errors) and out
 *   fit.c        fitting a calibration to arbench results (GSL)
 *   results.c    arbench's JSON in (and what both results readers share)
 *   results_nccl.c  nccl-tests' output in (text table or -J JSON)
 *   workload.c   workload YAML in (training jobs for step, compare and sweep)
 *   step.c       one training step on a topology: buckets, idle fraction, MFU, cost
 *   yamlerr.c    the range check of calib.c's and workload.c's numbers (loading: topo_yaml_load)
 *   report*.c    `arplan report`: load, aggregate, gnuplot charts, HTML/Markdown/CSV writers
 *   cmd_*.c      one arplan subcommand each
 */
#ifndef ARBENCH_PLANNER_INTERNAL_H
#define ARBENCH_PLANNER_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "planner/planner.h"
#include "topo/topo.h"

/* ---- link classes of the model ----------------------------------------------------------- */

/* Where a flow runs, for calibration: shared memory between ranks of one CPU host, a GPU's
 * in-node links (NVLink/PCIe, from the topology), the network through NICs. */
enum plan_class { PLAN_C_SHM, PLAN_C_INTRA, PLAN_C_NET, PLAN_C_COUNT };
extern const char *const plan_class_names[PLAN_C_COUNT]; /* "shm", "intra", "net" */

/* ---- calibration ------------------------------------------------------------------------- */

#define PLAN_MAX_ALGOS	 16
#define PLAN_MAX_SOURCES 16

/* One link class's fitted figures.  A step that moves m bytes over a path of this class takes
 * alpha + m / (rate x efficiency), rate being the path's bottleneck share; so the efficiency at
 * message size m is efficiency x m / (m + alpha x rate x efficiency). */
struct plan_link_fit {
	bool set;
	double alpha_s;	   /* per step latency, seconds */
	double efficiency; /* fraction of the nominal rate reached by long transfers */
	double rate;	   /* shm only: bytes/s of the node's memory path (no topology figure) */
	/* coverage: the sizes (bytes per call) and link rates (bytes/s) the fit saw */
	double min_bytes, max_bytes, min_rate, max_rate;
	double rms_rel_residual; /* of the fit, as a fraction */
	unsigned points;
};

/* A per-algorithm correction on top of the link model: time = overhead + scale x model,
 * fitted separately for calls within one host (cls PLAN_C_SHM) and across nodes (PLAN_C_NET):
 * an algorithm's protocol costs differ between shared memory and a network. */
struct plan_algo_fit {
	char name[16];
	int cls; /* PLAN_C_SHM or PLAN_C_NET */
	double scale, overhead_s;
	double rms_rel_residual;
	unsigned points;
};

struct plan_calib {
	struct plan_link_fit link[PLAN_C_COUNT];
	double gamma_s_per_byte; /* reduction cost per byte reduced; 0 when not fitted */
	struct plan_algo_fit algo[PLAN_MAX_ALGOS];
	unsigned n_algo;
	/* provenance */
	char sources[PLAN_MAX_SOURCES][256]; /* results files */
	unsigned n_sources;
	char hosts[512]; /* the hosts the files came from, comma separated (may be cut) */
	char date[32];	 /* UTC, ISO 8601 */
	char arbench_version[32];
};

/* Defaults (no calibration): alpha 0, efficiency 1, shm rate 10 GB/s, gamma 0, scale 1. */
void plan_calib_defaults(struct plan_calib *c);
/* The correction for algo on calls of class cls (PLAN_C_SHM: one host, PLAN_C_NET: several
 * nodes), or NULL. */
const struct plan_algo_fit *plan_calib_algo(const struct plan_calib *c, const char *algo, int cls);
/* Load calib.yaml: 0, or -EINVAL with *err (file:line:column, the expected form). */
int plan_calib_load(const char *path, struct plan_calib *out, struct topo_error *err);
/* Write calib.yaml (documented in configs/README.md).  0 or -EIO. */
int plan_calib_write(const struct plan_calib *c, FILE *f);

/* ---- results files (arbench JSON, nccl-tests output) -------------------------------------- */

struct plan_row {
	size_t size;  /* bytes */
	size_t count; /* elements */
	unsigned esize;
	char algo[16];
	bool inplace;
	double time_us; /* mean */
	double p50_us;
	double busbw;		  /* GB/s as the file gives it */
	char type[12], op[12];	  /* "" when the file does not say (nccl-tests: no op) */
	bool has_spread;	  /* min, p99 and max over iterations recorded (arbench) */
	unsigned long long wrong; /* elements that failed the check (0 unchecked) */
	double min_us, p99_us, max_us;
};

struct plan_results {
	char path[512];
	char arbench_version[32]; /* "" for nccl-tests */
	int ranks, nodes;
	int *node_of_rank;    /* [ranks] */
	char **hosts;	      /* [nodes] */
	size_t segment_bytes; /* 0 = library default */
	int max_inflight;     /* 0 = library default */
	struct plan_row *rows;
	size_t n_rows;
};

/* Read an arbench results file (schema version 1).  0, or -EINVAL with one line in msg naming
 * the file and what is wrong (truncated, not arbench's, a newer schema version). */
int plan_results_load(const char *path, struct plan_results **out, char *msg, size_t msglen);
void plan_results_free(struct plan_results *r);
/* The same, for reports: also hands back the parsed document in *doc (the caller's to
 * json_decref), and with links_ok a file with a "links" list and no "results" (arbench links)
 * loads, with no rows. */
struct json_t;
int plan_results_load_doc(const char *path, bool links_ok, struct plan_results **out,
			  struct json_t **doc, char *msg, size_t msglen);
/* A row's measured time in seconds as the planner compares it: the median over iterations
 * (time_us.p50), or the mean where the file has no median. */
double plan_row_seconds(const struct plan_row *row);
/* Read nccl-tests all_reduce_perf output: its text table or its -J JSON (schema 2).  The log
 * does not say how ranks sit on nodes: ranks and nodes come from the caller; the "Rank N on
 * HOST" lines, when the log has one per rank, give the placement and host names (else ranks
 * are placed in blocks and named node0, node1, ...).  Rows: out-of-place times, algo "nccl".
 * 0, or -EINVAL with one line in msg, or -ENOMEM. */
int plan_results_load_nccl(const char *path, int ranks, int nodes, struct plan_results **out,
			   char *msg, size_t msglen);
/* What results.c and results_nccl.c share: an element size by type name (arbench's and
 * nccl-tests' names; 0 when unknown), an empty result set, a row appended (capacity in *cap),
 * the whole file NUL-terminated (0, or -EINVAL with msg), whitespace skipped, text parsed as
 * JSON (NULL with msg saying truncated or not JSON), whether text is nccl-tests' table. */
unsigned plan__type_size(const char *name);
struct plan_results *plan__results_new(const char *path, int ranks, int nodes);
int plan__results_add_row(struct plan_results *r, size_t *cap, const struct plan_row *row);
int plan__slurp(const char *path, char **buf, size_t *len, char *msg, size_t msglen);
const char *plan__skip_space(const char *s);
struct json_t *plan__parse_json(const char *path, const char *text, size_t len, char *msg,
				size_t msglen);
bool plan__looks_like_nccl_text(const char *text);
/* An integer member key of object o that is at least min into *out: 0, else -EINVAL. */
int plan__json_int(struct json_t *o, const char *key, long long min, long long *out);

/* ---- schedules --------------------------------------------------------------------------- */

struct plan_flow {
	uint32_t src, dst; /* ranks */
	double bytes;	   /* per repetition of the phase */
};

/* A set of flows that run at once, repeated `repeat` times one after another.  Each repetition
 * costs the per-step latency once and reduces reduce_bytes on the busiest rank. */
struct plan_phase {
	struct plan_flow *flows;
	size_t n_flows;
	double repeat;
	double reduce_bytes;
	uint64_t pattern;  /* hash of the flows' (src, dst) set: equal patterns share rates */
	double fill_steps; /* pipelining: extra steps to fill and drain (tree: 2 (depth - 1)),
			    * each at the flows' uncontended rates */
	bool memory;	   /* copies through a node's shared memory, not transport messages */
	/* the flows come in groups of this many, one per node, each inside its node: when the
	 * groups' routes turn out alike and apart, the filling fills the first and copies it
	 * (flow_fill.c); 0 when the schedule knows of no such groups */
	size_t group;
};

struct plan_schedule {
	char algo[16];
	int ranks;
	size_t count, esize;
	struct plan_phase *phases;
	size_t n_phases;
};

/* The library's settings that shape a schedule. */
struct plan_lib_settings {
	size_t segment_bytes; /* 0 = the library's default */
	int max_inflight;
};

/* Build the schedule of algo ("ring", "tree", "rhd", "hier") for count elements of esize bytes
 * over ranks placed as node_of_rank (NULL: one node each).  0, -ENOENT unknown algorithm, or
 * -ENOMEM. */
int plan_schedule_build(const char *algo, int ranks, const int *node_of_rank, size_t count,
			size_t esize, const struct plan_lib_settings *set,
			struct plan_schedule *out);
void plan_schedule_free(struct plan_schedule *s);
/* The same phases (pattern set), handed one at a time to each(arg, phase), which may not keep
 * the phase: its memory is reused for the next (a 128k-rank rhd holds one phase of 34, not
 * all).  0, each()'s first error (the build stops there), or plan_schedule_build's errors. */
typedef int (*plan_phase_fn)(void *arg, const struct plan_phase *ph);
int plan_schedule_each(const char *algo, int ranks, const int *node_of_rank, size_t count,
		       size_t esize, const struct plan_lib_settings *set, plan_phase_fn each,
		       void *arg);
/* Total bytes rank src sends to rank dst in the whole call, into bytes[src * ranks + dst]
 * (what the library's transport carries: hier's shared-memory stage is not counted). */
void plan_schedule_bytes(const struct plan_schedule *s, double *bytes);
extern const char *const plan_algos[]; /* NULL-terminated: ring, tree, hier, rhd */
/* Forms the library does not run but GPU clusters do (NCCL): "nccl-ring". */
extern const char *const plan_gpu_algos[];

/* ---- building schedules (schedule.c; schedule_hier.c builds hier with these) -------------- */

/* A growing list of phases; or, streaming (each set), one phase at a time: a phase is handed
 * to each() when the next one starts or the build ends, and its flows' memory is reused. */
struct plan_builder {
	struct plan_schedule *s;
	size_t cap;
	plan_phase_fn each;
	void *arg;
	size_t flow_cap; /* streaming: room in the one phase's flows */
	int err;	 /* streaming: what each() returned */
};

/* A new phase with room for max_flows flows (repeat 1), or NULL (out of memory, or each()'s
 * error on the previous phase, kept in b->err). */
struct plan_phase *plan_add_phase(struct plan_builder *b, size_t max_flows);
/* Append the flow src -> dst (room reserved); none when bytes <= 0 or src == dst. */
void plan_add_flow(struct plan_phase *ph, int src, int dst, double bytes);
/* The library's pipelining segment under set (its default when 0). */
size_t plan_seg_bytes(const struct plan_lib_settings *set);
/* The ring and Rabenseifner over the ranks map[0..p-1], count elements of esize bytes, each
 * phase repeated times; hier's schedule.  0 or -ENOMEM. */
int plan_ring_phases(struct plan_builder *b, const int *map, int p, size_t count, size_t esize,
		     double times);
int plan_rhd_phases(struct plan_builder *b, const int *map, int p, size_t count, size_t esize,
		    double times);
int plan_hier_phases(struct plan_builder *b, int p, const int *node_of_rank, size_t count,
		     size_t esize, const struct plan_lib_settings *set);

/* ---- engine ------------------------------------------------------------------------------ */

enum plan_engine { PLAN_ENGINE_FLOW, PLAN_ENGINE_CLOSED };
enum plan_ecmp { PLAN_ECMP_HASH, PLAN_ECMP_SPREAD };

struct plan_setup {
	const struct topo_graph *g; /* NULL: a single CPU host (every flow is shared memory) */
	int ranks;
	const int *node_of_rank;      /* [ranks]; NULL: block placement, ranks_per_node each */
	int ranks_per_node;	      /* with node_of_rank NULL */
	struct plan_lib_settings lib; /* as the measured runs used */
	enum plan_engine engine;
	enum plan_ecmp ecmp;
	const struct plan_calib *calib; /* NULL: topology figures only */
	/* ECMP hash: 0 = one fixed hash per (source, destination) pair; else every flow's
	 * hash is drawn anew from this seed (plan_ctx_reseed; `arplan predict --ecmp sample`) */
	uint64_t ecmp_seed;
	/* connections per flow, each hashed onto its own path and carrying an equal share
	 * (Open MPI's TCP BTL with btl_tcp_links 2 opens 2 per peer); 0 or 1: one */
	unsigned ecmp_conns;
};

struct plan_prediction {
	double time_s;
	double bound_s;	      /* 2(p-1)/p n / B, B the slowest endpoint's injection rate */
	int bottleneck_class; /* TOPO_L_* of the most utilised link, -1 none (shared memory) */
	int bottleneck_tier;  /* fabric tier of that link (lower end), -1 when not fabric */
	double utilisation;   /* of that link, busiest phase, 0..1 */
	bool extrapolated;    /* outside the sizes or rates the calibration covered */
};

struct plan_ctx;
/* Map ranks to vertices and prepare routing.  0, -EINVAL with msg (fewer endpoints than
 * ranks, ...), or -ENOMEM. */
int plan_ctx_new(const struct plan_setup *s, struct plan_ctx **out, char *msg, size_t msglen);
void plan_ctx_free(struct plan_ctx *c);
/* Draw every flow's ECMP hash anew from seed (hash mode): forgets the routes and rates. */
void plan_ctx_reseed(struct plan_ctx *c, uint64_t seed);
/* The host link rates (bytes/s) of the ranks' NICs, and the number of nodes used. */
void plan_ctx_rates(const struct plan_ctx *c, double *net_min, double *net_max, int *nodes);
/* Shared memory's rate when no calibration gives one (bytes/s). */
#define PLAN_SHM_RATE 10e9

/* Fit link figures (alpha, efficiency, shm rate), gamma and per-algorithm corrections to the
 * rows of n results files, each with a context whose calib points at out (which the fit
 * changes as it goes).  min_bytes: rows below are left out.  Prints the fitted values and
 * residuals to report.  0, -EINVAL with msg (too few rows), -ENOMEM. */
struct plan_fit_input {
	const struct plan_results *res;
	struct plan_ctx *ctx;
	const char *topo; /* its topology file, or NULL (one CPU host) */
};
int plan_fit(const struct plan_fit_input *in, size_t n, size_t min_bytes, struct plan_calib *out,
	     FILE *report, char *msg, size_t msglen);
/* Predict one all-reduce of bytes (count = bytes / esize elements) with algo.
 * 0, -ENOENT unknown algorithm, -ENOMEM. */
int plan_predict(struct plan_ctx *c, const char *algo, size_t bytes, size_t esize,
		 struct plan_prediction *out);

/* ---- training workloads (workload.c) and the step model (step.c) --------------------------- */

/* A training job (configs/README.md, "Workload files"). */
struct plan_workload {
	char path[512];
	char name[64];
	/* model */
	double params;	      /* total parameters */
	double active_params; /* used per token (MoE: fewer than params); = params when dense */
	unsigned layers, hidden, heads, vocab; /* 0 when not given */
	unsigned seq_len;
	unsigned experts, top_k; /* MoE: experts per layer and per token; 1, 1 when dense */
	/* training */
	double global_tokens; /* tokens per step */
	double train_tokens;  /* tokens to train (for days); 0 = not given */
	unsigned micro_batches;
	unsigned grad_bytes, param_bytes; /* bytes per element (bf16: 2) */
	double optimizer_bytes;		  /* per parameter (Adam + fp32 master: 12) */
	bool shard_optimizer;		  /* ZeRO-1: optimizer states split over data parallel */
	char gpu[64];			  /* catalog GPU */
	bool gpu_follow_topology;	  /* the topology's GPU where its nodes name another */
	double matmul_eff;		  /* achieved fraction of peak in matmuls */
	unsigned dp, tp, pp, ep;	  /* dp 0: the topology's GPUs / (tp x pp) */
	unsigned vstages;		  /* interleaved pipeline: stages per GPU (1) */
	size_t bucket_bytes;		  /* DDP gradient bucket */
	bool overlap;			  /* all-reduce buckets during backward */
	double ckpt_bytes, ckpt_rate;	  /* checkpoint size, write bandwidth (bytes/s) */
	/* passes over the layers per micro-batch: 3 (forward, backward), 4 with recompute: full */
	unsigned passes;
	/* set by the command line, not the file */
	double scale;  /* compute, gradients and buckets x scale (arplan step --scale; 1) */
	char algo[16]; /* the data-parallel all-reduce's algorithm ("": the fastest) */
};

/* Load a workload YAML file: 0, or -EINVAL with *err (file:line:column, the expected form),
 * or -ENOMEM. */
int plan_workload_load(const char *path, struct plan_workload *out, struct topo_error *err);

/* One training step of a workload on a topology. */
struct plan_step {
	int world, dp, tp, pp, ep;
	double peak_flops;	/* per GPU, dense BF16, FLOP/s */
	double flops_per_token; /* 6 x active params + 12 x layers x hidden x seq_len */
	double compute_s;	/* per step at the achieved efficiency, no bubble, with any
				 * recomputed forward */
	double model_share;	/* model FLOPs / executed FLOPs: 3 / passes */
	double bwd_window_s;	/* backward of the last micro-batch: where buckets overlap */
	double bubble_s, bubble_frac;
	double tp_s, ep_s; /* tensor-parallel all-reduces, expert all-to-all (exposed) */
	double grad_bytes; /* per GPU */
	double mem_gb;	   /* per GPU: weights, gradients, optimizer */
	unsigned n_buckets;
	double bucket_s, bucket_busbw; /* one full bucket's all-reduce, its busbw (GB/s) */
	char algo[16];		       /* the fastest algorithm at the bucket size */
	double allreduce_s;	       /* all buckets, one after another */
	double dp_exposed_s;	       /* f_last - backward end */
	double step_s;		       /* compute + bubble + tp + ep + dp exposed */
	double idle_frac;	       /* (dp exposed + tp + ep) / step */
	double net_rate;	       /* per-GPU inter-node rate now, bytes/s */
	double hide_rate;	       /* ... that fits the all-reduce in the backward window */
	double tokens_per_s;
	double job_mtbf_h, ckpt_write_s, ckpt_interval_s, ckpt_share;
	double system_eff, mfu;
	double days; /* to train train_tokens, checkpoints included; 0 when not given */
	double capex_usd, network_usd, kw; /* from the bill of materials */
	double eff_pflops;		   /* world x peak x MFU */
	/* the GPU the figures are of: the topology's when its nodes name a catalog GPU other
	 * than the workload's (gpu_of_topology), else the workload's */
	char gpu[64];
	bool gpu_of_topology;
	int domain_gpus, domain_nodes; /* scale-up domains (GB200 NVL72): GPUs and nodes of
					* one; 0 when the topology has none */
	int node_gpus; /* GPUs on one NVLink switch: of a node, or of a scale-up domain */
	int tp_span;   /* graph nodes (NVLink domains) a tensor group spans: > 1 when it is
			* larger than one, its all-reduces then cross the NIC fabric */
};

/* The step model.  0; -EINVAL with one line in msg (degrees against the topology's GPUs, the
 * GPU not in the catalog, a model that does not fit in memory); -ENOMEM.  Tensor and expert
 * groups are placed inside a graph node where they fit (the NVLink domain where the topology
 * has scale-up domains; a larger tensor group spans out->tp_span of them), and the
 * data-parallel all-reduce's node level is that node. */
int plan_step_run(const struct plan_workload *w, const struct topo_desc *d,
		  const struct topo_graph *g, const struct plan_calib *calib, struct plan_step *out,
		  char *msg, size_t msglen);
/* The step's compute and bucket schedule (the public struct plan_timeline) for the degrees
 * and peak in o (resolved), w->scale applied; also sets o's compute, bubble and window figures.
 * 0 or -ENOMEM. */
int plan_step_timeline(const struct plan_workload *w, struct plan_step *o, struct plan_timeline *t);
/* Pipeline bubble (p - 1) / (m + p - 1); with v interleaved stages per GPU, call it with
 * m = v x m. */
double plan_bubble(int p, int m);
/* Young's optimal checkpoint interval sqrt(2 x cost x MTBF) and the share of time it loses,
 * cost / interval + interval / (2 MTBF) (at most 1). */
double plan_ckpt_interval(double cost_s, double mtbf_s);
double plan_ckpt_share(double cost_s, double mtbf_s);
/* Buckets i = 0..n-1 ready at ready[i], all-reducing for cost[i], one at a time:
 * f_i = max(r_i, f_{i-1}) + c_i.  Returns f_{n-1} (0 when n is 0). */
double plan_bucket_finish(const double *ready, const double *cost, size_t n);

/* ---- up/down routes on layered fabrics (route_updown.c) --------------------------------- */

struct plan_updown;
/* Tables for g when every switch-switch link joins tier t to t+1 and every NIC hangs off one
 * leaf; NULL otherwise (or out of memory). */
struct plan_updown *plan_ud_build(const struct topo_graph *g);
void plan_ud_free(struct plan_updown *u);
/* One shortest path va -> vb (GPUs or NICs of different nodes) through their own NICs, chosen
 * by hash at every up and down step: its directed resources (2 x link, + 1 when the link is
 * crossed from its b end) into res[max].  The hop count, or -1 when the
 * pair is not for this router (no own NIC, GPUs of different local index: another NIC may be
 * as short). */
int plan_ud_path(const struct plan_updown *u, const struct topo_graph *g, uint32_t va, uint32_t vb,
		 uint64_t hash, uint32_t *res, int max);
/* The same in two steps: what a route needs of each end (once per rank), then the route. */
struct plan_ud_end {
	uint32_t gpu_res; /* GPU -> its NIC, UINT32_MAX when the end is the NIC */
	uint32_t nic_res; /* NIC -> its leaf */
	uint32_t leaf, leafno;
	uint16_t local;
	bool gpu, ok; /* ok: the end has its own NIC on a leaf */
};
void plan_ud_end(const struct plan_updown *u, const struct topo_graph *g, uint32_t v,
		 struct plan_ud_end *e);
int plan_ud_route(const struct plan_updown *u, const struct plan_ud_end *a,
		  const struct plan_ud_end *b, uint64_t hash, uint32_t *res, int max);

/* ---- the flow engine's parts (flow_*.c; nothing else uses these) -------------------------
 *
 * Resources: each direction of each graph link (2 x link, + 1 for b -> a), then one
 * shared-memory resource per node (shm_base + node).  A phase's layout lists, flow after flow,
 * the resources each flow uses and the fraction of the flow on each.  The context keeps what
 * outlives a phase: routes found by search (per vertex pair), the rates of every distinct
 * phase (per flow pattern), and scratch space reused from phase to phase. */

/* One phase's flows routed: flow f uses res[start[f] .. start[f + 1]), with frac[] of its
 * rate on each (ECMP spread and connections split a flow; unit: every fraction is 1 and
 * frac[] is not written); cls[f] its enum plan_class. */
struct plan_layout {
	size_t n_flows, n_uses;
	size_t group; /* the phase's groups of flows (struct plan_phase) */
	bool unit;
	uint32_t *start;
	uint32_t *res;
	double *frac;
	uint8_t *cls;
	size_t cap_flows, cap_uses;
};

/* The rates of one distinct phase (per flow, in the phase's order).  A filling may stop once
 * the flows left cannot be the slowest of the phase that asked (struct plan_fill_stop): their
 * rate is then NAN, and each is at least `lower`; a phase that finds them possibly slowest has
 * the pattern filled to the end. */
struct plan_pattern {
	uint64_t hash;
	size_t n_flows;
	double lower;	 /* > 0: partial, the NAN rates are >= lower; 0: every rate known */
	double *rate;	 /* bytes/s (a shared-memory flow: a share of its node's memory) */
	uint8_t *cls;	 /* enum plan_class */
	double *alone;	 /* bytes/s the flow would get on its own; NULL unless a phase
			  * that pipelines (fill steps) asked for the pattern */
	uint32_t *limit; /* the resource that set the flow's rate, PLAN_NO_LIMIT none */
	double *load;	 /* utilisation of that resource */
};

/* A route found by search: uses arena_res/arena_frac[off .. off + n). */
struct plan_route {
	uint64_t key; /* (src << 32 | dst) + 1 of the vertex pair, 0 = empty slot */
	uint32_t off, n;
};

/* Scratch of the filling, grown as needed and kept (flow_fill.c). */
struct plan_fill_scratch {
	uint32_t
		*tag; /* [n_res]: a resource's uses in the phase, then its shared number; 0 after */
	size_t cap_flows, cap_uses, cap_res;
	void *shared, *shared_fixed, *heap;
	uint32_t *csr, *fsh_start, *fsh_id, *order, *order_tmp;
	double *csr_frac, *fsh_frac, *fcap, *lim_frac;
	double *first_key;	       /* [shared]: the level at which each fills first */
	uint32_t *by_key, *by_key_tmp; /* [shared]: numbers sorted by (first_key, number) */
	bool *frozen;
};

#define PLAN_PATTERN_CACHE 256
#define PLAN_FILL_MARGIN   1e-9 /* a partial pattern's lower bound, below the next level */
#define PLAN_NO_LIMIT	   UINT32_MAX
#define PLAN_CAP_VALUES	   16

struct plan_ctx {
	struct plan_setup s;
	int n_nodes;
	int *node;	/* [ranks] node of each rank */
	uint32_t *vert; /* [ranks] endpoint vertex (GPU, else NIC); UINT32_MAX without graph */
	uint32_t n_res, shm_base;
	double *cap; /* [n_res] bytes/s (shared memory: 1, the calibrated rate multiplies) */
	/* the same as an index into cap_value when there are few distinct capacities (a
	 * small array stays in cache where cap does not); NULL otherwise */
	uint8_t *cap_index;
	double cap_value[PLAN_CAP_VALUES];
	struct topo_router *router;
	struct plan_updown *ud;	    /* fast routes on layered fabrics; NULL: search every pair */
	struct plan_ud_end *ud_end; /* [ranks] each rank's end of its up/down routes */
	/* routes found by search, per vertex pair (open addressing) */
	struct plan_route *routes;
	size_t routes_cap, routes_used;
	uint32_t *arena_res;
	double *arena_frac;
	size_t arena_n, arena_cap;
	struct plan_pattern patterns[PLAN_PATTERN_CACHE];
	size_t n_patterns;
	struct plan_layout layout; /* the phase being routed */
	struct plan_fill_scratch fill;
	double net_rate_min, net_rate_max;	 /* host link rates of the ranks' NICs */
	double node_inject_min, node_inject_sum; /* bytes/s: nodes' NIC totals */
	double gpu_inject_min;			 /* bytes/s: a GPU's links, 0 none */
	int ranks_per_node_max;
};

/* Forget every pattern's rates (flow_ctx.c). */
void plan_flow_drop_patterns(struct plan_ctx *c);
/* Route the flows of ph into c->layout.  0, -ENOMEM, or the router's error. */
int plan_flow_route(struct plan_ctx *c, const struct plan_phase *ph);
/* What a phase's time needs of its rates (flow_predict.c): step time = max over flows of
 * alpha[class] + bytes / (rate x scale[class]), so flows whose rate is high enough cannot be
 * the slowest. */
struct plan_fill_stop {
	const struct plan_phase *ph;
	const double *alpha, *scale; /* [PLAN_C_COUNT] */
};
/* The step time bound of flows of class cl carrying at most bytes at a rate of at least rate
 * (the same expression as a flow's, so the bound holds in floating point too). */
static inline double plan_flow_time(const double *alpha, const double *scale, unsigned cl,
				    double bytes, double rate)
{
	double r = rate * scale[cl];

	return alpha[cl] + (r > 0 && r < INFINITY ? bytes / r : 0);
}
/* Max-min fair rates of the flows of c->layout into pat (its arrays allocated for the
 * layout's flows).  With stop, the filling ends as soon as every flow not yet frozen is
 * faster (by plan_flow_time) than the slowest frozen one, and pat is partial.  0 or
 * -ENOMEM. */
int plan_flow_fill(struct plan_ctx *c, struct plan_pattern *pat, const struct plan_fill_stop *stop);

/* ---- reports: `arplan report` (report*.c) ------------------------------------------------- */

/* One point-to-point measurement of `arbench links`: rank src to rank dst. */
struct plan_rpt_link {
	int src, dst;
	char *src_host, *dst_host;
	size_t size; /* bytes per message */
	double bw_gbps, lat_us;
	bool flagged; /* as arbench flagged it (below its threshold of the median) */
};

/* One node's hardware as arbench's hwloc discovery recorded it (strings "" when unknown). */
struct plan_rpt_node {
	char *name, *cpu_model;
	int cores, pus, numa_nodes; /* -1 unknown */
	char *nics;		    /* "eth0 (100 Gbit/s, NUMA 0, RDMA), ..." */
	char *gpus;		    /* "2 x NVIDIA H100 (NUMA 0, 1)" */
};

/* One input file. */
struct plan_rpt_file {
	char *name; /* the path as given; "results file N" with --anonymize */
	struct plan_results *res;
	char *arbench_version, *mpi_library, *transport, *command; /* "" unknown or hidden */
	char *settings; /* "20 iterations after 5 warm-up, times averaged over ranks, ..." */
	struct plan_rpt_node *nodes;
	int n_nodes; /* of nodes_info (0: not recorded) */
	struct plan_rpt_link *links;
	size_t n_links;
};

/* One algorithm at one size, over every row of it (files, types, ops, placements): medians. */
struct plan_rpt_point {
	char algo[16];
	size_t size;
	size_t rows, wrong;
	double busbw;		  /* GB/s */
	double p50_us, p99_us;	  /* p99 < 0: not recorded */
	double min_us, max_us;	  /* over all rows; < 0: not recorded */
	double spread;		  /* p99 / p50, < 0: not recorded */
	double pred_us, bound_us; /* predicted time and lower bound; < 0: not predicted */
	double pred_busbw, bound_busbw;
	bool extrapolated;
	size_t first_ref, n_refs; /* its rows: plan_report.refs[first_ref ...] */
};

/* A row of one of the files. */
struct plan_rpt_ref {
	unsigned file;
	const struct plan_row *row;
};

/* The best algorithm in a band of sizes [lo, hi). */
struct plan_rpt_band {
	const char *label;
	size_t lo, hi;
	char best[16]; /* "" when the band has no rows */
	unsigned wins, sizes;
	double busbw; /* the best algorithm's median busbw at the largest size of the band */
};

#define PLAN_RPT_BANDS 3

struct plan_report {
	struct plan_rpt_file *files;
	size_t n_files;
	struct plan_rpt_point *points; /* by algorithm (first seen), then size */
	size_t n_points;
	struct plan_rpt_ref *refs; /* every row, grouped as the points */
	char (*algos)[16];
	size_t n_algos;
	int ranks, nodes; /* of the first file with rows */
	/* the link matrix: links of the largest size measured, from the first file that has them */
	const struct plan_rpt_link **links;
	size_t n_links, n_flagged, link_size;
	int link_ranks;	    /* matrix dimension: 1 + the largest rank */
	double link_median; /* GB/s */
	/* prediction: NULL when not given; the paths "" with --anonymize */
	char *topo_name, *topo_path, *calib_path;
	/* summary */
	struct plan_rpt_band bands[PLAN_RPT_BANDS];
	double expect_gbps; /* 0: no --expect */
	double peak_busbw;  /* best median busbw at sizes >= 1 MiB (all sizes when none) */
	char peak_algo[16];
	size_t peak_size;
	bool peak_large;   /* the peak is from sizes >= 1 MiB */
	double peak_bound; /* the lower bound's busbw at peak_size, 0 unknown */
	int verdict;	   /* -1 no --expect, 0 fail, 1 pass */
	bool anonymized;
	char date[32]; /* UTC */
};

struct plan_calib;
/* Read the files into r (zeroed by the caller): rows, inventory, links.  0, or -EINVAL with
 * one line in msg naming the file and what is wrong (also: neither results nor links), or
 * -ENOMEM. */
int plan_rpt_load(struct plan_report *r, char *const *paths, size_t n, char *msg, size_t msglen);
/* Medians per algorithm and size, and the link matrix.  0 or -ENOMEM. */
int plan_rpt_aggregate(struct plan_report *r);
/* Predicted time and lower bound of every point on the topology g (calib may be NULL).
 * 0, -EINVAL with msg (the results do not fit the topology), -ENOMEM. */
int plan_rpt_predict(struct plan_report *r, const struct topo_graph *g,
		     const struct plan_calib *calib, char *msg, size_t msglen);
/* The summary: best algorithm per band of sizes, the peak busbw, the verdict on expect_gbps. */
void plan_rpt_summarise(struct plan_report *r);
/* Replace every host name, user name and path by neutral names.  0 or -ENOMEM. */
int plan_rpt_anonymize(struct plan_report *r);
void plan_rpt_free(struct plan_report *r);

/* A chart: gnuplot's SVG, inlined. */
struct plan_rpt_chart {
	const char *id, *title, *caption;
	char *svg;     /* NULL: not rendered (--format md/csv, or the fuzz target) */
	size_t points; /* data points plotted */
};

#define PLAN_RPT_MAX_CHARTS 5
/* Write each chart's gnuplot script and data into dir (made when missing) and run gnuplot there
 * once; reads the SVGs back into charts[].svg.  0, -EINVAL with msg (dir unusable), -EIO with
 * msg (gnuplot missing or failed), -ENOMEM. */
int plan_rpt_plot(const struct plan_report *r, const char *dir, struct plan_rpt_chart *charts,
		  size_t *n_charts, char *msg, size_t msglen);
void plan_rpt_charts_free(struct plan_rpt_chart *charts, size_t n);
/* Run `gnuplot ID.gp ...` in dir (report_gnuplot.c).  0, or -EIO with gnuplot's error line (or
 * that it is not installed) in msg. */
int plan_rpt_gnuplot(const char *dir, const char *const *ids, size_t n, char *msg, size_t msglen);
/* dir/ID.svg for inlining in a page: from "<svg" on, ids prefixed "ID-"; NULL if unreadable. */
char *plan_rpt_svg(const char *dir, const char *id);

/* The writers.  0 or -EIO. */
int plan_rpt_html(const struct plan_report *r, const struct plan_rpt_chart *charts, size_t n,
		  FILE *f);
int plan_rpt_markdown(const struct plan_report *r, FILE *f);
int plan_rpt_csv(const struct plan_report *r, FILE *f);
/* Text escaped for HTML (also inside attributes), a Markdown table cell, a CSV field (quoted
 * when needed; a leading = + - @ made inert for spreadsheets).  Control characters, unpaired
 * bidirectional overrides and non-characters become U+FFFD. */
void plan_html_text(FILE *f, const char *s);
void plan_md_text(FILE *f, const char *s);
void plan_csv_text(FILE *f, const char *s);
/* "8 B", "64 KiB", "1.5 MiB" */
void plan_rpt_size(size_t bytes, char *buf, size_t len);

/* A topology file loaded and expanded, or a calibration file loaded (calib.c): on a bad
 * file its one-line file:line:column error on err and PLAN_EXIT_USAGE; out of memory:
 * PLAN_EXIT_INTERNAL; else PLAN_EXIT_OK. */
int plan_load_topology(const char *path, struct topo_desc **d, struct topo_graph **g, FILE *err);
int plan_load_calib(const char *path, struct plan_calib *c, FILE *err);

/* "path: message" into msg (results.c, report_load.c); returns -EINVAL. */
int plan_file_error(char *msg, size_t len, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* ARBENCH_PLANNER_INTERNAL_H */
