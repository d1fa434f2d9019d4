/*
 * rhd.c - Rabenseifner's all-reduce: reduce-scatter by recursive halving, then all-gather by
 * recursive doubling, over p' = the largest power of two <= p ranks.
 *
 * Non-power-of-two fold (rem = p - p'): among the first 2 rem ranks, each even rank sends its
 * whole input to the odd rank above it, which reduces it into its own and takes part as one
 * of the p' ranks; at the end the odd rank sends the result back.
 *
 *   p' = 4, reduce-scatter (halving)         all-gather (doubling)
 *   step 1: 0<->2, 1<->3 exchange halves     step 1: 0<->1, 2<->3 exchange quarters
 *   step 2: 0<->1, 2<->3 exchange quarters   step 2: 0<->2, 1<->3 exchange halves
 *   rank i ends the reduce-scatter owning block i of ar_block(count, p', .)
 *
 * Each exchange is cut into segments of c->segment_bytes, with max_inflight receives posted
 * ahead into staging slots and reduced into recvbuf as they arrive.
 * Cost: 2 lg p' alpha + 2 (p'-1)/p' n beta + (p'-1)/p' n gamma; with the fold add
 * 2 alpha + 2 n beta + n gamma (only the first 2 rem ranks do the fold's work, but everyone
 * waits for it).  Latency logarithmic, bandwidth optimal for powers of two.
 * Limits: none on p or count; partners at distance p'/2 make it sensitive to topology.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TAG_FOLD   0x4801
#define TAG_RS	   0x4802
#define TAG_AG	   0x4803
#define TAG_UNFOLD 0x4804

struct rhd {
	struct ar_comm *c;
	size_t esz, seg; /* seg in elements */
	char *stage;	 /* max_inflight segments */
	enum ar_dtype dtype;
	enum ar_op op;
};

/*
 * Exchange with one partner: send sn elements of sbuf, receive rn elements.  With acc
 * non-NULL, received data goes through staging and rbuf = acc OP received (acc may be rbuf);
 * otherwise it lands in rbuf directly.  Segmented, max_inflight receives ahead.
 */
static int xchg(struct rhd *g, const char *sbuf, size_t sn, int dst, char *rbuf, size_t rn,
		const char *acc, int src, int tag)
{
	struct ar_comm *c = g->c;
	size_t w = (size_t)c->max_inflight, seg = g->seg, esz = g->esz;
	size_t ns = (sn + seg - 1) / seg, nr = (rn + seg - 1) / seg;
	size_t n = ns > nr ? ns : nr, sp = 0, rp = 0;
	struct ar_request **sreq, **rreq;
	int err = 0;

	sreq = calloc(ns + w, sizeof(*sreq));
	if (!sreq)
		return ar__fail(c, -ENOMEM, "rhd: out of memory");
	rreq = sreq + ns;
	for (size_t i = 0; i < n; i++) {
		for (; sp < ns && sp < i + w; sp++) {
			size_t len = sn - sp * seg < seg ? sn - sp * seg : seg;

			err = ar__isend(c, sbuf + sp * seg * esz, len * esz, dst, tag, &sreq[sp]);
			if (err)
				goto out_free;
		}
		for (; rp < nr && rp < i + w; rp++) {
			size_t len = rn - rp * seg < seg ? rn - rp * seg : seg;
			char *to = acc ? g->stage + (rp % w) * seg * esz : rbuf + rp * seg * esz;

			err = ar__irecv(c, to, len * esz, src, tag, &rreq[rp % w]);
			if (err)
				goto out_free;
		}
		if (i < nr) {
			size_t len = rn - i * seg < seg ? rn - i * seg : seg;

			err = ar__wait(c, rreq[i % w], src, "recv");
			rreq[i % w] = NULL;
			if (err)
				goto out_free;
			if (acc)
				ar_reduce3(rbuf + i * seg * esz, acc + i * seg * esz,
					   g->stage + (i % w) * seg * esz, len, g->dtype, g->op);
		}
	}
	for (size_t i = 0; i < ns; i++) {
		err = ar__wait(c, sreq[i], dst, "send");
		sreq[i] = NULL;
		if (err)
			goto out_free;
	}
out_free:
	free(sreq);
	return err;
}

/* Real rank of index q among the p' ranks that take part after the fold. */
static int real_rank(int q, int rem)
{
	return q < rem ? 2 * q + 1 : q + rem;
}

