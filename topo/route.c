/*
 * route.c - shortest paths with their ECMP sets, on demand.
 *
 * topo_route() runs a bidirectional BFS: it grows whichever side has the smaller frontier by
 * one full level until the two sides meet.  If that happens after a levels from src and b from
 * dst, every shortest path has a + b hops, and every vertex on one is labelled by at least one
 * side (ds <= a or dt <= b).  The src side is then swept backwards to mark the vertices that
 * lead to the meeting level, so each vertex of the shortest-path DAG knows its remaining
 * distance rem(v); the ECMP set at v is the links to neighbours with rem = rem(v) - 1.
 *
 * Transit rule: a path's interior may hold fabric switches, and the GPUs, NICs and in-node
 * switches of src's and dst's own nodes, but no other node's.
 *
 * Cost: proportional to the vertices within a levels of src and b of dst.  Scratch arrays are
 * stamped with an epoch, so nothing is cleared between routes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

/* What the search knows of a vertex, together (one cache line to read, not five): stamps
 * (valid when equal to the router's epoch) of being seen from src, from dst, and of leading
 * to the meeting level, and the distances from src and to dst. */
struct vstate {
	uint32_t seen[2]; /* [0]: from src, [1]: from dst */
	uint32_t dist[2];
	uint32_t good;
};

struct topo_router {
	const struct topo_graph *g;
	uint32_t epoch;
	struct vstate *st;
	uint32_t *cnt_seen;
	uint32_t *qs, *qt;
	double *cnt;
	uint32_t src, dst, src_node, dst_node;
	uint32_t a, b;
	uint32_t n_qs; /* src-side queue length after the search */
	bool valid;
};

