/*
 * ring.c - ring all-reduce: reduce-scatter then all-gather around the ring r -> r+1, over the
 * p blocks of ar_block(count, p, .), each block cut into segments of c->segment_bytes and
 * pipelined with c->max_inflight receives and sends in flight.
 *
 *   reduce-scatter, step s (0..p-2): send block r-s to r+1, receive block r-s-1 from r-1
 *   into a staging slot and reduce it straight into recvbuf (recvbuf = input OP staged);
 *   after p-1 steps rank r holds block r+1 fully reduced.
 *   all-gather, step s (0..p-2): send block r+1-s, receive block r-s directly into recvbuf.
 *
 *        r-1 ----> r ----> r+1 ----> ... ----> r-1      (every rank sends and receives at once)
 *
 * Cost (n bytes, p ranks): 2(p-1) alpha + 2(p-1)/p n beta + (p-1)/p n gamma, plus one alpha
 * per extra segment in flight: bandwidth-optimal, latency linear in p.
 * Limits: none on p or count (count < p leaves some blocks empty; they are skipped on both
 * sides).  Segments are pipelined across steps: segment k of step s is sent as soon as it was
 * reduced in step s-1, so up to max_inflight segments per direction are on the wire.
 * Memory: max_inflight segments of scratch.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RING_TAG 0x52 /* 'R' */

struct ring {
	struct ar_comm *c;
	const char *in;			    /* input (sendbuf, or recvbuf in place) */
	char *out;			    /* recvbuf */
	char *stage;			    /* max_inflight segments */
	size_t count, esz, seg, nseg, half; /* half = units in one phase = (p-1) nseg */
	int p, r, w;
};

/* Unit v (0..2 half-1) -> the element range [*off, *off + *len) it moves and the blocks. */
static void unit_range(const struct ring *g, size_t v, bool recv, size_t *off, size_t *len)
{
	size_t s = v / g->nseg, k = v % g->nseg, boff, blen;
	long b;

	if (v < g->half) /* reduce-scatter: send r-s, receive r-s-1 */
		b = (long)g->r - (long)s - (recv ? 1 : 0);
	else /* all-gather, step s' = s-(p-1): send r+1-s', receive r-s' */
		b = (long)g->r - (long)(s - (size_t)(g->p - 1)) + (recv ? 0 : 1);
	b = ((b % g->p) + g->p) % g->p;
	boff = ar_block(g->count, g->p, (int)b, &blen);
	*off = boff + k * g->seg;
	*len = k * g->seg < blen ? (blen - k * g->seg < g->seg ? blen - k * g->seg : g->seg) : 0;
}

static void set_phase(struct ring *g, size_t v)
{
	g->c->phase = v < g->half ? "ring reduce-scatter" : "ring all-gather";
	g->c->step = (int)((v < g->half ? v : v - g->half) / g->nseg);
}

static int post_send(struct ring *g, size_t v, struct ar_request **req)
{
	size_t off, len;
	const char *src;

	unit_range(g, v, false, &off, &len);
	*req = NULL;
	if (!len)
		return 0;
	src = v < g->nseg ? g->in : g->out; /* step 0 sends the rank's own input */
	set_phase(g, v);
	return ar__isend(g->c, src + off * g->esz, len * g->esz, (g->r + 1) % g->p, RING_TAG, req);
}

static int post_recv(struct ring *g, size_t v, struct ar_request **req)
{
	size_t off, len;
	char *dst;

	unit_range(g, v, true, &off, &len);
	*req = NULL;
	if (!len)
		return 0;
	/* reduce-scatter lands in a staging slot; all-gather straight into recvbuf */
	dst = v < g->half ? g->stage + (v % (size_t)g->w) * g->seg * g->esz : g->out + off * g->esz;
	set_phase(g, v);
	return ar__irecv(g->c, dst, len * g->esz, (g->p + g->r - 1) % g->p, RING_TAG, req);
}