/* Rabenseifner all-reduce; collective; blocks until done or a wait times out. */
static int rhd_run(struct ar_comm *c, void *state, const void *sendbuf, void *recvbuf, size_t count,
		   enum ar_dtype dtype, enum ar_op op)
{
	struct rhd g = {.c = c, .esz = ar_dtype_size(dtype), .dtype = dtype, .op = op};
	const char *in = ar__input(sendbuf, recvbuf), *src;
	char *out = recvbuf;
	int p = c->size, r = c->rank, p2 = 1, rem, me, lo, hi, mask, err;
	size_t bytes = count * g.esz;

	if (!count)
		return 0;
	if (p == 1) {
		if (in != out)
			memcpy(out, in, bytes);
		return 0;
	}
	while (p2 * 2 <= p)
		p2 *= 2;
	rem = p - p2;
	g.seg = c->segment_bytes / g.esz ? c->segment_bytes / g.esz : 1;
	g.stage = ar__scratch(c, (size_t)c->max_inflight * g.seg * g.esz);
	if (!g.stage)
		return -ENOMEM;

	/* fold: even ranks below 2 rem hand their data to the odd rank above and sit out */
	src = in;
	c->phase = "rhd fold";
	c->step = 0;
	if (r < 2 * rem && r % 2 == 0) {
		err = xchg(&g, in, count, r + 1, NULL, 0, NULL, -1, TAG_FOLD);
		if (err)
			return err;
		c->phase = "rhd unfold";
		err = xchg(&g, NULL, 0, -1, out, count, NULL, r + 1, TAG_UNFOLD);
		goto done;
	}
	if (r < 2 * rem) {
		err = xchg(&g, NULL, 0, -1, out, count, in, r - 1, TAG_FOLD);
		if (err)
			return err;
		src = out;
		me = r / 2;
	} else {
		me = r - rem;
	}

	/* reduce-scatter by recursive halving over blocks [lo, hi) of ar_block(count, p2) */
	lo = 0;
	hi = p2;
	c->phase = "rhd reduce-scatter";
	for (mask = p2 / 2, c->step = 0; mask >= 1; mask /= 2, c->step++) {
		int peer = real_rank(me ^ mask, rem), mid = lo + (hi - lo) / 2;
		int klo = me & mask ? mid : lo, khi = me & mask ? hi : mid; /* kept */
		int slo = me & mask ? lo : mid, shi = me & mask ? mid : hi; /* given away */
		size_t koff, soff, kend, send, dummy;

		koff = ar_block(count, p2, klo, &dummy);
		kend = khi < p2 ? ar_block(count, p2, khi, &dummy) : count;
		soff = ar_block(count, p2, slo, &dummy);
		send = shi < p2 ? ar_block(count, p2, shi, &dummy) : count;
		err = xchg(&g, src + soff * g.esz, send - soff, peer, out + koff * g.esz,
			   kend - koff, src + koff * g.esz, peer, TAG_RS);
		if (err)
			return err;
		src = out;
		lo = klo;
		hi = khi;
	}

	/* all-gather by recursive doubling: swap owned ranges with ever farther partners */
	c->phase = "rhd all-gather";
	for (mask = 1, c->step = 0; mask < p2; mask *= 2, c->step++) {
		int peer = real_rank(me ^ mask, rem), size = hi - lo;
		int plo = me & mask ? lo - size : hi, phi = plo + size;
		size_t moff, mend, poff, pend, dummy;

		moff = ar_block(count, p2, lo, &dummy);
		mend = hi < p2 ? ar_block(count, p2, hi, &dummy) : count;
		poff = ar_block(count, p2, plo, &dummy);
		pend = phi < p2 ? ar_block(count, p2, phi, &dummy) : count;
		err = xchg(&g, out + moff * g.esz, mend - moff, peer, out + poff * g.esz,
			   pend - poff, NULL, peer, TAG_AG);
		if (err)
			return err;
		lo = plo < lo ? plo : lo;
		hi = phi > hi ? phi : hi;
	}

	/* unfold: hand the result back to the even partner */
	if (r < 2 * rem) {
		c->phase = "rhd unfold";
		c->step = 0;
		err = xchg(&g, out, count, r - 1, NULL, 0, NULL, -1, TAG_UNFOLD);
	}
done:
	if (!err && op == AR_AVG)
		ar_scale_avg(out, count, dtype, p);
	return err;
}

/* Any communicator: needs only point-to-point sends and receives. */
static bool rhd_supports(const struct ar_comm *c)
{
	return true;
}

const struct ar_algo ar__algo_rhd = {
	.name = "rhd",
	.summary = "Rabenseifner: recursive-halving reduce-scatter, recursive-doubling all-gather",
	.run = rhd_run,
	.supports = rhd_supports,
};
