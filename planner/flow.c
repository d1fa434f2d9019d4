/*
 * flow.c - the prediction engine: ranks placed on the topology graph, each phase's flows
 * routed (ECMP by hash, or spread over every equal-cost path), link capacity shared max-min
 * fairly by progressive filling, and the call's time summed over its phases.
 *
 * Resources: each direction of each graph link, plus one shared-memory resource per CPU node
 * (flows between ranks of a node without GPUs; its rate comes from the calibration).  A
 * phase's rates depend only on which flows run, never on their bytes, so they are computed
 * once per distinct flow pattern and kept across calls (a ring's 2(p-1) steps, and every size
 * of a sweep, share one).  Routes are cached per (source, destination) vertex pair.
 *
 * Step time = max over flows (alpha of its class + bytes / (rate x efficiency of its class))
 * + gamma x bytes reduced; phase time = repeat x step time + fill steps x the slowest flow's
 * time at its uncontended rate (a pipeline filling); a call = the sum of its phases, then the
 * calibration's per-algorithm overhead + scale.  The bottleneck reported is the resource that
 * set the slowest flow's rate in the longest phase.  The closed-form engine (--engine closed)
 * shares only the links at the endpoints (NICs, in-node links, memory), i.e. the
 * alpha-beta-gamma model with every rank on its own full-bisection network.
 *
 * ECMP by hash gives each flow (or each of its connections, ecmp_conns) one path by a hash of
 * the vertex pair; a seed draws every hash anew, so that predictions over many seeds give the
 * spread of times that hashing causes (`arplan predict --ecmp sample:N`).
 *
 * Up/down routes for layered fabrics live in route_updown.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

struct use {
	uint64_t res; /* 2 x link (+1 for b -> a), or shm base + node */
	double frac;
};

struct route {
	uint64_t key; /* src << 32 | dst, 0 = empty slot (vertex pair 0,0 never routed) */
	uint32_t off, n;
	uint8_t cls; /* enum plan_class of the flow */
};

struct pattern {
	uint64_t hash;
	size_t n_flows;
	double *rate;	/* [n_flows] bytes/s */
	uint8_t *cls;	/* [n_flows] enum plan_class */
	double *alone;	/* [n_flows] bytes/s the flow would get on its own */
	int64_t *limit; /* [n_flows] the resource that set the flow's rate, -1 none */
	double *load;	/* [n_flows] utilisation of that resource */
};

#define PATTERN_CACHE 256

struct plan_ctx {
	struct plan_setup s;
	int n_nodes;
	int *node;	/* [ranks] node of each rank */
	uint32_t *vert; /* [ranks] endpoint vertex (GPU, else NIC); UINT32_MAX without graph */
	uint64_t n_res, shm_base;
	double *cap; /* [n_res] bytes/s */
	struct topo_router *router;
	struct route *routes;
	size_t routes_cap, routes_used;
	struct use *arena; /* uses of cached routes */
	size_t arena_n, arena_cap;
	struct use *tmp; /* uses of up/down routes, for one phase (cheap to recompute) */
	size_t tmp_n, tmp_cap;
	struct pattern patterns[PATTERN_CACHE];
	size_t n_patterns;
	/* scratch for filling */
	int64_t *local_of;			 /* [n_res] index into the touched list, -1 */
	double net_rate_min, net_rate_max;	 /* host link rates of the ranks' NICs */
	double node_inject_min, node_inject_sum; /* bytes/s: nodes' NIC totals */
	double gpu_inject_min;			 /* bytes/s: a GPU's links, 0 none */
	int ranks_per_node_max;
	struct plan_updown *ud; /* fast routes on layered fabrics; NULL: BFS for every pair */
};

static bool ud_check(struct plan_ctx *c);

/* ---- placement --------------------------------------------------------------------------- */

