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

/* ---- the loaded description -------------------------------------------------------------- */

struct topo_desc; /* opaque: the validated YAML description */

/* Load and validate a topology YAML file.  0, or -EINVAL with *err filled. */
int topo_load(const char *path, struct topo_desc **out, struct topo_error *err);
void topo_desc_free(struct topo_desc *d);
const char *topo_desc_name(const struct topo_desc *d);
const char *topo_desc_family(const struct topo_desc *d); /* "fat-tree", "explicit", ... */

/* ---- the expanded graph ------------------------------------------------------------------ */

enum topo_vertex_kind { TOPO_V_GPU, TOPO_V_NIC, TOPO_V_SWITCH, TOPO_V_KIND_COUNT };

enum topo_link_class {
	TOPO_L_INTRA, /* GPU <-> GPU or GPU <-> NIC inside a node (NVLink, PCIe, shared memory) */
	TOPO_L_HOST,  /* NIC <-> first switch */
	TOPO_L_FABRIC, /* switch <-> switch */
	TOPO_L_CLASS_COUNT
};

struct topo_vertex {
	enum topo_vertex_kind kind;
	uint32_t node;   /* node index for GPU/NIC; UINT32_MAX for switches */
	uint16_t local;  /* GPU or NIC index inside its node; tier for switches (0 = leaf) */
	uint16_t rail;   /* rail of a NIC (or of the switch's rail group); 0 when none */
	uint32_t name;   /* offset into topo_graph.names, NUL-terminated */
};

struct topo_link {
	uint32_t a, b;          /* vertex indices; links are full duplex */
	enum topo_link_class cls;
	double bandwidth;       /* bytes per second, each direction */
	double latency;         /* seconds, one way */
};

struct topo_graph {
	uint32_t n_vertices;
	struct topo_vertex *vertices;
	uint64_t n_links;
	struct topo_link *links;
	char *names;            /* all vertex names, NUL-separated */
	uint32_t n_nodes;       /* compute nodes */
	uint32_t gpus_per_node; /* max over nodes */
	/* adjacency in CSR form: links of vertex v are adj[adj_start[v] .. adj_start[v+1]) */
	uint64_t *adj_start;
	uint64_t *adj;          /* link indices */
};

/* Expand a description into a graph.  0, or a negative errno (-EINVAL with *err filled for an
 * inconsistency that only shows in the expansion, such as a disconnected graph). */
int topo_expand(const struct topo_desc *d, struct topo_graph **out, struct topo_error *err);
void topo_graph_free(struct topo_graph *g);
const char *topo_vertex_name(const struct topo_graph *g, uint32_t v);

/* ---- local discovery (hwloc) --------------------------------------------------------------- */

#define TOPO_MAX_NICS 16
#define TOPO_MAX_GPUS 16

struct topo_nic_info {
	char name[64];        /* OS device name, e.g. "eth0", "mlx5_0" */
	int numa_node;        /* -1 when not known */
	double speed_bps;     /* link speed in bits/s as the OS reports it; 0 when not known */
	bool rdma;            /* an RDMA (verbs) device */
};

struct topo_gpu_info {
	char name[64];
	int numa_node;
};

struct topo_node_info {
	char hostname[256];
	int cores;            /* physical cores */
	int pus;              /* hardware threads */
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
	int *node_of_rank;    /* [n_ranks] node index, in order of first appearance */
	int *local_rank;      /* [n_ranks] index among the ranks of its node */
	int *ranks_on_node;   /* [n_nodes] */
	int *first_rank_of_node; /* [n_nodes] a rank on that node (for naming it) */
};

/* hostnames: n_ranks strings.  0 or -ENOMEM. */
int topo_cluster_map_build(const char *const *hostnames, int n_ranks,
			   struct topo_cluster_map *out);
void topo_cluster_map_free(struct topo_cluster_map *m);

#endif /* ARBENCH_TOPO_H */
