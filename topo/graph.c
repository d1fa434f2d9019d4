/*
 * graph.c - the expanded graph: a builder the families add vertices and links to, the CSR
 * adjacency built once at the end, the connectivity check, and the node helper that adds a
 * node's GPUs, NICs and in-node switch (NVSwitch, or the PCIe/host bridge without NVLink):
 *
 *      gpu0 --+                    each GPU -- in-node switch: intra.nvlink (or PCIe / shm)
 *      gpu1 --+-- node switch      NIC i   -- GPU (i * gpus / nics): PCIe
 *      ...    |                    no GPUs: the NICs are the node's endpoints
 *      nic0 -- gpu0,  nic1 -- gpu1 ...
 *
 * In a scale-up domain (fabric.scale_up) the domain's nodes share one graph node and one
 * switch vertex standing for its NVLink switch trays; each node keeps its NICs and PCIe links.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

static int grow(void **p, size_t elem, uint64_t *cap, uint64_t need)
{
	uint64_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int topo__b_init(struct topo__builder *b, uint32_t vertices_hint, uint64_t links_hint)
{
	memset(b, 0, sizeof(*b));
	b->g = calloc(1, sizeof(struct topo__graph_priv));
	if (!b->g)
		return -ENOMEM;
	b->g->vertices =
		malloc((size_t)(vertices_hint ? vertices_hint : 16) * sizeof(*b->g->vertices));
	b->vpart = malloc((size_t)(vertices_hint ? vertices_hint : 16) * sizeof(*b->vpart));
	b->g->links = malloc((size_t)(links_hint ? links_hint : 16) * sizeof(*b->g->links));
	b->lmedia = malloc((size_t)(links_hint ? links_hint : 16) * sizeof(*b->lmedia));
	b->names_cap = (size_t)(vertices_hint ? vertices_hint : 16) * 16;
	b->g->names = malloc(b->names_cap);
	if (!b->g->vertices || !b->vpart || !b->g->links || !b->lmedia || !b->g->names) {
		topo__b_abort(b);
		return -ENOMEM;
	}
	b->cap_v = vertices_hint ? vertices_hint : 16;
	b->cap_l = links_hint ? links_hint : 16;
	return 0;
}

uint32_t topo__b_vertex(struct topo__builder *b, enum topo_vertex_kind kind, uint32_t node,
			uint16_t local, uint16_t rail, int part, const char *fmt, ...)
{
	struct topo_graph *g = b->g;
	uint32_t v = g->n_vertices;
	va_list ap;
	size_t n;
	int len;
	char tmp[64];

	if (v == UINT32_MAX - 1)
		return UINT32_MAX;
	if (v == b->cap_v) {
		uint64_t cv = b->cap_v, cp = b->cap_v;

		if (grow((void **)&g->vertices, sizeof(*g->vertices), &cv, (uint64_t)v + 1) ||
		    grow((void **)&b->vpart, sizeof(*b->vpart), &cp, (uint64_t)v + 1))
			return UINT32_MAX;
		b->cap_v = (uint32_t)(cv < cp ? cv : cp);
	}
	va_start(ap, fmt);
	len = vsnprintf(tmp, sizeof(tmp), fmt, ap); /* a name of any length, never cut */
	va_end(ap);
	if (len < 0 || b->names_len + (uint64_t)len + 1 > UINT32_MAX)
		return UINT32_MAX;
	n = (size_t)len + 1;
	if (b->names_len + n > b->names_cap) {
		uint64_t cap = b->names_cap;

		if (grow((void **)&g->names, 1, &cap, b->names_len + n))
			return UINT32_MAX;
		b->names_cap = cap;
	}
	if (n <= sizeof(tmp)) { /* formatted once (most names are short) */
		memcpy(g->names + b->names_len, tmp, n);
	} else {
		va_start(ap, fmt);
		vsnprintf(g->names + b->names_len, n, fmt, ap);
		va_end(ap);
	}
	g->vertices[v] = (struct topo_vertex){.kind = kind,
					      .node = node,
					      .local = local,
					      .rail = rail,
					      .name = (uint32_t)b->names_len};
	b->vpart[v] = part;
	b->names_len += n;
	g->n_vertices++;
	return v;
}

