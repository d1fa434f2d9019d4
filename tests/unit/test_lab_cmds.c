/*
 * test_lab_cmds.c - unit tests of the arlab commands (bench/lab/cmd_*.c) called as the program
 * calls them, on paths that need no root and change nothing: option parsing and its limits,
 * every subcommand's --help and usage line, `up` refusing a topology the lab cannot build
 * before it runs anything (checked with an empty PATH, so nothing could have been built), the
 * plan of `up --dry-run`, and the commands that need root refusing an unprivileged user.
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

static void call(lab_cmd_fn *fn, char **argv, int argc, struct result *r)
{
	FILE *out = tmpfile(), *err = tmpfile();

	assert_non_null(out);
	assert_non_null(err);
	r->rc = fn(argc, argv, out, err);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

/* ---- option parsing ------------------------------------------------------------------------ */

static void test_up_parse(void **state)
{
	char *plain[] = {"up", "t.yaml", NULL};
	char *all[] = {"up", "--max-hosts", "6", "-n", "--verbose", "t.yaml", NULL};
	char *help[] = {"up", "--help", NULL};
	struct lab_up_opts o;
	FILE *err = tmpfile();
	char buf[512];

	assert_int_equal(lab_up_parse(N_ARGS(plain), plain, &o, err), 0);
	assert_int_equal(o.max_hosts, LAB_DEFAULT_MAX_HOSTS);
	assert_false(o.dry_run || o.verbose || o.help);
	assert_string_equal(o.topo, "t.yaml");
	assert_int_equal(lab_up_parse(N_ARGS(all), all, &o, err), 0);
	assert_int_equal(o.max_hosts, 6);
	assert_true(o.dry_run && o.verbose && !o.help);
	assert_string_equal(o.topo, "t.yaml");
	assert_int_equal(lab_up_parse(N_ARGS(help), help, &o, err), 0);
	assert_true(o.help);
	slurp(err, buf, sizeof(buf));
	assert_string_equal(buf, ""); /* nothing wrong so far */

	/* --max-hosts: 1 to LAB_HARD_MAX_HOSTS, a whole number */
	static const char *const bad_max[] = {"0", "255", "-1", "12x", "", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_max) / sizeof(bad_max[0]); i++) {
		char *av[] = {"up", "--max-hosts", (char *)bad_max[i], "t.yaml", NULL};
		char want[128];

		err = tmpfile();
		assert_int_equal(lab_up_parse(N_ARGS(av), av, &o, err), ARB_EXIT_INPUT);
		slurp(err, buf, sizeof(buf));
		snprintf(want, sizeof(want),
			 "arlab: --max-hosts %s: expected a number from 1 to %u\n", bad_max[i],
			 LAB_HARD_MAX_HOSTS);
		assert_string_equal(buf, want);
	}
	char *max_ok[] = {"up", "-m", "254", "t.yaml", NULL};
	assert_int_equal(lab_up_parse(N_ARGS(max_ok), max_ok, &o, stderr), 0);
	assert_int_equal(o.max_hosts, 254);

	/* exactly one topology file */
	char *none[] = {"up", "-v", NULL}, *two[] = {"up", "a.yaml", "b.yaml", NULL};
	char **usage_cases[] = {none, two};
	int usage_argc[] = {N_ARGS(none), N_ARGS(two)};
	for (size_t i = 0; i < 2; i++) {
		err = tmpfile();
		assert_int_equal(lab_up_parse(usage_argc[i], usage_cases[i], &o, err),
				 ARB_EXIT_INPUT);
		slurp(err, buf, sizeof(buf));
		assert_string_equal(buf,
				    "usage: arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml\n");
	}
	char *unknown[] = {"up", "--no-such-option", "t.yaml", NULL};
	assert_int_equal(lab_up_parse(N_ARGS(unknown), unknown, &o, stderr), ARB_EXIT_INPUT);
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
	assert_int_equal(lab_run_parse(N_ARGS(plain), plain, &o, stderr), 0);
	assert_int_equal(o.ranks_per_node, 1);
	assert_int_equal(o.np, 0);
	assert_null(o.bench);
	assert_string_equal(o.mpirun, "/opt/mpi/bin/mpirun"); /* $MPIRUN */
	assert_int_equal(o.first_arg, 2);
	assert_string_equal(plain[o.first_arg], "-b"); /* after --: arbench's, not ours */
	unsetenv("MPIRUN");
	assert_int_equal(lab_run_parse(N_ARGS(plain), plain, &o, stderr), 0);
	assert_string_equal(o.mpirun, "mpirun");

	assert_int_equal(lab_run_parse(N_ARGS(all), all, &o, stderr), 0);
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
		assert_int_equal(lab_run_parse(N_ARGS(av), av, &o, err), ARB_EXIT_INPUT);
		slurp(err, buf, sizeof(buf));
		assert_string_equal(buf, bad[i].want);
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

