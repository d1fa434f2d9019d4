/*
 * allreduce.h - the public interface of arbench's collective library.
 *
 * Algorithms (ring, tree, hier, rhd, mpi) are written once against a transport ops table
 * (struct ar_transport_ops) and selected by name from a registry.  Everything else in
 * allreduce/ is private to this directory.
 *
 * Conventions: functions return 0 or a negative errno; sizes are in bytes, counts in
 * elements; library code never calls exit() and never prints except through the error
 * text kept in the communicator (ar_comm_error()).
 */
#ifndef ARBENCH_ALLREDUCE_H
#define ARBENCH_ALLREDUCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

/* ---- element types and reduction operations ------------------------------------------ */

enum ar_dtype {
	AR_FLOAT,
	AR_DOUBLE,
	AR_HALF, /* IEEE 754 binary16 */
	AR_BF16, /* bfloat16 */
	AR_INT32,
	AR_INT64,
	AR_UINT8,
	AR_DTYPE_COUNT
};

enum ar_op { AR_SUM, AR_PROD, AR_MIN, AR_MAX, AR_AVG, AR_OP_COUNT };

size_t ar_dtype_size(enum ar_dtype dtype);
const char *ar_dtype_name(enum ar_dtype dtype); /* "float", "double", "half", "bfloat16", ... */
const char *ar_op_name(enum ar_op op);		/* "sum", "prod", "min", "max", "avg" */
/* Parse a name (nccl-tests spellings accepted: float/float32, half/float16, bfloat16/bf16,
 * int32/int, int64, uint8).  Return 0 or -EINVAL. */
int ar_dtype_parse(const char *name, enum ar_dtype *out);
int ar_op_parse(const char *name, enum ar_op *out);

/*
 * Reduction kernels.  inout[i] = inout[i] OP in[i] for i < count.  Integer sum and prod wrap
 * (computed in unsigned arithmetic, no undefined behaviour).  half and bfloat16 are widened to
 * float, combined, and rounded back to nearest-even once per call.  AR_AVG reduces as a sum;
 * the division by the rank count happens once at the end with ar_scale_avg().
 */
void ar_reduce(void *inout, const void *in, size_t count, enum ar_dtype dtype, enum ar_op op);
/* out[i] = a[i] OP b[i]; out may alias a or b. */
void ar_reduce3(void *out, const void *a, const void *b, size_t count, enum ar_dtype dtype,
		enum ar_op op);
/* buf[i] = buf[i] / nranks (integers: truncation toward zero, as NCCL's ncclAvg). */
void ar_scale_avg(void *buf, size_t count, enum ar_dtype dtype, int nranks);

/* half / bfloat16 conversions, round to nearest even; NaN stays NaN. */
float ar_half_to_float(uint16_t h);
uint16_t ar_float_to_half(float f);
float ar_bf16_to_float(uint16_t b);
uint16_t ar_float_to_bf16(float f);

/* ---- transport ops table ----------------------------------------------------------------- */

struct ar_transport; /* one transport instance bound to a communicator (private) */
struct ar_comm_config;
struct ar_request;    /* an outstanding operation (private to the transport) */
struct ar_mem_region; /* a registered buffer (private to the transport) */

/*
 * Every op returns 0 or a negative errno.  A slot a transport cannot provide points at a stub
 * that returns -EOPNOTSUPP; callers check ar_transport_one_sided() before relying on the
 * one-sided slots.  isend and irecv take any buffer: a transport that needs registered
 * memory (verbs) registers and caches registrations itself, so algorithms never call reg_mem
 * for two-sided traffic; reg_mem and mem_key are for the targets of write_imm.
 */
