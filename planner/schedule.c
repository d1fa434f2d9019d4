/*
 * schedule.c - each all-reduce algorithm of allreduce/ described to the planner as phases of
 * concurrent flows between ranks, built from the layout code the library itself runs
 * (ar_block for block boundaries, ar_dtree for the double binary tree, the segment setting),
 * so a change of layout in the library changes the model with it.
 *
 *   ring  one phase r -> r+1 repeated 2(p-1) times (every step has the same flows)
 *   tree  one phase: every tree edge of both trees, up and down, streaming at once; the
 *         pipeline adds 2 (depth - 1) segment hops
 *   rhd   fold, lg p' halving phases, lg p' doubling phases, unfold, each once
 *   hier  per chunk of one staging slot: shared-memory staging (memory flows), the inter-node
 *         ring or rhd of each slice among its owners (all slices at once), the copy out
 *
 * A flow's bytes are per repetition; bytes x repeat is exactly what the library sends from
 * src to dst in the whole call (tests/mpi/planner_bytes.c checks it against the transport).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allreduce/allreduce.h"
#include "planner/internal.h"

#define DEFAULT_SEGMENT	 (1u << 20) /* AR__DEFAULT_SEGMENT */
#define TREE_MIN_SEGMENT (64u << 10)

const char *const plan_algos[] = {"ring", "tree", "hier", "rhd", NULL};
const char *const plan_gpu_algos[] = {"nccl-ring", "nccl-tree", NULL};

static uint64_t pattern_hash(const struct plan_phase *ph);

/* Streaming: hand the open phase to each().  0 or its error. */
static int flush(struct plan_builder *b)
{
	struct plan_phase *ph = b->s->phases;

	if (!b->each || !b->s->n_phases || b->err)
		return b->err;
	ph->pattern = pattern_hash(ph);
	b->err = b->each(b->arg, ph);
	b->s->n_phases = 0;
	return b->err;
}

struct plan_phase *plan_add_phase(struct plan_builder *b, size_t max_flows)
{
	struct plan_phase *ph;

	if (b->each) {
		struct plan_flow *keep;

		if (flush(b))
			return NULL;
		if (!b->cap) {
			b->s->phases = calloc(1, sizeof(*ph));
			if (!b->s->phases)
				return NULL;
			b->cap = 1;
		}
		ph = b->s->phases;
		keep = ph->flows;
		if (max_flows > b->flow_cap) {
			keep = realloc(ph->flows, max_flows * sizeof(*keep));
			if (!keep)
				return NULL;
			b->flow_cap = max_flows;
		}
		memset(ph, 0, sizeof(*ph));
		ph->flows = keep;
		ph->repeat = 1;
		b->s->n_phases = 1;
		return ph;
	}
	if (b->s->n_phases == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 8;
		struct plan_phase *np = realloc(b->s->phases, cap * sizeof(*np));

		if (!np)
			return NULL;
		b->s->phases = np;
		b->cap = cap;
	}
	ph = &b->s->phases[b->s->n_phases];
	memset(ph, 0, sizeof(*ph));
	ph->flows = max_flows ? malloc(max_flows * sizeof(*ph->flows)) : NULL;
	if (max_flows && !ph->flows)
		return NULL;
	ph->repeat = 1;
	b->s->n_phases++;
	return ph;
}

void plan_add_flow(struct plan_phase *ph, int src, int dst, double bytes)
{
	if (bytes <= 0 || src == dst)
		return;
	ph->flows[ph->n_flows++] = (struct plan_flow){(uint32_t)src, (uint32_t)dst, bytes};
}

size_t plan_seg_bytes(const struct plan_lib_settings *set)
{
	return set && set->segment_bytes ? set->segment_bytes : DEFAULT_SEGMENT;
}

static size_t blk(size_t count, int p, int i)
{
	size_t len;

	ar_block(count, p, ((i % p) + p) % p, &len);
	return len;
}

/* Ring over the ranks map[0..p-1] (global ranks), count elements.  Rank k sends every block
 * except k+2 in the reduce-scatter... exactly: blocks k, k-1, .., k+2 (RS) and k+1, .., k+3
 * (AG), i.e. 2 count - blk(k+1) - blk(k+2) elements in 2(p-1) steps. */
