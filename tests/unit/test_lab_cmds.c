/*
 * test_lab_cmds.c - unit tests of the arlab commands (bench/lab/cmd_*.c) called as the program
 * calls them, on paths that need no root and change nothing: option parsing and its limits,
 * every subcommand's --help and usage line, `up` refusing a topology the lab cannot build
 * before anything else, the plan of `up --dry-run`, and the commands that need root refusing
 * an unprivileged user.  Every command runs in a child as uid 65534, also when the test runs
 * as root (make check in CI): a check that stopped refusing ends at "needs root", never at a
 * real lab (the machine's lab may be somebody else's measurement).
 */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/lab/lab.h"

#define N_ARGS(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1) /* argv arrays end with NULL */

/* What a command printed: its exit status, stdout and stderr. */
struct result {
	int rc;
	char out[65536], err[4096];
};

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* fn(argc, argv) in a child process as uid/gid 65534 (when we are root: never as root, so
 * nothing it could do reaches the system's lab); its exit status, stdout and stderr into r. */
static void call(lab_cmd_fn *fn, char **argv, int argc, struct result *r)
{
	FILE *out = tmpfile(), *err = tmpfile();
	pid_t pid;
	int status;

	assert_non_null(out);
	assert_non_null(err);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(99);
		status = fn(argc, argv, out, err);
		fflush(NULL); /* _exit does not */
		_exit(status);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	r->rc = WEXITSTATUS(status);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

/* Split line at spaces into av (at most max - 1 words, NULL-terminated), in buf; argc. */
static int split(const char *line, char *buf, size_t len, char **av, int max)
{
	int n = 0;

	snprintf(buf, len, "%s", line);
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < max - 1;
	     w = strtok_r(NULL, " ", &save))
		av[n++] = w;
	av[n] = NULL;
	return n;
}

/* ---- option parsing ------------------------------------------------------------------------ */

static void test_up_parse(void **state)
{
	char *plain[] = {"up", "t.yaml", NULL};
	char *all[] = {"up", "--max-hosts", "6", "-n", "--verbose", "t.yaml", NULL};
	char *help[] = {"up", "--help", NULL};
	struct lab_up_opts o;
	FILE *out = tmpfile(), *err = tmpfile();
	char buf[512];

	assert_int_equal(lab_up_parse(N_ARGS(plain), plain, &o, out, err), 0);
	assert_int_equal(o.max_hosts, LAB_DEFAULT_MAX_HOSTS);
	assert_false(o.dry_run || o.verbose || o.help);
	assert_string_equal(o.topo, "t.yaml");
	assert_int_equal(lab_up_parse(N_ARGS(all), all, &o, out, err), 0);
	assert_int_equal(o.max_hosts, 6);
	assert_true(o.dry_run && o.verbose && !o.help);
	assert_string_equal(o.topo, "t.yaml");
	slurp(out, buf, sizeof(buf));
	assert_string_equal(buf, ""); /* no help unless asked */
	out = tmpfile();
	assert_int_equal(lab_up_parse(N_ARGS(help), help, &o, out, err), 0);
	assert_true(o.help);
	slurp(out, buf, sizeof(buf));
	assert_memory_equal(buf, "usage: arlab up ", 16);
	slurp(err, buf, sizeof(buf));
	assert_string_equal(buf, ""); /* nothing wrong so far */

	/* --max-hosts: 1 to LAB_HARD_MAX_HOSTS, a whole number */
	static const char *const bad_max[] = {"0", "255", "-1", "12x", "", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_max) / sizeof(bad_max[0]); i++) {
		char *av[] = {"up", "--max-hosts", (char *)bad_max[i], "t.yaml", NULL};
		char want[128];

		err = tmpfile();
		assert_int_equal(lab_up_parse(N_ARGS(av), av, &o, stdout, err), ARB_EXIT_INPUT);
		slurp(err, buf, sizeof(buf));
		snprintf(want, sizeof(want),
			 "arlab: --max-hosts %s: expected a number from 1 to %u\n", bad_max[i],
			 LAB_HARD_MAX_HOSTS);
		assert_string_equal(buf, want);
	}
	char *max_ok[] = {"up", "-m", "254", "t.yaml", NULL};
	assert_int_equal(lab_up_parse(N_ARGS(max_ok), max_ok, &o, stdout, stderr), 0);
	assert_int_equal(o.max_hosts, 254);

	/* exactly one topology file */
	char *none[] = {"up", "-v", NULL}, *two[] = {"up", "a.yaml", "b.yaml", NULL};
	char **usage_cases[] = {none, two};
	int usage_argc[] = {N_ARGS(none), N_ARGS(two)};
	for (size_t i = 0; i < 2; i++) {
		err = tmpfile();
		assert_int_equal(lab_up_parse(usage_argc[i], usage_cases[i], &o, stdout, err),
				 ARB_EXIT_INPUT);
		slurp(err, buf, sizeof(buf));
		assert_string_equal(buf,
				    "usage: arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml\n");
	}
	char *unknown[] = {"up", "--no-such-option", "t.yaml", NULL};
	assert_int_equal(lab_up_parse(N_ARGS(unknown), unknown, &o, stdout, stderr),
			 ARB_EXIT_INPUT);
}

