/*
 * internal.h - private to topo/: the C structs libcyaml loads a topology YAML file into, the
 * validated description built from them, the graph builder the fabric families expand with, the
 * families' table, and the error helpers that point at a YAML path (e.g. "links[3].rate") by
 * line and column.
 *
 * Who calls whom (no file calls back up):  load.c -> families.c -> explicit.c, clos.c, direct.c
 * (load.c -> scaleup.c) -> check.c -> media.c -> catalog.c -> yamlerr.c -> locate.c; load.c ->
 * catalog_dir.c -> catalog.c; summary.c -> families.c, media.c; bom.c -> media.c; every file
 * may use the data of schema.c and the helpers of units.c, graph.c, bisect.c, strict.c.
 */
#ifndef ARBENCH_TOPO_INTERNAL_H
#define ARBENCH_TOPO_INTERNAL_H

#include <cyaml/cyaml.h>
#include <stdarg.h>

#include "topo/topo.h"

/* ---- raw YAML structs (what libcyaml fills) ------------------------------------------------ */

struct ty_class { /* a link class: rate, latency, media (catalog part or auto), reach */
	char *rate;
	char *latency;
	char *media;
	char *reach;
};

struct ty_nics {
	unsigned *count;
	char *speed;
	unsigned *rails;
	unsigned rails_count;
	char *model;
};

struct ty_intra {
	char *nvlink; /* per GPU, each direction, through the in-node switch */
	unsigned *pcie_gen;
	unsigned *pcie_width;
	char *shm; /* host shared memory bandwidth (GPU-less nodes, or no NVLink) */
	char *latency;
};

struct ty_node_type {
	char *name;
	unsigned *gpus;
	char *gpu_model;
	struct ty_intra *intra;
	struct ty_nics *nics;
};

struct ty_scale_up { /* fabric.scale_up: NVLink domains of several nodes (GB200 NVL72) */
	unsigned *domain_nodes;
	char *nvlink; /* per GPU, each direction, into the domain's NVLink switches */
	char *nvlink_switch;
	unsigned *switch_trays;
	char *latency;
};

struct ty_fabric {
	int family;
	char *node_type;
	unsigned *nodes;
	unsigned *tiers;
	unsigned *radix;
	char *switch_model;
	double *oversub;
	unsigned oversub_count;
	int *placement;
	unsigned *su_nodes;
	unsigned *sus;
	unsigned *dims;
	unsigned dims_count;
	unsigned *groups;
	unsigned *routers_per_group;
	unsigned *global_links_per_router;
	unsigned *nodes_per_router;
	struct ty_scale_up *scale_up;
};

struct ty_classes {
	struct ty_class *host, *fabric, *tier1, *tier2, *local, *global, *torus;
};

struct ty_node {
	char *name;
	char *type;
};

struct ty_switch {
	char *name;
	unsigned *tier;
	unsigned *radix;
	char *model;
};

struct ty_link {
	char *a, *b;
	char *rate;
	char *latency;
	char *media;
};

struct ty_top {
	char *name;
	char *description;
	char *catalog;
	struct ty_node_type *node_types;
	unsigned node_types_count;
	struct ty_fabric *fabric;
	struct ty_classes *link_classes;
	struct ty_node *nodes;
	unsigned nodes_count;
	struct ty_switch *switches;
	unsigned switches_count;
	struct ty_link *links;
	unsigned links_count;
};

/* ---- the validated description ------------------------------------------------------------- */

enum topo__family {
	TOPO_F_EXPLICIT,
	TOPO_F_SINGLE_SWITCH,
	TOPO_F_FAT_TREE,
	TOPO_F_RAIL_OPTIMIZED,
	TOPO_F_RAIL_ONLY,
	TOPO_F_TORUS,
	TOPO_F_DRAGONFLY,
	TOPO_F_COUNT
};

enum topo__placement { TOPO_P_NODE, TOPO_P_RAIL };

enum topo__cls_id {
	TOPO_C_HOST,
	TOPO_C_TIER1,
	TOPO_C_TIER2,
	TOPO_C_LOCAL,
	TOPO_C_GLOBAL,
	TOPO_C_TORUS,
	TOPO_C_FABRIC, /* link_classes.fabric: stands in for the switch link classes not given */
	TOPO_C_COUNT
};

/* The link_classes key of each class ("host", "tier1", ..., "fabric"). */
extern const char *const topo__class_keys[TOPO_C_COUNT];

