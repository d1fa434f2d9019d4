/*
 * check.c - the checks of a topology description that libcyaml's schema cannot make, shared by
 * topo_load() and the fabric families: a rate or time with its unit, a catalog part that must
 * exist and be fast enough, the node types, the link classes, and the fabric parameters every
 * generated family takes (node type, radix, counts, the host link class).  Each check names the
 * YAML path it is about, so its error points at file:line:column.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

/* ---- single values ------------------------------------------------------------------------- */

/* A quantity with a unit: rates are > 0, times >= 0. */
static const struct quantity {
	int (*parse)(const char *s, double *out);
	const char *noun, *name, *range;
	bool zero_ok;
} rate = {topo__parse_rate, "rate", "rate", "> 0", false},
  time_ = {topo__parse_time, "time", "latency", ">= 0", true};

static int check_quantity(struct topo_desc *d, const struct quantity *q, const char *s,
			  const char *path, double *out, struct topo_error *err)
{
	char exp[320];

	topo__expected(&topo__doc, path, exp, sizeof(exp));
	if (q->parse(s, out))
		return topo__errf(err, d->path, path, false, "'%s' is not a %s with a unit%s", s,
				  q->noun, exp);
	if (q->zero_ok ? *out < 0 : !(*out > 0))
		return topo__errf(err, d->path, path, false, "%s must be %s, got '%s'%s", q->name,
				  q->range, s, exp);
	return 0;
}

int topo__check_rate(struct topo_desc *d, const char *s, const char *path, double *out,
		     struct topo_error *err)
{
	return check_quantity(d, &rate, s, path, out, err);
}

int topo__check_time(struct topo_desc *d, const char *s, const char *path, double *out,
		     struct topo_error *err)
{
	return check_quantity(d, &time_, s, path, out, err);
}

/* ---- catalog parts ------------------------------------------------------------------------- */

static const char *const part_kind_names[TOPO_PART_KIND_COUNT] = {"switch", "NIC",
								  "transceiver or cable", "GPU"};

int topo__check_part(struct topo_desc *d, enum topo__part_kind kind, const char *name,
		     const char *path, int *out, struct topo_error *err)
{
	char names[400];

	*out = -1;
	if (!name)
		return 0;
	if (!d->cat && d->cat_ret == -ENOENT)
		return topo__errf(err, d->path, path, false,
				  "unknown %s '%s': no catalog directory (looked in %.300s; "
				  "expected catalog: DIR at the top level, arplan --catalog "
				  "DIR or ARPLAN_CATALOG=DIR)",
				  part_kind_names[kind], name, d->cat_looked);
	if (!d->cat) { /* the catalog topo_load found did not load: its own error */
		*err = d->cat_err;
		return d->cat_ret;
	}
	*out = topo__catalog_find(d->cat, kind, name);
	if (*out < 0) {
		topo__catalog_names(d->cat, kind, names, sizeof(names));
		return topo__errf(err, d->path, path, false,
				  "unknown %s '%s' (expected one of: %s)", part_kind_names[kind],
				  name, names);
	}
	return 0;
}

/* How a speed error names a part, by kind. */
static const struct {
	const char *noun, *per, *other;
} part_words[TOPO_PART_KIND_COUNT] = {
	[TOPO_PART_SWITCH] = {"switch", " per port", "a faster switch"},
	[TOPO_PART_NIC] = {"NIC", "", "a faster NIC"},
	[TOPO_PART_MEDIA] = {"media", "", "faster media"},
	[TOPO_PART_GPU] = {"GPU", "", "a faster GPU"},
};

int topo__check_speed(struct topo_desc *d, double bw, enum topo__part_kind kind, int part,
		      const char *path, struct topo_error *err)
{
	struct topo_part p;
	char a[32], b[32];

	if (part < 0 || topo__catalog_part(d->cat, kind, part, &p) || !(p.speed > 0) ||
	    bw <= p.speed * 1.000001)
		return 0;
	topo__fmt_rate(bw, a, sizeof(a));
	topo__fmt_rate(p.speed, b, sizeof(b));
	return topo__errf(err, d->path, path, false,
			  "a link at %s is faster than %s %s, rated %s%s (expected a rate <= %s, "
			  "or %s)",
			  a, part_words[kind].noun, p.name, b, part_words[kind].per, b,
			  part_words[kind].other);
}

