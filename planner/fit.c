/*
 * fit.c - calibration: the link model's figures fitted to arbench measurements.
 *
 * Stage 1 (GSL's nonlinear least squares, gsl_multifit_nlinear, trust region): per link class
 * with data, a per-step latency alpha and an efficiency (net: fraction of the topology's link
 * rate; shm: the node's memory rate in bytes/s), and gamma, the reduction cost per byte;
 * fitted to every row of ring, tree, hier and rhd at once through the flow engine itself, with
 * relative residuals (pred - meas) / meas so that every size counts alike.  Parameters are
 * fitted as logarithms (they stay positive); the shm rate and gamma as logistics between
 * bounds (struct bound), because runs on one host often cannot tell the copy from the
 * reduction: both cost per byte, one of them then carries both and the other would run off
 * to infinity or zero.  The report says when a figure sits at its bound.
 *
 * Measured times are each row's median over iterations (plan_row_seconds).
 *
 * Stage 2 (gsl_fit_wlinear): per algorithm, time = overhead + scale x model, weighted by
 * 1 / measured^2 (relative); a negative overhead is refitted as 0 (gsl_fit_wmul).
 */
#include <errno.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

struct point {
	const struct plan_fit_input *in;
	const struct plan_row *row;
};

enum { P_NET_ALPHA, P_NET_EFF, P_SHM_ALPHA, P_SHM_RATE, P_GAMMA, P_COUNT };

/* Bounds of the parameters fitted as logistics: log value = log lo + logistic(x) x
 * log(hi / lo).  The shm rate, bytes/s: a host's memory copies between 0.1 and 500 GB/s (a
 * 2-socket server with 12 DDR5 channels per socket streams under 1 TB/s).  Gamma, s/B: a
 * reduction between 10 MB/s and 10 TB/s (a GPU's HBM, read twice and written once). */
static const struct bound {
	int param;
	double lo, hi;
} bounds[] = {
	{P_SHM_RATE, 0.1e9, 500e9},
	{P_GAMMA, 1e-13, 1e-7},
};

static const struct bound *bound_of(int k)
{
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (bounds[i].param == k)
			return &bounds[i];
	return NULL;
}

/* A parameter's value from its fit variable, and back. */
static double param_of(int k, double x)
{
	const struct bound *b = bound_of(k);

	return b ? b->lo * exp(log(b->hi / b->lo) / (1 + exp(-x))) : exp(x);
}

static double var_of(int k, double v)
{
	const struct bound *b = bound_of(k);
	double s = b ? log(v / b->lo) / log(b->hi / b->lo) : 0;

	return b ? log(s / (1 - s)) : log(v);
}

/* " (at the fit's ... bound ...)" when parameter k's value v is within 1% of a bound, else "". */
static const char *at_bound(int k, double v)
{
	const struct bound *b = bound_of(k);

	if (b && (v > 0.99 * b->hi || v < 1.01 * b->lo))
		return " (at a bound of the fit: these runs do not separate the copy from the "
		       "reduction, so the other per-byte figure carries both)";
	return "";
}

struct problem {
	struct point *pts;
	size_t n;
	int use[P_COUNT]; /* parameter index in the vector, -1 when not fitted */
	size_t np;
	struct plan_calib *calib;
	double fixed[P_COUNT]; /* values of parameters not fitted */
};

static void apply(struct problem *pb, const gsl_vector *x)
{
	double v[P_COUNT];

	for (int k = 0; k < P_COUNT; k++)
		v[k] = pb->use[k] >= 0 ? param_of(k, gsl_vector_get(x, (size_t)pb->use[k]))
				       : pb->fixed[k];
	pb->calib->link[PLAN_C_NET].alpha_s = v[P_NET_ALPHA];
	pb->calib->link[PLAN_C_NET].efficiency = v[P_NET_EFF];
	pb->calib->link[PLAN_C_SHM].alpha_s = v[P_SHM_ALPHA];
	pb->calib->link[PLAN_C_SHM].rate = v[P_SHM_RATE];
	pb->calib->gamma_s_per_byte = v[P_GAMMA];
}

/* The measured time of a row: the median over its iterations (arbench's p50), which a few
 * iterations disturbed by other work on the machine do not move; the mean when the file has
 * no median (nccl-tests). */
double plan_row_seconds(const struct plan_row *row)
{
	return (row->p50_us > 0 ? row->p50_us : row->time_us) * 1e-6;
}
#define measured(row) plan_row_seconds(row)

static int predict_point(const struct point *pt, double *t)
{
	struct plan_prediction pr;
	int err = plan_predict(pt->in->ctx, pt->row->algo, pt->row->size, pt->row->esize, &pr);

	*t = pr.time_s;
	return err;
}

static int residuals(const gsl_vector *x, void *arg, gsl_vector *f)
{
	struct problem *pb = arg;

	apply(pb, x);
	for (size_t i = 0; i < pb->n; i++) {
		double t, meas = measured(pb->pts[i].row);

		if (predict_point(&pb->pts[i], &t))
			return GSL_EFAILED;
		gsl_vector_set(f, i, (t - meas) / meas);
	}
	return GSL_SUCCESS;
}