int plan_ring_phases(struct plan_builder *b, const int *map, int p, size_t count, size_t esize,
		     double times)
{
	struct plan_phase *ph;

	if (p < 2 || !count)
		return 0;
	ph = plan_add_phase(b, (size_t)p);
	if (!ph)
		return -ENOMEM;
	ph->repeat = 2.0 * (p - 1) * times;
	for (int k = 0; k < p; k++) {
		double elems = 2.0 * count - blk(count, p, k + 1) - blk(count, p, k + 2);

		plan_add_flow(ph, map[k], map[(k + 1) % p], elems * esize / (2.0 * (p - 1)));
	}
	/* the busiest rank reduces the largest block once per reduce-scatter step */
	ph->reduce_bytes = (double)blk(count, p, 0) * esize / 2.0;
	return 0;
}

/* NCCL's ring on a GPU cluster: one ring per channel (channels = GPUs per node), each
 * carrying 1/channels of the buffer; channel c's ring walks a node's GPUs starting at c and
 * crosses to the next node from the GPU it ends on to the same GPU there (rail-aligned, as
 * NCCL keeps a channel on one NIC).  Not the library's ring: the model of what NCCL does. */
static int nccl_ring_phases(struct plan_builder *b, int p, const int *node_of_rank, size_t count,
			    size_t esize)
{
	int nodes = 0, L;
	int *lcount, *order;
	struct plan_phase *ph;

	if (p < 2 || !count)
		return 0;
	for (int r = 0; r < p; r++)
		nodes = node_of_rank[r] + 1 > nodes ? node_of_rank[r] + 1 : nodes;
	lcount = calloc((size_t)nodes, sizeof(int));
	order = malloc(sizeof(int) * (size_t)p);
	if (!lcount || !order) {
		free(lcount);
		free(order);
		return -ENOMEM;
	}
	for (int r = 0; r < p; r++)
		lcount[node_of_rank[r]]++;
	L = p;
	for (int k = 0; k < nodes; k++)
		L = lcount[k] < L ? lcount[k] : L;
	if (L < 1 || L * nodes != p) { /* unequal nodes: one channel in rank order */
		for (int r = 0; r < p; r++)
			order[r] = r;
		free(lcount);
		int err = plan_ring_phases(b, order, p, count, esize, 1);

		free(order);
		return err;
	}
	ph = plan_add_phase(b, (size_t)p * (size_t)L);
	if (!ph) {
		free(lcount);
		free(order);
		return -ENOMEM;
	}
	ph->repeat = 2.0 * (p - 1);
	for (int ch = 0; ch < L; ch++) {
		size_t part;

		ar_block(count, L, ch, &part);
		/* snake: even nodes walk up from ch, odd ones down to ch, so the ring leaves one
		 * node and enters the next at the same local GPU: the same rail */
		for (int k = 0; k < nodes; k++)
			for (int i = 0; i < L; i++)
				order[k * L + i] = k * L + (k % 2 ? ch + L - 1 - i : ch + i) % L;
		for (int q = 0; q < p; q++)
			plan_add_flow(ph, order[q], order[(q + 1) % p],
				      (double)part * esize /
					      p); /* per step: one block of the channel */
	}
	ph->reduce_bytes = (double)count * esize / ((double)L * p);
	free(lcount);
	free(order);
	return 0;
}

static int tree_phases(struct plan_builder *b, int p, size_t count, size_t esize,
		       const struct plan_lib_settings *set);

/* Ranks per node when every node holds the same number in block placement (rank = node x
 * L + local), else 0. */
static int uniform_blocks(int p, const int *node_of_rank)
{
	int L = 0;

	while (L < p && node_of_rank[L] == 0)
		L++;
	if (!L || p % L)
		return 0;
	for (int r = 0; r < p; r++)
		if (node_of_rank[r] != r / L)
			return 0;
	return L;
}

