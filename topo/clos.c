/*
 * clos.c - the switched Clos families: fat-tree (2 or 3 tiers, any oversubscription, NICs
 * placed per node or per rail), rail-optimized (DGX SuperPOD scalable units: a fat-tree with
 * rail placement and one leaf per rail per SU) and rail-only (Wang et al. 2023: one network per
 * rail, no spine joining the rails).  Sizing rules are in configs/README.md; in short
 *
 *   leaf:  d0 down = floor(k r0 / (r0 + 1)), u0 up = ceil(d0 / r0)
 *   2 tiers: u0 / m spines, m parallel links per leaf-spine pair (largest m | u0, leaves m <= k)
 *   3 tiers: pods of d1 leaves and u0 aggregation switches; agg j of each pod -> core group j
 *
 * With r = 1 and no node count the 3-tier tree is Al-Fares' k-ary fat-tree (k^3/4 hosts,
 * 5k^2/4 switches).
 *
 * Rails (nics.rails; NIC i on rail i by default) wire rail placement and rail-only: NIC i goes
 * to the leaf or network of rail rails[i], so with R rails and w NICs of a node per rail a group
 * of nodes has R leaves, each taking w NICs from every node of the group.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

#define MAX_VERTICES 50000000ull
#define MAX_LINKS    100000000ull /* about 3 GB of links and adjacency */

/* Refuse, before anything is allocated, a tree whose links (not only its vertices) are more
 * than this tool expands: a huge radix with few nodes gives each leaf millions of up links. */
static int check_links(struct topo_desc *d, uint64_t n, uint64_t up, const char *nodes_path,
		       struct topo_error *err)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	uint64_t links = n * (2 * (uint64_t)t->gpus + t->nics) + up;

	if (links <= MAX_LINKS)
		return 0;
	return topo__errf(err, d->path, up > n * t->nics ? "fabric.radix" : nodes_path, false,
			  "%llu nodes and radix %u give about %llu links (%llu of them up links "
			  "from the leaves%s), more than the %llu this tool expands (expected a "
			  "radix sized to the nodes, or a smaller fabric)",
			  (unsigned long long)n, d->radix, (unsigned long long)links,
			  (unsigned long long)up, d->tiers == 3 ? " and aggregation switches" : "",
			  MAX_LINKS);
}

/* Largest m dividing u with count * m <= k; 0 when even m = 1 does not fit. */
static unsigned largest_div(unsigned u, uint64_t count, unsigned k)
{
	unsigned m;

	for (m = u; m >= 1; m--)
		if (u % m == 0 && count * m <= k)
			return m;
	return 0;
}

static int check_oversub(struct topo_desc *d, unsigned tiers, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	char p[64];
	unsigned i;

	for (i = 0; i < 3; i++)
		d->oversub[i] = 1;
	if (!f->oversub)
		return 0;
	if (f->oversub_count > tiers - 1)
		return topo__errf(err, d->path, "fabric.oversubscription", false,
				  "%u ratios for %u tiers (expected at most tiers - 1 = %u, from "
				  "the leaves up)",
				  f->oversub_count, tiers, tiers - 1);
	for (i = 0; i < f->oversub_count; i++) {
		snprintf(p, sizeof(p), "fabric.oversubscription[%u]", i);
		if (!(f->oversub[i] >= 1) || f->oversub[i] > 64)
			return topo__errf(err, d->path, p, false,
					  "oversubscription must be 1..64, got %g (expected e.g. "
					  "[2, 1] for 2:1 at the leaves)",
					  f->oversub[i]);
		d->oversub[i] = f->oversub[i];
	}
	return 0;
}

static unsigned ceil_div_r(unsigned d, double r)
{
	return (unsigned)ceil((double)d / r - 1e-9);
}

/* Size the tree: d->nodes (0 = full), d->tiers, d->radix, d->oversub, d->placement; d0 preset
 * (rail-optimized) when nonzero. */
static int clos_size(struct topo_desc *d, unsigned d0_preset, const char *nodes_path,
		     struct topo_error *err)
{
	struct topo__clos *c = &d->clos;
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	unsigned k = d->radix, nics = t->nics, R = t->n_rails, w = t->rail_width;
	unsigned down = (unsigned)floor(k * d->oversub[0] / (d->oversub[0] + 1) + 1e-9);
	bool rail = d->placement == TOPO_P_RAIL;
	uint64_t L, n = d->nodes, verts;
	char rails[64];

