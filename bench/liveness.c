/*
 * liveness.c - keeping a run from hanging silently and from printing the same error from
 * every rank: collective agreement on a local failure (bad input reported once, by rank 0),
 * the timed arrival check (--timeout: before each size every rank sends a token to rank 0,
 * which names the ranks whose token is missing), and one report for a collective that failed
 * (rank 0 gathers the failing ranks' texts for a moment and names the ranks that sent none).
 */
#include "bench/internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG_ARRIVE  7201
#define TAG_GO	    7202
#define TAG_ERRTEXT 7203
#define ERRTEXT	    BENCH__ERRTEXT

void bench__sleep(double sec)
{
	struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};

	nanosleep(&ts, NULL);
}

/* Print one message from this rank as a single write and abort the whole job. */
_Noreturn void bench__die(const struct bench_live *s, const char *msg)
{
	fprintf(stderr, "arbench: %s\n", msg);
	fflush(stderr);
	MPI_Abort(s->comm, BENCH_EXIT_RUNTIME);
	exit(BENCH_EXIT_RUNTIME); /* not reached */
}

/*
 * Collective agreement on a local failure: if any rank failed, the lowest failing rank's
 * message ends up in err at rank 0 and every rank returns true.
 */
bool bench__agree_failed(const struct bench_live *s, bool failed, const char *msg, char *err,
			 size_t errlen)
{
	int mine = failed ? s->rank : INT_MAX, first;
	char buf[ERRTEXT] = {0};

	MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, s->comm);
	if (first == INT_MAX)
		return false;
	if (first == s->rank && s->rank != 0) {
		snprintf(buf, sizeof(buf), "%s", msg);
		MPI_Send(buf, ERRTEXT, MPI_CHAR, 0, TAG_ERRTEXT, s->ctl);
	} else if (s->rank == 0 && first != 0) {
		MPI_Recv(buf, ERRTEXT, MPI_CHAR, first, TAG_ERRTEXT, s->ctl, MPI_STATUS_IGNORE);
		snprintf(err, errlen, "%s", buf);
	} else if (s->rank == 0) {
		snprintf(err, errlen, "%s", msg);
	}
	return true;
}

/* ---- one report for a failed collective ----------------------------------------------------- */

/*
 * Rank 0 prints the job's one message: first (its own error, or NULL) or the first error text
 * another rank sent within a short grace period, plus which ranks also failed and which sent
 * nothing (the suspects: a rank stuck or stalled reports no error of its own).
 */
static _Noreturn void report_root(const struct bench_live *s, const char *first)
{
	char msg[ERRTEXT * 2], buf[ERRTEXT];
	char *failed = calloc((size_t)s->nranks, 1);
	double deadline = MPI_Wtime() + 0.5;
	size_t n;
	int others = 0, silent = 0;

	snprintf(msg, sizeof(msg), "%s", first ? first : "");
	while (MPI_Wtime() < deadline) {
		MPI_Status st;
		int flag = 0;

		MPI_Iprobe(MPI_ANY_SOURCE, TAG_ERRTEXT, s->ctl, &flag, &st);
		if (!flag) {
			bench__sleep(1e-3);
			continue;
		}
		MPI_Recv(buf, ERRTEXT, MPI_CHAR, st.MPI_SOURCE, TAG_ERRTEXT, s->ctl,
			 MPI_STATUS_IGNORE);
		buf[ERRTEXT - 1] = '\0';
		if (!msg[0])
			snprintf(msg, sizeof(msg), "%s", buf);
		else if (failed)
			failed[st.MPI_SOURCE] = 1;
	}
	n = strlen(msg);
	for (int r = 1; failed && r < s->nranks && n < sizeof(msg) - 32; r++)
		if (failed[r])
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %d",
					      others++ ? "," : "; also failed: rank", r);
	for (int r = 1; failed && first && r < s->nranks && n < sizeof(msg) - 32; r++)
		if (!failed[r])
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %d",
					      silent++ ? "," : "; no error from rank", r);
	bench__die(s, msg);
}

/* A collective failed on this rank.  Others send their text to rank 0 and wait for it to
 * abort the job; if it does not (it may be blocked elsewhere), they report it themselves. */
