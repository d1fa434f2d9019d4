/*
 * cluster.c - the cluster map: which node every rank runs on, built from the hostname each rank
 * reported.  A pure function (no MPI, no I/O) so that tests can feed it any list of names.
 * Nodes are numbered in order of first appearance, so node 0 holds rank 0.
 */
#include "topo/topo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Index of the node whose first rank has this hostname, or -1; linear in the nodes seen so far
 * (hashing would pay off only beyond a few thousand nodes, where this still takes milliseconds). */
static int find_node(const char *const *hostnames, const struct topo_cluster_map *m,
		     const char *name)
{
	for (int n = 0; n < m->n_nodes; n++)
		if (!strcmp(hostnames[m->first_rank_of_node[n]], name))
			return n;
	return -1;
}

int topo_cluster_map_build(const char *const *hostnames, int n_ranks, struct topo_cluster_map *out)
{
	struct topo_cluster_map m = {.n_ranks = n_ranks};
	size_t n = n_ranks > 0 ? (size_t)n_ranks : 1;

	memset(out, 0, sizeof(*out));
	if (n_ranks < 0 || !hostnames)
		return -EINVAL;
	for (int r = 0; r < n_ranks; r++)
		if (!hostnames[r])
			return -EINVAL;
	m.node_of_rank = calloc(n, sizeof(int));
	m.local_rank = calloc(n, sizeof(int));
	m.ranks_on_node = calloc(n, sizeof(int));
	m.first_rank_of_node = calloc(n, sizeof(int));
	if (!m.node_of_rank || !m.local_rank || !m.ranks_on_node || !m.first_rank_of_node)
		goto err_free_arrays;

	for (int r = 0; r < n_ranks; r++) {
		int node = find_node(hostnames, &m, hostnames[r]);

		if (node < 0) {
			node = m.n_nodes++;
			m.first_rank_of_node[node] = r;
		}
		m.node_of_rank[r] = node;
		m.local_rank[r] = m.ranks_on_node[node]++;
	}
	*out = m;
	return 0;

err_free_arrays:
	topo_cluster_map_free(&m);
	return -ENOMEM;
}

void topo_cluster_map_free(struct topo_cluster_map *m)
{
	if (!m)
		return;
	free(m->node_of_rank);
	free(m->local_rank);
	free(m->ranks_on_node);
	free(m->first_rank_of_node);
	memset(m, 0, sizeof(*m));
}