struct topo__class {	  /* a resolved link class */
	double bandwidth; /* bytes/s */
	double latency;	  /* s */
	int media;	  /* catalog index into media parts, -1 if none, TOPO__MEDIA_AUTO(reach) */
	int reach;	  /* enum topo__reach given in the file, -1 when not given */
	bool set;
	enum topo__cls_id from; /* the link_classes key it was given under (itself or fabric) */
};

struct topo__ntype { /* a resolved node type */
	const char *name;
	unsigned gpus;
	int gpu_part; /* catalog index, -1 */
	unsigned nics;
	double nic_bw;		       /* bytes/s, 0 when not given */
	int nic_part;		       /* catalog index, -1 */
	uint16_t rails[TOPO_MAX_NICS]; /* rail of each NIC: 0..n_rails-1, every rail used */
	unsigned n_rails;	       /* rails of a node (= nics by default) */
	unsigned rail_width;	       /* the most NICs of a node on one rail (1 by default) */
	double gpu_bw;		       /* GPU <-> in-node switch (NVLink or PCIe), bytes/s */
	double pcie_bw;		       /* GPU <-> NIC, bytes/s */
	double intra_lat;	       /* s */
	bool nvlink;
};

/* torus dimensions: more than 32 of size >= 2 would pass 2^32 routers */
#define TOPO__MAX_DIMS 32

struct topo__catalog;

struct topo_desc {
	char path[512];
	char catalog_opt[512]; /* topo_load_catalog()'s directory, "" for none */
	struct ty_top *raw;
	enum topo__family family;
	/* the catalog topo_load() found and loaded; NULL when it found none (cat_ret -ENOENT,
	 * cat_looked says where it looked) or it did not load (cat_ret, cat_err): a description
	 * that names no part needs none, one that does fails at the first part it names */
	struct topo__catalog *cat;
	int cat_ret;
	struct topo_error cat_err;
	char cat_looked[700];
	unsigned n_ntypes;
	struct topo__ntype *ntypes;
	/* generated families */
	unsigned ntype; /* node type of every node */
	unsigned nodes; /* 0 = as many as the radix allows (fat-tree) */
	unsigned tiers;
	unsigned radix;
	int switch_part; /* catalog index, -1 */
	double oversub[3];
	enum topo__placement placement;
	unsigned su_nodes, sus;
	unsigned dims[TOPO__MAX_DIMS], n_dims;
	unsigned groups, routers, globals, per_router;
	struct topo__class cls[TOPO_C_COUNT];
	unsigned cls_used;	     /* bit per topo__cls_id: a class the fabric has links of */
	struct topo__clos {	     /* fat-tree, rail-optimized, rail-only (per rail) sizing */
		unsigned d0, u0;     /* leaf down (host) and up ports */
		unsigned leaves;     /* in all (rail-only: per rail) */
		unsigned m0, spines; /* 2 tiers: parallel links per leaf-spine pair, spines */
		unsigned pod_leaves, aggs, u1, pods, m1, cores; /* 3 tiers */
		unsigned group; /* rail placement, rail-only in 2 tiers: nodes per leaf */
		bool single;	/* rail-only: one switch per rail */
	} clos;
	struct topo__scale_up {	       /* fabric.scale_up (scaleup.c); domain_nodes 0: none */
		unsigned domain_nodes; /* compute nodes per NVLink domain */
		unsigned switch_trays; /* NVLink switch trays per domain */
		int part;	       /* the trays' catalog part (switches), -1 */
		double nvlink;	       /* per GPU, each direction, bytes/s */
		double latency;	       /* s */
	} su;
	/* explicit */
	unsigned *node_ntype; /* [nodes_count] index into ntypes */
	int *link_media;      /* [links_count] */
	double *link_bw, *link_lat;
};

/* ---- catalog ------------------------------------------------------------------------------- */

enum topo__part_kind {
	TOPO_PART_SWITCH,
	TOPO_PART_NIC,
	TOPO_PART_MEDIA,
	TOPO_PART_GPU,
	TOPO_PART_KIND_COUNT
};

/* Where a link runs, from short to long: in a rack, in a row, across rows (catalog.c). */
enum topo__reach { TOPO_REACH_RACK, TOPO_REACH_ROW, TOPO_REACH_HALL, TOPO_REACH_COUNT };
extern const char *const topo__reach_classes[TOPO_REACH_COUNT];

/* A link's media code (topo__builder.lmedia, topo__class.media): a catalog index >= 0, -1 for
 * none, or "auto": the bill of materials picks the cheapest part of that reach class (media.c). */
#define TOPO__MEDIA_AUTO(reach)	  (-2 - (int)(reach))
#define TOPO__MEDIA_IS_AUTO(m)	  ((m) <= -2)
#define TOPO__MEDIA_AUTO_REACH(m) ((enum topo__reach)(-2 - (m)))