int topo__b_link(struct topo__builder *b, uint32_t a, uint32_t c, enum topo_link_class cls,
		 double bw, double lat, int media)
{
	struct topo_graph *g = b->g;
	uint64_t l = g->n_links;

	if (l == b->cap_l) {
		uint64_t cl = b->cap_l, cm = b->cap_l;

		if (grow((void **)&g->links, sizeof(*g->links), &cl, l + 1) ||
		    grow((void **)&b->lmedia, sizeof(*b->lmedia), &cm, l + 1))
			return -ENOMEM;
		b->cap_l = cl < cm ? cl : cm;
	}
	g->links[l] =
		(struct topo_link){.a = a, .b = c, .cls = cls, .bandwidth = bw, .latency = lat};
	b->lmedia[l] = media;
	g->n_links++;
	return 0;
}

int topo__b_finish(struct topo__builder *b, struct topo_graph **out)
{
	struct topo_graph *g = b->g;
	struct topo__graph_priv *pg = (struct topo__graph_priv *)g;
	uint64_t *fill;
	uint64_t l;
	uint32_t v;

	g->adj_start = calloc((size_t)g->n_vertices + 1, sizeof(*g->adj_start));
	g->adj = malloc((size_t)(g->n_links ? g->n_links : 1) * 2 * sizeof(*g->adj));
	fill = malloc(((size_t)g->n_vertices + 1) * sizeof(*fill));
	if (!g->adj_start || !g->adj || !fill) {
		free(fill);
		topo__b_abort(b);
		return -ENOMEM;
	}
	for (l = 0; l < g->n_links; l++) {
		g->adj_start[g->links[l].a + 1]++;
		g->adj_start[g->links[l].b + 1]++;
	}
	for (v = 0; v < g->n_vertices; v++)
		g->adj_start[v + 1] += g->adj_start[v];
	memcpy(fill, g->adj_start, ((size_t)g->n_vertices + 1) * sizeof(*fill));
	for (l = 0; l < g->n_links; l++) {
		g->adj[fill[g->links[l].a]++] = l;
		g->adj[fill[g->links[l].b]++] = l;
	}
	free(fill);
	g->n_nodes = 0;
	g->gpus_per_node = 0;
	for (v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		if (x->kind != TOPO_V_SWITCH || x->node != UINT32_MAX) {
			if (x->node + 1 > g->n_nodes)
				g->n_nodes = x->node + 1;
			if (x->kind == TOPO_V_GPU && (uint32_t)x->local + 1 > g->gpus_per_node)
				g->gpus_per_node = (uint32_t)x->local + 1;
		}
	}
	pg->vpart = b->vpart;
	pg->lmedia = b->lmedia;
	b->vpart = NULL;
	b->lmedia = NULL;
	*out = g;
	b->g = NULL;
	return 0;
}

void topo__b_abort(struct topo__builder *b)
{
	if (b->g) {
		b->g->adj_start = b->g->adj_start;
		topo_graph_free(b->g);
	}
	free(b->vpart);
	free(b->lmedia);
	memset(b, 0, sizeof(*b));
}

void topo_graph_free(struct topo_graph *g)
{
	struct topo__graph_priv *pg = (struct topo__graph_priv *)g;

	if (!g)
		return;
	free(g->vertices);
	free(g->links);
	free(g->names);
	free(g->adj_start);
	free(g->adj);
	free(pg->vpart);
	free(pg->lmedia);
	free(g);
}

const char *topo_vertex_name(const struct topo_graph *g, uint32_t v)
{
	return v < g->n_vertices ? g->names + g->vertices[v].name : "?";
}

/* Node n as part of its scale-up domain (d->su): GPUs and NICs after those of the domain's
 * earlier nodes, every GPU on the domain's NVLink switch (added with its first node). */
