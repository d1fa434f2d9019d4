/*
 * links.c - `arbench links`: point-to-point bandwidth and latency between nodes over the
 * transport ops table (MPI point-to-point, or verbs with -t verbs), the ib_write_bw /
 * ib_send_lat of arbench.
 *
 * Who takes part: the first rank of every node of the cluster map (bench/gather.c), or every
 * rank with --all-ranks; they get their own communicator and transport, the other ranks wait.
 * Which pairs: a plan of rounds (links_plan.c); the pairs of one round run at the same time,
 * every phase started by a barrier of the participants so that concurrent pairs overlap.
 *
 * Per size S, with a window W = 1 MiB / S clamped to [1, 64] messages (osu_bw's idea: keep
 * the wire busy when messages are small), every figure from the median of the timed
 * iterations (a link that is slow is slow in every iteration; a process descheduled on a busy
 * machine slows only a few):
 *   one-way a -> b: per iteration a posts W sends, b W receives and then a 1-byte ack;
 *                   bw = W x S / a's iteration time (then b -> a the same way);
 *   both ways:      per iteration both post W receives and W sends; bibw = 2 x W x S / the
 *                   slower side's iteration time to its last receive;
 *   latency:        a ping-pong of S bytes, lat = half a's round trip.
 * shift rounds (every i streams to i+k at once): bw of src -> me = W x S / my iteration time
 * to the last receive; lat = my time per exchange (send to i+k, receive from i-k), about the
 * one-way latency under load.
 * Participant 0 (rank 0) gathers every round's figures, flags the links of a size when it is
 * complete, prints its rows and rewrites the JSON.
 */
#include "bench/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SIZES    4096
#define WINDOW_MAX   64
#define WINDOW_BYTES (1u << 20)
#define TAG_DATA     1
#define TAG_ACK	     2
#define TAG_PING     3

struct links {
	MPI_Comm comm;
	struct bench_live live; /* every rank of comm, for the failure report */
	int rank, nranks;
	const struct bench_links_opts *o;
	int argc;
	char **argv;
	char mpi_library[256];
	struct bench_cluster cl;
	int *ranks;	       /* [n_part] participant -> rank */
	int n_part, me;	       /* me: my participant index, -1 when I only wait */
	MPI_Comm pcomm, tcomm; /* participants; a dup of it for the transport */
	const struct ar_transport_ops *tops;
	struct ar_transport *tr;
	struct bench_links_plan plan;
	unsigned seed;
	uint64_t sizes[MAX_SIZES];
	size_t n_sizes;
	uint64_t judge_min; /* sizes judged: >= 64 KiB, or the largest when all are smaller */
	char *sbuf, *rbuf;
	double *samples; /* [iters]: one per timed iteration */
	int stall_rank;	 /* test hook (ARBENCH_TEST_STALL_RANK), -1 when unset */
	double stall_sec;
	char ack;
	/* participant 0 */
	struct bench_link_result *res;
	double *medians;
	size_t n_res, cap_res;
	json_t *doc;
	bool json_failed;
	struct bench_progress prog;
};

/* What one participant measured in a round: its peer and figures (-1: none). */
struct report {
	double peer, bw, bibw, lat;
};

static size_t window_of(uint64_t size)
{
	uint64_t w = WINDOW_BYTES / (size ? size : 1);

	return w < 1 ? 1 : w > WINDOW_MAX ? WINDOW_MAX : (size_t)w;
}

/* ---- transfers ----------------------------------------------------------------------------- */

