/*
 * tree.c - double binary tree all-reduce, as NCCL does it: two binary trees over the ranks
 * (ar_dtree: NCCL's bit-trick tree, and its mirror or shift) so that the inner nodes of one
 * are leaves of the other; each tree carries half of the buffer.  In each tree every segment
 * is reduced up to the root (a rank adds its children's data to its own) and broadcast back
 * down; segments are pipelined, so after the pipeline fills every link carries data.
 *
 *   tree 0 (n = 8)          tree 1 (mirror)
 *        0                        7
 *         \                      /
 *          4                    3
 *        /   \                /   \
 *       2     6              5     1
 *      / \   / \            / \   / \
 *     1   3 5   7          6   4 2   0
 *
 * Each rank drives both trees from one progress loop instead of a fixed order of blocking
 * steps: in each tree it reduces the next segment as soon as both children's parts are in,
 * posts the parent's broadcast receive as soon as its own reduce send has left that region,
 * and forwards the next broadcast segment as soon as it has arrived.  Reduction and broadcast
 * of different segments overlap, and a rank waiting on one tree keeps the other moving (a
 * fixed order made every rank wait on its slowest tree neighbour in turn: 7.2 s against the
 * ring's 1.25 s for 8 MiB on 8 emulated hosts at 100 Mbit/s).  Child receives are posted
 * max_inflight segments ahead into staging slots; sends never block.
 *
 * Cost (n bytes, p ranks, segments of s bytes, s = tree_segment()): about 2 (log2(p) + 1)(alpha + s
 * beta) to fill and drain the pipeline, plus 2 n beta + n gamma: a rank that is inner in one tree
 * and a leaf in the other sends (and receives) n/2 up + 2 x n/2 down + n/2 up = 2n bytes in all,
 * against ring's 2(p-1)/p n.  Latency logarithmic in p; for large p the bandwidth term approaches
 * ring's, for p = 2 it is twice ring's.
 * Limits: none on p or count; the two trees split count with ar_block(count, 2, t).
 * Memory: 4 x max_inflight segments of scratch (two children, two trees).
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define TAG_UP		 0x5400 /* + tree */
#define TAG_DOWN	 0x5410 /* + tree */
#define TREE_SPIN	 16	/* idle polls between sched_yield() calls */
#define TREE_MIN_SEGMENT (64u << 10)

/* How far one tree has got, in segments: each count only grows, and
 * sent_down <= down_posted <= reduced <= posted (down_posted unused at the root). */
struct tree_cursor {
	size_t posted;	    /* children's reduce receives posted */
	size_t reduced;	    /* reduced and sent to the parent */
	size_t down_posted; /* parent's broadcast receives posted */
	size_t sent_down;   /* forwarded to the children */
};

struct tree {
	struct ar_comm *c;
	const char *in;
	char *out;
	char *stage;	       /* [tree][child][slot] segments */
	size_t esz, seg, nseg; /* nseg: segments of the larger half (tree 0) */
	size_t tseg[2];	       /* segments of each tree's half */
	struct tree_cursor cur[2];
	size_t toff[2], tlen[2]; /* each tree's half, in elements */
	int parent[2], child[2][2];
	int w;
	enum ar_dtype dtype;
	enum ar_op op;
	struct ar_request **rreq;     /* [tree][child][slot] */
	struct ar_request **upsend;   /* [tree][segment] */
	struct ar_request **downsend; /* [tree][child][segment] */
	struct ar_request **downrecv; /* [tree][segment] */
};

/* Elements [*off, *off + return) of segment k of tree t (0 length: nothing to move). */
static size_t seg_range(const struct tree *g, int t, size_t k, size_t *off)
{
	size_t start = k * g->seg;

	*off = g->toff[t] + start;
	if (start >= g->tlen[t])
		return 0;
	return g->tlen[t] - start < g->seg ? g->tlen[t] - start : g->seg;
}

static char *stage_at(const struct tree *g, int t, int j, size_t k)
{
	size_t slot = ((size_t)t * 2 + (size_t)j) * (size_t)g->w + k % (size_t)g->w;

	return g->stage + slot * g->seg * g->esz;
}

static struct ar_request **rreq_at(const struct tree *g, int t, int j, size_t k)
{
	return &g->rreq[((size_t)t * 2 + (size_t)j) * (size_t)g->w + k % (size_t)g->w];
}

/* Post the children's reduce receives for segment k of tree t. */
static int post_up_recvs(struct tree *g, int t, size_t k)
{
	size_t off, len = seg_range(g, t, k, &off);

	for (int j = 0; j < 2 && len; j++) {
		int ch = g->child[t][j];
		int err;

		if (ch < 0)
			continue;
		g->c->phase = "tree reduce";
		g->c->step = (int)k;
		err = ar__irecv(g->c, stage_at(g, t, j, k), len * g->esz, ch, TAG_UP + t,
				rreq_at(g, t, j, k));
		if (err)
			return err;
	}
	return 0;
}

