/*
 * gather.c - the cluster as arbench sees it: every rank's hostname gathered over MPI, the
 * cluster map built from them (topo_cluster_map_build), and one hwloc summary per node,
 * discovered by the node's first rank and collected at rank 0 for the table and the JSON.
 */
#include "bench/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAG_NODE_INFO 7101

struct node_msg {
	int err; /* topo_discover_local's result on that node */
	struct topo_node_info info;
};

/* Node leaders send their summary to rank 0, which stores them by node index. */
static void collect_nodes(MPI_Comm comm, struct bench_cluster *cl)
{
	const struct topo_cluster_map *m = &cl->map;
	struct node_msg msg;
	int me = cl->rank;

	if (m->local_rank[me] == 0) {
		memset(&msg, 0, sizeof(msg));
		msg.err = topo_discover_local(&msg.info);
		/* the name every rank agreed on, even if hwloc's differs */
		snprintf(msg.info.hostname, sizeof(msg.info.hostname), "%s", cl->hostnames[me]);
		if (me != 0) {
			MPI_Send(&msg, (int)sizeof(msg), MPI_BYTE, 0, TAG_NODE_INFO, comm);
		} else {
			cl->nodes[0] = msg.info;
			cl->discover_err = msg.err;
		}
	}
	if (me != 0)
		return;
	for (int n = 1; n < m->n_nodes; n++) {
		MPI_Recv(&msg, (int)sizeof(msg), MPI_BYTE, m->first_rank_of_node[n], TAG_NODE_INFO,
			 comm, MPI_STATUS_IGNORE);
		cl->nodes[n] = msg.info;
		if (msg.err && !cl->discover_err)
			cl->discover_err = msg.err;
	}
}

int bench_cluster_gather(MPI_Comm comm, struct bench_cluster *cl)
{
	char mine[256] = {0};
	const char **names = NULL;
	int err = 0, all_err;

	memset(cl, 0, sizeof(*cl));
	MPI_Comm_rank(comm, &cl->rank);
	MPI_Comm_size(comm, &cl->nranks);
	if (gethostname(mine, sizeof(mine) - 1))
		snprintf(mine, sizeof(mine), "unknown");
	cl->hostnames = calloc((size_t)cl->nranks, sizeof(*cl->hostnames));
	names = calloc((size_t)cl->nranks, sizeof(*names));
	if (!cl->hostnames || !names)
		err = -ENOMEM;
	MPI_Allreduce(&err, &all_err, 1, MPI_INT, MPI_MIN, comm);
	if (all_err)
		goto err_free_names;
	MPI_Allgather(mine, sizeof(mine), MPI_CHAR, cl->hostnames, sizeof(mine), MPI_CHAR, comm);
	for (int r = 0; r < cl->nranks; r++)
		names[r] = cl->hostnames[r];
	err = topo_cluster_map_build(names, cl->nranks, &cl->map);
	if (!err && cl->rank == 0) {
		cl->nodes = calloc((size_t)cl->map.n_nodes, sizeof(*cl->nodes));
		if (!cl->nodes)
			err = -ENOMEM;
	}
	MPI_Allreduce(&err, &all_err, 1, MPI_INT, MPI_MIN, comm);
	if (all_err)
		goto err_free_names;
	collect_nodes(comm, cl);
	free(names);
	return 0;

err_free_names:
	free(names);
	bench_cluster_free(cl);
	return all_err;
}

void bench_cluster_free(struct bench_cluster *cl)
{
	topo_cluster_map_free(&cl->map);
	free(cl->hostnames);
	free(cl->nodes);
	cl->hostnames = NULL;
	cl->nodes = NULL;
}

const char *bench_node_name(const struct bench_cluster *cl, int n, bool anonymize, char *buf,
			    size_t len)
{
	if (anonymize || n < 0 || n >= cl->map.n_nodes)
		snprintf(buf, len, "node%d", n);
	else
		snprintf(buf, len, "%s", cl->hostnames[cl->map.first_rank_of_node[n]]);
	return buf;
}

/* The first line of MPI_Get_library_version, cut to fit out (MPICH's is several kB). */
void bench__mpi_library(char *out, size_t len)
{
	char buf[MPI_MAX_LIBRARY_VERSION_STRING];
	int n = 0;

	MPI_Get_library_version(buf, &n);
	buf[n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	n = (int)strlen(buf); /* the first line, cut to fit (MPICH's is several kB) */
	if ((size_t)n >= len)
		n = (int)len - 1;
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
}
