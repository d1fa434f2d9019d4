/*
 * internal.h - what the files of allreduce/ share and nothing outside allreduce/ may include:
 * the communicator's layout, the transport and algorithm tables' entries, and the helpers
 * every algorithm uses (scratch memory, timed waits, error text).
 */
#ifndef ARBENCH_ALLREDUCE_INTERNAL_H
#define ARBENCH_ALLREDUCE_INTERNAL_H

#include "allreduce/allreduce.h"

#include <stdarg.h>

#define AR__DEFAULT_SEGMENT  (1u << 20) /* 1 MiB, as Gloo */
#define AR__DEFAULT_INFLIGHT 2

struct ar__hier; /* hier.c's per-communicator state (shared memory, sub-communicators) */

struct ar_comm {
	MPI_Comm comm; /* a dup of the user's communicator; ours to free */
	int rank, size;

	const struct ar_transport_ops *tops;
	struct ar_transport *tr;

	/* transport settings, kept for sub-communicators (hier's inter-node one) */
	char *device; /* strdup of cfg->device or NULL */
	int gid_index;
	bool gid_index_set;

	size_t segment_bytes;
	int max_inflight;
	double timeout_sec;

	/* cluster map */
	int *node_of_rank; /* [size] */
	int n_nodes;
	int node;	/* my node index */
	int local_rank; /* my index among the ranks of my node */
	int local_size; /* ranks on my node */
	int ppn_min, ppn_max;
	/* every node of the map lies inside one MPI_COMM_TYPE_SHARED domain (what hier needs) */
	bool nodes_share_memory;

	/* scratch memory for algorithms; grows, never shrinks; owned by the communicator */
	void *scratch;
	size_t scratch_bytes;

	/* hier.c creates this lazily on first use and sets hier_destroy to free it */
	struct ar__hier *hier;
	void (*hier_destroy)(struct ar_comm *c);

	/* what the current algorithm step is doing, for error messages ("ring reduce-scatter
	 * step 3"); set by algorithms, read by ar__wait */
	const char *phase;
	int step;

	char error[512];

	/* algo_mpi.c: user MPI_Ops for half and bfloat16 ([0] half, [1] bf16; by ar_op), all
	 * created on first use (mpi_ops_made), freed by ar__algo_mpi_cleanup() at destroy */
	bool mpi_ops_made;
	MPI_Op mpi_user_op[2][AR_OP_COUNT];
};

/* ---- p2p.c: what algorithms are written against ---------------------------------------- */

/* Scratch of at least bytes (64-byte aligned), or NULL with c->error set. */
void *ar__scratch(struct ar_comm *c, size_t bytes);

/* Record an error "rank R: <text>" in c->error.  Returns err (a negative errno) for chaining. */
int ar__fail(struct ar_comm *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Post, wait and exchange through the communicator's transport.  Waits honour
 * c->timeout_sec and on expiry fail naming rank, peer, operation and c->phase/step. */
int ar__isend(struct ar_comm *c, const void *buf, size_t bytes, int peer, int tag,
	      struct ar_request **req);
int ar__irecv(struct ar_comm *c, void *buf, size_t bytes, int peer, int tag,
	      struct ar_request **req);
/* peer and what ("send"/"recv") are for the error message only. */
int ar__wait(struct ar_comm *c, struct ar_request *req, int peer, const char *what);
/* A send to / receive from peer ("send"/"recv") failed with err (a negative errno; -ETIMEDOUT
 * after c->timeout_sec): record it naming rank, peer, operation and c->phase/step.  Returns
 * err. */
int ar__op_failed(struct ar_comm *c, int err, int peer, const char *what);
/* Has *req completed?  Never blocks.  On completion (or on error) *req becomes NULL and
 * *done is set; a NULL *req counts as done.  peer and what are for the error message only. */
int ar__test(struct ar_comm *c, struct ar_request **req, bool *done, int peer, const char *what);
/* Send to one peer and receive from another at once (either may be -1 to skip). */
int ar__sendrecv(struct ar_comm *c, const void *sbuf, size_t sbytes, int dst, void *rbuf,
		 size_t rbytes, int src, int tag);

/* ---- registry.c ---------------------------------------------------------------------------- */

/* The algorithm and transport tables live in registry.c; each algorithm file exports its
 * entry as a const struct. */
extern const struct ar_algo ar__algo_ring, ar__algo_tree, ar__algo_hier, ar__algo_rhd, ar__algo_mpi;
extern const struct ar_transport_ops ar__transport_mpi, ar__transport_verbs;
/* Free what algo_mpi.c created on c (its user MPI_Ops); called by ar_comm_destroy. */
void ar__algo_mpi_cleanup(struct ar_comm *c);

/* Stubs for a transport's unsupported slots: each returns -EOPNOTSUPP. */
int ar__stub_write_imm(struct ar_transport *t, const void *local, size_t len,
		       struct ar_mem_region *lmr, int peer, uint64_t remote_key,
		       size_t remote_offset, uint32_t imm, struct ar_request **req);
int ar__stub_recv_imm(struct ar_transport *t, int peer, uint32_t *imm, struct ar_request **req);
int ar__stub_mem_key(struct ar_transport *t, struct ar_mem_region *mr, uint64_t *key);
/* No detail beyond the errno: always NULL. */
const char *ar__stub_last_error(struct ar_transport *t);

/* Resolve AR_IN_PLACE / sendbuf == recvbuf: returns the buffer holding the input. */
static inline const void *ar__input(const void *sendbuf, void *recvbuf)
{
	return sendbuf == AR_IN_PLACE ? recvbuf : sendbuf;
}

#endif /* ARBENCH_ALLREDUCE_INTERNAL_H */
