/*
 * bisect.c - exact bisection bandwidth of a small graph: nodes contracted to one vertex each,
 * the minimum over balanced splits of the max flow from one half to the other (Edmonds-Karp on
 * a dense matrix; up to 16 nodes and 64 fabric switches).  The families use it for explicit
 * graphs and small Clos trees, and their closed forms beyond (clos.c, direct.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

/* Max flow on a small dense graph (Edmonds-Karp). cap is n x n, modified. */
static double maxflow(double *cap, unsigned n, unsigned s, unsigned t, int *prev, unsigned *q)
{
	double flow = 0;

	for (;;) {
		unsigned h = 0, tl = 0, v, u;
		double f = INFINITY;

		for (v = 0; v < n; v++)
			prev[v] = -1;
		prev[s] = (int)s;
		q[tl++] = s;
		while (h < tl && prev[t] < 0) {
			u = q[h++];
			for (v = 0; v < n; v++)
				if (prev[v] < 0 && cap[u * n + v] > 1e-9) {
					prev[v] = (int)u;
					q[tl++] = v;
				}
		}
		if (prev[t] < 0)
			return flow;
		for (v = t; v != s; v = (unsigned)prev[v])
			f = fmin(f, cap[(unsigned)prev[v] * n + v]);
		for (v = t; v != s; v = (unsigned)prev[v]) {
			cap[(unsigned)prev[v] * n + v] -= f;
			cap[v * n + (unsigned)prev[v]] += f;
		}
		flow += f;
	}
}

/* Nodes contracted to one vertex each; min over balanced splits of the max
 * flow from one half to the other.  -1 when too large to do exactly. */
double topo__bisection_exact(const struct topo_graph *g)
{
	unsigned nn = g->n_nodes, ns = 0, n, i;
	uint32_t *idx, v, mask, half;
	double *base, *cap, best = -1;
	unsigned *q;
	int *prev;
	uint64_t l;

	if (nn < 2 || nn > 16)
		return nn < 2 ? 0 : -1;
	for (v = 0; v < g->n_vertices; v++)
		ns += topo__fabric_switch(&g->vertices[v]);
	if (ns > 64)
		return -1;
	n = nn + ns + 2;
	idx = malloc(g->n_vertices * sizeof(*idx));
	base = calloc((size_t)n * n, sizeof(double));
	cap = malloc((size_t)n * n * sizeof(double));
	q = malloc(n * sizeof(*q));
	prev = malloc(n * sizeof(*prev));
	if (!idx || !base || !cap || !q || !prev)
		goto free_flow;
	for (v = 0, i = nn; v < g->n_vertices; v++)
		idx[v] = topo__fabric_switch(&g->vertices[v]) ? i++ : g->vertices[v].node;
	for (l = 0; l < g->n_links; l++) {
		uint32_t a = idx[g->links[l].a], b = idx[g->links[l].b];

		if (a != b) {
			base[a * n + b] += g->links[l].bandwidth;
			base[b * n + a] += g->links[l].bandwidth;
		}
	}
	half = nn / 2;
	for (mask = 1; mask < (1u << nn); mask += 2) { /* node 0 always on side A */
		unsigned src = n - 2, dst = n - 1;
		double f;

		if ((unsigned)__builtin_popcount(mask) != half &&
		    (unsigned)__builtin_popcount(mask) != nn - half)
			continue;
		memcpy(cap, base, (size_t)n * n * sizeof(double));
		for (i = 0; i < nn; i++) {
			if (mask & (1u << i))
				cap[src * n + i] = INFINITY;
			else
				cap[i * n + dst] = INFINITY;
		}
		f = maxflow(cap, n, src, dst, prev, q);
		if (best < 0 || f < best)
			best = f;
	}
free_flow:
	free(idx);
	free(base);
	free(cap);
	free(q);
	free(prev);
	return best;
}

double topo__host_half(const struct topo_graph *g, double *host_bw)
{
	uint64_t l, n = 0;
	double bw = 0;

	for (l = 0; l < g->n_links; l++) {
		if (g->links[l].cls == TOPO_L_HOST) {
			n++;
			bw += g->links[l].bandwidth;
		}
	}
	*host_bw = n ? bw / n : 0;
	return n / 2.0;
}
