/*
 * families.c - the fabric families: for each, a check of its parameters and its expansion into
 * the graph, in one table.  topo_expand() runs the family and then checks the graph is connected.
 *
 *   explicit       nodes, switches and links listed one by one (the lab; a measured cluster)
 *   single-switch  every NIC on one switch
 *   (the other families live in clos.c and direct.c)
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

/* ---- explicit ----------------------------------------------------------------------------- */

struct ename {
	const char *name;
	bool sw;
	unsigned idx;
};

static int ename_cmp(const void *x, const void *y)
{
	const struct ename *a = x, *b = y;

	return strcmp(a->name, b->name);
}

struct explicit_idx {
	struct ename *names;
	size_t n;
};

static const struct ename *ename_find(const struct ename *names, size_t n, const char *name)
{
	struct ename key = {.name = name};

	return bsearch(&key, names, n, sizeof(*names), ename_cmp);
}

static void ename_path(const struct ename *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s[%u].name", e->sw ? "switches" : "nodes", e->idx);
}

/* Resolve "node", "node/N" or "switch" into a name entry and a NIC index. */
static int endpoint(struct topo_desc *d, const struct ename *names, size_t n, const char *s,
		    const char *path, const struct ename **out, unsigned *nic,
		    struct topo_error *err)
{
	const char *slash = strrchr(s, '/');
	const struct ename *e;
	char *end;

	*nic = 0;
	e = ename_find(names, n, s);
	if (!e && slash && slash[1]) {
		unsigned long k =
			strtoul(slash + 1 + (strncmp(slash + 1, "nic", 3) ? 0 : 3), &end, 10);
		char *name = strndup(s, (size_t)(slash - s)); /* any length: never cut */

		if (!name)
			return -ENOMEM;
		e = ename_find(names, n, name);
		if (e && !e->sw && !*end) {
			unsigned nics = d->ntypes[d->node_ntype[e->idx]].nics;

			if (k >= nics) {
				int ret = topo__errf(err, d->path, path, false,
						     "node '%.100s' has %u NIC%s, there is no NIC "
						     "%lu (expected %.100s/0..%u)",
						     name, nics, nics == 1 ? "" : "s", k, name,
						     nics - 1);

				free(name);
				return ret;
			}
			*nic = (unsigned)k;
		} else {
			e = NULL;
		}
		free(name);
	}
	if (!e)
		return topo__errf(err, d->path, path, false,
				  "'%s' is not a node or switch (expected a name from nodes: or "
				  "switches:, or NODE/NIC such as h1/1)",
				  s);
	*out = e;
	return 0;
}

/* Explicit link i against its media and the parts at its ends (a switch's model, a NIC's speed
 * and model).  The error points at the link's rate, else at what brought the limit in. */
static int link_speeds(struct topo_desc *d, unsigned i, const struct ename *const ends[2],
		       struct topo_error *err)
{
	const struct ty_link *l = &d->raw->links[i];
	double bw = d->link_bw[i];
	char p[96], a[32], b[32];
	unsigned k;
	int ret = 0;

	if (l->rate || l->media) { /* both from a class: checked with the class */
		snprintf(p, sizeof(p), "links[%u].%s", i, l->rate ? "rate" : "media");
		ret = topo__check_speed(d, bw, TOPO_PART_MEDIA, d->link_media[i], p, err);
	}
	for (k = 0; k < 2 && !ret; k++) {
		snprintf(p, sizeof(p), "links[%u].%s", i, l->rate ? "rate" : k ? "b" : "a");
		if (ends[k]->sw) {
			const char *model = d->raw->switches[ends[k]->idx].model;

			ret = topo__check_speed(
				d, bw, TOPO_PART_SWITCH,
				model ? topo__catalog_find(d->cat, TOPO_PART_SWITCH, model) : -1, p,
				err);
		} else {
			const struct topo__ntype *t = &d->ntypes[d->node_ntype[ends[k]->idx]];

			ret = topo__check_speed(d, bw, TOPO_PART_NIC, t->nic_part, p, err);
			if (!ret && t->nic_bw > 0 && bw > t->nic_bw * 1.000001) {
				topo__fmt_rate(bw, a, sizeof(a));
				topo__fmt_rate(t->nic_bw, b, sizeof(b));
				ret = topo__errf(err, d->path, p, false,
						 "a link at %s is faster than the %s NICs of node "
						 "type %s (expected a rate <= the NIC speed)",
						 a, b, t->name);
			}
		}
	}
	return ret;
}

