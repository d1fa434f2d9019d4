/*
 * flow_fill.c - max-min fair rates of a phase's flows by progressive filling: every unfrozen
 * flow's rate rises together; a resource that fills freezes its flows.
 *
 * A resource carried by a single flow (a GPU's or NIC's own link: most of them on a large
 * fabric) only caps that flow, which freezes at the cap when the filling reaches it; such
 * resources get no state of their own.  The shared ones (two or more flows) are numbered
 * densely in the order the layout first uses them and fill in the order of (level at which
 * each fills, number): a total order, so the result does not depend on how the queue breaks
 * ties.  Their first levels are sorted once (most resources fill at their first level, or are
 * emptied by others before: no queue work); a resource whose level rose, because some of its
 * flows froze elsewhere, waits on a binary min-heap.  Counting uses needs one look-up per use
 * in a per-resource tag array of the context (zeroed again afterwards for the resources touched
 * only), so a phase costs time in its uses, not in the size of the graph.
 *
 * A phase's time needs only its slowest flows (flow_predict.c): asked to (struct
 * plan_fill_stop), the filling stops at the first level from which every flow still unfrozen
 * would be faster than the slowest frozen one, with a margin (levels rise from event to event,
 * up to rounding).  On a large fabric that is after a few of the first events, not the
 * hundreds of thousands of a full filling.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

#define SHARED_BIT 0x80000000u /* a tag: shared resource number (below), not a use count */

/* A resource two or more flows use: what the filling changes (32 bytes, two to a cache
 * line: freezing a flow touches each of its shared resources) ... */
struct shared {
	double used, weight; /* weight: sum of fractions of its unfrozen flows */
	double stamp;	     /* used is as of level stamp */
	bool stale;	     /* weight changed since its key was computed */
};

/* ... and what it does not. */
struct shared_fixed {
	double cap;
	uint32_t first, n; /* its flows: csr[first .. first + n) */
	uint32_t res;
};

/* A heap entry: the level at which the resource fills (a lower bound while stale). */
struct hent {
	double key;
	uint32_t id;
};

/* ---- the heap, ordered by (key, id) ------------------------------------------------------ */

static inline bool before(double ka, uint32_t ia, double kb, uint32_t ib)
{
	return ka < kb || (ka == kb && ia < ib);
}