static void test_usage_errors(void **state)
{
	static const struct {
		const char *argv[6];
		const char *usage;
	} cases[] = {
		{{"down", "-x"}, "usage: arlab down [-v]\n"},
		{{"down", "-v", "-v"}, "usage: arlab down [-v]\n"},
		{{"down", "now"}, "usage: arlab down [-v]\n"},
		{{"status", "--all"}, "usage: arlab status\n"},
		{{"status", "lab"}, "usage: arlab status\n"},
		{{"status", "--help", "x"}, "usage: arlab status\n"},
		{{"counters", "--bytes"}, "usage: arlab counters [--fabric] [--reset]\n"},
		{{"counters", "--fabric", "x"}, "usage: arlab counters [--fabric] [--reset]\n"},
		{{"exec", "node1"}, "usage: arlab exec HOST -- COMMAND...\n"},
		{{"exec", "node1", "--"}, "usage: arlab exec HOST -- COMMAND...\n"},
		{{"exec", "node1", "hostname", "x"}, "usage: arlab exec HOST -- COMMAND...\n"},
		{{"exec", "-x", "--", "hostname"}, "usage: arlab exec HOST -- COMMAND...\n"},
		{{"up"}, "usage: arlab up [--max-hosts N] [--dry-run] [-v] TOPO.yaml\n"},
	};
	static struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *av[6] = {NULL};
		int argc = 0;
		lab_cmd_fn *fn = NULL;

		while (cases[i].argv[argc]) {
			av[argc] = (char *)cases[i].argv[argc];
			argc++;
		}
		for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
			if (!strcmp(commands[c].name, av[0]))
				fn = commands[c].fn;
		assert_non_null(fn);
		call(fn, av, argc, &r);
		if (r.rc != ARB_EXIT_INPUT || strcmp(r.err, cases[i].usage) || r.out[0])
			fail_msg("case %zu (%s %s): exit %d, out '%s', err '%s'", i, av[0],
				 av[1] ? av[1] : "", r.rc, r.out, r.err);
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
	const char *old_path = getenv("PATH");
	char *saved = old_path ? strdup(old_path) : NULL;
	static struct result r;

	/* nothing can be run: had up got past its checks, it would fail (exit 3), not refuse */
	setenv("PATH", tmp_dir, 1);
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
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
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

/* fn(argv) as uid/gid 65534 when we are root (in a child), else here; its exit status and
 * stderr into r. */
static void call_unprivileged(lab_cmd_fn *fn, char **argv, int argc, struct result *r)
{
	FILE *err = tmpfile();
	pid_t pid;
	int status;

	assert_non_null(err);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *out = fopen("/dev/null", "w");

		if (geteuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(99);
		status = fn(argc, argv, out, err);
		fflush(NULL); /* _exit does not */
		_exit(status);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	r->rc = WEXITSTATUS(status);
	slurp(err, r->err, sizeof(r->err));
}

static void test_needs_root(void **state)
{
	char path[512];
	char *up[] = {"up", path, NULL};
	char *down[] = {"down", NULL};
	char *counters[] = {"counters", NULL};
	char *exec[] = {"exec", "node0", "--", "hostname", NULL};
	char *run[] = {"run", "--bench", "/bin/true", "--", "-b", "1", NULL};
	char *run_nobench[] = {"run", "--bench", "/nonexistent/arbench", "--", "-b", "1", NULL};
	const struct {
		const char *what;
		char **argv;
	} cases[] = {
		{"up", up}, {"down", down}, {"counters", counters}, {"exec", exec}, {"run", run}};
	static struct result r;

	write_topo(tmp_dir, "ok.yaml", "400Mbit", "node1", path, sizeof(path));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128];
		int argc = 0;
		lab_cmd_fn *fn = NULL;

		while (cases[i].argv[argc])
			argc++;
		for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
			if (!strcmp(commands[c].name, cases[i].what))
				fn = commands[c].fn;
		call_unprivileged(fn, cases[i].argv, argc, &r);
		snprintf(want, sizeof(want),
			 "arlab: %s needs root (it creates network namespaces); run it as root\n",
			 cases[i].what);
		if (r.rc != ARB_EXIT_INPUT || strcmp(r.err, want))
			fail_msg("%s as an unprivileged user: exit %d, err '%s'", cases[i].what,
				 r.rc, r.err);
	}
	/* a benchmark that is not there is bad input, said before root is asked for */
	call_unprivileged(lab_cmd_run, run_nobench, N_ARGS(run_nobench), &r);
	assert_int_equal(r.rc, ARB_EXIT_INPUT);
	assert_non_null(strstr(r.err, "arlab: benchmark /nonexistent/arbench: No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_parse),
		cmocka_unit_test(test_run_parse),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_up_refuses_before_building),
		cmocka_unit_test(test_up_dry_run),
		cmocka_unit_test(test_needs_root),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
