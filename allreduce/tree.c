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
 * Every rank walks the same list of items, (reduce segment k of tree 0, of tree 1, broadcast
 * segment k-L of tree 0, of tree 1) for k = 0, 1, ..., with a lag L of about twice the tree
 * depth so the broadcast of a segment does not stall the reduction of the next ones.  Child
 * receives are posted max_inflight segments ahead into staging slots; sends never block.
 *
 * Cost (n bytes, p ranks, segments of s bytes): about 2 (log2(p) + 1)(alpha + s beta) to fill
 * and drain the pipeline, plus 2 n beta + n gamma: a rank that is inner in one tree and a leaf
 * in the other sends (and receives) n/2 up + 2 x n/2 down + n/2 up = 2n bytes in all, against
 * ring's 2(p-1)/p n.  Latency logarithmic in p; for large p the bandwidth term approaches
 * ring's, for p = 2 it is twice ring's.
 * Limits: none on p or count; the two trees split count with ar_block(count, 2, t).
 * Memory: 4 x max_inflight segments of scratch (two children, two trees).
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TAG_UP	 0x5400 /* + tree */
#define TAG_DOWN 0x5410 /* + tree */

struct tree {
	struct ar_comm *c;
	const char *in;
	char *out;
	char *stage; /* [tree][child][slot] segments */
	size_t esz, seg, nseg;
	size_t toff[2], tlen[2]; /* each tree's half, in elements */
	int parent[2], child[2][2];
	int w;
	enum ar_dtype dtype;
	enum ar_op op;
	struct ar_request **rreq;     /* [tree][child][slot] */
	struct ar_request **upsend;   /* [tree][segment] */
	struct ar_request **downsend; /* [tree][child][segment] */
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

/* Reduce segment k of tree t: add the children's data to ours, pass it to the parent. */
static int up(struct tree *g, int t, size_t k)
{
	size_t off, len = seg_range(g, t, k, &off);
	const char *src = g->in + off * g->esz;
	char *dst = g->out + off * g->esz;
	int err;

	if (!len)
		return 0;
	g->c->phase = "tree reduce";
	g->c->step = (int)k;
	for (int j = 0; j < 2; j++) {
		int ch = g->child[t][j];

		if (ch < 0)
			continue;
		err = ar__wait(g->c, *rreq_at(g, t, j, k), ch, "recv");
		*rreq_at(g, t, j, k) = NULL;
		if (err)
			return err;
		/* first child: out = in OP child; second: out OP= child */
		ar_reduce3(dst, src, stage_at(g, t, j, k), len, g->dtype, g->op);
		src = dst;
	}
	if (g->parent[t] < 0)
		return 0;
	return ar__isend(g->c, src, len * g->esz, g->parent[t], TAG_UP + t,
			 &g->upsend[(size_t)t * g->nseg + k]);
}

/* Broadcast segment k of tree t: take the result from the parent, pass it to the children. */
static int down(struct tree *g, int t, size_t k)
{
	size_t off, len = seg_range(g, t, k, &off);
	char *dst = g->out + off * g->esz;
	struct ar_request *req, **us = &g->upsend[(size_t)t * g->nseg + k];
	int err;

	if (!len)
		return 0;
	g->c->phase = "tree broadcast";
	g->c->step = (int)k;
	if (g->parent[t] >= 0) {
		/* our reduce send may still read this region (in place, or a leaf's input) */
		if (*us) {
			err = ar__wait(g->c, *us, g->parent[t], "send");
			*us = NULL;
			if (err)
				return err;
		}
		err = ar__irecv(g->c, dst, len * g->esz, g->parent[t], TAG_DOWN + t, &req);
		if (!err)
			err = ar__wait(g->c, req, g->parent[t], "recv");
		if (err)
			return err;
	}
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

/* Wait for every send still outstanding. */
static int drain(struct tree *g)
{
	for (int t = 0; t < 2; t++) {
		for (size_t k = 0; k < g->nseg; k++) {
			struct ar_request **us = &g->upsend[(size_t)t * g->nseg + k];
			int err;

			if (*us && (err = ar__wait(g->c, *us, g->parent[t], "send")))
				return err;
			*us = NULL;
			for (int j = 0; j < 2; j++) {
				struct ar_request **ds =
					&g->downsend[((size_t)t * 2 + (size_t)j) * g->nseg + k];

				if (*ds && (err = ar__wait(g->c, *ds, g->child[t][j], "send")))
					return err;
				*ds = NULL;
			}
		}
	}
	return 0;
}

/* All-reduce over the double binary tree; collective; blocks until done or a timeout. */
static int tree_run(struct ar_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		    enum ar_dtype dtype, enum ar_op op)
{
	struct tree g = {.c = c,
			 .in = ar__input(sendbuf, recvbuf),
			 .out = recvbuf,
			 .esz = ar_dtype_size(dtype),
			 .w = c->max_inflight,
			 .dtype = dtype,
			 .op = op};
	size_t lag, k, posted = 0, nreq;
	int depth = 1, err = 0;

	if (!count)
		return 0;
	if (c->size == 1) {
		if (g.in != g.out)
			memcpy(g.out, g.in, count * g.esz);
		return 0;
	}
	g.seg = c->segment_bytes / g.esz ? c->segment_bytes / g.esz : 1;
	for (int t = 0; t < 2; t++) {
		g.toff[t] = ar_block(count, 2, t, &g.tlen[t]);
		ar_dtree(c->size, c->rank, t, &g.parent[t], &g.child[t][0], &g.child[t][1]);
	}
	g.nseg = (g.tlen[0] + g.seg - 1) / g.seg; /* tree 0's half is the larger one */
	while ((1 << depth) < c->size)
		depth++;
	lag = 2 * (size_t)depth;
	g.stage = ar__scratch(c, 4 * (size_t)g.w * g.seg * g.esz);
	if (!g.stage)
		return -ENOMEM;
	nreq = 4 * (size_t)g.w + 2 * g.nseg + 4 * g.nseg;
	g.rreq = calloc(nreq, sizeof(*g.rreq));
	if (!g.rreq)
		return ar__fail(c, -ENOMEM, "tree: out of memory for %zu requests", nreq);
	g.upsend = g.rreq + 4 * (size_t)g.w;
	g.downsend = g.upsend + 2 * g.nseg;

	for (k = 0; k < g.nseg + lag; k++) {
		/* children's receives up to max_inflight segments ahead */
		for (; posted < g.nseg && posted < k + (size_t)g.w; posted++)
			for (int t = 0; t < 2; t++)
				if ((err = post_up_recvs(&g, t, posted)))
					goto out_free;
		for (int t = 0; t < 2 && k < g.nseg; t++)
			if ((err = up(&g, t, k)))
				goto out_free;
		for (int t = 0; t < 2 && k >= lag; t++)
			if ((err = down(&g, t, k - lag)))
				goto out_free;
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
