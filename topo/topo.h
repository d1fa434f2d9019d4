/*
 * topo.h - the public interface of arbench's topology layer.
 *
 * One YAML language describes every fabric (the emulated lab, a measured cluster, a proposed
 * 100k-GPU system).  topo_load() reads and validates it; topo_expand() turns it into one graph
 * of endpoints, switches and links that the planner routes flows on and the lab emulates.
 * topo_discover_local() reads the node this process runs on with hwloc; the cluster map is built
 * from what every rank discovered.  Nothing in topo/ uses MPI.
 */
#ifndef ARBENCH_TOPO_H
#define ARBENCH_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- exit codes of every program (arbench, arplan, arlab) ---------------------------------- *
 * Defined here, once, because topo/ is the one layer all three programs link. */
enum arb_exit {
	ARB_EXIT_OK = 0,
	ARB_EXIT_CHECK = 1,   /* a check failed: wrong results, a figure below its target */
	ARB_EXIT_INPUT = 2,   /* bad usage or input: options, files, values */
	ARB_EXIT_RUNTIME = 3, /* a failure while running: a collective, a timeout */
};

/* ---- errors ------------------------------------------------------------------------------ */

/* A config or input error: where it is and what was expected. line/column are 1-based, 0 when
 * not known.  message is one line, e.g. "link rate must be > 0 (expected e.g. 100Mbit)". */
struct topo_error {
	char file[512];
	unsigned line, column;
	char message[512];
};
/* "file:line:column: message" into buf. */
void topo_error_format(const struct topo_error *e, char *buf, size_t len);

/* ---- YAML files read with libcyaml, errors at file:line:column ---------------------------- *
 * Every YAML input of arbench (topologies, catalogs, the planner's calibrations and workloads)
 * loads through topo_yaml_load(), so all say "file:line:column: path: message (expected FORM)"
 * alike. */

struct cyaml_schema_value;

/* What a key expects, for messages: {"seq_len", "a whole number of tokens, e.g. 8192"}. */
struct topo_yaml_form {
	const char *key, *form;
};

/* A kind of YAML file. */
struct topo_yaml_doc {
	const struct cyaml_schema_value *schema; /* libcyaml's schema of the document (a mapping) */
	const struct topo_yaml_form *forms;	 /* ends with {NULL, NULL} */
	const char *what; /* "a workload YAML file": said when the file cannot be opened; NULL */
	const char *top_form; /* what the document as a whole should be */
};

/* Load file into *out (NULL for an empty document; free it with topo_yaml_free).  0, -ENOMEM,
 * or -EINVAL with *err where libcyaml refused the file: unreadable, a YAML syntax error, a key
 * unknown, missing or given twice, a value of the wrong type or form (with the form expected:
 * doc's, or the words of an enum), an integer field that is not a plain whole number in range
 * (libcyaml alone reads `2.7` as 2). */
int topo_yaml_load(const char *file, const struct topo_yaml_doc *doc, void **out,
		   struct topo_error *err);
void topo_yaml_free(const struct topo_yaml_doc *doc, void *data);
/* Fill *err for the YAML path of file (e.g. "links[3].rate", "" = the document), pointing at
 * the key (key true) or its value; at 1:1 when the path is not in the file.  Returns -EINVAL. */
