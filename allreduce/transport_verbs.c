/*
 * transport_verbs.c - the RDMA verbs transport: one RC queue pair per peer, connected with
 * data exchanged over MPI (LID, GID, QPN, PSN, ring address and rkey), messages carried by
 * RDMA_WRITE_WITH_IMM into per-peer receive rings.
 *
 *   sender                                   receiver (rank q)
 *   isend: copy a chunk (header + <= 64 KiB)  ring for me: NSLOT slots of SLOT_BYTES,
 *   into staging slot j, then                 a receive WQE pre-posted for each slot
 *   WRITE_WITH_IMM staging[j] --------------> ring[sent % NSLOT]; the CQE says it landed;
 *                                             copy out to the matching irecv (or to an
 *   credit_in[q] <--- RDMA_WRITE ------------ unexpected buffer), repost the WQE, and every
 *   (slots q consumed)                        NSLOT/2 slots write the consumed count back
 *
 * A slot is rewritten only after the receiver said it was consumed (credits), and a staging
 * slot only after the write reading it completed; only every SIGNAL_EVERY-th work request is
 * signalled, and in-order completion of a QP's send queue retires the ones before it.  One CQ
 * takes both directions; it is sized for every WQE that can be outstanding, so it cannot
 * overrun.  Progress is busy polling inside test and wait (yielding the core after a few
 * empty polls, since ranks may outnumber cores), and any call makes progress for every
 * request, so a wait on one peer never starves another.
 *
 * Two-sided traffic is copied through the rings (registered once at init), never registered
 * per call: no stale registration can outlive a buffer the caller frees.  reg_mem keeps a
 * cache (same range -> same MR, reference counted) of zero-based registrations (iova 0), so
 * that the rkey alone (mem_key) names a region and a peer writes at offsets into it.
 * write_imm is an RDMA_WRITE of the caller's data followed on the same QP by a ring chunk
 * that carries the immediate (RC places them in order), so one-sided and two-sided traffic
 * share the receive WQEs and credits without confusing each other.  Limits: NSLOT x
 * SLOT_BYTES x 2 (1 MiB) of pinned memory per peer; a completion error is sticky (the QPs
 * are in the error state; the communicator must be destroyed).
 */
#include "allreduce/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <infiniband/verbs.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static char *ring_slot(struct ar_transport *t, int q, uint64_t seq)
{
	return t->pool + ((size_t)q * NSLOT + seq % NSLOT) * SLOT_BYTES;
}

static char *stage_slot(struct ar_transport *t, int q, uint64_t seq)
{
	return t->pool + ((size_t)(t->size + q) * NSLOT + seq % NSLOT) * SLOT_BYTES;
}

/* Record the first failure (later ones are its consequences).  Returns t->err. */
static int tfail(struct ar_transport *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tfail(struct ar_transport *t, int err, const char *fmt, ...)
{
	va_list ap;

	if (t->err)
		return t->err;
	va_start(ap, fmt);
	vsnprintf(t->errtext, sizeof(t->errtext), fmt, ap);
	va_end(ap);
	t->err = err;
	return err;
}

/* ---- setup ------------------------------------------------------------------------------ */

static int efail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int efail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

static void list_devices(struct ibv_device **list, int n, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "",
					 ibv_get_device_name(list[i]));
}

static bool gid_is_zero(const union ibv_gid *g)
{
	static const union ibv_gid zero;

	return !memcmp(g, &zero, sizeof(*g));
}

static bool gid_is_ipv4_mapped(const union ibv_gid *g)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(g->raw, prefix, sizeof(prefix));
}

/* Open "NAME[:PORT]" (or the first device with an active port) into t->ctx and t->port. */
static int open_device(struct ar_transport *t, const char *spec, char *err, size_t errlen)
{
	struct ibv_device **list;
	struct ibv_device_attr dattr;
	struct ibv_port_attr pattr;
	char name[IBV_SYSFS_NAME_MAX + 1] = "", known[256];
	int n = 0, port = 0, rc = 0;

	if (spec) {
		const char *colon = strchr(spec, ':');
		size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
		char *end;
		long v;

		if (!nl || nl >= sizeof(name))
			return efail(err, errlen, -EINVAL,
				     "--ib-dev '%s': expected NAME or NAME:PORT", spec);
		memcpy(name, spec, nl);
		if (colon) {
			errno = 0;
			v = strtol(colon + 1, &end, 10);
			if (errno || end == colon + 1 || *end || v < 1 || v > 255)
				return efail(err, errlen, -EINVAL,
					     "--ib-dev '%s': port must be a number 1-255", spec);
			port = (int)v;
		}
	}
	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		if (list)
			ibv_free_device_list(list);
		return efail(err, errlen, -ENODEV,
			     "no RDMA device found (ibv_get_device_list lists none; with "
			     "Soft-RoCE: rdma link add rxe0 type rxe netdev eth0); use -t mpi");
	}
	list_devices(list, n, known, sizeof(known));
	for (int i = 0; i < n && !t->ctx; i++) {
		if (name[0] && strcmp(name, ibv_get_device_name(list[i])))
			continue;
		t->ctx = ibv_open_device(list[i]);
		if (!t->ctx) {
			rc = efail(err, errlen, errno ? -errno : -EIO,
				   "cannot open RDMA device %s: %s", ibv_get_device_name(list[i]),
				   strerror(errno));
			break;
		}
		if (ibv_query_device(t->ctx, &dattr)) {
			rc = efail(err, errlen, -EIO, "ibv_query_device(%s) failed",
				   ibv_get_device_name(list[i]));
			break;
		}
		if (port > dattr.phys_port_cnt) {
			rc = efail(err, errlen, -EINVAL,
				   "RDMA device %s has no port %d (ports 1-%d)", name, port,
				   dattr.phys_port_cnt);
			break;
		}
		for (int p = port ? port : 1; p <= (port ? port : dattr.phys_port_cnt); p++) {
			if (ibv_query_port(t->ctx, (uint8_t)p, &pattr))
				continue;
			if (pattr.state == IBV_PORT_ACTIVE) {
				t->port = (uint8_t)p;
				break;
			}
		}
		if (t->port)
			break;
		if (name[0]) {
			if (port)
				rc = efail(err, errlen, -ENETDOWN,
					   "port %d of RDMA device %s is not active", port, name);
			else
				rc = efail(err, errlen, -ENETDOWN,
					   "RDMA device %s has no active port", name);
			break;
		}
		ibv_close_device(t->ctx); /* try the next device */
		t->ctx = NULL;
	}
	if (!rc && !t->ctx)
		rc = name[0] ? efail(err, errlen, -ENODEV,
				     "RDMA device '%s' not found (devices here: %s)", name, known)
			     : efail(err, errlen, -ENODEV,
				     "no RDMA device has an active port (devices here: %s); "
				     "use -t mpi",
				     known);
	if (rc && t->ctx) {
		ibv_close_device(t->ctx);
		t->ctx = NULL;
	}
	ibv_free_device_list(list);
	return rc;
}