struct ar_transport_ops {
	const char *name; /* "mpi", "verbs", ... */
	/* Bind to the ranks of comm with the transport settings of cfg (device, GID index; NULL:
	 * defaults).
	 * Collective over comm, may block; every rank returns the same verdict.  Owns *out.  On
	 * failure writes one line saying why (and what to do) into err[errlen], may leave it
	 * empty.  -ENODEV / -EINVAL: a bad setting (no such device, port or GID index). */
	int (*init)(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_transport **out,
		    char *err, size_t errlen);
	/* Release everything init made.  Collective over the communicator; may block. */
	void (*fini)(struct ar_transport *t);
	/* Register buf[0..len) for sends, receives and remote writes.  Does not block.  The caller
	 * keeps owning buf and must not free it before dereg_mem. */
	int (*reg_mem)(struct ar_transport *t, void *buf, size_t len, struct ar_mem_region **out);
	void (*dereg_mem)(struct ar_transport *t, struct ar_mem_region *mr);
	/* Start sending len bytes of buf to rank peer with tag.  Does not block; buf must stay
	 * untouched until the request completes. */
	int (*isend)(struct ar_transport *t, const void *buf, size_t len, int peer, int tag,
		     struct ar_request **req);
	/* Start receiving exactly len bytes from rank peer with tag into buf.  Does not block. */
	int (*irecv)(struct ar_transport *t, void *buf, size_t len, int peer, int tag,
		     struct ar_request **req);
	/* Has req completed?  Never blocks.  On completion sets *done and frees req. */
	int (*test)(struct ar_transport *t, struct ar_request *req, bool *done);
	/* Block until req completes or deadline (MPI_Wtime() seconds; 0 = none) passes, then
	 * -ETIMEDOUT with req still outstanding.  Frees req on completion. */
	int (*wait)(struct ar_transport *t, struct ar_request *req, double deadline);
	/* One-sided: write len bytes from local (inside lmr) to remote_offset of the peer's region
	 * remote_key, and deliver imm to the peer's next posted recv_imm.  Does not block. */
	int (*write_imm)(struct ar_transport *t, const void *local, size_t len,
			 struct ar_mem_region *lmr, int peer, uint64_t remote_key,
			 size_t remote_offset, uint32_t imm, struct ar_request **req);
	/* Post a receive for one immediate from peer; on completion *imm is set.  Does not block.
	 */
	int (*recv_imm)(struct ar_transport *t, int peer, uint32_t *imm, struct ar_request **req);
	/* The key a peer passes as remote_key to write into mr. */
	int (*mem_key)(struct ar_transport *t, struct ar_mem_region *mr, uint64_t *key);
	/* What the last failed op of t saw, as a phrase naming the peer and the operation
	 * ("RDMA write to rank 2 completed with 'remote access error' ..."), or NULL when
	 * strerror of the returned errno says it all.  Owned by t; never blocks. */
	const char *(*last_error)(struct ar_transport *t);
};

/* The registry of transports, in a table; NULL when the name is unknown. */
const struct ar_transport_ops *ar_transport_find(const char *name);
size_t ar_transport_count(void);
/* Does ops provide write_imm, recv_imm and mem_key (none of them a stub)? */
bool ar_transport_one_sided(const struct ar_transport_ops *ops);
const struct ar_transport_ops *ar_transport_at(size_t i);

/* ---- communicator ------------------------------------------------------------------------ */

struct ar_comm; /* opaque */

struct ar_comm_config {
	const char *transport; /* "mpi" (default when NULL), "verbs" */
	/* verbs: "NAME" or "NAME:PORT" (NULL: the first device with an active port) */
	const char *device;
	/* verbs: GID table index when gid_index_set; otherwise RoCE v2 with an IPv4-mapped
	 * address is preferred (InfiniBand ports use the LID and need none) */
	int gid_index;
	bool gid_index_set;
	size_t segment_bytes; /* pipelining segment; 0 = default (1 MiB) */
	int max_inflight;     /* operations in flight per peer; 0 = default (2) */
	double timeout_sec;   /* per operation wait; 0 = wait forever */
	/* Node index of every rank (size = comm size), e.g. from topo's cluster map.  NULL:
	 * the library derives it with MPI_Comm_split_type(MPI_COMM_TYPE_SHARED). */
	const int *node_of_rank;
};

/* Collective over comm.  Returns 0 or a negative errno; on error *out is NULL and
 * ar_last_error_text() says why. */
