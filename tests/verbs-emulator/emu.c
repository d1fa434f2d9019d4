/*
 * emu.c - a userspace emulation of the libibverbs calls arbench's verbs transport makes,
 * built as libibverbs.so.1 (libibverbs.map gives the real library's symbol versions) and
 * loaded with LD_LIBRARY_PATH=build/tests/verbs-emulator LD_BIND_NOW=1, so that a call it
 * does not implement fails when the program loads.  It is a test double for API conformance,
 * not an RDMA implementation.
 *
 * Every process on this machine that opens an emulated device maps one shared segment
 * (/dev/shm, name from VERBS_EMU_SHM, default /verbs-emu-UID) holding the memory-region, QP
 * and CQ tables and every CQ's entries, under one process-shared robust mutex.  A work
 * request is executed by the process that posted it, in posting order, during its own
 * ibv_post_send and ibv_poll_cq calls: the target's rkey, bounds and access are checked
 * against the shared MR table (IBV_WC_REM_ACCESS_ERR on failure), the target QP's state,
 * destination and PSN are checked (IBV_WC_RETRY_EXC_ERR when it is gone or not connected to
 * us), a WRITE_WITH_IMM with no posted receive waits (receiver not ready; with rnr_retry 7
 * forever, otherwise it fails with IBV_WC_RNR_RETRY_EXC_ERR), the data is placed straight
 * into the target process with process_vm_writev, and then the receive completion goes to the
 * target's CQ.  RC semantics kept: completions of a send queue in order, only signalled
 * ones reported (an unsignalled WR's send-queue slot is freed by a later signalled
 * completion, so a send queue without any fills up: ENOMEM), an error moves both QPs to the
 * error state and every outstanding WR completes with IBV_WC_WR_FLUSH_ERR, a full CQ is an
 * overrun (reported on stderr; ibv_poll_cq returns -EOVERFLOW from then on).
 *
 * Devices: VERBS_EMU_DEVICES (default "emu0"; "" = none), one RoCE port each, active MTU
 * 1024, GID 0 a RoCE v1 link-local address and GID 1 RoCE v2 ::ffff:127.0.0.N.
 * Faults (for the process whose OMPI_COMM_WORLD_RANK or PMI_RANK is VERBS_EMU_FAULT_RANK, or
 * every process when that is unset):
 *   VERBS_EMU_DELAY_US=N     place every write N microseconds late
 *   VERBS_EMU_SPLIT=1        place every write in two halves, 2 ms apart
 *   VERBS_EMU_FAIL_WR=N      the Nth send WR (from 1) completes with VERBS_EMU_FAIL_STATUS
 *                            (a number, default 12 = IBV_WC_RETRY_EXC_ERR)
 *   VERBS_EMU_BAD_RKEY_WR=N  the Nth send WR targets a wrong rkey (a real REM_ACCESS_ERR)
 *   VERBS_EMU_STOP_WR=N      at the Nth send WR the process stops (sleeps until killed)
 *   VERBS_EMU_CQE_MAX=N      CQs hold at most N entries whatever was asked (overrun test)
 *   VERBS_EMU_MEMLOCK=N      registering more than N bytes in all fails with ENOMEM, as
 *                            past RLIMIT_MEMLOCK
 */
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEV	 8
#define MAX_MR	 4096
#define MAX_QP	 2048
#define MAX_CQ	 128
#define MAX_CQE	 16384
#define MAX_RQ	 1024
#define MAGIC	 0x76656d75u
#define GID_TBL	 2
#define QPN_BASE 0x100

struct shm_mr {
	pid_t pid;
	int used;
	uint32_t key; /* lkey == rkey */
	int access;
	uint64_t addr, len, iova;
};

struct shm_qp {
	pid_t pid;
	int used, dev;
	enum ibv_qp_state state;
	uint32_t dest_qpn, rq_psn, sq_psn;
	int access;
	int recv_cq, send_cq;		   /* indices into cq[] */
	uint32_t rq_head, rq_tail, rq_cap; /* posted receive WQEs: wr_id ring */
	uint64_t rq_wr[MAX_RQ];
};

struct shm_cq {
	pid_t pid;
	int used, overrun;
	uint32_t cap, head, tail;
};

struct shm {
	uint32_t magic;
	pthread_mutex_t lock;
	uint32_t next_key;
	struct shm_mr mr[MAX_MR];
	struct shm_qp qp[MAX_QP];
	struct shm_cq cq[MAX_CQ];
	struct ibv_wc cqe[MAX_CQ][MAX_CQE];
};

/* ---- process-private state ------------------------------------------------------------ */

struct emu_dev {
	struct ibv_device dev;
	int index;
};

struct emu_ctx {
	struct ibv_context ctx;
	int dev;
};

struct emu_cq {
	struct ibv_cq cq;
	int slot;
};

