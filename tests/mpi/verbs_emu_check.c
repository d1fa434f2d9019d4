/*
 * verbs_emu_check.c - RC semantics of the verbs emulator (tests/verbs-emulator), checked with
 * raw verbs calls on 2 ranks: rank 0 requests, rank 1 responds, a fresh QP pair per case.
 *
 *   order     8 WRITE_WITH_IMM, only the last signalled: one send completion; 8 receive
 *             completions in posting order with their immediates and data
 *   sqfull    a send queue of 4 with no signalled WR refuses the 5th post (ENOMEM)
 *   rnr       WRITE_WITH_IMM with no receive posted waits (no completion for 200 ms), then
 *             completes once the receive is posted
 *   rkey      a wrong rkey: IBV_WC_REM_ACCESS_ERR, the next WR flushed, the responder's
 *             receive flushed (IBV_WC_WR_FLUSH_ERR)
 *   bounds    a write past the end of the region: IBV_WC_REM_ACCESS_ERR
 *   access    a responder QP without IBV_ACCESS_REMOTE_WRITE: IBV_WC_REM_ACCESS_ERR
 *   psn       a requester PSN the responder does not expect: IBV_WC_RETRY_EXC_ERR
 *   overrun   (emulator only) 4 completions into a CQ of 2: ibv_poll_cq returns < 0
 *
 * These are the emulator's contract, not facts about a NIC; on a real device (VERBS_REAL=1)
 * the emulator-only case is skipped and the others should hold too.  Prints one line per
 * case; exit 1 on any failure.
 */
#include <mpi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <infiniband/verbs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGION 8192

struct side {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	char *buf;
	int gid_index;
};

struct wire {
	union ibv_gid gid;
	uint64_t addr;
	uint32_t rkey, qpn, psn;
	uint16_t lid;
};

static int rank;

static int choose_gid(struct side *s, struct ibv_port_attr *pa)
{
	struct ibv_gid_entry e;
	int best = -1;

	if (pa->link_layer != IBV_LINK_LAYER_ETHERNET)
		return -1;
	for (int i = 0; i < pa->gid_tbl_len; i++)
		if (!ibv_query_gid_ex(s->ctx, 1, (uint32_t)i, &e, 0) &&
		    e.gid_type == IBV_GID_TYPE_ROCE_V2)
			best = i;
	return best < 0 ? 0 : best;
}

/* A connected QP pair: sq/rq depths, CQ entries, the responder's QP access flags, and a PSN
 * offset the requester adds to what the responder expects (0: correct). */
