/*
 * fuzz_topo.c - libFuzzer target: the topology loader (libcyaml, the integer check, every
 * semantic check) and, for what loads with at most 4096 nodes, the graph expansion (larger
 * ones, such as the 128k-GPU seed, take seconds each under the sanitizers: libFuzzer took them
 * for hangs on a loaded machine; their scale is tested by tests/sh/topo_configs.sh and
 * bench/scripts/topo-scale.sh); for graphs small enough to
 * summarise quickly (4096 vertices), `arplan topo` itself in text, --json and --dot (summary,
 * bisection, diameter, bill of materials, escaping).  The input is a topology YAML file beside
 * the shipped catalog (../catalog), so catalog parts resolve.
 */
// fuzz-seeds: configs/topologies/*.yaml tests/data/topo/*.yaml tests/data/topo-bad/*.yaml
#include "planner/planner.h"
#include "tests/fuzz/fuzz.h"
#include "topo/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_error e;
	char path[256], msg[1024];

	if (!ready) {
		fuzz_link("catalog", "configs/catalog");
		ready = 1;
	}
	fuzz_write(path, sizeof(path), "topologies/in.yaml", data, size);
	if (topo_load(path, &d, &e)) {
		topo_error_format(&e, msg, sizeof(msg)); /* the message itself must be sound */
		return 0;
	}
	if (d->nodes <= 4096 && topo_expand(d, &g, &e) == 0) {
		if (g->n_vertices <= 4096) {
			static const char *const modes[] = {NULL, "--json", "--dot"};
			FILE *out = fopen("/dev/null", "w");
			size_t i;

			if (!out)
				abort();
			for (i = 0; i < 3; i++) {
				char *argv[] = {"topo", (char *)modes[i], path, NULL};

				if (!modes[i]) {
					argv[1] = path;
					argv[2] = NULL;
				}
				plan_cmd_topo(modes[i] ? 3 : 2, argv, out, out);
			}
			fclose(out);
		}
		topo_graph_free(g);
	}
	topo_desc_free(d);
	return 0;
}
