/*
 * hier.c - hierarchical all-reduce: the ranks of a node combine through one shared-memory
 * segment, and only 1/ppn of the data per rank crosses between nodes.
 *
 * The buffer is cut into chunks of one staging slot (c->segment_bytes, 64 KiB..4 MiB) and
 * pipelined; a chunk is split into nown slices, nown = ranks per node (1 node) or ppn_min
 * (several nodes; the extra local ranks of bigger nodes only stage and copy).  Per chunk:
 *
 *   1. intra-node reduce-scatter: every local rank copies the slices it does not own into its
 *      staging slot; owner j reduces slice j straight from its own input and the peers' slots
 *      into the node's result slot;
 *   2. inter-node all-reduce of slice j among the owners j of every node, with ring or rhd
 *      of this library on a sub-communicator (so it goes through the transport table);
 *   3. intra-node all-gather: every local rank copies the whole result slot to its output.
 *
 *   5 ranks, map {0,0,0,1,1}: ppn_min 2, so chunks have slices a (owner: local rank 0) and b
 *   (local rank 1); r2 only stages and copies.  x_r = rank r's part of slice x.
 *
 *        node 0: r0 r1 r2                          node 1: r3 r4
 *   1.   r0 stages b0, r1 a1, r2 a2 b2             r3 stages b3, r4 a4
 *        r0: A0 = a0+a1+a2   r1: B0 = b0+b1+b2     r3: A1 = a3+a4   r4: B1 = b3+b4
 *   2.   ring/rhd over {r0, r3}: A = A0+A1         ring/rhd over {r1, r4}: B = B0+B1
 *   3.   r0 r1 r2 copy [A|B] from node 0's slot    r3 r4 copy [A|B] from node 1's slot
 *
 * Small calls on one node ((L-1) x bytes <= 32 KiB) take a shorter path: every rank stages
 * its whole input and reduces all staged copies itself, in local-rank order (one handoff).
 *
 * Node-shared buffers (ar_mem_alloc, arbench -R 1): on a node whose ranks all own a slice
 * (ranks per node = ppn_min) and whose buffers all lie in such memory (agreed through one
 * descriptor handoff per call), nothing is staged: owner j reduces slice j of each chunk
 * straight from every local rank's input into its own output, all-reduces it there with the
 * other nodes' owners j, and every rank copies the other slices from their owners' outputs.
 * Nodes decide for themselves: the inter-node calls are the same on either path.
 * Each rank then touches 2.5 bytes per byte of the buffer instead of 4.5.
 *
 * Synchronisation is by three monotonic sequence counters per local rank in the segment
 * (staged, reduced, gathered; C11 acquire/release), never by an MPI call per chunk; waits spin
 * briefly, then sched_yield() (ranks may be oversubscribed), and honour c->timeout_sec.  The
 * segment holds HIER_DEPTH slots per rank so staging runs up to HIER_DEPTH-1 chunks ahead.
 *
 * Cost (n bytes, L local ranks, N nodes, ppn = nown): each rank moves ~2n through memory
 * (reads its input once, writes its output once) plus (L-1)/L n staged through the cache;
 * reduction gamma (L-1) n/ppn per owner; inter: all-reduce of n/ppn bytes over N ranks, e.g.
 * ring 2(N-1) alpha + 2(N-1)/N (n/ppn) beta_net per owner, all ppn owners of a node at once;
 * plus 3 flag handoffs per chunk (~0.1 us each here when the ranks have their own cores).
 *
 * Limits: the ranks of one cluster-map node must share memory (checked: MPI_Win_allocate_
 * shared on MPI_Comm_split by node_of_rank, verified against MPI_COMM_TYPE_SHARED).  The
 * segment is (L+1) * depth * slot bytes per node.  A timed-out call leaves the node's counters
 * out of step: later calls fail until the communicator is recreated.
 *
 * The segment and the sub-communicators are made on the first call (hier_setup.c); the
 * node-shared buffers are mem.c's.
 */
#include "allreduce/hier.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HIER_SPIN      64	   /* flag polls between sched_yield() calls */
#define HIER_ALIGN     64	   /* slice boundaries, in bytes */
#define HIER_RING_MIN  (64u << 10) /* inter-node slice size from which ring beats rhd */
#define HIER_SMALL_MAX (32u << 10) /* single node: (L-1) x bytes up to this: one handoff */
#define HIER_NT_MIN    (8u << 20)  /* outputs from this size are written around the cache */