	/* rail placement: a leaf holds the w NICs of each of group nodes that are on its rail */
	snprintf(rails, sizeof(rails), "node_types[%u].nics.rails", d->ntype);
	c->group = rail ? (d0_preset ? d0_preset : down / w) : 0;
	if (rail && !c->group)
		return topo__errf(err, d->path, rails, false,
				  "%u NICs of a node on one rail leaf are more than the %u down "
				  "ports of a radix-%u leaf (expected at most %u NICs per rail, or "
				  "a larger radix)",
				  w, down, k, down);
	if (rail && c->group > UINT32_MAX / 2 / w)
		c->group = UINT32_MAX / 2 / w; /* far above any radix: reported below */
	c->d0 = rail ? c->group * w : down - down % nics;
	if (c->d0 == 0)
		return topo__errf(err, d->path, "fabric.radix", false,
				  "radix %u leaves no room for the %u NICs of a node on a leaf "
				  "(expected a radix >= %u, or placement: rail)",
				  k, nics, 2 * nics);
	c->u0 = ceil_div_r(c->d0, d->oversub[0]);
	if ((uint64_t)c->d0 + c->u0 > k && rail && w > 1)
		return topo__errf(
			err, d->path, rails, false,
			"%u NICs of a node per rail make a leaf of %u nodes need %u down "
			"+ %u up ports, more than the radix %u (expected at most %u nodes "
			"per leaf%s with these rails, or one NIC per rail)",
			w, c->group, c->d0, c->u0, k, down / w, d0_preset ? " (su_nodes)" : "");
	if ((uint64_t)c->d0 + c->u0 > k)
		return topo__errf(err, d->path, d0_preset ? "fabric.su_nodes" : "fabric.radix",
				  false,
				  "a leaf needs %u down + %u up ports, more than the radix %u "
				  "(expected at most %u nodes per leaf)",
				  c->d0, c->u0, k, down);
	if (d->tiers == 3) {
		c->pod_leaves = (unsigned)floor(k * d->oversub[1] / (d->oversub[1] + 1) + 1e-9);
		c->u1 = ceil_div_r(c->pod_leaves, d->oversub[1]);
		c->aggs = c->u0;
	}
	if (!n) { /* full size */
		L = d->tiers == 2 ? k : (uint64_t)k * c->pod_leaves;
		if (rail)
			L -= L % R;
		n = rail ? L / R * c->group : L * c->d0 / nics;
		if (!n)
			return topo__errf(err, d->path, "fabric.radix", false,
					  "radix %u is too small for a full fat-tree of %u-NIC "
					  "nodes (expected a larger radix, or nodes:)",
					  k, nics);
		d->nodes = (unsigned)(n > UINT32_MAX ? UINT32_MAX : n);
	}
	L = rail ? (uint64_t)R * ((n + c->group - 1) / c->group) : (n * nics + c->d0 - 1) / c->d0;
	verts = n * (t->gpus + nics + 1) + L * 3;
	if (verts > MAX_VERTICES || n > UINT32_MAX)
		return topo__errf(err, d->path, nodes_path, false,
				  "%llu nodes expand to about %llu vertices, more than the %llu "
				  "this tool expands (expected a smaller fabric)",
				  (unsigned long long)n, (unsigned long long)verts, MAX_VERTICES);
	c->leaves = (unsigned)L;
	if (d->tiers == 2) {
		if (L > k)
			return topo__errf(err, d->path, nodes_path, false,
					  "%llu nodes need %llu leaves, but a 2-tier fat-tree of "
					  "radix %u has room for %u: more ports used than the "
					  "radix (expected tiers: 3 or a larger radix)",
					  (unsigned long long)n, (unsigned long long)L, k, k);
		c->m0 = largest_div(c->u0, L, k);
		c->spines = c->u0 / c->m0;
		return check_links(d, n, L * c->u0, nodes_path, err);
	}
	c->pods = (unsigned)((L + c->pod_leaves - 1) / c->pod_leaves);
	if (c->pods > k)
		return topo__errf(err, d->path, nodes_path, false,
				  "%llu nodes need %u pods, but a 3-tier fat-tree of radix %u has "
				  "room for %u: more ports used than the radix (expected a larger "
				  "radix)",
				  (unsigned long long)n, c->pods, k, k);
	c->m1 = largest_div(c->u1, c->pods, k);
	c->cores = c->aggs * (c->u1 / c->m1);
	return check_links(d, n, L * c->u0 + (uint64_t)c->pods * c->aggs * c->u1, nodes_path, err);
}