struct emu_mr {
	struct ibv_mr mr;
	int slot;
};

struct pending { /* a posted send WR not yet executed */
	uint64_t wr_id, raddr, laddr;
	uint32_t len, lkey, rkey, imm, placed;
	enum ibv_wr_opcode op;
	bool signaled, fail, stop;
	int fail_status;
	int rnr_tries;
};

struct emu_qp {
	struct ibv_qp qp;
	struct emu_qp *next; /* all my QPs, for progress */
	int slot;
	uint32_t max_send_wr;
	uint8_t rnr_retry;
	bool sig_all;
	struct pending *sq;	   /* ring of max_send_wr */
	uint32_t sq_head, sq_tail; /* executed..posted */
	uint64_t unretired;	   /* executed unsignalled WRs still holding SQ slots */
	uint64_t outstanding;	   /* posted and not yet retired */
};

static struct shm *S;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static struct emu_dev devs[MAX_DEV];
static struct ibv_device *dev_list[MAX_DEV + 1];
static int ndev = -1;
static struct emu_qp *my_qps;
static uint64_t registered; /* bytes this process registered, against VERBS_EMU_MEMLOCK */
/* the "NIC" of this process: a thread that runs posted WRs whether or not the program polls;
 * prog_lock guards my_qps and every QP's private send queue */
static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t nic_thread;
static bool nic_started;
static struct {
	bool mine;
	long delay_us, fail_wr, bad_rkey_wr, stop_wr, cqe_max, memlock;
	bool split;
	int fail_status;
	long wr_count;
} F;

static void die(const char *what)
{
	fprintf(stderr, "verbs-emulator: %s\n", what);
	abort();
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : dflt;
}

static void read_faults(void)
{
	const char *fr = getenv("VERBS_EMU_FAULT_RANK");
	const char *me = getenv("OMPI_COMM_WORLD_RANK");

	if (!me)
		me = getenv("PMI_RANK");
	F.mine = !fr || !*fr || (me && atoi(me) == atoi(fr));
	F.delay_us = env_long("VERBS_EMU_DELAY_US", 0);
	F.split = env_long("VERBS_EMU_SPLIT", 0) != 0;
	F.fail_wr = env_long("VERBS_EMU_FAIL_WR", 0);
	F.fail_status = (int)env_long("VERBS_EMU_FAIL_STATUS", IBV_WC_RETRY_EXC_ERR);
	F.bad_rkey_wr = env_long("VERBS_EMU_BAD_RKEY_WR", 0);
	F.stop_wr = env_long("VERBS_EMU_STOP_WR", 0);
	F.cqe_max = env_long("VERBS_EMU_CQE_MAX", 0);
	F.memlock = env_long("VERBS_EMU_MEMLOCK", 0);
}

static void lock(void)
{
	int rc = pthread_mutex_lock(&S->lock);

	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(&S->lock);
	else if (rc)
		die("cannot take the shared lock");
}

static void unlock(void)
{
	pthread_mutex_unlock(&S->lock);
}

static bool alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Drop table entries of processes that are gone (a crashed earlier run).  Locked. */
static void collect_dead(void)
{
	for (int i = 0; i < MAX_MR; i++)
		if (S->mr[i].used && !alive(S->mr[i].pid))
			S->mr[i].used = 0;
	for (int i = 0; i < MAX_QP; i++)
		if (S->qp[i].used && !alive(S->qp[i].pid))
			S->qp[i].used = 0;
	for (int i = 0; i < MAX_CQ; i++)
		if (S->cq[i].used && !alive(S->cq[i].pid))
			S->cq[i].used = 0;
}

static int attach(void)
{
	char name[128];
	const char *n = getenv("VERBS_EMU_SHM");
	int fd, created = 0;

	if (S)
		return 0;
	if (n && *n)
		snprintf(name, sizeof(name), "%s%s", n[0] == '/' ? "" : "/", n);
	else
		snprintf(name, sizeof(name), "/verbs-emu-%u", (unsigned)getuid());
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		created = 1;
		if (ftruncate(fd, sizeof(struct shm))) {
			close(fd);
			return -1;
		}
	} else {
		struct stat st;

		fd = shm_open(name, O_RDWR, 0600);
		if (fd < 0)
			return -1;
		/* the creator may not have sized it yet: mapping it now would fault */
		for (int i = 0;
		     i < 5000 && !fstat(fd, &st) && st.st_size < (off_t)sizeof(struct shm); i++)
			usleep(1000);
	}
	S = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (S == MAP_FAILED) {
		S = NULL;
		return -1;
	}
	if (created) {
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&S->lock, &a);
		S->next_key = 0x1000;
		__atomic_store_n(&S->magic, MAGIC, __ATOMIC_RELEASE);
	} else {
		for (int i = 0; i < 5000 && __atomic_load_n(&S->magic, __ATOMIC_ACQUIRE) != MAGIC;
		     i++)
			usleep(1000);
		if (S->magic != MAGIC)
			die("shared segment never initialised");
	}
	lock();
	collect_dead();
	unlock();
	return 0;
}