/* NCCL's tree on a GPU cluster: one channel per GPU of a node, each carrying 1/channels of
 * the buffer; in channel c a chain runs through each node's GPUs from c, and the chains'
 * heads (GPU c, rail c) form NCCL's double binary tree over the nodes (ar_dtree over node
 * indices, each tree with half of the channel's data).  Every edge streams its bytes up and
 * down at once, pipelined; filling takes 2 (depth + chain) hops. */
static int nccl_tree_phases(struct plan_builder *b, int p, const int *node_of_rank, size_t count,
			    size_t esize)
{
	int L = uniform_blocks(p, node_of_rank), N, depth = 1;
	struct plan_phase *ph;

	if (p < 2 || !count)
		return 0;
	if (!L)
		return tree_phases(b, p, count, esize, NULL);
	N = p / L;
	while ((1 << depth) < N)
		depth++;
	ph = plan_add_phase(b, (size_t)L * 2 * (2 * (size_t)p + 4 * (size_t)N));
	if (!ph)
		return -ENOMEM;
	ph->repeat = 1;
	ph->fill_steps = 0; /* the stream dominates at the sizes this form is for */
	for (int ch = 0; ch < L; ch++) {
		size_t part;

		ar_block(count, L, ch, &part);
		for (int t = 0; t < 2; t++) {
			size_t half;
			double bytes;

			ar_block(part, 2, t, &half);
			bytes = (double)half * esize;
			for (int k = 0; k < N; k++) {
				int parent, c0, c1;

				for (int i = 0; i + 1 < L; i++) { /* the chain, up and down */
					int a = k * L + (ch + i) % L, z = k * L + (ch + i + 1) % L;

					plan_add_flow(ph, z, a, bytes);
					plan_add_flow(ph, a, z, bytes);
				}
				ar_dtree(N, k, t, &parent, &c0, &c1);
				if (parent >= 0) {
					plan_add_flow(ph, k * L + ch, parent * L + ch, bytes);
					plan_add_flow(ph, parent * L + ch, k * L + ch, bytes);
				}
			}
		}
	}
	ph->reduce_bytes = 2.0 * (double)count * esize / L;
	return 0;
}

