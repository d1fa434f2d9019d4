/*
 * internal.h - what the files of allreduce/ share and nothing outside allreduce/ may include:
 * the communicator's layout, the transport and algorithm tables' entries, and the helpers
 * every algorithm uses (scratch memory, timed waits, error text).
 *
 * Who calls whom (no file calls back up): comm.c (create, destroy, ar_allreduce) -> registry.c,
 * mem.c, p2p.c; the algorithms -> p2p.c (hier also -> comm.c for its sub-communicator, mem.c);
 * p2p.c -> the transport through its ops table.  Algorithms and transports are reached only
 * through their tables.
 */
#ifndef ARBENCH_ALLREDUCE_INTERNAL_H
#define ARBENCH_ALLREDUCE_INTERNAL_H

#include "allreduce/allreduce.h"

#include <stdarg.h>

#define AR__DEFAULT_SEGMENT  (1u << 20) /* 1 MiB, as Gloo */
#define AR__DEFAULT_INFLIGHT 2

struct ar__mem; /* mem.c's node-shared buffers */

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

	/* node-shared buffers (ar_mem_alloc), made on the first one */
	struct ar__mem *mem;

	/* what the current algorithm step is doing, for error messages ("ring reduce-scatter
	 * step 3"); set by algorithms, read by ar__wait */
	const char *phase;
	int step;

	char error[512];

	/* each algorithm's own state, by registry index (ar_algo_at): what its setup made */
	void *algo_state[];
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
/* Did every rank of c succeed (ok)?  Collective; false when the agreement itself fails. */
bool ar__all_ok(struct ar_comm *c, bool ok);

/* ---- mem.c: node-shared buffers --------------------------------------------------------- */

/* The ranks of my cluster-map node, in global rank order, errors returned: 0, or -EIO with
 * c->error naming who asked.  Collective over c. */
int ar__split_node(struct ar_comm *c, const char *who, MPI_Comm *out);
/* How many node-shared buffers c holds now. */
int ar__mem_count(const struct ar_comm *c);
/* Is p[0..bytes) inside one of my node-shared buffers?  *idx = its slot + 1 (0: no), *off the
 * offset in it: a description a node peer can resolve with ar__mem_region_at. */
void ar__mem_region_of(const struct ar_comm *c, const void *p, size_t bytes, uint64_t *idx,
		       uint64_t *off);
/* Local rank x's part of the buffer in slot idx - 1, at off; NULL when idx is 0 or free. */
const char *ar__mem_region_at(const struct ar_comm *c, int x, uint64_t idx, uint64_t off);
/* Free every node-shared buffer of c (collective: ar_comm_destroy). */
void ar__mem_cleanup(struct ar_comm *c);

/* ---- registry.c ---------------------------------------------------------------------------- */

/* The algorithm and transport tables live in registry.c; each algorithm file exports its
 * entry as a const struct. */
extern const struct ar_algo ar__algo_ring, ar__algo_tree, ar__algo_hier, ar__algo_rhd, ar__algo_mpi;
extern const struct ar_transport_ops ar__transport_mpi, ar__transport_verbs;

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
