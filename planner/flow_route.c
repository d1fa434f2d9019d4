/*
 * flow_route.c - a phase's flows routed into its layout (struct plan_layout): flow after
 * flow, the resources each one uses and the share of the flow on each.
 *
 *   ranks of one CPU node (or a memory phase on CPU nodes): the node's shared memory
 *   GPUs of one node that meet only at their in-node switch, by one link each: that one
 *     path, no search
 *   different nodes of a layered fabric, ECMP hash: up/down tables (route_updown.c), a few
 *     look-ups per hop, nothing kept
 *   anything else: the router's search (topo/route.c), kept per vertex pair in the context
 *
 * ECMP by hash gives each flow (or each of its connections, ecmp_conns) one path by a hash
 * of the vertex pair; a seed draws every hash anew, so that predictions over many seeds give
 * the spread of times that hashing causes (`arplan predict --ecmp sample:N`).  ECMP spread
 * splits a flow equally over the next hops at every vertex of the shortest-path DAG.  The
 * closed-form engine's layout leaves the fabric's links out (it shares only the endpoints'
 * links and memory).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

/* ---- the layout -------------------------------------------------------------------------- */

static int lay_flows(struct plan_layout *l, size_t n)
{
	if (n + 1 > l->cap_flows) {
		uint32_t *s = realloc(l->start, (n + 1) * sizeof(*s));
		uint8_t *k = s ? realloc(l->cls, n + 1) : NULL;

		if (s)
			l->start = s;
		if (!k)
			return -ENOMEM;
		l->cls = k;
		l->cap_flows = n + 1;
	}
	return 0;
}

/* Room for more uses (the layout's indices are 32-bit). */
static int lay_reserve(struct plan_layout *l, size_t more)
{
	size_t need = l->n_uses + more, cap;

	if (need <= l->cap_uses)
		return 0;
	if (need > UINT32_MAX)
		return -ENOMEM;
	cap = l->cap_uses ? 2 * l->cap_uses : 1 << 16;
	while (cap < need)
		cap *= 2;
	uint32_t *r = realloc(l->res, cap * sizeof(*r));
	double *f = r ? realloc(l->frac, cap * sizeof(*f)) : NULL;

	if (r)
		l->res = r;
	if (!f)
		return -ENOMEM;
	l->frac = f;
	l->cap_uses = cap;
	return 0;
}

/* Append a use (room reserved). */
static inline void lay_put(struct plan_layout *l, uint32_t res, double frac)
{
	l->res[l->n_uses] = res;
	if (!l->unit)
		l->frac[l->n_uses] = frac;
	l->n_uses++;
}

/* One entry per resource in uses [start, *n): the connections of a flow that share a link
 * (its NIC's, at least) add up their fractions. */
static void merge_uses(uint32_t *res, double *frac, size_t start, size_t *n)
{
	size_t w = start;

	for (size_t i = start; i < *n; i++) {
		size_t j = start;

		while (j < w && res[j] != res[i])
			j++;
		if (j < w) {
			frac[j] += frac[i];
		} else {
			res[w] = res[i];
			frac[w++] = frac[i];
		}
	}
	*n = w;
}

/* The closed-form engine shares only endpoint links and memory, not the fabric: drop the
 * fabric's links from uses [start, end). */
static void drop_fabric(const struct plan_ctx *c, struct plan_layout *l, size_t start)
{
	size_t w = start;

	for (size_t i = start; i < l->n_uses; i++) {
		uint32_t r = l->res[i];

		if (r >= c->shm_base || c->s.g->links[r / 2].cls != TOPO_L_FABRIC) {
			l->res[w] = r;
			if (!l->unit)
				l->frac[w] = l->frac[i];
			w++;
		}
	}
	l->n_uses = w;
}

/* ---- hashes and paths -------------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* The ECMP hash of connection k of the flow between the vertex pair key: fixed per pair without
 * a seed (the default), drawn anew for every seed (--ecmp sample). */
