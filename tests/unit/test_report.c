/*
 * test_report.c - `arplan report`'s pieces without gnuplot or a browser: the escaping of HTML,
 * Markdown and CSV (known answers, including invalid UTF-8, control characters, bidirectional
 * overrides and non-characters), sizes as people read them, the points of the fixture
 * (tests/data/report/results.json: 5 algorithms x 12 sizes x 2 placements), and --anonymize on
 * the hostile fixture: no string left in the model holds a host name or its short form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

#define DATA "tests/data/report/"

/* What an escaper writes for s. */
static char *escaped(void (*esc)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	esc(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void expect_escape(void (*esc)(FILE *, const char *), const char *in, const char *want)
{
	char *got = escaped(esc, in);

	assert_string_equal(got, want);
	free(got);
}

static void test_html(void **state)
{
	(void)state;
	expect_escape(plan_html_text, "<a href=\"x\">'&'</a>",
		      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	/* UTF-8 kept; BEL, C1 NEL, RLO, a non-character, a stray byte and a cut sequence not */
	expect_escape(plan_html_text,
		      "\xc3\x9cn\xc3\xaf"
		      "code \xe2\x9c\x93",
		      "\xc3\x9cn\xc3\xaf"
		      "code \xe2\x9c\x93");
	expect_escape(plan_html_text,
		      "a\x07"
		      "b\xc2\x85"
		      "c\xe2\x80\xae"
		      "d\xef\xbf\xbe"
		      "e",
		      "a\xef\xbf\xbd"
		      "b\xef\xbf\xbd"
		      "c\xef\xbf\xbd"
		      "d\xef\xbf\xbd"
		      "e");
	expect_escape(plan_html_text, "x\xffy\xe2\x82<", "x\xef\xbf\xbdy\xef\xbf\xbd&lt;");
	/* an overlong '<' and a surrogate are not characters */
	expect_escape(plan_html_text, "\xc0\xbc\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd");
	expect_escape(plan_html_text, "", "");
}

static void test_markdown(void **state)
{
	(void)state;
	expect_escape(plan_md_text, "a|b*c_d<x>&[l](u)",
		      "a\\|b\\*c\\_d&lt;x&gt;&amp;\\[l\\]\\(u\\)");
	expect_escape(plan_md_text, "two\nlines", "two lines");
}

static void test_csv(void **state)
{
	(void)state;
	expect_escape(plan_csv_text, "ring", "\"ring\"");
	expect_escape(plan_csv_text, "say \"hi\", then", "\"say \"\"hi\"\", then\"");
	expect_escape(plan_csv_text, "=HYPERLINK(1)", "\"'=HYPERLINK(1)\"");
	expect_escape(plan_csv_text, "@x", "\"'@x\"");
	expect_escape(plan_csv_text, "a\nb", "\"a b\"");
}

static void test_size(void **state)
{
	static const struct {
		size_t bytes;
		const char *text;
	} cases[] = {
		{0, "0 B"},	   {8, "8 B"},		 {1023, "1023 B"},	    {1024, "1 KiB"},
		{1536, "1.5 KiB"}, {64 << 20, "64 MiB"}, {(size_t)3 << 30, "3 GiB"}};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan_rpt_size(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_points(void **state)
{
	static const char *const algos[] = {"ring", "tree", "hier", "rhd", "mpi"};
	char *paths[] = {DATA "results.json", DATA "links.json"};
	struct plan_report r = {0};
	char msg[600];
	size_t i;

	(void)state;
	assert_int_equal(plan_rpt_load(&r, paths, 2, msg, sizeof(msg)), 0);
	assert_int_equal(plan_rpt_aggregate(&r), 0);
	plan_rpt_summarise(&r);
	assert_int_equal(r.n_algos, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(r.algos[i], algos[i]);
	assert_int_equal(r.n_points, 5 * 12);
	for (i = 0; i < r.n_points; i++) {
		assert_int_equal(r.points[i].rows, 2); /* in and out of place */
		assert_string_equal(r.points[i].algo, algos[i / 12]);
		assert_int_equal(r.points[i].size, (size_t)8 << (2 * (i % 12)));
		assert_true(r.points[i].spread >= 1 && r.points[i].p99_us >= r.points[i].p50_us);
	}
	assert_int_equal(r.ranks, 8);
	assert_int_equal(r.nodes, 4);
	/* links: the 12 pairs at 8 MiB, two flagged, sorted by source */
	assert_int_equal(r.n_links, 12);
	assert_int_equal(r.n_flagged, 2);
	assert_int_equal(r.link_size, 8 << 20);
	assert_int_equal(r.link_ranks, 4);
	for (i = 1; i < r.n_links; i++)
		assert_true(r.links[i - 1]->src <= r.links[i]->src);
	assert_true(r.peak_large && r.peak_busbw > 0.01 && r.verdict == -1);
	plan_rpt_free(&r);
}

/* Every string of the model, to be searched. */
static void each_string(const struct plan_report *r, void (*fn)(const char *, void *), void *arg)
{
	for (size_t i = 0; i < r->n_files; i++) {
		const struct plan_rpt_file *f = &r->files[i];

		fn(f->name, arg), fn(f->arbench_version, arg), fn(f->mpi_library, arg);
		fn(f->transport, arg), fn(f->command, arg), fn(f->settings, arg);
		for (int n = 0; n < f->res->nodes; n++)
			fn(f->res->hosts[n], arg);
		for (int n = 0; n < f->n_nodes; n++) {
			fn(f->nodes[n].name, arg), fn(f->nodes[n].cpu_model, arg);
			fn(f->nodes[n].nics, arg), fn(f->nodes[n].gpus, arg);
		}
		for (size_t k = 0; k < f->n_links; k++)
			fn(f->links[k].src_host, arg), fn(f->links[k].dst_host, arg);
		for (size_t k = 0; k < f->res->n_rows; k++)
			fn(f->res->rows[k].algo, arg), fn(f->res->rows[k].op, arg);
	}
}

struct search {
	const char *needle;
	size_t len;
	int found;
};

static void find(const char *s, void *arg)
{
	struct search *q = arg;

	if (memmem(s, strlen(s), q->needle, q->len)) {
		print_error("'%.*s' left in '%s'\n", (int)q->len, q->needle, s);
		q->found++;
	}
}

static void test_anonymize(void **state)
{
	char *paths[] = {DATA "hostile.json", DATA "results.json"};
	struct plan_report plain = {0}, anon = {0};
	char msg[600];

	(void)state;
	assert_int_equal(plan_rpt_load(&plain, paths, 2, msg, sizeof(msg)), 0);
	assert_int_equal(plan_rpt_load(&anon, paths, 2, msg, sizeof(msg)), 0);
	assert_int_equal(plan_rpt_anonymize(&anon), 0);
	for (size_t i = 0; i < plain.n_files; i++)
		for (int n = 0; n < plain.files[i].res->nodes; n++) {
			const char *host = plain.files[i].res->hosts[n];
			size_t full = strlen(host), shrt = strcspn(host, ".");
			struct search q = {host, full, 0};

			each_string(&anon, find, &q);
			if (shrt >= 3 && shrt < full) {
				q.len = shrt;
				each_string(&anon, find, &q);
			}
			assert_int_equal(q.found, 0);
		}
	for (size_t i = 0; i < anon.n_files; i++) {
		struct search q = {"/", 1, 0};

		assert_string_equal(anon.files[i].command, "");
		find(anon.files[i].name, &q);
		find(anon.files[i].mpi_library, &q);
		assert_int_equal(q.found, 0);
	}
	/* the second file's hosts follow the first's: one numbering for all files */
	assert_string_equal(anon.files[0].res->hosts[0], "node0");
	assert_string_equal(anon.files[1].res->hosts[3], "node9");
	assert_string_equal(anon.files[1].mpi_library, "Open MPI v4.1.4");
	plan_rpt_free(&plain);
	plan_rpt_free(&anon);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html),   cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_csv),    cmocka_unit_test(test_size),
		cmocka_unit_test(test_points), cmocka_unit_test(test_anonymize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
