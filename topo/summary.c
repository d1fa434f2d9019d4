/*
 * summary.c - what `arplan topo` reports about an expanded fabric: counts per kind, tier and
 * link class; oversubscription per tier (from the graph: the worst down/up capacity ratio of a
 * switch of that tier); bisection bandwidth (by family: Clos trees from their ratios, torus and
 * dragonfly from the links a half/half cut crosses, explicit graphs of up to 16 nodes exactly by
 * max-flow over every balanced split); diameter in hops between endpoints (exact up to 256
 * endpoints, exact for a torus of any size from its closed form, else the maximum over routed
 * pairs from a sample of sources); bill of materials.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

static bool fabric_switch(const struct topo_vertex *x)
{
	return x->kind == TOPO_V_SWITCH && x->node == UINT32_MAX;
}

static unsigned tier_of(const struct topo_vertex *x)
{
	return x->local < TOPO_MAX_TIERS ? x->local : TOPO_MAX_TIERS - 1;
}

/* Worst down/up capacity ratio per tier. */
static void oversub(const struct topo_graph *g, struct topo_summary *s)
{
	double *down = calloc(g->n_vertices, sizeof(double));
	double *up = calloc(g->n_vertices, sizeof(double));
	uint64_t l;
	uint32_t v;

	if (!down || !up)
		goto free_caps;
	for (l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];
		const struct topo_vertex *a = &g->vertices[k->a], *b = &g->vertices[k->b];

		if (k->cls == TOPO_L_HOST) {
			if (fabric_switch(a))
				down[k->a] += k->bandwidth;
			if (fabric_switch(b))
				down[k->b] += k->bandwidth;
		} else if (k->cls == TOPO_L_FABRIC && fabric_switch(a) && fabric_switch(b) &&
			   tier_of(a) != tier_of(b)) {
			uint32_t lo = tier_of(a) < tier_of(b) ? k->a : k->b;
			uint32_t hi = lo == k->a ? k->b : k->a;

			up[lo] += k->bandwidth;
			down[hi] += k->bandwidth;
		}
	}
	for (v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (fabric_switch(x) && up[v] > 0 && down[v] / up[v] > s->oversub[tier_of(x)])
			s->oversub[tier_of(x)] = down[v] / up[v];
	}
free_caps:
	free(down);
	free(up);
}

/* ---- bisection ------------------------------------------------------------------------------ */

/* Max flow on a small dense graph (Edmonds-Karp). cap is n x n, modified. */
static double maxflow(double *cap, unsigned n, unsigned s, unsigned t, int *prev, unsigned *q)
{
	double flow = 0;

	for (;;) {
		unsigned h = 0, tl = 0, v, u;
		double f = INFINITY;

		for (v = 0; v < n; v++)
			prev[v] = -1;
		prev[s] = (int)s;
		q[tl++] = s;
		while (h < tl && prev[t] < 0) {
			u = q[h++];
			for (v = 0; v < n; v++)
				if (prev[v] < 0 && cap[u * n + v] > 1e-9) {
					prev[v] = (int)u;
					q[tl++] = v;
				}
		}
		if (prev[t] < 0)
			return flow;
		for (v = t; v != s; v = (unsigned)prev[v])
			f = fmin(f, cap[(unsigned)prev[v] * n + v]);
		for (v = t; v != s; v = (unsigned)prev[v]) {
			cap[(unsigned)prev[v] * n + v] -= f;
			cap[v * n + (unsigned)prev[v]] += f;
		}
		flow += f;
	}
}

/* Explicit graphs: nodes contracted to one vertex each; min over balanced splits of the max
 * flow from one half to the other.  -1 when too large to do exactly. */
