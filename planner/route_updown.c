/*
 * route_updown.c - shortest routes on layered fabrics without a search.
 *
 * Up/down routes for layered fabrics (every switch-switch link joins tier t to t+1, as in
 * the fat-tree, rail-optimized, rail-only and single-switch families): a shortest path
 * between two leaves goes up to the lowest tier whose switch reaches the destination leaf
 * going down, then down.  reach[s] is the set of leaves below fabric switch s (a bitmap), so
 * one route costs a few hops x radix instead of a BFS over thousands of switches.  Used only
 * for NIC-to-NIC paths (a GPU reaches the fabric through its own NIC) and only after a
 * sample of pairs routed both ways agrees on every hop count (flow_ctx.c, ud_check); anything else
 * goes to topo_route().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

struct ud_hop {
	uint32_t res, to;
};

struct ud_grp {
	uint32_t block, off, n;
};

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
	/* what a route needs, without the graph: each up and down link as the directed
	 * resource (2 x link + direction, as the flow engine numbers them) and the switch index
	 * it leads to; a NIC's resource up to its leaf and the leaf's switch index, a GPU's
	 * resource to its NIC (the way back: the resource ^ 1) */
	struct ud_hop *up_hop, *down_hop;
	uint32_t *nic_up_res, *nic_leaf, *nic_leafno, *gpu_out_res;
	/* down steps without a scan: when the sets of leaves the switches of tier t reach are
	 * pairwise equal or disjoint (blocks: a fat-tree's pods, its leaves), block[t][leaf] is
	 * the block of tier t holding leaf, and a switch of tier t + 1 lists its down links by
	 * the block of the switch they lead to: groups sorted by block, each with its links'
	 * positions in down-link order */
	uint32_t nleaf;
	uint16_t *tier;	     /* [switches] */
	uint32_t *block;     /* [tiers][nleaf], UINT32_MAX: in no block */
	uint32_t *sw_block;  /* [switches] its block in its tier, UINT32_MAX: not laminar */
	bool *laminar;	     /* [tiers] */
	uint64_t *grp_start; /* [switches + 1] into grp_block, grp_off, grp_n */
	uint32_t *grp_block; /* sorted per switch */
	uint32_t *grp_off;   /* into grp_pos */
	uint32_t *grp_n;
	uint32_t *grp_pos;	/* positions among the switch's down links */
	struct ud_grp *grp;	/* block, offset and size of each group together */
	struct ud_hop *grp_hop; /* down_hop in group order (grp_pos) */
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
	free(u->up_hop);
	free(u->down_hop);
	free(u->nic_up_res);
	free(u->nic_leaf);
	free(u->nic_leafno);
	free(u->gpu_out_res);
	free(u->tier);
	free(u->block);
	free(u->sw_block);
	free(u->laminar);
	free(u->grp_start);
	free(u->grp_block);
	free(u->grp_off);
	free(u->grp_n);
	free(u->grp_pos);
	free(u->grp);
	free(u->grp_hop);
	free(u);
}

static bool is_fabric_switch(const struct topo_vertex *x)
{
	return x->kind == TOPO_V_SWITCH && x->node == UINT32_MAX;
}

/* Does fabric switch number s reach leaf number leaf?  In a laminar tier, when the leaf's
 * block there is the switch's (small tables); else its row of the bitmap. */
static bool ud_has(const struct plan_updown *u, uint32_t s, uint32_t leaf)
{
	if (u->sw_block[s] != UINT32_MAX)
		return u->block[(size_t)u->tier[s] * u->nleaf + leaf] == u->sw_block[s];
	return u->reach[(size_t)s * u->words + leaf / 64] >> (leaf % 64) & 1;
}

/* The directed resource of link l entered from vertex from. */
static uint32_t ud_res(const struct topo_graph *g, uint64_t l, uint32_t from)
{
	return (uint32_t)(2 * l + (g->links[l].a == from ? 0 : 1));
}

