/*
 * links_cli.c - the command line of `arbench links`: the sweep's size, iteration, transport,
 * JSON, timeout and anonymisation flags (same spelling and meaning as the all-reduce sweep)
 * plus the pattern, the flagging threshold and which ranks take part; and its --help text.
 */
#include "bench/bench.h"
#include "bench/internal.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A number in [min, max] (min itself excluded when open_min). */
static int number(const char *flag, const char *arg, double min, bool open_min, double max,
		  double *out, const char *expected, char *err, size_t errlen)
{
	char *end;
	double v = 0;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || (open_min && v == min) ||
	    v > max)
		return bench__fail(err, errlen, "%s '%s': expected %s", flag, arg, expected);
	*out = v;
	return 0;
}

enum {
	OPT_PATTERN = BENCH__OPT_OWN,
	OPT_THRESHOLD,
	OPT_FAIL_BELOW,
	OPT_ALL_RANKS,
	OPT_SEED,
};

static const struct option long_opts[] = {
	BENCH__COMMON_LONG_OPTS, /* internal.h: the flags of arbench's own sweep */
	{"pattern", required_argument, NULL, OPT_PATTERN},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"fail-below", no_argument, NULL, OPT_FAIL_BELOW},
	{"all-ranks", no_argument, NULL, OPT_ALL_RANKS},
	{"seed", required_argument, NULL, OPT_SEED},
	{NULL, 0, NULL, 0},
};

static const char short_opts[] = ":b:e:f:i:n:w:t:J:qh";

static void set_defaults(struct bench_links_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->common.minbytes = 8;
	o->common.maxbytes = 2u << 20;
	o->common.stepfactor = 8;
	o->common.stepbytes = 1u << 20;
	o->common.iters = 10;
	o->common.warmup = 2;
	o->common.transport = "mpi";
	o->common.min_busbw = -1;
	o->pattern = BENCH_LINKS_ALL;
	o->threshold = 0.9;
}

static int handle(int c, const char *arg, struct bench_links_opts *o, bool *factor_given,
		  bool *step_given, char *err, size_t errlen)
{
	struct bench_opts *co = &o->common;
	double v = 0;
	int rc = bench__common_option(c, arg, co, step_given, err, errlen);

	if (rc <= 0)
		return rc;
	switch (c) {
	case 'f':
		*factor_given = true;
		return number("-f", arg, 1, false, 1e9, &co->stepfactor, "a number >= 1", err,
			      errlen);
	case 'n':
	case 'w':
		if (number(c == 'n' ? "-n" : "-w", arg, c == 'n' ? 1 : 0, false, 1e9, &v,
			   c == 'n' ? "an integer >= 1" : "an integer >= 0", err, errlen))
			return -EINVAL;
		if (v != floor(v))
			return bench__fail(err, errlen, "-%c '%s': expected an integer", c, arg);
		*(c == 'n' ? &co->iters : &co->warmup) = (int)v;
		return 0;
	case 't':
		if (!ar_transport_find(arg))
			return bench__fail(err, errlen,
					   "-t: unknown transport '%s' (expected mpi or verbs)",
					   arg);
		co->transport = arg;
		return 0;
	case BENCH__OPT_GID_INDEX:
		if (number("--gid-index", arg, 0, false, 65535, &v, "an integer >= 0", err,
			   errlen) ||
		    v != floor(v))
			return bench__fail(err, errlen,
					   "--gid-index '%s': expected an integer >= 0", arg);
		co->gid_index = (int)v;
		co->gid_index_set = true;
		return 0;
	case OPT_PATTERN:
		if (bench_links_pattern_parse(arg, &o->pattern))
			return bench__fail(
				err, errlen,
				"--pattern '%s': expected all, ring, random-ring, shift or "
				"bisection",
				arg);
		return 0;
	case OPT_THRESHOLD:
		return number("--threshold", arg, 0, true, 1, &o->threshold,
			      "a fraction of the median in (0, 1], e.g. 0.9", err, errlen);
	case OPT_FAIL_BELOW:
		o->fail_below = true;
		return 0;
	case OPT_ALL_RANKS:
		o->all_ranks = true;
		return 0;
	case OPT_SEED:
		if (number("--seed", arg, 0, false, 4294967295.0, &v,
			   "an integer in [0, 4294967295]", err, errlen) ||
		    v != floor(v))
			return bench__fail(err, errlen,
					   "--seed '%s': expected an integer in [0, 4294967295]",
					   arg);
		o->seed = (unsigned)v;
		o->seed_set = true;
		return 0;
	case BENCH__OPT_TIMEOUT:
		if (number("--timeout", arg, 0, false, 1e9, &co->timeout,
			   "0 (off) or a number of seconds >= 0.001", err, errlen))
			return -EINVAL;
		if (co->timeout > 0 && co->timeout < BENCH_MIN_TIMEOUT)
			return bench__fail(err, errlen,
					   "--timeout '%s': expected 0 (off) or at least %g s", arg,
					   BENCH_MIN_TIMEOUT);
		return 0;
	default:
		return bench__fail(err, errlen, "internal: unhandled option %d", c);
	}
}