static void gid_of(int dev, int index, union ibv_gid *g)
{
	memset(g, 0, sizeof(*g));
	if (index == 0) { /* fe80::dev */
		g->raw[0] = 0xfe;
		g->raw[1] = 0x80;
		g->raw[15] = (uint8_t)(dev + 1);
	} else { /* ::ffff:127.0.0.dev+1 */
		g->raw[10] = g->raw[11] = 0xff;
		g->raw[12] = 127;
		g->raw[15] = (uint8_t)(dev + 1);
	}
}

/* ---- devices ---------------------------------------------------------------------------- */

static void load_devices(void)
{
	const char *spec = getenv("VERBS_EMU_DEVICES");
	char buf[256], *save = NULL, *tok;

	pthread_mutex_lock(&init_lock);
	if (ndev >= 0)
		goto out;
	ndev = 0;
	read_faults();
	snprintf(buf, sizeof(buf), "%s", spec ? spec : "emu0");
	for (tok = strtok_r(buf, ",", &save); tok && ndev < MAX_DEV;
	     tok = strtok_r(NULL, ",", &save)) {
		struct emu_dev *d = &devs[ndev];

		d->index = ndev;
		d->dev.node_type = IBV_NODE_CA;
		d->dev.transport_type = IBV_TRANSPORT_IB;
		snprintf(d->dev.name, sizeof(d->dev.name), "%s", tok);
		snprintf(d->dev.dev_name, sizeof(d->dev.dev_name), "uverbs%d", ndev);
		dev_list[ndev] = &d->dev;
		ndev++;
	}
	dev_list[ndev] = NULL;
out:
	pthread_mutex_unlock(&init_lock);
}

struct ibv_device **ibv_get_device_list(int *num)
{
	struct ibv_device **l;

	load_devices();
	l = calloc((size_t)ndev + 1, sizeof(*l));
	if (!l)
		return NULL;
	memcpy(l, dev_list, (size_t)ndev * sizeof(*l));
	if (num)
		*num = ndev;
	return l;
}

void ibv_free_device_list(struct ibv_device **list)
{
	free(list);
}

const char *ibv_get_device_name(struct ibv_device *device)
{
	return device->name;
}

static int dev_index(struct ibv_context *c)
{
	return ((struct emu_ctx *)c)->dev;
}

static int poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc);
static void *nic_main(void *arg);
static int post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad);
static int post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad);

struct ibv_context *ibv_open_device(struct ibv_device *device)
{
	struct emu_ctx *c;

	if (attach()) {
		errno = ENODEV;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->dev = ((struct emu_dev *)device)->index;
	c->ctx.device = device;
	c->ctx.ops.poll_cq = poll_cq;
	c->ctx.ops.post_send = post_send;
	c->ctx.ops.post_recv = post_recv;
	c->ctx.cmd_fd = c->ctx.async_fd = -1;
	c->ctx.num_comp_vectors = 1;
	c->ctx.abi_compat = NULL; /* not a verbs_context: the inline helpers take compat paths */
	pthread_mutex_init(&c->ctx.mutex, NULL);
	return &c->ctx;
}

int ibv_close_device(struct ibv_context *context)
{
	free(context);
	return 0;
}

int ibv_query_device(struct ibv_context *context, struct ibv_device_attr *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->fw_ver, sizeof(a->fw_ver), "verbs-emulator");
	a->max_mr_size = UINT64_MAX;
	a->max_qp = MAX_QP;
	a->max_qp_wr = MAX_RQ;
	a->max_sge = 1;
	a->max_cq = MAX_CQ;
	a->max_cqe = MAX_CQE;
	a->max_mr = MAX_MR;
	a->max_pd = 1024;
	a->max_qp_rd_atom = a->max_qp_init_rd_atom = 16;
	a->phys_port_cnt = 1;
	return 0;
}

/* The compat entry point: the caller passes a full struct ibv_port_attr (verbs.h's inline). */
#undef ibv_query_port
int ibv_query_port(struct ibv_context *context, uint8_t port, struct _compat_ibv_port_attr *pa)
{
	struct ibv_port_attr *a = (struct ibv_port_attr *)pa;

	if (port != 1)
		return EINVAL;
	a->state = IBV_PORT_ACTIVE;
	a->max_mtu = IBV_MTU_4096;
	a->active_mtu = IBV_MTU_1024;
	a->gid_tbl_len = GID_TBL;
	a->max_msg_sz = 1u << 31;
	a->lid = 0; /* RoCE */
	a->pkey_tbl_len = 1;
	a->active_width = 1;
	a->active_speed = 1;
	a->phys_state = 5; /* LinkUp */
	a->link_layer = IBV_LINK_LAYER_ETHERNET;
	return 0;
}