/* All-reduce over the ring; collective; blocks until done or a wait times out. */
static int ring_run(struct ar_comm *c, void *state, const void *sendbuf, void *recvbuf,
		    size_t count, enum ar_dtype dtype, enum ar_op op)
{
	struct ring g = {.c = c,
			 .in = ar__input(sendbuf, recvbuf),
			 .out = recvbuf,
			 .count = count,
			 .esz = ar_dtype_size(dtype),
			 .p = c->size,
			 .r = c->rank,
			 .w = c->max_inflight};
	struct ar_request **sreq, **rreq;
	size_t total, u, s_post = 0, s_done = 0, r_post = 0, maxblk;
	int err = 0;

	if (!count)
		return 0;
	if (g.p == 1) {
		if (g.in != g.out)
			memcpy(g.out, g.in, count * g.esz);
		return 0;
	}
	g.seg = c->segment_bytes / g.esz ? c->segment_bytes / g.esz : 1;
	maxblk = (count + (size_t)g.p - 1) / (size_t)g.p;
	g.nseg = (maxblk + g.seg - 1) / g.seg;
	g.half = (size_t)(g.p - 1) * g.nseg;
	total = 2 * g.half;
	g.stage = ar__scratch(c, (size_t)g.w * g.seg * g.esz);
	if (!g.stage)
		return -ENOMEM;
	sreq = calloc(total + (size_t)g.w, sizeof(*sreq)); /* one per send, a ring of recvs */
	if (!sreq)
		return ar__fail(c, -ENOMEM, "ring: out of memory");
	rreq = sreq + total;

	for (u = 0; u < total; u++) {
		struct ar_request **rq = &rreq[u % (size_t)g.w];
		size_t off, len;

		/* sends whose data is ready (segment reduced one step earlier), at most
		 * max_inflight ahead of our receives; completed sends are only collected when
		 * their buffer is about to be reused, so no send wait stalls the pipeline */
		while (s_post < total && s_post < u + (size_t)g.w &&
		       (s_post < g.nseg || s_post - g.nseg < u)) {
			if ((err = post_send(&g, s_post, &sreq[s_post])))
				goto out_free;
			s_post++;
		}
		/* receives ahead; an all-gather receive overwrites the region its reduce-scatter
		 * send read from, so that send must have completed first */
		while (r_post < total && r_post < u + (size_t)g.w) {
			if (r_post >= g.half) {
				size_t need = r_post - g.half;

				if (need >= s_post)
					break;
				while (s_done <= need) {
					struct ar_request **sq = &sreq[s_done];

					if (*sq &&
					    (err = ar__wait(c, *sq, (g.r + 1) % g.p, "send")))
						goto out_free;
					*sq = NULL;
					s_done++;
				}
			}
			if ((err = post_recv(&g, r_post, &rreq[r_post % (size_t)g.w])))
				goto out_free;
			r_post++;
		}
		if (!*rq)
			continue;
		set_phase(&g, u);
		if ((err = ar__wait(c, *rq, (g.p + g.r - 1) % g.p, "recv")))
			goto out_free;
		*rq = NULL;
		if (u < g.half) {
			unit_range(&g, u, true, &off, &len);
			ar_reduce3(g.out + off * g.esz, g.in + off * g.esz,
				   g.stage + (u % (size_t)g.w) * g.seg * g.esz, len, dtype, op);
		}
	}
	for (; s_done < s_post; s_done++) {
		struct ar_request **sq = &sreq[s_done];

		if (*sq && (err = ar__wait(c, *sq, (g.r + 1) % g.p, "send")))
			goto out_free;
		*sq = NULL;
	}
	if (op == AR_AVG)
		ar_scale_avg(g.out, count, dtype, g.p);
out_free:
	free(sreq);
	return err;
}

/* Any communicator: needs only point-to-point sends and receives. */
static bool ring_supports(const struct ar_comm *c)
{
	return true;
}

const struct ar_algo ar__algo_ring = {
	.name = "ring",
	.summary = "segmented, pipelined ring: reduce-scatter then all-gather (bandwidth-optimal)",
	.run = ring_run,
	.supports = ring_supports,
};
