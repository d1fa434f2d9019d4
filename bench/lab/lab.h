/*
 * lab.h - private header of bench/lab/: the emulated multi-host fabric behind `arlab`.
 *
 * A lab_fabric is what one Linux machine emulates: hosts (one network namespace each, with its
 * own UTS hostname at launch), bridges (one Linux bridge per switch, all in one fabric
 * namespace) and links (one veth pair each, shaped with a tbf qdisc on both ends).  It is built
 * from a topo_graph (NIC vertex -> its node's host, switch -> bridge, HOST/FABRIC links -> veth;
 * GPUs and INTRA links are not emulated), checked, then turned into a plan: a flat list of
 * argv vectors for `ip`/`tc` that are run with fork/exec, never through a shell.
 *
 * A topology with more than one path between two switches (several spines, parallel cables, a
 * fat-tree) cannot be bridged without a spanning tree; it is built routed instead (routed.c):
 * every switch its own namespace forwarding IPv4, with an equal-cost route over every shortest
 * path to every host, hashed on the 5-tuple.  So is a topology whose hosts have several NICs
 * (rails, rails.c): NIC k of every host is on subnet 10.77.k.0/24, and a host sends what
 * leaves NIC k's address out of NIC k, so the switches decide whether two rails are joined.
 *
 * Everything the lab creates is named with LAB_PREFIX, so `arlab down` removes exactly that.
 *
 * The commands of `arlab` (up, down, status, counters, run, exec) are functions of this
 * directory too (cmd_*.c), so that tests call them as the program does; arlab.c only picks one.
 */
#ifndef ARBENCH_LAB_H
#define ARBENCH_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "topo/topo.h"

#define LAB_PREFIX	      "arl-"
#define LAB_FABRIC_NS	      "arl-fabric" /* holds every bridge; no host may be called "fabric" */
#define LAB_STATE_DIR	      "/run/arlab"
#define LAB_NETNS_DIR	      "/run/netns"
#define LAB_SUBNET	      "10.77.0.0/16" /* host NIC k of host h: 10.77.k.(h+1)/24 */
#define LAB_DEFAULT_MAX_HOSTS 64
#define LAB_HARD_MAX_HOSTS    254 /* one /24 per NIC index */
#define LAB_MAX_NICS	      16
#define LAB_SWITCH_NS_FMT     LAB_PREFIX "sw_%u" /* routed switch i; '_' is in no hostname */
#define LAB_LINK_NET	      "10.78"	  /* routed: switch<->switch link l: 10.78.0.0 + 4l, /30 */
#define LAB_RAIL_GATEWAY      "10.79.0.1" /* rails: a leaf's /32 on every port to such a host */
#define LAB_RAIL_TABLE	      100	  /* rails: host route table of NIC k is 100 + k */
#define LAB_ROUTED_MAX_LINKS  16384	  /* /30s in 10.78.0.0/16 */
#define LAB_NAME_MAX	      64	  /* a hostname label is at most 63 characters */
#define LAB_ERR_MAX	      512
/* Jumbo frames, as data-centre fabrics use: TCP goodput is 99% of the shaped rate instead of
 * 95.6% (1448 of 1514 bytes), and fewer packets leave the 2 cores more time at 800 Mbit/s. */
#define LAB_MTU "9000"

struct lab_host {
	char name[LAB_NAME_MAX]; /* the node name: namespace LAB_PREFIX name, UTS hostname name */
	unsigned n_nics;	 /* NICs with a link (interfaces LAB_PREFIX "eth0" ...) */
};

struct lab_bridge {
	char name[LAB_NAME_MAX]; /* the switch's name in the topology (the bridge is arl-s<i>) */
};

enum lab_end_kind { LAB_END_HOST, LAB_END_BRIDGE };

struct lab_end {
	enum lab_end_kind kind;
	uint32_t index; /* host or bridge index */
	uint16_t nic;	/* NIC index inside the host (LAB_END_HOST only) */
};

struct lab_link {
	struct lab_end a, b;
	double rate;	/* bytes per second, each direction */
	double latency; /* seconds, one way, as described; not emulated (no netem) */
};

struct lab_fabric {
	char name[128];
	uint32_t n_hosts, n_bridges, n_links;
	struct lab_host *hosts;
	struct lab_bridge *bridges;
	struct lab_link *links;
	bool routed; /* switches are routers in their own namespaces (routed.c), not bridges:
		      * several paths between switches, or hosts with several NICs (rails.c) */
};