/* One call's geometry, the same on every rank of the communicator. */
struct hier_call {
	const char *in;
	char *out;
	size_t count, esize, chunk_elems, nchunks;
	enum ar_dtype dtype;
	enum ar_op op;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Elements [*lo, *lo + *len) of an n-element chunk form slice j of nown; slice starts are
 * multiples of HIER_ALIGN bytes so the kernels run on aligned vectors. */
static void slice_of(const struct hier_call *k, size_t n, int nown, int j, size_t *lo, size_t *len)
{
	size_t per = hier_round_up((n + nown - 1) / nown, HIER_ALIGN / k->esize);
	size_t a = per * j, b = a + per;

	*lo = a < n ? a : n;
	*len = (b < n ? b : n) - *lo;
}

static char *stage_slot(struct ar__hier *h, int lrank, uint64_t seq)
{
	return h->stage + ((size_t)lrank * HIER_DEPTH + seq % HIER_DEPTH) * h->slot_bytes;
}

static char *out_slot(struct ar__hier *h, uint64_t seq)
{
	return h->out + (seq % HIER_DEPTH) * h->slot_bytes;
}

/* Wait until counter `which` of local rank peer reaches want (a chunk or call number of the
 * node).  Spins, then yields; after c->timeout_sec fails naming both ranks, the chunk, what
 * peer did not do ("stage") and the phase. */
static int flag_wait(struct ar_comm *c, struct ar__hier *h, int peer, enum hier_counter which,
		     uint64_t want, const char *what)
{
	_Atomic uint64_t *flag = &h->flags[peer].n[which];
	double t0 = 0;

	for (;;) {
		for (int i = 0; i < HIER_SPIN; i++) {
			if (atomic_load_explicit(flag, memory_order_acquire) >= want)
				return 0;
			cpu_relax();
		}
		sched_yield();
		if (c->timeout_sec <= 0)
			continue;
		double now = MPI_Wtime();
		if (t0 == 0) {
			t0 = now;
		} else if (now - t0 > c->timeout_sec) {
			return ar__fail(
				c, -ETIMEDOUT,
				"rank %d did not %s node chunk #%llu within %.1f s (hier %s)",
				h->grank[peer], what, (unsigned long long)want, c->timeout_sec,
				c->phase ? c->phase : "");
		}
	}
}

/* flag_wait for every local rank below upto but me. */
static int wait_peers(struct ar_comm *c, struct ar__hier *h, int upto, enum hier_counter which,
		      uint64_t want, const char *what)
{
	int rc;

	for (int x = 0; x < upto; x++)
		if (x != h->lrank && (rc = flag_wait(c, h, x, which, want, what)))
			return rc;
	return 0;
}

/* Tell the node my counter `which` is at seq (everything before it is written). */
static void flag_set(struct ar__hier *h, enum hier_counter which, uint64_t seq)
{
	atomic_store_explicit(&h->flags[h->lrank].n[which], seq, memory_order_release);
}

/* Intra phase 1: copy the slices of chunk i that other ranks own into my staging slot. */
static int hier_stage(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k, size_t i)
{
	uint64_t seq = h->seq + i + 1;
	size_t off = i * k->chunk_elems;
	size_t n = k->count - off < k->chunk_elems ? k->count - off : k->chunk_elems;
	char *slot = stage_slot(h, h->lrank, seq);
	int rc;

	c->phase = "intra-node reduce-scatter";
	/* the owners have finished reading what I staged in this slot depth chunks ago */
	if (seq > HIER_DEPTH && (rc = wait_peers(c, h, h->nown, HC_REDUCED, seq - HIER_DEPTH,
						 "reduce (free a staging slot for)")))
		return rc;
	for (int r = 0; r < h->nown; r++) {
		size_t lo, len;

		if (r == h->lrank)
			continue;
		slice_of(k, n, h->nown, r, &lo, &len);
		memcpy(slot + lo * k->esize, k->in + (off + lo) * k->esize, len * k->esize);
	}
	flag_set(h, HC_STAGED, seq);
	return 0;
}

/* Inter-node all-reduce of one slice, in place, among the owners of my local index. */
static int hier_inter(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k, void *buf,
		      size_t len)
{
	const char *name = len * k->esize >= HIER_RING_MIN ? "ring" : "rhd";
	const struct ar_algo *a = ar_algo_find(name);
	int rc;

	if (!a || !a->supports(h->inter))
		name = "ring";
	/* avg: sum across nodes here, divide once by the whole communicator's size later */
	rc = ar_allreduce(h->inter, name, buf, buf, len, k->dtype,
			  k->op == AR_AVG ? AR_SUM : k->op);
	if (rc) {
		char map[160] = "";
		size_t used = 0;

		/* the sub-communicator's text numbers its own ranks: say which global ranks */
		for (int i = 0; i < h->inter_size && i < 8 && used < sizeof(map); i++)
			used += snprintf(map + used, sizeof(map) - used, " %d->%d", i,
					 h->inter_grank[i]);
		return ar__fail(c, rc, "hier inter-node %s: %s [inter-node rank->global:%s%s]",
				name, ar_comm_error(h->inter), map,
				h->inter_size > 8 ? " ..." : "");
	}
	return 0;
}

/* My slice of chunk seq, reduced inside the node into dst: all-reduce it with the other nodes'
 * owners of my index, divide for avg, and tell the node it is ready. */
static int hier_finish_slice(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k,
			     char *dst, size_t len, uint64_t seq)
{
	int rc;

	if (h->inter && len) {
		c->phase = "inter-node all-reduce";
		rc = hier_inter(c, h, k, dst, len);
		if (rc)
			return rc;
	}
	if (k->op == AR_AVG)
		ar_scale_avg(dst, len, k->dtype, c->size);
	flag_set(h, HC_REDUCED, seq);
	return 0;
}

/* Add one peer's part of my slice to dst: the first peer's is combined with my own part
 * (dst = mine OP peer; dst may be mine, in place), later ones accumulate into dst. */
static void reduce_peer(const struct hier_call *k, char *dst, const char *mine, const char *peer,
			size_t len, bool *first)
{
	if (*first)
		ar_reduce3(dst, mine, peer, len, k->dtype, k->op);
	else
		ar_reduce(dst, peer, len, k->dtype, k->op);
	*first = false;
}

/* Intra phase 1 (owners): reduce my slice of chunk i from my input and every peer's staging
 * slot into the node's result slot; then phase 2 (inter-node) and avg's division. */
static int hier_reduce(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k, size_t i)
{
	uint64_t seq = h->seq + i + 1;
	size_t off = i * k->chunk_elems;
	size_t n = k->count - off < k->chunk_elems ? k->count - off : k->chunk_elems;
	size_t lo, len, b;
	char *dst = out_slot(h, seq);
	bool first = true;
	int rc;

	c->phase = "intra-node reduce-scatter";
	slice_of(k, n, h->nown, h->lrank, &lo, &len);
	b = lo * k->esize;
	dst += b;
	/* everyone has copied out what this result slot held depth chunks ago */
	if (seq > HIER_DEPTH && (rc = wait_peers(c, h, h->lsize, HC_GATHERED, seq - HIER_DEPTH,
						 "copy out (free the result slot for)")))
		return rc;
	for (int x = 0; x < h->lsize; x++) {
		if (x == h->lrank)
			continue;
		rc = flag_wait(c, h, x, HC_STAGED, seq, "stage");
		if (rc)
			return rc;
		reduce_peer(k, dst, k->in + (off + lo) * k->esize, stage_slot(h, x, seq) + b, len,
			    &first);
	}
	if (first)
		memcpy(dst, k->in + (off + lo) * k->esize, len * k->esize);
	return hier_finish_slice(c, h, k, dst, len, seq);
}

/* memcpy that writes around the cache (no read-for-ownership of dst): for outputs too big to
 * stay cached.  Ends with a store fence so a release store after it orders the data. */
static void copy_nt(void *dst, const void *src, size_t n)
{
#if defined(__SSE2__)
	char *d = dst;
	const char *s = src;
	size_t head = (16 - ((uintptr_t)d & 15)) & 15;

	if (head > n)
		head = n;
	memcpy(d, s, head);
	d += head, s += head, n -= head;
	for (; n >= 64; d += 64, s += 64, n -= 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i f = _mm_loadu_si128((const __m128i *)(s + 48));

		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), e);
		_mm_stream_si128((__m128i *)(d + 48), f);
	}
	memcpy(d, s, n);
	_mm_sfence();
