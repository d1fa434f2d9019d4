/*
 * fuzz_topo.c - libFuzzer target: the topology loader (libcyaml, the integer check, every
 * semantic check) and, for what loads with at most 4096 nodes and a radix of at most 65536,
 * the graph expansion; then, for graphs of at most 4096 vertices, `arplan topo` itself: text
 * or --json by the input's length (summary, bisection, diameter, bill of materials) and --dot
 * (escaping).  Skipped as too slow or too large under the sanitizers (libFuzzer took them for
 * hangs on a loaded machine, or ran out of its 2 GiB): expanding larger descriptions such as
 * the 128k-GPU seed (1.7 s each; their scale is tested by topo_configs and topo-scale.sh) or
 * a larger radix (a leaf's up links: tens of millions pass the tool's limit of 1e8 links), and
 * summarising graphs of 129..256 endpoints, whose exact all-pairs diameter is up to 32,640
 * routes (8.6 s for the 256-GPU SuperPOD seed).  The input is a topology YAML file beside the
 * shipped catalog (../catalog), so catalog parts resolve.
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
	/* a radix bounds a leaf's up links: 1e8 links pass the tool's limit but not libFuzzer's
	 * 2 GiB */
	if (d->nodes <= 4096 && d->radix <= 65536 && topo_expand(d, &g, &e) == 0) {
		uint32_t v, ep = 0, gpus = 0;

		for (v = 0; v < g->n_vertices; v++) {
			gpus += g->vertices[v].kind == TOPO_V_GPU;
			ep += g->vertices[v].kind == TOPO_V_NIC;
		}
		ep = gpus ? gpus : ep;
		if (g->n_vertices <= 4096 && (ep <= 128 || ep > 256)) {
			/* one summary per input (all-pairs routes of up to 256 endpoints take
			 * seconds under the sanitizers): text or --json by the input's length,
			 * and --dot */
			char *text[] = {"topo", path, NULL};
			char *json[] = {"topo", "--json", path, NULL};
			char *dot[] = {"topo", "--dot", path, NULL};
			FILE *out = fopen("/dev/null", "w");

			if (!out)
				abort();
			if (size % 2)
				plan_cmd_topo(2, text, out, out);
			else
				plan_cmd_topo(3, json, out, out);
			plan_cmd_topo(3, dot, out, out);
			fclose(out);
		}
		topo_graph_free(g);
	}
	topo_desc_free(d);
	return 0;
}