static bool known_algo(const char *a)
{
	for (const char *const *p = plan_algos; *p; p++)
		if (!strcmp(*p, a))
			return true;
	for (const char *const *p = plan_gpu_algos; *p; p++)
		if (!strcmp(*p, a))
			return true;
	return false;
}

/* The class of a point's call: one host (shm) or several nodes (net). */
static int point_class(const struct point *pt)
{
	double a, b;
	int nodes;

	plan_ctx_rates(pt->in->ctx, &a, &b, &nodes);
	return nodes > 1 ? PLAN_C_NET : PLAN_C_SHM;
}

static double rms_of(const struct problem *pb, const char *algo, int cls, unsigned *count)
{
	double s = 0;
	unsigned k = 0;

	for (size_t i = 0; i < pb->n; i++) {
		double t, meas = measured(pb->pts[i].row);

		if (algo && (strcmp(pb->pts[i].row->algo, algo) || point_class(&pb->pts[i]) != cls))
			continue;
		if (predict_point(&pb->pts[i], &t))
			continue;
		s += (t - meas) * (t - meas) / (meas * meas);
		k++;
	}
	*count = k;
	return k ? sqrt(s / k) : 0;
}

/* Stage 2: time = overhead + scale x model, per algorithm and class. */
static int fit_algos(struct problem *pb, FILE *report)
{
	struct plan_calib *c = pb->calib;
	static const char *const all[] = {"ring",      "tree",	    "hier", "rhd",
					  "nccl-ring", "nccl-tree", NULL};

	c->n_algo = 0;
	for (int cls = 0; cls < PLAN_C_COUNT; cls++)
		for (const char *const *a = all; *a && c->n_algo < PLAN_MAX_ALGOS; a++) {
			double *x = malloc(pb->n * sizeof(double)),
			       *y = malloc(pb->n * sizeof(double));
			double *w = malloc(pb->n * sizeof(double));
			double c0 = 0, c1 = 1, cov00, cov01, cov11, chisq;
			size_t k = 0;

			if (!x || !y || !w) {
				free(x);
				free(y);
				free(w);
				return -ENOMEM;
			}
			for (size_t i = 0; i < pb->n; i++) {
				double t;

				if (strcmp(pb->pts[i].row->algo, *a) ||
				    point_class(&pb->pts[i]) != cls ||
				    predict_point(&pb->pts[i], &t))
					continue;
				x[k] = t;
				y[k] = measured(pb->pts[i].row);
				w[k] = 1 / (y[k] * y[k]);
				k++;
			}
			if (k >= 2) {
				gsl_fit_wlinear(x, 1, w, 1, y, 1, k, &c0, &c1, &cov00, &cov01,
						&cov11, &chisq);
				if (c0 < 0 || c1 <= 0) {
					c0 = 0;
					gsl_fit_wmul(x, 1, w, 1, y, 1, k, &c1, &cov11, &chisq);
				}
			}
			free(x);
			free(y);
			free(w);
			if (k < 2)
				continue;
			struct plan_algo_fit *af = &c->algo[c->n_algo++];

			snprintf(af->name, sizeof(af->name), "%s", *a);
			af->cls = cls;
			af->scale = c1;
			af->overhead_s = c0;
			af->rms_rel_residual = rms_of(pb, *a, cls, &af->points);
			fprintf(report,
				"  %-9s %-3s scale %.3f, overhead %.1f us: rms residual %.1f%% "
				"over %u rows\n",
				*a, plan_class_names[cls], c1, c0 * 1e6, af->rms_rel_residual * 100,
				af->points);
		}
	return 0;
}