int ibv_query_gid(struct ibv_context *context, uint8_t port, int index, union ibv_gid *gid)
{
	if (port != 1 || index < 0 || index >= GID_TBL)
		return -1;
	gid_of(dev_index(context), index, gid);
	return 0;
}

int _ibv_query_gid_ex(struct ibv_context *context, uint32_t port, uint32_t index,
		      struct ibv_gid_entry *e, uint32_t flags, size_t entry_size)
{
	if (port != 1 || index >= GID_TBL || entry_size < sizeof(*e))
		return EINVAL;
	gid_of(dev_index(context), (int)index, &e->gid);
	e->gid_index = index;
	e->port_num = port;
	e->gid_type = index == 0 ? IBV_GID_TYPE_ROCE_V1 : IBV_GID_TYPE_ROCE_V2;
	e->ndev_ifindex = 1;
	return 0;
}

const char *ibv_wc_status_str(enum ibv_wc_status status)
{
	static const char *const s[] = {
		[IBV_WC_SUCCESS] = "success",
		[IBV_WC_LOC_LEN_ERR] = "local length error",
		[IBV_WC_LOC_QP_OP_ERR] = "local QP operation error",
		[IBV_WC_LOC_EEC_OP_ERR] = "local EE context operation error",
		[IBV_WC_LOC_PROT_ERR] = "local protection error",
		[IBV_WC_WR_FLUSH_ERR] = "Work Request Flushed Error",
		[IBV_WC_MW_BIND_ERR] = "memory management operation error",
		[IBV_WC_BAD_RESP_ERR] = "bad response error",
		[IBV_WC_LOC_ACCESS_ERR] = "local access error",
		[IBV_WC_REM_INV_REQ_ERR] = "remote invalid request error",
		[IBV_WC_REM_ACCESS_ERR] = "remote access error",
		[IBV_WC_REM_OP_ERR] = "remote operation error",
		[IBV_WC_RETRY_EXC_ERR] = "transport retry counter exceeded",
		[IBV_WC_RNR_RETRY_EXC_ERR] = "RNR retry counter exceeded",
		[IBV_WC_LOC_RDD_VIOL_ERR] = "local RDD violation error",
		[IBV_WC_REM_INV_RD_REQ_ERR] = "remote invalid RD request",
		[IBV_WC_REM_ABORT_ERR] = "aborted error",
		[IBV_WC_INV_EECN_ERR] = "invalid EE context number",
		[IBV_WC_INV_EEC_STATE_ERR] = "invalid EE context state",
		[IBV_WC_FATAL_ERR] = "fatal error",
		[IBV_WC_RESP_TIMEOUT_ERR] = "response timeout error",
		[IBV_WC_GENERAL_ERR] = "general error",
	};

	return (unsigned)status < sizeof(s) / sizeof(s[0]) && s[status] ? s[status] : "unknown";
}

/* ---- PD, MR ------------------------------------------------------------------------------ */

struct ibv_pd *ibv_alloc_pd(struct ibv_context *context)
{
	struct ibv_pd *pd = calloc(1, sizeof(*pd));

	if (!pd) {
		errno = ENOMEM;
		return NULL;
	}
	pd->context = context;
	return pd;
}

int ibv_dealloc_pd(struct ibv_pd *pd)
{
	free(pd);
	return 0;
}

struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length, uint64_t iova,
				unsigned int access)
{
	struct emu_mr *m;
	int i;

	if ((access & IBV_ACCESS_REMOTE_WRITE) && !(access & IBV_ACCESS_LOCAL_WRITE)) {
		errno = EINVAL; /* the spec: remote write needs local write */
		return NULL;
	}
	if (F.mine && F.memlock > 0 && registered + length > (uint64_t)F.memlock) {
		errno = ENOMEM; /* as the kernel says past RLIMIT_MEMLOCK */
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	lock();
	for (i = 0; i < MAX_MR && S->mr[i].used; i++)
		;
	if (i == MAX_MR) {
		unlock();
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	S->mr[i] = (struct shm_mr){.pid = getpid(),
				   .used = 1,
				   .key = S->next_key++,
				   .access = (int)access,
				   .addr = (uintptr_t)addr,
				   .len = length,
				   .iova = iova};
	unlock();
	registered += length;
	m->slot = i;
	m->mr.context = pd->context;
	m->mr.pd = pd;
	m->mr.addr = addr;
	m->mr.length = length;
	m->mr.lkey = m->mr.rkey = S->mr[i].key;
	return &m->mr;
}

#undef ibv_reg_mr
struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access)
{
	return ibv_reg_mr_iova2(pd, addr, length, (uintptr_t)addr, (unsigned)access);
}

int ibv_dereg_mr(struct ibv_mr *mr)
{
	struct emu_mr *m = (struct emu_mr *)mr;

	lock();
	S->mr[m->slot].used = 0;
	unlock();
	registered -= m->mr.length;
	free(m);
	return 0;
}

/* ---- CQ ---------------------------------------------------------------------------------- */

struct ibv_cq *ibv_create_cq(struct ibv_context *context, int cqe, void *cq_context,
			     struct ibv_comp_channel *channel, int comp_vector)
{
	struct emu_cq *c;
	int i;

	if (cqe < 1 || cqe > MAX_CQE) {
		errno = EINVAL;
		return NULL;
	}
	if (F.mine && F.cqe_max > 0 && cqe > F.cqe_max)
		cqe = (int)F.cqe_max;
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	lock();
	for (i = 0; i < MAX_CQ && S->cq[i].used; i++)
		;
	if (i == MAX_CQ) {
		unlock();
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	S->cq[i] = (struct shm_cq){.pid = getpid(), .used = 1, .cap = (uint32_t)cqe};
	unlock();
	c->slot = i;
	c->cq.context = context;
	c->cq.cq_context = cq_context;
	c->cq.cqe = cqe;
	return &c->cq;
}

int ibv_destroy_cq(struct ibv_cq *cq)
{
	struct emu_cq *c = (struct emu_cq *)cq;

	lock();
	S->cq[c->slot].used = 0;
	unlock();
	free(c);
	return 0;
}

/* Append a completion; a full CQ is an overrun (the QPs on it go to the error state).
 * Locked. */
static void cq_push(int slot, const struct ibv_wc *wc)
{
	struct shm_cq *c = &S->cq[slot];

	if (!c->used)
		return;
	if (c->tail - c->head >= c->cap) {
		if (!c->overrun)
			fprintf(stderr,
				"verbs-emulator: CQ overrun (pid %d, %u entries): a completion "
				"was lost\n",
				(int)c->pid, c->cap);
		c->overrun = 1;
		for (int i = 0; i < MAX_QP; i++)
			if (S->qp[i].used && (S->qp[i].recv_cq == slot || S->qp[i].send_cq == slot))
				S->qp[i].state = IBV_QPS_ERR;
		return;
	}
	S->cqe[slot][c->tail % MAX_CQE] = *wc;
	c->tail++;
}

/* ---- QP ---------------------------------------------------------------------------------- */

struct ibv_qp *ibv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *ia)
{
	struct emu_qp *q;
	int i;

	if (ia->qp_type != IBV_QPT_RC || ia->srq || !ia->send_cq || !ia->recv_cq ||
	    ia->cap.max_recv_wr > MAX_RQ || ia->cap.max_send_wr > MAX_RQ ||
	    ia->cap.max_send_sge > 1 || ia->cap.max_recv_sge > 1 || !ia->cap.max_send_wr) {
		errno = EINVAL; /* the emulator: RC, one SGE, no SRQ */
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q)
		q->sq = calloc(ia->cap.max_send_wr, sizeof(*q->sq));
	if (!q || !q->sq) {
		free(q);
		errno = ENOMEM;
		return NULL;
	}
	lock();
	for (i = 0; i < MAX_QP && S->qp[i].used; i++)
		;
	if (i == MAX_QP) {
		unlock();
		free(q->sq);
		free(q);
		errno = ENOMEM;
		return NULL;
	}
	memset(&S->qp[i], 0, sizeof(S->qp[i]));
	S->qp[i].pid = getpid();
	S->qp[i].used = 1;
	S->qp[i].dev = dev_index(pd->context);
	S->qp[i].state = IBV_QPS_RESET;
	S->qp[i].recv_cq = ((struct emu_cq *)ia->recv_cq)->slot;
	S->qp[i].send_cq = ((struct emu_cq *)ia->send_cq)->slot;
	S->qp[i].rq_cap = ia->cap.max_recv_wr;
	unlock();
	q->slot = i;
	q->max_send_wr = ia->cap.max_send_wr;
	q->qp.context = pd->context;
	q->qp.qp_context = ia->qp_context;
	q->qp.pd = pd;
	q->qp.send_cq = ia->send_cq;
	q->qp.recv_cq = ia->recv_cq;
	q->qp.qp_num = QPN_BASE + (uint32_t)i;
	q->qp.state = IBV_QPS_RESET;
	q->qp.qp_type = IBV_QPT_RC;
	q->rnr_retry = 7;
	q->sig_all = ia->sq_sig_all != 0;
	pthread_mutex_lock(&prog_lock);
	q->next = my_qps;
	my_qps = q;
	if (!nic_started && !pthread_create(&nic_thread, NULL, nic_main, NULL)) {
		pthread_detach(nic_thread);
		nic_started = true;
	}
	pthread_mutex_unlock(&prog_lock);
	return &q->qp;
}

static struct shm_qp *qp_by_num(uint32_t qpn)
{
	uint32_t i = qpn - QPN_BASE;

	return qpn >= QPN_BASE && i < MAX_QP && S->qp[i].used ? &S->qp[i] : NULL;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask)
{
	struct emu_qp *q = (struct emu_qp *)qp;
	struct shm_qp *s;
	int rc = 0;

	lock();
	s = &S->qp[q->slot];
	if (!(mask & IBV_QP_STATE)) {
		unlock();
		return EINVAL;
	}
	switch (a->qp_state) {
	case IBV_QPS_INIT:
		if (s->state != IBV_QPS_RESET || !(mask & IBV_QP_PORT) || a->port_num != 1 ||
		    !(mask & IBV_QP_ACCESS_FLAGS))
			rc = EINVAL;
		else
			s->access = a->qp_access_flags;
		break;
	case IBV_QPS_RTR: {
		union ibv_gid g;
		int want = IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			   IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
		struct shm_qp *d = qp_by_num(a->dest_qp_num);

		if (s->state != IBV_QPS_INIT || (mask & want) != want ||
		    a->path_mtu > IBV_MTU_1024 || !a->ah_attr.is_global ||
		    a->ah_attr.grh.sgid_index >= GID_TBL) {
			rc = EINVAL; /* RoCE needs a GRH; the MTU may not exceed the active one */
			break;
		}
		gid_of(d ? d->dev : 0, a->ah_attr.grh.sgid_index, &g);
		if (!d || memcmp(&g, &a->ah_attr.grh.dgid, sizeof(g))) {
			rc = EINVAL; /* no such destination at that GID */
			break;
		}
		s->dest_qpn = a->dest_qp_num;
		s->rq_psn = a->rq_psn & 0xffffff;
		break;
	}
	case IBV_QPS_RTS: {
		int want = IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			   IBV_QP_MAX_QP_RD_ATOMIC;

		if (s->state != IBV_QPS_RTR || (mask & want) != want) {
			rc = EINVAL;
			break;
		}
		s->sq_psn = a->sq_psn & 0xffffff;
		q->rnr_retry = a->rnr_retry;
		break;
	}
	case IBV_QPS_ERR:
	case IBV_QPS_RESET:
		break;
	default:
		rc = EINVAL;
	}
	if (!rc) {
		s->state = a->qp_state;
		qp->state = a->qp_state;
	}
	unlock();
	return rc;
}

int ibv_destroy_qp(struct ibv_qp *qp)
{
	struct emu_qp *q = (struct emu_qp *)qp, **pp;

	lock();
	S->qp[q->slot].used = 0;
	unlock();
	pthread_mutex_lock(&prog_lock);
	for (pp = &my_qps; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	pthread_mutex_unlock(&prog_lock);
	free(q->sq);
	free(q);
	return 0;
}

/* ---- work requests ----------------------------------------------------------------------- */

static int post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	struct emu_qp *q = (struct emu_qp *)qp;
	struct shm_qp *s;
	int rc = 0;

	lock();
	s = &S->qp[q->slot];
	for (; wr; wr = wr->next) {
		if (s->state == IBV_QPS_RESET || wr->num_sge > 1) {
			rc = EINVAL;
		} else if (s->state == IBV_QPS_ERR) {
			struct ibv_wc wc = {.wr_id = wr->wr_id,
					    .status = IBV_WC_WR_FLUSH_ERR,
					    .qp_num = qp->qp_num};

			cq_push(s->recv_cq, &wc);
			continue;
		} else if (s->rq_tail - s->rq_head >= s->rq_cap) {
			rc = ENOMEM;
		}
		if (rc) {
			*bad = wr;
			break;
		}
		s->rq_wr[s->rq_tail % MAX_RQ] = wr->wr_id;
		s->rq_tail++;
	}
	unlock();
	return rc;
}

static struct shm_mr *mr_by_key(uint32_t key, pid_t pid)
{
	for (int i = 0; i < MAX_MR; i++)
		if (S->mr[i].used && S->mr[i].key == key && S->mr[i].pid == pid)
			return &S->mr[i];
	return NULL;
}

static int post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	struct emu_qp *q = (struct emu_qp *)qp;
	enum ibv_qp_state st;
	int rc = 0;

	lock();
	st = S->qp[q->slot].state;
	unlock();
	pthread_mutex_lock(&prog_lock);
	for (; wr; wr = wr->next) {
		struct pending *p;

		if (st != IBV_QPS_RTS && st != IBV_QPS_ERR)
			rc = EINVAL;
		else if ((wr->opcode != IBV_WR_RDMA_WRITE &&
			  wr->opcode != IBV_WR_RDMA_WRITE_WITH_IMM) ||
			 wr->num_sge > 1)
			rc = EINVAL; /* the emulator implements RDMA writes only */
		else if (q->outstanding >= q->max_send_wr)
			rc = ENOMEM; /* send queue full (unsignalled WRs hold their slots) */
		if (rc) {
			*bad = wr;
			break;
		}
		p = &q->sq[q->sq_tail % q->max_send_wr];
		memset(p, 0, sizeof(*p));
		p->wr_id = wr->wr_id;
		p->op = wr->opcode;
		p->raddr = wr->wr.rdma.remote_addr;
		p->rkey = wr->wr.rdma.rkey;
		p->imm = wr->imm_data;
		p->signaled = (wr->send_flags & IBV_SEND_SIGNALED) || q->sig_all;
		if (wr->num_sge) {
			p->laddr = wr->sg_list[0].addr;
			p->len = wr->sg_list[0].length;
			p->lkey = wr->sg_list[0].lkey;
		}
		if (F.mine) {
			F.wr_count++;
			p->fail = F.wr_count == F.fail_wr;
			p->fail_status = F.fail_status;
			if (F.wr_count == F.bad_rkey_wr)
				p->rkey ^= 0x5a5a0000;
			p->stop = F.wr_count == F.stop_wr;
		}
		q->sq_tail++;
		q->outstanding++;
	}
	pthread_mutex_unlock(&prog_lock);
	return rc;
}