/* Rabenseifner over map[0..p-1], as allreduce/rhd.c runs it. */
int plan_rhd_phases(struct plan_builder *b, const int *map, int p, size_t count, size_t esize,
		    double times)
{
	int p2 = 1, rem, mask, err = -ENOMEM;
	struct plan_phase *ph;
	size_t *off; /* off[i]: where block i of p2 starts (ar_block), off[p2] = count */
	int *lo, *hi, *nlo, *nhi; /* each rank's range of blocks, before and after a doubling */

	if (p < 2 || !count)
		return 0;
	while (p2 * 2 <= p)
		p2 *= 2;
	rem = p - p2;
	off = malloc(((size_t)p2 + 1) * sizeof(*off));
	lo = malloc(4 * (size_t)p2 * sizeof(*lo)); /* on the heap: 2 MB at 128k ranks */
	if (!off || !lo) {
		free(off);
		free(lo);
		return -ENOMEM;
	}
	hi = lo + p2;
	nlo = hi + p2;
	nhi = nlo + p2;
	for (int i = 0; i < p2; i++) {
		size_t d;

		off[i] = ar_block(count, p2, i, &d);
	}
	off[p2] = count;
#define REAL(q) ((q) < rem ? 2 * (q) + 1 : (q) + rem)
	if (rem) {
		ph = plan_add_phase(b, (size_t)rem);
		if (!ph)
			goto out;
		ph->repeat = times;
		for (int r = 0; r < 2 * rem; r += 2)
			plan_add_flow(ph, map[r], map[r + 1], (double)count * esize);
		ph->reduce_bytes = (double)count * esize;
	}
	/* halving: me keeps [klo, khi) and gives away [slo, shi) to me ^ mask */
	{
		for (int q = 0; q < p2; q++) {
			lo[q] = 0;
			hi[q] = p2;
		}
		for (mask = p2 / 2; mask >= 1; mask /= 2) {
			double most = 0;

			ph = plan_add_phase(b, (size_t)p2);
			if (!ph)
				goto out;
			ph->repeat = times;
			for (int q = 0; q < p2; q++) {
				int mid = lo[q] + (hi[q] - lo[q]) / 2;
				int klo = q & mask ? mid : lo[q], khi = q & mask ? hi[q] : mid;
				int slo = q & mask ? lo[q] : mid, shi = q & mask ? mid : hi[q];
				size_t so = off[slo], se = off[shi], ko = off[klo], ke = off[khi];

				plan_add_flow(ph, map[REAL(q)], map[REAL(q ^ mask)],
					      (double)(se - so) * esize);
				if ((double)(ke - ko) * esize > most)
					most = (double)(ke - ko) * esize;
				lo[q] = klo;
				hi[q] = khi;
			}
			ph->reduce_bytes = most;
		}
		/* doubling: swap owned ranges with ever farther partners */
		for (mask = 1; mask < p2; mask *= 2) {
			ph = plan_add_phase(b, (size_t)p2);
			if (!ph)
				goto out;
			ph->repeat = times;
			for (int q = 0; q < p2; q++) {
				int size = hi[q] - lo[q];
				int plo = q & mask ? lo[q] - size : hi[q], phi = plo + size;
				size_t mo = off[lo[q]], me = off[hi[q]];

				plan_add_flow(ph, map[REAL(q)], map[REAL(q ^ mask)],
					      (double)(me - mo) * esize);
				nlo[q] = plo < lo[q] ? plo : lo[q];
				nhi[q] = phi > hi[q] ? phi : hi[q];
			}
			memcpy(lo, nlo, (size_t)p2 * sizeof(*lo));
			memcpy(hi, nhi, (size_t)p2 * sizeof(*hi));
		}
	}
	if (rem) {
		ph = plan_add_phase(b, (size_t)rem);
		if (!ph)
			goto out;
		ph->repeat = times;
		for (int r = 0; r < 2 * rem; r += 2)
			plan_add_flow(ph, map[r + 1], map[r], (double)count * esize);
	}
#undef REAL
	err = 0;
out:
	free(off);
	free(lo);
	return err;
}

/* Double binary tree: every edge of both trees carries its tree's half up and down, all
 * streaming at once in segments (allreduce/tree.c's progress loop). */
static int tree_phases(struct plan_builder *b, int p, size_t count, size_t esize,
		       const struct plan_lib_settings *set)
{
	struct plan_phase *ph;
	size_t half0, depth = 1, seg, nseg;

	if (p < 2 || !count)
		return 0;
	ar_block(count, 2, 0, &half0);
	while (((size_t)1 << depth) < (size_t)p)
		depth++;
	seg = half0 * esize / (4 * depth);
	if (seg < TREE_MIN_SEGMENT)
		seg = TREE_MIN_SEGMENT;
	if (seg > plan_seg_bytes(set))
		seg = plan_seg_bytes(set);
	nseg = (half0 * esize + seg - 1) / seg;
	ph = plan_add_phase(b, 4 * (size_t)p);
	if (!ph)
		return -ENOMEM;
	ph->repeat = (double)nseg;
	/* the first segment climbs depth hops and comes down depth hops before the stream runs
	 * at one segment per period: (nseg - 1) periods + 2 depth hops = nseg periods + 2 (depth
	 * - 1) hops of one segment at the link's own rate */
	ph->fill_steps = 2.0 * ((double)depth - 1);
	for (int t = 0; t < 2; t++) {
		size_t half;

		ar_block(count, 2, t, &half);
		for (int r = 0; r < p; r++) {
			int parent, c0, c1;

			ar_dtree(p, r, t, &parent, &c0, &c1);
			if (parent < 0)
				continue;
			plan_add_flow(ph, r, parent, (double)half * esize / (double)nseg);
			plan_add_flow(ph, parent, r, (double)half * esize / (double)nseg);
		}
	}
	/* an inner rank reduces two children's segments per step */
	ph->reduce_bytes = 2.0 * (double)seg;
	return 0;
}

