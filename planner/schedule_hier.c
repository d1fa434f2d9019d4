/*
 * schedule_hier.c - the schedule of hier, the library's two-level all-reduce (allreduce/hier.c),
 * with schedule.c's builder: per chunk of one staging slot, shared-memory staging of every
 * rank's slices to their owners (memory flows), the inter-node ring or rhd of every slice among
 * its owners (all slices at once: their phases joined by position), the copy out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

#define HIER_SLOT_MIN  (64u << 10)
#define HIER_SLOT_MAX  (4u << 20)
#define HIER_ALIGN     64
#define HIER_RING_MIN  (64u << 10)
#define HIER_SMALL_MAX (32u << 10)

/* Join the phases of tmp into b's phases from first on, by position (concurrent groups);
 * phases beyond what b has are appended. */
static int join_phases(struct plan_builder *b, size_t first, const struct plan_schedule *tmp)
{
	for (size_t q = 0; q < tmp->n_phases; q++) {
		const struct plan_phase *src = &tmp->phases[q];
		struct plan_phase *dst;
		struct plan_flow *f;

		if (first + q == b->s->n_phases) {
			dst = plan_add_phase(b, 0);
			if (!dst)
				return -ENOMEM;
			dst->repeat = src->repeat;
		}
		dst = &b->s->phases[first + q];
		f = realloc(dst->flows, (dst->n_flows + src->n_flows) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		dst->flows = f;
		/* keep each flow's total (bytes x repeat) when the repeats differ (a short last
		 * slice may take rhd while the others take the ring) */
		for (size_t i = 0; i < src->n_flows; i++) {
			f[dst->n_flows + i] = src->flows[i];
			f[dst->n_flows + i].bytes *= src->repeat / dst->repeat;
		}
		dst->n_flows += src->n_flows;
		if (src->reduce_bytes > dst->reduce_bytes)
			dst->reduce_bytes = src->reduce_bytes;
	}
	return 0;
}

/* Append a copy of phase src to b.  0 or -ENOMEM. */
static int pass_phase(struct plan_builder *b, const struct plan_phase *src)
{
	struct plan_phase *dst = plan_add_phase(b, src->n_flows);
	struct plan_flow *f;

	if (!dst)
		return -ENOMEM;
	f = dst->flows;
	*dst = *src;
	dst->flows = f;
	memcpy(f, src->flows, src->n_flows * sizeof(*f));
	return 0;
}

/* hier: per chunk (one staging slot), shared-memory staging and copy-out as memory flows,
 * and the inter-node all-reduce of every slice among its owners. */
struct hier_shape {
	int nodes, nown;
	int *lsize;   /* [nodes] */
	int **locals; /* [nodes][lsize]: global ranks in local-rank order */
};

static int hier_chunk(struct plan_builder *b, const struct hier_shape *h, size_t n, size_t esize,
		      double times, bool small)
{
	size_t per = (n + (size_t)h->nown - 1) / (size_t)h->nown;
	size_t a = HIER_ALIGN / esize ? HIER_ALIGN / esize : 1;
	struct plan_phase *st, *out;
	int maxl = 0, err;

	per = (per + a - 1) / a * a;
	for (int k = 0; k < h->nodes; k++)
		maxl = h->lsize[k] > maxl ? h->lsize[k] : maxl;
	if (maxl > 1) {
		size_t nf = 0;

		for (int k = 0; k < h->nodes; k++)
			nf += (size_t)h->lsize[k] * (size_t)h->lsize[k];
		st = plan_add_phase(b, nf);
		if (!st)
			return -ENOMEM;
		st->memory = true;
		st->repeat = times;
		for (int k = 0; k < h->nodes; k++) {
			if (k == 1)
				st->group = st->n_flows; /* each node's flows: one group */
			for (int i = 0; i < h->lsize[k]; i++)
				for (int j = 0; j < (small ? h->lsize[k] : h->nown); j++) {
					size_t lo = small ? 0 : per * (size_t)j;
					size_t hi = small ? n : lo + per;

					lo = lo < n ? lo : n;
					hi = hi < n ? hi : n;
					plan_add_flow(st, h->locals[k][i], h->locals[k][j],
						      (double)(hi - lo) * esize);
				}
		}
		st->reduce_bytes = (double)(small ? n : per) * esize * (maxl - 1);
	}
	if (h->nodes > 1) {
		int map[h->nodes];
		struct plan_schedule joined = {0};
		struct plan_builder jb = {.s = &joined};

		/* every owner group runs its slice's all-reduce at the same time: phase q of
		 * group j joins phase q of group 0 */
		for (int j = 0; j < h->nown; j++) {
			size_t lo = per * (size_t)j, hi = lo + per, len;
			struct plan_schedule tmp = {0};
			struct plan_builder tb = {.s = &tmp};

			lo = lo < n ? lo : n;
			hi = hi < n ? hi : n;
			len = hi - lo;
			for (int k = 0; k < h->nodes; k++)
				map[k] = h->locals[k][j];
			err = len * esize >= HIER_RING_MIN
				      ? plan_ring_phases(&tb, map, h->nodes, len, esize, times)
				      : plan_rhd_phases(&tb, map, h->nodes, len, esize, times);
			if (!err)
				err = join_phases(&jb, 0, &tmp);
			plan_schedule_free(&tmp);
			if (err)
				break;
		}
		for (size_t q = 0; !err && q < joined.n_phases; q++)
			err = pass_phase(b, &joined.phases[q]);
		plan_schedule_free(&joined);
		if (err)
			return err;
	}
	if (maxl > 1 && !small) {
		size_t nf = 0;

		for (int k = 0; k < h->nodes; k++)
			nf += (size_t)h->lsize[k] * (size_t)h->nown;
		out = plan_add_phase(b, nf);
		if (!out)
			return -ENOMEM;
		out->memory = true;
		out->repeat = times;
		/* owner j copies its slice out to every local rank i, listed by (j, i) as the
		 * staging phase lists (i, j): with every rank an owner the two phases have the
		 * same (src, dst) pairs in the same order, one pattern, filled once */
		for (int k = 0; k < h->nodes; k++) {
			if (k == 1)
				out->group = out->n_flows;
			for (int j = 0; j < h->nown; j++) {
				size_t lo = per * (size_t)j, hi = lo + per;

				lo = lo < n ? lo : n;
				hi = hi < n ? hi : n;
				for (int i = 0; i < h->lsize[k]; i++)
					plan_add_flow(out, h->locals[k][j], h->locals[k][i],
						      (double)(hi - lo) * esize);
			}
		}
	}
	return 0;
}

int plan_hier_phases(struct plan_builder *b, int p, const int *node_of_rank, size_t count,
		     size_t esize, const struct plan_lib_settings *set)
{
	struct hier_shape h = {0};
	size_t slot = plan_seg_bytes(set), chunk, nchunks, last;
	int err = -ENOMEM, ppn_min = p;

	if (!count)
		return 0;
	for (int r = 0; r < p; r++)
		h.nodes = node_of_rank[r] + 1 > h.nodes ? node_of_rank[r] + 1 : h.nodes;
	h.lsize = calloc((size_t)h.nodes, sizeof(*h.lsize));
	h.locals = calloc((size_t)h.nodes, sizeof(*h.locals));
	if (!h.lsize || !h.locals)
		goto out;
	for (int r = 0; r < p; r++)
		h.lsize[node_of_rank[r]]++;
	for (int k = 0; k < h.nodes; k++) {
		h.locals[k] = malloc(sizeof(int) * (size_t)(h.lsize[k] ? h.lsize[k] : 1));
		if (!h.locals[k])
			goto out;
		ppn_min = h.lsize[k] < ppn_min ? h.lsize[k] : ppn_min;
		h.lsize[k] = 0;
	}
	for (int r = 0; r < p; r++) {
		int k = node_of_rank[r];

		h.locals[k][h.lsize[k]++] = r;
	}
	h.nown = h.nodes > 1 ? ppn_min : h.lsize[0];
	slot = slot < HIER_SLOT_MIN ? HIER_SLOT_MIN : slot > HIER_SLOT_MAX ? HIER_SLOT_MAX : slot;
	slot = (slot + 4095) / 4096 * 4096;
	chunk = slot / esize;
	nchunks = (count + chunk - 1) / chunk;
	last = count - (nchunks - 1) * chunk;
	bool small = h.nodes == 1 && count * esize * (size_t)(h.lsize[0] - 1) <= HIER_SMALL_MAX;
	if (small) {
		err = hier_chunk(b, &h, count, esize, 1, true);
		goto out;
	}
	err = 0;
	if (nchunks > 1)
		err = hier_chunk(b, &h, chunk, esize, (double)(nchunks - 1), false);
	if (!err)
		err = hier_chunk(b, &h, last, esize, 1, false);
out:
	for (int k = 0; h.locals && k < h.nodes; k++)
		free(h.locals[k]);
	free(h.locals);
	free(h.lsize);
	return err;
}