int bench_links_parse_args(int argc, char **argv, struct bench_links_opts *o, char *err,
			   size_t errlen)
{
	bool factor_given = false, step_given = false;
	struct bench_opts *co = &o->common;
	int c, rc;

	set_defaults(o);
	err[0] = '\0';
	optind = 0; /* GNU: full reinitialisation; argv[0] ("links") is skipped like a name */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bench__getopt_error(c, argv, "links: ", "arbench links --help", err,
						   errlen);
		rc = handle(c, optarg, o, &factor_given, &step_given, err, errlen);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return bench__fail(err, errlen,
				   "links: unexpected argument '%s' (see arbench links --help)",
				   argv[optind]);
	if (co->help)
		return 0;
	if (bench__check_sweep(co, true, factor_given, step_given, err, errlen))
		return -EINVAL;
	if (o->seed_set && o->pattern != BENCH_LINKS_RANDOM_RING)
		return bench__fail(err, errlen, "--seed applies to --pattern random-ring only");
	return 0;
}

void bench_links_usage(FILE *f)
{
	fprintf(f,
		"Usage: mpirun -np N arbench links [options]\n"
		"Point-to-point bandwidth and latency between nodes (one rank per node), pair by\n"
		"pair, to find the slow link.  Bandwidths are in GB/s = 1e9 bytes/s, times in\n"
		"microseconds; sizes take K, M, G, T suffixes (powers of 1024).\n"
		"\n"
		"  -b, --minbytes SIZE      smallest message size in bytes (default 8)\n"
		"  -e, --maxbytes SIZE      largest message size in bytes (default 2M)\n"
		"  -f, --stepfactor X       multiply the size by X between steps (default 8)\n"
		"  -i, --stepbytes SIZE     add SIZE between steps instead (with -i and no -f)\n"
		"  -n, --iters N            timed iterations per size and direction (default 10)\n"
		"  -w, --warmup_iters N     untimed warm-up iterations (default 2)\n"
		"      --pattern P          which pairs: all (every pair, round-robin: p-1 "
		"rounds,\n"
		"                           p when p is odd; default), ring (neighbours in node\n"
		"                           order), random-ring (neighbours in a random order),\n"
		"                           shift (round k: every node streams to node i+k at\n"
		"                           once, mpiGraph's pattern), bisection (the first half\n"
		"                           of the nodes against the second, all pairs at once)\n"
		"      --seed N             order of random-ring (default: from the clock; "
		"printed)\n"
		"      --all-ranks          measure between every rank, not one rank per node\n"
		"      --threshold X        flag links below X times the median of all links at\n"
		"                           their size, X in (0, 1] (default 0.9)\n"
		"      --fail-below         exit 1 when any link is flagged\n"
		"  -t, --transport NAME     mpi (default) or verbs\n"
		"      --ib-dev NAME[:PORT] verbs: the RDMA device and port\n"
		"      --gid-index N        verbs: GID table index\n"
		"  -J, --json FILE          write the links as JSON to FILE, updated after every "
		"size\n"
		"      --timeout SEC        abort when a transfer waits longer than SEC seconds,\n"
		"                           naming rank, peer and direction (default 0 = forever)\n"
		"      --anonymize          hostnames become node0, node1, ... in the table and "
		"JSON\n"
		"  -q, --quiet              no progress lines and no run description\n"
		"  -h, --help               this text\n"
		"\n"
		"Per pair and size: src -> dst alone, dst -> src alone, both at once "
		"(bidirectional,\n"
		"both directions summed), and the latency (half a ping-pong round trip).  Links "
		"are\n"
		"judged at sizes >= 64 KiB (or at the largest size when all are smaller); a link\n"
		"is flagged when its one-way bandwidth is below --threshold times the median of\n"
		"all links of its size.  Every figure is the median over the timed iterations.\n"
		"Exit status: 0 ok, 1 a link flagged with --fail-below, 2 bad input (also: one\n"
		"node only without --all-ranks), 3 a transfer failed or timed out.\n"
		"Test hook (tests only): ARBENCH_TEST_STALL_RANK=R makes rank R sleep for\n"
		"ARBENCH_TEST_STALL_SEC seconds (default 30) inside the first round.\n");
}
