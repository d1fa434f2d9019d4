/*
 * cli.c - arbench's command line: nccl-tests compatible flags (-b -e -f -i -n -w -c -d -o -a)
 * plus the algorithm list, transport, JSON file, pass/fail threshold and timeout; size parsing
 * with K/M/G suffixes; the list of sizes a sweep visits; the --help text.
 */
#include "bench/bench.h"
#include "bench/internal.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Suffix letters and their powers of 1024 (nccl-tests: K = 1024). */
static const struct {
	char letter;
	unsigned shift;
} size_suffixes[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};

static const char *const agg_names[BENCH_AGG_COUNT] = {
	[BENCH_AGG_AVG] = "avg",
	[BENCH_AGG_MIN] = "min",
	[BENCH_AGG_MAX] = "max",
	[BENCH_AGG_RANK0] = "rank0",
};

const char *bench_agg_name(enum bench_agg a)
{
	return (unsigned)a < BENCH_AGG_COUNT ? agg_names[a] : "?";
}

int bench_parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	unsigned shift = 0;
	uint64_t v = 0;

	if (!text || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	for (size_t i = 0; *p && i < sizeof(size_suffixes) / sizeof(size_suffixes[0]); i++) {
		if ((*p & ~0x20) == size_suffixes[i].letter) {
			shift = size_suffixes[i].shift;
			p++;
			break;
		}
	}
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

const char *bench_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

/* ---- option handlers ------------------------------------------------------------------------- */

int bench__fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_int(const char *flag, const char *arg, int min, int *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > 1000000000)
		return bench__fail(err, errlen, "%s '%s': expected an integer >= %d", flag, arg,
				   min);
	*out = (int)v;
	return 0;
}

static int parse_double(const char *flag, const char *arg, double min, double *out, char *err,
			size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min)
		return bench__fail(err, errlen, "%s '%s': expected a number >= %g", flag, arg, min);
	*out = v;
	return 0;
}

int bench__size_arg(const char *flag, const char *arg, uint64_t *out, char *err, size_t errlen)
{
	if (bench_parse_size(arg, out))
		return bench__fail(
			err, errlen,
			"%s '%s': expected a size in bytes with an optional K, M, G or T "
			"suffix (powers of 1024), e.g. 8, 64K, 1G",
			flag, arg);
	return 0;
}

/* Comma-separated names or "all" into a flag array, through a parser for one name. */
static int parse_list(const char *flag, const char *arg, bool *set, int n,
		      int (*parse_one)(const char *, int *), const char *known, char *err,
		      size_t errlen)
{
	char buf[256], *save = NULL, *tok;

	if (!strcmp(arg, "all")) {
		for (int i = 0; i < n; i++)
			set[i] = true;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf) || !*arg)
		return bench__fail(err, errlen, "%s '%s': expected one of %s, a comma list, or all",
				   flag, arg, known);
	memset(set, 0, (size_t)n * sizeof(*set));
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int v;

		if (parse_one(tok, &v))
			return bench__fail(err, errlen,
					   "%s: unknown name '%s' (expected %s, or all)", flag, tok,
					   known);
		set[v] = true;
	}
	return 0;
}

static int dtype_one(const char *name, int *out)
{
	enum ar_dtype d;
	int err = ar_dtype_parse(name, &d);

	*out = (int)d;
	return err;
}

static int op_one(const char *name, int *out)
{
	enum ar_op op;
	int err = ar_op_parse(name, &op);

	*out = (int)op;
	return err;
}

static void algo_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ar_algo_count() && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 ar_algo_at(i)->name);
}

static int parse_algos(const char *arg, struct bench_opts *o, char *err, size_t errlen)
{
	char buf[256], known[256], *save = NULL, *tok;

	algo_names(known, sizeof(known));
	o->n_algos = 0;
	o->algos_all = !strcmp(arg, "all");
	if (o->algos_all) {
		for (size_t i = 0; i < ar_algo_count() && i < BENCH_MAX_ALGOS; i++)
			o->algos[o->n_algos++] = i;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf) || !*arg)
		return bench__fail(err, errlen, "-A '%s': expected a comma list of %s, or all", arg,
				   known);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ar_algo_count(); i++)
			if (!strcmp(ar_algo_at(i)->name, tok))
				break;
		if (i == ar_algo_count())
			return bench__fail(err, errlen,
					   "-A: unknown algorithm '%s' (expected %s, or all)", tok,
					   known);
		if (o->n_algos == BENCH_MAX_ALGOS)
			return bench__fail(err, errlen, "-A: at most %d algorithms",
					   BENCH_MAX_ALGOS);
		o->algos[o->n_algos++] = i;
	}
	return 0;
}