static void heap_down(struct hent *h, size_t n, size_t i)
{
	struct hent e = h[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct hent me = e;

		if (l < n && before(h[l].key, h[l].id, me.key, me.id)) {
			m = l;
			me = h[l];
		}
		if (r < n && before(h[r].key, h[r].id, me.key, me.id))
			m = r;
		if (m == i)
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = e;
}

static void heap_push(struct hent *h, size_t *n, struct hent e)
{
	size_t i = (*n)++;

	while (i > 0 && before(e.key, e.id, h[(i - 1) / 2].key, h[(i - 1) / 2].id)) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

/* Remove the top. */
static void heap_pop(struct hent *h, size_t *n)
{
	if (--*n == 0)
		return;
	h[0] = h[*n];
	heap_down(h, *n, 0);
}

/* ---- scratch ----------------------------------------------------------------------------- */

#define GROW(p, n)                                                                                 \
	do {                                                                                       \
		void *x_ = realloc((p), (n) * sizeof(*(p)));                                       \
		if (!x_)                                                                           \
			return -ENOMEM;                                                            \
		(p) = x_;                                                                          \
	} while (0)

/* Room for nf flows, nu uses and nt touched resources. */
static int scratch(struct plan_fill_scratch *w, size_t nf, size_t nu, size_t nt)
{
	nf = nf ? nf : 1;
	nu = nu ? nu : 1;
	nt = nt ? nt : 1;
	if (nf > w->cap_flows) {
		GROW(w->fsh_start, nf + 1);
		GROW(w->order, nf);
		GROW(w->order_tmp, nf);
		GROW(w->fcap, nf);
		GROW(w->lim_frac, nf);
		GROW(w->frozen, nf);
		w->cap_flows = nf;
	}
	if (nu > w->cap_uses) {
		GROW(w->csr, nu);
		GROW(w->csr_frac, nu);
		GROW(w->fsh_id, nu);
		GROW(w->fsh_frac, nu);
		w->cap_uses = nu;
	}
	if (nt > w->cap_res) {
		struct shared *s = realloc(w->shared, nt * sizeof(*s));

		if (!s)
			return -ENOMEM;
		w->shared = s;
		struct shared_fixed *x = realloc(w->shared_fixed, nt * sizeof(*x));

		if (!x)
			return -ENOMEM;
		w->shared_fixed = x;
		struct hent *h = realloc(w->heap, nt * sizeof(*h));

		if (!h)
			return -ENOMEM;
		w->heap = h;
		GROW(w->first_key, nt);
		GROW(w->by_key, nt);
		GROW(w->by_key_tmp, nt);
		w->cap_res = nt;
	}
	return 0;
}

/* order[0..n) (flow numbers, ascending) sorted by key, equal keys kept in order (keys >= 0
 * or +inf, never NaN: their bits order as the numbers do): a least significant digit first
 * radix sort, skipping digits every key shares. */
enum { FEW_KEYS = 32 };

/* The place of key bits among the few distinct ones in val[0..*nv) (added when new; -1 when
 * there would be more than FEW_KEYS), last the place found before. */
static int few_find(uint64_t *val, unsigned *nv, unsigned last, uint64_t bits)
{
	unsigned j = 0;

	if (*nv && val[last] == bits)
		return (int)last;
	while (j < *nv && val[j] != bits)
		j++;
	if (j == *nv) {
		if (*nv == FEW_KEYS)
			return -1;
		val[(*nv)++] = bits;
	}
	return (int)j;
}

/* sort_by_key when the keys take few distinct values (a phase's capacities, the levels
 * cap / weight of its shared links): each element goes after every smaller key, in order.
 * false (order untouched) when there are more than FEW_KEYS. */
static bool sort_few(uint32_t *order, uint32_t *tmp, const double *key, size_t n)
{
	uint64_t val[FEW_KEYS], bits;
	size_t count[FEW_KEYS] = {0}, start[FEW_KEYS];
	unsigned nv = 0;
	int j = 0;

	for (size_t i = 0; i < n; i++) {
		memcpy(&bits, &key[order[i]], sizeof(bits));
		j = few_find(val, &nv, (unsigned)j, bits);
		if (j < 0)
			return false;
		count[j]++;
	}
	if (nv <= 1)
		return true;
	for (unsigned a = 0; a < nv; a++) {
		start[a] = 0;
		for (unsigned b = 0; b < nv; b++)
			if (val[b] < val[a])
				start[a] += count[b];
	}
	j = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(&bits, &key[order[i]], sizeof(bits));
		j = few_find(val, &nv, (unsigned)j, bits);
		tmp[start[j]++] = order[i];
	}
	memcpy(order, tmp, n * sizeof(*order));
	return true;
}

static void sort_by_key(uint32_t *order, uint32_t *tmp, const double *key, size_t n)
{
	enum { BITS = 11, BUCKETS = 1 << BITS };
	size_t count[BUCKETS];

	if (sort_few(order, tmp, key, n))
		return;

	for (int shift = 0; shift < 64; shift += BITS) {
		uint64_t bits;
		size_t sum = 0;
		bool one = false;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++) {
			memcpy(&bits, &key[order[i]], sizeof(bits));
			count[bits >> shift & (BUCKETS - 1)]++;
		}
		for (size_t b = 0; b < BUCKETS; b++) {
			size_t k = count[b];

			one |= k == n;
			count[b] = sum;
			sum += k;
		}
		if (one)
			continue; /* every key has this digit */
		for (size_t i = 0; i < n; i++) {
			memcpy(&bits, &key[order[i]], sizeof(bits));
			tmp[count[bits >> shift & (BUCKETS - 1)]++] = order[i];
		}
		memcpy(order, tmp, n * sizeof(*order));
	}
}