static void test_run_parse(void **state)
{
	char *plain[] = {"run", "--", "-b", "1M", NULL};
	char *all[] = {"run",	    "--np", "4",  "-r",	   "2",	 "--bench", "/x/arbench", "-m",
		       "/y/mpirun", "-v",   "--", "links", "-n", "3",	    NULL};
	struct lab_run_opts o;
	FILE *err;
	char buf[512];

	setenv("MPIRUN", "/opt/mpi/bin/mpirun", 1);
	assert_int_equal(lab_run_parse(N_ARGS(plain), plain, &o, stdout, stderr), 0);
	assert_int_equal(o.ranks_per_node, 1);
	assert_int_equal(o.np, 0);
	assert_null(o.bench);
	assert_string_equal(o.mpirun, "/opt/mpi/bin/mpirun"); /* $MPIRUN */
	assert_int_equal(o.first_arg, 2);
	assert_string_equal(plain[o.first_arg], "-b"); /* after --: arbench's, not ours */
	unsetenv("MPIRUN");
	assert_int_equal(lab_run_parse(N_ARGS(plain), plain, &o, stdout, stderr), 0);
	assert_string_equal(o.mpirun, "mpirun");

	assert_int_equal(lab_run_parse(N_ARGS(all), all, &o, stdout, stderr), 0);
	assert_int_equal(o.np, 4);
	assert_int_equal(o.ranks_per_node, 2);
	assert_string_equal(o.bench, "/x/arbench");
	assert_string_equal(o.mpirun, "/y/mpirun");
	assert_true(o.verbose && !o.help);
	assert_int_equal(o.first_arg, 11);
	assert_string_equal(all[o.first_arg], "links");

	static const struct {
		const char *opt, *value, *want;
	} bad[] = {
		{"--ranks-per-node", "0",
		 "arlab: --ranks-per-node 0: expected a number from 1 to 256\n"},
		{"--ranks-per-node", "257",
		 "arlab: --ranks-per-node 257: expected a number from 1 to 256\n"},
		{"--np", "0", "arlab: --np 0: expected a number from 1 to 65536\n"},
		{"--np", "65537", "arlab: --np 65537: expected a number from 1 to 65536\n"},
		{"-n", "four", "arlab: --np four: expected a number from 1 to 65536\n"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *av[] = {"run", (char *)bad[i].opt, (char *)bad[i].value, "--", "-b", "1",
			      NULL};

		err = tmpfile();
		assert_int_equal(lab_run_parse(N_ARGS(av), av, &o, stdout, err), ARB_EXIT_INPUT);
		slurp(err, buf, sizeof(buf));
		assert_string_equal(buf, bad[i].want);
	}
}

static int flags_help_calls;

static void count_help(FILE *f)
{
	flags_help_calls++;
	fputs("help\n", f);
}

static void test_parse_flags(void **state)
{
	bool fabric = true, verbose = true;
	const struct lab_flag flags[] = {
		{"fabric", 0, &fabric}, {"verbose", 'v', &verbose}, {NULL, 0, NULL}};
	static const struct {
		const char *line;
		int rc;
		bool fabric, verbose;
	} cases[] = {
		{"c", -1, false, false},
		{"c --fabric", -1, true, false},
		{"c -v --fabric", -1, true, true},
		{"c --verbose", -1, false, true},
		{"c --fab", -1, true, false}, /* getopt_long: an unambiguous prefix */
		{"c -z", ARB_EXIT_INPUT, false, false},
		{"c --zebra", ARB_EXIT_INPUT, false, false},
		{"c -f", ARB_EXIT_INPUT, false, false}, /* --fabric has no short form */
		{"c now", ARB_EXIT_INPUT, false, false},
		{"c -v now", ARB_EXIT_INPUT, false, false},
		{"c --help", ARB_EXIT_OK, false, false},
		{"c -h", ARB_EXIT_OK, false, false},
	};
	static struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64], *av[4];
		int argc = split(cases[i].line, buf, sizeof(buf), av, 4), helps = flags_help_calls;
		FILE *out = tmpfile(), *err = tmpfile();

		r.rc = lab_parse_flags(argc, av, flags, "usage: c\n", count_help, out, err);
		slurp(out, r.out, sizeof(r.out));
		slurp(err, r.err, sizeof(r.err));
		if (r.rc != cases[i].rc)
			fail_msg("'%s': %d, expected %d", cases[i].line, r.rc, cases[i].rc);
		assert_string_equal(r.err, r.rc == ARB_EXIT_INPUT ? "usage: c\n" : "");
		assert_string_equal(r.out, r.rc == ARB_EXIT_OK ? "help\n" : "");
		assert_int_equal(flags_help_calls - helps, r.rc == ARB_EXIT_OK);
		if (r.rc < 0) {
			assert_int_equal(fabric, cases[i].fabric);
			assert_int_equal(verbose, cases[i].verbose);
		}
	}
}

