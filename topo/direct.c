/*
 * direct.c - the router-per-position families: torus (any number of dimensions, wrap-around,
 * like TPU or Blue Gene) and dragonfly (Kim et al. 2008: all-to-all groups of routers joined by
 * global links).  Routers are switch vertices created first (vertex r is router r), then the
 * nodes on each router.
 *
 *   torus links:     sum over dims of N x (1 if size >= 3, 1/2 if size = 2, 0 if size = 1)
 *   dragonfly local:  g a (a - 1) / 2,   global: C(g, 2) x floor(a h / (g - 1))
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

#define MAX_ROUTERS 4000000u

static int per_router(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	int ret = 0;

	d->per_router = 1;
	if (f->nodes_per_router) {
		ret = topo__at_least(d, f->nodes_per_router, 1, "fabric.nodes_per_router",
				     "nodes_per_router: 2", err);
		d->per_router = *f->nodes_per_router;
	}
	return ret;
}

static int router_ports(struct topo_desc *d, uint64_t fabric_ports, struct topo_error *err)
{
	uint64_t used = fabric_ports + (uint64_t)d->per_router * d->ntypes[d->ntype].nics;

	if (d->radix && used > d->radix)
		return topo__errf(
			err, d->path, "fabric.radix", false,
			"a router needs %llu ports (%llu to routers, %u nodes x %u NICs), "
			"more than the radix %u (expected radix >= %llu)",
			(unsigned long long)used, (unsigned long long)fabric_ports, d->per_router,
			d->ntypes[d->ntype].nics, d->radix, (unsigned long long)used);
	return 0;
}

/* ---- torus ---------------------------------------------------------------------------------- */

/* What both families take first: the node type, nodes per router, the radix (optional). */
static int router_params(struct topo_desc *d, struct topo_error *err)
{
	int ret = topo__fabric_ntype(d, err);

	if (!ret)
		ret = per_router(d, err);
	return ret ? ret : topo__fabric_radix(d, false, err);
}

static int torus_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	uint64_t routers = 1, ports = 0;
	char p[64];
	unsigned i;
	int ret;

	ret = router_params(d, err);
	if (ret)
		return ret;
	if (!f->dims)
		return topo__errf(err, d->path, "fabric", false,
				  "missing required field 'dims' (expected dims: [4, 4, 4])");
	if (f->dims_count > TOPO__MAX_DIMS) {
		snprintf(p, sizeof(p), "fabric.dims[%u]", TOPO__MAX_DIMS);
		return topo__errf(err, d->path, p, false,
				  "more than %u dimensions (expected at most %u, and at most %u "
				  "routers in all)",
				  TOPO__MAX_DIMS, TOPO__MAX_DIMS, MAX_ROUTERS);
	}
	d->n_dims = f->dims_count;
	for (i = 0; i < f->dims_count; i++) {
		snprintf(p, sizeof(p), "fabric.dims[%u]", i);
		ret = topo__at_least(d, &f->dims[i], 1, p, "dims: [4, 4, 4]", err);
		if (ret)
			return ret;
		d->dims[i] = f->dims[i];
		routers *= f->dims[i];
		ports += f->dims[i] >= 3 ? 2 : f->dims[i] == 2 ? 1 : 0;
		if (routers > MAX_ROUTERS)
			return topo__errf(err, d->path, "fabric.dims", false,
					  "more than %u routers (expected a smaller torus)",
					  MAX_ROUTERS);
	}
	d->nodes = (unsigned)routers * d->per_router;
	ret = router_ports(d, ports, err);
	if (!ret)
		ret = topo__host_class(d, err);
	if (!ret && ports)
		ret = topo__need_class(d, TOPO_C_TORUS, err);
	return ret;
}

static uint32_t add_routers_nodes(const struct topo_desc *d, struct topo__builder *b,
				  unsigned routers, const char *fmt_group, unsigned per_group,
				  int *ret)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	uint32_t nic_v[TOPO_MAX_NICS];
	unsigned r, q, i;
	char name[48];

	*ret = -ENOMEM;
	for (r = 0; r < routers; r++) {
		uint32_t v = per_group ? topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 0, 0,
							d->switch_part, fmt_group, r / per_group,
							r % per_group)
				       : topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 0, 0,
							d->switch_part, "router%u", r);

		if (v != r)
			return UINT32_MAX;
	}
	for (r = 0; r < routers; r++) {
		for (q = 0; q < d->per_router; q++) {
			unsigned n = r * d->per_router + q;

			snprintf(name, sizeof(name), "node%u", n);
			*ret = topo__add_node(b, d, n, name, t, nic_v);
			if (*ret)
				return UINT32_MAX;
			for (i = 0; i < t->nics; i++) {
				const struct topo__class *c = &d->cls[TOPO_C_HOST];

				*ret = topo__b_link(b, nic_v[i], r, TOPO_L_HOST, c->bandwidth,
						    c->latency, c->media);
				if (*ret)
					return UINT32_MAX;
			}
		}
	}
	*ret = 0;
	return 0;
}

static int torus_expand(const struct topo_desc *d, struct topo__builder *b, struct topo_error *err)
{
	const struct topo__class *c = &d->cls[TOPO_C_TORUS];
	unsigned routers = d->nodes / d->per_router, r, i;
	int ret;

	add_routers_nodes(d, b, routers, NULL, 0, &ret);
	if (ret)
		return ret;
	for (r = 0; r < routers; r++) {
		unsigned stride = 1;

		for (i = 0; i < d->n_dims; i++) {
			unsigned size = d->dims[i], x = (r / stride) % size;
			unsigned nb = r - x * stride + ((x + 1) % size) * stride;

			if (size >= 3 || (size == 2 && x == 0)) {
				ret = topo__b_link(b, r, nb, TOPO_L_FABRIC, c->bandwidth,
						   c->latency, c->media);
				if (ret)
					return ret;
			}
			stride *= size;
		}
	}
	(void)err;
	return 0;
}