int topo_router_new(const struct topo_graph *g, struct topo_router **out)
{
	struct topo_router *r = calloc(1, sizeof(*r));
	size_t n = g->n_vertices ? g->n_vertices : 1;

	if (!r)
		return -ENOMEM;
	r->g = g;
	r->st = calloc(n, sizeof(*r->st));
	r->cnt_seen = calloc(n, sizeof(uint32_t));
	r->qs = malloc(n * sizeof(uint32_t));
	r->qt = malloc(n * sizeof(uint32_t));
	r->cnt = malloc(n * sizeof(double));
	if (!r->st || !r->cnt_seen || !r->qs || !r->qt || !r->cnt) {
		topo_router_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void topo_router_free(struct topo_router *r)
{
	if (!r)
		return;
	free(r->st);
	free(r->cnt_seen);
	free(r->qs);
	free(r->qt);
	free(r->cnt);
	free(r);
}

/* May a path pass through v? */
static bool transit(const struct topo_router *r, uint32_t v)
{
	uint32_t node = r->g->vertices[v].node;

	return v == r->src || v == r->dst || node == UINT32_MAX || node == r->src_node ||
	       node == r->dst_node;
}

static uint32_t node_of(const struct topo_graph *g, uint32_t v)
{
	return g->vertices[v].node;
}

/* Remaining hops from v to dst on a shortest path, or UINT32_MAX when v is not on one. */
static uint32_t rem(const struct topo_router *r, uint32_t v)
{
	const struct vstate *x = &r->st[v];

	if (x->seen[1] == r->epoch && x->dist[1] <= r->b && transit(r, v))
		return x->dist[1];
	if (x->good == r->epoch)
		return r->a + r->b - x->dist[0];
	return UINT32_MAX;
}

/* Expand one level of a side (0: src's, 1: dst's).  Returns true when it met the other side. */
static bool expand(struct topo_router *r, uint32_t *q, uint32_t *head, uint32_t *tail, int side)
{
	const struct topo_graph *g = r->g;
	uint32_t end = *tail, i;
	bool met = false;

	for (i = *head; i < end; i++) {
		uint32_t u = q[i];
		uint64_t e;

		if (!transit(r, u))
			continue;
		for (e = g->adj_start[u]; e < g->adj_start[u + 1]; e++) {
			uint32_t w = topo_link_other(g, g->adj[e], u);
			struct vstate *x = &r->st[w];

			if (x->seen[side] == r->epoch)
				continue;
			x->seen[side] = r->epoch;
			x->dist[side] = r->st[u].dist[side] + 1;
			q[(*tail)++] = w;
			if (x->seen[!side] == r->epoch && transit(r, w))
				met = true;
		}
	}
	*head = end;
	return met;
}

int topo_route(struct topo_router *r, uint32_t src, uint32_t dst)
{
	const struct topo_graph *g = r->g;
	uint32_t hs = 0, ts = 1, ht = 0, tt = 1, i;
	bool met;

	r->valid = false;
	if (src >= g->n_vertices || dst >= g->n_vertices)
		return -EINVAL;
	if (++r->epoch == 0) { /* wrapped: clear the stamps once */
		memset(r->st, 0, g->n_vertices * sizeof(*r->st));
		memset(r->cnt_seen, 0, g->n_vertices * sizeof(uint32_t));
		r->epoch = 1;
	}
	r->src = src;
	r->dst = dst;
	r->src_node = node_of(g, src);
	r->dst_node = node_of(g, dst);
	r->a = r->b = 0;
	r->st[src].seen[0] = r->epoch;
	r->st[src].dist[0] = 0;
	r->qs[0] = src;
	r->st[dst].seen[1] = r->epoch;
	r->st[dst].dist[1] = 0;
	r->qt[0] = dst;
	met = src == dst;
	while (!met) {
		bool from_src = ts - hs <= tt - ht;

		if (ts == hs && tt == ht)
			return -ENOENT;
		if (ts == hs)
			from_src = false;
		else if (tt == ht)
			from_src = true;
		if (from_src) {
			met = expand(r, r->qs, &hs, &ts, 0);
			r->a++;
		} else {
			met = expand(r, r->qt, &ht, &tt, 1);
			r->b++;
		}
	}
	/* mark the src-side vertices that lead to the meeting level, deepest first */
	r->n_qs = ts;
	for (i = ts; i-- > 0;) {
		uint32_t v = r->qs[i];
		struct vstate *x = &r->st[v];
		uint64_t e;

		if (!transit(r, v))
			continue;
		if (x->dist[0] == r->a) {
			if (x->seen[1] == r->epoch && x->dist[1] == r->b)
				x->good = r->epoch;
			continue;
		}
		if (x->seen[1] == r->epoch && x->dist[0] + x->dist[1] == r->a + r->b) {
			x->good = r->epoch;
			continue;
		}
		for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
			const struct vstate *y = &r->st[topo_link_other(g, g->adj[e], v)];

			if (y->seen[0] == r->epoch && y->dist[0] == x->dist[0] + 1 &&
			    y->good == r->epoch) {
				x->good = r->epoch;
				break;
			}
		}
	}
	r->valid = true;
	return (int)(r->a + r->b);
}

unsigned topo_route_next(const struct topo_router *r, uint32_t v, uint64_t *links, unsigned max)
{
	const struct topo_graph *g = r->g;
	uint32_t rv;
	unsigned n = 0;
	uint64_t e;

	if (!r->valid || v >= g->n_vertices || v == r->dst)
		return 0;
	rv = rem(r, v);
	if (rv == UINT32_MAX || rv == 0)
		return 0;
	for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
		uint32_t w = topo_link_other(g, g->adj[e], v);

		if (rem(r, w) == rv - 1) {
			if (n < max)
				links[n] = g->adj[e];
			n++;
		}
	}
	return n;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

int topo_route_path(const struct topo_router *r, uint64_t hash, uint64_t *links, unsigned max)
{
	const struct topo_graph *g = r->g;
	uint32_t v = r->src;
	unsigned hops = 0;

	if (!r->valid)
		return -EINVAL;
	while (v != r->dst) {
		uint64_t cand[256], e;
		uint32_t rv = rem(r, v), to[256];
		unsigned n = 0, pick, k = 0;

		/* the next hops in adjacency order, kept when they fit (one scan), else counted
		 * here and found by a second scan */
		if (rv != UINT32_MAX && rv != 0)
			for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
				uint32_t w = topo_link_other(g, g->adj[e], v);

				if (rem(r, w) == rv - 1) {
					if (n < 256) {
						cand[n] = g->adj[e];
						to[n] = w;
					}
					n++;
				}
			}
		if (!n)
			return -EINVAL; /* cannot happen on a valid route */
		if (hops >= max)
			return -ENOSPC;
		pick = (unsigned)(mix(hash + 0x9e3779b97f4a7c15ull * (hops + 1)) % n);
		if (pick < 256) {
			links[hops++] = cand[pick];
			v = to[pick];
			continue;
		}
		for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
			uint32_t w = topo_link_other(g, g->adj[e], v);

			if (rem(r, w) == rv - 1 && k++ == pick) {
				links[hops++] = g->adj[e];
				v = w;
				break;
			}
		}
	}
	return (int)hops;
}

static double count_from(struct topo_router *r, uint32_t v)
{
	const struct topo_graph *g = r->g;
	uint32_t rv;
	double c = 0;
	uint64_t e;

	if (v == r->dst)
		return 1;
	if (r->cnt_seen[v] == r->epoch)
		return r->cnt[v];
	rv = rem(r, v);
	for (e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
		uint32_t w = topo_link_other(g, g->adj[e], v);

		if (rv != UINT32_MAX && rem(r, w) == rv - 1)
			c += count_from(r, w);
	}
	r->cnt_seen[v] = r->epoch;
	r->cnt[v] = c;
	return c;
}

double topo_route_count(struct topo_router *r)
{
	if (!r->valid)
		return 0;
	return count_from(r, r->src);
}