/* ---- node types ---------------------------------------------------------------------------- */

/* PCIe bandwidth per lane per direction, bytes/s, after encoding (PCI-SIG figures). */
static const double pcie_lane[] = {0, 0.25e9, 0.5e9, 0.985e9, 1.969e9, 3.938e9, 7.563e9};

/* nics.rails of node type i: one rail per NIC, numbered 0..R-1 without gaps (so R <= NICs);
 * sets rails, n_rails and rail_width. */
static int check_rails(struct topo_desc *d, unsigned i, struct topo__ntype *t,
		       struct topo_error *err)
{
	const struct ty_nics *n = d->raw->node_types[i].nics;
	unsigned on[TOPO_MAX_NICS] = {0}, j, r;
	char q[160];

	t->n_rails = 0;
	t->rail_width = 0;
	for (j = 0; j < t->nics; j++) {
		r = n && n->rails ? n->rails[j] : j;
		if (r >= t->nics) {
			snprintf(q, sizeof(q), "node_types[%u].nics.rails[%u]", i, j);
			return topo__errf(err, d->path, q, false,
					  "rail %u out of range (expected 0..%u: %u NICs make at "
					  "most %u rails, numbered from 0)",
					  r, t->nics - 1, t->nics, t->nics);
		}
		t->rails[j] = (uint16_t)r;
		if (++on[r] > t->rail_width)
			t->rail_width = on[r];
		if (r + 1 > t->n_rails)
			t->n_rails = r + 1;
	}
	for (r = 0; r < t->n_rails; r++) {
		if (on[r])
			continue;
		snprintf(q, sizeof(q), "node_types[%u].nics.rails", i);
		return topo__errf(err, d->path, q, false,
				  "no NIC on rail %u (expected rails numbered from 0 without gaps, "
				  "e.g. rails: [0, 0, 1, 1])",
				  r);
	}
	return 0;
}