/* Reduce segment k of tree t once both children's parts are in: add them to ours and pass
 * the sum to the parent.  *done tells whether it happened. */
static int try_up(struct tree *g, int t, size_t k, bool *done)
{
	size_t off, len = seg_range(g, t, k, &off);
	const char *src = g->in + off * g->esz;
	char *dst = g->out + off * g->esz;
	int err;

	g->c->phase = "tree reduce";
	g->c->step = (int)k;
	for (int j = 0; j < 2; j++) {
		bool in = true;

		if (g->child[t][j] >= 0 &&
		    (err = ar__test(g->c, rreq_at(g, t, j, k), &in, g->child[t][j], "recv")))
			return err;
		if (!in) {
			*done = false;
			return 0;
		}
	}
	*done = true;
	for (int j = 0; j < 2; j++) {
		if (g->child[t][j] < 0)
			continue;
		/* first child: out = in OP child; second: out OP= child */
		ar_reduce3(dst, src, stage_at(g, t, j, k), len, g->dtype, g->op);
		src = dst;
	}
	if (g->parent[t] < 0) {
		if (src != dst) /* a root without children (p = 1 is handled before) */
			memcpy(dst, src, len * g->esz);
		return 0;
	}
	return ar__isend(g->c, src, len * g->esz, g->parent[t], TAG_UP + t,
			 &g->upsend[(size_t)t * g->nseg + k]);
}

/* Post the parent's broadcast receive of segment k of tree t into its final place, once our
 * reduce send (which reads that region, in place or as a leaf's input) has completed. */
static int try_post_down(struct tree *g, int t, size_t k, bool *done)
{
	size_t off, len = seg_range(g, t, k, &off);
	int err;

	g->c->phase = "tree broadcast";
	g->c->step = (int)k;
	if ((err = ar__test(g->c, &g->upsend[(size_t)t * g->nseg + k], done, g->parent[t],
			    "send")) ||
	    !*done)
		return err;
	return ar__irecv(g->c, g->out + off * g->esz, len * g->esz, g->parent[t], TAG_DOWN + t,
			 &g->downrecv[(size_t)t * g->nseg + k]);
}

/* Forward segment k of tree t to the children once it is final here (the root: reduced;
 * others: received from the parent). */
static int try_down(struct tree *g, int t, size_t k, bool *done)
{
	size_t off, len = seg_range(g, t, k, &off);
	char *dst = g->out + off * g->esz;
	int err;

	g->c->phase = "tree broadcast";
	g->c->step = (int)k;
	if (g->parent[t] >= 0 && ((err = ar__test(g->c, &g->downrecv[(size_t)t * g->nseg + k], done,
						  g->parent[t], "recv")) ||
				  !*done))
		return err;
	*done = true;
	for (int j = 0; j < 2; j++) {
		int ch = g->child[t][j];

		if (ch < 0)
			continue;
		err = ar__isend(g->c, dst, len * g->esz, ch, TAG_DOWN + t,
				&g->downsend[((size_t)t * 2 + (size_t)j) * g->nseg + k]);
		if (err)
			return err;
	}
	return 0;
}

/* One pass over tree t: post what can be posted, do what is ready.  Sets *moved when
 * anything happened. */
static int advance(struct tree *g, int t, bool *moved)
{
	struct tree_cursor *cur = &g->cur[t];
	bool done = true;
	int err;

	for (; done && cur->reduced < g->tseg[t]; cur->reduced += done) {
		/* children's receives up to max_inflight segments ahead of the reduction */
		for (; cur->posted < g->tseg[t] && cur->posted < cur->reduced + (size_t)g->w;
		     cur->posted++, *moved = true)
			if ((err = post_up_recvs(g, t, cur->posted)))
				return err;
		if ((err = try_up(g, t, cur->reduced, &done)))
			return err;
		*moved |= done;
	}
	done = true;
	for (; done && g->parent[t] >= 0 && cur->down_posted < cur->reduced;
	     cur->down_posted += done) {
		if ((err = try_post_down(g, t, cur->down_posted, &done)))
			return err;
		*moved |= done;
	}
	done = true;
	for (; done && cur->sent_down < (g->parent[t] >= 0 ? cur->down_posted : cur->reduced);
	     cur->sent_down += done) {
		if ((err = try_down(g, t, cur->sent_down, &done)))
			return err;
		*moved |= done;
	}
	return 0;
}

/* Nothing has moved for c->timeout_sec: name the peer tree t (the first one still busy) is
 * waiting for. */
static int stalled(struct tree *g)
{
	for (int t = 0; t < 2; t++) {
		const struct tree_cursor *cur = &g->cur[t];
		size_t k = cur->reduced;

		g->c->phase = "tree reduce";
		g->c->step = (int)k;
		if (k < g->tseg[t])
			for (int j = 0; j < 2; j++)
				if (g->child[t][j] >= 0 && *rreq_at(g, t, j, k))
					return ar__op_failed(g->c, -ETIMEDOUT, g->child[t][j],
							     "recv");
		g->c->phase = "tree broadcast";
		g->c->step = (int)cur->sent_down;
		if (cur->sent_down < g->tseg[t] && g->parent[t] >= 0)
			return ar__op_failed(g->c, -ETIMEDOUT, g->parent[t],
					     cur->down_posted > cur->sent_down ? "recv" : "send");
	}
	return ar__fail(g->c, -ETIMEDOUT, "tree timed out after %.1f s", g->c->timeout_sec);
}