static int setup(struct side *s, int sq, int cqe, int access, uint32_t psn_skew)
{
	struct ibv_device **l = ibv_get_device_list(NULL);
	struct ibv_port_attr pa;
	struct wire me = {0}, peer;
	struct ibv_qp_init_attr ia = {.cap = {.max_send_wr = (uint32_t)sq,
					      .max_recv_wr = 16,
					      .max_send_sge = 1,
					      .max_recv_sge = 1},
				      .qp_type = IBV_QPT_RC};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1, .qp_access_flags = (unsigned)access};

	memset(s, 0, sizeof(*s));
	if (!l || !l[0] || !(s->ctx = ibv_open_device(l[0])))
		return -1;
	ibv_free_device_list(l);
	ibv_query_port(s->ctx, 1, &pa);
	s->gid_index = choose_gid(s, &pa);
	s->pd = ibv_alloc_pd(s->ctx);
	s->cq = ibv_create_cq(s->ctx, cqe, NULL, NULL, 0);
	s->buf = calloc(1, REGION);
	s->mr = ibv_reg_mr(s->pd, s->buf, REGION, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	ia.send_cq = ia.recv_cq = s->cq;
	s->qp = ibv_create_qp(s->pd, &ia);
	if (!s->pd || !s->cq || !s->mr || !s->qp ||
	    ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	if (s->gid_index >= 0)
		ibv_query_gid(s->ctx, 1, s->gid_index, &me.gid);
	me.addr = (uintptr_t)s->buf;
	me.rkey = s->mr->rkey;
	me.qpn = s->qp->qp_num;
	me.psn = 4242;
	me.lid = pa.lid;
	MPI_Sendrecv(&me, sizeof(me), MPI_BYTE, 1 - rank, 1, &peer, sizeof(peer), MPI_BYTE,
		     1 - rank, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = pa.active_mtu;
	a.dest_qp_num = peer.qpn;
	a.rq_psn = peer.psn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.dlid = peer.lid;
	a.ah_attr.port_num = 1;
	if (s->gid_index >= 0) {
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = peer.gid;
		a.ah_attr.grh.sgid_index = (uint8_t)s->gid_index;
		a.ah_attr.grh.hop_limit = 64;
	}
	if (ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				  IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 10;
	a.retry_cnt = 2;
	a.rnr_retry = 7;
	a.sq_psn = me.psn + (rank == 0 ? psn_skew : 0);
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				  IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC))
		return -1;
	/* the peer's address and key, kept in the buffer's first bytes for write() */
	memcpy(s->buf + REGION - sizeof(peer), &peer, sizeof(peer));
	return 0;
}

static void teardown(struct side *s)
{
	MPI_Barrier(MPI_COMM_WORLD); /* nobody's writes in flight */
	ibv_destroy_qp(s->qp);
	ibv_dereg_mr(s->mr);
	ibv_destroy_cq(s->cq);
	ibv_dealloc_pd(s->pd);
	ibv_close_device(s->ctx);
	free(s->buf);
}

static struct wire peer_of(struct side *s)
{
	struct wire w;

	memcpy(&w, s->buf + REGION - sizeof(w), sizeof(w));
	return w;
}

/* Post one write of len bytes from my buffer at loff to the peer's region at off. */
static int write_from(struct side *s, uint64_t id, size_t loff, size_t off, uint32_t len, bool imm,
		      bool sig, uint32_t rkey_xor)
{
	struct wire p = peer_of(s);
	struct ibv_sge sge = {.addr = (uintptr_t)s->buf + loff, .length = len, .lkey = s->mr->lkey};
	struct ibv_send_wr wr = {.wr_id = id,
				 .sg_list = &sge,
				 .num_sge = 1,
				 .opcode = imm ? IBV_WR_RDMA_WRITE_WITH_IMM : IBV_WR_RDMA_WRITE,
				 .send_flags = sig ? IBV_SEND_SIGNALED : 0,
				 .imm_data = htonl((uint32_t)id),
				 .wr = {.rdma = {.remote_addr = p.addr + off,
						 .rkey = p.rkey ^ rkey_xor}}},
			   *bad;

	return ibv_post_send(s->qp, &wr, &bad);
}

static int write_to(struct side *s, uint64_t id, size_t off, uint32_t len, bool imm, bool sig,
		    uint32_t rkey_xor)
{
	return write_from(s, id, 0, off, len, imm, sig, rkey_xor);
}

static int post_recvs(struct side *s, int n)
{
	for (int i = 0; i < n; i++) {
		struct ibv_recv_wr wr = {.wr_id = 100 + (uint64_t)i}, *bad;

		if (ibv_post_recv(s->qp, &wr, &bad))
			return -1;
	}
	return 0;
}

/* Poll until n completions arrived or secs passed; returns how many (or < 0). */
static int poll_n(struct side *s, struct ibv_wc *wc, int n, double secs)
{
	double end = MPI_Wtime() + secs;
	int got = 0;

	while (got < n && MPI_Wtime() < end) {
		int k = ibv_poll_cq(s->cq, n - got, wc + got);

		if (k < 0)
			return k;
		got += k;
		if (!k)
			usleep(100);
	}
	return got;
}

static int fails;

static void expect(bool ok, const char *name, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL %s (rank %d): %s\n", name, rank, what);
		fails++;
	}
}

static void case_order(void)
{
	struct side s;
	struct ibv_wc wc[16];
	int n;

	expect(!setup(&s, 16, 32, IBV_ACCESS_REMOTE_WRITE, 0), "order", "setup");
	if (rank == 1)
		post_recvs(&s, 8);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0) {
		for (int i = 0; i < 8; i++) {
			/* a separate source for each: the buffer is the NIC's until completion */
			memset(s.buf + i * 64, 'a' + i, 64);
			expect(!write_from(&s, (uint64_t)i, (size_t)i * 64, (size_t)i * 64, 64,
					   true, i == 7, 0),
			       "order", "post");
		}
		n = poll_n(&s, wc, 2, 0.5);
		expect(n == 1 && wc[0].wr_id == 7 && wc[0].status == IBV_WC_SUCCESS, "order",
		       "expected exactly one send completion, the signalled one");
	} else {
		n = poll_n(&s, wc, 8, 10);
		expect(n == 8, "order", "expected 8 receive completions");
		for (int i = 0; i < n; i++) {
			expect(wc[i].status == IBV_WC_SUCCESS &&
				       wc[i].opcode == IBV_WC_RECV_RDMA_WITH_IMM &&
				       ntohl(wc[i].imm_data) == (uint32_t)i &&
				       wc[i].wr_id == 100 + (uint64_t)i && wc[i].byte_len == 64,
			       "order", "completion out of order or wrong");
			expect(s.buf[i * 64] == 'a' + i && s.buf[i * 64 + 63] == 'a' + i, "order",
			       "data not placed before its completion");
		}
	}
	teardown(&s);
}

static void case_sqfull(void)
{
	struct side s;
	int rc = 0;

	expect(!setup(&s, 4, 8, IBV_ACCESS_REMOTE_WRITE, 0), "sqfull", "setup");
	if (rank == 0) {
		for (int i = 0; i < 4; i++)
			rc |= write_to(&s, (uint64_t)i, 0, 8, false, false, 0);
		expect(!rc, "sqfull", "4 WRs fit a send queue of 4");
		usleep(20000); /* executed, but unsignalled: their slots stay taken */
		expect(write_to(&s, 4, 0, 8, false, false, 0) == ENOMEM, "sqfull",
		       "the 5th unsignalled WR was accepted");
	}
	teardown(&s);
}