/* Port attributes, the GID to use (RoCE: v2 with an IPv4-mapped address preferred, or the
 * requested index) and the active MTU. */
static int choose_address(struct ar_transport *t, const struct ar_comm_config *cfg, char *err,
			  size_t errlen)
{
	const char *dev = ibv_get_device_name(t->ctx->device);
	struct ibv_port_attr pattr;
	struct ibv_gid_entry e;
	int best = -1, best_score = 0;

	if (ibv_query_port(t->ctx, t->port, &pattr))
		return efail(err, errlen, -EIO, "ibv_query_port(%s:%d) failed", dev, t->port);
	t->mtu = pattr.active_mtu;
	t->lid = pattr.lid;
	t->gid_index = -1;
	if (cfg->gid_index_set) {
		if (cfg->gid_index < 0 || cfg->gid_index >= pattr.gid_tbl_len)
			return efail(err, errlen, -EINVAL,
				     "--gid-index %d is out of range: %s port %d has GID indices "
				     "0-%d",
				     cfg->gid_index, dev, t->port, pattr.gid_tbl_len - 1);
		if (ibv_query_gid(t->ctx, t->port, cfg->gid_index, &t->gid) || gid_is_zero(&t->gid))
			return efail(err, errlen, -EINVAL,
				     "--gid-index %d: entry %d of %s port %d is empty "
				     "(see ibv_devinfo -v)",
				     cfg->gid_index, cfg->gid_index, dev, t->port);
		t->gid_index = cfg->gid_index;
		return 0;
	}
	if (pattr.link_layer != IBV_LINK_LAYER_ETHERNET)
		return 0; /* InfiniBand: LID routed inside the subnet */
	for (int i = 0; i < pattr.gid_tbl_len; i++) {
		int score;

		if (ibv_query_gid_ex(t->ctx, t->port, (uint32_t)i, &e, 0) || gid_is_zero(&e.gid))
			continue;
		score = 1 + (e.gid_type == IBV_GID_TYPE_ROCE_V2) * 2 + gid_is_ipv4_mapped(&e.gid);
		if (score > best_score) {
			best = i;
			best_score = score;
			t->gid = e.gid;
		}
	}
	if (best < 0)
		return efail(err, errlen, -EADDRNOTAVAIL,
			     "%s port %d is RoCE but has no GID (no IP address on its netdev?)",
			     dev, t->port);
	t->gid_index = best;
	return 0;
}

static int post_recv_slot(struct ar_transport *t, int q)
{
	struct ibv_recv_wr wr = {.wr_id = WR_RECV | (uint64_t)q, .num_sge = 0}, *bad;

	return ibv_post_recv(t->peers[q].qp, &wr, &bad);
}