/* Wait for every send still outstanding. */
static int drain(struct tree *g)
{
	for (int t = 0; t < 2; t++) {
		for (size_t k = 0; k < g->nseg; k++) {
			for (int j = 0; j < 2; j++) {
				struct ar_request **ds =
					&g->downsend[((size_t)t * 2 + (size_t)j) * g->nseg + k];
				int err;

				if (*ds && (err = ar__wait(g->c, *ds, g->child[t][j], "send")))
					return err;
				*ds = NULL;
			}
		}
	}
	return 0;
}

/* Segment size for a half of half_bytes: small enough that filling and draining the pipeline
 * (about 2 x depth segment times) costs at most about a quarter of streaming the half, never
 * below TREE_MIN_SEGMENT, never above c->segment_bytes (--segment).  On 8 emulated hosts at
 * 100 Mbit/s, 8 MiB: 1 MiB segments took 2.29 s, 512 KiB 1.74 s, 128 KiB 1.68 s. */
static size_t tree_segment(const struct ar_comm *c, size_t half_bytes)
{
	size_t depth = 1, seg;

	while (((size_t)1 << depth) < (size_t)c->size)
		depth++;
	seg = half_bytes / (4 * depth);
	if (seg < TREE_MIN_SEGMENT)
		seg = TREE_MIN_SEGMENT;
	return seg < c->segment_bytes ? seg : c->segment_bytes;
}

/* All-reduce over the double binary tree; collective; blocks until done or a timeout. */
static int tree_run(struct ar_comm *c, void *state, const void *sendbuf, void *recvbuf,
		    size_t count, enum ar_dtype dtype, enum ar_op op)
{
	struct tree g = {.c = c,
			 .in = ar__input(sendbuf, recvbuf),
			 .out = recvbuf,
			 .esz = ar_dtype_size(dtype),
			 .w = c->max_inflight,
			 .dtype = dtype,
			 .op = op};
	double idle_since = 0;
	size_t nreq;
	int err = 0, idle = 0;

	if (!count)
		return 0;
	if (c->size == 1) {
		if (g.in != g.out)
			memcpy(g.out, g.in, count * g.esz);
		return 0;
	}
	for (int t = 0; t < 2; t++)
		g.toff[t] = ar_block(count, 2, t, &g.tlen[t]);
	g.seg = tree_segment(c, g.tlen[0] * g.esz) / g.esz;
	if (!g.seg)
		g.seg = 1;
	for (int t = 0; t < 2; t++) {
		g.tseg[t] = (g.tlen[t] + g.seg - 1) / g.seg;
		ar_dtree(c->size, c->rank, t, &g.parent[t], &g.child[t][0], &g.child[t][1]);
	}
	g.nseg = g.tseg[0]; /* tree 0's half is the larger one */
	g.stage = ar__scratch(c, 4 * (size_t)g.w * g.seg * g.esz);
	if (!g.stage)
		return -ENOMEM;
	nreq = 4 * (size_t)g.w + 2 * g.nseg + 4 * g.nseg + 2 * g.nseg;
	g.rreq = calloc(nreq, sizeof(*g.rreq));
	if (!g.rreq)
		return ar__fail(c, -ENOMEM, "tree: out of memory for %zu requests", nreq);
	g.upsend = g.rreq + 4 * (size_t)g.w;
	g.downsend = g.upsend + 2 * g.nseg;
	g.downrecv = g.downsend + 4 * g.nseg;

	while (g.cur[0].sent_down < g.tseg[0] || g.cur[1].sent_down < g.tseg[1]) {
		bool moved = false;

		for (int t = 0; t < 2; t++)
			if ((err = advance(&g, t, &moved)))
				goto out_free;
		if (moved) {
			idle = 0;
			continue;
		}
		if (idle++ == 0)
			idle_since = MPI_Wtime();
		else if (c->timeout_sec > 0 && MPI_Wtime() - idle_since > c->timeout_sec) {
			err = stalled(&g);
			goto out_free;
		}
		if (idle % TREE_SPIN == 0)
			sched_yield(); /* ranks may outnumber cores */
	}
	err = drain(&g);
	if (!err && op == AR_AVG)
		ar_scale_avg(g.out, count, dtype, c->size);
out_free:
	free(g.rreq);
	return err;
}

/* Any communicator: needs only point-to-point sends and receives. */
static bool tree_supports(const struct ar_comm *c)
{
	return true;
}

const struct ar_algo ar__algo_tree = {
	.name = "tree",
	.summary = "double binary tree (NCCL), pipelined reduce up and broadcast down",
	.run = tree_run,
	.supports = tree_supports,
};