static uint64_t flow_hash(const struct plan_ctx *c, uint64_t key, unsigned k)
{
	if (!c->s.ecmp_seed && !k)
		return mix(key);
	return mix(key ^ mix(c->s.ecmp_seed * 0x9e3779b97f4a7c15ull + k + 1));
}

static unsigned conns_of(const struct plan_ctx *c)
{
	return c->s.ecmp_conns > 1 ? c->s.ecmp_conns : 1;
}

/* The directed resource of link l entered from vertex from. */
static inline uint32_t dir_res(const struct topo_graph *g, uint64_t l, uint32_t from)
{
	return (uint32_t)(2 * l + (g->links[l].a == from ? 0 : 1));
}

/* Uses of `copies` connections all on path[0..n) from va, each with 1/copies of the flow. */
static int put_path(struct plan_ctx *c, uint32_t va, const uint64_t *path, int n, unsigned copies)
{
	const struct topo_graph *g = c->s.g;
	struct plan_layout *l = &c->layout;
	size_t start = l->n_uses;

	if (lay_reserve(l, (size_t)n * copies))
		return -ENOMEM;
	for (unsigned k = 0; k < copies; k++) {
		uint32_t at = va;

		for (int i = 0; i < n; i++) {
			lay_put(l, dir_res(g, path[i], at), 1.0 / copies);
			at = topo_link_other(g, path[i], at);
		}
	}
	if (copies > 1)
		merge_uses(l->res, l->frac, start, &l->n_uses);
	return 0;
}

/*
 * GPUs va and vb of one node with no link between them and exactly one common neighbour, an
 * in-node switch of their node reached by one link from each: the only shortest path, which
 * the router's search would find (every hash picks it).  Its two links into path, or false.
 */
static bool intra_path(const struct topo_graph *g, uint32_t va, uint32_t vb, uint64_t *path)
{
	unsigned common = 0;
	uint32_t via = UINT32_MAX;

	for (uint64_t e = g->adj_start[va]; e < g->adj_start[va + 1]; e++) {
		uint32_t w = topo_link_other(g, g->adj[e], va);

		if (w == vb)
			return false;
		for (uint64_t d = g->adj_start[vb]; d < g->adj_start[vb + 1]; d++)
			if (topo_link_other(g, g->adj[d], vb) == w) {
				common++;
				via = w;
				path[0] = g->adj[e];
				path[1] = g->adj[d];
			}
	}
	return common == 1 && g->vertices[via].node == g->vertices[va].node &&
	       g->vertices[via].kind == TOPO_V_SWITCH;
}

/* Up/down routes of every connection from rank a to rank b (vertex pair key): 0, 1 when
 * the pair is not for the tables, -ENOMEM. */
static int ud_route(struct plan_ctx *c, int a, int b, uint64_t key)
{
	struct plan_layout *l = &c->layout;
	size_t start = l->n_uses;
	unsigned conns = conns_of(c);
	uint32_t res[64];

	if (lay_reserve(l, 64 * (size_t)conns))
		return -ENOMEM;
	for (unsigned k = 0; k < conns; k++) {
		int n = plan_ud_route(c->ud, &c->ud_end[a], &c->ud_end[b], flow_hash(c, key, k),
				      res, 64);

		if (n < 0) {
			l->n_uses = start;
			return 1;
		}
		for (int i = 0; i < n; i++)
			lay_put(l, res[i], 1.0 / conns);
	}
	if (conns > 1)
		merge_uses(l->res, l->frac, start, &l->n_uses);
	return 0;
}

/* ---- routes found by search, kept per vertex pair ------------------------------------------ */

static int arena_push(struct plan_ctx *c, uint32_t res, double frac)
{
	if (c->arena_n == c->arena_cap) {
		size_t nc = c->arena_cap ? 2 * c->arena_cap : 4096;
		uint32_t *r = realloc(c->arena_res, nc * sizeof(*r));
		double *f = r ? realloc(c->arena_frac, nc * sizeof(*f)) : NULL;

		if (r)
			c->arena_res = r;
		if (!f)
			return -ENOMEM;
		c->arena_frac = f;
		c->arena_cap = nc;
	}
	c->arena_res[c->arena_n] = res;
	c->arena_frac[c->arena_n++] = frac;
	return 0;
}