static int qp_create(struct ar_transport *t, struct peer *p)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = t->cq,
		.recv_cq = t->cq,
		.cap = {.max_send_wr = SQ_DEPTH,
			.max_recv_wr = NSLOT,
			.max_send_sge = 1,
			.max_recv_sge = 1},
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 0,
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = t->port,
		.pkey_index = 0,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};

	p->qp = ibv_create_qp(t->pd, &ia);
	if (!p->qp)
		return errno ? -errno : -EIO;
	if (ibv_modify_qp(p->qp, &a,
			  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -EIO;
	return 0;
}

/* INIT -> RTR -> RTS towards the peer described by p->remote; then post its receives. */
static int qp_connect(struct ar_transport *t, int q, uint32_t my_psn)
{
	struct peer *p = &t->peers[q];
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = p->remote.mtu < t->mtu ? (enum ibv_mtu)p->remote.mtu : t->mtu,
		.dest_qp_num = p->remote.qpn,
		.rq_psn = p->remote.psn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = {.dlid = p->remote.lid, .sl = 0, .port_num = t->port},
	};
	int rc;

	if (t->gid_index >= 0) {
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = p->remote.gid;
		a.ah_attr.grh.sgid_index = (uint8_t)t->gid_index;
		a.ah_attr.grh.hop_limit = 64;
	}
	rc = ibv_modify_qp(p->qp, &a,
			   IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				   IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				   IBV_QP_MIN_RNR_TIMER);
	if (rc)
		return -rc;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7; /* infinite: a busy receiver is not an error */
	a.sq_psn = my_psn;
	a.max_rd_atomic = 1;
	rc = ibv_modify_qp(p->qp, &a,
			   IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				   IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (rc)
		return -rc;
	for (int i = 0; i < NSLOT; i++) {
		rc = post_recv_slot(t, q);
		if (rc)
			return -rc;
	}
	return 0;
}

static void teardown(struct ar_transport *t)
{
	struct ar_mem_region *m, *mnext;

	for (int q = 0; t->peers && q < t->size; q++) {
		struct unexpected *u, *unext;

		if (t->peers[q].qp)
			ibv_destroy_qp(t->peers[q].qp);
		for (u = t->peers[q].unexq; u; u = unext) {
			unext = u->next;
			free(u->buf);
			free(u);
		}
	}
	free(t->peers);
	for (m = t->regions; m; m = mnext) {
		mnext = m->next;
		ibv_dereg_mr(m->mr);
		free(m);
	}
	if (t->mr)
		ibv_dereg_mr(t->mr);
	free(t->pool);
	if (t->cq)
		ibv_destroy_cq(t->cq);
	if (t->pd)
		ibv_dealloc_pd(t->pd);
	if (t->ctx)
		ibv_close_device(t->ctx);
	free(t);
}

/* Everything local: device, PD, CQ, the registered pool, one QP per peer. */
static int setup_local(struct ar_transport *t, const struct ar_comm_config *cfg, char *err,
		       size_t errlen)
{
	const char *dev;
	int rc, npeers = t->size - 1, cqe;

	rc = open_device(t, cfg->device, err, errlen);
	if (rc)
		return rc;
	dev = ibv_get_device_name(t->ctx->device);
	rc = choose_address(t, cfg, err, errlen);
	if (rc)
		return rc;
	t->pd = ibv_alloc_pd(t->ctx);
	if (!t->pd)
		return efail(err, errlen, -ENOMEM, "ibv_alloc_pd(%s) failed", dev);
	cqe = npeers * (NSLOT + SQ_DEPTH) + 1;
	t->cq = ibv_create_cq(t->ctx, cqe, NULL, NULL, 0);
	if (!t->cq)
		return efail(err, errlen, -ENOMEM, "ibv_create_cq(%s, %d entries) failed: %s", dev,
			     cqe, strerror(errno));
	t->pool_bytes =
		(size_t)t->size * NSLOT * SLOT_BYTES * 2 + (size_t)t->size * 2 * sizeof(uint64_t);
	t->pool = aligned_alloc(4096, (t->pool_bytes + 4095) & ~(size_t)4095);
	t->peers = calloc((size_t)t->size, sizeof(*t->peers));
	if (!t->pool || !t->peers)
		return efail(err, errlen, -ENOMEM, "out of memory for %zu bytes of rings",
			     t->pool_bytes);
	memset(t->pool, 0, t->pool_bytes);
	t->credit_in = (volatile uint64_t *)(t->pool + (size_t)t->size * NSLOT * SLOT_BYTES * 2);
	t->credit_out = (uint64_t *)(t->credit_in + t->size);
	t->mr = ibv_reg_mr(t->pd, t->pool, t->pool_bytes,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!t->mr) {
		rc = errno ? -errno : -ENOMEM;
		if (rc == -ENOMEM)
			return efail(err, errlen, rc,
				     "ibv_reg_mr of %zu bytes failed: out of lockable memory; "
				     "raise the limit (ulimit -l unlimited, or memlock in "
				     "/etc/security/limits.conf)",
				     t->pool_bytes);
		return efail(err, errlen, rc, "ibv_reg_mr of %zu bytes failed: %s", t->pool_bytes,
			     strerror(-rc));
	}
	for (int q = 0; q < t->size; q++) {
		if (q == t->rank)
			continue;
		rc = qp_create(t, &t->peers[q]);
		if (rc)
			return efail(err, errlen, rc,
				     "cannot create the queue pair for rank %d: %s", q,
				     strerror(-rc));
	}
	return 0;
}

/* Collective: every rank returns the same verdict, the first failing rank's text. */
static int agree(struct ar_transport *t, int rc, char *err, size_t errlen)
{
	int mine = rc ? t->rank : INT_MAX, first = INT_MAX, code = rc;
	char buf[400];

	if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, t->comm) != MPI_SUCCESS)
		return efail(err, errlen, -EIO, "MPI_Allreduce failed during verbs setup");
	if (first == INT_MAX)
		return 0;
	snprintf(buf, sizeof(buf), "%s", rc && err ? err : "");
	MPI_Bcast(buf, (int)sizeof(buf), MPI_CHAR, first, t->comm);
	MPI_Bcast(&code, 1, MPI_INT, first, t->comm);
	if (first == t->rank)
		return code;
	return efail(err, errlen, code, "rank %d: %s", first, buf);
}

/* Collective over comm: open the device, create one RC QP per peer, exchange the connection
 * data over MPI, bring every QP to RTS and pre-post its receives. */
