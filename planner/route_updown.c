/*
 * route_updown.c - shortest routes on layered fabrics without a search.
 *
 * Up/down routes for layered fabrics (every switch-switch link joins tier t to t+1, as in
 * the fat-tree, rail-optimized, rail-only and single-switch families): a shortest path
 * between two leaves goes up to the lowest tier whose switch reaches the destination leaf
 * going down, then down.  reach[s] is the set of leaves below fabric switch s (a bitmap), so
 * one route costs a few hops x radix instead of a BFS over thousands of switches.  Used only
 * for NIC-to-NIC paths (a GPU reaches the fabric through its own NIC) and only after a
 * sample of pairs routed both ways agrees on every hop count (flow.c, ud_check); anything else goes
 * to topo_route().
 */
#include <stdlib.h>

#include "planner/internal.h"

struct plan_updown {
	uint32_t *sw;	   /* [n_vertices] index among fabric switches, UINT32_MAX */
	uint32_t *leaf;	   /* [n_vertices] leaf index of a tier-0 switch, UINT32_MAX */
	uint32_t *nic_of;  /* [n_vertices] a GPU's directly linked NIC, UINT32_MAX */
	uint64_t *up_of;   /* [n_vertices] a NIC's host link to its leaf, UINT64_MAX */
	uint64_t *gpu_nic; /* [n_vertices] a GPU's link to that NIC */
	uint64_t *reach;   /* [switches][words] */
	size_t words;
	/* per fabric switch (CSR by switch index): links up (to tier + 1) and down, with the
	 * vertex at the other end */
	uint64_t *up_start, *down_start;
	uint64_t *up_link, *down_link;
	uint32_t *up_to, *down_to;
};
void plan_ud_free(struct plan_updown *u)
{
	if (!u)
		return;
	free(u->sw);
	free(u->leaf);
	free(u->nic_of);
	free(u->up_of);
	free(u->gpu_nic);
	free(u->reach);
	free(u->up_start);
	free(u->down_start);
	free(u->up_link);
	free(u->down_link);
	free(u->up_to);
	free(u->down_to);
	free(u);
}

static bool is_fabric_switch(const struct topo_vertex *x)
{
	return x->kind == TOPO_V_SWITCH && x->node == UINT32_MAX;
}

static bool ud_has(const struct plan_updown *u, uint32_t s, uint32_t leaf)
{
	return u->reach[(size_t)u->sw[s] * u->words + leaf / 64] >> (leaf % 64) & 1;
}

/* Build the tables; NULL when the fabric is not layered. */
struct plan_updown *plan_ud_build(const struct topo_graph *g)
{
	struct plan_updown *u = calloc(1, sizeof(*u));
	uint32_t nsw = 0, nleaf = 0, maxtier = 0;

	if (!u)
		return NULL;
	u->sw = malloc(g->n_vertices * sizeof(uint32_t));
	u->leaf = malloc(g->n_vertices * sizeof(uint32_t));
	u->nic_of = malloc(g->n_vertices * sizeof(uint32_t));
	u->up_of = malloc(g->n_vertices * sizeof(uint64_t));
	u->gpu_nic = malloc(g->n_vertices * sizeof(uint64_t));
	if (!u->sw || !u->leaf || !u->nic_of || !u->up_of || !u->gpu_nic)
		goto fail;
	for (uint32_t v = 0; v < g->n_vertices; v++) {
		const struct topo_vertex *x = &g->vertices[v];

		u->sw[v] = u->leaf[v] = u->nic_of[v] = UINT32_MAX;
		u->up_of[v] = UINT64_MAX;
		if (!is_fabric_switch(x))
			continue;
		u->sw[v] = nsw++;
		if (x->local == 0)
			u->leaf[v] = nleaf++;
		if (x->local > maxtier)
			maxtier = x->local;
	}
	if (!nleaf)
		goto fail;
	for (uint64_t l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];
		const struct topo_vertex *a = &g->vertices[k->a], *b = &g->vertices[k->b];