static _Noreturn void transfer_failed(struct links *l, int err, int peer, const char *what,
				      uint64_t size)
{
	const char *detail = l->tops->last_error ? l->tops->last_error(l->tr) : NULL;
	char text[2 * BENCH__ERRTEXT + 256], me[256], them[256], sz[32];

	bench_node_name(&l->cl, l->cl.map.node_of_rank[l->rank], l->o->common.anonymize, me,
			sizeof(me));
	bench_node_name(&l->cl, l->cl.map.node_of_rank[l->ranks[peer]], l->o->common.anonymize,
			them, sizeof(them));
	snprintf(text, sizeof(text), "rank %d (%s): %s rank %d (%s) at %s failed: %s", l->rank, me,
		 what, l->ranks[peer], them, bench_fmt_bytes(size, sz, sizeof(sz)),
		 err == -ETIMEDOUT ? "timed out (--timeout)"
		 : detail	   ? detail
				   : strerror(-err));
	bench__collective_failed(&l->live, text);
}

static double deadline(const struct links *l)
{
	return l->o->common.timeout > 0 ? MPI_Wtime() + l->o->common.timeout : 0;
}

/* Post count transfers of size bytes with peer (sends from sbuf, receives into rbuf slots). */
static void post(struct links *l, bool send, int peer, int tag, size_t count, uint64_t size,
		 struct ar_request **req, const char *what)
{
	for (size_t i = 0; i < count; i++) {
		int rc = send ? l->tops->isend(l->tr, l->sbuf, size, peer, tag, &req[i])
			      : l->tops->irecv(l->tr, l->rbuf + i * size, size, peer, tag, &req[i]);

		if (rc)
			transfer_failed(l, rc, peer, what, size);
	}
}

static void wait_all(struct links *l, struct ar_request **req, size_t count, int peer,
		     uint64_t size, const char *what)
{
	double dl = deadline(l);

	for (size_t i = 0; i < count; i++) {
		int rc = l->tops->wait(l->tr, req[i], dl);

		if (rc)
			transfer_failed(l, rc, peer, what, size);
	}
}

/* The median of the timed iterations' samples (seconds). */
static double median_sample(const struct links *l)
{
	return bench_median(l->samples, (size_t)l->o->common.iters);
}

/* Record iteration it's time since t0 when it is a timed one. */
static void sample(struct links *l, int it, double t0)
{
	if (it >= l->o->common.warmup)
		l->samples[it - l->o->common.warmup] = MPI_Wtime() - t0;
}

/* One-way: me streams W messages to peer (send) or receives them, then the receiver acks;
 * returns the sender's median seconds per iteration (0 on the receiving side). */
static double one_way(struct links *l, bool send, int peer, uint64_t size)
{
	struct ar_request *req[WINDOW_MAX], *ack;
	size_t w = window_of(size);
	int total = l->o->common.warmup + l->o->common.iters, rc;

	for (int it = 0; it < total; it++) {
		double t0 = MPI_Wtime();

		if (send) {
			if ((rc = l->tops->irecv(l->tr, &l->ack, 1, peer, TAG_ACK, &ack)))
				transfer_failed(l, rc, peer, "ack from", size);
			post(l, true, peer, TAG_DATA, w, size, req, "send to");
			wait_all(l, req, w, peer, size, "send to");
			wait_all(l, &ack, 1, peer, size, "ack from");
			sample(l, it, t0);
		} else {
			post(l, false, peer, TAG_DATA, w, size, req, "receive from");
			wait_all(l, req, w, peer, size, "receive from");
			if ((rc = l->tops->isend(l->tr, &l->ack, 1, peer, TAG_ACK, &ack)))
				transfer_failed(l, rc, peer, "ack to", size);
			wait_all(l, &ack, 1, peer, size, "ack to");
		}
	}
	return send ? median_sample(l) : 0;
}

/* Both ways at once with peer (or, in a shift round, send to dst and receive from src);
 * returns the median seconds per iteration to the last receive. */
static double both_ways(struct links *l, int dst, int src, uint64_t size, size_t w)
{
	struct ar_request *sreq[WINDOW_MAX], *rreq[WINDOW_MAX];
	int total = l->o->common.warmup + l->o->common.iters;

	for (int it = 0; it < total; it++) {
		double t0 = MPI_Wtime();

		post(l, false, src, TAG_DATA, w, size, rreq, "receive from");
		post(l, true, dst, TAG_DATA, w, size, sreq, "send to");
		wait_all(l, rreq, w, src, size, "receive from");
		sample(l, it, t0);
		wait_all(l, sreq, w, dst, size, "send to");
	}
	return median_sample(l);
}

