/*
 * overlap_step.c - one emulated data-parallel training step for `arbench overlap`: a GPU thread
 * that computes by sleeping (the CPU stays free, as it does while a GPU computes) through
 * forward and backward and marks each DDP gradient bucket ready at the time the planner's
 * timeline gives (planner/step.c, plan_timeline_load), while the calling thread, the only one
 * that calls MPI (so MPI_THREAD_FUNNELED is enough), all-reduces each bucket as soon as it is
 * ready, as DDP does on its own stream during backward.
 *
 *   GPU thread:   |--- forward, earlier micro-batches ---|-- last backward: r0  r1  r2 ... --|
 *   comm thread:                                          [ar b0][ar b1]  [ar b2] ...  [ar bn]
 *                                                                              exposed: |----|
 *
 * Both threads read CLOCK_MONOTONIC; the GPU thread sleeps to absolute times from the step's
 * start, so late wake-ups do not add up.
 */
#include "bench/internal.h"
#include "planner/planner.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct bench__gpu {
	const struct plan_timeline *t;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	unsigned long started; /* steps the comm thread has started */
	double t0;	       /* the current step's start (monotonic seconds) */
	size_t ready;	       /* buckets ready in the current step */
	double bwd_end;	       /* the end of backward in the current step, 0 before it */
	bool quit;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
	struct timespec ts = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *gpu_main(void *arg)
{
	struct bench__gpu *g = arg;
	const struct plan_timeline *t = g->t;
	unsigned long done = 0;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		double t0, end;

		while (g->started == done && !g->quit)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->quit)
			break;
		done = g->started;
		t0 = g->t0;
		pthread_mutex_unlock(&g->mu);
		/* backward ends when its sleep does: taken before the buckets ready at that
		 * moment are handed over, which costs this thread the CPU */
		end = 0;
		for (size_t i = 0, j; i < t->n_buckets; i = j) {
			double tn;

			sleep_until(t0 + t->ready_s[i]);
			tn = now();
			if (!end && tn >= t0 + t->bwd_end_s)
				end = tn;
			for (j = i + 1; j < t->n_buckets && t0 + t->ready_s[j] <= tn; j++)
				;
			pthread_mutex_lock(&g->mu);
			g->ready = j;
			pthread_cond_broadcast(&g->cv);
			pthread_mutex_unlock(&g->mu);
		}
		if (!end) {
			sleep_until(t0 + t->bwd_end_s);
			end = now();
		}
		pthread_mutex_lock(&g->mu);
		g->bwd_end = end;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int bench__gpu_start(const struct plan_timeline *t, struct bench__gpu **out)
{
	struct bench__gpu *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return -ENOMEM;
	g->t = t;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	rc = pthread_create(&g->thread, NULL, gpu_main, g);
	if (rc) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return -rc;
	}
	*out = g;
	return 0;
}

void bench__gpu_stop(struct bench__gpu *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->quit = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int bench__gpu_step(struct bench__gpu *g, struct ar_comm *c, const char *algo, const float *sendbuf,
		    float *recvbuf, const size_t *offsets, const size_t *counts,
		    struct bench__step_times *times)
{
	const struct plan_timeline *t = g->t;
	double t0, last = 0, comm = 0, bwd_end;
	int rc;

	pthread_mutex_lock(&g->mu);
	g->ready = 0;
	g->bwd_end = 0;
	g->t0 = t0 = now();
	g->started++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	for (size_t i = 0; i < t->n_buckets; i++) {
		double s;

		pthread_mutex_lock(&g->mu);
		while (g->ready <= i)
			pthread_cond_wait(&g->cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
		s = now();
		rc = ar_allreduce(c, algo, sendbuf + offsets[i], recvbuf + offsets[i], counts[i],
				  AR_FLOAT, AR_SUM);
		if (rc) {
			/* let the GPU thread finish its step before anyone stops it */
			pthread_mutex_lock(&g->mu);
			while (g->bwd_end == 0)
				pthread_cond_wait(&g->cv, &g->mu);
			pthread_mutex_unlock(&g->mu);
			return rc;
		}
		last = now();
		comm += last - s;
	}
	pthread_mutex_lock(&g->mu);
	while (g->bwd_end == 0)
		pthread_cond_wait(&g->cv, &g->mu);
	bwd_end = g->bwd_end;
	pthread_mutex_unlock(&g->mu);
	times->compute = bwd_end - t0;
	times->comm = comm;
	times->exposed = last > bwd_end ? last - bwd_end : 0;
	times->step = (last > bwd_end ? last : bwd_end) - t0;
	times->idle = times->step > 0 ? times->exposed / times->step : 0;
	return 0;
}
