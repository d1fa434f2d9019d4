/*
 * families.c - the fabric families: for each, a check of its parameters and its expansion into
 * the graph, in one table.  topo_expand() runs the family and then checks the graph is connected.
 *
 *   single-switch  every NIC on one switch
 *   (explicit lives in explicit.c, the others in clos.c and direct.c)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

/* ---- shared parameter checks --------------------------------------------------------------- */

/* fabric.node_type -> d->ntype (required for generated families). */
int topo__fabric_ntype(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	unsigned i;

	if (!f->node_type)
		return topo__errf(err, d->path, "fabric", false,
				  "missing required field 'node_type' (expected the name of an "
				  "entry of node_types)");
	for (i = 0; i < d->n_ntypes; i++) {
		if (strcmp(d->ntypes[i].name, f->node_type) == 0) {
			d->ntype = i;
			return 0;
		}
	}
	return topo__errf(err, d->path, "fabric.node_type", false,
			  "unknown node type '%s' (expected the name of an entry of node_types)",
			  f->node_type);
}

/* fabric.switch and fabric.radix -> d->radix, d->switch_part.  need: radix required. */
int topo__fabric_radix(struct topo_desc *d, bool need, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	struct topo_part p;
	int ret;

	ret = topo__check_part(d, TOPO_PART_SWITCH, f->switch_model, "fabric.switch",
			       &d->switch_part, err);
	if (ret)
		return ret;
	if (f->radix) {
		d->radix = *f->radix;
		if (d->radix < 2)
			return topo__errf(err, d->path, "fabric.radix", false,
					  "radix must be >= 2, got %u (expected e.g. radix: 64)",
					  d->radix);
		if (d->switch_part >= 0 &&
		    topo__catalog_part(d->cat, TOPO_PART_SWITCH, d->switch_part, &p) == 0 &&
		    d->radix > p.radix)
			return topo__errf(err, d->path, "fabric.radix", false,
					  "radix %u is more than the %u ports of switch %s "
					  "(expected radix <= %u)",
					  d->radix, p.radix, p.name, p.radix);
	} else if (d->switch_part >= 0) {
		topo__catalog_part(d->cat, TOPO_PART_SWITCH, d->switch_part, &p);
		d->radix = p.radix;
	} else if (need) {
		return topo__errf(err, d->path, "fabric", false,
				  "missing required field 'radix' (expected radix: 64 or switch: "
				  "a catalog model)");
	}
	return 0;
}

/* Checks that a value is >= min; path names it. */
int topo__at_least(struct topo_desc *d, const unsigned *v, unsigned min, const char *path,
		   const char *example, struct topo_error *err)
{
	if (*v < min)
		return topo__errf(err, d->path, path, false, "must be >= %u, got %u (expected %s)",
				  min, *v, example);
	return 0;
}

/* The host link class, and a host rate not above the NIC speed. */
int topo__host_class(struct topo_desc *d, struct topo_error *err)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	char a[32], b[32];
	int ret = topo__need_class(d, TOPO_C_HOST, err);

	if (ret)
		return ret;
	if (t->nic_bw > 0 && d->cls[TOPO_C_HOST].bandwidth > t->nic_bw * 1.000001) {
		topo__fmt_rate(d->cls[TOPO_C_HOST].bandwidth, a, sizeof(a));
		topo__fmt_rate(t->nic_bw, b, sizeof(b));
		return topo__errf(err, d->path, "link_classes.host.rate", false,
				  "host links at %s are faster than the %s NICs of node type %s "
				  "(expected a rate <= the NIC speed)",
				  a, b, t->name);
	}
	return 0;
}

/* ---- single-switch ------------------------------------------------------------------------ */