/* ---- dragonfly ------------------------------------------------------------------------------ */

static int dragonfly_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	static const char *const need[] = {"groups", "routers_per_group",
					   "global_links_per_router"};
	const unsigned *vals[] = {f->groups, f->routers_per_group, f->global_links_per_router};
	char p[64];
	unsigned i;
	int ret;

	ret = router_params(d, err);
	if (ret)
		return ret;
	for (i = 0; i < 3; i++) {
		if (!vals[i])
			return topo__errf(err, d->path, "fabric", false,
					  "missing required field '%s' (expected groups: 9, "
					  "routers_per_group: 4, global_links_per_router: 2)",
					  need[i]);
		snprintf(p, sizeof(p), "fabric.%s", need[i]);
		ret = topo__at_least(d, vals[i], i == 2 ? 0 : 1, p, "e.g. 2", err);
		if (ret)
			return ret;
	}
	d->groups = *f->groups;
	d->routers = *f->routers_per_group;
	d->globals = *f->global_links_per_router;
	if ((uint64_t)d->groups * d->routers > MAX_ROUTERS)
		return topo__errf(err, d->path, "fabric.groups", false,
				  "more than %u routers (expected a smaller dragonfly)",
				  MAX_ROUTERS);
	if (d->groups > 1 && (uint64_t)d->routers * d->globals < d->groups - 1)
		return topo__errf(
			err, d->path, "fabric.groups", false,
			"%u groups need %u global links per group to reach every other "
			"group, but %u routers x %u global links give %u (expected groups "
			"<= routers_per_group x global_links_per_router + 1)",
			d->groups, d->groups - 1, d->routers, d->globals, d->routers * d->globals);
	d->nodes = d->groups * d->routers * d->per_router;
	ret = router_ports(d, (uint64_t)d->routers - 1 + d->globals, err);
	if (!ret)
		ret = topo__host_class(d, err);
	if (!ret && d->routers > 1)
		ret = topo__need_class(d, TOPO_C_LOCAL, err);
	if (!ret && d->groups > 1)
		ret = topo__need_class(d, TOPO_C_GLOBAL, err);
	return ret;
}

static int dragonfly_expand(const struct topo_desc *d, struct topo__builder *b,
			    struct topo_error *err)
{
	const struct topo__class *lc = &d->cls[TOPO_C_LOCAL], *gc = &d->cls[TOPO_C_GLOBAL];
	unsigned g = d->groups, a = d->routers, h = d->globals, i, j, x, y;
	unsigned per_pair = g > 1 ? a * h / (g - 1) : 0;
	unsigned *port;
	int ret;

	add_routers_nodes(d, b, g * a, "g%u-r%u", a, &ret);
	if (ret)
		return ret;
	for (i = 0; i < g; i++)
		for (x = 0; x < a; x++)
			for (y = x + 1; y < a; y++) {
				ret = topo__b_link(b, i * a + x, i * a + y, TOPO_L_FABRIC,
						   lc->bandwidth, lc->latency, lc->media);
				if (ret)
					return ret;
			}
	port = calloc(g, sizeof(*port));
	if (!port)
		return -ENOMEM;
	for (i = 0; i < g && !ret; i++)
		for (j = i + 1; j < g && !ret; j++)
			for (x = 0; x < per_pair && !ret; x++)
				ret = topo__b_link(b, i * a + port[i]++ / h, j * a + port[j]++ / h,
						   TOPO_L_FABRIC, gc->bandwidth, gc->latency,
						   gc->media);
	free(port);
	(void)err;
	return ret;
}

/* ---- bisection bandwidth and diameter ------------------------------------------------------ */

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

/* What a balanced cut of the router links carries, capped by what the smaller half injects. */
static double torus_bisection(const struct topo_desc *d, const struct topo_graph *g,
			      struct topo_summary *s)
{
	double host_bw, half = topo__host_half(g, &host_bw), inj, links;
	unsigned dims[TOPO__MAX_DIMS], n = 0, i;

	for (i = 0; i < d->n_dims; i++)
		if (d->dims[i] > 1)
			dims[n++] = d->dims[i];
	/* the smaller half holds floor(nodes / 2) nodes: with an odd count, half of the host
	 * links would overstate what it injects */
	inj = (double)(d->nodes / 2) * (d->nodes ? 2 * half / d->nodes : 0) * host_bw;
	links = torus_cut(dims, n, (double)(d->nodes / d->per_router));
	return links < 0 ? inj : fmin(inj, links * d->cls[TOPO_C_TORUS].bandwidth);
}

/* The router links between the first and the second half of the groups (of the routers, with
 * one group), capped by what half the nodes inject. */
static double dragonfly_bisection(const struct topo_desc *d, const struct topo_graph *g,
				  struct topo_summary *s)
{
	double host_bw, inj = topo__host_half(g, &host_bw) * host_bw, cross = 0;
	unsigned a = d->routers, gr = d->groups;
	uint64_t l;

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

/* ---- the families' table entries ------------------------------------------------------------ */

const struct topo__family_ops topo__torus = {.validate = torus_validate,
					     .expand = torus_expand,
					     .bisection = torus_bisection,
					     .diameter = torus_diameter};
const struct topo__family_ops topo__dragonfly = {.validate = dragonfly_validate,
						 .expand = dragonfly_expand,
						 .bisection = dragonfly_bisection};