/* ---- help and usage ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	lab_cmd_fn *fn;
} commands[] = {
	{"up", lab_cmd_up},	    {"down", lab_cmd_down},
	{"status", lab_cmd_status}, {"counters", lab_cmd_counters},
	{"run", lab_cmd_run},	    {"exec", lab_cmd_exec},
};

static void test_help(void **state)
{
	static struct result r;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char *av[] = {(char *)commands[i].name, "--help", NULL};
		char *av_short[] = {(char *)commands[i].name, "-h", NULL};
		char want[64];
		static char first[sizeof(r.out)];

		call(commands[i].fn, av, 2, &r);
		assert_int_equal(r.rc, ARB_EXIT_OK);
		assert_string_equal(r.err, "");
		snprintf(want, sizeof(want), "usage: arlab %s", commands[i].name);
		assert_memory_equal(r.out, want, strlen(want));
		/* the layout of arbench's and arplan's: usage, text, options, exit status */
		assert_non_null(strstr(r.out, "\n\n  "));
		assert_non_null(strstr(r.out, "  -h, --help          this text\n"));
		assert_non_null(strstr(r.out, "\n\nExit status: "));
		snprintf(first, sizeof(first), "%s", r.out);
		call(commands[i].fn, av_short, 2, &r);
		assert_int_equal(r.rc, ARB_EXIT_OK);
		assert_string_equal(r.out, first);
	}
}

static lab_cmd_fn *find_command(const char *name)
{
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(commands[c].name, name))
			return commands[c].fn;
	fail_msg("no command %s", name);
	return NULL;
}

static void test_usage_errors(void **state)
{
	/* each: a command line, and the usage line it gets (exit 2, nothing on stdout) */
	static const char *const cases[][2] = {
		{"down -x", "usage: arlab down [-v]\n"},
		{"down -v -v", "usage: arlab down [-v]\n"},
		{"down now", "usage: arlab down [-v]\n"},
		{"status --all", "usage: arlab status\n"},
		{"status lab", "usage: arlab status\n"},
		{"counters --bytes", "usage: arlab counters [--fabric] [--reset]\n"},
		{"counters --fabric x", "usage: arlab counters [--fabric] [--reset]\n"},
		{"exec node1", "usage: arlab exec HOST -- COMMAND...\n"},
		{"exec node1 --", "usage: arlab exec HOST -- COMMAND...\n"},
		{"exec node1 hostname x", "usage: arlab exec HOST -- COMMAND...\n"},
		{"exec -x -- hostname", "usage: arlab exec HOST -- COMMAND...\n"},
		{"up", "usage: arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml\n"},
	};
	static struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[128], *av[8];
		int argc = split(cases[i][0], buf, sizeof(buf), av, 8);

		call(find_command(av[0]), av, argc, &r);
		if (r.rc != ARB_EXIT_INPUT || strcmp(r.err, cases[i][1]) || r.out[0])
			fail_msg("'%s': exit %d, out '%s', err '%s'", cases[i][0], r.rc, r.out,
				 r.err);
	}
}

/* ---- up: refusals before anything is built, and the plan ----------------------------------- */

#define LAB_2NODE                                                                                  \
	"name: t2\n"                                                                               \
	"fabric: {family: explicit}\n"                                                             \
	"link_classes: {host: {rate: RATE, latency: 5us}}\n"                                       \
	"nodes: [{name: node0}, {name: NODE1}]\n"                                                  \
	"switches: [{name: sw0}]\n"                                                                \
	"links: [{a: node0, b: sw0}, {a: NODE1, b: sw0}]\n"

/* Write LAB_2NODE with RATE and NODE1 replaced into dir/name; the path into path. */
static void write_topo(const char *dir, const char *name, const char *rate, const char *node1,
		       char *path, size_t len)
{
	const char *t = LAB_2NODE;
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (const char *p = t; *p; p++) {
		if (!strncmp(p, "RATE", 4)) {
			fputs(rate, f);
			p += 3;
		} else if (!strncmp(p, "NODE1", 5)) {
			fputs(node1, f);
			p += 4;
		} else {
			fputc(*p, f);
		}
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0644), 0);
}