/* The host links' resources: each NIC's to its leaf, each GPU's to its NIC.  0 or -ENOMEM. */
static int ud_hops(struct plan_updown *u, const struct topo_graph *g)
{
	u->nic_up_res = malloc(g->n_vertices * sizeof(uint32_t));
	u->nic_leaf = malloc(g->n_vertices * sizeof(uint32_t));
	u->nic_leafno = malloc(g->n_vertices * sizeof(uint32_t));
	u->gpu_out_res = malloc(g->n_vertices * sizeof(uint32_t));
	if (!u->nic_up_res || !u->nic_leaf || !u->nic_leafno || !u->gpu_out_res)
		return -ENOMEM;
	for (uint32_t v = 0; v < g->n_vertices; v++) {
		u->nic_up_res[v] = u->nic_leaf[v] = u->nic_leafno[v] = UINT32_MAX;
		u->gpu_out_res[v] = UINT32_MAX;
		if (u->up_of[v] != UINT64_MAX) {
			uint32_t leaf = topo_link_other(g, u->up_of[v], v);

			u->nic_up_res[v] = ud_res(g, u->up_of[v], v);
			u->nic_leaf[v] = u->sw[leaf];
			u->nic_leafno[v] = u->leaf[leaf];
		}
		if (u->nic_of[v] < UINT32_MAX - 1)
			u->gpu_out_res[v] = ud_res(g, u->gpu_nic[v], v);
	}
	return 0;
}

/* Blocks of tier t: each switch's reach row numbered by its content (equal rows, one
 * number), into id[sw] (UINT32_MAX for switches of other tiers); whether the distinct rows
 * are pairwise disjoint; block[leaf] for the leaves of each row.  0 or -ENOMEM. */
static int ud_blocks(struct plan_updown *u, uint32_t nsw, uint32_t t, uint32_t *id, uint32_t *block,
		     bool *laminar)
{
	size_t cap = 1, nrows = 0;
	uint32_t *table, *rows;
	uint64_t *seen = calloc(u->words ? u->words : 1, sizeof(uint64_t));

	while (cap < 2 * (size_t)nsw)
		cap *= 2;
	table = malloc(cap * sizeof(*table));
	rows = malloc((nsw ? nsw : 1) * sizeof(*rows));
	if (!table || !rows || !seen) {
		free(table);
		free(rows);
		free(seen);
		return -ENOMEM;
	}
	memset(table, 0xff, cap * sizeof(*table));
	*laminar = true;
	for (uint32_t i = 0; i < u->nleaf; i++)
		block[i] = UINT32_MAX;
	for (uint32_t i = 0; i < nsw; i++) {
		const uint64_t *row = &u->reach[(size_t)i * u->words];
		uint64_t h = 1469598103934665603ull;
		size_t slot;

		id[i] = UINT32_MAX;
		if (u->tier[i] != t)
			continue;
		for (size_t w = 0; w < u->words; w++)
			h = (h ^ row[w]) * 1099511628211ull;
		for (slot = (h ^ h >> 29) & (cap - 1); table[slot] != UINT32_MAX;
		     slot = (slot + 1) & (cap - 1))
			if (!memcmp(&u->reach[(size_t)rows[table[slot]] * u->words], row,
				    u->words * sizeof(*row)))
				break;
		if (table[slot] == UINT32_MAX) { /* a new block: disjoint from the others? */
			table[slot] = (uint32_t)nrows;
			rows[nrows] = i;
			for (size_t w = 0; w < u->words; w++) {
				if (seen[w] & row[w])
					*laminar = false;
				seen[w] |= row[w];
				for (uint64_t b = row[w]; b; b &= b - 1)
					block[w * 64 + (size_t)__builtin_ctzll(b)] =
						(uint32_t)nrows;
			}
			nrows++;
		}
		id[i] = table[slot];
	}
	free(table);
	free(rows);
	free(seen);
	return 0;
}

