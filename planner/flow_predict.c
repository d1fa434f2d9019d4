/*
 * flow_predict.c - the time of one all-reduce on the flow engine: the algorithm's schedule
 * (schedule.c), the rates of each phase's flows (routed by flow_route.c, filled by
 * flow_fill.c), and the call's time summed over its phases.
 *
 * A phase's rates depend only on which flows run, never on their bytes, so they are computed
 * once per distinct flow pattern and kept across calls (a ring's 2(p-1) steps, rhd's halving
 * and doubling at one distance, and every size of a sweep share one).  The filling stops once
 * the flows left cannot be the slowest of the phase that asked; a later phase for which they
 * could be (other bytes, other latencies) has the pattern filled to the end first, so the
 * answer is always the full filling's.
 *
 * Step time = max over flows (alpha of its class + bytes / (rate x efficiency of its class))
 * + gamma x bytes reduced; phase time = repeat x step time + fill steps x the slowest flow's
 * time at its uncontended rate (a pipeline filling); a call = the sum of its phases, then the
 * calibration's per-algorithm overhead + scale.  The bottleneck reported is the resource that
 * set the slowest flow's rate in the longest phase.  The closed-form engine (--engine closed)
 * shares only the links at the endpoints (NICs, in-node links, memory), i.e. the
 * alpha-beta-gamma model with every rank on its own full-bisection network.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

/* Rates of a phase's flows: from the cache, or routed and filled now (with stop, possibly
 * partial: flow_fill.c). */
static int phase_rates(struct plan_ctx *c, const struct plan_phase *ph,
		       const struct plan_fill_stop *stop, struct plan_pattern **out)
{
	struct plan_pattern *pat;
	size_t n = ph->n_flows ? ph->n_flows : 1;
	int err = -ENOMEM;

	for (size_t i = 0; i < c->n_patterns; i++)
		if (c->patterns[i].hash == ph->pattern && c->patterns[i].n_flows == ph->n_flows &&
		    (c->patterns[i].alone || ph->fill_steps == 0)) {
			*out = &c->patterns[i];
			return 0;
		}
	if (c->n_patterns == PLAN_PATTERN_CACHE)
		plan_flow_drop_patterns(c);
	pat = &c->patterns[c->n_patterns];
	*pat = (struct plan_pattern){.hash = ph->pattern, .n_flows = ph->n_flows};
	pat->rate = malloc(n * sizeof(double));
	pat->cls = malloc(n);
	/* the rates alone only for a pipeline's filling: a quarter less memory to touch */
	pat->alone = ph->fill_steps != 0 ? malloc(n * sizeof(double)) : NULL;
	pat->limit = malloc(n * sizeof(uint32_t));
	pat->load = malloc(n * sizeof(double));
	if (!pat->rate || !pat->cls || (ph->fill_steps != 0 && !pat->alone) || !pat->limit ||
	    !pat->load)
		goto err_free;
	err = plan_flow_route(c, ph);
	if (!err)
		err = plan_flow_fill(c, pat, stop);
	if (err)
		goto err_free;
	memcpy(pat->cls, c->layout.cls, ph->n_flows);
	c->n_patterns++;
	*out = pat;
	return 0;
err_free:
	free(pat->rate);
	free(pat->cls);
	free(pat->alone);
	free(pat->limit);
	free(pat->load);
	return err;
}

/* ---- prediction -------------------------------------------------------------------------- */

static const struct plan_link_fit *fit_of(const struct plan_ctx *c, int cls)
{
	static const struct plan_link_fit ideal = {.efficiency = 1, .rate = PLAN_SHM_RATE};

	return c->s.calib && c->s.calib->link[cls].set ? &c->s.calib->link[cls] : &ideal;
}

/* What the phases of one call add up to (plan_predict hands predict_phase each phase). */
struct call {
	struct plan_ctx *c;
	double alpha[PLAN_C_COUNT], scale[PLAN_C_COUNT], gamma;
	double total, worst_phase;
	struct plan_prediction *out;
};

