/*
 * explicit.c - the explicit fabric family: nodes, switches and links listed one by one (the
 * lab; a measured cluster).  Checks every name, endpoint ("node", "node/NIC" or a switch), port
 * count and link rate against the parts at its ends, expands the list as written, and finds the
 * bisection bandwidth of small graphs exactly (bisect.c).  Link classes here are defaults for
 * links that give no rate, latency or media of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

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

/* The YAML path that names vertex v of the expanded graph: its node, else its switch. */
static void explicit_where(const struct topo_desc *d, const struct topo_graph *g, uint32_t v,
			   char *path, size_t len)
{
	const struct topo_vertex *x = &g->vertices[v];

	if (x->node != UINT32_MAX)
		snprintf(path, len, "nodes[%u].name", x->node);
	else
		snprintf(path, len, "switches[%u].name",
			 (unsigned)(v - (g->n_vertices - d->raw->switches_count)));
}

/* Exact by max-flow: -1 (not computed) past 16 nodes or 64 switches. */
static double explicit_bisection(const struct topo_desc *d, const struct topo_graph *g,
				 struct topo_summary *s)
{
	return topo__bisection_exact(g);
}

/* The families' table entry: nodes, switches and links are listed. */
const struct topo__family_ops topo__explicit = {.listed = true,
						.validate = explicit_validate,
						.expand = explicit_expand,
						.bisection = explicit_bisection,
						.where = explicit_where};