/* ---- fabric.c: building and checking a fabric --------------------------------------------- */

/* An empty fabric named name.  0 or -ENOMEM. */
int lab_fabric_new(const char *name, struct lab_fabric **out);
void lab_fabric_free(struct lab_fabric *f);
/* Append a host, bridge or link; *index receives its index (may be NULL).  0 or -ENOMEM;
 * a host name of LAB_NAME_MAX characters or more is refused (-ENAMETOOLONG), never cut. */
int lab_fabric_add_host(struct lab_fabric *f, const char *name, uint32_t *index);
int lab_fabric_add_bridge(struct lab_fabric *f, const char *name, uint32_t *index);
int lab_fabric_add_link(struct lab_fabric *f, struct lab_end a, struct lab_end b, double rate,
			double latency);

/* Map an expanded topology onto a fabric: each node with a NIC becomes a host named after the
 * node, each switch a bridge, each HOST or FABRIC link a link; GPUs and INTRA links are
 * dropped.  0, -ENOMEM, or -EINVAL with a one-line reason in err (a node name longer than
 * a hostname's 63 characters is reported here, by name). */
int lab_fabric_from_graph(const struct topo_graph *g, const char *name, struct lab_fabric **out,
			  char *err, size_t errlen);

/* True when s is one hostname label (RFC 1123: letters, digits, '-', 1..63 characters, not
 * starting or ending with '-').  Dots are refused: Open MPI strips a domain from hostnames. */
bool lab_valid_hostname(const char *s);

/* The checks of lab_fabric_check (kinds.c) but a routed fabric's own: at least one host and
 * one link, at most max_hosts hosts, valid unique host names, rates > 0, at most one link per
 * NIC; bridged: no loop among bridges (no STP).  0 or -EINVAL with a one-line reason in err. */
int lab_fabric_check_common(const struct lab_fabric *f, unsigned max_hosts, char *err,
			    size_t errlen);

/* Names and addresses.  Each writes a NUL-terminated string into buf (at least 32 bytes;
 * LAB_NAME_MAX + 8 for lab_host_ns). */
void lab_host_ns(const struct lab_fabric *f, uint32_t host, char *buf, size_t len);
void lab_host_ifname(uint16_t nic, char *buf, size_t len);
void lab_bridge_ifname(uint32_t bridge, char *buf, size_t len);
void lab_port_ifname(uint32_t link, int side, char *buf, size_t len); /* side -1: only end */
void lab_host_addr(uint32_t host, uint16_t nic, bool with_prefix, char *buf, size_t len);
void lab_switch_ns(uint32_t sw, char *buf, size_t len); /* routed switch sw's namespace */

/* True when two switches are joined by more than one path (several spines, parallel cables):
 * the fabric must be routed.  lab_fabric_from_graph sets f->routed from it (and from hosts
 * with several NICs). */
bool lab_fabric_has_loop(const struct lab_fabric *f);

/* The namespaces a fabric consists of (hosts, and the bridges' or every router's), as one
 * malloc'ed array of malloc'ed strings.  0 or -ENOMEM. */
int lab_fabric_netns(const struct lab_fabric *f, char ***names, size_t *n);

/* Format a one-line reason into err (when err and errlen are given); returns -EINVAL, so that a
 * check can `return lab_errf(err, errlen, "...", ...)`. */
int lab_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The most NICs any host has cabled (0 for no host). */
unsigned lab_fabric_max_nics(const struct lab_fabric *f);
/* The switch NIC nic of host h is cabled to, and that link; false when it is not. */
bool lab_leaf_of_nic(const struct lab_fabric *f, uint32_t h, uint16_t nic, uint32_t *sw,
		     uint32_t *link);

/* ---- plan.c: the commands that build a fabric --------------------------------------------- */

struct lab_cmd {
	int argc;
	char **argv; /* NULL-terminated, owned */
};

struct lab_plan {
	size_t n, cap;
	struct lab_cmd *cmds;
};

/* Append one command (a NULL-terminated list of strings, copied).  0 or -ENOMEM. */
int lab_plan_add(struct lab_plan *p, const char *arg0, ...);
void lab_plan_free(struct lab_plan *p);
/* Command c as one line, its arguments joined by spaces (what `up --dry-run` prints), cut to
 * fit len.  Returns buf. */
char *lab_cmd_line(const struct lab_cmd *c, char *buf, size_t len);

