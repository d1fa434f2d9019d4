/*
 * verbs_conn.c - the verbs transport's init and fini: open the device (by name and port, or
 * the first active port), choose the address (LID on InfiniBand; on RoCE a GID, v2 with an
 * IPv4-mapped address preferred), create the protection domain, completion queue, the one
 * registered pool of rings and staging slots and an RC queue pair per peer, exchange the
 * connection data over MPI and bring every queue pair to RTS with its receives posted.  Every
 * failure is agreed by all ranks and says what to do.  fini drains what is in flight and frees
 * it all.
 */
#include "allreduce/verbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		rc = ar__vb_post_recv_slot(t, q);
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
int ar__vb_init(MPI_Comm comm, const struct ar_comm_config *cfg, struct ar_transport **out,
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
			/* a credit write ar__vb_progress() posted may trail the last signalled WR
			 */
			if (p->last_signaled < p->sq_posted && ar__vb_sq_room(p) &&
			    ar__vb_post_write(t, q, t->credit_out, 0, p->remote.credit_addr, false,
					      0, true))
				return;
		}
		if (!busy || ar__vb_progress(t) < 0)
			return;
		sched_yield();
	}
}

/* Free every request, unexpected message and verbs object.  Collective when the transport is
 * healthy (drain, then a barrier, so no peer's write reaches a destroyed QP), each bounded to
 * 10 s; local and non-blocking after a failure or a timeout, when a peer may never arrive. */
void ar__vb_fini(struct ar_transport *t)
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
