/*
 * fuzz_report.c - libFuzzer target: `arplan report`'s reader (planner/report_load.c: results
 * through results.c, the hwloc inventory, `arbench links`' list) and everything after it but
 * gnuplot: --anonymize (on every other input), the points, the summary and the HTML, Markdown
 * and CSV writers with their escaping.  A file either loads or is refused with -EINVAL and one
 * line; anything else aborts, as does a writer that fails on a loaded file.
 */
// fuzz-seeds: tests/data/report/*.json tests/data/planner/*.json
#include <errno.h>

#include "planner/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_report r = {0};
	char path[256], msg[600], *paths[1] = {path}, *buf = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	fuzz_write(path, sizeof(path), "report.json", data, size);
	rc = plan_rpt_load(&r, paths, 1, msg, sizeof(msg));
	if (rc == 0) {
		if (size % 2 && plan_rpt_anonymize(&r))
			abort();
		if (plan_rpt_aggregate(&r))
			abort();
		plan_rpt_summarise(&r);
		out = open_memstream(&buf, &len);
		if (!out || plan_rpt_html(&r, NULL, 0, out) || plan_rpt_markdown(&r, out) ||
		    plan_rpt_csv(&r, out) || fclose(out))
			abort();
		free(buf);
	} else if (rc != -EINVAL && rc != -ENOMEM) {
		abort();
	}
	plan_rpt_free(&r);
	return 0;
}