/* The tbf parameters for a rate in bytes/s: rate in bit/s, burst in bytes. */
void lab_tbf_params(double rate, uint64_t *rate_bits, uint64_t *burst_bytes);

/* Append one command given as an argv array of argc strings (copied).  0 or -ENOMEM. */
int lab_plan_addv(struct lab_plan *p, int argc, const char *const *argv);

/* Every `ip`/`tc` command that builds a bridged fabric f from nothing, in order.  0 or
 * -ENOMEM. */
int lab_plan_bridged(const struct lab_fabric *f, struct lab_plan *p);
/* Every host's namespace: created, loopback up, no IPv6.  0 or -ENOMEM. */
int lab_plan_hosts(const struct lab_fabric *f, struct lab_plan *p);
/* Shape one end of a link: a tbf qdisc at rate (bytes/s) on dev in namespace ns. */
int lab_plan_tbf(struct lab_plan *p, const char *ns, const char *dev, double rate);

/* ---- routed.c: fabrics whose switches route ------------------------------------------------ */

/* What a routed fabric needs beyond lab_fabric_check: every node cabled to a switch, no cable
 * between two nodes, a path between every two nodes through the switches NIC by NIC
 * (lab_rails_check), at most LAB_ROUTED_MAX_LINKS links.  0, -ENOMEM, or -EINVAL with a
 * one-line reason naming the nodes or link. */
int lab_routed_check(const struct lab_fabric *f, char *err, size_t errlen);
/* The commands that build a checked routed fabric: namespaces (hosts as bridged labs have them;
 * one per switch, forwarding, 5-tuple multipath hash), shaped veth pairs, addresses, on every
 * switch a route to every host's NIC over all its equal-cost next hops, and the hosts' per-NIC
 * route tables when they have several (lab_plan_rail_hosts).  0 or -ENOMEM. */
int lab_plan_routed(const struct lab_fabric *f, struct lab_plan *p);
/* Namespace and interface of one end (side 0: a, 1: b) of link l, as the plan names them. */
void lab_link_end(const struct lab_fabric *f, uint32_t l, int side, char *ns, size_t nslen,
		  char *dev, size_t devlen);
/* `arlab status` for one switch namespace of a routed lab: its IPv4 routes, one a line. */
void lab_print_routes(const char *ns);

/* ---- rails.c: hosts with several NICs in a routed fabric ----------------------------------- */

/* What a routed fabric needs for hosts to reach each other, NIC by NIC: a host sends to a NIC-k
 * address out of its own NIC k, so for every k the NICs k of all hosts must be joined through
 * the switches.  Two rails need not be (rail-only).  0, -ENOMEM, or -EINVAL with a one-line
 * reason naming the two nodes and NICs that have no path. */
int lab_rails_check(const struct lab_fabric *f, char *err, size_t errlen);
/* Whether a host's NIC k can reach another host's NIC j (j != k) through the switches: true
 * when every NIC of every host is on one connected set of switches (rail-optimized). */
bool lab_rails_joined(const struct lab_fabric *f);
/* One line for `up` about the rails of a fabric whose hosts have several NICs ("" when they
 * have one): how many, and whether the switches join them. */
void lab_rails_describe(const struct lab_fabric *f, char *buf, size_t len);
/* The commands that give every host with several NICs one route table per NIC (selected by the
 * source address: what leaves NIC k's address leaves NIC k, to its own rail directly and to
 * the others through the leaf, LAB_RAIL_GATEWAY), after the links are up.  0 or -ENOMEM. */
int lab_plan_rail_hosts(const struct lab_fabric *f, struct lab_plan *p);
/* On the leaf end (namespace ns, interface dev) of link l to host h with several NICs: the
 * gateway address.  0 (nothing to do for a host with one NIC) or -ENOMEM. */
int lab_plan_rail_port(const struct lab_fabric *f, uint32_t h, const char *ns, const char *dev,
		       struct lab_plan *p);
/* The per-rank NIC binding `arlab run --rail-bind MODE` applies: 0 when mode is one of
 * "local" or "matched", -EINVAL otherwise. */
int lab_rail_bind_mode(const char *mode);
/* Whether `run --rail-bind mode` with rpn ranks per node and np ranks (in host order) can run
 * on the lab whose state is in dir: its hosts have several NICs, and when its rails are not
 * joined, no two ranks on different hosts are bound to different NICs.  0, or -EINVAL with a
 * one-line reason naming the two ranks and their hosts. */