static int parse_agg(const char *arg, struct bench_opts *o, char *err, size_t errlen)
{
	/* nccl-tests spells -a as a number: 0 rank 0, 1 avg, 2 min, 3 max */
	static const char *const numeric[] = {"rank0", "avg", "min", "max"};
	const char *name = arg;

	if (arg[0] >= '0' && arg[0] <= '3' && !arg[1])
		name = numeric[arg[0] - '0'];
	for (int a = 0; a < BENCH_AGG_COUNT; a++) {
		if (!strcmp(name, agg_names[a])) {
			o->agg = (enum bench_agg)a;
			return 0;
		}
	}
	return bench__fail(err, errlen,
			   "-a '%s': expected avg, min, max or rank0 (or nccl-tests' 1, 2, 3, 0)",
			   arg);
}

/* ---- the option table ------------------------------------------------------------------------ */

enum {
	OPT_MIN_BUSBW = BENCH__OPT_OWN,
	OPT_SEGMENT,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	BENCH__COMMON_LONG_OPTS, /* internal.h: the flags arbench links shares */
	{"check", required_argument, NULL, 'c'},
	{"datatype", required_argument, NULL, 'd'},
	{"op", required_argument, NULL, 'o'},
	{"algo", required_argument, NULL, 'A'},
	{"average", required_argument, NULL, 'a'},
	{"min-busbw", required_argument, NULL, OPT_MIN_BUSBW},
	{"segment", required_argument, NULL, OPT_SEGMENT},
	{"register", required_argument, NULL, 'R'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static const char short_opts[] = ":b:e:f:i:n:w:c:d:o:A:t:J:a:R:hqV";

static void set_defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->minbytes = 8;
	o->maxbytes = 32u << 20;
	o->stepfactor = 2;
	o->stepbytes = 1u << 20;
	o->iters = 20;
	o->warmup = 5;
	o->check = 1;
	o->types[AR_FLOAT] = true;
	o->ops[AR_SUM] = true;
	o->algos_all = true;
	for (size_t i = 0; i < ar_algo_count() && i < BENCH_MAX_ALGOS; i++)
		o->algos[o->n_algos++] = i;
	o->transport = "mpi";
	o->agg = BENCH_AGG_AVG;
	o->min_busbw = -1;
}

static int handle(int c, const char *arg, struct bench_opts *o, bool *factor_given,
		  bool *step_given, char *err, size_t errlen)
{
	char known[128];
	int rc = bench__common_option(c, arg, o, step_given, err, errlen);

	if (rc <= 0)
		return rc;
	switch (c) {
	case 'f':
		*factor_given = true;
		return parse_double("-f", arg, 1, &o->stepfactor, err, errlen);
	case 'n':
		return parse_int("-n", arg, 1, &o->iters, err, errlen);
	case 'w':
		return parse_int("-w", arg, 0, &o->warmup, err, errlen);
	case 'c':
		if (strcmp(arg, "0") && strcmp(arg, "1"))
			return bench__fail(err, errlen, "-c '%s': expected 0 or 1", arg);
		o->check = arg[0] - '0';
		return 0;
	case 'd':
		return parse_list("-d", arg, o->types, AR_DTYPE_COUNT, dtype_one,
				  "float, double, half, bfloat16, int32, int64, uint8", err,
				  errlen);
	case 'o':
		return parse_list("-o", arg, o->ops, AR_OP_COUNT, op_one,
				  "sum, prod, min, max, avg", err, errlen);
	case 'A':
		return parse_algos(arg, o, err, errlen);
	case 't':
		if (!ar_transport_find(arg)) {
			known[0] = '\0';
			for (size_t i = 0; i < ar_transport_count(); i++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", i ? ", " : "", ar_transport_at(i)->name);
			return bench__fail(err, errlen, "-t: unknown transport '%s' (expected %s)",
					   arg, known);
		}
		o->transport = arg;
		return 0;
	case BENCH__OPT_GID_INDEX:
		o->gid_index_set = true;
		return parse_int("--gid-index", arg, 0, &o->gid_index, err, errlen);
	case 'R':
		if (strcmp(arg, "0") && strcmp(arg, "1"))
			return bench__fail(err, errlen, "-R '%s': expected 0 or 1", arg);
		o->shared_buffers = arg[0] == '1';
		return 0;
	case 'a':
		return parse_agg(arg, o, err, errlen);
	case OPT_MIN_BUSBW:
		return parse_double("--min-busbw", arg, 0, &o->min_busbw, err, errlen);
	case BENCH__OPT_TIMEOUT:
		if (parse_double("--timeout", arg, 0, &o->timeout, err, errlen))
			return -EINVAL;
		if (o->timeout > 0 && o->timeout < BENCH_MIN_TIMEOUT)
			return bench__fail(
				err, errlen,
				"--timeout '%s': expected 0 (off) or at least %g s (the arrival "
				"check polls every 100 us; a shorter limit cannot be measured)",
				arg, BENCH_MIN_TIMEOUT);
		return 0;
	case OPT_SEGMENT:
		if (bench__size_arg("--segment", arg, &o->segment, err, errlen))
			return -EINVAL;
		if (!o->segment)
			return bench__fail(err, errlen, "--segment '%s': expected a size > 0", arg);
		return 0;
	case 'V':
	case OPT_VERSION:
		o->version = true;
		return 0;
	default:
		return bench__fail(err, errlen, "internal: unhandled option %d", c);
	}
}

/* Checks that need every flag: the size range and its step. */
static int check_combination(struct bench_opts *o, bool factor_given, bool step_given, char *err,
			     size_t errlen)
{
	if (bench__check_sweep(o, false, factor_given, step_given, err, errlen))
		return -EINVAL;
	if (o->min_busbw >= 0 && o->maxbytes < (1u << 20))
		return bench__fail(err, errlen,
				   "--min-busbw judges sizes >= 1 MiB, but -e is below "
				   "1M: raise -e");
	return 0;
}

int bench__common_option(int c, const char *arg, struct bench_opts *o, bool *step_given, char *err,
			 size_t errlen)
{
	switch (c) {
	case 'b':
		return bench__size_arg("-b", arg, &o->minbytes, err, errlen);
	case 'e':
		return bench__size_arg("-e", arg, &o->maxbytes, err, errlen);
	case 'i':
		*step_given = true;
		return bench__size_arg("-i", arg, &o->stepbytes, err, errlen);
	case BENCH__OPT_IB_DEV:
		if (!*arg || *arg == ':')
			return bench__fail(err, errlen, "--ib-dev '%s': expected NAME or NAME:PORT",
					   arg);
		o->ib_dev = arg;
		return 0;
	case 'J':
		if (!*arg)
			return bench__fail(err, errlen, "-J: expected a file name");
		o->json_path = arg;
		return 0;
	case BENCH__OPT_ANONYMIZE:
		o->anonymize = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	}
	return 1;
}

int bench__check_sweep(struct bench_opts *o, bool min_positive, bool factor_given, bool step_given,
		       char *err, size_t errlen)
{
	if (o->minbytes > o->maxbytes)
		return bench__fail(err, errlen,
				   "-b %llu is larger than -e %llu: expected minbytes <= maxbytes",
				   (unsigned long long)o->minbytes,
				   (unsigned long long)o->maxbytes);
	if (min_positive && o->minbytes == 0)
		return bench__fail(err, errlen, "-b 0: expected a message size of at least 1 byte");
	if (!min_positive && o->maxbytes == 0)
		return bench__fail(err, errlen, "-e 0: expected a maximum size > 0");
	/* nccl-tests: -i alone means linear steps; -f > 1 always means geometric */
	if (step_given && !factor_given)
		o->stepfactor = 1;
	if (o->stepfactor <= 1 && o->stepbytes == 0 && o->minbytes != o->maxbytes)
		return bench__fail(err, errlen,
				   "-i 0 with -f 1 never reaches -e: expected -i > 0 or -f > 1");
	if ((o->ib_dev || o->gid_index_set) && strcmp(o->transport, "verbs"))
		return bench__fail(err, errlen, "%s applies to -t verbs only",
				   o->ib_dev ? "--ib-dev" : "--gid-index");
	return 0;
}

int bench__getopt_error(int c, char **argv, const char *prefix, const char *see, char *err,
			size_t errlen)
{
	if (c == ':')
		return bench__fail(err, errlen, "%soption '%s' needs a value (see %s)", prefix,
				   argv[optind - 1], see);
	if (optopt && optopt < 256)
		return bench__fail(err, errlen, "%sunknown option '-%c' (see %s)", prefix, optopt,
				   see);
	return bench__fail(err, errlen, "%sunknown option '%s' (see %s)", prefix, argv[optind - 1],
			   see);
}

int bench_parse_args(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen)
{
	bool factor_given = false, step_given = false;
	int c, rc;

	set_defaults(o);
	err[0] = '\0';
	optind = 0; /* GNU: full reinitialisation, so that parsing can run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bench__getopt_error(c, argv, "", "--help", err, errlen);
		rc = handle(c, optarg, o, &factor_given, &step_given, err, errlen);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return bench__fail(err, errlen, "unexpected argument '%s' (see --help)",
				   argv[optind]);
	if (o->help || o->version)
		return 0;
	return check_combination(o, factor_given, step_given, err, errlen);
}

size_t bench_sizes(const struct bench_opts *o, size_t elem_size, uint64_t *sizes, size_t cap)
{
	uint64_t s = o->minbytes, prev = 0;
	size_t n = 0;

	while (n < cap) {
		uint64_t r = s / elem_size * elem_size;

		if (r && r != prev)
			sizes[n++] = prev = r;
		if (s >= o->maxbytes)
			break;
		if (o->stepfactor > 1) {
			double next = (double)s * o->stepfactor;
			uint64_t ns = next >= 1.8e19 ? UINT64_MAX : (uint64_t)next;

			s = ns > s ? ns : s + 1;
		} else {
			s = UINT64_MAX - s < o->stepbytes ? UINT64_MAX : s + o->stepbytes;
		}
		if (s > o->maxbytes)
			break;
	}
	return n;
}

void bench_usage(FILE *f)
{
	char known[256];

	algo_names(known, sizeof(known));
	fprintf(f,
		"Usage: mpirun -np N arbench [options]\n"
		"Measure all-reduce bandwidth and check its results (nccl-tests compatible "
		"flags).\n"
		"Sizes take K, M, G, T suffixes (powers of 1024, as nccl-tests); bandwidths are "
		"in\n"
		"GB/s = 1e9 bytes/s; times are printed in microseconds.\n"
		"\n"
		"  -b, --minbytes SIZE      smallest message size in bytes (default 8)\n"
		"  -e, --maxbytes SIZE      largest message size in bytes (default 32M)\n"
		"  -f, --stepfactor X       multiply the size by X between steps (default 2)\n"
		"  -i, --stepbytes SIZE     add SIZE between steps instead (used when -f is 1 or "
		"not\n"
		"                           given with -i; default 1M)\n"
		"  -n, --iters N            timed iterations per size (default 20)\n"
		"  -w, --warmup_iters N     untimed warm-up iterations per size (default 5)\n"
		"  -c, --check 0|1          check every result bit-exactly in separate, untimed\n"
		"                           iterations (default 1)\n"
		"  -d, --datatype T|all     float, double, half, bfloat16, int32, int64, uint8, a "
		"comma\n"
		"                           list, or all (default float)\n"
		"  -o, --op OP|all          sum, prod, min, max, avg, a comma list, or all\n"
		"                           (default sum)\n"
		"  -A, --algo LIST|all      algorithms, comma separated, of: %s\n"
		"                           (default all that this run supports)\n"
		"  -t, --transport NAME     transport under the algorithms: mpi (default) or "
		"verbs\n"
		"      --ib-dev NAME[:PORT] verbs: the RDMA device and port (default: the first\n"
		"                           active port of any device)\n"
		"      --gid-index N        verbs: GID table index (default: RoCE v2 with an IPv4\n"
		"                           address; InfiniBand ports need none)\n"
		"  -J, --json FILE          write the results as JSON to FILE, updated after every "
		"size\n"
		"  -a, --average avg|min|max|rank0  combine per-rank times: mean, fastest or\n"
		"                           slowest rank, or rank 0's (nccl-tests' -a 1, 2, 3, 0;\n"
		"                           default avg)\n"
		"      --min-busbw GBPS     exit 1 when the mean busbw over sizes >= 1 MiB is "
		"below\n"
		"                           GBPS (GB/s)\n"
		"      --timeout SEC        abort when a rank or an operation is late by more than "
		"SEC\n"
		"                           seconds, naming the ranks (default 0 = wait forever)\n"
		"      --segment SIZE       pipelining segment of the algorithms (default 1M)\n"
		"  -R, --register 0|1       1: send and receive buffers in node-shared memory\n"
		"                           (ar_mem_alloc), which hier reads in place on each "
		"node\n"
		"                           (nccl-tests' -R: registered buffers; default 0)\n"
		"      --anonymize          hostnames become node0, node1, ... in the table and "
		"JSON\n"
		"  -q, --quiet              no progress lines and no run description\n"
		"  -h, --help               this text\n"
		"  -V, --version            print the version\n"
		"\n"
		"Exit status: 0 ok, 1 wrong results or --min-busbw not met, 2 bad input, 3 a\n"
		"collective failed or timed out.\n"
		"Test hooks (tests only): ARBENCH_TEST_STALL_RANK=R makes rank R sleep for\n"
		"ARBENCH_TEST_STALL_SEC seconds (default 30) before the second size, or inside "
		"its\n"
		"first collective with ARBENCH_TEST_STALL_AT=collective; "
		"ARBENCH_TEST_CORRUPT_RANK=R\n"
		"flips one bit of rank R's checked results.\n",
		known);
}