#else
	memcpy(dst, src, n);
#endif
}

/* Copy reduced data into the caller's output: around the cache when the whole output is too
 * big to stay cached. */
static void copy_out(const struct hier_call *k, void *dst, const void *src, size_t bytes)
{
	if (k->count * k->esize >= HIER_NT_MIN)
		copy_nt(dst, src, bytes);
	else
		memcpy(dst, src, bytes);
}

/* Intra phase 3: copy the node's reduced chunk i to my output. */
static int hier_gather(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k, size_t i)
{
	uint64_t seq = h->seq + i + 1;
	size_t off = i * k->chunk_elems;
	size_t n = k->count - off < k->chunk_elems ? k->count - off : k->chunk_elems;
	int rc;

	c->phase = "intra-node all-gather";
	rc = wait_peers(c, h, h->nown, HC_REDUCED, seq, "reduce");
	if (rc)
		return rc;
	copy_out(k, k->out + off * k->esize, out_slot(h, seq), n * k->esize);
	flag_set(h, HC_GATHERED, seq);
	return 0;
}

/* Small single-node calls: every rank stages its whole input, waits for all, and reduces
 * every staged copy itself in local-rank order (the same bits on every rank): one handoff
 * instead of three.  Sets reduced and gathered too, which is what the slot-reuse waits of
 * both paths look at. */
