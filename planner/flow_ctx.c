/*
 * flow_ctx.c - the flow engine's context: ranks placed on the topology graph (GPUs, else
 * NICs, node by node), the injection rates the lower bound needs, the resources and their
 * capacities, the router and up/down tables, and the caches and scratch that outlive one
 * phase (flow_route.c, flow_fill.c and flow_predict.c use them).
 *
 * The engine as a whole: each phase's flows routed (ECMP by hash, or spread over every
 * equal-cost path), link capacity shared max-min fairly by progressive filling, and the
 * call's time summed over its phases (flow_predict.c says how).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

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

/* cap_index: each resource's capacity as one of at most PLAN_CAP_VALUES distinct values,
 * when there are so few (a byte per resource); else left NULL. */
static void index_caps(struct plan_ctx *c)
{
	unsigned n = 0;

	c->cap_index = malloc(c->n_res ? c->n_res : 1);
	if (!c->cap_index)
		return; /* the engine reads cap instead */
	for (uint32_t r = 0; r < c->n_res; r++) {
		unsigned i = 0;

		while (i < n && c->cap_value[i] != c->cap[r])
			i++;
		if (i == n) {
			if (n == PLAN_CAP_VALUES) {
				free(c->cap_index);
				c->cap_index = NULL;
				return;
			}
			c->cap_value[n++] = c->cap[r];
		}
		c->cap_index[r] = (uint8_t)i;
	}
}

int plan_ctx_new(const struct plan_setup *s, struct plan_ctx **out, char *msg, size_t msglen)
{
	struct plan_ctx *c = calloc(1, sizeof(*c));
	uint64_t n_res;
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
	n_res = (s->g ? 2 * s->g->n_links : 0) + (uint64_t)c->n_nodes;
	if (n_res >= UINT32_MAX / 2) {
		snprintf(msg, msglen,
			 "the topology has %" PRIu64 " links, more than the engine handles",
			 s->g->n_links);
		err = -EINVAL;
		goto err_free;
	}
	c->shm_base = s->g ? (uint32_t)(2 * s->g->n_links) : 0;
	c->n_res = (uint32_t)n_res;
	c->cap = malloc(c->n_res * sizeof(*c->cap));
	c->fill.tag = calloc(c->n_res, sizeof(*c->fill.tag));
	err = -ENOMEM;
	if (!c->cap || !c->fill.tag)
		goto err_free;
	for (uint64_t l = 0; s->g && l < s->g->n_links; l++)
		c->cap[2 * l] = c->cap[2 * l + 1] = s->g->links[l].bandwidth;
	/* a node's memory is one unit shared by its flows; its rate (calibrated) multiplies
	 * the share in plan_predict, so a new calibration needs no new rates */
	for (int k = 0; k < c->n_nodes; k++)
		c->cap[c->shm_base + (uint32_t)k] = 1;
	index_caps(c);
	if (s->g && topo_router_new(s->g, &c->router))
		goto err_free;
	if (s->g && c->n_nodes > 1) {
		c->ud = plan_ud_build(s->g);
		if (c->ud && !ud_check(c)) {
			plan_ud_free(c->ud);
			c->ud = NULL;
		}
		if (c->ud) {
			c->ud_end = malloc((size_t)s->ranks * sizeof(*c->ud_end));
			if (!c->ud_end)
				goto err_free;
			for (int r = 0; r < s->ranks; r++)
				plan_ud_end(c->ud, s->g, c->vert[r], &c->ud_end[r]);
		}
	}
	*out = c;
	return 0;
err_free:
	plan_ctx_free(c);
	return err;
}

void plan_flow_drop_patterns(struct plan_ctx *c)
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

static void fill_scratch_free(struct plan_fill_scratch *f)
{
	free(f->tag);
	free(f->shared);
	free(f->shared_fixed);
	free(f->heap);
	free(f->csr);
	free(f->fsh_start);
	free(f->fsh_id);
	free(f->order);
	free(f->order_tmp);
	free(f->csr_frac);
	free(f->fsh_frac);
	free(f->fcap);
	free(f->lim_frac);
	free(f->frozen);
	free(f->first_key);
	free(f->by_key);
	free(f->by_key_tmp);
}

void plan_ctx_free(struct plan_ctx *c)
{
	if (!c)
		return;
	plan_flow_drop_patterns(c);
	plan_ud_free(c->ud);
	free(c->ud_end);
	if (c->router)
		topo_router_free(c->router);
	free(c->routes);
	free(c->arena_res);
	free(c->arena_frac);
	free(c->layout.start);
	free(c->layout.res);
	free(c->layout.frac);
	free(c->layout.cls);
	fill_scratch_free(&c->fill);
	free(c->cap);
	free(c->cap_index);
	free(c->vert);
	free(c->node);
	free(c);
}

void plan_ctx_reseed(struct plan_ctx *c, uint64_t seed)
{
	c->s.ecmp_seed = seed;
	plan_flow_drop_patterns(c);
	if (c->routes)
		memset(c->routes, 0, c->routes_cap * sizeof(*c->routes));
	c->routes_used = 0;
	c->arena_n = 0;
}

/* The fast path must agree with the BFS on hop counts: check a sample of rank pairs. */
static bool ud_check(struct plan_ctx *c)
{
	const struct topo_graph *g = c->s.g;
	uint32_t path[64];
	uint64_t x = 12345;
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

void plan_ctx_rates(const struct plan_ctx *c, double *net_min, double *net_max, int *nodes)
{
	*net_min = isfinite(c->net_rate_min) ? c->net_rate_min : 0;
	*net_max = c->net_rate_max;
	*nodes = c->n_nodes;
}