static double bisection_exact(const struct topo_graph *g)
{
	unsigned nn = g->n_nodes, ns = 0, n, i;
	uint32_t *idx, v, mask, half;
	double *base, *cap, best = -1;
	unsigned *q;
	int *prev;
	uint64_t l;

	if (nn < 2 || nn > 16)
		return nn < 2 ? 0 : -1;
	for (v = 0; v < g->n_vertices; v++)
		ns += fabric_switch(&g->vertices[v]);
	if (ns > 64)
		return -1;
	n = nn + ns + 2;
	idx = malloc(g->n_vertices * sizeof(*idx));
	base = calloc((size_t)n * n, sizeof(double));
	cap = malloc((size_t)n * n * sizeof(double));
	q = malloc(n * sizeof(*q));
	prev = malloc(n * sizeof(*prev));
	if (!idx || !base || !cap || !q || !prev)
		goto free_flow;
	for (v = 0, i = nn; v < g->n_vertices; v++)
		idx[v] = fabric_switch(&g->vertices[v]) ? i++ : g->vertices[v].node;
	for (l = 0; l < g->n_links; l++) {
		uint32_t a = idx[g->links[l].a], b = idx[g->links[l].b];

		if (a != b) {
			base[a * n + b] += g->links[l].bandwidth;
			base[b * n + a] += g->links[l].bandwidth;
		}
	}
	half = nn / 2;
	for (mask = 1; mask < (1u << nn); mask += 2) { /* node 0 always on side A */
		unsigned src = n - 2, dst = n - 1;
		double f;

		if ((unsigned)__builtin_popcount(mask) != half &&
		    (unsigned)__builtin_popcount(mask) != nn - half)
			continue;
		memcpy(cap, base, (size_t)n * n * sizeof(double));
		for (i = 0; i < nn; i++) {
			if (mask & (1u << i))
				cap[src * n + i] = INFINITY;
			else
				cap[i * n + dst] = INFINITY;
		}
		f = maxflow(cap, n, src, dst, prev, q);
		if (best < 0 || f < best)
			best = f;
	}
free_flow:
	free(idx);
	free(base);
	free(cap);
	free(q);
	free(prev);
	return best;
}

static double host_half(const struct topo_graph *g, double *host_bw)
{
	uint64_t l, n = 0;
	double bw = 0;

	for (l = 0; l < g->n_links; l++) {
		if (g->links[l].cls == TOPO_L_HOST) {
			n++;
			bw += g->links[l].bandwidth;
		}
	}
	*host_bw = n ? bw / n : 0;
	return n / 2.0;
}

/* Leaves (tier-0 fabric switches) with unequal numbers of host links: the tier-ratio formula
 * assumes full leaves, and understates such a tree (radix 8, 3:1, 10 nodes: 167 Gbit/s by the
 * formula, 300 exactly), so it is reported as a lower bound. */
static bool clos_partly_filled(const struct topo_graph *g)
{
	uint32_t *hosts = calloc(g->n_vertices, sizeof(*hosts)), lo = UINT32_MAX, hi = 0, v;
	uint64_t l;

	if (!hosts)
		return true; /* the safe label */
	for (l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];

		if (k->cls != TOPO_L_HOST)
			continue;
		if (fabric_switch(&g->vertices[k->a]))
			hosts[k->a]++;
		if (fabric_switch(&g->vertices[k->b]))
			hosts[k->b]++;
	}
	for (v = 0; v < g->n_vertices; v++)
		if (fabric_switch(&g->vertices[v]) && tier_of(&g->vertices[v]) == 0) {
			lo = hosts[v] < lo ? hosts[v] : lo;
			hi = hosts[v] > hi ? hosts[v] : hi;
		}
	free(hosts);
	return lo != UINT32_MAX && lo != hi;
}

/* Router links a balanced cut of a torus crosses (-1 when there is one router): across an even
 * dimension of size k, R/k rings are each cut twice (once for k = 2, whose pairs have one
 * link); an odd one cannot be halved straight, so the cut steps: twice across the dimension,
 * plus a balanced cut of the one slab of R/k routers split between the halves (taking the
 * largest odd k, whose slab is smallest).  Matches an exact max-flow on the same wiring for
 * 3, 3x3, 5x2, 5x3, 7x2, 4x3, 3x2x2 and others (tests/sh/topo_torus_bisection.sh). */