/* Spread: split the flow equally over the next hops at every vertex of the shortest-path DAG
 * (layer by layer: every shortest path has the same length). */
static int route_spread(struct plan_ctx *c, uint32_t src, int hops)
{
	const struct topo_graph *g = c->s.g;
	size_t cap = 64, n = 1, nn;
	uint32_t *vs = malloc(cap * sizeof(*vs)), *nv = malloc(cap * sizeof(*nv));
	double *fr = malloc(cap * sizeof(*fr)), *nf = malloc(cap * sizeof(*nf));
	uint64_t next[512];
	int err = -ENOMEM;

	if (!vs || !nv || !fr || !nf)
		goto out;
	vs[0] = src;
	fr[0] = 1;
	for (int h = 0; h < hops; h++) {
		nn = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned k = topo_route_next(c->router, vs[i], next, 512);

			k = k > 512 ? 512 : k;
			for (unsigned j = 0; j < k; j++) {
				uint32_t w = topo_link_other(g, next[j], vs[i]);
				size_t q;

				if (arena_push(c, dir_res(g, next[j], vs[i]), fr[i] / k))
					goto out;
				for (q = 0; q < nn && nv[q] != w; q++)
					;
				if (q == nn) {
					if (nn == cap) {
						size_t nc = 2 * cap;
						uint32_t *a = realloc(vs, nc * sizeof(*a));
						uint32_t *b =
							a ? realloc(nv, nc * sizeof(*b)) : NULL;
						double *x = b ? realloc(fr, nc * sizeof(*x)) : NULL;
						double *y = x ? realloc(nf, nc * sizeof(*y)) : NULL;

						vs = a ? a : vs;
						nv = b ? b : nv;
						fr = x ? x : fr;
						if (!y)
							goto out;
						nf = y;
						cap = nc;
					}
					nv[nn] = w;
					nf[nn++] = 0;
				}
				nf[q] += fr[i] / k;
			}
		}
		uint32_t *tv = vs;
		double *tf = fr;

		vs = nv;
		nv = tv;
		fr = nf;
		nf = tf;
		n = nn;
	}
	err = 0;
out:
	free(vs);
	free(nv);
	free(fr);
	free(nf);
	return err;
}

/* The slot of key in the route table (grown to stay at most half full): its route, or the
 * empty slot to fill.  NULL when out of memory. */
static struct plan_route *route_slot(struct plan_ctx *c, uint64_t key)
{
	size_t h;

	if (c->routes_used * 2 >= c->routes_cap) {
		size_t cap = c->routes_cap ? 2 * c->routes_cap : 1024;
		struct plan_route *nr = calloc(cap, sizeof(*nr));

		if (!nr)
			return NULL;
		for (size_t i = 0; i < c->routes_cap; i++) {
			if (!c->routes[i].key)
				continue;
			for (h = mix(c->routes[i].key) & (cap - 1); nr[h].key;
			     h = (h + 1) & (cap - 1))
				;
			nr[h] = c->routes[i];
		}
		free(c->routes);
		c->routes = nr;
		c->routes_cap = cap;
	}
	for (h = mix(key) & (c->routes_cap - 1); c->routes[h].key;
	     h = (h + 1) & (c->routes_cap - 1))
		if (c->routes[h].key == key)
			break;
	return &c->routes[h];
}

