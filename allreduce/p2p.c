/*
 * p2p.c - what every algorithm is written against: timed point-to-point through the
 * communicator's transport (ar__isend / ar__irecv / ar__wait / ar__test / ar__sendrecv), whose
 * failures name rank, peer, operation and the algorithm's step; the error text (ar__fail);
 * scratch memory; and the agreement of all ranks on a verdict (ar__all_ok).
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ar__fail(struct ar_comm *c, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->error, sizeof(c->error), "rank %d: ", c->rank);
	if (n < 0 || (size_t)n >= sizeof(c->error))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(c->error + n, sizeof(c->error) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

void *ar__scratch(struct ar_comm *c, size_t bytes)
{
	void *p;
	size_t want;

	if (bytes <= c->scratch_bytes && c->scratch)
		return c->scratch;
	want = (bytes + 63) & ~(size_t)63;
	if (want < 4096)
		want = 4096;
	p = aligned_alloc(64, want);
	if (!p) {
		ar__fail(c, -ENOMEM, "cannot allocate %zu bytes of scratch memory", want);
		return NULL;
	}
	free(c->scratch);
	c->scratch = p;
	c->scratch_bytes = want;
	return p;
}

bool ar__all_ok(struct ar_comm *c, bool ok)
{
	int mine = ok, all = 0;

	if (MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, c->comm) != MPI_SUCCESS)
		return false;
	return all;
}

/* ---- timed point-to-point ------------------------------------------------------------------ */

/* The transport's own account of its last failure, else strerror(-err). */
static const char *detail_or_errno(struct ar_comm *c, int err)
{
	const char *detail = c->tops->last_error(c->tr);

	return detail ? detail : strerror(-err);
}

int ar__isend(struct ar_comm *c, const void *buf, size_t bytes, int peer, int tag,
	      struct ar_request **req)
{
	int err = c->tops->isend(c->tr, buf, bytes, peer, tag, req);

	if (err)
		return ar__fail(c, err, "send of %zu bytes to rank %d failed: %s (%s step %d)",
				bytes, peer, detail_or_errno(c, err), c->phase, c->step);
	return 0;
}

int ar__irecv(struct ar_comm *c, void *buf, size_t bytes, int peer, int tag,
	      struct ar_request **req)
{
	int err = c->tops->irecv(c->tr, buf, bytes, peer, tag, req);

	if (err)
		return ar__fail(c, err, "recv of %zu bytes from rank %d failed: %s (%s step %d)",
				bytes, peer, detail_or_errno(c, err), c->phase, c->step);
	return 0;
}

int ar__op_failed(struct ar_comm *c, int err, int peer, const char *what)
{
	const char *dir = strcmp(what, "send") ? "from" : "to";

	if (err == -ETIMEDOUT)
		return ar__fail(c, err, "%s %s rank %d timed out after %.1f s (%s step %d)", what,
				dir, peer, c->timeout_sec, c->phase, c->step);
	return ar__fail(c, err, "%s %s rank %d failed: %s (%s step %d)", what, dir, peer,
			detail_or_errno(c, err), c->phase, c->step);
}

int ar__wait(struct ar_comm *c, struct ar_request *req, int peer, const char *what)
{
	double deadline = c->timeout_sec > 0 ? MPI_Wtime() + c->timeout_sec : 0;
	int err = c->tops->wait(c->tr, req, deadline);

	return err ? ar__op_failed(c, err, peer, what) : 0;
}

int ar__test(struct ar_comm *c, struct ar_request **req, bool *done, int peer, const char *what)
{
	int err;

	*done = true;
	if (!*req)
		return 0;
	err = c->tops->test(c->tr, *req, done);
	if (err) {
		*req = NULL;
		return ar__op_failed(c, err, peer, what);
	}
	if (*done)
		*req = NULL;
	return 0;
}

int ar__sendrecv(struct ar_comm *c, const void *sbuf, size_t sbytes, int dst, void *rbuf,
		 size_t rbytes, int src, int tag)
{
	struct ar_request *rr = NULL, *sr = NULL;
	int err;

	if (src >= 0) {
		err = ar__irecv(c, rbuf, rbytes, src, tag, &rr);
		if (err)
			return err;
	}
	if (dst >= 0) {
		err = ar__isend(c, sbuf, sbytes, dst, tag, &sr);
		if (err)
			return err; /* rr stays with the transport; fini cancels it */
	}
	if (rr) {
		err = ar__wait(c, rr, src, "recv");
		if (err)
			return err;
	}
	if (sr)
		return ar__wait(c, sr, dst, "send");
	return 0;
}