static double torus_cut(const unsigned *dims, unsigned n, double routers)
{
	double best = -1;
	unsigned i, odd = 0;

	for (i = 0; i < n; i++) {
		if (dims[i] % 2 == 0) {
			double c = (dims[i] >= 3 ? 2.0 : 1.0) * routers / dims[i];

			best = best < 0 || c < best ? c : best;
		} else if (!odd || dims[i] > dims[odd - 1]) {
			odd = i + 1;
		}
	}
	if (odd) {
		unsigned rest[TOPO__MAX_DIMS], m = 0, k = dims[odd - 1];
		double slab;

		for (i = 0; i < n; i++)
			if (i != odd - 1)
				rest[m++] = dims[i];
		slab = torus_cut(rest, m, routers / k);
		slab = 2.0 * routers / k + (slab < 0 ? 0 : slab);
		best = best < 0 || slab < best ? slab : best;
	}
	return best;
}

static double bisection(const struct topo_desc *d, const struct topo_graph *g,
			struct topo_summary *s)
{
	double host_bw, half = host_half(g, &host_bw), inj = half * host_bw, ratio = 1, cross = 0;
	unsigned t, i;
	uint64_t l;

	switch (d->family) {
	case TOPO_F_EXPLICIT:
		return bisection_exact(g);
	case TOPO_F_TORUS: {
		unsigned dims[TOPO__MAX_DIMS], n = 0;
		double links;

		for (i = 0; i < d->n_dims; i++)
			if (d->dims[i] > 1)
				dims[n++] = d->dims[i];
		/* the smaller half holds floor(nodes / 2) nodes: with an odd count, half of the
		 * host links would overstate what it injects */
		inj = (double)(d->nodes / 2) * (d->nodes ? 2 * half / d->nodes : 0) * host_bw;
		links = torus_cut(dims, n, (double)(d->nodes / d->per_router));
		return links < 0 ? inj : fmin(inj, links * d->cls[TOPO_C_TORUS].bandwidth);
	}
	case TOPO_F_DRAGONFLY: {
		unsigned a = d->routers, gr = d->groups;

		for (l = 0; l < g->n_links; l++) {
			uint32_t x = g->links[l].a, y = g->links[l].b;

			if (g->links[l].cls != TOPO_L_FABRIC)
				continue;
			if (gr > 1 && ((x / a < gr / 2) != (y / a < gr / 2)))
				cross += g->links[l].bandwidth;
			if (gr == 1 && ((x < a / 2) != (y < a / 2)))
				cross += g->links[l].bandwidth;
		}
		return a * gr == 1 ? inj : fmin(inj, cross);
	}
	default: /* Clos trees: the cumulative up/down ratio caps what crosses the top */
		if (g->n_nodes <= 16) { /* small enough to solve exactly */
			double x = bisection_exact(g);

			if (x >= 0)
				return x;
		}
		s->bisection_lower_bound = clos_partly_filled(g);
		for (t = 0; t < TOPO_MAX_TIERS; t++) {
			if (s->oversub[t] > 0)
				ratio *= s->oversub[t];
			else
				break;
		}
		return inj / (ratio > 1 ? ratio : 1);
	}
}

/* ---- diameter ------------------------------------------------------------------------------- */

/* A torus is vertex-transitive and a node reaches the fabric only through its router, so the
 * diameter is twice the farthest endpoint's hops to its own router plus the ring distance to
 * the antipodal router (floor(k/2) along every dimension): exact, with one short route per
 * endpoint of node 0, where sampling a 1.68M-router torus took minutes.  -ENOENT when node 0
 * has no endpoint. */
static int torus_diameter(const struct topo_desc *d, const struct topo_graph *g,
			  struct topo_router *r, enum topo_vertex_kind kind, struct topo_summary *s)
{
	uint64_t ring = 0;
	uint32_t v;
	unsigned i;
	int hops, worst = -1;

	for (i = 0; i < d->n_dims; i++)
		ring += d->dims[i] / 2;
	for (v = 0; v < g->n_vertices; v++) { /* router 0 is vertex 0 */
		const struct topo_vertex *x = &g->vertices[v];

		if (x->kind != kind || x->node != 0)
			continue;
		hops = topo_route(r, v, 0);
		if (hops < 0)
			return hops;
		worst = hops > worst ? hops : worst;
	}
	if (worst < 0)
		return -ENOENT;
	s->diameter = (unsigned)(2 * (uint64_t)worst + ring);
	s->diameter_exact = true;
	return 0;
}

