/*
 * fuzz_results.c - libFuzzer target: the readers behind `arplan fit` and `validate`: arbench's
 * results JSON (planner/results.c) and nccl-tests output, its text table and its -J JSON; the
 * first input byte picks the ranks and nodes a log is read with (the log does not say).  A
 * file either loads or is refused with -EINVAL and one line; anything else aborts.
 */
// fuzz-seeds: tests/data/planner/*.json tests/data/planner/*.txt tests/data/topo/*.json
#include <errno.h>

#include "planner/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_results *r = NULL;
	char path[256], msg[600];
	int rc, nodes, ranks;

	fuzz_write(path, sizeof(path), "results.json", data, size);
	rc = plan_results_load(path, &r, msg, sizeof(msg));
	if (rc == 0)
		plan_results_free(r);
	else if (rc != -EINVAL && rc != -ENOMEM)
		abort();
	/* nccl-tests: at most 64 ranks (the reader allocates per rank) */
	nodes = size ? 1 + data[0] % 4 : 1;
	ranks = nodes * (size > 1 ? 1 + data[1] % 8 : 2);
	rc = plan_results_load_nccl(path, ranks, nodes, &r, msg, sizeof(msg));
	if (rc == 0)
		plan_results_free(r);
	else if (rc != -EINVAL && rc != -ENOMEM)
		abort();
	return 0;
}