static void case_rnr(void)
{
	struct side s;
	struct ibv_wc wc[2];
	int go = 0;

	expect(!setup(&s, 4, 8, IBV_ACCESS_REMOTE_WRITE, 0), "rnr", "setup");
	if (rank == 0) {
		expect(!write_to(&s, 1, 0, 16, true, true, 0), "rnr", "post");
		expect(poll_n(&s, wc, 1, 0.2) == 0, "rnr", "completed with no receive posted");
		MPI_Send(&go, 1, MPI_INT, 1, 2, MPI_COMM_WORLD);
		expect(poll_n(&s, wc, 1, 10) == 1 && wc[0].status == IBV_WC_SUCCESS, "rnr",
		       "no success once the receive was posted");
	} else {
		MPI_Recv(&go, 1, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		post_recvs(&s, 1);
		expect(poll_n(&s, wc, 1, 10) == 1 && wc[0].status == IBV_WC_SUCCESS, "rnr",
		       "receive did not complete");
	}
	teardown(&s);
}

/* A write that must fail with status want at the requester; the responder's posted receive
 * is flushed when flush_responder. */
static void case_error(const char *name, int access, size_t off, uint32_t len, uint32_t xor,
		       uint32_t psn_skew, enum ibv_wc_status want, bool flush_responder)
{
	struct side s;
	struct ibv_wc wc[4];
	char msg[128];

	expect(!setup(&s, 4, 8, access, psn_skew), name, "setup");
	if (rank == 1)
		post_recvs(&s, 1);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0) {
		expect(!write_to(&s, 1, off, len, true, false, xor), name, "post");
		expect(!write_to(&s, 2, 0, 8, false, false, 0), name, "post after");
		snprintf(msg, sizeof(msg), "expected '%s' then a flush", ibv_wc_status_str(want));
		expect(poll_n(&s, wc, 2, 10) == 2 && wc[0].wr_id == 1 && wc[0].status == want &&
			       wc[1].wr_id == 2 && wc[1].status == IBV_WC_WR_FLUSH_ERR,
		       name, msg);
	} else if (flush_responder) {
		expect(poll_n(&s, wc, 1, 10) == 1 && wc[0].status == IBV_WC_WR_FLUSH_ERR, name,
		       "the responder's receive was not flushed");
	}
	teardown(&s);
}

static void case_overrun(void)
{
	struct side s;
	struct ibv_wc wc[4];
	int go = 0;

	expect(!setup(&s, 8, 2, IBV_ACCESS_REMOTE_WRITE, 0), "overrun", "setup");
	if (rank == 1)
		post_recvs(&s, 4);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0) {
		for (int i = 0; i < 4; i++)
			write_to(&s, (uint64_t)i, 0, 8, true, false, 0);
		usleep(50000);
		write_to(&s, 9, 0, 8, false, true, 0);
		poll_n(&s, wc, 1, 2);
		MPI_Send(&go, 1, MPI_INT, 1, 3, MPI_COMM_WORLD);
	} else {
		MPI_Recv(&go, 1, MPI_INT, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		expect(ibv_poll_cq(s.cq, 4, wc) < 0, "overrun",
		       "4 completions into a CQ of 2 "
		       "were not reported as an overrun");
	}
	teardown(&s);
}

int main(int argc, char **argv)
{
	bool real = getenv("VERBS_REAL") && !strcmp(getenv("VERBS_REAL"), "1");
	int n, all;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	if (n != 2) {
		if (rank == 0)
			fprintf(stderr, "verbs_emu_check runs on 2 ranks\n");
		MPI_Finalize();
		return 2;
	}
	case_order();
	case_sqfull();
	case_rnr();
	case_error("rkey", IBV_ACCESS_REMOTE_WRITE, 0, 8, 0x5a5a0000, 0, IBV_WC_REM_ACCESS_ERR,
		   true);
	case_error("bounds", IBV_ACCESS_REMOTE_WRITE, REGION - 4, 8, 0, 0, IBV_WC_REM_ACCESS_ERR,
		   true);
	case_error("access", 0, 0, 8, 0, 0, IBV_WC_REM_ACCESS_ERR, true);
	case_error("psn", IBV_ACCESS_REMOTE_WRITE, 0, 8, 0, 77, IBV_WC_RETRY_EXC_ERR, false);
	if (!real)
		case_overrun();
	MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("verbs_emu_check: order, sqfull, rnr, rkey, bounds, access, psn%s: %d "
		       "failures\n",
		       real ? "" : ", overrun", all);
	MPI_Finalize();
	return all ? 1 : 0;
}
