/*
 * progress.c - progress lines with an estimate of the time left, for the all-reduce sweep and
 * `arbench links`: on stderr (never mixed into the table on stdout), from one rank, once the
 * run has taken 3 s, at most once a second, never with -q.  The estimate extrapolates the
 * time spent per unit of work so far (work: bytes moved plus a per-message cost, which grows
 * about linearly with time on one machine).
 */
#include "bench/bench.h"

#define PROGRESS_AFTER_SEC 3.0
#define PROGRESS_EVERY_SEC 1.0

void bench_progress_start(struct bench_progress *p, double total_work, bool enabled)
{
	p->t_start = MPI_Wtime();
	p->t_last = p->t_start;
	p->total = total_work;
	p->done = 0;
	p->enabled = enabled;
}

void bench_progress_add(struct bench_progress *p, double done_work)
{
	p->done += done_work;
}

double bench_progress_eta(const struct bench_progress *p, double now)
{
	if (p->done <= 0 || p->total <= 0 || now <= p->t_start)
		return -1;
	if (p->done >= p->total)
		return 0;
	return (now - p->t_start) * (p->total - p->done) / p->done;
}

void bench_progress_show(struct bench_progress *p, const char *what)
{
	double now = MPI_Wtime(), eta;

	if (!p->enabled || now - p->t_start < PROGRESS_AFTER_SEC ||
	    now - p->t_last < PROGRESS_EVERY_SEC)
		return;
	p->t_last = now;
	eta = bench_progress_eta(p, now);
	if (eta < 0)
		fprintf(stderr, "[%s] %.0f s so far\n", what, now - p->t_start);
	else if (eta < 120)
		fprintf(stderr, "[%s] %.0f%%, about %.0f s left\n", what, 100 * p->done / p->total,
			eta);
	else
		fprintf(stderr, "[%s] %.0f%%, about %.0f min left\n", what,
			100 * p->done / p->total, eta / 60);
}