/* ---- filling ----------------------------------------------------------------------------- */

/* Resource r's capacity, from the small table when there is one (the same value). */
static inline double cap_of(const struct plan_ctx *c, uint32_t r)
{
	return c->cap_index ? c->cap_value[c->cap_index[r]] : c->cap[r];
}

/* The utilisation of flow f's own limiting resource (none: 0) at its rate. */
static double own_load(const struct plan_ctx *c, const struct plan_fill_scratch *w,
		       const struct plan_pattern *pat, size_t f)
{
	double used = 0;

	if (pat->limit[f] == PLAN_NO_LIMIT)
		return 0;
	if (isfinite(pat->rate[f]))
		used += w->lim_frac[f] * pat->rate[f];
	return used / c->cap[pat->limit[f]];
}

/* A shared resource has filled and all its flows have their rates: its utilisation is the
 * load of those it froze just now (their load NAN), and it is what limited them. */
static void resource_load(const struct plan_fill_scratch *w, struct plan_pattern *pat,
			  const struct shared_fixed *x, bool unit)
{
	double used = 0;
	bool any = false;

	for (size_t q = x->first; q < x->first + x->n; q++) {
		any |= isnan(pat->load[w->csr[q]]);
		if (isfinite(pat->rate[w->csr[q]]))
			used += (unit ? 1.0 : w->csr_frac[q]) * pat->rate[w->csr[q]];
	}
	if (!any)
		return;
	used /= x->cap;
	for (size_t q = x->first; q < x->first + x->n; q++)
		if (isnan(pat->load[w->csr[q]])) {
			pat->load[w->csr[q]] = used;
			pat->limit[w->csr[q]] = x->res;
		}
}

/* The slowest time so far (*xmax) with flow f frozen at rate (stop: the phase's bytes). */
static inline void note_frozen(const struct plan_fill_stop *stop, const uint8_t *cls, size_t f,
			       double rate, double *xmax, size_t *unfrozen)
{
	double x;

	if (!stop)
		return;
	unfrozen[cls[f]]--;
	x = plan_flow_time(stop->alpha, stop->scale, cls[f], stop->ph->flows[f].bytes, rate);
	*xmax = x > *xmax ? x : *xmax;
}

/* May the filling stop before level `next`?  Every class's unfrozen flows, carrying at most
 * bmax[class] at a rate of at least next (less a margin for rounding), are faster than xmax. */
static bool may_stop(const struct plan_fill_stop *stop, const size_t *unfrozen, const double *bmax,
		     double xmax, double next)
{
	for (unsigned cl = 0; cl < PLAN_C_COUNT; cl++)
		if (unfrozen[cl] && !(plan_flow_time(stop->alpha, stop->scale, cl, bmax[cl],
						     next * (1 - PLAN_FILL_MARGIN)) < xmax))
			return false;
	return true;
}

/*
 * A phase of groups (struct plan_phase: each node's flows inside its node, hier's staging):
 * when every group's flows use resources as the first group's do (the same number of uses per
 * flow, one resource wherever the first group has one, equal capacities and fractions) and no
 * resource serves two groups, the groups fill alike and apart (a filling orders one group's
 * events among themselves as it would alone), so the first group is filled alone and copied,
 * its limiting resources taken at the same places in each group's uses.  *done false (nothing
 * changed) when the groups are not so.  0 or -ENOMEM.
 */