int topo_yaml_errf(struct topo_error *err, const char *file, const char *path, bool key,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The form doc gives for the last key of path ("training.seq_len" -> "seq_len"), or NULL. */
const char *topo_yaml_form_of(const struct topo_yaml_doc *doc, const char *path);

/* ---- the loaded description -------------------------------------------------------------- */

struct topo_desc; /* opaque: the validated YAML description */

/* Load and validate a topology YAML file.  0, or -EINVAL with *err filled.  Catalog parts are
 * looked up in the file's `catalog:` directory; else in `catalog` (topo_load_catalog; NULL for
 * none), else in $ARPLAN_CATALOG, else in ../catalog beside the file, else in the shipped
 * catalog: PROGRAM/../share/arbench/configs/catalog (make install) or PROGRAM/../configs/catalog
 * (the build tree), PROGRAM being the running executable. */
int topo_load(const char *path, struct topo_desc **out, struct topo_error *err);
int topo_load_catalog(const char *path, const char *catalog, struct topo_desc **out,
		      struct topo_error *err);
void topo_desc_free(struct topo_desc *d);
const char *topo_desc_name(const struct topo_desc *d);
const char *topo_desc_family(const struct topo_desc *d); /* "fat-tree", "explicit", ... */
/* Rates and times as the YAML writes them ("100Mbit", "400Gbit/s", "25GB/s"; "1us", "500ns"):
 * bytes/s and seconds.  0 or -EINVAL (no unit, junk). */
int topo_parse_rate(const char *s, double *bytes_per_s);
int topo_parse_time(const char *s, double *seconds);

/* ---- the expanded graph ------------------------------------------------------------------ */

enum topo_vertex_kind { TOPO_V_GPU, TOPO_V_NIC, TOPO_V_SWITCH, TOPO_V_KIND_COUNT };

enum topo_link_class {
	TOPO_L_INTRA,  /* GPU <-> GPU or GPU <-> NIC inside a node (NVLink, PCIe, shared memory) */
	TOPO_L_HOST,   /* NIC <-> first switch */
	TOPO_L_FABRIC, /* switch <-> switch */
	TOPO_L_CLASS_COUNT
};

struct topo_vertex {
	enum topo_vertex_kind kind;
	uint32_t node;	/* node index for GPU/NIC; UINT32_MAX for switches */
	uint16_t local; /* GPU or NIC index inside its node; tier for switches (0 = leaf) */
	uint16_t rail;	/* rail of a NIC (or of the switch's rail group); 0 when none */
	uint32_t name;	/* offset into topo_graph.names, NUL-terminated */
};

struct topo_link {
	uint32_t a, b; /* vertex indices; links are full duplex */
	enum topo_link_class cls;
	double bandwidth; /* bytes per second, each direction */
	double latency;	  /* seconds, one way */
};

struct topo_graph {
	uint32_t n_vertices;
	struct topo_vertex *vertices;
	uint64_t n_links;
	struct topo_link *links;
	char *names;		/* all vertex names, NUL-separated */
	uint32_t n_nodes;	/* compute nodes, or scale-up domains (domain_nodes > 0) */
	uint32_t gpus_per_node; /* max over nodes (over domains) */
	/* adjacency in CSR form: links of vertex v are adj[adj_start[v] .. adj_start[v+1]) */
	uint64_t *adj_start;
	uint64_t *adj; /* link indices */
	/* Scale-up domains (fabric.scale_up, e.g. a GB200 NVL72 rack): 0 when the fabric has
	 * none.  Else a graph node is one NVLink domain of domain_nodes compute nodes: its GPUs
	 * (local 0 .. gpus_per_node-1, node by node) and NICs, and one switch vertex (node = the
	 * domain, local = TOPO_TIER_NODE) standing for all the domain's NVLink switch trays, each
	 * GPU linked to it (TOPO_L_INTRA) at its NVLink rate.  So everything that treats a graph
	 * node as the GPUs sharing one NVLink switch (placement, hier's node level, routes that
	 * stay inside a node) works on the domain; n_nodes x domain_nodes compute nodes. */
	uint32_t domain_nodes;
};

/* Expand a description into a graph.  0, or a negative errno (-EINVAL with *err filled for an
 * inconsistency that only shows in the expansion, such as a disconnected graph). */
int topo_expand(const struct topo_desc *d, struct topo_graph **out, struct topo_error *err);
void topo_graph_free(struct topo_graph *g);
const char *topo_vertex_name(const struct topo_graph *g, uint32_t v);

/* A node with two or more GPUs has one in-node switch (NVSwitch, or the PCIe/host bridge when
 * there is no NVLink): kind TOPO_V_SWITCH, node = its node, local = TOPO_TIER_NODE.  Fabric
 * switches have node = UINT32_MAX and local = tier (0 = leaf). */
#define TOPO_TIER_NODE UINT16_MAX
#define TOPO_MAX_TIERS 4

/* ---- routes: shortest paths with their ECMP sets, computed on demand ------------------------
 *
 * A router holds scratch space for one graph (O(vertices) memory, allocated once).  topo_route()
 * runs a bidirectional BFS between two vertices and keeps the shortest-path DAG: its cost grows
 * with the part of the graph near the two ends, not with the whole graph, so routing one pair in
 * a 128k-GPU fat-tree touches thousands of vertices, not millions.  Paths may pass through GPUs,
 * NICs and in-node switches only of the source's and the destination's nodes (PXN-style
 * forwarding over NVLink), never through another node. */
struct topo_router;

/* Scratch for routing on g (g must outlive it).  0 or -ENOMEM. */
int topo_router_new(const struct topo_graph *g, struct topo_router **out);
void topo_router_free(struct topo_router *r);
/* Route src -> dst: the hop count of the shortest paths (>= 0), -ENOENT when dst cannot be
 * reached, -EINVAL for a bad vertex.  Replaces the router's previous route. */
int topo_route(struct topo_router *r, uint32_t src, uint32_t dst);
/* The ECMP set at vertex v of the current route: the links (indices into g->links) that
 * continue a shortest path to dst.  Writes up to max, returns how many there are (0 when v is
 * dst or not on a shortest path). */
unsigned topo_route_next(const struct topo_router *r, uint32_t v, uint64_t *links, unsigned max);
/* One shortest path of the current route, chosen by hash the way ECMP hashing picks a next hop
 * at every vertex: its links in order from src into links[max].  Returns the hop count, or
 * -ENOSPC when max is too small. */
int topo_route_path(const struct topo_router *r, uint64_t hash, uint64_t *links, unsigned max);
/* How many distinct shortest paths the current route has, as sequences of links (parallel links
 * count separately, as ECMP hashes over them); a double: it can be huge. */
double topo_route_count(struct topo_router *r);
/* The vertex at the other end of link l from v. */
static inline uint32_t topo_link_other(const struct topo_graph *g, uint64_t l, uint32_t v)
{
	return g->links[l].a == v ? g->links[l].b : g->links[l].a;
}

/* ---- catalog parts, summary and bill of materials ----------------------------------------- */

/* One part from configs/catalog (figures are 0 when the catalog does not give them). */
struct topo_part {
	const char *name;
	const char *kind; /* media: "transceiver", "dac", "aoc"; else "" */
	unsigned radix;	  /* switch ports */
	double speed;	  /* port speed, bytes/s */
	double price_usd;
	double watts; /* typical power; TDP for GPUs */
	double fit;   /* failures per 1e9 device-hours (from FIT or MTBF) */
	double reach_m;
	double bf16_tflops; /* GPUs: dense BF16 */
	double memory_bw;   /* GPUs: bytes/s */
	double memory_gb;
	double nvlink_bw;	/* GPUs: bytes/s, all links, each direction */
	double fp8_tflops;	/* GPUs: dense FP8 */
	unsigned nvlink_domain; /* GPUs: GPUs per NVLink domain of its rack-scale system
				 * (GB200: 72), 0 when it has none beyond a node */
	unsigned per_link; /* media: link ends it sits on (2 for a transceiver, 1 for a cable) */
	unsigned ports; /* NIC ports; media: links one module or cable end carries (2: twin-port);
			 * 1 when not given */
	unsigned cage_ports;	 /* switch, NIC: ports per cage (QM9700: 2); 1 when not given */
	const char *reach_class; /* media: "rack", "row", "hall" or "" */
	const char *fiber;	 /* media: "multimode", "single-mode" or "" */
	int cable;		 /* transceiver: catalog index of its fiber part, -1 */
};

struct topo_summary {
	uint32_t nodes, gpus, nics;
	uint32_t switches;	/* fabric switches (in-node ones not counted) */
	uint32_t node_switches; /* NVSwitch / PCIe bridges inside nodes */
	unsigned tiers;		/* fabric switch tiers */
	uint32_t switches_per_tier[TOPO_MAX_TIERS];
	uint64_t links_per_class[TOPO_L_CLASS_COUNT];
	uint64_t links_per_tier[TOPO_MAX_TIERS]; /* fabric links from tier t up to t+1 */
	/* per tier: capacity of a tier-t switch's down links over its up links (1 = non-blocking);
	 * 0 for the top tier and where a tier has no up links */
	double oversub[TOPO_MAX_TIERS];
	double bisection; /* bytes/s each way across the worst equal split of the endpoints;
			   * < 0 when not computed (explicit graphs of more than 16 nodes
			   * or 64 switches: summary.c solves smaller ones exactly) */
	bool bisection_lower_bound; /* a Clos tree's tier-ratio formula on a partly filled tree
				     * (leaves with unequal host links): at least this much */
	unsigned diameter;	    /* hops between the farthest two endpoints (GPUs, else NICs) */
	bool diameter_exact;	    /* false: the maximum over a sample of sources */
	/* scale-up domains (fabric.scale_up), all 0 when none: then node_switches counts one
	 * vertex per domain, and nodes the compute nodes of every domain */
	uint32_t domains, domain_nodes, domain_gpus;
	uint32_t nvlink_switch_trays; /* in all domains */
	double domain_nvlink;	      /* per GPU, each direction, bytes/s */
};

/* Counts, bisection bandwidth, oversubscription and diameter of an expanded description.
 * 0 or -ENOMEM. */
int topo_summarize(const struct topo_desc *d, const struct topo_graph *g, struct topo_summary *s);

struct topo_bom_line {
	const char *what; /* "GPU", "NIC", "switch (tier 0)", "media (host)", ... */
	const char *part; /* catalog name, or "(unspecified)" */
	uint64_t count;
	double unit_price_usd, unit_watts; /* 0 when not in the catalog */
};

/* The bill of materials: counts by part.  *lines is malloc'd (free() it).  0 or -ENOMEM. */
int topo_bom(const struct topo_desc *d, const struct topo_graph *g, struct topo_bom_line **lines,
	     size_t *n);
/* Link media by class as bought: DAC, AOC, multimode or single-mode optics (a fiber part is
 * counted with the optics it serves), per reach class ("rack", "row", "hall", "-" when the part
 * does not say).  Modules are transceivers bought (a twin-port one per two links of a device
 * whose cages hold two ports); cables are DAC/AOC cables and the fibers optics need. */
struct topo_media_class {
	const char *media_class; /* "DAC", "AOC", "multimode", "single-mode", "optics",
				  * "unspecified" (links whose class names no media) */
	const char *reach_class;
	uint64_t links, cables, modules;
	double price_usd, watts;
};

/* The switches of one catalog model (or "(unspecified)"): ports and cages used of those there. */
struct topo_switch_use {
	const char *model;
	uint32_t count;
	unsigned radix, cage_ports; /* cage_ports: 1 unless the catalog says (QM9700: 2) */
	uint64_t ports_used, ports; /* links on them; radix x count */
	uint64_t cages_used, cages; /* cages with a module or cable in; ports / cage_ports */
	unsigned max_ports_used;    /* on the busiest one */
};

struct topo_bom_detail {
	struct topo_media_class *media;
	size_t n_media;
	struct topo_switch_use *switches;
	size_t n_switches;
};

/* Media classes and switch port usage of the expanded description.  0 or -ENOMEM; free with
 * topo_bom_detail_free(). */
int topo_bom_detail(const struct topo_desc *d, const struct topo_graph *g,
		    struct topo_bom_detail *out);
void topo_bom_detail_free(struct topo_bom_detail *b);
/* The figures of the catalog part of kind ("gpu", "nic", "switch", "media") named name, from the
 * catalog d uses (out->name is NULL: copy name yourself).  0; -ENOENT when the catalog has no such
 * part (names gets "a, b, c", the parts of that kind); -EINVAL when there is no catalog or it
 * does not load (names gets the reason), or kind is unknown; -ENOMEM. */
int topo_catalog_part(const struct topo_desc *d, const char *kind, const char *name,
		      struct topo_part *out, char *names, size_t len);

/* ---- local discovery (hwloc) --------------------------------------------------------------- */

#define TOPO_MAX_NICS 16
#define TOPO_MAX_GPUS 16

struct topo_nic_info {
	char name[64];	  /* OS device name, e.g. "eth0", "mlx5_0" */
	int numa_node;	  /* -1 when not known */
	double speed_bps; /* link speed in bits/s as the OS reports it; 0 when not known */
	bool rdma;	  /* an RDMA (verbs) device */
};

struct topo_gpu_info {
	char name[64];
	int numa_node;
};

struct topo_node_info {
	char hostname[256];
	int cores; /* physical cores */
	int pus;   /* hardware threads */
	int numa_nodes;
	char cpu_model[128];
	int n_nics;
	struct topo_nic_info nics[TOPO_MAX_NICS];
	int n_gpus;
	struct topo_gpu_info gpus[TOPO_MAX_GPUS];
};

/* Read this node with hwloc.  0 or a negative errno. */
int topo_discover_local(struct topo_node_info *out);

/* ---- the cluster map --------------------------------------------------------------------- */

/* Which node each rank is on, from the hostname every rank reported. */
struct topo_cluster_map {
	int n_ranks;
	int n_nodes;
	int *node_of_rank;	 /* [n_ranks] node index, in order of first appearance */
	int *local_rank;	 /* [n_ranks] index among the ranks of its node */
	int *ranks_on_node;	 /* [n_nodes] */
	int *first_rank_of_node; /* [n_nodes] a rank on that node (for naming it) */
};

/* hostnames: n_ranks strings.  0 or -ENOMEM. */
int topo_cluster_map_build(const char *const *hostnames, int n_ranks, struct topo_cluster_map *out);
void topo_cluster_map_free(struct topo_cluster_map *m);

#endif /* ARBENCH_TOPO_H */