static int hier_small(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k)
{
	uint64_t seq = h->seq + 1;
	size_t bytes = k->count * k->esize;
	int rc;

	c->phase = "intra-node small all-reduce";
	if (seq > HIER_DEPTH && (rc = wait_peers(c, h, h->lsize, HC_REDUCED, seq - HIER_DEPTH,
						 "reduce (free a staging slot for)")))
		return rc;
	memcpy(stage_slot(h, h->lrank, seq), k->in, bytes);
	flag_set(h, HC_STAGED, seq);
	rc = wait_peers(c, h, h->lsize, HC_STAGED, seq, "stage");
	if (rc)
		return rc;
	/* my own staged copy, not k->in: in place, k->in is the output being written */
	ar_reduce3(k->out, stage_slot(h, 0, seq), stage_slot(h, 1, seq), k->count, k->dtype, k->op);
	for (int x = 2; x < h->lsize; x++)
		ar_reduce(k->out, stage_slot(h, x, seq), k->count, k->dtype, k->op);
	if (k->op == AR_AVG)
		ar_scale_avg(k->out, k->count, k->dtype, c->size);
	flag_set(h, HC_REDUCED, seq);
	flag_set(h, HC_GATHERED, seq);
	return 0;
}

/* ---- the zero-copy path: every buffer node-shared (mem.c) ------------------------------- */

/*
 * Publish where my input and output are and read everyone's.  *ins and *outs get every local
 * rank's buffers when all of them are node-shared (then *all is true), the same verdict on
 * every rank since every rank reads the same descriptors.  One flag handoff.
 */
static int zc_agree(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k,
		    const char **ins, char **outs, bool *all)
{
	struct hier_flags *me = &h->flags[h->lrank];
	size_t bytes = k->count * k->esize;
	uint64_t call = ++h->zc_calls;
	int rc;

	c->phase = "intra-node buffer exchange";
	ar__mem_region_of(c, k->in, bytes, &me->in_region, &me->in_off);
	ar__mem_region_of(c, k->out, bytes, &me->out_region, &me->out_off);
	flag_set(h, HC_CALL, call);
	*all = true;
	for (int x = 0; x < h->lsize; x++) {
		struct hier_flags *f = &h->flags[x];

		if (x != h->lrank &&
		    (rc = flag_wait(c, h, x, HC_CALL, call, "describe its buffers for")))
			return rc;
		ins[x] = ar__mem_region_at(c, x, f->in_region, f->in_off);
		outs[x] = (char *)ar__mem_region_at(c, x, f->out_region, f->out_off);
		*all = *all && ins[x] && outs[x];
	}
	return 0;
}

/*
 * Every local rank owns a slice and every buffer is node-shared: no staging.  Per chunk,
 * owner j reduces slice j straight from every local rank's input into its own output,
 * all-reduces it there across nodes (with several), then every rank copies the other slices
 * from their owners' outputs.  In place this is safe because a rank overwrites
 * slice j of its buffer only after owner j has reduced it.  Before returning, every rank
 * waits until all have copied out, so no one still reads a buffer its owner gets back.
 */
