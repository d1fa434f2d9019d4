/*
 * families.c - the fabric families in one table: for each, the fabric parameters and link
 * classes it takes, the check of its parameters, its expansion into the graph and its own
 * rule for the bisection bandwidth (and the diameter, where it has a closed form).  Here also
 * the single-switch family, the checks that a description gives no parameter or link class its
 * family does not take, and topo_expand(), which runs the family and then checks the graph is
 * connected.
 *
 *   explicit       nodes, switches and links listed one by one (explicit.c)
 *   single-switch  every NIC on one switch (below)
 *   fat-tree, rail-optimized, rail-only   switched Clos trees (clos.c)
 *   torus, dragonfly                      a router per position (direct.c)
 *
 * The Clos families also take fabric.scale_up: NVLink domains of several nodes (scaleup.c).
 *
 * The families' names are the words of the `family:` key, in schema.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

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

/* ---- the table ---------------------------------------------------------------------------- */

/* The fabric parameters a family takes (one bit may cover several keys). */
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
	P_SCALE_UP = 1 << 11,
};

#define C(id) (1u << (id))

static const struct topo__family_ops single_switch = {
	.validate = single_validate, .expand = single_expand, .bisection = topo__clos_bisection};

const struct topo__family_ops *const topo__families[TOPO_F_COUNT] = {
	[TOPO_F_EXPLICIT] = &topo__explicit,   [TOPO_F_SINGLE_SWITCH] = &single_switch,
	[TOPO_F_FAT_TREE] = &topo__fat_tree,   [TOPO_F_RAIL_OPTIMIZED] = &topo__rail_optimized,
	[TOPO_F_RAIL_ONLY] = &topo__rail_only, [TOPO_F_TORUS] = &topo__torus,
	[TOPO_F_DRAGONFLY] = &topo__dragonfly,
};

/* The fabric parameters each family takes (a parameter it does not take is an error). */
static const unsigned family_params[TOPO_F_COUNT] = {
	[TOPO_F_EXPLICIT] = 0,
	[TOPO_F_SINGLE_SWITCH] = P_NODE_TYPE | P_NODES | P_RADIX | P_SWITCH,
	[TOPO_F_FAT_TREE] = P_NODE_TYPE | P_NODES | P_TIERS | P_RADIX | P_SWITCH | P_OVERSUB |
			    P_PLACEMENT | P_SCALE_UP,
	[TOPO_F_RAIL_OPTIMIZED] =
		P_NODE_TYPE | P_SU | P_TIERS | P_RADIX | P_SWITCH | P_OVERSUB | P_SCALE_UP,
	[TOPO_F_RAIL_ONLY] = P_NODE_TYPE | P_NODES | P_RADIX | P_SWITCH | P_SCALE_UP,
	[TOPO_F_TORUS] = P_NODE_TYPE | P_DIMS | P_PER_ROUTER | P_RADIX | P_SWITCH,
	[TOPO_F_DRAGONFLY] = P_NODE_TYPE | P_DRAGONFLY | P_PER_ROUTER | P_RADIX | P_SWITCH,
};

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

/* ---- parameters and link classes a family does not take ---------------------------------------
 */

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

	for (i = 0; i < TOPO_C_COUNT; i++) {
		if (!topo__class_given(d, (enum topo__cls_id)i) || (d->cls_used & C(i)))
			continue;
		snprintf(path, sizeof(path), "link_classes.%s", topo__class_keys[i]);
		class_list(d->cls_used, list, sizeof(list));
		return topo__errf(err, d->path, path, true,
				  "not used: this %s has no %s (expected only the classes it has "
				  "links of: %s)",
				  topo__family_names[d->family].str, class_links[i], list);
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
		{"scale_up", P_SCALE_UP, f->scale_up},
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
					  topo__family_names[d->family].str, params[i].key, list);
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
				  topo__family_names[d->family].str, list);
	}
	if (!topo__families[d->family]->listed && (r->nodes || r->switches || r->links))
		return topo__errf(
			err, d->path,
			r->nodes      ? "nodes"
			: r->switches ? "switches"
				      : "links",
			true,
			"only the explicit family lists nodes, switches and links (expected "
			"fabric parameters for %s, see configs/README.md)",
			topo__family_names[d->family].str);
	return 0;
}

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
	ret = topo__families[d->family]->expand(d, &b, err);
	if (ret) {
		topo__b_abort(&b);
		return ret;
	}
	ret = topo__b_finish(&b, &g);
	if (ret)
		return ret;
	g->domain_nodes = d->su.domain_nodes;
	v = topo__unreachable(g);
	if (v == UINT32_MAX - 1) {
		topo_graph_free(g);
		return -ENOMEM;
	}
	if (v != UINT32_MAX) {
		char path[64] = "fabric";

		if (topo__families[d->family]->where)
			topo__families[d->family]->where(d, g, v, path, sizeof(path));
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
