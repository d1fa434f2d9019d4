/*
 * fuzz_from_results.c - libFuzzer target: the results JSON reader behind
 * `arplan topo --from-results` (jansson, then every field it uses), and the property that what
 * it writes is YAML that loads back: a results file it accepts must give a topology that
 * topo_load() and topo_expand() accept, or the target aborts and libFuzzer keeps the input.
 */
// fuzz-seeds: tests/data/topo/*.json tests/fuzz/seeds/from_results/*.json
#include <errno.h>

#include "planner/planner.h"
#include "tests/fuzz/fuzz.h"
#include "topo/topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[256], yaml_path[256], msg[512], emsg[1024];
	struct topo_desc *d;
	struct topo_graph *g;
	struct topo_error e;
	char *yaml = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	fuzz_write(path, sizeof(path), "results.json", data, size);
	out = open_memstream(&yaml, &len);
	if (!out)
		abort();
	/* every other input without --nic-rate, so both paths are fuzzed */
	rc = plan_topo_from_results(path, size % 2 ? "10Gbit" : NULL, out, msg, sizeof(msg));
	fclose(out);
	if (rc == 0) {
		fuzz_write(yaml_path, sizeof(yaml_path), "back/measured.yaml",
			   (const uint8_t *)yaml, len);
		if (topo_load(yaml_path, &d, &e)) {
			topo_error_format(&e, emsg, sizeof(emsg));
			fprintf(stderr, "from-results wrote YAML that does not load back: %s\n%s\n",
				emsg, yaml);
			abort();
		}
		if (topo_expand(d, &g, &e)) {
			topo_error_format(&e, emsg, sizeof(emsg));
			fprintf(stderr, "from-results wrote a topology that does not expand: %s\n",
				emsg);
			abort();
		}
		topo_graph_free(g);
		topo_desc_free(d);
	} else if (rc != -EINVAL && rc != -ENOMEM) {
		fprintf(stderr, "from-results returned %d\n", rc);
		abort();
	}
	free(yaml);
	return 0;
}
