/*
 * test_planner_io.c - the planner's inputs: arbench results files (good, truncated, foreign,
 * newer schema, inconsistent), nccl-tests output (text table and -J JSON, with and without the
 * rank lines), calibration files (write then load gives the same figures and the same text;
 * every file under tests/data/planner/calib-bad/ fails at the line:column its first line names),
 * and `arplan validate --json` on a hand-written lab results file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planner/internal.h"

#define DATA "tests/data/planner/"

static void assert_one_line(const char *msg)
{
	assert_true(strlen(msg) > 0);
	assert_null(strchr(msg, '\n'));
}

static void assert_close(double a, double b)
{
	if (fabs(a - b) > 1e-9 * fmax(fabs(a), fabs(b)))
		fail_msg("%.17g != %.17g", a, b);
}

/* A temporary file holding text; returns its path in buf. */
static void temp_file(char *buf, size_t len, const char *text)
{
	int fd;

	snprintf(buf, len, "/tmp/test_planner_io.XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* ---- arbench results ------------------------------------------------------------------------- */

static void test_results_good(void **state)
{
	struct plan_results *r;
	char msg[600];
	size_t i, mpi = 0;

	assert_int_equal(plan_results_load(DATA "results-lab2.json", &r, msg, sizeof(msg)), 0);
	assert_int_equal(r->ranks, 2);
	assert_int_equal(r->nodes, 2);
	assert_int_equal(r->node_of_rank[0], 0);
	assert_int_equal(r->node_of_rank[1], 1);
	assert_string_equal(r->hosts[1], "node1");
	assert_string_equal(r->arbench_version, "0.1.0");
	assert_int_equal(r->segment_bytes, 0);
	assert_int_equal(r->n_rows, 40);
	assert_int_equal(r->rows[0].size, 1024);
	assert_int_equal(r->rows[0].count, 256);
	assert_int_equal(r->rows[0].esize, 4);
	assert_string_equal(r->rows[0].algo, "ring");
	assert_false(r->rows[0].inplace);
	assert_true(r->rows[1].inplace);
	assert_true(r->rows[0].time_us > 20 && r->rows[0].p50_us > 0 && r->rows[0].busbw > 0);
	for (i = 0; i < r->n_rows; i++)
		mpi += strcmp(r->rows[i].algo, "mpi") == 0;
	assert_int_equal(mpi, 8);
	plan_results_free(r);
}

static void expect_bad(const char *path, const char *phrase)
{
	struct plan_results *r = (struct plan_results *)1;
	char msg[600] = "";

	assert_int_equal(plan_results_load(path, &r, msg, sizeof(msg)), -EINVAL);
	assert_null(r);
	assert_one_line(msg);
	assert_true(strncmp(msg, path, strlen(path)) == 0);
	if (!strstr(msg, phrase))
		fail_msg("'%s' lacks '%s'", msg, phrase);
}

static void test_results_bad(void **state)
{
	char tmp[64];

	expect_bad(DATA "results-truncated.json", "truncated");
	expect_bad(DATA "results-foreign.json", "not an arbench results file");
	expect_bad(DATA "results-newer.json",
		   "written by a newer arbench (schema 2); this arplan reads schema 1");
	expect_bad(DATA "results-inconsistent.json", "node_of_rank");
	expect_bad(DATA "nccl-allreduce.txt", "nccl-tests text output");
	expect_bad(DATA "nccl-allreduce.json", "nccl-tests JSON");
	expect_bad(DATA "no-such-file.json", "cannot open");
	expect_bad("tests/data/planner", "not a regular file");
	temp_file(tmp, sizeof(tmp), "\n  \n");
	expect_bad(tmp, "empty file");
	unlink(tmp);
	temp_file(tmp, sizeof(tmp), "size,time\n1024,3.5\n");
	expect_bad(tmp, "not JSON");
	unlink(tmp);
	temp_file(tmp, sizeof(tmp),
		  "{\"version\": 1, \"ranks\": 2, \"nodes\": 1, \"node_of_rank\": [0, 0], "
		  "\"hosts\": [\"a\"], \"results\": [{\"size\": 100, \"count\": 25, \"type\": "
		  "\"double\", \"algo\": \"ring\", \"inplace\": false, \"time_us\": {\"avg\": 1, "
		  "\"p50\": 1}}]}");
	expect_bad(tmp, "is not count 25 x 8 bytes of double");
	unlink(tmp);
}

/* ---- nccl-tests ------------------------------------------------------------------------------ */

static void test_nccl_text(void **state)
{
	struct plan_results *r;
	char msg[600];

	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-allreduce.txt", 4, 2, &r, msg, sizeof(msg)), 0);
	assert_int_equal(r->n_rows, 4);
	assert_string_equal(r->rows[0].algo, "nccl");
	assert_int_equal(r->rows[0].size, 1048576);
	assert_int_equal(r->rows[0].esize, 4);
	assert_false(r->rows[0].inplace);
	assert_close(r->rows[0].time_us, 60.12);
	assert_close(r->rows[3].busbw, 39.48);
	assert_string_equal(r->arbench_version, "");
	assert_string_equal(r->hosts[0], "hostA");
	assert_string_equal(r->hosts[1], "hostB");
	assert_int_equal(r->node_of_rank[1], 0);
	assert_int_equal(r->node_of_rank[2], 1);
	plan_results_free(r);

	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-allreduce.txt", 4, 3, &r, msg, sizeof(msg)),
		-EINVAL);
	assert_one_line(msg);
	assert_non_null(strstr(msg, "expected --nodes 2"));
	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-allreduce.txt", 8, 2, &r, msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "hosts of 4 ranks"));
	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-truncated.txt", 4, 2, &r, msg, sizeof(msg)),
		-EINVAL);
	assert_one_line(msg);
	assert_non_null(strstr(msg, "line 18: truncated"));
	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-allgather.txt", 4, 2, &r, msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "not an all-reduce test"));
	assert_int_equal(
		plan_results_load_nccl(DATA "results-lab2.json", 2, 2, &r, msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "not nccl-tests JSON"));
	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-allreduce.txt", 2, 3, &r, msg, sizeof(msg)),
		-EINVAL);
	assert_null(r);
}