int lab_rail_bind_check(const char *dir, const char *mode, unsigned rpn, unsigned np, char *err,
			size_t errlen);
/* State files "rails" ("joined" or "separate") and "rail-bind" (the wrapper script that binds
 * each rank to one NIC).  0 or a negative errno. */
int lab_state_write_rails(const struct lab_fabric *f, const char *dir);

/* ---- kinds.c: a fabric of either kind, bridged or routed ------------------------------------ */

/* Everything `up` needs to hold before it touches the system: lab_fabric_check_common, and for
 * a routed fabric lab_routed_check.  0 or -EINVAL with a one-line reason in err. */
int lab_fabric_check(const struct lab_fabric *f, unsigned max_hosts, char *err, size_t errlen);
/* Every `ip`/`tc` command that builds f from nothing, in order: lab_plan_bridged or
 * lab_plan_routed.  0 or -ENOMEM. */
int lab_plan_up(const struct lab_fabric *f, struct lab_plan *p);

/* ---- counters.c: bytes carried per link ----------------------------------------------------- */

/* State file "links": one line per link, "NS_A DEV_A NS_B DEV_B NAME_A NAME_B CLASS". */
int lab_state_write_links(const struct lab_fabric *f, const char *dir);
/* Save every link's byte counters as the baseline `arlab counters` subtracts ("counters.base"
 * in the state directory, with the time).  0 or a negative errno. */
int lab_counters_reset(const char *dir);
/* Print the bytes every link carried each way since the baseline (since `up` when none);
 * fabric_only: switch<->switch links only.  0 or a negative errno (message printed). */
int lab_counters_print(const char *dir, bool fabric_only, FILE *out);

/* ---- sys.c: running commands, the lab's objects, reading files ------------------------------ */

/* fork/exec argv (PATH lookup), wait.  Its stdout goes to out (NUL-terminated, truncated to
 * outlen; may be NULL), its stderr to err (likewise).  Returns the exit status (0..255), or a
 * negative errno when it could not run. */
int lab_run(char *const argv[], char *out, size_t outlen, char *err, size_t errlen);

/* Like lab_run, but prints the command first when verbose. */
int lab_run_cmd(const struct lab_cmd *c, bool verbose, char *err, size_t errlen);

/* The network namespaces whose name starts with LAB_PREFIX, sorted, as one malloc'ed array of
 * malloc'ed strings.  0 or a negative errno. */
int lab_list_netns(char ***names, size_t *n);
/* The interfaces of the root namespace whose name starts with LAB_PREFIX (should be none). */
int lab_list_root_links(char ***names, size_t *n);
void lab_free_names(char **names, size_t n);

/* Remove every lab object: stop the processes inside lab namespaces, delete the namespaces,
 * root-namespace links with the prefix, and the state directory.  Counts what it removed.
 * 0 or the first negative errno (it still tries everything). */
int lab_teardown(bool verbose, unsigned *n_netns, unsigned *n_links, unsigned *n_procs, char *err,
		 size_t errlen);

/* Read the host names written by lab_state_write ("hosts", one per line). */
int lab_state_hosts(const char *dir, char ***names, size_t *n);
/* Read a whole file into a malloc'ed NUL-terminated buffer. */
int lab_read_file(const char *path, char **data, size_t *len);

/* ---- state.c: the state directory ---------------------------------------------------------- */

/* State directory: the topology file it was built from ("topology.yaml", "source"), the host
 * list ("hosts"), the switch of each bridge ("bridges"; routed: of each switch namespace,
 * "switches"), every link's ends ("links", counters.c), the most NICs of any host ("nics"),
 * the rsh agent, and the rails ("rails", and the per-rank NIC binding of `run --rail-bind`,
 * "rail-bind": rails.c).  0 or a negative errno. */
int lab_state_write(const struct lab_fabric *f, const char *topo_path, const char *dir);
/* Write len bytes of data to the file dir/name (created or truncated, with mode).  0 or a
 * negative errno. */
int lab_state_file(const char *dir, const char *name, const char *data, size_t len, int mode);

/* ---- cmd_*.c: the arlab commands ----------------------------------------------------------- *
 * One function per subcommand, given the subcommand's own arguments (argv[0] is its name, as
 * `arlab NAME ...` passes argv + 1).  It parses them with getopt_long (-h/--help prints its
 * help on out), prints results on out and messages on err, and returns an exit status of
 * topo/topo.h: ARB_EXIT_OK; ARB_EXIT_CHECK (status: the lab is incomplete); ARB_EXIT_INPUT (bad
 * usage or topology, not root, no lab up or another lab in the way); ARB_EXIT_RUNTIME (a system
 * command or call failed).  Whatever a command refuses, it refuses before it needs root or
 * changes anything.  exec and run replace the process when they succeed. */