/* Ping-pong of size bytes; the initiator returns half the median round trip in seconds. */
static double ping_pong(struct links *l, bool initiator, int peer, uint64_t size)
{
	int total = l->o->common.warmup + l->o->common.iters;
	struct ar_request *req;

	for (int it = 0; it < total; it++) {
		double t0 = MPI_Wtime();

		for (int leg = 0; leg < 2; leg++) {
			bool send = (leg == 0) == initiator;

			post(l, send, peer, TAG_PING, 1, size, &req,
			     send ? "ping to" : "ping from");
			wait_all(l, &req, 1, peer, size, send ? "ping to" : "ping from");
		}
		sample(l, it, t0);
	}
	return initiator ? median_sample(l) / 2 : 0;
}

/* ---- one round ----------------------------------------------------------------------------- */

/* Test hook: rank stall_rank sleeps once, inside the first round, so that its peer's transfer
 * times out (--timeout) and the run must end naming both. */
static void test_stall(struct links *l)
{
	if (l->rank != l->stall_rank)
		return;
	fprintf(stderr, "arbench-test-hook: rank %d stalls for %.0f s\n", l->rank, l->stall_sec);
	bench__sleep(l->stall_sec);
	l->stall_rank = -1;
}

/* GB/s of factor x w messages of size bytes in sec seconds. */
static double gbps(uint64_t size, size_t w, double sec, double factor)
{
	return sec > 0 ? factor * (double)w * (double)size / sec / 1e9 : 0;
}

/* A pair of a pairwise round: a -> b, b -> a, both ways, latency; every phase behind a
 * barrier of the participants.  I am in pair pr, or in none (pr NULL: barriers only). */
static void measure_pair(struct links *l, const struct bench_link_pair *pr, uint64_t size,
			 struct report *rep)
{
	size_t w = window_of(size);
	bool a = pr && pr->a == l->me;
	int peer = !pr ? -1 : a ? pr->b : pr->a;
	double t;

	*rep = (struct report){peer, -1, -1, -1};
	MPI_Barrier(l->pcomm);
	test_stall(l);
	if (pr && (t = one_way(l, a, peer, size)) > 0)
		rep->bw = gbps(size, w, t, 1);
	MPI_Barrier(l->pcomm);
	if (pr && (t = one_way(l, !a, peer, size)) > 0)
		rep->bw = gbps(size, w, t, 1);
	MPI_Barrier(l->pcomm);
	if (pr)
		rep->bibw = gbps(size, w, both_ways(l, peer, peer, size, w), 2);
	MPI_Barrier(l->pcomm);
	if (pr && a)
		rep->lat = ping_pong(l, true, peer, size) * 1e6;
	else if (pr)
		ping_pong(l, false, peer, size);
}

/* A shift round: send to dst and receive from src at once, then the exchange latency. */
static void measure_shift(struct links *l, int dst, int src, uint64_t size, struct report *rep)
{
	size_t w = window_of(size);
	int total = l->o->common.warmup + l->o->common.iters;
	struct ar_request *req[2];

	*rep = (struct report){src, -1, -1, -1};
	MPI_Barrier(l->pcomm);
	test_stall(l);
	rep->bw = gbps(size, w, both_ways(l, dst, src, size, w), 1);
	MPI_Barrier(l->pcomm);
	for (int it = 0; it < total; it++) {
		double t0 = MPI_Wtime();

		post(l, false, src, TAG_PING, 1, size, &req[0], "receive from");
		post(l, true, dst, TAG_PING, 1, size, &req[1], "send to");
		wait_all(l, &req[0], 1, src, size, "receive from");
		wait_all(l, &req[1], 1, dst, size, "send to");
		sample(l, it, t0);
	}
	rep->lat = median_sample(l) * 1e6;
}