static void test_nccl_no_rank_lines(void **state)
{
	static const char log[] =
		"#       size         count      type   redop     time   algbw   busbw  error     "
		"time   algbw   busbw  error\n"
		"#        (B)    (elements)                       (us)  (GB/s)  (GB/s)            "
		"(us)  (GB/s)  (GB/s)\n"
		"host1:123:123 [0] NCCL INFO comm 0x1 rank 0 nranks 4 - Init COMPLETE\n"
		"     1048576        524288      half     sum    70.00   14.98   22.47  0e+00    "
		"69.50   15.09   22.63  0e+00\n";
	struct plan_results *r;
	char tmp[64], msg[600];

	temp_file(tmp, sizeof(tmp), log);
	assert_int_equal(plan_results_load_nccl(tmp, 4, 2, &r, msg, sizeof(msg)), 0);
	assert_int_equal(r->n_rows, 1);
	assert_int_equal(r->rows[0].esize, 2);
	assert_close(r->rows[0].time_us, 70);
	assert_close(r->rows[0].busbw, 22.47);
	assert_int_equal(r->node_of_rank[1], 0);
	assert_int_equal(r->node_of_rank[2], 1);
	assert_string_equal(r->hosts[1], "node1");
	plan_results_free(r);
	assert_int_equal(plan_results_load_nccl(tmp, 3, 2, &r, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "do not split evenly"));
	unlink(tmp);
	temp_file(tmp, sizeof(tmp), "hello\nworld\n");
	assert_int_equal(plan_results_load_nccl(tmp, 4, 2, &r, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not nccl-tests output"));
	unlink(tmp);
}

static void test_nccl_json(void **state)
{
	struct plan_results *r;
	char msg[600];

	assert_int_equal(
		plan_results_load_nccl(DATA "nccl-allreduce.json", 4, 2, &r, msg, sizeof(msg)), 0);
	assert_int_equal(r->n_rows, 3);
	assert_close(r->rows[2].time_us, 171.3);
	assert_close(r->rows[2].busbw, 36.73);
	assert_int_equal(r->rows[2].count, 1048576);
	assert_string_equal(r->hosts[1], "hostB");
	assert_int_equal(r->node_of_rank[3], 1);
	plan_results_free(r);
}

/* ---- calibration ----------------------------------------------------------------------------- */

static void fill_calib(struct plan_calib *c)
{
	int k;

	plan_calib_defaults(c);
	for (k = 0; k < PLAN_C_COUNT; k++) {
		struct plan_link_fit *l = &c->link[k];

		l->set = true;
		l->alpha_s = 1.234567e-6 * (k + 1);
		l->efficiency = 0.9123 - 0.01 * k;
		l->min_bytes = 1024;
		l->max_bytes = 64.0 * 1024 * 1024;
		l->min_rate = 12.5e6 * (k + 1);
		l->max_rate = 50e6 * (k + 1);
		l->rms_rel_residual = 0.0375;
		l->points = 10u + (unsigned)k;
	}
	c->link[PLAN_C_SHM].rate = 7.25e9;
	c->gamma_s_per_byte = 0.21e-9;
	c->n_algo = 3;
	snprintf(c->algo[0].name, sizeof(c->algo[0].name), "ring");
	snprintf(c->algo[1].name, sizeof(c->algo[1].name), "rhd");
	snprintf(c->algo[2].name, sizeof(c->algo[2].name), "hier");
	for (k = 0; k < 3; k++) {
		c->algo[k].scale = 1.01 + 0.02 * k;
		c->algo[k].overhead_s = -2e-6 + 5e-6 * k;
		c->algo[k].rms_rel_residual = 0.01 * k;
		c->algo[k].points = 7;
	}
	c->n_sources = 2;
	snprintf(c->sources[0], sizeof(c->sources[0]), "runs/lab 2node: \"first\".json");
	snprintf(c->sources[1], sizeof(c->sources[1]), "/abs/path/b.json");
	snprintf(c->hosts, sizeof(c->hosts), "node0,node1");
	snprintf(c->date, sizeof(c->date), "2026-12-03T10:00:00Z");
	snprintf(c->arbench_version, sizeof(c->arbench_version), "0.1.0");
}

static char *write_to(const struct plan_calib *c, char *path, size_t len)
{
	FILE *f;
	char *text;
	long n;

	snprintf(path, len, "/tmp/test_planner_io.XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w+");
	assert_non_null(f);
	assert_int_equal(plan_calib_write(c, f), 0);
	n = ftell(f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	rewind(f);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return text;
}

static void test_calib_round_trip(void **state)
{
	struct plan_calib a, b;
	struct topo_error err;
	char p1[64], p2[64], *t1, *t2;
	unsigned i;
	int k;

	fill_calib(&a);
	t1 = write_to(&a, p1, sizeof(p1));
	if (plan_calib_load(p1, &b, &err)) {
		char line[1200];

		topo_error_format(&err, line, sizeof(line));
		fail_msg("%s\n%s", line, t1);
	}
	for (k = 0; k < PLAN_C_COUNT; k++) {
		assert_true(b.link[k].set);
		assert_close(b.link[k].alpha_s, a.link[k].alpha_s);
		assert_close(b.link[k].efficiency, a.link[k].efficiency);
		assert_close(b.link[k].min_bytes, a.link[k].min_bytes);
		assert_close(b.link[k].max_bytes, a.link[k].max_bytes);
		assert_close(b.link[k].min_rate, a.link[k].min_rate);
		assert_close(b.link[k].max_rate, a.link[k].max_rate);
		assert_close(b.link[k].rms_rel_residual, a.link[k].rms_rel_residual);
		assert_int_equal(b.link[k].points, a.link[k].points);
	}
	assert_close(b.link[PLAN_C_SHM].rate, 7.25e9);
	assert_close(b.gamma_s_per_byte, a.gamma_s_per_byte);
	assert_int_equal(b.n_algo, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(b.algo[i].name, a.algo[i].name);
		assert_close(b.algo[i].scale, a.algo[i].scale);
		assert_close(b.algo[i].overhead_s, a.algo[i].overhead_s);
		assert_close(b.algo[i].rms_rel_residual, a.algo[i].rms_rel_residual);
		assert_int_equal(b.algo[i].points, 7);
	}
	assert_int_equal(b.n_sources, 2);
	assert_string_equal(b.sources[0], a.sources[0]);
	assert_string_equal(b.sources[1], a.sources[1]);
	assert_string_equal(b.hosts, a.hosts);
	assert_string_equal(b.date, a.date);
	assert_string_equal(b.arbench_version, a.arbench_version);
	/* and what it loads writes the same text again */
	t2 = write_to(&b, p2, sizeof(p2));
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	unlink(p1);
	unlink(p2);

	/* defaults (nothing fitted) round trip too */
	plan_calib_defaults(&a);
	t1 = write_to(&a, p1, sizeof(p1));
	assert_int_equal(plan_calib_load(p1, &b, &err), 0);
	assert_false(b.link[PLAN_C_NET].set);
	assert_int_equal(b.n_algo, 0);
	assert_int_equal(b.n_sources, 0);
	assert_close(b.link[PLAN_C_SHM].rate, 10e9);
	assert_close(b.link[PLAN_C_NET].efficiency, 1);
	free(t1);
	unlink(p1);
}

static void test_calib_example(void **state)
{
	struct plan_calib c;
	struct topo_error err;
	const struct plan_algo_fit *a;

	assert_int_equal(plan_calib_load("configs/calibrations/example-lab.yaml", &c, &err), 0);
	assert_true(c.link[PLAN_C_NET].set);
	assert_false(c.link[PLAN_C_INTRA].set);
	assert_close(c.link[PLAN_C_NET].alpha_s, 45e-6);
	assert_close(c.link[PLAN_C_SHM].rate, 6.5e9);
	assert_close(c.gamma_s_per_byte, 0.25e-9);
	a = plan_calib_algo(&c, "rhd", PLAN_C_NET);
	assert_non_null(a);
	assert_null(plan_calib_algo(&c, "rhd", PLAN_C_SHM));
	assert_close(a->scale, 1.01);
	assert_close(a->overhead_s, 15e-6);
	assert_null(plan_calib_algo(&c, "mpi", PLAN_C_NET));
	assert_null(plan_calib_algo(NULL, "ring", PLAN_C_NET));
	assert_string_equal(plan_class_names[PLAN_C_NET], "net");
}

/* Every tests/data/planner/calib-bad/X.yaml starts "# expect: LINE:COLUMN phrase". */
static void test_calib_bad(void **state)
{
	DIR *dir = opendir(DATA "calib-bad");
	struct dirent *e;
	int checked = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[512], first[256], phrase[200], line[1200];
		unsigned li, co;
		struct plan_calib c;
		struct topo_error err;
		FILE *f;

		if (!strstr(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), DATA "calib-bad/%s", e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(first, sizeof(first), f));
		fclose(f);
		if (sscanf(first, "# expect: %u:%u %199[^\n]", &li, &co, phrase) != 3)
			fail_msg("%s: no '# expect: LINE:COLUMN phrase' first line", path);
		assert_int_equal(plan_calib_load(path, &c, &err), -EINVAL);
		topo_error_format(&err, line, sizeof(line));
		assert_one_line(line);
		if (err.line != li || err.column != co || !strstr(err.message, phrase) ||
		    !strstr(err.message, "(expected "))
			fail_msg("%s: expected %u:%u '%s', got %s", path, li, co, phrase, line);
		assert_string_equal(err.file, path);
		checked++;
	}
	closedir(dir);
	assert_true(checked >= 10);
}

/* ---- arplan validate ------------------------------------------------------------------------- */

static void test_validate_json(void **state)
{
	const char *argv[] = {"validate", DATA "results-lab2.json",
			      "--topo",	  "configs/topologies/lab-2node.yaml",
			      "--calib",  "configs/calibrations/example-lab.yaml",
			      "--json",	  "--min-size",
			      "1M"};
	FILE *out = tmpfile(), *err = tmpfile();
	json_t *doc, *rows, *sum, *row;
	json_error_t je;
	size_t i;
	int rc;

	assert_non_null(out);
	assert_non_null(err);
	rc = plan_cmd_validate(9, (char **)argv, out, err);
	assert_int_equal(rc, PLAN_EXIT_OK);
	rewind(out);
	doc = json_loadf(out, 0, &je);
	if (!doc)
		fail_msg("not JSON: %s", je.text);
	rows = json_object_get(doc, "rows");
	sum = json_object_get(doc, "summary");
	assert_int_equal(json_array_size(rows), 32); /* 40 rows, mpi's 8 skipped */
	json_array_foreach(rows, i, row)
	{
		double m = json_number_value(json_object_get(row, "measured_us"));
		double p = json_number_value(json_object_get(row, "predicted_us"));

		assert_true(p > 0);
		/* JSON_REAL_PRECISION(6): 6 significant digits in each of the three numbers */
		double e = (p - m) / m;

		assert_true(fabs(json_number_value(json_object_get(row, "error")) - e) <
			    1e-5 * fmax(1, fabs(e) + p / m));
		assert_true(json_is_boolean(json_object_get(row, "inplace")));
		assert_true(json_is_integer(json_object_get(row, "size")));
	}
	assert_int_equal(json_integer_value(json_object_get(sum, "rows")), 16);
	assert_true(json_is_number(json_object_get(sum, "median_abs_error")));
	assert_true(json_is_number(json_object_get(sum, "max_abs_error")));
	assert_non_null(json_object_get(json_object_get(sum, "per_algo"), "rhd"));
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(sum, "skipped"), "mpi")), 8);
	json_decref(doc);
	fclose(out);
	fclose(err);

	/* the same run checked against an impossible bound: exit 1 (argv is new: getopt_long
	 * permuted the first) */
	out = tmpfile();
	err = tmpfile();
	{
		const char *argv2[] = {"validate",	 DATA "results-lab2.json",
				       "--topo",	 "configs/topologies/lab-2node.yaml",
				       "--max-error",	 "0",
				       "--engine=closed"};

		rc = plan_cmd_validate(7, (char **)argv2, out, err);
	}
	fclose(out);
	fclose(err);
	assert_int_equal(rc, PLAN_EXIT_CHECK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_good),  cmocka_unit_test(test_results_bad),
		cmocka_unit_test(test_nccl_text),     cmocka_unit_test(test_nccl_no_rank_lines),
		cmocka_unit_test(test_nccl_json),     cmocka_unit_test(test_calib_round_trip),
		cmocka_unit_test(test_calib_example), cmocka_unit_test(test_calib_bad),
		cmocka_unit_test(test_validate_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
