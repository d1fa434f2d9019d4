/*
 * algo_mpi.c - the baseline: the MPI library's own MPI_Allreduce (MPI_Iallreduce polled
 * against a deadline when the communicator has a timeout), for comparison with ours.
 *
 * Cost: whatever the MPI library picks (Open MPI coll/tuned chooses among recursive doubling,
 * ring, segmented ring, Rabenseifner... by size; see README "Algorithms" to force one).
 * Types: float/double map to MPI_FLOAT/MPI_DOUBLE; int32/int64 sum and prod use the unsigned
 * MPI types of the same width so they wrap (no signed overflow), min/max the signed ones;
 * half and bfloat16 have no MPI type: they travel as MPI_UINT16_T with a user MPI_Op (created
 * once per communicator, the algorithm's state) that calls ar_reduce.  avg is a sum followed by
 * ar_scale_avg. Counts beyond INT_MAX go in several calls.
 */
#include "allreduce/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sched.h>

/* One user MPI_Op function per (16-bit float type, op): inout = in OP inout. */
#define USER_OP(fname, dt, op)                                                                     \
	static void fname(void *in, void *inout, int *len, MPI_Datatype *type)                     \
	{                                                                                          \
		ar_reduce(inout, in, (size_t)*len, dt, op);                                        \
	}
USER_OP(uop_half_sum, AR_HALF, AR_SUM)
USER_OP(uop_half_prod, AR_HALF, AR_PROD)
USER_OP(uop_half_min, AR_HALF, AR_MIN)
USER_OP(uop_half_max, AR_HALF, AR_MAX)
USER_OP(uop_bf16_sum, AR_BF16, AR_SUM)
USER_OP(uop_bf16_prod, AR_BF16, AR_PROD)
USER_OP(uop_bf16_min, AR_BF16, AR_MIN)
USER_OP(uop_bf16_max, AR_BF16, AR_MAX)

/* [0] half, [1] bf16; by ar_op (avg reduces as sum). */
static MPI_User_function *const user_fns[2][AR_OP_COUNT] = {
	{uop_half_sum, uop_half_prod, uop_half_min, uop_half_max, uop_half_sum},
	{uop_bf16_sum, uop_bf16_prod, uop_bf16_min, uop_bf16_max, uop_bf16_sum},
};

/* How each type travels: the MPI type for sum/prod, for min/max, and its user-op row (or -1). */
struct mpi_map {
	MPI_Datatype arith, cmp;
	int user_row;
};

static struct mpi_map map_of(enum ar_dtype d)
{
	/* built at run time: MPICH's handles are constants, Open MPI's are addresses */
	const struct mpi_map map[AR_DTYPE_COUNT] = {
		[AR_FLOAT] = {MPI_FLOAT, MPI_FLOAT, -1},
		[AR_DOUBLE] = {MPI_DOUBLE, MPI_DOUBLE, -1},
		[AR_HALF] = {MPI_UINT16_T, MPI_UINT16_T, 0},
		[AR_BF16] = {MPI_UINT16_T, MPI_UINT16_T, 1},
		[AR_INT32] = {MPI_UINT32_T, MPI_INT32_T, -1},
		[AR_INT64] = {MPI_UINT64_T, MPI_INT64_T, -1},
		[AR_UINT8] = {MPI_UINT8_T, MPI_UINT8_T, -1},
	};
	return map[d];
}

static MPI_Op builtin_op(enum ar_op op)
{
	const MPI_Op ops[AR_OP_COUNT] = {
		[AR_SUM] = MPI_SUM, [AR_PROD] = MPI_PROD, [AR_MIN] = MPI_MIN,
		[AR_MAX] = MPI_MAX, [AR_AVG] = MPI_SUM,
	};
	return ops[op];
}

/* The state of the mpi algorithm on a communicator: its user MPI_Ops, [0] half, [1] bf16; by
 * ar_op.  MPI_Op_create is local: made on the first call, freed at ar_comm_destroy. */
struct mpi_state {
	MPI_Op user_op[2][AR_OP_COUNT];
	int made; /* ops created, in row-major order */
};

static void mpi_cleanup(struct ar_comm *c, void *state)
{
	struct mpi_state *s = state;

	for (int i = 0; s && i < s->made; i++)
		MPI_Op_free(&s->user_op[i / AR_OP_COUNT][i % AR_OP_COUNT]);
	free(s);
}