static void keep(struct links *l, int src, int dst, uint64_t size, double bw, double bibw,
		 double lat)
{
	if (l->n_res == l->cap_res) {
		size_t cap = l->cap_res ? 2 * l->cap_res : 256;
		struct bench_link_result *r = realloc(l->res, cap * sizeof(*r));
		double *m = realloc(l->medians, cap * sizeof(*m));

		if (r)
			l->res = r;
		if (m)
			l->medians = m;
		if (!r || !m)
			bench__die(&l->live, "out of memory keeping link results");
		l->cap_res = cap;
	}
	l->res[l->n_res++] = (struct bench_link_result){
		.src = l->ranks[src],
		.dst = l->ranks[dst],
		.src_node = l->cl.map.node_of_rank[l->ranks[src]],
		.dst_node = l->cl.map.node_of_rank[l->ranks[dst]],
		.size = size,
		.bw_gbps = bw,
		.bibw_gbps = bibw,
		.lat_us = lat,
	};
}

/* Participant 0 turns the round's reports into directed link results. */
static void collect_round(struct links *l, int r, uint64_t size, const struct report *all)
{
	for (size_t k = l->plan.round_start[r]; k < l->plan.round_start[r + 1]; k++) {
		const struct bench_link_pair *pr = &l->plan.pairs[k];
		const struct report *ra = &all[pr->a], *rb = &all[pr->b];

		if (l->plan.directed) { /* b reported src -> b */
			keep(l, pr->a, pr->b, size, rb->bw, -1, rb->lat);
			continue;
		}
		double bibw = ra->bibw < rb->bibw ? ra->bibw : rb->bibw;

		keep(l, pr->a, pr->b, size, ra->bw, bibw, ra->lat);
		keep(l, pr->b, pr->a, size, rb->bw, bibw, ra->lat);
	}
}

static void run_round(struct links *l, int r, uint64_t size, struct report *all)
{
	const struct bench_link_pair *mine = NULL;
	int dst = -1, src = -1;
	struct report rep;

	for (size_t k = l->plan.round_start[r]; k < l->plan.round_start[r + 1]; k++) {
		const struct bench_link_pair *pr = &l->plan.pairs[k];

		if (pr->a == l->me)
			dst = pr->b;
		if (pr->b == l->me)
			src = pr->a;
		if (pr->a == l->me || pr->b == l->me)
			mine = pr;
	}
	if (l->plan.directed)
		measure_shift(l, dst, src, size, &rep);
	else
		measure_pair(l, mine, size, &rep);
	MPI_Gather(&rep, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, 0, l->pcomm);
	if (l->me == 0)
		collect_round(l, r, size, all);
}

/* ---- the sweep ----------------------------------------------------------------------------- */

static void write_json(struct links *l, size_t from)
{
	json_t *arr = json_object_get(l->doc, "links");
	int err = 0;

	for (size_t i = from; i < l->n_res && !err; i++)
		err = json_array_append_new(arr, bench_links_json_entry(&l->res[i], &l->cl,
									l->o->common.anonymize))
			      ? -ENOMEM
			      : 0;
	if (!err)
		err = bench_json_write(l->doc, l->o->common.json_path);
	if (err) {
		fprintf(stderr, "arbench: cannot write %s: %s (JSON output stops)\n",
			l->o->common.json_path, strerror(-err));
		l->json_failed = true;
	}
}

/* Work of one round at one size, for the estimate of the time left: bytes moved plus a
 * per-message cost of 4 KiB. */
static double round_work(const struct links *l, uint64_t size)
{
	size_t w = window_of(size);
	int iters = l->o->common.iters + l->o->common.warmup;

	return (double)iters * ((double)w * 4 + 2) * ((double)size + 4096);
}

