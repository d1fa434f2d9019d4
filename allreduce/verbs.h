/*
 * verbs.h - private to the verbs transport (transport_verbs.c: the ops; verbs_conn.c: device,
 * queue pairs and their connection, teardown; verbs_progress.c: posting, completions, credits
 * and message matching): its wire format, per-peer state and the calls between its files.
 * See transport_verbs.c for how it works.
 */
#ifndef ARBENCH_ALLREDUCE_VERBS_H
#define ARBENCH_ALLREDUCE_VERBS_H

#include "allreduce/internal.h"

#include <infiniband/verbs.h>

#define NSLOT	     8
#define SLOT_BYTES   (64u << 10)
#define SQ_DEPTH     (2 * NSLOT + 8) /* data writes + credit writes in flight per QP */
#define SIGNAL_EVERY 4		     /* < SQ_DEPTH: a full send queue holds a signalled WR */
#define CREDIT_EVERY (NSLOT / 2)     /* <= NSLOT: a blocked sender always gets its credits */
#define POLL_BATCH   16
#define WR_RECV	     (1ull << 63) /* wr_id: receive WQE (low bits: peer) */

struct chunk_hdr {
	uint32_t tag;
	uint32_t len;	/* payload bytes in this chunk */
	uint64_t total; /* bytes of the whole message */
};
#define PAYLOAD (SLOT_BYTES - sizeof(struct chunk_hdr))

/* A ring chunk with this tag (user tags are ints >= 0) carries no data: it announces a
 * one-sided write_imm, its immediate in total. */
#define NOTIFY_TAG UINT32_MAX
#define IMMQ	   64 /* immediates received before their recv_imm, per peer */

enum req_kind { REQ_SEND, REQ_RECV, REQ_WRITE, REQ_IMM };

struct ar_request {
	struct ar_request *lprev, *lnext; /* every live request, for fini */
	struct ar_request *qnext;	  /* in a peer's send or receive queue */
	enum req_kind kind;
	int peer, tag;
	char *buf;
	size_t len, off; /* off: bytes sent (send) */
	bool done;
	/* REQ_WRITE: the data write's WR index once posted (done when it completed) */
	uint64_t wr_idx;
	uint64_t raddr;
	uint32_t rkey, lkey, imm;
	uint32_t *imm_out; /* REQ_IMM */
};

/* A message that arrived before its irecv: kept until one matches it. */
struct unexpected {
	struct unexpected *next;
	uint32_t tag;
	size_t total, got;
	char *buf;
};

/* What the peer sends me during connection setup. */
struct conn_info {
	union ibv_gid gid;
	uint64_t ring_addr;   /* its ring for chunks from me */
	uint64_t credit_addr; /* its credit word for my consumption of its chunks */
	uint32_t rkey, qpn, psn;
	uint16_t lid;
	uint8_t mtu; /* enum ibv_mtu of its port: the path uses the smaller */
	uint8_t ok;
};

struct peer {
	struct ibv_qp *qp;
	struct conn_info remote;
	/* send side */
	uint64_t sent;		     /* chunks written to the peer's ring */
	uint64_t sq_posted, sq_done; /* WRs posted on qp; completed (in order) */
	uint64_t last_signaled;	     /* index (from 1) of the last signalled WR posted */
	uint64_t stage_wr[NSLOT];    /* staging slot j is free once sq_done >= stage_wr[j] */
	struct ar_request *sendq, *sendq_tail;
	/* receive side */
	uint64_t rseq;			       /* chunks received and consumed */
	uint64_t reported;		       /* rseq last written to the peer's credit word */
	struct ar_request *recvq, *recvq_tail; /* posted irecvs, in order */
	struct unexpected *unexq;
	/* one-sided: recv_imm requests waiting, and immediates that came first */
	struct ar_request *immq, *immq_tail;
	uint32_t early_imm[IMMQ];
	unsigned early_head, early_tail;
	/* the message being received: into req, or into ux when none was posted */
	bool in_msg;
	uint32_t in_tag;
	size_t in_total, in_got;
	struct ar_request *in_req;
	struct unexpected *in_ux;
};

struct ar_mem_region {
	struct ar_mem_region *next;
	struct ibv_mr *mr;
	void *buf;
	size_t len;
	int refs;
};

struct ar_transport {
	MPI_Comm comm;
	int rank, size;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	uint8_t port;
	int gid_index; /* -1: no GRH (InfiniBand, LID routed) */
	enum ibv_mtu mtu;
	union ibv_gid gid;
	uint16_t lid;
	/* one registered pool: rings[size][NSLOT], staging[size][NSLOT], credit words */
	char *pool;
	size_t pool_bytes;
	struct ibv_mr *mr;
	volatile uint64_t *credit_in; /* [size]: chunks of mine peer q consumed */
	uint64_t *credit_out;	      /* [size]: source words of my credit writes */
	struct peer *peers;
	struct ar_request *live;
	struct ar_mem_region *regions; /* reg_mem's cache */
	int err;		       /* sticky: the first failure */
	bool timed_out;		       /* a wait expired: peers may be stuck */
	char errtext[300];
};

static inline char *ring_slot(struct ar_transport *t, int q, uint64_t seq)
{
	return t->pool + ((size_t)q * NSLOT + seq % NSLOT) * SLOT_BYTES;
}

static inline char *stage_slot(struct ar_transport *t, int q, uint64_t seq)
{
	return t->pool + ((size_t)(t->size + q) * NSLOT + seq % NSLOT) * SLOT_BYTES;
}

/* Record the first failure (later ones are its consequences).  Returns t->err. */
int ar__vb_fail(struct ar_transport *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- verbs_progress.c ---------------------------------------------------------------------- */

/* Pre-post one receive WQE on peer q's QP (a ring slot's chunk lands in it): 0 or ibverbs'
 * positive errno. */
int ar__vb_post_recv_slot(struct ar_transport *t, int q);
/* Post one RDMA write (with imm: consuming a receive WQE of q) from the pool.  Signalled
 * when signal is set or every SIGNAL_EVERY-th WR of the QP.  Does not block. */
int ar__vb_post_write(struct ar_transport *t, int q, void *local, size_t len, uint64_t raddr,
		      bool with_imm, uint32_t imm, bool signal);
/* Room for one more WR on p's send queue? */
bool ar__vb_sq_room(const struct peer *p);
/* Poll the CQ once and push every queued send: completions handled, or a negative errno
 * (sticky in t->err).  Never blocks. */
int ar__vb_progress(struct ar_transport *t);
/* A ring chunk h (payload data) from q: into the matching irecv, or kept as unexpected. */
int ar__vb_deliver(struct ar_transport *t, int q, const struct chunk_hdr *h, const char *data);
/* An immediate from q: to its first recv_imm, or kept until one is posted. */
int ar__vb_deliver_imm(struct ar_transport *t, int q, uint32_t imm);

/* ---- verbs_conn.c: the init and fini of struct ar_transport_ops -------------------------- */

int ar__vb_init(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_transport **out,
		char *err, size_t errlen);
void ar__vb_fini(struct ar_transport *t);

#endif /* ARBENCH_ALLREDUCE_VERBS_H */