static int check_node_type(struct topo_desc *d, unsigned i, struct topo_error *err)
{
	const struct ty_node_type *r = &d->raw->node_types[i];
	struct topo__ntype *t = &d->ntypes[i];
	char p[128], q[160];
	unsigned j;
	int ret;

	snprintf(p, sizeof(p), "node_types[%u]", i);
	for (j = 0; j < i; j++) {
		if (strcmp(d->ntypes[j].name, r->name) == 0) {
			snprintf(q, sizeof(q), "%s.name", p);
			return topo__errf(err, d->path, q, false,
					  "duplicate node type name '%s' (expected a unique name)",
					  r->name);
		}
	}
	t->name = r->name;
	t->gpus = r->gpus ? *r->gpus : 0;
	if (t->gpus > TOPO_MAX_GPUS) {
		snprintf(q, sizeof(q), "%s.gpus", p);
		return topo__errf(err, d->path, q, false, "%u GPUs per node is more than %d%s",
				  t->gpus, TOPO_MAX_GPUS, " (expected gpus: 0..16)");
	}
	snprintf(q, sizeof(q), "%s.gpu_model", p);
	ret = topo__check_part(d, TOPO_PART_GPU, r->gpu_model, q, &t->gpu_part, err);
	if (ret)
		return ret;
	t->nics = 1;
	t->nic_part = -1;
	if (r->nics) {
		if (r->nics->count)
			t->nics = *r->nics->count;
		snprintf(q, sizeof(q), "%s.nics.count", p);
		if (t->nics < 1 || t->nics > TOPO_MAX_NICS)
			return topo__errf(
				err, d->path, q, false,
				"NIC count must be 1..%d, got %u (expected e.g. count: 8)",
				TOPO_MAX_NICS, t->nics);
		snprintf(q, sizeof(q), "%s.nics.model", p);
		ret = topo__check_part(d, TOPO_PART_NIC, r->nics->model, q, &t->nic_part, err);
		if (ret)
			return ret;
		if (r->nics->speed) {
			snprintf(q, sizeof(q), "%s.nics.speed", p);
			ret = topo__check_rate(d, r->nics->speed, q, &t->nic_bw, err);
			if (ret)
				return ret;
		}
		if (r->nics->rails && r->nics->rails_count != t->nics) {
			snprintf(q, sizeof(q), "%s.nics.rails", p);
			return topo__errf(err, d->path, q, false,
					  "%u rails given for %u NICs (expected one rail per NIC)",
					  r->nics->rails_count, t->nics);
		}
	}
	ret = check_rails(d, i, t, err);
	if (ret)
		return ret;
	if (r->intra) {
		const struct ty_intra *in = r->intra;
		double shm = 0;

		if (in->nvlink) {
			snprintf(q, sizeof(q), "%s.intra.nvlink", p);
			ret = topo__check_rate(d, in->nvlink, q, &t->gpu_bw, err);
			if (ret)
				return ret;
			t->nvlink = true;
		}
		if (in->pcie_gen) {
			unsigned w = in->pcie_width ? *in->pcie_width : 16;

			snprintf(q, sizeof(q), "%s.intra.pcie_gen", p);
			if (*in->pcie_gen < 1 || *in->pcie_gen > 6)
				return topo__errf(err, d->path, q, false,
						  "PCIe generation %u unknown (expected 1..6)",
						  *in->pcie_gen);
			snprintf(q, sizeof(q), "%s.intra.pcie_width", p);
			if (w != 1 && w != 2 && w != 4 && w != 8 && w != 16)
				return topo__errf(
					err, d->path, q, false,
					"PCIe width x%u invalid (expected 1, 2, 4, 8 or 16)", w);
			t->pcie_bw = pcie_lane[*in->pcie_gen] * w;
		}
		if (in->shm) {
			snprintf(q, sizeof(q), "%s.intra.shm", p);
			ret = topo__check_rate(d, in->shm, q, &shm, err);
			if (ret)
				return ret;
		}
		if (in->latency) {
			snprintf(q, sizeof(q), "%s.intra.latency", p);
			ret = topo__check_time(d, in->latency, q, &t->intra_lat, err);
			if (ret)
				return ret;
		}
		if (!t->gpu_bw)
			t->gpu_bw = t->pcie_bw ? t->pcie_bw : shm;
	}
	if (!t->pcie_bw)
		t->pcie_bw = t->gpu_bw;
	if (t->gpus > 0 && !t->pcie_bw)
		t->pcie_bw = t->nic_bw;
	/* a scale-up domain (fabric.scale_up) joins the GPUs instead */
	if (t->gpus >= 2 && !t->gpu_bw && !d->raw->fabric->scale_up) {
		snprintf(q, sizeof(q), "%s", p);
		return topo__errf(err, d->path, q, false,
				  "%u GPUs need an in-node fabric (expected intra: {nvlink: "
				  "450GB/s} or intra: {pcie_gen: 5})",
				  t->gpus);
	}
	if (t->gpus > 0 && !t->pcie_bw) {
		snprintf(q, sizeof(q), "%s", p);
		return topo__errf(err, d->path, q, false,
				  "GPU to NIC bandwidth unknown (expected intra: {pcie_gen: 5} or "
				  "nics: {speed: 400Gbit})");
	}
	return 0;
}

int topo__check_node_types(struct topo_desc *d, struct topo_error *err)
{
	unsigned i;
	int ret;

	/* node types, plus an implicit last one: no GPUs, one NIC (explicit nodes without type) */
	d->n_ntypes = d->raw->node_types_count;
	d->ntypes = calloc(d->n_ntypes + 1, sizeof(*d->ntypes));
	if (!d->ntypes)
		return -ENOMEM;
	for (i = 0; i < d->n_ntypes; i++) {
		ret = check_node_type(d, i, err);
		if (ret)
			return ret;
	}
	d->ntypes[d->n_ntypes] = (struct topo__ntype){.name = "(default)",
						      .nics = 1,
						      .gpu_part = -1,
						      .nic_part = -1,
						      .n_rails = 1,
						      .rail_width = 1};
	return 0;
}

/* ---- link classes -------------------------------------------------------------------------- */