int ar_comm_create(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_comm **out);
void ar_comm_destroy(struct ar_comm *c);
int ar_comm_rank(const struct ar_comm *c);
int ar_comm_size(const struct ar_comm *c);
int ar_comm_nodes(const struct ar_comm *c); /* distinct nodes */
int ar_comm_ranks_per_node_max(const struct ar_comm *c);
/* The last failure on this communicator as one line naming rank, peer and operation,
 * e.g. "rank 3: recv from rank 2 timed out after 5.0 s (ring reduce-scatter step 1)". */
const char *ar_comm_error(const struct ar_comm *c);
/* Text of the last failure of ar_comm_create on this thread. */
const char *ar_last_error_text(void);

/* ---- algorithms -------------------------------------------------------------------------- */

/* In-place: pass sendbuf == recvbuf (or sendbuf == AR_IN_PLACE). */
#define AR_IN_PLACE ((const void *)1)

struct ar_algo {
	const char *name;    /* "ring", "tree", "hier", "rhd", "mpi" */
	const char *summary; /* one line for --help */
	/* All-reduce count elements; collective; blocks until done or a timeout.  state is what
	 * setup made for this communicator (NULL without setup). */
	int (*run)(struct ar_comm *c, void *state, const void *sendbuf, void *recvbuf, size_t count,
		   enum ar_dtype dtype, enum ar_op op);
	/* Can this algorithm run on this communicator and transport? */
	bool (*supports)(const struct ar_comm *c);
	/* NULL, or make the algorithm's own state for c into *state (the algorithm owns it; the
	 * communicator keeps it for run): called before the first run on c that finds it NULL,
	 * so it may leave NULL to be asked again.  Collective over c as run is; may block; every
	 * rank returns the same verdict. */
	int (*setup)(struct ar_comm *c, void **state);
	/* NULL, or free what setup made; ar_comm_destroy calls it on every rank, in registry
	 * order, so it may be collective. */
	void (*cleanup)(struct ar_comm *c, void *state);
};

size_t ar_algo_count(void);
const struct ar_algo *ar_algo_at(size_t i);
const struct ar_algo *ar_algo_find(const char *name);

/* Run the named algorithm: -ENOENT unknown, -EOPNOTSUPP unsupported here. */
int ar_allreduce(struct ar_comm *c, const char *algo, const void *sendbuf, void *recvbuf,
		 size_t count, enum ar_dtype dtype, enum ar_op op);

/* ---- node-shared buffers ----------------------------------------------------------------- */

/* Allocate bytes (page-aligned) that the other ranks of my node can read: one MPI-3 shared
 * window over the ranks of my cluster-map node.  Collective over c (bytes may differ per
 * rank).  When every local rank's input and output of a call lie in such buffers, hier reads
 * its node peers' buffers in place instead of staging them (as NCCL does with registered
 * buffers).  -EOPNOTSUPP when the map's nodes are not shared-memory domains,
 * -ENOSPC past 16 buffers.  ar_mem_free is collective too, in the same order on every rank;
 * ar_comm_destroy frees what is left. */
int ar_mem_alloc(struct ar_comm *c, size_t bytes, void **out);
void ar_mem_free(struct ar_comm *c, void *p);

/* ---- helpers shared with tests and the benchmark ----------------------------------------- */

/* Split count elements into nblocks nearly equal contiguous blocks: the first count % nblocks
 * blocks hold one element more.  Returns the offset (in elements) of block i; *len its length. */
size_t ar_block(size_t count, int nblocks, int i, size_t *len);

/* Double binary tree as NCCL builds it over n ranks: for tree t (0 or 1) give rank r's parent
 * (-1 at the root) and up to two children (-1 where absent).  Tree 1 is tree 0 mirrored
 * (n odd: shifted by one) so that every inner node of one tree is a leaf in the other. */
void ar_dtree(int n, int r, int t, int *parent, int *child0, int *child1);

#endif /* ARBENCH_ALLREDUCE_H */