/* The route of va -> vb by the router's search (kept), its uses appended to the layout. */
static int searched(struct plan_ctx *c, uint32_t va, uint32_t vb, uint64_t key)
{
	const struct topo_graph *g = c->s.g;
	struct plan_layout *l = &c->layout;
	struct plan_route *slot = route_slot(c, key);
	int err = 0;

	if (!slot)
		return -ENOMEM;
	if (!slot->key) {
		size_t start = c->arena_n;
		int hops = topo_route(c->router, va, vb);

		if (hops < 0)
			return hops;
		if (c->s.ecmp == PLAN_ECMP_SPREAD) {
			err = route_spread(c, va, hops);
		} else {
			uint64_t path[64];
			unsigned conns = conns_of(c);

			for (unsigned k = 0; !err && k < conns; k++) {
				uint32_t at = va;
				int n = topo_route_path(c->router, flow_hash(c, key, k), path, 64);

				err = n < 0 ? n : 0;
				for (int i = 0; !err && i < n; i++) {
					err = arena_push(c, dir_res(g, path[i], at), 1.0 / conns);
					at = topo_link_other(g, path[i], at);
				}
			}
			if (!err)
				merge_uses(c->arena_res, c->arena_frac, start, &c->arena_n);
		}
		if (err)
			return err;
		if (c->arena_n > UINT32_MAX)
			return -ENOMEM;
		slot->key = key;
		slot->off = (uint32_t)start;
		slot->n = (uint32_t)(c->arena_n - start);
		c->routes_used++;
	}
	if (lay_reserve(l, slot->n))
		return -ENOMEM;
	memcpy(l->res + l->n_uses, c->arena_res + slot->off, slot->n * sizeof(*l->res));
	if (!l->unit)
		memcpy(l->frac + l->n_uses, c->arena_frac + slot->off, slot->n * sizeof(*l->frac));
	l->n_uses += slot->n;
	return 0;
}

/* ---- a phase ----------------------------------------------------------------------------- */

/* The uses of the flow from rank a to rank b appended to the layout; its class into *cls. */
static int route_flow(struct plan_ctx *c, int a, int b, bool memory, uint8_t *cls)
{
	const struct topo_graph *g = c->s.g;
	struct plan_layout *l = &c->layout;
	uint32_t va = c->vert[a], vb = c->vert[b];
	bool same = c->node[a] == c->node[b];
	uint64_t key, path[2];

	if ((memory || same) && (!g || g->vertices[va].kind != TOPO_V_GPU)) {
		/* shared memory of a CPU node; GPUs of one node use their in-node links */
		*cls = PLAN_C_SHM;
		if (lay_reserve(l, 1))
			return -ENOMEM;
		lay_put(l, c->shm_base + (uint32_t)c->node[a], 1);
		return 0;
	}
	if (va == vb) {
		*cls = PLAN_C_SHM; /* nothing to carry */
		return 0;
	}
	*cls = same ? PLAN_C_INTRA : PLAN_C_NET;
	key = ((uint64_t)va << 32 | vb) + 1;
	if (same && intra_path(g, va, vb, path))
		return put_path(c, va, path, 2, c->s.ecmp == PLAN_ECMP_HASH ? conns_of(c) : 1);
	if (!same && c->ud && c->s.ecmp == PLAN_ECMP_HASH) {
		int r = ud_route(c, a, b, key);

		if (r <= 0)
			return r;
	}
	return searched(c, va, vb, key);
}

int plan_flow_route(struct plan_ctx *c, const struct plan_phase *ph)
{
	struct plan_layout *l = &c->layout;

	if (lay_flows(l, ph->n_flows))
		return -ENOMEM;
	l->n_flows = ph->n_flows;
	l->n_uses = 0;
	l->group = ph->group;
	/* one hash-chosen path per flow: every fraction is 1 */
	l->unit = c->s.ecmp == PLAN_ECMP_HASH && conns_of(c) == 1;
	for (size_t f = 0; f < ph->n_flows; f++) {
		size_t start = l->n_uses;
		int err = route_flow(c, (int)ph->flows[f].src, (int)ph->flows[f].dst, ph->memory,
				     &l->cls[f]);

		if (err)
			return err;
		if (c->s.engine == PLAN_ENGINE_CLOSED)
			drop_fabric(c, l, start);
		l->start[f] = (uint32_t)start;
	}
	l->start[ph->n_flows] = (uint32_t)l->n_uses;
	return 0;
}