/* ---- the YAML language (schema.c) and its errors (yamlerr.c, locate.c) --------------------- */

/* The words of fabric.family, indexed by enum topo__family: the families' names. */
extern const cyaml_strval_t topo__family_names[TOPO_F_COUNT];
/* A topology file: its schema and what each key expects. */
extern const cyaml_schema_value_t topo__top_schema;
extern const struct topo_yaml_doc topo__doc;
/* What each key of a topology file expects (catalog files share it). */
extern const struct topo_yaml_form topo__forms[];

/* Fill *err for desc file at YAML path (e.g. "fabric.radix", "links[2].b"; "" = document);
 * key=true points at the key rather than the value.  Always returns -EINVAL. */
int topo__errf(struct topo_error *err, const char *file, const char *path, bool key,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Find a YAML path's position: 0, or -ENOENT when the path is not in the file. */
int topo__locate(const char *file, const char *path, bool key, unsigned *line, unsigned *col);
/* " (expected FORM)" for the value at path: the doc's form of its key, the words of an enum,
 * what the whole document should be (path ""), else "another value". */
void topo__expected(const struct topo_yaml_doc *doc, const char *path, char *buf, size_t len);

/* ---- checks (check.c) ---------------------------------------------------------------------- */

/* Checked conversions of one YAML value at path; 0 or -EINVAL with *err. */
int topo__check_rate(struct topo_desc *d, const char *s, const char *path, double *out,
		     struct topo_error *err);
int topo__check_time(struct topo_desc *d, const char *s, const char *path, double *out,
		     struct topo_error *err);
/* Catalog part name of a kind at path -> *out (-1 when name is NULL); -EINVAL when the catalog
 * has no such part, or there is no catalog, or it did not load (its own error). */
int topo__check_part(struct topo_desc *d, enum topo__part_kind kind, const char *name,
		     const char *path, int *out, struct topo_error *err);
/* A link of bw bytes/s on catalog part `part` of a kind (-1: none): 0, or -EINVAL at path when
 * the part gives a speed and bw is above it. */
int topo__check_speed(struct topo_desc *d, double bw, enum topo__part_kind kind, int part,
		      const char *path, struct topo_error *err);
/* node_types -> d->ntypes, plus an implicit last type (no GPUs, one NIC); 0, -ENOMEM or
 * -EINVAL with *err. */
int topo__check_node_types(struct topo_desc *d, struct topo_error *err);
/* link_classes -> d->cls (a class not given inherits link_classes.fabric, host excepted). */
int topo__check_classes(struct topo_desc *d, struct topo_error *err);
/* fabric.scale_up (scaleup.c), after the family's own checks: d->su.  0 or -EINVAL. */
int topo__check_scale_up(struct topo_desc *d, struct topo_error *err);
/* The family needs link class id (set directly or through link_classes.fabric); marks it used. */
int topo__need_class(struct topo_desc *d, enum topo__cls_id id, struct topo_error *err);
/* The link_classes entry of class id as written, or NULL when not given. */
const struct ty_class *topo__class_given(const struct topo_desc *d, enum topo__cls_id id);
/* Generated families: the links of every class used end on switches of fabric.switch, and host
 * links on NICs of the node type's model; no class may be faster than those parts' ports. */
int topo__check_class_speeds(struct topo_desc *d, struct topo_error *err);
/* ---- units --------------------------------------------------------------------------------- */

/* "100Mbit", "400Gbit/s", "25GB/s", "100Gbps" -> bytes/s.  0 or -EINVAL (no unit, junk). */
int topo__parse_rate(const char *s, double *bytes_per_s);
/* "1us", "500ns", "2ms", "0s" -> seconds.  0 or -EINVAL. */
int topo__parse_time(const char *s, double *seconds);
/* Human form of a rate in bits/s ("400Gbit/s") into buf. */
void topo__fmt_rate(double bytes_per_s, char *buf, size_t len);

/* ---- catalog (catalog.c) ------------------------------------------------------------------- */

/* Find d's catalog directory (see topo_load() in topo.h for the order) and load it into d->cat;
 * what went wrong is kept in d (cat_ret, cat_err, cat_looked) for the first part d names.
 * 0, or -ENOMEM. */
int topo__catalog_open(struct topo_desc *d);
/* Load the catalog directory (switches.yaml, nics.yaml, media.yaml, gpus.yaml).  0 or -EINVAL
 * with *err (file:line:column in the catalog file) or -ENOENT when dir does not exist. */
int topo__catalog_load(const char *dir, struct topo__catalog **out, struct topo_error *err);
void topo__catalog_free(struct topo__catalog *c);
/* Index of the part named name, or -1.  names_buf gets "a, b, c" of the kind for messages. */
int topo__catalog_find(const struct topo__catalog *c, enum topo__part_kind kind, const char *name);
void topo__catalog_names(const struct topo__catalog *c, enum topo__part_kind kind, char *buf,
			 size_t len);
/* Figures of catalog part idx of a kind; 0 or -ENOENT. */
int topo__catalog_part(const struct topo__catalog *c, enum topo__part_kind kind, int idx,
		       struct topo_part *out);

/* ---- link media as bought (media.c) -------------------------------------------------------- */

/* Whether the catalog has a medium (not a fiber) of reach class r or longer whose speed is at
 * least bw bytes/s: what `media: auto` needs to choose from. */
bool topo__media_auto_ok(const struct topo_desc *d, enum topo__reach r, double bw);

/* What a media line of the bill of materials counts: transceiver modules, cables (DAC, AOC),
 * the fibers optics take, or links whose class names no media. */
enum topo__media_role { TOPO__ROLE_MODULE, TOPO__ROLE_CABLE, TOPO__ROLE_FIBER, TOPO__ROLE_NONE };

struct topo__media_line {
	unsigned what; /* 0 host links, 1 + t tier t to t+1 links, TOPO_MAX_TIERS router links */
	int part;      /* media catalog index, -1 for none */
	enum topo__media_role role;
	const char *name, *media_class, *reach_class;
	unsigned ports;	      /* links one module or cable carries */
	uint64_t links;	      /* modules: link ends served; else links */
	uint64_t class_links; /* links whose cable or first module this line is */
	uint64_t count;	      /* items bought */
	double unit_price_usd, unit_watts;
};

struct topo__media_tally {
	struct topo__media_line *lines;
	size_t n;
	uint32_t *ports_used, *cages_used; /* [n_vertices]; fabric switches only */
};

/* Every non-intra link's media as bought.  0 or -ENOMEM. */
int topo__media_tally(const struct topo_desc *d, const struct topo_graph *g,
		      struct topo__media_tally *out);
void topo__media_tally_free(struct topo__media_tally *t);

/* ---- graph builder ------------------------------------------------------------------------- */

struct topo__builder {
	struct topo_graph *g;
	uint32_t cap_v;
	uint64_t cap_l;
	size_t names_len, names_cap;
	int *vpart;  /* catalog part of each vertex (switch, NIC, GPU) or -1 */
	int *lmedia; /* media part of each link or -1 */
	uint32_t cap_vpart;
	uint32_t domain_switch; /* the NVLink switch of the scale-up domain being added */
};

int topo__b_init(struct topo__builder *b, uint32_t vertices_hint, uint64_t links_hint);
/* Add a vertex; its name is printf-formatted.  Returns the index or UINT32_MAX on ENOMEM. */
uint32_t topo__b_vertex(struct topo__builder *b, enum topo_vertex_kind kind, uint32_t node,
			uint16_t local, uint16_t rail, int part, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
int topo__b_link(struct topo__builder *b, uint32_t a, uint32_t c, enum topo_link_class cls,
		 double bw, double lat, int media);
/* Build the CSR adjacency and hand the graph over; frees the builder's other state. */
int topo__b_finish(struct topo__builder *b, struct topo_graph **out);
void topo__b_abort(struct topo__builder *b);

/* The graph with what only topo/ needs: the catalog part of each vertex and link (-1). */
struct topo__graph_priv {
	struct topo_graph pub;
	int *vpart;
	int *lmedia;
};

/* Add node n's GPUs, NICs and in-node switch (type t); nic_v[i] = vertex of NIC i. */
int topo__add_node(struct topo__builder *b, const struct topo_desc *d, uint32_t n, const char *name,
		   const struct topo__ntype *t, uint32_t *nic_v);
/* With fabric.scale_up, compute node n is part of graph node n / domain_nodes (its NVLink
 * domain): its GPUs and NICs take local indices after those of the domain's earlier nodes, and
 * its GPUs link to the domain's one NVLink switch vertex, added with the domain's first node
 * (nodes must be added in order). */

/* The first vertex not reachable from vertex 0; UINT32_MAX when connected. */
uint32_t topo__unreachable(const struct topo_graph *g);

/* ---- summary helpers ----------------------------------------------------------------------- */

/* A switch of the fabric (not a node's own NVSwitch or PCIe bridge). */
static inline bool topo__fabric_switch(const struct topo_vertex *x)
{
	return x->kind == TOPO_V_SWITCH && x->node == UINT32_MAX;
}

/* A fabric switch's tier, capped at the last one counted. */
static inline unsigned topo__tier_of(const struct topo_vertex *x)
{
	return x->local < TOPO_MAX_TIERS ? x->local : TOPO_MAX_TIERS - 1;
}

/* Exact bisection bandwidth (bytes/s each way) of a graph of up to 16 nodes and 64 fabric
 * switches, by max-flow over every balanced split of the nodes; -1 when larger (bisect.c). */
double topo__bisection_exact(const struct topo_graph *g);
/* Half the host links (the returned count) and their mean bandwidth *host_bw. */
double topo__host_half(const struct topo_graph *g, double *host_bw);

/* ---- families ----------------------------------------------------------------------------- */

/* One fabric family (its name: topo__family_names; the parameters and link classes it takes:
 * families.c). */
struct topo__family_ops {
	bool listed; /* nodes, switches and links are listed: link classes are defaults */
	/* check the family's parameters in d->raw and fill d.  0 or -EINVAL with *err. */
	int (*validate)(struct topo_desc *d, struct topo_error *err);
	/* add the family's vertices and links.  0, -ENOMEM, or -EINVAL with *err. */
	int (*expand)(const struct topo_desc *d, struct topo__builder *b, struct topo_error *err);
	/* bytes/s each way across the worst balanced split of the endpoints, < 0 when not
	 * computed; s has the counts and oversub already.  Never fails. */
	double (*bisection)(const struct topo_desc *d, const struct topo_graph *g,
			    struct topo_summary *s);
	/* NULL, or the exact diameter of a graph too large for all pairs (kind: the endpoints)
	 * into s: 0, or nonzero to fall back to sampling. */
	int (*diameter)(const struct topo_desc *d, const struct topo_graph *g,
			struct topo_router *r, enum topo_vertex_kind kind, struct topo_summary *s);
	/* NULL ("fabric"), or the YAML path naming vertex v, for an error about it. */
	void (*where)(const struct topo_desc *d, const struct topo_graph *g, uint32_t v, char *path,
		      size_t len);
};

/* The table, by enum topo__family (families.c), and the entries the family files export. */
extern const struct topo__family_ops *const topo__families[TOPO_F_COUNT];
extern const struct topo__family_ops topo__explicit, topo__fat_tree, topo__rail_optimized,
	topo__rail_only, topo__torus, topo__dragonfly;
/* The Clos trees' bisection rule (clos.c), single-switch's too. */
double topo__clos_bisection(const struct topo_desc *d, const struct topo_graph *g,
			    struct topo_summary *s);

/* Reject fabric parameters and link classes the family does not take (and explicit lists
 * elsewhere). */
int topo__check_params(struct topo_desc *d, struct topo_error *err);
/* After validation: reject a link class given that no link of this fabric uses (tier2 in a
 * 2-tier tree, fabric when every class it would stand in for is given).  Not for listed
 * families, where classes are defaults. */
int topo__check_classes_used(struct topo_desc *d, struct topo_error *err);

/* Shared checks of the generated families' fabric parameters (check.c); 0 or -EINVAL with
 * *err. */
/* fabric.node_type names an entry of node_types: sets d->ntype. */
int topo__fabric_ntype(struct topo_desc *d, struct topo_error *err);
/* fabric.radix / fabric.switch: sets d->radix and d->switch_part; need: one is required. */
int topo__fabric_radix(struct topo_desc *d, bool need, struct topo_error *err);
/* *v >= min, else an error at path with example as the expected form. */
int topo__at_least(struct topo_desc *d, const unsigned *v, unsigned min, const char *path,
		   const char *example, struct topo_error *err);
/* link_classes.host is given and no faster than the node type's NICs. */
int topo__host_class(struct topo_desc *d, struct topo_error *err);

/* A YAML syntax error's position and libyaml's text: -EINVAL when there is one, 0 when the
 * file parses, another negative errno when it cannot be read. */
int topo__syntax_error(const char *file, unsigned *line, unsigned *col, char *msg, size_t len);

/* The first integer field whose text is not a plain decimal whole number in range (strict.c). */
struct topo__badint {
	bool found;
	bool is_signed;
	unsigned line, col;
	char path[512];
	char value[128];
};
/* Walk `file` beside `root`; 0 with bad->found set or not, or a negative errno. */
int topo__check_integers(const char *file, const cyaml_schema_value_t *root,
			 struct topo__badint *bad);
/* Turn a found bad integer into *err (file:line:column, the value, doc's expected form). */
int topo__badint_error(const char *file, const struct topo_yaml_doc *doc,
		       const struct topo__badint *bad, struct topo_error *err);

#endif /* ARBENCH_TOPO_INTERNAL_H */