		if (is_fabric_switch(a) && is_fabric_switch(b)) {
			if (a->local + 1 != b->local && b->local + 1 != a->local)
				goto fail; /* not layered */
			continue;
		}
		/* a NIC on exactly one fabric switch, which is a leaf */
		for (int side = 0; side < 2; side++) {
			uint32_t n = side ? k->b : k->a, o = side ? k->a : k->b;
			const struct topo_vertex *nx = &g->vertices[n], *ox = &g->vertices[o];

			if (nx->kind == TOPO_V_NIC && is_fabric_switch(ox)) {
				if (u->up_of[n] != UINT64_MAX || ox->local != 0)
					goto fail;
				u->up_of[n] = l;
			}
			if (nx->kind == TOPO_V_GPU && ox->kind == TOPO_V_NIC &&
			    nx->node == ox->node) {
				u->nic_of[n] = u->nic_of[n] == UINT32_MAX ? o : UINT32_MAX - 1;
				u->gpu_nic[n] = l;
			}
		}
	}
	u->words = (nleaf + 63) / 64;
	u->reach = calloc((size_t)nsw * u->words, sizeof(uint64_t));
	if (!u->reach)
		goto fail;
	/* bottom up: a switch reaches the leaves its lower neighbours reach */
	for (uint32_t t = 0; t <= maxtier; t++)
		for (uint32_t v = 0; v < g->n_vertices; v++) {
			const struct topo_vertex *x = &g->vertices[v];
			uint64_t *mine;

			if (!is_fabric_switch(x) || x->local != t)
				continue;
			mine = &u->reach[(size_t)u->sw[v] * u->words];
			if (t == 0) {
				mine[u->leaf[v] / 64] |= 1ull << (u->leaf[v] % 64);
				continue;
			}
			for (uint64_t a = g->adj_start[v]; a < g->adj_start[v + 1]; a++) {
				uint32_t w = topo_link_other(g, g->adj[a], v);
				const uint64_t *theirs;

				if (!is_fabric_switch(&g->vertices[w]) ||
				    g->vertices[w].local + 1u != t)
					continue;
				theirs = &u->reach[(size_t)u->sw[w] * u->words];
				for (size_t i = 0; i < u->words; i++)
					mine[i] |= theirs[i];
			}
		}
	/* up and down link lists per switch */
	u->up_start = calloc((size_t)nsw + 1, sizeof(uint64_t));
	u->down_start = calloc((size_t)nsw + 1, sizeof(uint64_t));
	if (!u->up_start || !u->down_start)
		goto fail;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t nu = 0, nd = 0;

		for (uint32_t v = 0; v < g->n_vertices; v++) {
			uint32_t i = u->sw[v];

			if (i == UINT32_MAX)
				continue;
			if (pass == 0) {
				u->up_start[i] = nu;
				u->down_start[i] = nd;
			}
			for (uint64_t a = g->adj_start[v]; a < g->adj_start[v + 1]; a++) {
				uint32_t w = topo_link_other(g, g->adj[a], v);

				if (!is_fabric_switch(&g->vertices[w]))
					continue;
				if (g->vertices[w].local > g->vertices[v].local) {
					if (pass) {
						u->up_link[nu] = g->adj[a];
						u->up_to[nu] = w;
					}
					nu++;
				} else {
					if (pass) {
						u->down_link[nd] = g->adj[a];
						u->down_to[nd] = w;
					}
					nd++;
				}
			}
		}
		if (pass == 0) {
			u->up_start[nsw] = nu;
			u->down_start[nsw] = nd;
			u->up_link = malloc((nu + 1) * sizeof(uint64_t));
			u->up_to = malloc((nu + 1) * sizeof(uint32_t));
			u->down_link = malloc((nd + 1) * sizeof(uint64_t));
			u->down_to = malloc((nd + 1) * sizeof(uint32_t));
			if (!u->up_link || !u->up_to || !u->down_link || !u->down_to)
				goto fail;
		}
	}
	return u;
fail:
	plan_ud_free(u);
	return NULL;
}

/* The NIC a rank's traffic enters the fabric through, or UINT32_MAX. */
static uint32_t ud_nic(const struct plan_updown *u, const struct topo_graph *g, uint32_t v)
{
	if (g->vertices[v].kind == TOPO_V_NIC)
		return u->up_of[v] != UINT64_MAX ? v : UINT32_MAX;
	if (g->vertices[v].kind == TOPO_V_GPU && u->nic_of[v] < UINT32_MAX - 1)
		return u->up_of[u->nic_of[v]] != UINT64_MAX ? u->nic_of[v] : UINT32_MAX;
	return UINT32_MAX;
}

/*
 * One shortest path va -> vb through their own NICs, chosen by hash at every up and down
 * step: its links into path[max].  Returns the hop count, or -1 when this case is not for
 * the fast path (no own NIC, GPUs of different local index, no leaf above reaches vb).
 */
int plan_ud_path(const struct plan_updown *u, const struct topo_graph *g, uint32_t va, uint32_t vb,
		 uint64_t hash, uint64_t *path, int max)
{
	uint32_t na = ud_nic(u, g, va), nb = ud_nic(u, g, vb), la, lb, at, leaf_b;
	uint32_t cand[256];
	int n = 0;

	if (na == UINT32_MAX || nb == UINT32_MAX || max < 16)
		return -1;
	if (g->vertices[va].kind == TOPO_V_GPU && g->vertices[va].local != g->vertices[vb].local)
		return -1; /* another GPU's NIC may be as short (PXN): leave it to the BFS */
	la = topo_link_other(g, u->up_of[na], na);
	lb = topo_link_other(g, u->up_of[nb], nb);
	leaf_b = u->leaf[lb];
	if (va != na)
		path[n++] = u->gpu_nic[va];
	path[n++] = u->up_of[na];
	/* up, any up link (layered: every one leads on), until a switch reaches lb */
	at = la;
	while (!ud_has(u, at, leaf_b)) {
		uint32_t i = u->sw[at];
		uint64_t k = u->up_start[i + 1] - u->up_start[i];

		if (!k || n >= max - 8)
			return -1;
		hash = hash * 0x9e3779b97f4a7c15ull + 1;
		k = u->up_start[i] + (hash >> 17) % k;
		path[n++] = u->up_link[k];
		at = u->up_to[k];
	}
	/* down, through a lower switch that still reaches lb */
	while (at != lb) {
		uint32_t i = u->sw[at];
		unsigned k = 0;

		for (uint64_t d = u->down_start[i]; d < u->down_start[i + 1] && k < 256; d++)
			if (u->down_to[d] == lb ||
			    (g->vertices[u->down_to[d]].local && ud_has(u, u->down_to[d], leaf_b)))
				cand[k++] = (uint32_t)(d - u->down_start[i]);
		if (!k || n >= max - 4)
			return -1;
		hash = hash * 0x9e3779b97f4a7c15ull + 1;
		uint64_t d = u->down_start[i] + cand[(hash >> 17) % k];

		path[n++] = u->down_link[d];
		at = u->down_to[d];
	}
	path[n++] = u->up_of[nb];
	if (vb != nb)
		path[n++] = u->gpu_nic[vb];
	return n;
}