typedef int lab_cmd_fn(int argc, char **argv, FILE *out, FILE *err);
int lab_cmd_up(int argc, char **argv, FILE *out, FILE *err);	   /* cmd_up.c */
int lab_cmd_down(int argc, char **argv, FILE *out, FILE *err);	   /* cmd_up.c */
int lab_cmd_status(int argc, char **argv, FILE *out, FILE *err);   /* cmd_status.c */
int lab_cmd_counters(int argc, char **argv, FILE *out, FILE *err); /* cmd_status.c */
int lab_cmd_run(int argc, char **argv, FILE *out, FILE *err);	   /* cmd_run.c */
int lab_cmd_exec(int argc, char **argv, FILE *out, FILE *err);	   /* cmd_run.c */

/* `arlab up [options] TOPO.yaml`, parsed (nothing read or touched yet). */
struct lab_up_opts {
	unsigned max_hosts; /* -m/--max-hosts, 1..LAB_HARD_MAX_HOSTS; LAB_DEFAULT_MAX_HOSTS */
	bool dry_run;	    /* -n/--dry-run: print the plan only */
	bool verbose;	    /* -v: print each command as it runs */
	bool help;	    /* -h/--help: printed; nothing else was parsed */
	const char *topo;   /* the topology file, as given */
};
/* 0 (with --help: the help printed on out), or ARB_EXIT_INPUT with the reason on err (getopt
 * itself names an unknown option). */
int lab_up_parse(int argc, char **argv, struct lab_up_opts *o, FILE *out, FILE *err);

/* `arlab run [options] -- ARGS...`, parsed. */
struct lab_run_opts {
	unsigned ranks_per_node; /* -r/--ranks-per-node, 1..256; 1 */
	unsigned np;		 /* -n/--np, 1..65536; 0: every slot */
	const char *bench;	 /* -b/--bench; NULL: arbench beside the running program */
	const char *mpirun;	 /* -m/--mpirun; $MPIRUN, else "mpirun" */
	const char *rail_bind;	 /* -R/--rail-bind: "local" or "matched"; NULL: every NIC */
	bool verbose, help;
	int first_arg; /* argv index of the first argument for the benchmark */
};
/* Likewise. */
int lab_run_parse(int argc, char **argv, struct lab_run_opts *o, FILE *out, FILE *err);

/* cmd_common.c: what the commands share. */
/* A flag of a command whose options are all flags (down, status, counters). */
struct lab_flag {
	const char *name; /* --name */
	char short_name;  /* -c, or 0 */
	bool *value;	  /* true when given, else false */
};
#define LAB_MAX_FLAGS 8
/* Parse a command line of flags only (flags end with a NULL name; -h/--help is added): -1 to go
 * on, ARB_EXIT_OK after printing help on out, or ARB_EXIT_INPUT after printing usage on err
 * (an unknown flag, an operand). */
int lab_parse_flags(int argc, char **argv, const struct lab_flag *flags, const char *usage,
		    void (*help)(FILE *), FILE *out, FILE *err);
/* The others return 0 or an exit status (message on err). */
/* A count option: a whole number from 1 to max ("arlab: OPT S: expected a number ..."). */
int lab_parse_count(const char *opt, const char *s, unsigned max, unsigned *out, FILE *err);
/* Root, or ARB_EXIT_INPUT naming what needs it. */
int lab_need_root(const char *what, FILE *err);
/* The hosts of the lab that is up (LAB_STATE_DIR), or ARB_EXIT_INPUT: no lab is up. */
int lab_hosts_or_fail(char ***hosts, size_t *n, FILE *err);
/* One up or down at a time per machine: an exclusive flock on /run/arlab.lock, held until the
 * process exits (close-on-exec), waiting up to $ARLAB_LOCK_WAIT seconds (default 120) and
 * saying which process holds it (from /proc/locks); then ARB_EXIT_INPUT.  A lock file that is
 * not a private regular file of root's (a symlink, another owner) is refused: ARB_EXIT_RUNTIME. */
int lab_lock(const char *what, FILE *err);

#endif /* ARBENCH_LAB_H */