static void complete_send(struct emu_qp *q, struct pending *p, enum ibv_wc_status status)
{
	struct ibv_wc wc = {.wr_id = p->wr_id,
			    .status = status,
			    .qp_num = q->qp.qp_num,
			    .opcode = IBV_WC_RDMA_WRITE};

	q->sq_head++;
	if (status == IBV_WC_SUCCESS && !p->signaled) {
		q->unretired++;
		return;
	}
	/* a reported completion frees its slot and those of the unsignalled WRs before it */
	q->outstanding -= q->unretired + 1;
	q->unretired = 0;
	lock();
	cq_push(S->qp[q->slot].send_cq, &wc);
	unlock();
}

static void set_error(struct shm_qp *s)
{
	s->state = IBV_QPS_ERR;
}

/* Write into the target process.  false when it is gone (or its memory is). */
static bool place(pid_t pid, uint64_t dst, const void *src, size_t len)
{
	struct iovec l = {(void *)src, len}, r = {(void *)(uintptr_t)dst, len};

	if (!len)
		return true;
	if (pid == getpid()) {
		memcpy((void *)(uintptr_t)dst, src, len);
		return true;
	}
	if (process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)len)
		return true;
	if (errno == EPERM)
		die("process_vm_writev: EPERM (ptrace restrictions: run as one user with "
		    "kernel.yama.ptrace_scope=0, or as root)");
	return false;
}