static int explicit_validate(struct topo_desc *d, struct topo_error *err)
{
	const struct ty_top *r = d->raw;
	struct ename *names;
	unsigned *ports = NULL, i, j;
	uint32_t *nic_used = NULL;
	size_t n = 0;
	char p[96], q[96];
	int ret = -ENOMEM;

	if (!r->nodes_count)
		return topo__errf(err, d->path, r->nodes ? "nodes" : "", false,
				  "the explicit family needs a list of nodes (expected nodes: "
				  "[{name: h1}, {name: h2}])");
	d->nodes = r->nodes_count;
	names = calloc((size_t)r->nodes_count + r->switches_count, sizeof(*names));
	d->node_ntype = calloc(r->nodes_count, sizeof(*d->node_ntype));
	d->link_bw = calloc((size_t)r->links_count + 1, sizeof(double));
	d->link_lat = calloc((size_t)r->links_count + 1, sizeof(double));
	d->link_media = calloc((size_t)r->links_count + 1, sizeof(int));
	ports = calloc((size_t)r->switches_count + 1, sizeof(*ports));
	nic_used = calloc(r->nodes_count, sizeof(*nic_used));
	if (!names || !d->node_ntype || !d->link_bw || !d->link_lat || !d->link_media || !ports ||
	    !nic_used)
		goto free_scratch;
	for (i = 0; i < r->nodes_count; i++) {
		d->node_ntype[i] = d->n_ntypes; /* the implicit type */
		if (r->nodes[i].type) {
			for (j = 0; j < d->n_ntypes; j++)
				if (strcmp(d->ntypes[j].name, r->nodes[i].type) == 0)
					break;
			if (j == d->n_ntypes) {
				snprintf(p, sizeof(p), "nodes[%u].type", i);
				ret = topo__errf(err, d->path, p, false,
						 "unknown node type '%s' (expected the name of an "
						 "entry of node_types)",
						 r->nodes[i].type);
				goto free_scratch;
			}
			d->node_ntype[i] = j;
		}
		names[n++] = (struct ename){r->nodes[i].name, false, i};
	}
	for (i = 0; i < r->switches_count; i++) {
		const struct ty_switch *s = &r->switches[i];
		int part;

		snprintf(p, sizeof(p), "switches[%u].model", i);
		ret = topo__check_part(d, TOPO_PART_SWITCH, s->model, p, &part, err);
		if (ret)
			goto free_scratch;
		if (s->radix && *s->radix < 2) {
			snprintf(p, sizeof(p), "switches[%u].radix", i);
			ret = topo__errf(err, d->path, p, false,
					 "radix must be >= 2, got %u (expected e.g. radix: 64)",
					 *s->radix);
			goto free_scratch;
		}
		if (s->tier && *s->tier >= TOPO_MAX_TIERS) {
			snprintf(p, sizeof(p), "switches[%u].tier", i);
			ret = topo__errf(err, d->path, p, false,
					 "tier %u out of range (expected 0..%d)", *s->tier,
					 TOPO_MAX_TIERS - 1);
			goto free_scratch;
		}
		names[n++] = (struct ename){s->name, true, i};
	}
	qsort(names, n, sizeof(*names), ename_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(names[i - 1].name, names[i].name) == 0) {
			unsigned l1 = 0, c1 = 0, l2 = 0, c2 = 0;
			const struct ename *later = &names[i];

			ename_path(&names[i - 1], p, sizeof(p));
			ename_path(&names[i], q, sizeof(q));
			topo__locate(d->path, p, false, &l1, &c1);
			topo__locate(d->path, q, false, &l2, &c2);
			if (l1 > l2 || (l1 == l2 && c1 > c2))
				later = &names[i - 1];
			ename_path(later, p, sizeof(p));
			ret = topo__errf(err, d->path, p, false,
					 "duplicate name '%s' (expected every node and switch name "
					 "once)",
					 later->name);
			goto free_scratch;
		}
	}
	for (i = 0; i < r->links_count; i++) {
		const struct ty_link *l = &r->links[i];
		const struct ename *ea, *eb;
		unsigned na, nb, k;
		const struct ename *ends[2];
		unsigned nics[2];
		enum topo__cls_id cid;

		snprintf(p, sizeof(p), "links[%u].a", i);
		ret = endpoint(d, names, n, l->a, p, &ea, &na, err);
		if (ret)
			goto free_scratch;
		snprintf(p, sizeof(p), "links[%u].b", i);
		ret = endpoint(d, names, n, l->b, p, &eb, &nb, err);
		if (ret)
			goto free_scratch;
		if (ea == eb && na == nb) {
			ret = topo__errf(err, d->path, p, false,
					 "a link from '%s' to itself (expected two different ends)",
					 l->b);
			goto free_scratch;
		}
		ends[0] = ea;
		ends[1] = eb;
		nics[0] = na;
		nics[1] = nb;
		for (k = 0; k < 2; k++) {
			snprintf(p, sizeof(p), "links[%u].%c", i, "ab"[k]);
			if (ends[k]->sw) {
				const struct ty_switch *s = &r->switches[ends[k]->idx];
				unsigned radix = s->radix ? *s->radix : 0;
				struct topo_part part;
				int pi = s->model ? topo__catalog_find(d->cat, TOPO_PART_SWITCH,
								       s->model)
						  : -1;

				if (!radix && pi >= 0 &&
				    topo__catalog_part(d->cat, TOPO_PART_SWITCH, pi, &part) == 0)
					radix = part.radix;
				if (radix && ++ports[ends[k]->idx] > radix) {
					ret = topo__errf(
						err, d->path, p, false,
						"switch '%s' has %u ports and this is link "
						"%u on it (expected at most radix links per "
						"switch)",
						s->name, radix, ports[ends[k]->idx]);
					goto free_scratch;
				}
			} else {
				uint32_t bit = 1u << nics[k];

				if (nic_used[ends[k]->idx] & bit) {
					ret = topo__errf(
						err, d->path, p, false,
						"NIC %s/%u already has a link (expected one "
						"link per NIC: name another NIC, e.g. %s/%u)",
						ends[k]->name, nics[k], ends[k]->name, nics[k] + 1);
					goto free_scratch;
				}
				nic_used[ends[k]->idx] |= bit;
			}
		}
		cid = ea->sw && eb->sw ? TOPO_C_FABRIC : TOPO_C_HOST;
		if (l->rate) {
			snprintf(p, sizeof(p), "links[%u].rate", i);
			ret = topo__check_rate(d, l->rate, p, &d->link_bw[i], err);
			if (ret)
				goto free_scratch;
		} else if (d->cls[cid].set) {
			d->link_bw[i] = d->cls[cid].bandwidth;
		} else {
			snprintf(p, sizeof(p), "links[%u]", i);
			ret = topo__errf(
				err, d->path, p, false,
				"missing required field 'rate' (expected rate: 100Mbit, or a "
				"default in link_classes.%s)",
				cid == TOPO_C_HOST ? "host" : "fabric");
			goto free_scratch;
		}
		d->link_lat[i] = d->cls[cid].set ? d->cls[cid].latency : 0;
		if (l->latency) {
			snprintf(p, sizeof(p), "links[%u].latency", i);
			ret = topo__check_time(d, l->latency, p, &d->link_lat[i], err);
			if (ret)
				goto free_scratch;
		}
		d->link_media[i] = d->cls[cid].set ? d->cls[cid].media : -1;
		if (l->media) {
			snprintf(p, sizeof(p), "links[%u].media", i);
			ret = topo__check_part(d, TOPO_PART_MEDIA, l->media, p, &d->link_media[i],
					       err);
			if (ret)
				goto free_scratch;
		}
		ret = link_speeds(d, i, ends, err);
		if (ret)
			goto free_scratch;
	}
	ret = 0;