static int hier_zero_copy(struct ar_comm *c, struct ar__hier *h, const struct hier_call *k,
			  const char *const *ins, char *const *outs)
{
	size_t esz = k->esize;
	uint64_t last = h->seq + k->nchunks;
	int rc;

	for (size_t i = 0; i < k->nchunks; i++) {
		uint64_t seq = h->seq + i + 1;
		size_t off = i * k->chunk_elems, lo, len;
		size_t n = k->count - off < k->chunk_elems ? k->count - off : k->chunk_elems;
		bool first;
		char *dst;

		c->phase = "intra-node reduce-scatter (node-shared buffers)";
		slice_of(k, n, h->lsize, h->lrank, &lo, &len);
		dst = k->out + (off + lo) * esz;
		/* my own input first: in place, dst is my input, overwritten by the first step */
		first = true;
		for (int x = 0; x < h->lsize; x++)
			if (x != h->lrank)
				reduce_peer(k, dst, ins[h->lrank] + (off + lo) * esz,
					    ins[x] + (off + lo) * esz, len, &first);
		flag_set(h, HC_STAGED, seq);
		rc = hier_finish_slice(c, h, k, dst, len, seq);
		if (rc)
			return rc;

		c->phase = "intra-node all-gather (node-shared buffers)";
		for (int r = 0; r < h->lsize; r++) {
			if (r == h->lrank)
				continue;
			rc = flag_wait(c, h, r, HC_REDUCED, seq, "reduce");
			if (rc)
				return rc;
			slice_of(k, n, h->lsize, r, &lo, &len);
			copy_out(k, k->out + (off + lo) * esz, outs[r] + (off + lo) * esz,
				 len * esz);
		}
		flag_set(h, HC_GATHERED, seq);
	}
	rc = wait_peers(c, h, h->lsize, HC_GATHERED, last, "copy out");
	if (rc)
		return rc;
	h->seq = last;
	return 0;
}

/* Hierarchical all-reduce (see the top of this file).  Collective over c. */
static int hier_run(struct ar_comm *c, void *state, const void *sendbuf, void *recvbuf,
		    size_t count, enum ar_dtype dtype, enum ar_op op)
{
	struct hier_call k = {
		.in = ar__input(sendbuf, recvbuf),
		.out = recvbuf,
		.count = count,
		.esize = ar_dtype_size(dtype),
		.dtype = dtype,
		.op = op,
	};
	struct ar__hier *h = state; /* NULL on one rank */
	size_t staged = 0;
	int rc;

	if (count == 0)
		return 0;
	if (c->size == 1) {
		if (k.in != k.out)
			memmove(k.out, k.in, count * k.esize);
		return 0;
	}
	if (h->broken)
		return ar__fail(c, -EIO,
				"hier: an earlier call failed and left the node's shared segment "
				"out of step; recreate the communicator");
	k.chunk_elems = h->slot_bytes / k.esize;
	k.nchunks = (count + k.chunk_elems - 1) / k.chunk_elems;
	bool small = !h->inter && h->nown == h->lsize &&
		     count * k.esize * (h->lsize - 1) <= HIER_SMALL_MAX;
	if (!small && h->nown == h->lsize && h->lsize > 1 && ar__mem_count(c)) {
		const char *ins[h->lsize];
		char *outs[h->lsize];
		bool all;

		rc = zc_agree(c, h, &k, ins, outs, &all);
		if (!rc && all)
			rc = hier_zero_copy(c, h, &k, ins, outs);
		if (rc) {
			h->broken = true;
			return rc;
		}
		if (all) {
			c->phase = NULL;
			return 0;
		}
	}
	if (small) {
		rc = hier_small(c, h, &k);
		if (rc) {
			h->broken = true;
			return rc;
		}
		h->seq++;
		c->phase = NULL;
		return 0;
	}
	rc = 0;
	for (size_t i = 0; i < k.nchunks && !rc; i++) {
		/* stage ahead: slot reuse of chunk i + depth - 1 only needs chunk i - 1 done */
		while (!rc && staged < k.nchunks && staged < i + HIER_DEPTH)
			rc = hier_stage(c, h, &k, staged++);
		if (!rc && h->lrank < h->nown)
			rc = hier_reduce(c, h, &k, i);
		if (!rc)
			rc = hier_gather(c, h, &k, i);
	}
	if (rc) {
		h->broken = true; /* peers may be anywhere in this call */
		return rc;
	}
	h->seq += k.nchunks;
	c->phase = NULL;
	return 0;
}

/* A communicator whose cluster-map nodes each share memory (checked at ar_comm_create;
 * ar__hier_setup checks again on the first call). */
static bool hier_supports(const struct ar_comm *c)
{
	return c->nodes_share_memory;
}

const struct ar_algo ar__algo_hier = {
	.name = "hier",
	.summary = "shared-memory reduce-scatter in the node, all-reduce of 1/ppn between "
		   "nodes, shared-memory all-gather",
	.run = hier_run,
	.supports = hier_supports,
	.setup = ar__hier_setup,
	.cleanup = ar__hier_cleanup,
};