static int diameter(const struct topo_desc *d, const struct topo_graph *g, struct topo_summary *s)
{
	enum topo_vertex_kind kind = s->gpus ? TOPO_V_GPU : TOPO_V_NIC;
	uint32_t *ep, n = 0, v, i, j, *dist = NULL, *q = NULL;
	struct topo_router *r;
	int ret, hops;

	ep = malloc(g->n_vertices * sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	for (v = 0; v < g->n_vertices; v++)
		if (g->vertices[v].kind == kind)
			ep[n++] = v;
	ret = topo_router_new(g, &r);
	if (ret)
		goto free_endpoints;
	s->diameter = 0;
	s->diameter_exact = n <= 256;
	if (!s->diameter_exact && d->family == TOPO_F_TORUS &&
	    torus_diameter(d, g, r, kind, s) == 0)
		goto free_router;
	if (s->diameter_exact) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++) {
				hops = topo_route(r, ep[i], ep[j]);
				if (hops > (int)s->diameter)
					s->diameter = (unsigned)hops;
			}
		goto free_router;
	}
	/* sample sources; from each, a BFS bounds every distance, and the farthest few plus an
	 * even spread of endpoints are routed exactly */
	dist = malloc(g->n_vertices * sizeof(*dist));
	q = malloc(g->n_vertices * sizeof(*q));
	ret = -ENOMEM;
	if (!dist || !q)
		goto free_router;
	for (i = 0; i < 8; i++) {
		uint32_t src = ep[(uint64_t)i * (n - 1) / 7], h = 0, t = 0, far = 0;

		for (v = 0; v < g->n_vertices; v++)
			dist[v] = UINT32_MAX;
		dist[src] = 0;
		q[t++] = src;
		while (h < t) {
			uint32_t u = q[h++];
			uint64_t e;

			if (u != src && g->vertices[u].kind != TOPO_V_SWITCH &&
			    g->vertices[u].node != g->vertices[src].node)
				continue;
			if (g->vertices[u].kind == TOPO_V_SWITCH &&
			    g->vertices[u].node != UINT32_MAX &&
			    g->vertices[u].node != g->vertices[src].node)
				continue;
			for (e = g->adj_start[u]; e < g->adj_start[u + 1]; e++) {
				uint32_t w = topo_link_other(g, g->adj[e], u);

				if (dist[w] == UINT32_MAX) {
					dist[w] = dist[u] + 1;
					q[t++] = w;
				}
			}
		}
		for (v = t; v-- > 0 && far < 32;) /* the BFS order ends with the farthest */
			if (g->vertices[q[v]].kind == kind) {
				hops = topo_route(r, src, q[v]);
				if (hops > (int)s->diameter)
					s->diameter = (unsigned)hops;
				far++;
			}
		for (j = 0; j < 64; j++) {
			hops = topo_route(r, src, ep[(uint64_t)j * (n - 1) / 63]);
			if (hops > (int)s->diameter)
				s->diameter = (unsigned)hops;
		}
	}
	ret = 0;
free_router:
	topo_router_free(r);
free_endpoints:
	free(dist);
	free(q);
	free(ep);
	return ret < 0 ? ret : 0;
}

int topo_summarize(const struct topo_desc *d, const struct topo_graph *g, struct topo_summary *s)
{
	uint64_t l;
	uint32_t v;

	memset(s, 0, sizeof(*s));
	s->nodes = g->n_nodes;
	for (v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (x->kind == TOPO_V_GPU)
			s->gpus++;
		else if (x->kind == TOPO_V_NIC)
			s->nics++;
		else if (x->node != UINT32_MAX)
			s->node_switches++;
		else {
			s->switches++;
			s->switches_per_tier[tier_of(x)]++;
			if (tier_of(x) + 1 > s->tiers)
				s->tiers = tier_of(x) + 1;
		}
	}
	for (l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];

		s->links_per_class[k->cls]++;
		if (k->cls == TOPO_L_FABRIC) {
			unsigned ta = tier_of(&g->vertices[k->a]), tb = tier_of(&g->vertices[k->b]);

			s->links_per_tier[ta < tb ? ta : tb]++;
		}
	}
	oversub(g, s);
	s->bisection = bisection(d, g, s);
	return diameter(d, g, s);
}

/* ---- bill of materials ---------------------------------------------------------------------- */