static void sweep(struct links *l, const struct bench_links_view *v)
{
	struct report *all = calloc((size_t)l->n_part, sizeof(*all));
	double total = 0;
	char what[96], sz[32];

	if (!all)
		bench__die(&l->live, "out of memory");
	for (size_t s = 0; s < l->n_sizes; s++)
		total += round_work(l, l->sizes[s]) * l->plan.n_rounds;
	bench_progress_start(&l->prog, total, l->me == 0 && !l->o->common.quiet);
	for (size_t s = 0; s < l->n_sizes; s++) {
		size_t first = l->n_res;

		for (int r = 0; r < l->plan.n_rounds; r++) {
			snprintf(what, sizeof(what), "size %zu/%zu %s, round %d/%d", s + 1,
				 l->n_sizes, bench_fmt_bytes(l->sizes[s], sz, sizeof(sz)), r + 1,
				 l->plan.n_rounds);
			bench_progress_show(&l->prog, what);
			run_round(l, r, l->sizes[s], all);
			bench_progress_add(&l->prog, round_work(l, l->sizes[s]));
		}
		if (l->me != 0)
			continue;
		bench_links_flag(l->res + first, l->n_res - first, l->o->threshold, l->judge_min,
				 l->medians + first);
		bench_links_rows(stdout, v, l->res + first, l->n_res - first, l->medians + first);
		if (l->doc && !l->json_failed)
			write_json(l, first);
	}
	free(all);
}

/* ---- setup --------------------------------------------------------------------------------- */

/* Who measures: the first rank of each node, or every rank.  Fewer than 2 is bad input. */
static int choose_participants(struct links *l, char *err, size_t errlen)
{
	const struct topo_cluster_map *m = &l->cl.map;
	char name[256];

	l->n_part = l->o->all_ranks ? l->nranks : m->n_nodes;
	l->ranks = calloc((size_t)l->n_part, sizeof(*l->ranks));
	if (!l->ranks) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->me = -1;
	for (int i = 0; i < l->n_part; i++) {
		l->ranks[i] = l->o->all_ranks ? i : m->first_rank_of_node[i];
		if (l->ranks[i] == l->rank)
			l->me = i;
	}
	if (l->n_part >= 2)
		return 0;
	if (l->nranks < 2)
		snprintf(err, errlen,
			 "links: 1 rank: nothing to measure; start at least 2 ranks, one per node");
	else
		snprintf(err, errlen,
			 "links: all %d ranks are on one node (%s): nothing to measure between "
			 "nodes; add nodes, or use --all-ranks to measure between these ranks",
			 l->nranks,
			 bench_node_name(&l->cl, 0, l->o->common.anonymize, name, sizeof(name)));
	return -EINVAL;
}

static int setup_transport(struct links *l, char *err, size_t errlen)
{
	struct ar_comm_config cfg = {.transport = l->o->common.transport,
				     .device = l->o->common.ib_dev,
				     .gid_index = l->o->common.gid_index,
				     .gid_index_set = l->o->common.gid_index_set,
				     .timeout_sec = l->o->common.timeout};
	char msg[BENCH__ERRTEXT] = "", terr[BENCH__ERRTEXT] = "";
	int rc = 0, bad = 0;

	MPI_Comm_split(l->comm, l->me >= 0 ? 0 : MPI_UNDEFINED, l->me, &l->pcomm);
	l->tops = ar_transport_find(l->o->common.transport);
	if (l->me >= 0) {
		MPI_Comm_dup(l->pcomm, &l->tcomm);
		rc = l->tops->init(l->tcomm, &cfg, &l->tr, terr, sizeof(terr));
		if (rc) {
			l->tr = NULL;
			snprintf(msg, sizeof(msg), "rank %d: transport '%.32s': %.400s", l->rank,
				 l->tops->name, terr[0] ? terr : strerror(-rc));
			bad = rc == -ENODEV || rc == -EINVAL;
		}
	}
	MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, l->comm);
	if (bench__agree_failed(&l->live, rc != 0, msg, err, errlen))
		return bad ? -EINVAL : -EIO;
	return 0;
}