static int verbs_init(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_transport **out,
		      char *err, size_t errlen)
{
	static const struct ar_comm_config defaults;
	struct ar_transport *t = calloc(1, sizeof(*t));
	struct conn_info *mine = NULL, *theirs = NULL;
	int rc;

	if (!t)
		return -ENOMEM;
	if (!cfg)
		cfg = &defaults;
	t->comm = comm;
	MPI_Comm_rank(comm, &t->rank);
	MPI_Comm_size(comm, &t->size);
	srand48((long)getpid() ^ (long)t->rank << 16);
	rc = setup_local(t, cfg, err, errlen);
	if (!rc) {
		mine = calloc((size_t)t->size, sizeof(*mine));
		theirs = calloc((size_t)t->size, sizeof(*theirs));
		if (!mine || !theirs)
			rc = efail(err, errlen, -ENOMEM, "out of memory for connection data");
	}
	rc = agree(t, rc, err, errlen);
	if (rc)
		goto err_teardown;
	for (int q = 0; q < t->size; q++) {
		struct conn_info *c = &mine[q];

		if (q == t->rank)
			continue;
		c->gid = t->gid;
		c->lid = t->lid;
		c->mtu = (uint8_t)t->mtu;
		c->qpn = t->peers[q].qp->qp_num;
		c->psn = (uint32_t)lrand48() & 0xffffff;
		c->ring_addr = (uintptr_t)ring_slot(t, q, 0);
		c->credit_addr = (uintptr_t)&t->credit_in[q];
		c->rkey = t->mr->rkey;
		c->ok = 1;
	}
	if (MPI_Alltoall(mine, (int)sizeof(*mine), MPI_BYTE, theirs, (int)sizeof(*theirs), MPI_BYTE,
			 comm) != MPI_SUCCESS) {
		rc = efail(err, errlen, -EIO, "MPI_Alltoall of the verbs connection data failed");
		goto err_teardown; /* every rank sees the same MPI failure */
	}
	for (int q = 0; q < t->size && !rc; q++) {
		if (q == t->rank)
			continue;
		t->peers[q].remote = theirs[q];
		rc = qp_connect(t, q, mine[q].psn);
		if (rc)
			rc = efail(err, errlen, rc,
				   "cannot connect the queue pair to rank %d (ibv_modify_qp: %s)",
				   q, strerror(-rc));
	}
	rc = agree(t, rc, err, errlen);
	if (rc)
		goto err_teardown;
	MPI_Barrier(comm); /* every receive is posted before anybody writes */
	free(mine);
	free(theirs);
	*out = t;
	return 0;

err_teardown:
	free(mine);
	free(theirs);
	teardown(t);
	return rc;
}

static int post_write(struct ar_transport *t, int q, void *local, size_t len, uint64_t raddr,
		      bool with_imm, uint32_t imm, bool signal);
static int progress(struct ar_transport *t);
static bool sq_room(const struct peer *p);

/* Wait (at most 10 s) until every WR I posted has completed: a zero-byte signalled write
 * behind the unsignalled ones retires them, so no write of mine is still in flight when a
 * peer destroys its QP. */
static void drain(struct ar_transport *t)
{
	double end = MPI_Wtime() + 10;

	while (!t->err && MPI_Wtime() < end) {
		bool busy = false;

		for (int q = 0; q < t->size; q++) {
			struct peer *p = &t->peers[q];

			if (q == t->rank || p->sq_posted == p->sq_done)
				continue;
			busy = true;
			/* a credit write progress() posted may trail the last signalled WR */
			if (p->last_signaled < p->sq_posted && sq_room(p) &&
			    post_write(t, q, t->credit_out, 0, p->remote.credit_addr, false, 0,
				       true))
				return;
		}
		if (!busy || progress(t) < 0)
			return;
		sched_yield();
	}
}

/* Free every request, unexpected message and verbs object.  Collective when the transport is
 * healthy (drain, then a barrier, so no peer's write reaches a destroyed QP), each bounded to
 * 10 s; local and non-blocking after a failure or a timeout, when a peer may never arrive. */