_Noreturn void bench__collective_failed(const struct bench_live *s, const char *text)
{
	char buf[ERRTEXT];
	MPI_Request req;

	snprintf(buf, sizeof(buf), "%s", text);
	if (s->rank == 0)
		report_root(s, buf);
	MPI_Isend(buf, ERRTEXT, MPI_CHAR, 0, TAG_ERRTEXT, s->ctl, &req);
	bench__sleep(s->timeout > 0 ? 2 * s->timeout + 3 : 5);
	bench__die(s, buf);
}

/* ---- liveness -------------------------------------------------------------------------------- */

/* Rank 0: wait for every rank's token until the deadline, else name the missing ranks. */
static void arrival_root(const struct bench_live *s, const char *what)
{
	MPI_Request *req = calloc((size_t)s->nranks, sizeof(*req));
	int *tok = calloc((size_t)s->nranks, sizeof(*tok));
	double deadline = MPI_Wtime() + s->timeout;
	int flag = 0, go = 1;

	if (!req || !tok)
		bench__die(s, "out of memory in the arrival check");
	req[0] = MPI_REQUEST_NULL;
	for (int r = 1; r < s->nranks; r++)
		MPI_Irecv(&tok[r], 1, MPI_INT, r, TAG_ARRIVE, s->ctl, &req[r]);
	while (MPI_Testall(s->nranks, req, &flag, MPI_STATUSES_IGNORE), !flag) {
		int errs = 0;

		MPI_Iprobe(MPI_ANY_SOURCE, TAG_ERRTEXT, s->ctl, &errs, MPI_STATUS_IGNORE);
		if (errs) /* a rank failed in the last collective instead of arriving */
			report_root(s, NULL);
		if (MPI_Wtime() > deadline) {
			char msg[ERRTEXT];
			size_t n = (size_t)snprintf(msg, sizeof(msg), "timeout: rank");
			int missing = 0;

			for (int r = 1; r < s->nranks && n < sizeof(msg) - 64; r++) {
				int done = 0;

				MPI_Test(&req[r], &done, MPI_STATUS_IGNORE);
				if (!done)
					n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %d",
							      missing++ ? "," : "", r);
			}
			if (!missing) /* every token came in meanwhile: nobody is late */
				break;
			snprintf(msg + n, sizeof(msg) - n,
				 " did not arrive at %s within %g s (--timeout)", what, s->timeout);
			bench__die(s, msg);
		}
		bench__sleep(100e-6);
	}
	for (int r = 1; r < s->nranks; r++)
		MPI_Send(&go, 1, MPI_INT, r, TAG_GO, s->ctl);
	free(tok);
	free(req);
}

/* Other ranks: send the token, wait for rank 0's go; rank 1 notices a stalled rank 0. */
static void arrival_other(const struct bench_live *s, int step, const char *what)
{
	double limit = s->rank == 1 ? s->timeout + 1 : 2 * s->timeout + 2;
	double deadline = MPI_Wtime() + limit;
	MPI_Request sreq, greq;
	int tok = step, go = 0, flag = 0;

	MPI_Isend(&tok, 1, MPI_INT, 0, TAG_ARRIVE, s->ctl, &sreq);
	MPI_Irecv(&go, 1, MPI_INT, 0, TAG_GO, s->ctl, &greq);
	while (MPI_Test(&greq, &flag, MPI_STATUS_IGNORE), !flag) {
		if (MPI_Wtime() > deadline) {
			char msg[ERRTEXT];

			snprintf(msg, sizeof(msg),
				 "timeout: rank 0 did not arrive at %s within %g s (--timeout; "
				 "noticed by rank %d)",
				 what, limit, s->rank);
			bench__die(s, msg);
		}
		bench__sleep(100e-6);
	}
	MPI_Wait(&sreq, MPI_STATUS_IGNORE);
}

/* A barrier that, with --timeout, names the ranks that did not arrive in time. */
void bench__arrival_check(const struct bench_live *s, int step, const char *what)
{
	if (s->timeout <= 0 || s->nranks == 1) {
		MPI_Barrier(s->comm);
		return;
	}
	if (s->rank == 0)
		arrival_root(s, what);
	else
		arrival_other(s, step, what);
}