static int fill_by_groups(struct plan_ctx *c, struct plan_pattern *pat, bool *done)
{
	struct plan_layout *lay = &c->layout;
	uint32_t *tag = c->fill.tag;
	size_t m = lay->group, nf = lay->n_flows, nu0, nres0 = 0, checked = 0;
	uint32_t *lid0, *res0, *rg, *limpos;
	bool alike = true;
	int err = 0;

	*done = false;
	if (!m || nf % m || nf / m < 2)
		return 0;
	nu0 = lay->start[m];
	lid0 = malloc((nu0 ? nu0 : 1) * sizeof(*lid0));
	res0 = malloc((nu0 ? nu0 : 1) * sizeof(*res0));
	rg = malloc((nu0 ? nu0 : 1) * sizeof(*rg));
	limpos = malloc(m * sizeof(*limpos));
	if (!lid0 || !res0 || !rg || !limpos) {
		err = -ENOMEM;
		goto out;
	}
	/* the first group's resources numbered in the order of first use (tag: number + 1) */
	for (size_t q = 0; q < nu0; q++) {
		uint32_t r = lay->res[q];

		if (!tag[r]) {
			res0[nres0] = r;
			tag[r] = (uint32_t)++nres0;
		}
		lid0[q] = tag[r] - 1;
	}
	/* every other group: the same shape on resources of its own (tag 1: taken) */
	for (size_t g = 1; alike && g < nf / m; g++) {
		size_t f0 = g * m, u0 = lay->start[f0];

		checked = g;
		if (lay->start[f0 + m] - u0 != nu0) {
			alike = false;
			break;
		}
		for (size_t j = 0; alike && j < m; j++)
			alike = lay->start[f0 + j + 1] - lay->start[f0 + j] ==
				lay->start[j + 1] - lay->start[j];
		for (size_t i = 0; i < nres0; i++)
			rg[i] = UINT32_MAX;
		for (size_t q = 0; alike && q < nu0; q++) {
			uint32_t r = lay->res[u0 + q], l = lid0[q];

			if (rg[l] == UINT32_MAX) {
				alike = !tag[r] && cap_of(c, r) == cap_of(c, res0[l]);
				tag[r] = 1;
				rg[l] = r;
			} else {
				alike = rg[l] == r;
			}
			if (!lay->unit && lay->frac[u0 + q] != lay->frac[q])
				alike = false;
		}
	}
	/* the tags back to 0: every use of the groups looked at */
	for (size_t u = 0; u < lay->start[(checked + 1) * m]; u++)
		tag[lay->res[u]] = 0;
	if (!alike)
		goto out;
	/* the first group alone, then copied */
	lay->n_flows = m;
	lay->n_uses = nu0;
	lay->group = 0;
	err = plan_flow_fill(c, pat, NULL);
	lay->n_flows = nf;
	lay->n_uses = lay->start[nf];
	lay->group = m;
	if (err)
		goto out;
	for (size_t j = 0; j < m; j++) {
		limpos[j] = UINT32_MAX;
		for (size_t q = lay->start[j]; q < lay->start[j + 1]; q++)
			if (lay->res[q] == pat->limit[j]) {
				limpos[j] = (uint32_t)(q - lay->start[j]);
				break;
			}
	}
	for (size_t f = m; f < nf; f++) {
		size_t j = f % m;

		pat->rate[f] = pat->rate[j];
		pat->load[f] = pat->load[j];
		if (pat->alone)
			pat->alone[f] = pat->alone[j];
		pat->limit[f] = limpos[j] == UINT32_MAX ? PLAN_NO_LIMIT
							: lay->res[lay->start[f] + limpos[j]];
	}
	*done = true;
out:
	free(lid0);
	free(res0);
	free(rg);
	free(limpos);
	return err;
}