/* A stable hash of a phase's (src, dst) pairs in order. */
static uint64_t pattern_hash(const struct plan_phase *ph)
{
	uint64_t x = 1469598103934665603ull ^ ph->memory;

	for (size_t i = 0; i < ph->n_flows; i++) {
		x ^= ((uint64_t)ph->flows[i].src << 32) | ph->flows[i].dst;
		x *= 1099511628211ull;
		x ^= x >> 29;
	}
	return x;
}

/* The phases of algo into b (the schedule's header set).  0, -EINVAL, -ENOENT, -ENOMEM. */
static int build(struct plan_builder *b, const char *algo, int ranks, const int *node_of_rank,
		 size_t count, size_t esize, const struct plan_lib_settings *set)
{
	struct plan_schedule *out = b->s;
	int *ident = NULL, err;

	memset(out, 0, sizeof(*out));
	snprintf(out->algo, sizeof(out->algo), "%s", algo);
	out->ranks = ranks;
	out->count = count;
	out->esize = esize;
	if (ranks < 1 || !esize)
		return -EINVAL;
	ident = malloc(sizeof(int) * (size_t)ranks);
	if (!ident)
		return -ENOMEM;
	for (int r = 0; r < ranks; r++)
		ident[r] = r;
	if (!node_of_rank)
		node_of_rank = ident; /* one node each */
	if (strcmp(algo, "ring") == 0)
		err = plan_ring_phases(b, ident, ranks, count, esize, 1);
	else if (strcmp(algo, "rhd") == 0)
		err = plan_rhd_phases(b, ident, ranks, count, esize, 1);
	else if (strcmp(algo, "tree") == 0)
		err = tree_phases(b, ranks, count, esize, set);
	else if (strcmp(algo, "hier") == 0)
		err = ranks > 1 ? plan_hier_phases(b, ranks, node_of_rank, count, esize, set) : 0;
	else if (strcmp(algo, "nccl-ring") == 0)
		err = nccl_ring_phases(b, ranks, node_of_rank, count, esize);
	else if (strcmp(algo, "nccl-tree") == 0)
		err = nccl_tree_phases(b, ranks, node_of_rank, count, esize);
	else
		err = -ENOENT;
	free(ident);
	return err;
}

int plan_schedule_build(const char *algo, int ranks, const int *node_of_rank, size_t count,
			size_t esize, const struct plan_lib_settings *set,
			struct plan_schedule *out)
{
	struct plan_builder b = {.s = out};
	int err = build(&b, algo, ranks, node_of_rank, count, esize, set);

	if (err) {
		plan_schedule_free(out);
		return err;
	}
	for (size_t i = 0; i < out->n_phases; i++)
		out->phases[i].pattern = pattern_hash(&out->phases[i]);
	return 0;
}

int plan_schedule_each(const char *algo, int ranks, const int *node_of_rank, size_t count,
		       size_t esize, const struct plan_lib_settings *set, plan_phase_fn each,
		       void *arg)
{
	struct plan_schedule s;
	struct plan_builder b = {.s = &s, .each = each, .arg = arg};
	int err = build(&b, algo, ranks, node_of_rank, count, esize, set);

	if (!err)
		err = flush(&b);
	if (b.err)
		err = b.err; /* each()'s, not the builder's -ENOMEM that followed it */
	if (s.phases)
		free(s.phases[0].flows);
	free(s.phases);
	return err;
}

void plan_schedule_free(struct plan_schedule *s)
{
	for (size_t i = 0; i < s->n_phases; i++)
		free(s->phases[i].flows);
	free(s->phases);
	s->phases = NULL;
	s->n_phases = 0;
}

void plan_schedule_bytes(const struct plan_schedule *s, double *bytes)
{
	size_t p = (size_t)s->ranks;

	memset(bytes, 0, p * p * sizeof(*bytes));
	for (size_t i = 0; i < s->n_phases; i++) {
		const struct plan_phase *ph = &s->phases[i];

		if (ph->memory)
			continue;
		for (size_t f = 0; f < ph->n_flows; f++)
			bytes[ph->flows[f].src * p + ph->flows[f].dst] +=
				ph->flows[f].bytes * ph->repeat;
	}
}