static int setup_buffers(struct links *l, char *err, size_t errlen)
{
	uint64_t max = l->sizes[l->n_sizes - 1], rbytes = 0;
	char msg[BENCH__ERRTEXT] = "", sz[32];
	bool failed = false;

	for (size_t s = 0; s < l->n_sizes; s++)
		if (window_of(l->sizes[s]) * l->sizes[s] > rbytes)
			rbytes = window_of(l->sizes[s]) * l->sizes[s];
	if (l->me >= 0) {
		l->sbuf = malloc(max);
		l->rbuf = malloc(rbytes);
		l->samples = calloc((size_t)l->o->common.iters, sizeof(*l->samples));
		if (!l->sbuf || !l->rbuf || !l->samples) {
			snprintf(msg, sizeof(msg),
				 "rank %d: cannot allocate %s (-e) for sending and "
				 "receiving",
				 l->rank, bench_fmt_bytes(max, sz, sizeof(sz)));
			failed = true;
		} else {
			memset(l->sbuf, 0x5a, max);
			memset(l->rbuf, 0, rbytes);
		}
	}
	return bench__agree_failed(&l->live, failed, msg, err, errlen) ? -ENOMEM : 0;
}

static int open_json(struct links *l, char *err, size_t errlen)
{
	struct bench_run_info info = {l->argc, l->argv, l->mpi_library, &l->cl, &l->o->common};
	char msg[BENCH__ERRTEXT] = "";
	json_t *parts = NULL, *settings = NULL;
	bool failed = false;
	int rc = 0;

	if (l->rank == 0 && l->o->common.json_path) {
		l->doc = bench_json_new(&info);
		parts = json_array();
		for (int i = 0; parts && i < l->n_part; i++)
			json_array_append_new(parts, json_integer(l->ranks[i]));
		settings = json_pack("{s:s, s:f, s:b, s:b, s:I, s:i, s:I, s:o}", "pattern",
				     bench_links_pattern_name(l->o->pattern), "threshold",
				     l->o->threshold, "fail_below", l->o->fail_below, "all_ranks",
				     l->o->all_ranks, "seed", (json_int_t)l->seed, "window_max",
				     WINDOW_MAX, "judge_min_bytes", (json_int_t)l->judge_min,
				     "participants", parts);
		if (!l->doc || !settings ||
		    json_object_set_new(l->doc, "links_settings", settings) ||
		    json_object_set_new(l->doc, "links", json_array()))
			rc = -ENOMEM;
		else
			rc = bench_json_write(l->doc, l->o->common.json_path);
		if (rc) {
			snprintf(msg, sizeof(msg), "-J %s: cannot write: %s",
				 l->o->common.json_path, strerror(-rc));
			failed = true;
		}
	}
	return bench__agree_failed(&l->live, failed, msg, err, errlen) ? -EIO : 0;
}

static void links_free(struct links *l)
{
	if (l->tr)
		l->tops->fini(l->tr);
	if (l->tcomm != MPI_COMM_NULL)
		MPI_Comm_free(&l->tcomm);
	if (l->pcomm != MPI_COMM_NULL)
		MPI_Comm_free(&l->pcomm);
	bench_links_plan_free(&l->plan);
	json_decref(l->doc);
	free(l->res);
	free(l->medians);
	free(l->sbuf);
	free(l->rbuf);
	free(l->samples);
	free(l->ranks);
	bench_cluster_free(&l->cl);
	MPI_Comm_free(&l->live.ctl);
}