static int clos_classes(struct topo_desc *d, struct topo_error *err)
{
	int ret = topo__host_class(d, err);

	if (!ret && (d->tiers >= 2 && !(d->family == TOPO_F_RAIL_ONLY && d->clos.single)))
		ret = topo__need_class(d, TOPO_C_TIER1, err);
	if (!ret && d->tiers == 3)
		ret = topo__need_class(d, TOPO_C_TIER2, err);
	return ret;
}

static int tiers_param(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;

	d->tiers = f->tiers ? *f->tiers : 2;
	if (d->tiers != 2 && d->tiers != 3)
		return topo__errf(
			err, d->path, "fabric.tiers", false,
			"a fat-tree has 2 or 3 tiers, got %u (expected tiers: 2 or tiers: 3)",
			d->tiers);
	return 0;
}

/* What fat-tree and rail-optimized take first: node type, radix, tiers, oversubscription. */
static int tree_params(struct topo_desc *d, struct topo_error *err)
{
	int ret = topo__fabric_ntype(d, err);

	if (!ret)
		ret = topo__fabric_radix(d, true, err);
	if (!ret)
		ret = tiers_param(d, err);
	return ret ? ret : check_oversub(d, d->tiers, err);
}

static int fat_tree_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	int ret;

	ret = tree_params(d, err);
	if (ret)
		return ret;
	d->placement = f->placement ? (enum topo__placement) * f->placement : TOPO_P_NODE;
	d->nodes = 0;
	if (f->nodes) {
		ret = topo__at_least(d, f->nodes, 1, "fabric.nodes", "nodes: 128", err);
		if (ret)
			return ret;
		d->nodes = *f->nodes;
	}
	ret = clos_size(d, 0, f->nodes ? "fabric.nodes" : "fabric.radix", err);
	return ret ? ret : clos_classes(d, err);
}

static int rail_optimized_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	int ret;

	ret = tree_params(d, err);
	if (ret)
		return ret;
	if (!f->su_nodes || !f->sus)
		return topo__errf(err, d->path, "fabric", false,
				  "missing required field '%s' (expected su_nodes: 32 and sus: 4)",
				  f->su_nodes ? "sus" : "su_nodes");
	ret = topo__at_least(d, f->su_nodes, 1, "fabric.su_nodes", "su_nodes: 32", err);
	if (!ret)
		ret = topo__at_least(d, f->sus, 1, "fabric.sus", "sus: 4", err);
	if (ret)
		return ret;
	d->placement = TOPO_P_RAIL;
	d->su_nodes = *f->su_nodes;
	d->sus = *f->sus;
	d->nodes = d->su_nodes * d->sus;
	ret = clos_size(d, d->su_nodes, "fabric.sus", err);
	return ret ? ret : clos_classes(d, err);
}

static int rail_only_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	struct topo__clos *c = &d->clos;
	unsigned w;
	char rails[64];
	int ret;

	ret = topo__fabric_ntype(d, err);
	if (!ret)
		ret = topo__fabric_radix(d, true, err);
	if (ret)
		return ret;
	if (!f->nodes)
		return topo__errf(err, d->path, "fabric", false,
				  "missing required field 'nodes' (expected nodes: 128)");
	ret = topo__at_least(d, f->nodes, 1, "fabric.nodes", "nodes: 128", err);
	if (ret)
		return ret;
	w = d->ntypes[d->ntype].rail_width;
	d->nodes = *f->nodes;
	d->placement = TOPO_P_RAIL;
	d->tiers = 1;
	/* rail r joins the w NICs of every node that are on it: one switch when they fit */
	c->single = (uint64_t)d->nodes * w <= d->radix;
	if (c->single) {
		c->leaves = 1;
	} else {
		d->tiers = 2;
		c->group = d->radix / 2 / w; /* nodes per leaf, each with its w NICs */
		if (!c->group) {
			snprintf(rails, sizeof(rails), "node_types[%u].nics.rails", d->ntype);
			return topo__errf(err, d->path, rails, false,
					  "%u NICs of a node on one rail are more than the %u down "
					  "ports of a radix-%u leaf (expected at most %u NICs per "
					  "rail, or a larger radix)",
					  w, d->radix / 2, d->radix, d->radix / 2);
		}
		c->d0 = c->group * w;
		c->u0 = c->d0;
		c->leaves = (d->nodes + c->group - 1) / c->group;
		if (c->leaves > d->radix)
			return topo__errf(err, d->path, "fabric.nodes", false,
					  "%u nodes need %u leaves per rail, more than a radix-%u "
					  "spine can join (expected at most %u nodes)",
					  d->nodes, c->leaves, d->radix, d->radix * c->group);
		c->m0 = largest_div(c->u0, c->leaves, d->radix);
		c->spines = c->u0 / c->m0;
	}
	if ((uint64_t)d->nodes * (d->ntypes[d->ntype].gpus + d->ntypes[d->ntype].nics + 1) >
	    MAX_VERTICES)
		return topo__errf(err, d->path, "fabric.nodes", false,
				  "%u nodes are more than this tool expands (expected fewer)",
				  d->nodes);
	return clos_classes(d, err);
}