/* The down-link groups of every switch above a laminar tier.  0 or -ENOMEM. */
static int ud_groups(struct plan_updown *u, const struct topo_graph *g, uint32_t nsw,
		     uint32_t maxtier)
{
	uint32_t *id = malloc((size_t)(nsw ? nsw : 1) * (maxtier + 1) * sizeof(*id));
	uint64_t ng = 0, nd = u->down_start[nsw];
	int err = -ENOMEM;

	u->tier = malloc((nsw ? nsw : 1) * sizeof(*u->tier));
	u->block = malloc((size_t)(maxtier + 1) * (u->nleaf ? u->nleaf : 1) * sizeof(*u->block));
	u->laminar = calloc(maxtier + 1, sizeof(*u->laminar));
	u->sw_block = malloc((nsw ? nsw : 1) * sizeof(*u->sw_block));
	u->grp_start = calloc((size_t)nsw + 1, sizeof(*u->grp_start));
	u->grp_block = malloc((nd ? nd : 1) * sizeof(*u->grp_block));
	u->grp_off = malloc((nd ? nd : 1) * sizeof(*u->grp_off));
	u->grp_n = malloc((nd ? nd : 1) * sizeof(*u->grp_n));
	u->grp_pos = malloc((nd ? nd : 1) * sizeof(*u->grp_pos));
	if (!id || !u->tier || !u->block || !u->laminar || !u->sw_block || !u->grp_start ||
	    !u->grp_block || !u->grp_off || !u->grp_n || !u->grp_pos)
		goto out;
	for (uint32_t v = 0; v < g->n_vertices; v++)
		if (u->sw[v] != UINT32_MAX)
			u->tier[u->sw[v]] = g->vertices[v].local;
	for (uint32_t t = 0; t <= maxtier; t++)
		if (ud_blocks(u, nsw, t, &id[(size_t)t * nsw], &u->block[(size_t)t * u->nleaf],
			      &u->laminar[t]))
			goto out;
	for (uint32_t i = 0; i < nsw; i++)
		u->sw_block[i] =
			u->laminar[u->tier[i]] ? id[(size_t)u->tier[i] * nsw + i] : UINT32_MAX;
	/* per switch: its down links' blocks, sorted (insertion: few distinct per switch),
	 * each group's positions in down-link order */
	for (uint32_t i = 0; i < nsw; i++) {
		uint64_t d0 = u->down_start[i], d1 = u->down_start[i + 1], g0 = ng;

		u->grp_start[i] = ng;
		if (!u->tier[i] || !u->laminar[u->tier[i] - 1])
			continue;
		for (uint64_t d = d0; d < d1; d++) {
			uint32_t b = id[(size_t)(u->tier[i] - 1) * nsw + u->sw[u->down_to[d]]];
			uint64_t j = ng > g0 && u->grp_block[ng - 1] < b ? ng : g0; /* in order */

			while (j < ng && u->grp_block[j] < b)
				j++;
			if (j == ng || u->grp_block[j] != b) {
				memmove(&u->grp_block[j + 1], &u->grp_block[j],
					(ng - j) * sizeof(*u->grp_block));
				memmove(&u->grp_n[j + 1], &u->grp_n[j],
					(ng - j) * sizeof(*u->grp_n));
				u->grp_block[j] = b;
				u->grp_n[j] = 0;
				ng++;
			}
			u->grp_n[j]++;
		}
		for (uint64_t j = g0, off = d0; j < ng; j++) {
			u->grp_off[j] = (uint32_t)off;
			off += u->grp_n[j];
			u->grp_n[j] = 0;
		}
		for (uint64_t d = d0; d < d1; d++) {
			uint32_t b = id[(size_t)(u->tier[i] - 1) * nsw + u->sw[u->down_to[d]]];
			uint64_t lo = g0, hi = ng;

			while (hi - lo > 1) {
				uint64_t mid = lo + (hi - lo) / 2;

				if (u->grp_block[mid] <= b)
					lo = mid;
				else
					hi = mid;
			}
			u->grp_pos[u->grp_off[lo] + u->grp_n[lo]++] = (uint32_t)(d - d0);
		}
	}
	u->grp_start[nsw] = ng;
	u->grp = malloc((ng ? ng : 1) * sizeof(*u->grp));
	u->grp_hop = malloc((nd ? nd : 1) * sizeof(*u->grp_hop));
	if (!u->grp || !u->grp_hop)
		goto out;
	for (uint32_t i = 0; i < nsw; i++)
		for (uint64_t j = u->grp_start[i]; j < u->grp_start[i + 1]; j++) {
			u->grp[j] = (struct ud_grp){u->grp_block[j], u->grp_off[j], u->grp_n[j]};
			for (uint32_t q = 0; q < u->grp_n[j]; q++)
				u->grp_hop[u->grp_off[j] + q] =
					u->down_hop[u->down_start[i] +
						    u->grp_pos[u->grp_off[j] + q]];
		}
	err = 0;
out:
	free(id);
	return err;
}

/* Build the tables; NULL when the fabric is not layered. */
struct plan_updown *plan_ud_build(const struct topo_graph *g)
{
	struct plan_updown *u = calloc(1, sizeof(*u));
	uint32_t nsw = 0, nleaf = 0, maxtier = 0, *swv = NULL;
	uint64_t *cur = NULL; /* fill positions of the up and down lists */