int plan_flow_fill(struct plan_ctx *c, struct plan_pattern *pat, const struct plan_fill_stop *stop)
{
	const struct plan_layout *lay = &c->layout;
	struct plan_fill_scratch *w = &c->fill;
	size_t nf = lay->n_flows, nu = lay->n_uses, ns = 0, ncsr = 0, hn = 0, si = 0;
	const bool unit = lay->unit;
	size_t left = nf, pi = 0, nfsh = 0, no = 0;
	uint32_t *tag = w->tag;
	struct shared *sh;
	struct shared_fixed *fx;
	struct hent *heap;
	double level = 0;
	/* stop: flows not frozen per class, the most bytes of a class, the slowest time */
	size_t unfrozen[PLAN_C_COUNT] = {0};
	double bmax[PLAN_C_COUNT] = {0}, xmax = -INFINITY;

	pat->lower = 0;
	if (lay->group) {
		bool done;
		int err = fill_by_groups(c, pat, &done);

		if (err || done)
			return err;
	}
	if (scratch(w, nf, nu, nu))
		return -ENOMEM;
	for (size_t f = 0; stop && f < nf; f++) {
		unsigned cl = lay->cls[f];
		double b = stop->ph->flows[f].bytes; /* never NAN: no fmax call */

		unfrozen[cl]++;
		bmax[cl] = b > bmax[cl] ? b : bmax[cl];
	}
	sh = w->shared;
	fx = w->shared_fixed;
	heap = w->heap;
	/* count each resource's uses */
	for (size_t u = 0; u < nu; u++) {
		if (u + 16 < nu)
			__builtin_prefetch(&tag[lay->res[u + 16]]);
		tag[lay->res[u]]++;
	}
	/* per flow: its shared resources (numbered in the order of first use, their flows'
	 * places in the CSR), its cap from those it has alone, its rate alone; a resource used
	 * once gets its tag back to 0 at once, a shared one at the end */
	w->fsh_start[0] = 0;
	for (size_t f = 0; f < nf; f++) {
		double alone = INFINITY, fcap = INFINITY, lfrac = 1;
		uint32_t limit = PLAN_NO_LIMIT;

		for (size_t u = lay->start[f]; u < lay->start[f + 1]; u++) {
			uint32_t r, t;

			if (u + 16 < nu)
				__builtin_prefetch(&tag[lay->res[u + 16]]);
			r = lay->res[u];
			t = tag[r];
			double frac = unit ? 1.0 : lay->frac[u], a;

			if (t >= 2 && !(t & SHARED_BIT)) { /* first use of a shared resource */
				sh[ns] = (struct shared){0};
				fx[ns] = (struct shared_fixed){
					.cap = cap_of(c, r), .first = (uint32_t)ncsr, .res = r};
				ncsr += t;
				t = tag[r] = SHARED_BIT | (uint32_t)ns++;
			}
			if (t & SHARED_BIT) {
				struct shared_fixed *x = &fx[t & ~SHARED_BIT];

				a = x->cap / frac;
				sh[t & ~SHARED_BIT].weight += frac;
				w->csr[x->first + x->n] = (uint32_t)f;
				if (!unit)
					w->csr_frac[x->first + x->n] = frac;
				x->n++;
				w->fsh_id[nfsh] = t & ~SHARED_BIT;
				if (!unit)
					w->fsh_frac[nfsh] = frac;
				nfsh++;
			} else {
				tag[r] = 0;
				a = cap_of(c, r) / frac;
				if (a < fcap) {
					fcap = a;
					limit = r;
					lfrac = frac;
				}
			}
			alone = a < alone ? a : alone; /* fmin: never NaN here */
		}
		w->fsh_start[f + 1] = (uint32_t)nfsh;
		w->fcap[f] = fcap;
		w->lim_frac[f] = lfrac;
		w->frozen[f] = false;
		if (pat->alone)
			pat->alone[f] = alone;
		pat->limit[f] = limit;
		pat->rate[f] = INFINITY; /* a flow nothing limits */
		if (nfsh == w->fsh_start[f]) {
			/* it shares nothing: its own cap is its rate, whenever the filling would
			 * reach it, and its freezing changes nothing else */
			pat->rate[f] = fcap;
			w->frozen[f] = true;
			left--;
			pat->load[f] = own_load(c, w, pat, f);
			note_frozen(stop, lay->cls, f, fcap, &xmax, unfrozen);
		} else {
			w->order[no++] = (uint32_t)f;
		}
	}
	for (size_t i = 0; i < ns; i++)
		tag[fx[i].res] = 0;
	sort_by_key(w->order, w->order_tmp, w->fcap, no);
	/* the shared resources by the level at which each fills first, then by number (the
	 * sort is stable) */
	for (size_t i = 0; i < ns; i++) {
		w->first_key[i] = fx[i].cap / sh[i].weight;
		w->by_key[i] = (uint32_t)i;
	}
	sort_by_key(w->by_key, w->by_key_tmp, w->first_key, ns);
	while (left) {
		double hk = INFINITY, pk;
		size_t first, count;
		uint32_t by = UINT32_MAX, top = UINT32_MAX;
		bool in_heap = false;
		const uint32_t *flows;

		/* the least (level, number) of the sorted first levels and the heap; keys only
		 * grow (a frozen flow leaves its resources): a stale key is a lower bound,
		 * refreshed when it comes first, and the resource then waits on the heap */
		while (si < ns || hn) {
			double k;

			if (si < ns) {
				top = w->by_key[si];
				k = w->first_key[top];
				in_heap = hn && before(heap[0].key, heap[0].id, k, top);
			} else {
				in_heap = true;
			}
			if (in_heap) {
				top = heap[0].id;
				k = heap[0].key;
			}
			struct shared *x = &sh[top];

			if (x->weight <= 1e-12) {
				if (in_heap)
					heap_pop(heap, &hn);
				else
					si++;
			} else if (x->stale) {
				k = x->stamp + fmax(0, fx[top].cap - x->used) / x->weight;
				x->stale = false;
				if (in_heap) {
					heap[0].key = k;
					heap_down(heap, hn, 0);
				} else {
					si++;
					heap_push(heap, &hn, (struct hent){k, top});
				}
			} else {
				hk = k;
				break;
			}
		}
		while (pi < no && w->frozen[w->order[pi]])
			pi++;
		pk = pi < no ? w->fcap[w->order[pi]] : INFINITY;
		if (!isfinite(hk) && !isfinite(pk))
			break; /* the rest touch nothing that limits them */
		if (stop && may_stop(stop, unfrozen, bmax, xmax, fmin(hk, pk))) {
			pat->lower = fmin(hk, pk) * (1 - PLAN_FILL_MARGIN);
			break;
		}
		if (pk <= hk) { /* a flow reaches its own cap */
			level = pk;
			flows = w->order;
			first = pi++;
			count = 1;
		} else { /* a shared resource fills: all its flows stop */
			by = top;
			level = hk;
			if (in_heap)
				heap_pop(heap, &hn);
			else
				si++;
			flows = w->csr;
			first = fx[by].first;
			count = fx[by].n;
		}
		for (size_t q = first; q < first + count; q++) {
			uint32_t f = flows[q];

			if (w->frozen[f])
				continue;
			w->frozen[f] = true;
			left--;
			pat->rate[f] = level;
			note_frozen(stop, lay->cls, f, level, &xmax, unfrozen);
			if (by == UINT32_MAX)
				pat->load[f] = own_load(c, w, pat, f);
			else
				pat->load[f] = NAN; /* the resource's, once all its flows are in */
			for (uint32_t k = w->fsh_start[f]; k < w->fsh_start[f + 1]; k++) {
				struct shared *x = &sh[w->fsh_id[k]];

				x->used += x->weight * (level - x->stamp);
				x->stamp = level;
				x->weight -= unit ? 1.0 : w->fsh_frac[k];
				x->stale = true;
			}
		}
		if (by != UINT32_MAX)
			resource_load(w, pat, &fx[by], unit);
	}
	/* flows nothing limited: no load; stopped early: the flows left have no rate yet (each
	 * is at least pat->lower) */
	for (size_t f = 0; left && f < nf; f++)
		if (!w->frozen[f]) {
			pat->load[f] = 0;
			if (pat->lower > 0)
				pat->rate[f] = NAN;
		}
	return 0;
}