free_scratch:
	free(names);
	free(ports);
	free(nic_used);
	return ret;
}

static int explicit_expand(const struct topo_desc *d, struct topo__builder *b,
			   struct topo_error *err)
{
	const struct ty_top *r = d->raw;
	uint32_t *nic0, *sw, nic_v[TOPO_MAX_NICS];
	struct ename *names;
	unsigned i;
	int ret = -ENOMEM;

	nic0 = calloc(r->nodes_count, sizeof(*nic0));
	sw = calloc((size_t)r->switches_count + 1, sizeof(*sw));
	names = calloc((size_t)r->nodes_count + r->switches_count, sizeof(*names));
	if (!nic0 || !sw || !names)
		goto free_maps;
	for (i = 0; i < r->nodes_count; i++) {
		ret = topo__add_node(b, d, i, r->nodes[i].name, &d->ntypes[d->node_ntype[i]],
				     nic_v);
		if (ret)
			goto free_maps;
		nic0[i] = nic_v[0];
		names[i] = (struct ename){r->nodes[i].name, false, i};
	}
	for (i = 0; i < r->switches_count; i++) {
		const struct ty_switch *s = &r->switches[i];
		int part = s->model ? topo__catalog_find(d->cat, TOPO_PART_SWITCH, s->model) : -1;

		ret = -ENOMEM;
		sw[i] = topo__b_vertex(b, TOPO_V_SWITCH, UINT32_MAX,
				       (uint16_t)(s->tier ? *s->tier : 0), 0, part, "%s", s->name);
		if (sw[i] == UINT32_MAX)
			goto free_maps;
		names[r->nodes_count + i] = (struct ename){s->name, true, i};
	}
	qsort(names, (size_t)r->nodes_count + r->switches_count, sizeof(*names), ename_cmp);
	for (i = 0; i < r->links_count; i++) {
		const struct ename *ea, *eb;
		unsigned na, nb;
		uint32_t va, vb;

		/* validated already: cannot fail */
		endpoint((struct topo_desc *)d, names, (size_t)r->nodes_count + r->switches_count,
			 r->links[i].a, "", &ea, &na, err);
		endpoint((struct topo_desc *)d, names, (size_t)r->nodes_count + r->switches_count,
			 r->links[i].b, "", &eb, &nb, err);
		va = ea->sw ? sw[ea->idx] : nic0[ea->idx] + na;
		vb = eb->sw ? sw[eb->idx] : nic0[eb->idx] + nb;
		ret = topo__b_link(b, va, vb, ea->sw && eb->sw ? TOPO_L_FABRIC : TOPO_L_HOST,
				   d->link_bw[i], d->link_lat[i], d->link_media[i]);
		if (ret)
			goto free_maps;
	}
	ret = 0;
free_maps:
	free(nic0);
	free(sw);
	free(names);
	return ret;
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
	[TOPO_F_EXPLICIT] = {"explicit", explicit_validate, explicit_expand},
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