/* ---- expansion ------------------------------------------------------------------------------ */

static int add_nodes(const struct topo_desc *d, struct topo__builder *b, uint32_t *nic0)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	uint32_t nic_v[TOPO_MAX_NICS];
	char name[32];
	unsigned n;
	int ret;

	for (n = 0; n < d->nodes; n++) {
		snprintf(name, sizeof(name), "node%u", n);
		ret = topo__add_node(b, d, n, name, t, nic_v);
		if (ret)
			return ret;
		nic0[n] = nic_v[0];
	}
	return 0;
}

static int link_cls(struct topo__builder *b, uint32_t a, uint32_t c, enum topo_link_class lc,
		    const struct topo__class *k)
{
	return topo__b_link(b, a, c, lc, k->bandwidth, k->latency, k->media);
}

/* 2-tier spine layer over leaves [leaf0, leaf0 + n): spines named prefix"spine%u". */
static int add_spines(const struct topo_desc *d, struct topo__builder *b, uint32_t leaf0,
		      unsigned n, unsigned spines, unsigned m, uint16_t rail, const char *prefix)
{
	uint32_t s0 = 0;
	unsigned s, l, j;
	int ret;

	for (s = 0; s < spines; s++) {
		uint32_t v = topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 1, rail, d->switch_part,
					    "%sspine%u", prefix, s);

		if (v == UINT32_MAX)
			return -ENOMEM;
		if (s == 0)
			s0 = v;
	}
	for (l = 0; l < n; l++)
		for (s = 0; s < spines; s++)
			for (j = 0; j < m; j++) {
				ret = link_cls(b, leaf0 + l, s0 + s, TOPO_L_FABRIC,
					       &d->cls[TOPO_C_TIER1]);
				if (ret)
					return ret;
			}
	return 0;
}

static int fat_tree_expand(const struct topo_desc *d, struct topo__builder *b,
			   struct topo_error *err)
{
	const struct topo__clos *c = &d->clos;
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	bool rail = d->placement == TOPO_P_RAIL;
	uint32_t *nic0, leaf0 = 0, agg0 = 0, core0 = 0;
	unsigned n, i, l, p, j, s, x;
	int ret = -ENOMEM;

	nic0 = malloc((size_t)d->nodes * sizeof(*nic0));
	if (!nic0)
		return -ENOMEM;
	ret = add_nodes(d, b, nic0);
	if (ret)
		goto free_nic0;
	ret = -ENOMEM;
	for (l = 0; l < c->leaves; l++) {
		uint32_t v = topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 0,
					    (uint16_t)(rail ? l % t->n_rails : 0), d->switch_part,
					    "leaf%u", l);

		if (v == UINT32_MAX)
			goto free_nic0;
		if (l == 0)
			leaf0 = v;
	}
	for (n = 0; n < d->nodes; n++) {
		for (i = 0; i < t->nics; i++) {
			l = rail ? (n / c->group) * t->n_rails + t->rails[i]
				 : (unsigned)(((uint64_t)n * t->nics + i) / c->d0);
			ret = link_cls(b, nic0[n] + i, leaf0 + l, TOPO_L_HOST,
				       &d->cls[TOPO_C_HOST]);
			if (ret)
				goto free_nic0;
		}
	}
	if (d->tiers == 2) {
		ret = add_spines(d, b, leaf0, c->leaves, c->spines, c->m0, 0, "");
		goto free_nic0;
	}
	ret = -ENOMEM;
	for (p = 0; p < c->pods; p++)
		for (j = 0; j < c->aggs; j++) {
			uint32_t v = topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 1, 0,
						    d->switch_part, "agg%u", p * c->aggs + j);

			if (v == UINT32_MAX)
				goto free_nic0;
			if (p == 0 && j == 0)
				agg0 = v;
		}
	for (s = 0; s < c->cores; s++) {
		uint32_t v = topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 2, 0, d->switch_part,
					    "core%u", s);

		if (v == UINT32_MAX)
			goto free_nic0;
		if (s == 0)
			core0 = v;
	}
	for (l = 0; l < c->leaves; l++) {
		p = l / c->pod_leaves;
		for (j = 0; j < c->aggs; j++) {
			ret = link_cls(b, leaf0 + l, agg0 + p * c->aggs + j, TOPO_L_FABRIC,
				       &d->cls[TOPO_C_TIER1]);
			if (ret)
				goto free_nic0;
		}
	}
	for (p = 0; p < c->pods; p++)
		for (j = 0; j < c->aggs; j++)
			for (s = 0; s < c->u1 / c->m1; s++)
				for (x = 0; x < c->m1; x++) {
					ret = link_cls(b, agg0 + p * c->aggs + j,
						       core0 + j * (c->u1 / c->m1) + s,
						       TOPO_L_FABRIC, &d->cls[TOPO_C_TIER2]);
					if (ret)
						goto free_nic0;
				}
	ret = 0;