const char *const topo__class_keys[TOPO_C_COUNT] = {
	[TOPO_C_HOST] = "host",	    [TOPO_C_TIER1] = "tier1",	[TOPO_C_TIER2] = "tier2",
	[TOPO_C_LOCAL] = "local",   [TOPO_C_GLOBAL] = "global", [TOPO_C_TORUS] = "torus",
	[TOPO_C_FABRIC] = "fabric",
};

/* Where each class sits in struct ty_classes. */
static const size_t class_off[TOPO_C_COUNT] = {
	[TOPO_C_HOST] = offsetof(struct ty_classes, host),
	[TOPO_C_TIER1] = offsetof(struct ty_classes, tier1),
	[TOPO_C_TIER2] = offsetof(struct ty_classes, tier2),
	[TOPO_C_LOCAL] = offsetof(struct ty_classes, local),
	[TOPO_C_GLOBAL] = offsetof(struct ty_classes, global),
	[TOPO_C_TORUS] = offsetof(struct ty_classes, torus),
	[TOPO_C_FABRIC] = offsetof(struct ty_classes, fabric),
};

const struct ty_class *topo__class_given(const struct topo_desc *d, enum topo__cls_id id)
{
	const struct ty_classes *c = d->raw->link_classes;

	return c ? *(struct ty_class *const *)((const char *)c + class_off[id]) : NULL;
}

/* Where a class's links run when the file does not say (`reach:`): host links in the rack of a
 * top-of-rack leaf, or along the row to rail leaves; leaf-spine links in a row; links to a third
 * tier and a dragonfly's global links across rows; router links beside their router. */
static enum topo__reach default_reach(const struct topo_desc *d, enum topo__cls_id id)
{
	static const enum topo__reach by_class[TOPO_C_COUNT] = {
		[TOPO_C_HOST] = TOPO_REACH_RACK,   [TOPO_C_TIER1] = TOPO_REACH_ROW,
		[TOPO_C_TIER2] = TOPO_REACH_HALL,  [TOPO_C_LOCAL] = TOPO_REACH_RACK,
		[TOPO_C_GLOBAL] = TOPO_REACH_HALL, [TOPO_C_TORUS] = TOPO_REACH_RACK,
		[TOPO_C_FABRIC] = TOPO_REACH_ROW,
	};
	const struct ty_fabric *f = d->raw->fabric;
	bool rails = f && (f->family == TOPO_F_RAIL_OPTIMIZED || f->family == TOPO_F_RAIL_ONLY ||
			   (f->placement && *f->placement == TOPO_P_RAIL));

	return id == TOPO_C_HOST && rails ? TOPO_REACH_ROW : by_class[id];
}

/* media: auto -> the auto code of the class's reach, if the catalog has something to choose. */
static int check_auto(struct topo_desc *d, const char *path, enum topo__reach r,
		      struct topo__class *out, struct topo_error *err)
{
	char rate_s[32];

	out->media = TOPO__MEDIA_AUTO(r);
	if (!d->cat)
		return topo__check_part(d, TOPO_PART_MEDIA, "auto", path, &out->media, err);
	if (topo__media_auto_ok(d, r, out->bandwidth))
		return 0;
	topo__fmt_rate(out->bandwidth, rate_s, sizeof(rate_s));
	return topo__errf(err, d->path, path, false,
			  "media: auto finds no part in media.yaml of reach_class %s or longer "
			  "at %s (expected a part with reach_class: %s and speed >= %s, or a "
			  "media part named here)",
			  topo__reach_classes[r], rate_s, topo__reach_classes[r], rate_s);
}

