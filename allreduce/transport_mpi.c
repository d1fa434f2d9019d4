/*
 * transport_mpi.c - the MPI point-to-point transport: isend/irecv are MPI_Isend/MPI_Irecv on
 * bytes, test is MPI_Testall, wait polls MPI_Testall against a deadline (or MPI_Waitall when
 * there is none).  A message longer than one chunk (1 GiB) goes as several MPI messages with
 * the same tag, which MPI's non-overtaking rule delivers in order, so lengths beyond INT_MAX
 * bytes work.  Memory registration is a no-op; one-sided slots are the -EOPNOTSUPP stubs.
 * Every request still outstanding when the transport is finalised (after a timeout) is
 * cancelled and freed there.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#define CHUNK_BYTES ((size_t)1 << 30)

struct ar_transport {
	MPI_Comm comm;
	struct ar_request *live; /* outstanding requests, for fini */
};

struct ar_request {
	struct ar_request *prev, *next;
	int n;
	MPI_Request r[];
};

struct ar_mem_region {
	void *buf;
	size_t len;
};

/* Bind to comm (not duplicated: the caller's communicator is already private).  Local;
 * cfg has nothing for MPI. */
static int mpi_init(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_transport **out,
		    char *err, size_t errlen)
{
	struct ar_transport *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->comm = comm;
	*out = t;
	return 0;
}

/* Cancel and free whatever is still outstanding, then free t.  Local; does not block. */
static void mpi_fini(struct ar_transport *t)
{
	struct ar_request *q, *next;

	if (!t)
		return;
	for (q = t->live; q; q = next) {
		next = q->next;
		for (int i = 0; i < q->n; i++) {
			if (q->r[i] == MPI_REQUEST_NULL)
				continue;
			MPI_Cancel(&q->r[i]);
			MPI_Request_free(&q->r[i]);
		}
		free(q);
	}
	free(t);
}

/* Nothing to register for MPI: remember the range.  Does not block. */
static int mpi_reg_mem(struct ar_transport *t, void *buf, size_t len, struct ar_mem_region **out)
{
	struct ar_mem_region *mr = malloc(sizeof(*mr));

	if (!mr)
		return -ENOMEM;
	mr->buf = buf;
	mr->len = len;
	*out = mr;
	return 0;
}

/* Forget mr; the buffer stays the caller's. */
static void mpi_dereg_mem(struct ar_transport *t, struct ar_mem_region *mr)
{
	free(mr);
}

static struct ar_request *req_new(struct ar_transport *t, size_t len)
{
	size_t n = len ? (len + CHUNK_BYTES - 1) / CHUNK_BYTES : 1;
	struct ar_request *q = malloc(sizeof(*q) + n * sizeof(MPI_Request));

	if (!q)
		return NULL;
	q->n = (int)n;
	for (size_t i = 0; i < n; i++)
		q->r[i] = MPI_REQUEST_NULL;
	q->prev = NULL;
	q->next = t->live;
	if (t->live)
		t->live->prev = q;
	t->live = q;
	return q;
}

static void req_free(struct ar_transport *t, struct ar_request *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		t->live = q->next;
	if (q->next)
		q->next->prev = q->prev;
	free(q);
}

/* Post len bytes in chunks of at most CHUNK_BYTES.  Does not block. */
static int post(struct ar_transport *t, void *buf, size_t len, int peer, int tag, bool send,
		struct ar_request **req)
{
	struct ar_request *q = req_new(t, len);
	size_t off = 0;

	if (!q)
		return -ENOMEM;
	for (int i = 0; i < q->n; i++) {
		size_t n = len - off < CHUNK_BYTES ? len - off : CHUNK_BYTES;
		int rc = send ? MPI_Isend((char *)buf + off, (int)n, MPI_BYTE, peer, tag, t->comm,
					  &q->r[i])
			      : MPI_Irecv((char *)buf + off, (int)n, MPI_BYTE, peer, tag, t->comm,
					  &q->r[i]);

		if (rc != MPI_SUCCESS) {
			/* earlier chunks are in flight: leave q on the live list for fini */
			return -EIO;
		}
		off += n;
	}
	*req = q;
	return 0;
}

/* Start sending len bytes to peer; buf stays the caller's and untouched until done. */
static int mpi_isend(struct ar_transport *t, const void *buf, size_t len, int peer, int tag,
		     struct ar_request **req)
{
	return post(t, (void *)buf, len, peer, tag, true, req);
}

/* Start receiving exactly len bytes from peer into buf.  Does not block. */
static int mpi_irecv(struct ar_transport *t, void *buf, size_t len, int peer, int tag,
		     struct ar_request **req)
{
	return post(t, buf, len, peer, tag, false, req);
}

/* Never blocks; frees q once every chunk has completed. */
static int mpi_test(struct ar_transport *t, struct ar_request *q, bool *done)
{
	int flag = 0;

	if (MPI_Testall(q->n, q->r, &flag, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
		return -EIO;
	*done = flag != 0;
	if (flag)
		req_free(t, q);
	return 0;
}

/* Blocks until q completes (freed) or the deadline passes (-ETIMEDOUT, q outstanding). */
static int mpi_wait(struct ar_transport *t, struct ar_request *q, double deadline)
{
	bool done = false;
	int err;

	if (deadline <= 0) {
		if (MPI_Waitall(q->n, q->r, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
			return -EIO;
		req_free(t, q);
		return 0;
	}
	for (;;) {
		err = mpi_test(t, q, &done);
		if (err || done)
			return err;
		if (MPI_Wtime() > deadline)
			return -ETIMEDOUT;
		sched_yield(); /* ranks may outnumber cores */
	}
}

const struct ar_transport_ops ar__transport_mpi = {
	.name = "mpi",
	.init = mpi_init,
	.fini = mpi_fini,
	.reg_mem = mpi_reg_mem,
	.dereg_mem = mpi_dereg_mem,
	.isend = mpi_isend,
	.irecv = mpi_irecv,
	.test = mpi_test,
	.wait = mpi_wait,
	.write_imm = ar__stub_write_imm,
	.recv_imm = ar__stub_recv_imm,
	.mem_key = ar__stub_mem_key,
	.last_error = ar__stub_last_error,
};
