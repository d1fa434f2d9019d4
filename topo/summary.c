/*
 * summary.c - what `arplan topo` reports about an expanded fabric: counts per kind, tier and
 * link class; oversubscription per tier (from the graph: the worst down/up capacity ratio of a
 * switch of that tier); bisection bandwidth (each family's own rule, through the families
 * table: Clos trees from their ratios, torus and dragonfly from the links a half/half cut
 * crosses, explicit graphs of up to 16 nodes exactly by max-flow over every balanced split);
 * diameter in hops between endpoints (exact up to 256 endpoints, else the family's closed form
 * where it has one (torus), else the maximum over routed pairs from a sample of sources); bill
 * of materials (media counted as bought by media.c; a scale-up domain's NVLink switch trays,
 * the copper inside the rack not counted).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

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
			if (topo__fabric_switch(a))
				down[k->a] += k->bandwidth;
			if (topo__fabric_switch(b))
				down[k->b] += k->bandwidth;
		} else if (k->cls == TOPO_L_FABRIC && topo__fabric_switch(a) &&
			   topo__fabric_switch(b) && topo__tier_of(a) != topo__tier_of(b)) {
			uint32_t lo = topo__tier_of(a) < topo__tier_of(b) ? k->a : k->b;
			uint32_t hi = lo == k->a ? k->b : k->a;

			up[lo] += k->bandwidth;
			down[hi] += k->bandwidth;
		}
	}
	for (v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (topo__fabric_switch(x) && up[v] > 0 &&
		    down[v] / up[v] > s->oversub[topo__tier_of(x)])
			s->oversub[topo__tier_of(x)] = down[v] / up[v];
	}
free_caps:
	free(down);
	free(up);
}

/* ---- diameter ------------------------------------------------------------------------------- */

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
	if (!s->diameter_exact && topo__families[d->family]->diameter &&
	    topo__families[d->family]->diameter(d, g, r, kind, s) == 0)
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
	if (d->su.domain_nodes) {
		s->domains = g->n_nodes;
		s->domain_nodes = d->su.domain_nodes;
		s->domain_gpus = g->gpus_per_node;
		s->nodes = g->n_nodes * d->su.domain_nodes;
		s->nvlink_switch_trays = g->n_nodes * d->su.switch_trays;
		s->domain_nvlink = d->su.nvlink;
	}
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
			s->switches_per_tier[topo__tier_of(x)]++;
			if (topo__tier_of(x) + 1 > s->tiers)
				s->tiers = topo__tier_of(x) + 1;
		}
	}
	for (l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];

		s->links_per_class[k->cls]++;
		if (k->cls == TOPO_L_FABRIC) {
			unsigned ta = topo__tier_of(&g->vertices[k->a]),
				 tb = topo__tier_of(&g->vertices[k->b]);

			s->links_per_tier[ta < tb ? ta : tb]++;
		}
	}
	oversub(g, s);
	s->bisection = topo__families[d->family]->bisection(d, g, s);
	return diameter(d, g, s);
}

/* ---- bill of materials ---------------------------------------------------------------------- */

struct bom {
	struct topo_bom_line *lines;
	size_t n, cap;
};

static const char *const tier_what[TOPO_MAX_TIERS] = {"switch (tier 0)", "switch (tier 1)",
						      "switch (tier 2)", "switch (tier 3)"};
static const char nvlink_what[] = "switch (NVLink trays)";
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
			b->lines[i].count += count;
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
		.count = count,
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
	if (l->what == nvlink_what)
		return 2 + TOPO_MAX_TIERS;
	for (i = 0; i <= TOPO_MAX_TIERS; i++)
		if (l->what == media_what[i])
			return 3 + TOPO_MAX_TIERS + (int)i;
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
	struct topo__media_tally media = {0};
	struct bom b = {0};
	size_t i;
	uint32_t v;
	int ret = 0;

	for (v = 0; v < g->n_vertices && !ret; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (x->kind == TOPO_V_GPU)
			ret = bom_add(&b, d, "GPU", TOPO_PART_GPU, pg->vpart[v], 1);
		else if (x->kind == TOPO_V_NIC)
			ret = bom_add(&b, d, "NIC", TOPO_PART_NIC, pg->vpart[v], 1);
		else if (topo__fabric_switch(x))
			ret = bom_add(&b, d, tier_what[topo__tier_of(x)], TOPO_PART_SWITCH,
				      pg->vpart[v], 1);
		else if (d->su.domain_nodes) /* a domain's NVLink switch: its trays */
			ret = bom_add(&b, d, nvlink_what, TOPO_PART_SWITCH, pg->vpart[v],
				      d->su.switch_trays);
	}
	if (!ret)
		ret = topo__media_tally(d, g, &media);
	for (i = 0; !ret && i < media.n; i++) /* media as bought: media.c */
		ret = bom_add(&b, d, media_what[media.lines[i].what], TOPO_PART_MEDIA,
			      media.lines[i].part, media.lines[i].count);
	topo__media_tally_free(&media);
	if (ret) {
		free(b.lines);
		return ret;
	}
	qsort(b.lines, b.n, sizeof(*b.lines), bom_cmp);
	*lines = b.lines;
	*n = b.n;
	return 0;
}