static int place(struct plan_ctx *c, char *msg, size_t len)
{
	const struct plan_setup *s = &c->s;
	const struct topo_graph *g = s->g;
	int *lcount = NULL, err = -EINVAL;
	uint32_t **gpu = NULL, **nic = NULL;
	uint32_t *ngpu = NULL, *nnic = NULL;

	for (int r = 0; r < s->ranks; r++) {
		int rpn = s->ranks_per_node > 0 ? s->ranks_per_node : 1;

		c->node[r] = s->node_of_rank ? s->node_of_rank[r] : r / rpn;
		if (c->node[r] + 1 > c->n_nodes)
			c->n_nodes = c->node[r] + 1;
	}
	if (!g) {
		if (c->n_nodes > 1) {
			snprintf(msg, len, "%d nodes but no topology to connect them (give --topo)",
				 c->n_nodes);
			return -EINVAL;
		}
		for (int r = 0; r < s->ranks; r++)
			c->vert[r] = UINT32_MAX;
		c->ranks_per_node_max = s->ranks;
		return 0;
	}
	if ((uint32_t)c->n_nodes > g->n_nodes) {
		snprintf(msg, len,
			 "the topology has %u nodes, fewer than the %d the ranks are placed on "
			 "(%d ranks)",
			 g->n_nodes, c->n_nodes, s->ranks);
		return -EINVAL;
	}
	lcount = calloc((size_t)c->n_nodes, sizeof(*lcount));
	gpu = calloc(g->n_nodes, sizeof(*gpu));
	nic = calloc(g->n_nodes, sizeof(*nic));
	ngpu = calloc(g->n_nodes, sizeof(*ngpu));
	nnic = calloc(g->n_nodes, sizeof(*nnic));
	if (!lcount || !gpu || !nic || !ngpu || !nnic) {
		err = -ENOMEM;
		goto out;
	}
	/* count, then fill, each node's GPUs and NICs by local index */
	for (uint32_t v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (x->node >= (uint32_t)c->n_nodes)
			continue;
		if (x->kind == TOPO_V_GPU && x->local + 1u > ngpu[x->node])
			ngpu[x->node] = x->local + 1u;
		if (x->kind == TOPO_V_NIC && x->local + 1u > nnic[x->node])
			nnic[x->node] = x->local + 1u;
	}
	for (int k = 0; k < c->n_nodes; k++) {
		gpu[k] = calloc(ngpu[k] + 1, sizeof(uint32_t));
		nic[k] = calloc(nnic[k] + 1, sizeof(uint32_t));
		if (!gpu[k] || !nic[k]) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (uint32_t v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (x->node >= (uint32_t)c->n_nodes)
			continue;
		if (x->kind == TOPO_V_GPU)
			gpu[x->node][x->local] = v;
		if (x->kind == TOPO_V_NIC)
			nic[x->node][x->local] = v;
	}
	for (int r = 0; r < s->ranks; r++) {
		int k = c->node[r], l = lcount[k]++;

		if (ngpu[k]) {
			if ((uint32_t)l >= ngpu[k]) {
				snprintf(
					msg, len,
					"node %d of the topology has %u GPUs, fewer than the ranks "
					"placed on it",
					k, ngpu[k]);
				goto out;
			}
			c->vert[r] = gpu[k][l];
		} else if (nnic[k]) {
			c->vert[r] = nic[k][(uint32_t)l % nnic[k]];
		} else {
			snprintf(msg, len, "node %d of the topology has neither GPUs nor NICs", k);
			goto out;
		}
		if (lcount[k] > c->ranks_per_node_max)
			c->ranks_per_node_max = lcount[k];
	}
	/* injection rates: each node's NIC host links, each GPU's in-node links */
	c->net_rate_min = c->node_inject_min = INFINITY;
	c->net_rate_max = 0;
	for (int k = 0; k < c->n_nodes; k++) {
		double total = 0;

		for (uint32_t i = 0; i < nnic[k]; i++) {
			uint32_t v = nic[k][i];

			for (uint64_t a = g->adj_start[v]; a < g->adj_start[v + 1]; a++) {
				const struct topo_link *l = &g->links[g->adj[a]];

				if (l->cls != TOPO_L_HOST)
					continue;
				total += l->bandwidth;
				c->net_rate_min = fmin(c->net_rate_min, l->bandwidth);
				c->net_rate_max = fmax(c->net_rate_max, l->bandwidth);
			}
		}
		if (total > 0)
			c->node_inject_min = fmin(c->node_inject_min, total);
		c->node_inject_sum += total;
		for (uint32_t i = 0; i < ngpu[k]; i++) {
			uint32_t v = gpu[k][i];
			double sum = 0;

			for (uint64_t a = g->adj_start[v]; a < g->adj_start[v + 1]; a++)
				if (g->links[g->adj[a]].cls == TOPO_L_INTRA)
					sum += g->links[g->adj[a]].bandwidth;
			if (sum > 0 && (c->gpu_inject_min == 0 || sum < c->gpu_inject_min))
				c->gpu_inject_min = sum;
		}
	}
	err = 0;
out:
	for (int k = 0; gpu && nic && k < c->n_nodes; k++) {
		free(gpu[k]);
		free(nic[k]);
	}
	free(gpu);
	free(nic);
	free(ngpu);
	free(nnic);
	free(lcount);
	return err;
}

int plan_ctx_new(const struct plan_setup *s, struct plan_ctx **out, char *msg, size_t msglen)
{
	struct plan_ctx *c = calloc(1, sizeof(*c));
	int err = -ENOMEM;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->s = *s;
	if (s->ranks < 1) {
		snprintf(msg, msglen, "need at least one rank");
		free(c);
		return -EINVAL;
	}
	c->node = calloc((size_t)s->ranks, sizeof(*c->node));
	c->vert = calloc((size_t)s->ranks, sizeof(*c->vert));
	if (!c->node || !c->vert)
		goto err_free;
	err = place(c, msg, msglen);
	if (err)
		goto err_free;
	c->shm_base = s->g ? 2 * s->g->n_links : 0;
	c->n_res = c->shm_base + (uint64_t)c->n_nodes;
	c->cap = malloc(c->n_res * sizeof(*c->cap));
	c->local_of = malloc(c->n_res * sizeof(*c->local_of));
	err = -ENOMEM;
	if (!c->cap || !c->local_of)
		goto err_free;
	for (uint64_t l = 0; s->g && l < s->g->n_links; l++)
		c->cap[2 * l] = c->cap[2 * l + 1] = s->g->links[l].bandwidth;
	/* a node's memory is one unit shared by its flows; its rate (calibrated) multiplies
	 * the share in plan_predict, so a new calibration needs no new rates */
	for (int k = 0; k < c->n_nodes; k++)
		c->cap[c->shm_base + (uint64_t)k] = 1;
	memset(c->local_of, 0xff, c->n_res * sizeof(*c->local_of));
	if (s->g && topo_router_new(s->g, &c->router))
		goto err_free;
	if (s->g && c->n_nodes > 1) {
		c->ud = plan_ud_build(s->g);
		if (c->ud && !ud_check(c)) {
			plan_ud_free(c->ud);
			c->ud = NULL;
		}
	}
	*out = c;
	return 0;
err_free:
	plan_ctx_free(c);
	return err;
}

static void drop_patterns(struct plan_ctx *c)
{
	for (size_t i = 0; i < c->n_patterns; i++) {
		free(c->patterns[i].rate);
		free(c->patterns[i].cls);
		free(c->patterns[i].alone);
		free(c->patterns[i].limit);
		free(c->patterns[i].load);
	}
	c->n_patterns = 0;
}

void plan_ctx_free(struct plan_ctx *c)
{
	if (!c)
		return;
	drop_patterns(c);
	plan_ud_free(c->ud);
	if (c->router)
		topo_router_free(c->router);
	free(c->routes);
	free(c->arena);
	free(c->tmp);
	free(c->local_of);
	free(c->cap);
	free(c->vert);
	free(c->node);
	free(c);
}

void plan_ctx_reseed(struct plan_ctx *c, uint64_t seed)
{
	c->s.ecmp_seed = seed;
	drop_patterns(c);
	if (c->routes)
		memset(c->routes, 0, c->routes_cap * sizeof(*c->routes));
	c->routes_used = 0;
	c->arena_n = 0;
}

/* The fast path must agree with the BFS on hop counts: check a sample of rank pairs. */
static bool ud_check(struct plan_ctx *c)
{
	const struct topo_graph *g = c->s.g;
	uint64_t path[64], x = 12345;
	int tried = 0;

	for (int i = 0; i < 256 && tried < 64; i++) {
		int a, b, h, q;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		a = (int)((x >> 33) % (uint64_t)c->s.ranks);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		b = (int)((x >> 33) % (uint64_t)c->s.ranks);
		if (c->node[a] == c->node[b])
			continue;
		h = plan_ud_path(c->ud, g, c->vert[a], c->vert[b], x, path, 64);
		if (h < 0)
			continue;
		tried++;
		q = topo_route(c->router, c->vert[a], c->vert[b]);
		if (q != h)
			return false;
	}
	return true;
}

/* ---- routes ------------------------------------------------------------------------------ */

static int use_push(struct use **a, size_t *n, size_t *cap, uint64_t res, double frac)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 4096;
		struct use *x = realloc(*a, nc * sizeof(*x));

		if (!x)
			return -ENOMEM;
		*a = x;
		*cap = nc;
	}
	(*a)[(*n)++] = (struct use){res, frac};
	return 0;
}