static char tmp_dir[] = "/tmp/test_lab_cmds.XXXXXX";

static int setup_dir(void **state)
{
	if (!mkdtemp(tmp_dir) || chmod(tmp_dir, 0755)) /* readable by the unprivileged test too */
		return -1;
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_up_refuses_before_building(void **state)
{
	static const struct {
		const char *file, *rate, *node1, *max_hosts, *want;
	} cases[] = {
		{"rate0.yaml", "0Mbit", "node1", NULL, "rate"},
		{"underscore.yaml", "400Mbit", "node_1", NULL,
		 "\"node_1\" is not a valid hostname"},
		{"dot.yaml", "400Mbit", "no.de1", NULL, "not a valid hostname"},
		{"capped.yaml", "400Mbit", "node1", "1", "more than the cap of 1"},
		{"missing.yaml", NULL, NULL, NULL, "No such file"},
	};
	static struct result r;

	/* had up got past its checks, it would stop at "needs root" (call runs it unprivileged) */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512];
		char *av[] = {"up", "--max-hosts", (char *)cases[i].max_hosts, path, NULL};
		char *av_plain[] = {"up", path, NULL};

		if (cases[i].rate)
			write_topo(tmp_dir, cases[i].file, cases[i].rate, cases[i].node1, path,
				   sizeof(path));
		else
			snprintf(path, sizeof(path), "%s/%s", tmp_dir, cases[i].file);
		if (cases[i].max_hosts)
			call(lab_cmd_up, av, 4, &r);
		else
			call(lab_cmd_up, av_plain, 2, &r);
		if (r.rc != ARB_EXIT_INPUT || !strstr(r.err, cases[i].want) || r.out[0] ||
		    strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
			fail_msg("%s: exit %d, out '%s', err '%s' (expected exit 2, one line with "
				 "'%s')",
				 cases[i].file, r.rc, r.out, r.err, cases[i].want);
	}
}

static void test_up_dry_run(void **state)
{
	char path[512];
	char *av[] = {"up", "--dry-run", path, NULL};
	static struct result r;

	write_topo(tmp_dir, "ok.yaml", "400Mbit", "node1", path, sizeof(path));
	call(lab_cmd_up, av, N_ARGS(av), &r);
	assert_int_equal(r.rc, ARB_EXIT_OK);
	assert_string_equal(r.err, "");
	/* the plan, one command a line, and nothing else */
	assert_memory_equal(r.out, "ip netns add " LAB_FABRIC_NS "\n",
			    strlen("ip netns add " LAB_FABRIC_NS "\n"));
	assert_non_null(strstr(r.out, "\nip netns add arl-node0\n"));
	assert_non_null(strstr(r.out, "\nip netns add arl-node1\n"));
	assert_non_null(strstr(r.out, " tbf rate 400000000bit "));
	assert_null(strstr(r.out, "arlab:"));
}

/* ---- commands that need root, run by an unprivileged user ----------------------------------- */

static void test_needs_root(void **state)
{
	/* each needs root, and says so to anybody else before it looks at the lab */
	static const char *const lines[] = {"up TOPO", "down", "counters", "exec node0 -- hostname",
					    "run --bench /bin/true -- -b 1"};
	char path[512], buf[1024], *av[8];
	static struct result r;
	int argc;

	write_topo(tmp_dir, "ok.yaml", "400Mbit", "node1", path, sizeof(path));
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char want[128];

		argc = split(lines[i], buf, sizeof(buf), av, 8);
		if (!strcmp(av[argc - 1], "TOPO"))
			av[argc - 1] = path;
		call(find_command(av[0]), av, argc, &r);
		snprintf(want, sizeof(want),
			 "arlab: %s needs root (it creates network namespaces); run it as root\n",
			 av[0]);
		if (r.rc != ARB_EXIT_INPUT || strcmp(r.err, want))
			fail_msg("'%s' as an unprivileged user: exit %d, err '%s'", lines[i], r.rc,
				 r.err);
	}
	/* a benchmark that is not there is bad input, said before root is asked for */
	argc = split("run --bench /nonexistent/arbench -- -b 1", buf, sizeof(buf), av, 8);
	call(lab_cmd_run, av, argc, &r);
	assert_int_equal(r.rc, ARB_EXIT_INPUT);
	assert_non_null(strstr(r.err, "arlab: benchmark /nonexistent/arbench: No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_parse),
		cmocka_unit_test(test_run_parse),
		cmocka_unit_test(test_parse_flags),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_up_refuses_before_building),
		cmocka_unit_test(test_up_dry_run),
		cmocka_unit_test(test_needs_root),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