int plan_fit(const struct plan_fit_input *in, size_t n, size_t min_bytes, struct plan_calib *out,
	     FILE *report, char *msg, size_t msglen)
{
	struct problem pb = {.calib = out};
	bool net = false, shm = false;
	gsl_multifit_nlinear_workspace *w = NULL;
	gsl_multifit_nlinear_fdf fdf = {0};
	gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
	gsl_vector *x0 = NULL;
	double init[P_COUNT] = {50e-6, 0.9, 5e-6, 5e9, 1e-10};
	size_t total = 0;
	int info, err = -ENOMEM;

	for (size_t i = 0; i < n; i++)
		total += in[i].res->n_rows;
	pb.pts = calloc(total ? total : 1, sizeof(*pb.pts));
	if (!pb.pts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		double rmin, rmax;
		int nodes;

		plan_ctx_rates(in[i].ctx, &rmin, &rmax, &nodes);
		for (size_t r = 0; r < in[i].res->n_rows; r++) {
			const struct plan_row *row = &in[i].res->rows[r];
			int cls = nodes > 1 ? PLAN_C_NET : PLAN_C_SHM;
			struct plan_link_fit *lf = &out->link[cls];

			if (!known_algo(row->algo) || row->size < min_bytes || !row->size ||
			    !(measured(row) > 0))
				continue;
			pb.pts[pb.n++] = (struct point){&in[i], row};
			net |= nodes > 1;
			shm |= nodes == 1 || in[i].res->ranks > nodes;
			if (!lf->points || (double)row->size < lf->min_bytes)
				lf->min_bytes = (double)row->size;
			if ((double)row->size > lf->max_bytes)
				lf->max_bytes = (double)row->size;
			if (cls == PLAN_C_NET) {
				if (!lf->points || rmin < lf->min_rate)
					lf->min_rate = rmin;
				if (rmax > lf->max_rate)
					lf->max_rate = rmax;
			}
			lf->points++;
		}
	}
	for (int k = 0; k < P_COUNT; k++)
		pb.use[k] = -1;
	pb.use[P_GAMMA] = (int)pb.np++;
	if (net) {
		pb.use[P_NET_ALPHA] = (int)pb.np++;
		pb.use[P_NET_EFF] = (int)pb.np++;
	}
	if (shm) {
		pb.use[P_SHM_ALPHA] = (int)pb.np++;
		pb.use[P_SHM_RATE] = (int)pb.np++;
	}
	memcpy(pb.fixed, init, sizeof(init));
	pb.fixed[P_NET_ALPHA] = pb.fixed[P_SHM_ALPHA] = 0;
	pb.fixed[P_NET_EFF] = 1;
	pb.fixed[P_SHM_RATE] = PLAN_SHM_RATE;
	if (pb.n < pb.np + 2) {
		snprintf(msg, msglen,
			 "%zu usable rows (ring, tree, hier, rhd, size >= %zu B) for %zu figures: "
			 "too few to fit",
			 pb.n, min_bytes, pb.np);
		err = -EINVAL;
		goto out;
	}
	out->n_algo = 0; /* stage 1 fits the link model alone */
	out->link[PLAN_C_NET].set = net;
	out->link[PLAN_C_SHM].set = shm;
	x0 = gsl_vector_alloc(pb.np);
	w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, pb.n, pb.np);
	if (!x0 || !w)
		goto out;
	for (int k = 0; k < P_COUNT; k++)
		if (pb.use[k] >= 0)
			gsl_vector_set(x0, (size_t)pb.use[k], var_of(k, init[k]));
	fdf.f = residuals;
	fdf.n = pb.n;
	fdf.p = pb.np;
	fdf.params = &pb;
	gsl_multifit_nlinear_init(x0, &fdf, w);
	int status = gsl_multifit_nlinear_driver(200, 1e-8, 1e-8, 1e-8, NULL, NULL, &info, w);

	apply(&pb, gsl_multifit_nlinear_position(w));
	if (status != GSL_SUCCESS)
		fprintf(report, "  (the fit stopped before converging: %s)\n",
			gsl_strerror(status));
	fprintf(report, "link model (stage 1: %zu rows, all algorithms, relative residuals):\n",
		pb.n);
	if (net) {
		struct plan_link_fit *lf = &out->link[PLAN_C_NET];

		fprintf(report,
			"  net   alpha %.1f us per step, efficiency %.3f of the link rate "
			"(half efficiency at %.0f B per step)\n",
			lf->alpha_s * 1e6, lf->efficiency,
			lf->alpha_s * lf->min_rate * lf->efficiency);
	}
	if (shm) {
		struct plan_link_fit *lf = &out->link[PLAN_C_SHM];

		fprintf(report, "  shm   alpha %.2f us per step, rate %.2f GB/s%s\n",
			lf->alpha_s * 1e6, lf->rate / 1e9, at_bound(P_SHM_RATE, lf->rate));
	}
	fprintf(report, "  gamma %.3g s/B (reduction at %.2f GB/s)%s\n", out->gamma_s_per_byte,
		out->gamma_s_per_byte > 0 ? 1e-9 / out->gamma_s_per_byte : 0,
		at_bound(P_GAMMA, out->gamma_s_per_byte));
	{
		unsigned k = 0;
		double rms = rms_of(&pb, NULL, 0, &k);

		for (int cls = 0; cls < PLAN_C_COUNT; cls++)
			out->link[cls].rms_rel_residual = out->link[cls].set ? rms : 0;
		fprintf(report,
			"  rms relative residual of the link model alone: %.1f%% (%u rows)\n",
			rms * 100, k);
	}
	fprintf(report, "per-algorithm correction (stage 2: time = overhead + scale x model):\n");
	err = fit_algos(&pb, report);
	if (!err) {
		unsigned k = 0;
		double rms = rms_of(&pb, NULL, 0, &k);

		fprintf(report, "  rms relative residual, calibrated: %.1f%% (%u rows)\n",
			rms * 100, k);
	}
out:
	if (w)
		gsl_multifit_nlinear_free(w);
	if (x0)
		gsl_vector_free(x0);
	free(pb.pts);
	return err;
}