static void verbs_fini(struct ar_transport *t)
{
	struct ar_request *q, *next;

	if (!t)
		return;
	if (!t->err && !t->timed_out) {
		MPI_Request b;
		double end;
		int flag = 0;

		drain(t);
		/* bounded: a peer that failed skips it (it is local there) */
		if (MPI_Ibarrier(t->comm, &b) == MPI_SUCCESS) {
			end = MPI_Wtime() + 10;
			while (!flag && MPI_Wtime() < end)
				if (MPI_Test(&b, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
					break;
				else if (!flag)
					sched_yield();
		}
	}
	for (q = t->live; q; q = next) {
		next = q->lnext;
		free(q);
	}
	teardown(t);
}

/* ---- progress ----------------------------------------------------------------------------- */

static const char *op_name(uint64_t wr_id)
{
	return wr_id & WR_RECV ? "RDMA write with immediate from" : "RDMA write to";
}

/* Post one RDMA write (with imm: consuming a receive WQE of q) from the pool.  Signalled
 * when signal is set or every SIGNAL_EVERY-th WR of the QP. */
static int post_write(struct ar_transport *t, int q, void *local, size_t len, uint64_t raddr,
		      bool with_imm, uint32_t imm, bool signal)
{
	struct peer *p = &t->peers[q];
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = (uint32_t)len, .lkey = t->mr->lkey};
	struct ibv_send_wr wr =
				   {
					   .wr_id = ((uint64_t)q << 40) | (p->sq_posted + 1),
					   .sg_list = &sge,
					   .num_sge = 1,
					   .opcode = with_imm ? IBV_WR_RDMA_WRITE_WITH_IMM
							      : IBV_WR_RDMA_WRITE,
					   .send_flags = signal || p->sq_posted % SIGNAL_EVERY ==
										 SIGNAL_EVERY - 1
								 ? IBV_SEND_SIGNALED
								 : 0,
					   .imm_data = htonl(imm),
					   .wr = {.rdma = {.remote_addr = raddr,
							   .rkey = p->remote.rkey}},
				   },
			   *bad;
	int rc = ibv_post_send(p->qp, &wr, &bad);

	if (rc)
		return tfail(t, -EIO, "ibv_post_send of an RDMA write to rank %d failed: %s", q,
			     strerror(rc));
	p->sq_posted++;
	if (wr.send_flags & IBV_SEND_SIGNALED)
		p->last_signaled = p->sq_posted;
	return 0;
}

/* The data of a one-sided write: from the caller's registration to the peer's, signalled. */
static int post_write_key(struct ar_transport *t, int q, void *local, size_t len, uint32_t lkey,
			  uint64_t raddr, uint32_t rkey)
{
	struct peer *p = &t->peers[q];
	struct ibv_sge sge = {.addr = (uintptr_t)local, .length = (uint32_t)len, .lkey = lkey};
	struct ibv_send_wr wr =
				   {
					   .wr_id = ((uint64_t)q << 40) | (p->sq_posted + 1),
					   .sg_list = &sge,
					   .num_sge = 1,
					   .opcode = IBV_WR_RDMA_WRITE,
					   .send_flags = IBV_SEND_SIGNALED,
					   .wr = {.rdma = {.remote_addr = raddr, .rkey = rkey}},
				   },
			   *bad;
	int rc = ibv_post_send(p->qp, &wr, &bad);

	if (rc)
		return tfail(t, -EIO, "ibv_post_send of a one-sided write to rank %d failed: %s", q,
			     strerror(rc));
	p->sq_posted++;
	p->last_signaled = p->sq_posted;
	return 0;
}

static bool sq_room(const struct peer *p)
{
	return p->sq_posted - p->sq_done < SQ_DEPTH;
}

/* Tell q how many of its chunks I consumed, every CREDIT_EVERY of them. */
static int send_credit(struct ar_transport *t, int q)
{
	struct peer *p = &t->peers[q];

	if (p->rseq - p->reported < CREDIT_EVERY || !sq_room(p))
		return 0;
	/* the word may be read by the NIC after a later update: it only grows, so that is
	 * still a true count of consumed slots */
	t->credit_out[q] = p->rseq;
	p->reported = p->rseq;
	return post_write(t, q, &t->credit_out[q], sizeof(uint64_t), p->remote.credit_addr, false,
			  0, false);
}

static struct ar_request *queue_pop_match(struct ar_request **head, struct ar_request **tail,
					  uint32_t tag)
{
	struct ar_request *prev = NULL;

	for (struct ar_request *r = *head; r; prev = r, r = r->qnext) {
		if ((uint32_t)r->tag != tag)
			continue;
		if (prev)
			prev->qnext = r->qnext;
		else
			*head = r->qnext;
		if (*tail == r)
			*tail = prev;
		r->qnext = NULL;
		return r;
	}
	return NULL;
}

/* A chunk of len bytes from q: part of the message in progress, or the first of a new one. */
static int deliver(struct ar_transport *t, int q, const struct chunk_hdr *h, const char *data)
{
	struct peer *p = &t->peers[q];
	char *dst;

	if (!p->in_msg) {
		p->in_msg = true;
		p->in_tag = h->tag;
		p->in_total = h->total;
		p->in_got = 0;
		p->in_ux = NULL;
		p->in_req = queue_pop_match(&p->recvq, &p->recvq_tail, h->tag);
		if (p->in_req && p->in_req->len != h->total)
			return tfail(t, -EMSGSIZE,
				     "message of %llu bytes from rank %d (tag %u) where %zu were "
				     "expected",
				     (unsigned long long)h->total, q, h->tag, p->in_req->len);
		if (!p->in_req) {
			struct unexpected *u = calloc(1, sizeof(*u)), **end;

			if (u)
				u->buf = malloc(h->total ? h->total : 1);
			if (!u || !u->buf) {
				free(u);
				return tfail(t, -ENOMEM,
					     "out of memory keeping an unexpected message of %llu "
					     "bytes from rank %d",
					     (unsigned long long)h->total, q);
			}
			u->tag = h->tag;
			u->total = h->total;
			for (end = &p->unexq; *end; end = &(*end)->next)
				;
			*end = u;
			p->in_ux = u;
		}
	}
	if (h->tag != p->in_tag || p->in_got + h->len > p->in_total)
		return tfail(t, -EPROTO, "chunk from rank %d does not continue its message", q);
	dst = p->in_req ? p->in_req->buf : p->in_ux->buf;
	memcpy(dst + p->in_got, data, h->len);
	p->in_got += h->len;
	if (p->in_ux)
		p->in_ux->got = p->in_got;
	if (p->in_got == p->in_total) {
		if (p->in_req)
			p->in_req->done = true;
		p->in_msg = false;
	}
	return 0;
}

/* A write_imm from q announced imm: complete the oldest recv_imm, or keep it. */
static int deliver_imm(struct ar_transport *t, int q, uint32_t imm)
{
	struct peer *p = &t->peers[q];
	struct ar_request *r = p->immq;

	if (r) {
		*r->imm_out = imm;
		r->done = true;
		p->immq = r->qnext;
		if (!p->immq)
			p->immq_tail = NULL;
		return 0;
	}
	if (p->early_tail - p->early_head >= IMMQ)
		return tfail(t, -ENOBUFS,
			     "more than %d immediates from rank %d arrived before any recv_imm",
			     IMMQ, q);
	p->early_imm[p->early_tail++ % IMMQ] = imm;
	return 0;
}

static int on_completion(struct ar_transport *t, const struct ibv_wc *wc)
{
	int q = (int)(wc->wr_id & WR_RECV ? wc->wr_id & 0xffffffffu : wc->wr_id >> 40);
	struct peer *p;
	int rc;

	if (q < 0 || q >= t->size || q == t->rank)
		return tfail(t, -EPROTO, "completion with an unknown work request id 0x%llx",
			     (unsigned long long)wc->wr_id);
	p = &t->peers[q];
	if (wc->status != IBV_WC_SUCCESS) {
		if (wc->status == IBV_WC_WR_FLUSH_ERR)
			return tfail(t, -ECONNRESET,
				     "%s rank %d flushed (%s): the queue pair went to the error "
				     "state after a failure on the other side",
				     op_name(wc->wr_id), q, ibv_wc_status_str(wc->status));
		return tfail(t, -EIO,
			     "%s rank %d completed with '%s' (status %d, vendor error 0x%x)",
			     op_name(wc->wr_id), q, ibv_wc_status_str(wc->status), wc->status,
			     wc->vendor_err);
	}
	if (!(wc->wr_id & WR_RECV)) {
		uint64_t idx = wc->wr_id & ((1ull << 40) - 1);

		if (idx > p->sq_done)
			p->sq_done = idx; /* in order: every WR before it completed too */
		return 0;
	}
	if (wc->opcode != IBV_WC_RECV_RDMA_WITH_IMM || ntohl(wc->imm_data) != (uint32_t)p->rseq)
		return tfail(t, -EPROTO,
			     "unexpected receive completion from rank %d (opcode %d, immediate "
			     "%u, expected chunk %u)",
			     q, wc->opcode, ntohl(wc->imm_data), (uint32_t)p->rseq);
	{
		const char *slot = ring_slot(t, q, p->rseq);
		struct chunk_hdr h;

		memcpy(&h, slot, sizeof(h));
		if (h.len > PAYLOAD || wc->byte_len != sizeof(h) + h.len)
			return tfail(t, -EPROTO, "malformed chunk from rank %d (%u bytes)", q,
				     wc->byte_len);
		rc = h.tag == NOTIFY_TAG ? deliver_imm(t, q, (uint32_t)h.total)
					 : deliver(t, q, &h, slot + sizeof(h));
		if (rc)
			return rc;
	}
	p->rseq++;
	rc = post_recv_slot(t, q);
	if (rc)
		return tfail(t, -EIO, "ibv_post_recv for rank %d failed: %s", q, strerror(rc));
	return send_credit(t, q);
}

/* Push the head of q's send queue as far as credits, staging slots and the SQ allow. */
static int push_sends(struct ar_transport *t, int q)
{
	struct peer *p = &t->peers[q];
	struct ar_request *r;
	int rc;

	while ((r = p->sendq)) {
		uint64_t credit = __atomic_load_n(&t->credit_in[q], __ATOMIC_ACQUIRE);
		size_t n = r->len - r->off < PAYLOAD ? r->len - r->off : PAYLOAD;
		unsigned j = (unsigned)(p->sent % NSLOT);
		struct chunk_hdr h = {.tag = (uint32_t)r->tag, .len = (uint32_t)n, .total = r->len};
		char *st;

		if (p->sent - credit >= NSLOT || p->stage_wr[j] > p->sq_done || !sq_room(p))
			return 0;
		st = stage_slot(t, q, p->sent);
		if (r->kind == REQ_WRITE) {
			/* the data, signalled (its completion frees the caller's buffer), then
			 * the announcement behind it: RC places them in this order */
			if (p->sq_posted + 2 - p->sq_done > SQ_DEPTH)
				return 0;
			rc = post_write_key(t, q, r->buf, r->len, r->lkey, r->raddr, r->rkey);
			if (rc)
				return rc;
			r->wr_idx = p->sq_posted;
			h.tag = NOTIFY_TAG;
			h.len = 0;
			h.total = r->imm;
			n = 0;
			r->off = r->len;
		}
		memcpy(st, &h, sizeof(h));
		memcpy(st + sizeof(h), r->buf + r->off, n);
		rc = post_write(t, q, st, sizeof(h) + n,
				p->remote.ring_addr + (uint64_t)j * SLOT_BYTES, true,
				(uint32_t)p->sent, false);
		if (rc)
			return rc;
		p->stage_wr[j] = p->sq_posted;
		p->sent++;
		r->off += n;
		if (r->off == r->len) {
			r->done = r->kind == REQ_SEND; /* a write is done when its WR completed */
			p->sendq = r->qnext;
			if (!p->sendq)
				p->sendq_tail = NULL;
			r->qnext = NULL;
		}
	}
	return 0;
}

/* Poll the CQ once and move every peer's sends along.  Returns completions seen, or a
 * negative errno (sticky). */
static int progress(struct ar_transport *t)
{
	struct ibv_wc wc[POLL_BATCH];
	int n, rc;

	if (t->err)
		return t->err;
	n = ibv_poll_cq(t->cq, POLL_BATCH, wc);
	if (n < 0)
		return tfail(t, -EIO,
			     "ibv_poll_cq failed (%d): completion queue overrun or "
			     "device error",
			     n);
	for (int i = 0; i < n; i++) {
		rc = on_completion(t, &wc[i]);
		if (rc)
			return rc;
	}
	for (int q = 0; q < t->size; q++) {
		if (q == t->rank)
			continue;
		rc = push_sends(t, q);
		if (!rc)
			rc = send_credit(t, q);
		if (rc)
			return rc;
	}
	return n;
}

/* ---- ops ---------------------------------------------------------------------------------- */

/* Register buf[0..len) for remote writes, or take another reference on the same range.
 * Does not block. */
static int verbs_reg_mem(struct ar_transport *t, void *buf, size_t len, struct ar_mem_region **out)
{
	struct ar_mem_region *m;

	for (m = t->regions; m; m = m->next) {
		if (m->buf == buf && m->len == len) {
			m->refs++;
			*out = m;
			return 0;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* iova 0: a peer addresses the region by offset, so the key alone names it */
	m->mr = ibv_reg_mr_iova2(t->pd, buf, len, 0,
				 IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!m->mr) {
		int rc = errno ? -errno : -ENOMEM;

		free(m);
		if (rc == -ENOMEM)
			tfail(t, rc,
			      "ibv_reg_mr of %zu bytes failed: out of lockable memory; "
			      "raise the limit (ulimit -l unlimited)",
			      len);
		return rc;
	}
	m->buf = buf;
	m->len = len;
	m->refs = 1;
	m->next = t->regions;
	t->regions = m;
	*out = m;
	return 0;
}

/* Drop a reference; the last one deregisters.  The buffer stays the caller's. */
static void verbs_dereg_mem(struct ar_transport *t, struct ar_mem_region *mr)
{
	struct ar_mem_region **pp;

	if (!mr || --mr->refs > 0)
		return;
	for (pp = &t->regions; *pp; pp = &(*pp)->next) {
		if (*pp == mr) {
			*pp = mr->next;
			break;
		}
	}
	ibv_dereg_mr(mr->mr);
	free(mr);
}

static struct ar_request *req_new(struct ar_transport *t, enum req_kind kind, void *buf, size_t len,
				  int peer, int tag)
{
	struct ar_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->kind = kind;
	r->buf = buf;
	r->len = len;
	r->peer = peer;
	r->tag = tag;
	r->lnext = t->live;
	if (t->live)
		t->live->lprev = r;
	t->live = r;
	return r;
}

static void req_free(struct ar_transport *t, struct ar_request *r)
{
	if (r->lprev)
		r->lprev->lnext = r->lnext;
	else
		t->live = r->lnext;
	if (r->lnext)
		r->lnext->lprev = r->lprev;
	free(r);
}

static int check_peer(struct ar_transport *t, int peer, int tag)
{
	if (peer < 0 || peer >= t->size || tag < 0)
		return -EINVAL;
	return t->err;
}

/* A message to myself: straight into the matching receive or the unexpected list. */
static int self_send(struct ar_transport *t, struct ar_request *r)
{
	struct chunk_hdr h = {.tag = (uint32_t)r->tag, .len = (uint32_t)r->len, .total = r->len};
	struct peer *p = &t->peers[t->rank];

	if (r->len > UINT32_MAX)
		return -EMSGSIZE;
	r->done = true;
	return p->in_msg ? -EPROTO : deliver(t, t->rank, &h, r->buf);
}

/* Queue len bytes of buf for peer; copied into staging as credits allow.  Does not block;
 * buf stays untouched by the caller until the request completes. */
static int verbs_isend(struct ar_transport *t, const void *buf, size_t len, int peer, int tag,
		       struct ar_request **req)
{
	struct ar_request *r;
	struct peer *p;
	int rc = check_peer(t, peer, tag);

	if (rc)
		return rc;
	r = req_new(t, REQ_SEND, (void *)buf, len, peer, tag);
	if (!r)
		return -ENOMEM;
	*req = r;
	if (peer == t->rank)
		return self_send(t, r);
	p = &t->peers[peer];
	if (p->sendq_tail)
		p->sendq_tail->qnext = r;
	else
		p->sendq = r;
	p->sendq_tail = r;
	rc = progress(t);
	return rc < 0 ? rc : 0;
}

/* Match the oldest unexpected message from peer with tag, or queue the receive.  Does not
 * block. */
static int verbs_irecv(struct ar_transport *t, void *buf, size_t len, int peer, int tag,
		       struct ar_request **req)
{
	struct unexpected **pu, *u;
	struct ar_request *r;
	struct peer *p;
	int rc = check_peer(t, peer, tag);

	if (rc)
		return rc;
	r = req_new(t, REQ_RECV, buf, len, peer, tag);
	if (!r)
		return -ENOMEM;
	*req = r;
	p = &t->peers[peer];
	for (pu = &p->unexq; (u = *pu); pu = &u->next)
		if (u->tag == (uint32_t)tag)
			break;
	if (u) {
		if (u->total != len)
			return tfail(t, -EMSGSIZE,
				     "message of %zu bytes from rank %d (tag %d) where %zu were "
				     "expected",
				     u->total, peer, tag, len);
		memcpy(buf, u->buf, u->got);
		if (p->in_msg && p->in_ux == u) { /* the rest goes straight to buf */
			p->in_ux = NULL;
			p->in_req = r;
		} else {
			r->done = true;
		}
		*pu = u->next;
		free(u->buf);
		free(u);
	} else {
		if (p->recvq_tail)
			p->recvq_tail->qnext = r;
		else
			p->recvq = r;
		p->recvq_tail = r;
	}
	if (peer == t->rank)
		return 0;
	rc = progress(t);
	return rc < 0 ? rc : 0;
}

/* Has a one-sided write's data WR completed (in order: so has everything before it)? */
static void check_write(struct ar_transport *t, struct ar_request *r)
{
	if (r->kind == REQ_WRITE && r->wr_idx && t->peers[r->peer].sq_done >= r->wr_idx)
		r->done = true;
}

/* Poll once; never blocks.  Frees r when done. */
static int verbs_test(struct ar_transport *t, struct ar_request *r, bool *done)
{
	int rc = progress(t);

	if (rc < 0)
		return rc;
	check_write(t, r);
	*done = r->done;
	if (r->done)
		req_free(t, r);
	return 0;
}

/* Busy-poll until r completes (freed) or the deadline passes (-ETIMEDOUT, r outstanding). */
static int verbs_wait(struct ar_transport *t, struct ar_request *r, double deadline)
{
	unsigned idle = 0, spins = 0;
	int rc;

	for (;;) {
		rc = progress(t);
		if (rc < 0)
			return rc;
		check_write(t, r);
		if (r->done) {
			req_free(t, r);
			return 0;
		}
		/* the clock even while other traffic keeps completing */
		if (++spins % 64 == 0 && deadline > 0 && MPI_Wtime() > deadline) {
			t->timed_out = true;
			return -ETIMEDOUT;
		}
		idle = rc > 0 ? 0 : idle + 1;
		if (idle && idle % 16 == 0)
			sched_yield(); /* ranks may outnumber cores */
	}
}

/* One-sided: write len bytes from local (inside lmr) to remote_offset of the peer's region
 * remote_key (an rkey of a zero-based registration, see mem_key), then announce imm to the
 * peer's next recv_imm.  Queued behind earlier sends to peer; does not block; local stays
 * the caller's until the request completes (the write's completion). */
static int verbs_write_imm(struct ar_transport *t, const void *local, size_t len,
			   struct ar_mem_region *lmr, int peer, uint64_t remote_key,
			   size_t remote_offset, uint32_t imm, struct ar_request **req)
{
	struct ar_request *r;
	struct peer *p;
	int rc = check_peer(t, peer, 0);

	if (rc)
		return rc;
	if (!lmr || remote_key > UINT32_MAX || len > INT32_MAX ||
	    (const char *)local < (const char *)lmr->buf ||
	    (const char *)local + len > (const char *)lmr->buf + lmr->len)
		return -EINVAL;
	r = req_new(t, REQ_WRITE, (void *)local, len, peer, 0);
	if (!r)
		return -ENOMEM;
	*req = r;
	if (peer == t->rank) { /* into my own region: a copy, with the NIC's bounds check */
		struct ar_mem_region *m;

		for (m = t->regions; m && m->mr->rkey != remote_key; m = m->next)
			;
		if (!m || remote_offset > m->len || len > m->len - remote_offset)
			return tfail(t, -EFAULT,
				     "write_imm to my own region (key 0x%llx, offset %zu, %zu "
				     "bytes) is outside it",
				     (unsigned long long)remote_key, remote_offset, len);
		memcpy((char *)m->buf + remote_offset, local, len);
		r->done = true;
		return deliver_imm(t, peer, imm);
	}
	r->lkey = lmr->mr->lkey;
	r->rkey = (uint32_t)remote_key;
	r->raddr = remote_offset;
	r->imm = imm;
	p = &t->peers[peer];
	if (p->sendq_tail)
		p->sendq_tail->qnext = r;
	else
		p->sendq = r;
	p->sendq_tail = r;
	rc = progress(t);
	return rc < 0 ? rc : 0;
}

/* One-sided: the next immediate announced by peer goes to *imm.  Does not block. */
static int verbs_recv_imm(struct ar_transport *t, int peer, uint32_t *imm, struct ar_request **req)
{
	struct ar_request *r;
	struct peer *p;
	int rc = check_peer(t, peer, 0);

	if (rc)
		return rc;
	r = req_new(t, REQ_IMM, NULL, 0, peer, 0);
	if (!r)
		return -ENOMEM;
	r->imm_out = imm;
	p = &t->peers[peer];
	if (p->early_head != p->early_tail) {
		*imm = p->early_imm[p->early_head++ % IMMQ];
		r->done = true;
	} else if (p->immq_tail) {
		p->immq_tail->qnext = r;
		p->immq_tail = r;
	} else {
		p->immq = p->immq_tail = r;
	}
	*req = r;
	rc = progress(t);
	return rc < 0 ? rc : 0;
}

/* The rkey of mr's zero-based registration: a peer writes at offsets from its start. */
static int verbs_mem_key(struct ar_transport *t, struct ar_mem_region *mr, uint64_t *key)
{
	if (!mr)
		return -EINVAL;
	*key = mr->mr->rkey;
	return 0;
}

/* The sticky failure's text, once there is one. */
static const char *verbs_last_error(struct ar_transport *t)
{
	return t && t->err ? t->errtext : NULL;
}

const struct ar_transport_ops ar__transport_verbs = {
	.name = "verbs",
	.init = verbs_init,
	.fini = verbs_fini,
	.reg_mem = verbs_reg_mem,
	.dereg_mem = verbs_dereg_mem,
	.isend = verbs_isend,
	.irecv = verbs_irecv,
	.test = verbs_test,
	.wait = verbs_wait,
	.write_imm = verbs_write_imm,
	.recv_imm = verbs_recv_imm,
	.mem_key = verbs_mem_key,
	.last_error = verbs_last_error,
};