	if (!u)
		return NULL;
	if (2 * g->n_links >= UINT32_MAX)
		goto fail; /* resources would not fit 32 bits */
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
	u->up_start = calloc((size_t)nsw + 1, sizeof(uint64_t));
	u->down_start = calloc((size_t)nsw + 1, sizeof(uint64_t));
	if (!u->up_start || !u->down_start)
		goto fail;
	for (uint64_t l = 0; l < g->n_links; l++) {
		const struct topo_link *k = &g->links[l];
		const struct topo_vertex *a = &g->vertices[k->a], *b = &g->vertices[k->b];

		if (is_fabric_switch(a) && is_fabric_switch(b)) {
			if (a->local + 1 != b->local && b->local + 1 != a->local)
				goto fail; /* not layered */
			/* an up link of the lower end, a down link of the upper one */
			u->up_start[u->sw[a->local < b->local ? k->a : k->b] + 1]++;
			u->down_start[u->sw[a->local < b->local ? k->b : k->a] + 1]++;
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
	/* up and down link lists per switch, each in link order (the order of the switch's
	 * adjacency), with their resources and the switch each leads to: from the links, in
	 * order, not from every switch's adjacency (a random read of a link per entry) */
	for (uint32_t i = 0; i < nsw; i++) {
		u->up_start[i + 1] += u->up_start[i];
		u->down_start[i + 1] += u->down_start[i];
	}
	{
		uint64_t nu = u->up_start[nsw], nd = u->down_start[nsw];

		u->up_link = malloc((nu + 1) * sizeof(uint64_t));
		u->up_to = malloc((nu + 1) * sizeof(uint32_t));
		u->down_link = malloc((nd + 1) * sizeof(uint64_t));
		u->down_to = malloc((nd + 1) * sizeof(uint32_t));
		u->up_hop = malloc((nu + 1) * sizeof(*u->up_hop));
		u->down_hop = malloc((nd + 1) * sizeof(*u->down_hop));
		cur = malloc(2 * ((size_t)nsw + 1) * sizeof(*cur));
		if (!u->up_link || !u->up_to || !u->down_link || !u->down_to || !u->up_hop ||
		    !u->down_hop || !cur)
			goto fail;
	}
	memcpy(cur, u->up_start, (nsw + 1) * sizeof(*cur));
	memcpy(cur + nsw + 1, u->down_start, (nsw + 1) * sizeof(*cur));
	for (uint64_t l = 0; l < g->n_links; l++) {
		uint32_t a = g->links[l].a, b = g->links[l].b, lo, hi;
		uint64_t up, down;

		if (u->sw[a] == UINT32_MAX || u->sw[b] == UINT32_MAX)
			continue;
		lo = g->vertices[a].local < g->vertices[b].local ? a : b;
		hi = lo == a ? b : a;
		up = cur[u->sw[lo]]++;
		down = cur[nsw + 1 + u->sw[hi]]++;
		u->up_link[up] = u->down_link[down] = l;
		u->up_to[up] = hi;
		u->down_to[down] = lo;
		u->up_hop[up] = (struct ud_hop){(uint32_t)(2 * l + (lo == a ? 0 : 1)), u->sw[hi]};
		u->down_hop[down] =
			(struct ud_hop){(uint32_t)(2 * l + (hi == a ? 0 : 1)), u->sw[lo]};
	}
	u->words = (nleaf + 63) / 64;
	u->reach = calloc((size_t)nsw * u->words, sizeof(uint64_t));
	swv = malloc((nsw ? nsw : 1) * sizeof(*swv)); /* the switches' vertices */
	if (!u->reach || !swv)
		goto fail;
	for (uint32_t v = 0; v < g->n_vertices; v++)
		if (u->sw[v] != UINT32_MAX)
			swv[u->sw[v]] = v;
	/* bottom up: a switch reaches the leaves its lower neighbours reach */
	for (uint32_t t = 0; t <= maxtier; t++)
		for (uint32_t i = 0; i < nsw; i++) {
			uint64_t *mine = &u->reach[(size_t)i * u->words];

			if (g->vertices[swv[i]].local != t)
				continue;
			if (t == 0) {
				mine[u->leaf[swv[i]] / 64] |= 1ull << (u->leaf[swv[i]] % 64);
				continue;
			}
			for (uint64_t d = u->down_start[i]; d < u->down_start[i + 1]; d++) {
				const uint64_t *theirs =
					&u->reach[(size_t)u->down_hop[d].to * u->words];

				for (size_t w = 0; w < u->words; w++)
					mine[w] |= theirs[w];
			}
		}
	u->nleaf = nleaf;
	if (ud_hops(u, g) || ud_groups(u, g, nsw, maxtier))
		goto fail;
	free(swv);
	free(cur);
	return u;
fail:
	free(swv);
	free(cur);
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

void plan_ud_end(const struct plan_updown *u, const struct topo_graph *g, uint32_t v,
		 struct plan_ud_end *e)
{
	uint32_t nic = ud_nic(u, g, v);

	*e = (struct plan_ud_end){.gpu_res = UINT32_MAX,
				  .local = g->vertices[v].local,
				  .gpu = g->vertices[v].kind == TOPO_V_GPU,
				  .ok = nic != UINT32_MAX};
	if (!e->ok)
		return;
	if (v != nic)
		e->gpu_res = u->gpu_out_res[v];
	e->nic_res = u->nic_up_res[nic];
	e->leaf = u->nic_leaf[nic];
	e->leafno = u->nic_leafno[nic];
}

int plan_ud_path(const struct plan_updown *u, const struct topo_graph *g, uint32_t va, uint32_t vb,
		 uint64_t hash, uint32_t *res, int max)
{
	struct plan_ud_end a, b;

	plan_ud_end(u, g, va, &a);
	plan_ud_end(u, g, vb, &b);
	return plan_ud_route(u, &a, &b, hash, res, max);
}

/*
 * One shortest path between two ends through their own NICs, chosen by hash at every up and
 * down step: its directed resources (2 x link + direction) into res[max].  Returns the hop
 * count, or -1 when this case is not for the fast path (no own NIC, GPUs of different local
 * index, no leaf above reaches the other end).
 */
int plan_ud_route(const struct plan_updown *u, const struct plan_ud_end *ea,
		  const struct plan_ud_end *eb, uint64_t hash, uint32_t *res, int max)
{
	uint32_t lb, at, leaf_b;
	uint32_t cand[256];
	int n = 0;

	if (!ea->ok || !eb->ok || max < 16)
		return -1;
	if (ea->gpu && ea->local != eb->local)
		return -1; /* another GPU's NIC may be as short (PXN): leave it to the BFS */
	lb = eb->leaf;
	leaf_b = eb->leafno;
	if (ea->gpu_res != UINT32_MAX)
		res[n++] = ea->gpu_res;
	res[n++] = ea->nic_res;
	at = ea->leaf;
	/* up, any up link (layered: every one leads on), until a switch reaches lb */
	while (!ud_has(u, at, leaf_b)) {
		uint64_t k = u->up_start[at + 1] - u->up_start[at];

		if (!k || n >= max - 8)
			return -1;
		hash = hash * 0x9e3779b97f4a7c15ull + 1;
		k = u->up_start[at] + (hash >> 17) % k;
		res[n++] = u->up_hop[k].res;
		at = u->up_hop[k].to;
	}
	/* down, through a lower switch that still reaches lb */
	while (at != lb) {
		const struct ud_hop *hop;
		unsigned k = 0;

		if (u->grp_start[at] < u->grp_start[at + 1]) {
			/* the group of lb's block one tier down (the same links, in the same
			 * order, as the scan below finds) */
			uint32_t b = u->block[(size_t)(u->tier[at] - 1) * u->nleaf + leaf_b];
			uint64_t lo = u->grp_start[at], hi = u->grp_start[at + 1];
			/* blocks are numbered in switch order: a switch's groups are often
			 * consecutive blocks, where the group is found without a search */
			uint64_t guess = lo + (uint64_t)(b - u->grp[lo].block);

			if (b >= u->grp[lo].block && guess < hi && u->grp[guess].block == b)
				lo = hi = guess;
			while (hi - lo > 1) {
				uint64_t mid = lo + (hi - lo) / 2;

				if (u->grp[mid].block <= b)
					lo = mid;
				else
					hi = mid;
			}
			if (u->grp[lo].block != b || n >= max - 4)
				return -1;
			k = u->grp[lo].n < 256 ? u->grp[lo].n : 256;
			hash = hash * 0x9e3779b97f4a7c15ull + 1;
			hop = &u->grp_hop[u->grp[lo].off + (hash >> 17) % k];
		} else {
			for (uint64_t d = u->down_start[at]; d < u->down_start[at + 1] && k < 256;
			     d++) {
				uint32_t w = u->down_hop[d].to;

				if (w == lb || (u->tier[w] && ud_has(u, w, leaf_b)))
					cand[k++] = (uint32_t)(d - u->down_start[at]);
			}
			if (!k || n >= max - 4)
				return -1;
			hash = hash * 0x9e3779b97f4a7c15ull + 1;
			hop = &u->down_hop[u->down_start[at] + cand[(hash >> 17) % k]];
		}
		res[n++] = hop->res;
		at = hop->to;
	}
	res[n++] = eb->nic_res ^ 1;
	if (eb->gpu_res != UINT32_MAX)
		res[n++] = eb->gpu_res ^ 1;
	return n;
}