static int single_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	int ret;

	ret = topo__fabric_ntype(d, err);
	if (ret)
		return ret;
	if (!f->nodes)
		return topo__errf(err, d->path, "fabric", false,
				  "missing required field 'nodes' (expected nodes: 8)");
	ret = topo__at_least(d, f->nodes, 1, "fabric.nodes", "nodes: 8", err);
	if (ret)
		return ret;
	d->nodes = *f->nodes;
	ret = topo__fabric_radix(d, false, err);
	if (ret)
		return ret;
	if (d->radix && (uint64_t)d->nodes * d->ntypes[d->ntype].nics > d->radix)
		return topo__errf(err, d->path, "fabric.nodes", false,
				  "%u nodes x %u NICs need %llu ports, more than the radix %u "
				  "(expected at most %u nodes, or a fat-tree)",
				  d->nodes, d->ntypes[d->ntype].nics,
				  (unsigned long long)d->nodes * d->ntypes[d->ntype].nics, d->radix,
				  d->radix / d->ntypes[d->ntype].nics);
	return topo__host_class(d, err);
}

static int single_expand(const struct topo_desc *d, struct topo__builder *b, struct topo_error *err)
{
	const struct topo__ntype *t = &d->ntypes[d->ntype];
	const struct topo__class *c = &d->cls[TOPO_C_HOST];
	uint32_t nic_v[TOPO_MAX_NICS], sw;
	unsigned n, i;
	int ret;

	sw = topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX, 0, 0, d->switch_part, "switch");
	if (sw == UINT32_MAX)
		return -ENOMEM;
	for (n = 0; n < d->nodes; n++) {
		char name[32];

		snprintf(name, sizeof(name), "node%u", n);
		ret = topo__add_node(b, d, n, name, t, nic_v);
		if (ret)
			return ret;
		for (i = 0; i < t->nics; i++) {
			ret = topo__b_link(b, nic_v[i], sw, TOPO_L_HOST, c->bandwidth, c->latency,
					   c->media);
			if (ret)
				return ret;
		}
	}
	(void)err;
	return 0;
}

/* ---- which fabric parameters each family takes ------------------------------------------------
 */

enum {
	P_NODE_TYPE = 1 << 0,
	P_NODES = 1 << 1,
	P_TIERS = 1 << 2,
	P_RADIX = 1 << 3,
	P_SWITCH = 1 << 4,
	P_OVERSUB = 1 << 5,
	P_PLACEMENT = 1 << 6,
	P_SU = 1 << 7,
	P_DIMS = 1 << 8,
	P_DRAGONFLY = 1 << 9,
	P_PER_ROUTER = 1 << 10,
};

static const unsigned family_params[TOPO_F_COUNT] = {
	[TOPO_F_EXPLICIT] = 0,
	[TOPO_F_SINGLE_SWITCH] = P_NODE_TYPE | P_NODES | P_RADIX | P_SWITCH,
	[TOPO_F_FAT_TREE] =
		P_NODE_TYPE | P_NODES | P_TIERS | P_RADIX | P_SWITCH | P_OVERSUB | P_PLACEMENT,
	[TOPO_F_RAIL_OPTIMIZED] = P_NODE_TYPE | P_SU | P_TIERS | P_RADIX | P_SWITCH | P_OVERSUB,
	[TOPO_F_RAIL_ONLY] = P_NODE_TYPE | P_NODES | P_RADIX | P_SWITCH,
	[TOPO_F_TORUS] = P_NODE_TYPE | P_DIMS | P_PER_ROUTER | P_RADIX | P_SWITCH,
	[TOPO_F_DRAGONFLY] = P_NODE_TYPE | P_DRAGONFLY | P_PER_ROUTER | P_RADIX | P_SWITCH,
};

#define C(id) (1u << (id))

