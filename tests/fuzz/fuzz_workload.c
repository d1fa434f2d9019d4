/*
 * fuzz_workload.c - libFuzzer target: the training workload loader (planner/workload.c,
 * libcyaml): a file loads, or is refused with -EINVAL and a position; anything else aborts.
 */
// fuzz-seeds: configs/workloads/*.yaml tests/data/planner/workload-bad/*.yaml
#include <errno.h>

#include "planner/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_workload w;
	struct topo_error e;
	char path[256];
	int rc;

	fuzz_write(path, sizeof(path), "workload.yaml", data, size);
	rc = plan_workload_load(path, &w, &e);
	if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
		abort();
	return 0;
}