int bench_links_run(MPI_Comm comm, const struct bench_links_opts *o, int argc, char **argv,
		    char *err, size_t errlen)
{
	struct links l = {.comm = comm,
			  .o = o,
			  .argc = argc,
			  .argv = argv,
			  .pcomm = MPI_COMM_NULL,
			  .tcomm = MPI_COMM_NULL};
	struct bench_links_view v;
	int code = BENCH_EXIT_USAGE, rc;

	err[0] = '\0';
	MPI_Comm_rank(comm, &l.rank);
	MPI_Comm_size(comm, &l.nranks);
	MPI_Comm_dup(comm, &l.live.ctl);
	l.live = (struct bench_live){comm, l.live.ctl, l.rank, l.nranks, o->common.timeout};
	bench__mpi_library(l.mpi_library, sizeof(l.mpi_library));
	l.stall_rank =
		getenv("ARBENCH_TEST_STALL_RANK") ? atoi(getenv("ARBENCH_TEST_STALL_RANK")) : -1;
	l.stall_sec =
		getenv("ARBENCH_TEST_STALL_SEC") ? atof(getenv("ARBENCH_TEST_STALL_SEC")) : 30;
	rc = bench_cluster_gather(comm, &l.cl);
	if (rc) {
		snprintf(err, errlen, "cannot build the cluster map: %s", strerror(-rc));
		code = BENCH_EXIT_RUNTIME;
		goto out;
	}
	/* the same seed everywhere: rank 0's clock unless --seed */
	l.seed = o->seed_set ? o->seed : (unsigned)time(NULL);
	MPI_Bcast(&l.seed, 1, MPI_UNSIGNED, 0, comm);
	l.n_sizes = bench_sizes(&o->common, 1, l.sizes, MAX_SIZES);
	if (l.n_sizes == MAX_SIZES) {
		snprintf(err, errlen, "-b/-e/-i/-f give %d sizes or more: raise -f or -i",
			 MAX_SIZES);
		goto out;
	}
	l.judge_min = l.sizes[l.n_sizes - 1] < BENCH_LINKS_JUDGE_MIN ? l.sizes[l.n_sizes - 1]
								     : BENCH_LINKS_JUDGE_MIN;
	if (choose_participants(&l, err, errlen))
		goto out;
	if (bench_links_plan_build(o->pattern, l.n_part, l.seed, &l.plan)) {
		snprintf(err, errlen, "out of memory planning %d participants", l.n_part);
		code = BENCH_EXIT_RUNTIME;
		goto out;
	}
	rc = setup_transport(&l, err, errlen);
	if (rc) {
		code = rc == -EINVAL ? BENCH_EXIT_USAGE : BENCH_EXIT_RUNTIME;
		goto out;
	}
	if (setup_buffers(&l, err, errlen) || open_json(&l, err, errlen))
		goto out;

	v = (struct bench_links_view){.o = o,
				      .cl = &l.cl,
				      .ranks = l.ranks,
				      .n_part = l.n_part,
				      .n_rounds = l.plan.n_rounds,
				      .seed = l.seed,
				      .judge_min = l.judge_min,
				      .mpi_library = l.mpi_library};
	if (l.rank == 0)
		bench_links_header(stdout, &v);
	if (l.me >= 0)
		sweep(&l, &v);
	code = BENCH_EXIT_OK;
	if (l.rank == 0) {
		size_t flagged = 0;

		for (size_t i = 0; i < l.n_res; i++)
			flagged += l.res[i].flagged;
		bench_links_footer(stdout, &v, l.res, l.n_res, l.medians);
		if (flagged && o->fail_below) {
			fflush(stdout); /* the summary first, where stdout and stderr are one */
			fprintf(stderr,
				"arbench: links: %zu link results below %.2f x the median "
				"(--fail-below)\n",
				flagged, o->threshold);
			code = BENCH_EXIT_CHECK;
		} else if (l.json_failed) {
			code = BENCH_EXIT_RUNTIME;
		}
	}
	MPI_Bcast(&code, 1, MPI_INT, 0, comm);
out:
	links_free(&l);
	return code;
}