struct bom {
	struct topo_bom_line *lines;
	size_t n, cap;
};

static const char *const tier_what[TOPO_MAX_TIERS] = {"switch (tier 0)", "switch (tier 1)",
						      "switch (tier 2)", "switch (tier 3)"};
static const char *const media_what[TOPO_MAX_TIERS + 1] = {
	"media (host links)", "media (tier 0-1 links)", "media (tier 1-2 links)",
	"media (tier 2-3 links)", "media (router links)"};

static int bom_add(struct bom *b, const struct topo_desc *d, const char *what,
		   enum topo__part_kind kind, int part, uint64_t count)
{
	struct topo_part p = {0};
	size_t i;

	if (part >= 0)
		topo__catalog_part(d->cat, kind, part, &p);
	for (i = 0; i < b->n; i++) {
		if (b->lines[i].what == what &&
		    strcmp(b->lines[i].part, p.name ? p.name : "(unspecified)") == 0) {
			b->lines[i].count += count * (p.per_link ? p.per_link : 1);
			return 0;
		}
	}
	if (b->n == b->cap) {
		size_t c = b->cap ? b->cap * 2 : 16;
		void *x = realloc(b->lines, c * sizeof(*b->lines));

		if (!x)
			return -ENOMEM;
		b->lines = x;
		b->cap = c;
	}
	b->lines[b->n++] = (struct topo_bom_line){
		.what = what,
		.part = p.name ? p.name : "(unspecified)",
		.count = count * (p.per_link ? p.per_link : 1),
		.unit_price_usd = p.price_usd,
		.unit_watts = p.watts,
	};
	return 0;
}

/* Lines in a fixed order: GPUs, NICs, switches by tier, media by tier. */
static int bom_rank(const struct topo_bom_line *l)
{
	unsigned i;

	if (strcmp(l->what, "GPU") == 0)
		return 0;
	if (strcmp(l->what, "NIC") == 0)
		return 1;
	for (i = 0; i < TOPO_MAX_TIERS; i++)
		if (l->what == tier_what[i])
			return 2 + (int)i;
	for (i = 0; i <= TOPO_MAX_TIERS; i++)
		if (l->what == media_what[i])
			return 2 + TOPO_MAX_TIERS + (int)i;
	return 100;
}

static int bom_cmp(const void *x, const void *y)
{
	const struct topo_bom_line *a = x, *b = y;
	int d = bom_rank(a) - bom_rank(b);

	return d ? d : strcmp(a->part, b->part);
}

int topo_bom(const struct topo_desc *d, const struct topo_graph *g, struct topo_bom_line **lines,
	     size_t *n)
{
	const struct topo__graph_priv *pg = (const struct topo__graph_priv *)g;
	struct bom b = {0};
	uint64_t l;
	uint32_t v;
	int ret = 0;

	for (v = 0; v < g->n_vertices && !ret; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (x->kind == TOPO_V_GPU)
			ret = bom_add(&b, d, "GPU", TOPO_PART_GPU, pg->vpart[v], 1);
		else if (x->kind == TOPO_V_NIC)
			ret = bom_add(&b, d, "NIC", TOPO_PART_NIC, pg->vpart[v], 1);
		else if (fabric_switch(x))
			ret = bom_add(&b, d, tier_what[tier_of(x)], TOPO_PART_SWITCH, pg->vpart[v],
				      1);
	}
	for (l = 0; l < g->n_links && !ret; l++) {
		const struct topo_link *k = &g->links[l];
		unsigned ta, tb, w;

		if (k->cls == TOPO_L_INTRA)
			continue;
		ta = tier_of(&g->vertices[k->a]);
		tb = tier_of(&g->vertices[k->b]);
		w = k->cls == TOPO_L_HOST ? 0 : ta == tb ? TOPO_MAX_TIERS : 1 + (ta < tb ? ta : tb);
		ret = bom_add(&b, d, media_what[w], TOPO_PART_MEDIA, pg->lmedia[l], 1);
	}
	if (ret) {
		free(b.lines);
		return ret;
	}
	qsort(b.lines, b.n, sizeof(*b.lines), bom_cmp);
	*lines = b.lines;
	*n = b.n;
	return 0;
}