/* The link classes each family takes (a class it does not take is an error, not ignored). */
static const unsigned family_classes[TOPO_F_COUNT] = {
	[TOPO_F_EXPLICIT] = C(TOPO_C_HOST) | C(TOPO_C_FABRIC),
	[TOPO_F_SINGLE_SWITCH] = C(TOPO_C_HOST),
	[TOPO_F_FAT_TREE] = C(TOPO_C_HOST) | C(TOPO_C_FABRIC) | C(TOPO_C_TIER1) | C(TOPO_C_TIER2),
	[TOPO_F_RAIL_OPTIMIZED] =
		C(TOPO_C_HOST) | C(TOPO_C_FABRIC) | C(TOPO_C_TIER1) | C(TOPO_C_TIER2),
	[TOPO_F_RAIL_ONLY] = C(TOPO_C_HOST) | C(TOPO_C_FABRIC) | C(TOPO_C_TIER1),
	[TOPO_F_TORUS] = C(TOPO_C_HOST) | C(TOPO_C_FABRIC) | C(TOPO_C_TORUS),
	[TOPO_F_DRAGONFLY] = C(TOPO_C_HOST) | C(TOPO_C_FABRIC) | C(TOPO_C_LOCAL) | C(TOPO_C_GLOBAL),
};

/* What the links of each class are, for messages. */
static const char *const class_links[TOPO_C_COUNT] = {
	[TOPO_C_HOST] = "NIC-switch links",
	[TOPO_C_TIER1] = "tier 0-1 (leaf-spine) links",
	[TOPO_C_TIER2] = "tier 1-2 links",
	[TOPO_C_LOCAL] = "router links inside a group",
	[TOPO_C_GLOBAL] = "links between groups",
	[TOPO_C_TORUS] = "router-to-router links",
	[TOPO_C_FABRIC] = "switch links without a class of their own",
};

/* The keys of the classes in mask, as "host, tier1". */
static void class_list(unsigned mask, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < TOPO_C_COUNT && n < len; i++)
		if (mask & C(i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      topo__class_keys[i]);
}

int topo__check_classes_used(struct topo_desc *d, struct topo_error *err)
{
	char path[64], list[128];
	int i;

	if (d->family == TOPO_F_EXPLICIT)
		return 0;
	for (i = 0; i < TOPO_C_COUNT; i++) {
		if (!topo__class_given(d, (enum topo__cls_id)i) || (d->cls_used & C(i)))
			continue;
		snprintf(path, sizeof(path), "link_classes.%s", topo__class_keys[i]);
		class_list(d->cls_used, list, sizeof(list));
		return topo__errf(err, d->path, path, true,
				  "not used: this %s has no %s (expected only the classes it has "
				  "links of: %s)",
				  topo__families[d->family].name, class_links[i], list);
	}
	return 0;
}

/* A parameter given to a family that does not take it is an error, not silently ignored. */
int topo__check_params(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_fabric *f = d->raw->fabric;
	const struct ty_top *r = d->raw;
	const struct {
		const char *key;
		unsigned bit;
		bool given;
	} params[] = {
		{"node_type", P_NODE_TYPE, f->node_type},
		{"nodes", P_NODES, f->nodes},
		{"tiers", P_TIERS, f->tiers},
		{"radix", P_RADIX, f->radix},
		{"switch", P_SWITCH, f->switch_model},
		{"oversubscription", P_OVERSUB, f->oversub},
		{"placement", P_PLACEMENT, f->placement},
		{"su_nodes", P_SU, f->su_nodes},
		{"sus", P_SU, f->sus},
		{"dims", P_DIMS, f->dims},
		{"groups", P_DRAGONFLY, f->groups},
		{"routers_per_group", P_DRAGONFLY, f->routers_per_group},
		{"global_links_per_router", P_DRAGONFLY, f->global_links_per_router},
		{"nodes_per_router", P_PER_ROUTER, f->nodes_per_router},
	};
	unsigned allowed = family_params[d->family];
	char path[64], list[400] = "family";
	size_t i, n = strlen(list);

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (allowed & params[i].bit)
			n += (size_t)snprintf(list + n, sizeof(list) - n, ", %s", params[i].key);
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		if (params[i].given && !(allowed & params[i].bit)) {
			snprintf(path, sizeof(path), "fabric.%s", params[i].key);
			return topo__errf(err, d->path, path, true,
					  "the %s family does not take '%s' (expected one of: %s)",
					  topo__families[d->family].name, params[i].key, list);
		}
	}
	for (i = 0; i < TOPO_C_COUNT; i++) {
		if (!topo__class_given(d, (enum topo__cls_id)i) ||
		    (family_classes[d->family] & C(i)))
			continue;
		snprintf(path, sizeof(path), "link_classes.%s", topo__class_keys[i]);
		class_list(family_classes[d->family], list, sizeof(list));
		return topo__errf(err, d->path, path, true,
				  "not a link class of the %s family (expected the link classes it "
				  "takes: %s)",
				  topo__families[d->family].name, list);
	}
	if (d->family != TOPO_F_EXPLICIT && (r->nodes || r->switches || r->links))
		return topo__errf(
			err, d->path,
			r->nodes      ? "nodes"
			: r->switches ? "switches"
				      : "links",
			true,
			"only the explicit family lists nodes, switches and links (expected "
			"fabric parameters for %s, see configs/README.md)",
			topo__families[d->family].name);
	return 0;
}