free_nic0:
	free(nic0);
	(void)err;
	return ret;
}

static int rail_only_expand(const struct topo_desc *d, struct topo__builder *b,
			    struct topo_error *err)
{
	const struct topo__clos *c = &d->clos;
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	uint32_t *nic0, leaf0 = 0;
	unsigned r, l, n, i;
	char prefix[32];
	int ret;

	nic0 = malloc((size_t)d->nodes * sizeof(*nic0));
	if (!nic0)
		return -ENOMEM;
	ret = add_nodes(d, b, nic0);
	for (r = 0; !ret && r < t->n_rails; r++) {
		for (l = 0; l < c->leaves; l++) {
			uint32_t v =
				c->single ? topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 0,
							   (uint16_t)r, d->switch_part, "rail%u", r)
					  : topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 0,
							   (uint16_t)r, d->switch_part,
							   "rail%u-leaf%u", r, l);

			if (v == UINT32_MAX) {
				ret = -ENOMEM;
				goto free_nic0;
			}
			if (l == 0)
				leaf0 = v;
		}
		for (n = 0; !ret && n < d->nodes; n++)
			for (i = 0; !ret && i < t->nics; i++)
				if (t->rails[i] == r)
					ret = link_cls(b, nic0[n] + i,
						       leaf0 + (c->single ? 0 : n / c->group),
						       TOPO_L_HOST, &d->cls[TOPO_C_HOST]);
		if (!ret && !c->single) {
			snprintf(prefix, sizeof(prefix), "rail%u-", r);
			ret = add_spines(d, b, leaf0, c->leaves, c->spines, c->m0, (uint16_t)r,
					 prefix);
		}
	}
free_nic0:
	free(nic0);
	(void)err;
	return ret;
}

/* ---- bisection bandwidth ------------------------------------------------------------------- */

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
		if (topo__fabric_switch(&g->vertices[k->a]))
			hosts[k->a]++;
		if (topo__fabric_switch(&g->vertices[k->b]))
			hosts[k->b]++;
	}
	for (v = 0; v < g->n_vertices; v++)
		if (topo__fabric_switch(&g->vertices[v]) && topo__tier_of(&g->vertices[v]) == 0) {
			lo = hosts[v] < lo ? hosts[v] : lo;
			hi = hosts[v] > hi ? hosts[v] : hi;
		}
	free(hosts);
	return lo != UINT32_MAX && lo != hi;
}

/* Small trees exactly; larger ones from the cumulative up/down ratio of the tiers, which caps
 * what crosses the top (a lower bound when leaves are partly filled). */
double topo__clos_bisection(const struct topo_desc *d, const struct topo_graph *g,
			    struct topo_summary *s)
{
	double host_bw, half = topo__host_half(g, &host_bw), ratio = 1;
	unsigned t;

	if (g->n_nodes <= 16) { /* small enough to solve exactly */
		double x = topo__bisection_exact(g);

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
	return half * host_bw / (ratio > 1 ? ratio : 1);
}

/* ---- the families' table entries ------------------------------------------------------------ */

const struct topo__family_ops topo__fat_tree = {.validate = fat_tree_validate,
						.expand = fat_tree_expand,
						.bisection = topo__clos_bisection};
const struct topo__family_ops topo__rail_optimized = {.validate = rail_optimized_validate,
						      .expand = fat_tree_expand,
						      .bisection = topo__clos_bisection};
const struct topo__family_ops topo__rail_only = {.validate = rail_only_validate,
						 .expand = rail_only_expand,
						 .bisection = topo__clos_bisection};