/* Execute the oldest pending WR of q.  Returns true when it finished (successfully or
 * not), false when it must wait (receiver not ready). */
static bool execute(struct emu_qp *q, struct pending *p)
{
	struct shm_qp *me, *d;
	struct shm_mr *lm, *rm;
	enum ibv_wc_status st = IBV_WC_SUCCESS;
	uint64_t dst = 0;
	uint64_t rq_wr = 0;
	pid_t dpid = 0;
	int rcq = -1;
	bool ok;

	if (p->stop) {
		fprintf(stderr,
			"verbs-emulator: pid %d stops at its send WR %ld (VERBS_EMU_STOP_WR)\n",
			(int)getpid(), F.stop_wr);
		kill(getpid(), SIGSTOP); /* the whole process, as a hung host */
		p->stop = false;
	}
	lock();
	me = &S->qp[q->slot];
	d = qp_by_num(me->dest_qpn);
	lm = p->len ? mr_by_key(p->lkey, getpid()) : NULL;
	if (me->state == IBV_QPS_ERR) {
		st = IBV_WC_WR_FLUSH_ERR;
	} else if (p->fail) {
		st = (enum ibv_wc_status)p->fail_status;
	} else if (p->len &&
		   (!lm || p->laddr < lm->addr || p->laddr + p->len > lm->addr + lm->len)) {
		st = IBV_WC_LOC_PROT_ERR;
	} else if (!d || !alive(d->pid) || d->dest_qpn != q->qp.qp_num || d->state < IBV_QPS_RTR ||
		   d->state == IBV_QPS_ERR || d->rq_psn != me->sq_psn) {
		st = IBV_WC_RETRY_EXC_ERR; /* nobody answers (or not us): retries run out */
	} else {
		rm = mr_by_key(p->rkey, d->pid);
		if (!(d->access & IBV_ACCESS_REMOTE_WRITE) || !rm ||
		    !(rm->access & IBV_ACCESS_REMOTE_WRITE) || p->raddr < rm->iova ||
		    p->raddr + p->len > rm->iova + rm->len) {
			st = IBV_WC_REM_ACCESS_ERR;
			set_error(d);
		} else if (p->op == IBV_WR_RDMA_WRITE_WITH_IMM && !p->placed &&
			   d->rq_tail == d->rq_head) {
			/* receiver not ready */
			if (q->rnr_retry == 7 || ++p->rnr_tries < q->rnr_retry * 1000) {
				unlock();
				return false;
			}
			st = IBV_WC_RNR_RETRY_EXC_ERR;
			set_error(d);
		} else {
			dst = rm->addr + (p->raddr - rm->iova);
			dpid = d->pid;
			if (p->op == IBV_WR_RDMA_WRITE_WITH_IMM && !p->placed) {
				rq_wr = d->rq_wr[d->rq_head % MAX_RQ];
				d->rq_head++; /* this WQE is ours now */
				rcq = d->recv_cq;
			}
		}
	}
	if (st != IBV_WC_SUCCESS) {
		set_error(me);
		unlock();
		complete_send(q, p, st);
		return true;
	}
	unlock();
	/* placement, outside the lock (the target's CPU is not involved) */
	if (F.mine && F.delay_us)
		usleep((useconds_t)F.delay_us);
	if (F.mine && F.split && p->len > 1) {
		ok = place(dpid, dst, (void *)(uintptr_t)p->laddr, p->len / 2);
		usleep(2000);
		ok = ok && place(dpid, dst + p->len / 2, (void *)(uintptr_t)(p->laddr + p->len / 2),
				 p->len - p->len / 2);
	} else {
		ok = place(dpid, dst, (void *)(uintptr_t)p->laddr, p->len);
	}
	if (!ok) { /* the target died under us: retries run out */
		lock();
		set_error(&S->qp[q->slot]);
		unlock();
		complete_send(q, p, IBV_WC_RETRY_EXC_ERR);
		return true;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (rcq >= 0) {
		struct ibv_wc wc = {.wr_id = rq_wr,
				    .status = IBV_WC_SUCCESS,
				    .opcode = IBV_WC_RECV_RDMA_WITH_IMM,
				    .byte_len = p->len,
				    .imm_data = p->imm,
				    .wc_flags = IBV_WC_WITH_IMM,
				    .qp_num = me->dest_qpn,
				    .src_qp = q->qp.qp_num};

		lock();
		cq_push(rcq, &wc);
		unlock();
	}
	complete_send(q, p, IBV_WC_SUCCESS);
	return true;
}

/* A QP in the error state: flush its receive WQEs and pending sends.  */
static void flush(struct emu_qp *q)
{
	struct shm_qp *s;

	lock();
	s = &S->qp[q->slot];
	while (s->rq_head != s->rq_tail) {
		struct ibv_wc wc = {.wr_id = s->rq_wr[s->rq_head % MAX_RQ],
				    .status = IBV_WC_WR_FLUSH_ERR,
				    .qp_num = q->qp.qp_num};

		s->rq_head++;
		cq_push(s->recv_cq, &wc);
	}
	unlock();
	while (q->sq_head != q->sq_tail)
		complete_send(q, &q->sq[q->sq_head % q->max_send_wr], IBV_WC_WR_FLUSH_ERR);
}

/* Run every QP of this process as far as it goes.  Returns whether WRs are still
 * pending.  Under prog_lock. */
static bool progress(void)
{
	bool pending = false;

	for (struct emu_qp *q = my_qps; q; q = q->next) {
		enum ibv_qp_state st;

		lock();
		st = S->qp[q->slot].state;
		unlock();
		if (st == IBV_QPS_ERR) {
			flush(q);
			continue;
		}
		while (q->sq_head != q->sq_tail && execute(q, &q->sq[q->sq_head % q->max_send_wr]))
			;
		pending |= q->sq_head != q->sq_tail;
	}
	return pending;
}

static void *nic_main(void *arg)
{
	for (;;) {
		bool pending;

		pthread_mutex_lock(&prog_lock);
		pending = progress();
		pthread_mutex_unlock(&prog_lock);
		usleep(pending ? 20 : 100);
	}
	return NULL;
}

static int poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc)
{
	struct shm_cq *c;
	int got = 0;

	if (!pthread_mutex_trylock(&prog_lock)) { /* else the NIC thread is at it */
		progress();
		pthread_mutex_unlock(&prog_lock);
	}
	lock();
	c = &S->cq[((struct emu_cq *)cq)->slot];
	if (c->overrun) {
		unlock();
		return -EOVERFLOW;
	}
	while (got < n && c->head != c->tail) {
		wc[got++] = S->cqe[((struct emu_cq *)cq)->slot][c->head % MAX_CQE];
		c->head++;
	}
	unlock();
	return got;
}