static int mpi_setup(struct ar_comm *c, void **state)
{
	struct mpi_state *s = calloc(1, sizeof(*s));

	*state = NULL;
	if (!s)
		return ar__fail(c, -ENOMEM, "mpi: out of memory");
	for (; s->made < 2 * AR_OP_COUNT; s->made++) {
		if (MPI_Op_create(user_fns[s->made / AR_OP_COUNT][s->made % AR_OP_COUNT], 1,
				  &s->user_op[s->made / AR_OP_COUNT][s->made % AR_OP_COUNT]) !=
		    MPI_SUCCESS) {
			mpi_cleanup(c, s);
			return ar__fail(c, -EIO, "mpi: MPI_Op_create failed");
		}
	}
	*state = s;
	return 0;
}

/* One MPI_Allreduce (or MPI_Iallreduce polled until c->timeout_sec) of n <= INT_MAX items. */
static int allreduce_once(struct ar_comm *c, const void *sb, void *rb, int n, MPI_Datatype type,
			  MPI_Op mop)
{
	char msg[MPI_MAX_ERROR_STRING];
	MPI_Request req;
	double deadline;
	int rc, flag = 0, len;

	if (c->timeout_sec <= 0) {
		rc = MPI_Allreduce(sb, rb, n, type, mop, c->comm);
		goto check_rc;
	}
	rc = MPI_Iallreduce(sb, rb, n, type, mop, c->comm, &req);
	if (rc != MPI_SUCCESS)
		goto check_rc;
	deadline = MPI_Wtime() + c->timeout_sec;
	while (!flag) {
		rc = MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
		if (rc != MPI_SUCCESS)
			goto check_rc;
		if (!flag && MPI_Wtime() > deadline)
			return ar__fail(c, -ETIMEDOUT,
					"MPI_Iallreduce timed out after %.1f s (mpi step %d; MPI "
					"does not say which peer is missing)",
					c->timeout_sec, c->step);
		if (!flag)
			sched_yield();
	}
check_rc:
	if (rc == MPI_SUCCESS)
		return 0;
	MPI_Error_string(rc, msg, &len);
	return ar__fail(c, -EIO, "MPI_Allreduce failed: %s", msg);
}

/* MPI_Allreduce in chunks of at most 2^30 elements; collective; blocks (or times out). */
static int mpi_run(struct ar_comm *c, void *state, const void *sendbuf, void *recvbuf, size_t count,
		   enum ar_dtype dtype, enum ar_op op)
{
	struct mpi_state *s = state;
	const size_t max_n = (size_t)1 << 30; /* elements per MPI call, below INT_MAX */
	const void *in = ar__input(sendbuf, recvbuf);
	struct mpi_map m = map_of(dtype);
	size_t esz = ar_dtype_size(dtype);
	bool cmp = op == AR_MIN || op == AR_MAX;
	MPI_Datatype type = cmp ? m.cmp : m.arith;
	MPI_Op mop = builtin_op(op);
	int err;

	c->phase = "mpi";
	c->step = 0;
	if (m.user_row >= 0)
		mop = s->user_op[m.user_row][op];
	for (size_t off = 0; off < count; off += max_n, c->step++) {
		size_t n = count - off < max_n ? count - off : max_n;
		const void *sb = in == recvbuf ? MPI_IN_PLACE : (const char *)in + off * esz;

		err = allreduce_once(c, sb, (char *)recvbuf + off * esz, (int)n, type, mop);
		if (err)
			return err;
	}
	if (op == AR_AVG)
		ar_scale_avg(recvbuf, count, dtype, c->size);
	return 0;
}

/* On the mpi transport only: it is MPI's own collective, so under another transport (verbs)
 * it would measure MPI, not that transport. */
static bool mpi_supports(const struct ar_comm *c)
{
	return !strcmp(c->tops->name, "mpi");
}

const struct ar_algo ar__algo_mpi = {
	.name = "mpi",
	.summary = "the MPI library's own MPI_Allreduce (baseline)",
	.run = mpi_run,
	.supports = mpi_supports,
	.setup = mpi_setup,
	.cleanup = mpi_cleanup,
};