static int add_domain_node(struct topo__builder *b, const struct topo_desc *d, uint32_t n,
			   const char *name, const struct topo__ntype *t, uint32_t *nic_v)
{
	const struct topo__scale_up *su = &d->su;
	uint32_t dom = n / su->domain_nodes, slot = n % su->domain_nodes, gpu_v[TOPO_MAX_GPUS];
	unsigned i;
	int ret;

	for (i = 0; i < t->gpus; i++) {
		gpu_v[i] = topo__b_vertex(b, TOPO_V_GPU, dom, (uint16_t)(slot * t->gpus + i), 0,
					  t->gpu_part, "%s/gpu%u", name, i);
		if (gpu_v[i] == UINT32_MAX)
			return -ENOMEM;
	}
	if (slot == 0) {
		b->domain_switch = topo__b_vertex(b, TOPO_V_SWITCH, dom, TOPO_TIER_NODE, 0,
						  su->part, "domain%u/nvswitch", dom);
		if (b->domain_switch == UINT32_MAX)
			return -ENOMEM;
	}
	for (i = 0; i < t->gpus; i++) {
		ret = topo__b_link(b, gpu_v[i], b->domain_switch, TOPO_L_INTRA, su->nvlink,
				   su->latency, -1);
		if (ret)
			return ret;
	}
	for (i = 0; i < t->nics; i++) {
		nic_v[i] = topo__b_vertex(b, TOPO_V_NIC, dom, (uint16_t)(slot * t->nics + i),
					  t->rails[i], t->nic_part, "%s/nic%u", name, i);
		if (nic_v[i] == UINT32_MAX)
			return -ENOMEM;
		ret = topo__b_link(b, gpu_v[i * t->gpus / t->nics], nic_v[i], TOPO_L_INTRA,
				   t->pcie_bw, t->intra_lat, -1);
		if (ret)
			return ret;
	}
	return 0;
}

int topo__add_node(struct topo__builder *b, const struct topo_desc *d, uint32_t n, const char *name,
		   const struct topo__ntype *t, uint32_t *nic_v)
{
	uint32_t gpu_v[TOPO_MAX_GPUS], sw = UINT32_MAX;
	unsigned i;
	int ret;

	if (d->su.domain_nodes)
		return add_domain_node(b, d, n, name, t, nic_v);
	for (i = 0; i < t->gpus; i++) {
		gpu_v[i] = topo__b_vertex(b, TOPO_V_GPU, n, (uint16_t)i, 0, t->gpu_part, "%s/gpu%u",
					  name, i);
		if (gpu_v[i] == UINT32_MAX)
			return -ENOMEM;
	}
	if (t->gpus >= 2) {
		sw = topo__b_vertex(b, TOPO_V_SWITCH, n, TOPO_TIER_NODE, 0, -1, "%s/%s", name,
				    t->nvlink ? "nvswitch" : "pcie");
		if (sw == UINT32_MAX)
			return -ENOMEM;
		for (i = 0; i < t->gpus; i++) {
			ret = topo__b_link(b, gpu_v[i], sw, TOPO_L_INTRA, t->gpu_bw, t->intra_lat,
					   -1);
			if (ret)
				return ret;
		}
	}
	for (i = 0; i < t->nics; i++) {
		nic_v[i] = topo__b_vertex(b, TOPO_V_NIC, n, (uint16_t)i, t->rails[i], t->nic_part,
					  "%s/nic%u", name, i);
		if (nic_v[i] == UINT32_MAX)
			return -ENOMEM;
		if (t->gpus) {
			ret = topo__b_link(b, gpu_v[i * t->gpus / t->nics], nic_v[i], TOPO_L_INTRA,
					   t->pcie_bw, t->intra_lat, -1);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Vertices not reachable from vertex 0 (BFS).  Returns the first one, or UINT32_MAX when the
 * graph is connected (or empty). */
uint32_t topo__unreachable(const struct topo_graph *g)
{
	uint32_t *q, head = 0, tail = 0, v;
	uint8_t *seen;

	if (!g->n_vertices)
		return UINT32_MAX;
	q = malloc((size_t)g->n_vertices * sizeof(*q));
	seen = calloc(g->n_vertices, 1);
	if (!q || !seen) {
		free(q);
		free(seen);
		return UINT32_MAX - 1;
	}
	q[tail++] = 0;
	seen[0] = 1;
	while (head < tail) {
		uint32_t u = q[head++];
		uint64_t e;

		for (e = g->adj_start[u]; e < g->adj_start[u + 1]; e++) {
			const struct topo_link *l = &g->links[g->adj[e]];
			uint32_t w = l->a == u ? l->b : l->a;

			if (!seen[w]) {
				seen[w] = 1;
				q[tail++] = w;
			}
		}
	}
	for (v = 0; v < g->n_vertices && seen[v]; v++)
		;
	free(q);
	free(seen);
	return v < g->n_vertices ? v : UINT32_MAX;
}