/* ---- the table ---------------------------------------------------------------------------- */

const struct topo__family_ops topo__families[TOPO_F_COUNT] = {
	[TOPO_F_EXPLICIT] = {"explicit", topo__explicit_validate, topo__explicit_expand},
	[TOPO_F_SINGLE_SWITCH] = {"single-switch", single_validate, single_expand},
	[TOPO_F_FAT_TREE] = {"fat-tree", topo__fat_tree_validate, topo__fat_tree_expand},
	[TOPO_F_RAIL_OPTIMIZED] = {"rail-optimized", topo__rail_optimized_validate,
				   topo__fat_tree_expand},
	[TOPO_F_RAIL_ONLY] = {"rail-only", topo__rail_only_validate, topo__rail_only_expand},
	[TOPO_F_TORUS] = {"torus", topo__torus_validate, topo__torus_expand},
	[TOPO_F_DRAGONFLY] = {"dragonfly", topo__dragonfly_validate, topo__dragonfly_expand},
};

/* ---- topo_expand ---------------------------------------------------------------------------- */

int topo_expand(const struct topo_desc *d, struct topo_graph **out, struct topo_error *err)
{
	struct topo__builder b;
	struct topo_graph *g;
	uint32_t v;
	int ret;

	*out = NULL;
	ret = topo__b_init(&b, 1024, 2048);
	if (ret)
		return ret;
	ret = topo__families[d->family].expand(d, &b, err);
	if (ret) {
		topo__b_abort(&b);
		return ret;
	}
	ret = topo__b_finish(&b, &g);
	if (ret)
		return ret;
	v = topo__unreachable(g);
	if (v == UINT32_MAX - 1) {
		topo_graph_free(g);
		return -ENOMEM;
	}
	if (v != UINT32_MAX) {
		const struct topo_vertex *x = &g->vertices[v];
		char path[64];

		if (d->family == TOPO_F_EXPLICIT && x->node != UINT32_MAX)
			snprintf(path, sizeof(path), "nodes[%u].name", x->node);
		else if (d->family == TOPO_F_EXPLICIT)
			snprintf(path, sizeof(path), "switches[%u].name",
				 (unsigned)(v - (g->n_vertices - d->raw->switches_count)));
		else
			snprintf(path, sizeof(path), "fabric");
		ret = topo__errf(err, d->path, path, false,
				 "'%s' cannot reach '%s': the graph is disconnected (expected "
				 "links joining every node and switch)",
				 topo_vertex_name(g, v), topo_vertex_name(g, 0));
		topo_graph_free(g);
		return ret;
	}
	*out = g;
	return 0;
}