static int check_class(struct topo_desc *d, const struct ty_class *c, enum topo__cls_id id,
		       const char *path, struct topo__class *out, struct topo_error *err)
{
	char q[160], exp[320];
	unsigned r;
	int ret;

	if (!c->rate) {
		snprintf(q, sizeof(q), "%s", path);
		return topo__errf(err, d->path, q, false,
				  "missing required field 'rate' (expected rate: 400Gbit)");
	}
	snprintf(q, sizeof(q), "%s.rate", path);
	ret = topo__check_rate(d, c->rate, q, &out->bandwidth, err);
	if (ret)
		return ret;
	if (c->latency) {
		snprintf(q, sizeof(q), "%s.latency", path);
		ret = topo__check_time(d, c->latency, q, &out->latency, err);
		if (ret)
			return ret;
	}
	out->reach = -1;
	if (c->reach) {
		snprintf(q, sizeof(q), "%s.reach", path);
		for (r = 0; r < TOPO_REACH_COUNT && strcmp(c->reach, topo__reach_classes[r]); r++)
			;
		if (r == TOPO_REACH_COUNT) {
			topo__expected(&topo__doc, q, exp, sizeof(exp));
			return topo__errf(err, d->path, q, false, "unknown reach '%s'%s", c->reach,
					  exp);
		}
		out->reach = (int)r;
	}
	snprintf(q, sizeof(q), "%s.media", path);
	if (c->media && strcmp(c->media, "auto") == 0) {
		ret = check_auto(
			d, q, out->reach >= 0 ? (enum topo__reach)out->reach : default_reach(d, id),
			out, err);
		if (ret)
			return ret;
		out->set = true;
		return 0;
	}
	ret = topo__check_part(d, TOPO_PART_MEDIA, c->media, q, &out->media, err);
	if (ret)
		return ret;
	snprintf(q, sizeof(q), "%s.rate", path);
	ret = topo__check_speed(d, out->bandwidth, TOPO_PART_MEDIA, out->media, q, err);
	if (ret)
		return ret;
	out->set = true;
	return 0;
}

int topo__check_classes(struct topo_desc *d, struct topo_error *err)
{
	const struct topo__class *fab = &d->cls[TOPO_C_FABRIC];
	char path[64];
	int i, ret;

	for (i = 0; i < TOPO_C_COUNT; i++) {
		d->cls[i].media = -1;
		d->cls[i].reach = -1;
		d->cls[i].from = (enum topo__cls_id)i;
	}
	for (i = TOPO_C_COUNT - 1; i >= 0; i--) { /* fabric first: the others inherit it */
		const struct ty_class *c = topo__class_given(d, (enum topo__cls_id)i);

		if (c) {
			snprintf(path, sizeof(path), "link_classes.%s", topo__class_keys[i]);
			ret = check_class(d, c, (enum topo__cls_id)i, path, &d->cls[i], err);
			if (ret)
				return ret;
		} else if (i != TOPO_C_HOST && fab->set) {
			d->cls[i] = *fab;
			/* fabric's media: auto without reach: this class's own default reach */
			if (TOPO__MEDIA_IS_AUTO(fab->media) && fab->reach < 0)
				d->cls[i].media =
					TOPO__MEDIA_AUTO(default_reach(d, (enum topo__cls_id)i));
		}
	}
	return 0;
}

/* A class the family needs: 0, or -EINVAL pointing at link_classes. */
int topo__need_class(struct topo_desc *d, enum topo__cls_id id, struct topo_error *err)
{
	if (d->cls[id].set) {
		d->cls_used |= 1u << id | 1u << d->cls[id].from;
		return 0;
	}
	return topo__errf(err, d->path, d->raw->link_classes ? "link_classes" : "", false,
			  "the %s family needs link_classes.%s%s (expected %s: {rate: 400Gbit, "
			  "latency: 1us})",
			  topo__family_names[d->family].str, topo__class_keys[id],
			  id == TOPO_C_HOST ? "" : " or link_classes.fabric", topo__class_keys[id]);
}

int topo__check_class_speeds(struct topo_desc *d, struct topo_error *err)
{
	char path[64];
	int i, ret = 0;

	for (i = 0; i < TOPO_C_FABRIC && !ret; i++) {
		if (!(d->cls_used & 1u << i))
			continue;
		snprintf(path, sizeof(path), "link_classes.%s.rate",
			 topo__class_keys[d->cls[i].from]);
		ret = topo__check_speed(d, d->cls[i].bandwidth, TOPO_PART_SWITCH, d->switch_part,
					path, err);
		if (!ret && i == TOPO_C_HOST)
			ret = topo__check_speed(d, d->cls[i].bandwidth, TOPO_PART_NIC,
						d->ntypes[d->ntype].nic_part, path, err);
	}
	return ret;
}

/* ---- the fabric parameters every generated family takes ------------------------------------ */

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