static int predict_phase(void *arg, const struct plan_phase *ph)
{
	struct call *k = arg;
	struct plan_ctx *c = k->c;
	struct plan_prediction *out = k->out;
	const double *alpha = k->alpha, *scale = k->scale;
	struct plan_pattern *pat;
	double step = 0, fill = 0, t;
	size_t slowest = 0;
	int err;

	if (!ph->n_flows)
		return 0;
	err = phase_rates(c, ph, &(struct plan_fill_stop){ph, alpha, scale}, &pat);
	if (err)
		return err;
	for (;;) {
		double bmax[PLAN_C_COUNT] = {0};
		bool left[PLAN_C_COUNT] = {false}, known = true;

		for (size_t f = 0; f < ph->n_flows; f++) {
			unsigned cl = pat->cls[f];
			double b = ph->flows[f].bytes, x;

			if (isnan(pat->rate[f])) { /* a partial pattern's: at least pat->lower */
				left[cl] = true;
				bmax[cl] = b > bmax[cl] ? b : bmax[cl];
				continue;
			}
			x = plan_flow_time(alpha, scale, cl, b, pat->rate[f]);
			if (x > step) {
				step = x;
				slowest = f;
			}
		}
		/* the flows without a rate are faster than the slowest: step and slowest are
		 * what the full rates give; else fill the pattern to the end */
		for (unsigned cl = 0; cl < PLAN_C_COUNT; cl++)
			if (left[cl] &&
			    !(plan_flow_time(alpha, scale, cl, bmax[cl], pat->lower) < step))
				known = false;
		if (known)
			break;
		err = plan_flow_route(c, ph);
		if (!err)
			err = plan_flow_fill(c, pat, NULL);
		if (err)
			return err;
		step = 0;
		slowest = 0;
	}
	/* filling and draining a pipeline: few flows at once, each at its own rate */
	for (size_t f = 0; ph->fill_steps != 0 && f < ph->n_flows; f++) {
		double y = plan_flow_time(alpha, scale, pat->cls[f], ph->flows[f].bytes,
					  pat->alone[f]);

		fill = y > fill ? y : fill;
	}
	step += k->gamma * ph->reduce_bytes;
	t = ph->repeat * step + ph->fill_steps * fill;
	k->total += t;
	/* the bottleneck: what set the rate of the slowest flow of the longest phase */
	if (t > k->worst_phase && pat->limit[slowest] != PLAN_NO_LIMIT) {
		uint32_t res = pat->limit[slowest];

		k->worst_phase = t;
		out->utilisation = pat->load[slowest];
		if (res >= c->shm_base) {
			out->bottleneck_class = -1;
			out->bottleneck_tier = -1;
		} else {
			const struct topo_link *l = &c->s.g->links[res / 2];

			out->bottleneck_class = l->cls;
			out->bottleneck_tier = -1;
			if (l->cls == TOPO_L_FABRIC) {
				const struct topo_vertex *va = &c->s.g->vertices[l->a];
				const struct topo_vertex *vb = &c->s.g->vertices[l->b];

				out->bottleneck_tier =
					va->local < vb->local ? va->local : vb->local;
			}
		}
	}
	return 0;
}

int plan_predict(struct plan_ctx *c, const char *algo, size_t bytes, size_t esize,
		 struct plan_prediction *out)
{
	struct call k = {.c = c, .worst_phase = -1, .out = out};
	double total;
	int err;

	memset(out, 0, sizeof(*out));
	out->bottleneck_class = -1;
	out->bottleneck_tier = -1;
	k.gamma = c->s.calib ? c->s.calib->gamma_s_per_byte : 0;
	/* per link class: latency, and what multiplies a rate (efficiency; shared memory: its
	 * rate, as a flow's rate there is a share of its node's memory) */
	for (int i = 0; i < PLAN_C_COUNT; i++) {
		const struct plan_link_fit *lf = fit_of(c, i);

		k.alpha[i] = lf->alpha_s;
		k.scale[i] = i == PLAN_C_SHM ? (lf->rate > 0 ? lf->rate : PLAN_SHM_RATE)
					     : lf->efficiency;
	}
	/* phase by phase, as the schedule makes them (none is kept: the cache keeps rates) */
	err = plan_schedule_each(algo, c->s.ranks, c->node, bytes / esize, esize, &c->s.lib,
				 predict_phase, &k);
	if (err)
		return err;
	total = k.total;
	{
		const struct plan_algo_fit *af =
			c->s.calib ? plan_calib_algo(c->s.calib, algo,
						     c->n_nodes > 1 ? PLAN_C_NET : PLAN_C_SHM)
				   : NULL;

		out->time_s = af ? af->overhead_s + af->scale * total : total;
	}
	/* lower bound: across the nodes, 2(N-1) n bytes must cross NICs in all (every edge of a
	 * tree carries n each way; a ring moves 2(N-1)/N n per node), and every node must send
	 * its own n; every GPU must send its n over its own links.  With equal nodes this is
	 * 2(N-1)/N n / B, the usual bound. */
	{
		double n = (double)(bytes / esize * esize), b = 0;
		int N = c->n_nodes;

		if (N > 1 && isfinite(c->node_inject_min) && c->node_inject_sum > 0)
			b = fmax(n / c->node_inject_min, 2.0 * (N - 1) * n / c->node_inject_sum);
		if (c->s.ranks > 1 && c->gpu_inject_min > 0)
			b = fmax(b, n / c->gpu_inject_min);
		out->bound_s = b;
	}
	if (c->s.calib) {
		int cls = c->n_nodes > 1 ? PLAN_C_NET : PLAN_C_SHM;
		const struct plan_link_fit *lf = &c->s.calib->link[cls];

		if (!lf->set || (double)bytes < lf->min_bytes * 0.999 ||
		    (double)bytes > lf->max_bytes * 1.001)
			out->extrapolated = true;
		if (cls == PLAN_C_NET && lf->set &&
		    (c->net_rate_min < lf->min_rate * 0.99 ||
		     c->net_rate_max > lf->max_rate * 1.01))
			out->extrapolated = true;
	}
	return 0;
}