static int arena_push(struct plan_ctx *c, uint64_t res, double frac)
{
	return use_push(&c->arena, &c->arena_n, &c->arena_cap, res, frac);
}

#define TMP_BIT 0x80000000u /* route.off: in c->tmp, not c->arena */

/* Use i of route r: its resource (shared memory: the node's) and fraction. */
static inline struct use use_at(const struct plan_ctx *c, const struct route *r, size_t i)
{
	if (r->off == UINT32_MAX)
		return (struct use){c->shm_base + r->n, 1};
	if (r->off & TMP_BIT)
		return c->tmp[(r->off & ~TMP_BIT) + i];
	return c->arena[r->off + i];
}

static inline size_t uses_of(const struct route *r)
{
	return r->off == UINT32_MAX ? 1 : r->n;
}

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

/* One entry per resource in u[start..*n): the connections of a flow that share a link (its
 * NIC's, at least) add up their fractions. */
static void merge_uses(struct use *u, size_t start, size_t *n)
{
	size_t w = start;

	for (size_t i = start; i < *n; i++) {
		size_t j = start;

		while (j < w && u[j].res != u[i].res)
			j++;
		if (j < w)
			u[j].frac += u[i].frac;
		else
			u[w++] = u[i];
	}
	*n = w;
}

/* The directed resource of link l entered from vertex from. */
static uint64_t dir_res(const struct topo_graph *g, uint64_t l, uint32_t from)
{
	return 2 * l + (g->links[l].a == from ? 0 : 1);
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
						cap *= 2;
						uint32_t *a = realloc(vs, cap * sizeof(*a));
						uint32_t *b =
							a ? realloc(nv, cap * sizeof(*b)) : NULL;

						if (a)
							vs = a;
						if (b)
							nv = b;
						double *x =
							b ? realloc(fr, cap * sizeof(*x)) : NULL;
						if (x)
							fr = x;
						double *y =
							x ? realloc(nf, cap * sizeof(*y)) : NULL;
						if (y)
							nf = y;
						if (!y)
							goto out;
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

/* The uses of the flow between ranks a and b (cached per vertex pair). */
static int flow_route(struct plan_ctx *c, int a, int b, bool memory, struct route *out)
{
	const struct topo_graph *g = c->s.g;
	uint32_t va = c->vert[a], vb = c->vert[b];
	uint64_t key, h;
	struct route *slot;
	int err;

	if (memory || c->node[a] == c->node[b]) {
		/* shared memory of a CPU node; GPUs of one node use their in-node links (below) */
		if (!g || g->vertices[va].kind != TOPO_V_GPU) {
			*out = (struct route){
				.off = UINT32_MAX, .n = (uint32_t)c->node[a], .cls = PLAN_C_SHM};
			return 0;
		}
	}
	if (va == vb) {
		*out = (struct route){0};
		return 0;
	}
	key = ((uint64_t)va << 32 | vb) + 1;
	if (c->ud && c->s.ecmp == PLAN_ECMP_HASH) {
		uint64_t fast[64];
		size_t start = c->tmp_n;
		unsigned k, conns = conns_of(c);

		for (k = 0; k < conns; k++) {
			int nfast = plan_ud_path(c->ud, g, va, vb, flow_hash(c, key, k), fast, 64);
			uint32_t at = va;

			if (nfast < 0)
				break;
			for (int i = 0; i < nfast; i++) {
				if (use_push(&c->tmp, &c->tmp_n, &c->tmp_cap,
					     dir_res(g, fast[i], at), 1.0 / conns))
					return -ENOMEM;
				at = topo_link_other(g, fast[i], at);
			}
		}
		if (k == conns) {
			merge_uses(c->tmp, start, &c->tmp_n);
			*out = (struct route){.off = (uint32_t)start | TMP_BIT,
					      .n = (uint32_t)(c->tmp_n - start),
					      .cls = PLAN_C_NET};
			return 0;
		}
		c->tmp_n = start; /* not on the fast path: route by BFS below */
	}
	if (c->routes_used * 2 >= c->routes_cap) {
		size_t cap = c->routes_cap ? 2 * c->routes_cap : 1024;
		struct route *nr = calloc(cap, sizeof(*nr));

		if (!nr)
			return -ENOMEM;
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
		if (c->routes[h].key == key) {
			*out = c->routes[h];
			return 0;
		}
	slot = &c->routes[h];
	size_t start = c->arena_n;
	int hops = topo_route(c->router, va, vb);

	if (hops < 0)
		return hops;
	if (c->s.ecmp == PLAN_ECMP_SPREAD) {
		err = route_spread(c, va, hops);
	} else {
		uint64_t path[64];
		unsigned conns = conns_of(c);

		err = 0;
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
			merge_uses(c->arena, start, &c->arena_n);
	}
	if (err)
		return err;
	slot->key = key;
	slot->off = (uint32_t)start;
	slot->n = (uint32_t)(c->arena_n - start);
	slot->cls = c->node[a] == c->node[b] ? PLAN_C_INTRA : PLAN_C_NET;
	c->routes_used++;
	*out = *slot;
	return 0;
}

/* ---- max-min fair rates by progressive filling -------------------------------------------- */

struct touched {
	uint64_t res;
	double cap, used, weight; /* weight: sum of fractions of unfrozen flows */
	size_t first, n;	  /* its flows in the CSR list */
	double stamp, key;	  /* used is as of level stamp; key: the level it fills at */
	size_t pos;		  /* in the heap, SIZE_MAX when not */
	bool stale;		  /* weight changed since key was computed */
};

/* A binary min-heap of touched resources by key. */
static void heap_swap(struct touched *t, size_t *h, size_t a, size_t b)
{
	size_t x = h[a];

	h[a] = h[b];
	h[b] = x;
	t[h[a]].pos = a;
	t[h[b]].pos = b;
}

static void heap_up(struct touched *t, size_t *h, size_t i)
{
	while (i && t[h[(i - 1) / 2]].key > t[h[i]].key) {
		heap_swap(t, h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct touched *t, size_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && t[h[l]].key < t[h[m]].key)
			m = l;
		if (r < n && t[h[r]].key < t[h[m]].key)
			m = r;
		if (m == i)
			return;
		heap_swap(t, h, i, m);
		i = m;
	}
}

static void heap_remove(struct touched *t, size_t *h, size_t *n, size_t x)
{
	size_t i = t[x].pos;

	t[x].pos = SIZE_MAX;
	if (i == --*n)
		return;
	h[i] = h[*n];
	t[h[i]].pos = i;
	heap_up(t, h, i);
	heap_down(t, h, *n, t[h[i]].pos);
}

static bool counts_here(const struct plan_ctx *c, uint64_t res)
{
	/* the closed-form engine shares only endpoint links and memory, not the fabric */
	return c->s.engine != PLAN_ENGINE_CLOSED || res >= c->shm_base ||
	       c->s.g->links[res / 2].cls != TOPO_L_FABRIC;
}

static const double *sort_key; /* fill's flow order (qsort has no context argument) */

static int by_key(const void *a, const void *b)
{
	double x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];

	return x < y ? -1 : x > y;
}

/*
 * Max-min fair rates of a phase's flows by progressive filling: every unfrozen flow's rate
 * rises together; a resource that fills freezes its flows.  Resources carried by a single
 * flow (a GPU's or NIC's own link, most of them on a large fabric) never go on the heap:
 * they only cap their flow, which freezes at that cap when the filling reaches it.
 */
static int fill(struct plan_ctx *c, const struct plan_phase *ph, const struct route *rt,
		struct pattern *pat)
{
	size_t nf = ph->n_flows, nt = 0, cap_t = 256, total = 0, left = nf, pi = 0;
	struct touched *t = malloc(cap_t * sizeof(*t));
	size_t *csr = NULL, *fill_pos = NULL, *heap = NULL, *order = NULL, hn = 0;
	bool *frozen = calloc(nf ? nf : 1, sizeof(bool));
	double *fcap = malloc((nf ? nf : 1) * sizeof(double)), *csr_frac = NULL, level = 0;
	int err = -ENOMEM;

	if (!t || !frozen || !fcap)
		goto out;
	/* the resources the phase touches, with each flow's fraction */
	for (size_t f = 0; f < nf; f++) {
		const struct route *r = &rt[f];

		for (size_t i = 0; i < uses_of(r); i++) {
			struct use u = use_at(c, r, i);

			if (!counts_here(c, u.res))
				continue;
			if (c->local_of[u.res] < 0) {
				if (nt == cap_t) {
					struct touched *x = realloc(t, 2 * cap_t * sizeof(*x));

					if (!x)
						goto out;
					t = x;
					cap_t *= 2;
				}
				c->local_of[u.res] = (int64_t)nt;
				t[nt++] = (struct touched){.res = u.res, .cap = c->cap[u.res]};
			}
			t[c->local_of[u.res]].weight += u.frac;
			t[c->local_of[u.res]].n++;
			total++;
		}
	}
	/* resource -> flows (CSR); a flow's own caps from the resources only it uses */
	csr = malloc((total ? total : 1) * sizeof(*csr));
	csr_frac = malloc((total ? total : 1) * sizeof(*csr_frac));
	fill_pos = malloc((nt ? nt : 1) * sizeof(*fill_pos));
	heap = malloc((nt ? nt : 1) * sizeof(*heap));
	order = malloc((nf ? nf : 1) * sizeof(*order));
	if (!csr || !csr_frac || !fill_pos || !heap || !order)
		goto out;
	for (size_t i = 0, acc = 0; i < nt; i++) {
		t[i].first = acc;
		fill_pos[i] = acc;
		acc += t[i].n;
	}
	for (size_t f = 0; f < nf; f++) {
		const struct route *r = &rt[f];

		fcap[f] = INFINITY;
		pat->alone[f] = INFINITY;
		pat->limit[f] = -1;
		order[f] = f;
		for (size_t i = 0; i < uses_of(r); i++) {
			struct use u = use_at(c, r, i);
			struct touched *x;

			if (!counts_here(c, u.res))
				continue;
			x = &t[c->local_of[u.res]];
			csr_frac[fill_pos[c->local_of[u.res]]] = u.frac;
			csr[fill_pos[c->local_of[u.res]]++] = f;
			pat->alone[f] = fmin(pat->alone[f], x->cap / u.frac);
			if (x->n == 1 && x->cap / u.frac < fcap[f]) {
				fcap[f] = x->cap / u.frac;
				pat->limit[f] = (int64_t)(x - t); /* a local index until the end */
			}
		}
	}
	sort_key = fcap;
	qsort(order, nf, sizeof(*order), by_key);
	/* the shared resources on a heap by the level at which each fills (heapified) */
	for (size_t i = 0; i < nt; i++) {
		t[i].pos = SIZE_MAX;
		if (t[i].n < 2)
			continue;
		t[i].key = t[i].cap / t[i].weight;
		heap[hn] = i;
		t[i].pos = hn++;
	}
	for (size_t i = hn / 2; i-- > 0;)
		heap_down(t, heap, hn, i);
	while (left) {
		double hk = INFINITY, pk;
		size_t first = 0, count = 0;

		/* keys only grow (a frozen flow leaves its resources): a stale key is a lower
		 * bound, refreshed when it reaches the top */
		while (hn) {
			size_t i = heap[0];

			if (t[i].weight <= 1e-12) {
				heap_remove(t, heap, &hn, i);
			} else if (t[i].stale) {
				t[i].key = t[i].stamp + fmax(0, t[i].cap - t[i].used) / t[i].weight;
				t[i].stale = false;
				heap_down(t, heap, hn, 0);
			} else {
				hk = t[i].key;
				break;
			}
		}
		while (pi < nf && frozen[order[pi]])
			pi++;
		pk = pi < nf ? fcap[order[pi]] : INFINITY;
		if (!isfinite(hk) && !isfinite(pk))
			break; /* the rest touch nothing that limits them */
		size_t by = SIZE_MAX;

		if (pk <= hk) { /* a flow reaches its own cap */
			level = pk;
			first = pi++;
			count = 1;
		} else { /* a shared resource fills: all its flows stop */
			size_t i = heap[0];

			level = hk;
			heap_remove(t, heap, &hn, i);
			first = t[i].first;
			count = t[i].n;
			by = i;
		}
		for (size_t q = first; q < first + count; q++) {
			size_t f = pk <= hk ? order[q] : csr[q];
			const struct route *r = &rt[f];

			if (frozen[f])
				continue;
			frozen[f] = true;
			left--;
			pat->rate[f] = level;
			if (by != SIZE_MAX)
				pat->limit[f] = (int64_t)by;
			for (size_t k = 0; k < uses_of(r); k++) {
				struct use u = use_at(c, r, k);
				struct touched *x;

				if (!counts_here(c, u.res))
					continue;
				x = &t[c->local_of[u.res]];
				if (x->n < 2)
					continue;
				x->used += x->weight * (level - x->stamp);
				x->stamp = level;
				x->weight -= u.frac;
				x->stale = true;
			}
		}
	}
	/* utilisation: every resource's load at the rates found; each flow's limiting
	 * resource by its global id */
	for (size_t i = 0; i < nt; i++) {
		double used = 0;

		for (size_t q = t[i].first; q < t[i].first + t[i].n; q++)
			if (isfinite(pat->rate[csr[q]]))
				used += csr_frac[q] * pat->rate[csr[q]];
		t[i].used = used / t[i].cap;
	}
	for (size_t f = 0; f < nf; f++) {
		pat->load[f] = pat->limit[f] >= 0 ? t[pat->limit[f]].used : 0;
		pat->limit[f] = pat->limit[f] >= 0 ? (int64_t)t[pat->limit[f]].res : -1;
	}
	err = 0;
out:
	for (size_t i = 0; t && i < nt; i++)
		c->local_of[t[i].res] = -1;
	free(t);
	free(csr);
	free(csr_frac);
	free(fill_pos);
	free(heap);
	free(order);
	free(fcap);
	free(frozen);
	return err;
}

/* Rates of a phase's flows: from the cache, or routed and filled now. */
static int phase_rates(struct plan_ctx *c, const struct plan_phase *ph, const struct pattern **out)
{
	struct route *rt;
	struct pattern *pat;
	int err = -ENOMEM;

	for (size_t i = 0; i < c->n_patterns; i++)
		if (c->patterns[i].hash == ph->pattern && c->patterns[i].n_flows == ph->n_flows) {
			*out = &c->patterns[i];
			return 0;
		}
	if (c->n_patterns == PATTERN_CACHE)
		drop_patterns(c);
	pat = &c->patterns[c->n_patterns];
	*pat = (struct pattern){.hash = ph->pattern, .n_flows = ph->n_flows};
	pat->rate = malloc((ph->n_flows ? ph->n_flows : 1) * sizeof(double));
	pat->cls = malloc(ph->n_flows ? ph->n_flows : 1);
	pat->alone = malloc((ph->n_flows ? ph->n_flows : 1) * sizeof(double));
	pat->limit = malloc((ph->n_flows ? ph->n_flows : 1) * sizeof(int64_t));
	pat->load = malloc((ph->n_flows ? ph->n_flows : 1) * sizeof(double));
	rt = malloc((ph->n_flows ? ph->n_flows : 1) * sizeof(*rt));
	if (!pat->rate || !pat->cls || !pat->alone || !pat->limit || !pat->load || !rt)
		goto err_free;
	c->tmp_n = 0;
	for (size_t f = 0; f < ph->n_flows; f++) {
		err = flow_route(c, (int)ph->flows[f].src, (int)ph->flows[f].dst, ph->memory,
				 &rt[f]);
		if (err)
			goto err_free;
		pat->cls[f] = rt[f].cls;
	}
	err = fill(c, ph, rt, pat);
	if (err)
		goto err_free;
	free(rt);
	c->n_patterns++;
	*out = pat;
	return 0;
err_free:
	free(rt);
	free(pat->rate);
	free(pat->cls);
	free(pat->alone);
	free(pat->limit);
	free(pat->load);
	return err;
}

/* ---- prediction -------------------------------------------------------------------------- */

static const struct plan_link_fit *fit_of(const struct plan_ctx *c, int cls)
{
	static const struct plan_link_fit ideal = {.efficiency = 1, .rate = PLAN_SHM_RATE};

	return c->s.calib && c->s.calib->link[cls].set ? &c->s.calib->link[cls] : &ideal;
}

int plan_predict(struct plan_ctx *c, const char *algo, size_t bytes, size_t esize,
		 struct plan_prediction *out)
{
	struct plan_schedule s;
	const int *map = c->node;
	double total = 0, worst_phase = -1;
	double gamma = c->s.calib ? c->s.calib->gamma_s_per_byte : 0;
	int err;

	memset(out, 0, sizeof(*out));
	out->bottleneck_class = -1;
	out->bottleneck_tier = -1;
	err = plan_schedule_build(algo, c->s.ranks, map, bytes / esize, esize, &c->s.lib, &s);
	if (err)
		return err;
	for (size_t i = 0; i < s.n_phases; i++) {
		const struct plan_phase *ph = &s.phases[i];
		const struct pattern *pat;
		double step = 0, fill = 0, t;

		if (!ph->n_flows)
			continue;
		err = phase_rates(c, ph, &pat);
		if (err)
			goto out;
		size_t slowest = 0;

		for (size_t f = 0; f < ph->n_flows; f++) {
			const struct plan_link_fit *lf = fit_of(c, pat->cls[f]);
			double scale = pat->cls[f] == PLAN_C_SHM
					       ? (lf->rate > 0 ? lf->rate : PLAN_SHM_RATE)
					       : lf->efficiency;
			double rate = pat->rate[f] * scale, alone = pat->alone[f] * scale;
			double b = ph->flows[f].bytes;

			double x = lf->alpha_s + (isfinite(rate) && rate > 0 ? b / rate : 0);

			if (x > step) {
				step = x;
				slowest = f;
			}
			/* filling and draining a pipeline: few flows at once, each at its own rate
			 */
			fill = fmax(fill,
				    lf->alpha_s + (isfinite(alone) && alone > 0 ? b / alone : 0));
		}
		step += gamma * ph->reduce_bytes;
		t = ph->repeat * step + ph->fill_steps * fill;
		total += t;
		/* the bottleneck: what set the rate of the slowest flow of the longest phase */
		if (t > worst_phase && pat->limit[slowest] >= 0) {
			int64_t res = pat->limit[slowest];

			worst_phase = t;
			out->utilisation = pat->load[slowest];
			if ((uint64_t)res >= c->shm_base) {
				out->bottleneck_class = -1;
				out->bottleneck_tier = -1;
			} else {
				const struct topo_link *l = &c->s.g->links[res / 2];

				out->bottleneck_class = l->cls;
				out->bottleneck_tier = -1;
				if (l->cls == TOPO_L_FABRIC) {
					const struct topo_vertex *va = &c->s.g->vertices[l->a];
					const struct topo_vertex *vb = &c->s.g->vertices[l->b];

					out->bottleneck_tier =
						va->local < vb->local ? va->local : vb->local;
				}
			}
		}
	}
	{
		const struct plan_algo_fit *af =
			c->s.calib ? plan_calib_algo(c->s.calib, algo,
						     c->n_nodes > 1 ? PLAN_C_NET : PLAN_C_SHM)
				   : NULL;

		out->time_s = af ? af->overhead_s + af->scale * total : total;
	}
	/* lower bound: across the nodes, 2(N-1) n bytes must cross NICs in all (every edge of a
	 * tree carries n each way; a ring moves 2(N-1)/N n per node), and every node must send
	 * its own n; every GPU must send its n over its own links.  With equal nodes this is
	 * 2(N-1)/N n / B, the usual bound. */
	{
		double n = (double)(bytes / esize * esize), b = 0;
		int N = c->n_nodes;

		if (N > 1 && isfinite(c->node_inject_min) && c->node_inject_sum > 0)
			b = fmax(n / c->node_inject_min, 2.0 * (N - 1) * n / c->node_inject_sum);
		if (c->s.ranks > 1 && c->gpu_inject_min > 0)
			b = fmax(b, n / c->gpu_inject_min);
		out->bound_s = b;
	}
	if (c->s.calib) {
		int cls = c->n_nodes > 1 ? PLAN_C_NET : PLAN_C_SHM;
		const struct plan_link_fit *lf = &c->s.calib->link[cls];

		if (!lf->set || (double)bytes < lf->min_bytes * 0.999 ||
		    (double)bytes > lf->max_bytes * 1.001)
			out->extrapolated = true;
		if (cls == PLAN_C_NET && lf->set &&
		    (c->net_rate_min < lf->min_rate * 0.99 ||
		     c->net_rate_max > lf->max_rate * 1.01))
			out->extrapolated = true;
	}
out:
	plan_schedule_free(&s);
	return err;
}

void plan_ctx_rates(const struct plan_ctx *c, double *net_min, double *net_max, int *nodes)
{
	*net_min = isfinite(c->net_rate_min) ? c->net_rate_min : 0;
	*net_max = c->net_rate_max;
	*nodes = c->n_nodes;
}
