/*
 * fuzz_catalog.c - libFuzzer target: the part catalog loader (libcyaml, the integer check,
 * each part's fields, duplicate names).  The input is loaded as each of the four catalog files
 * in turn (switches, NICs, media, GPUs), alone in a catalog directory.
 */
// fuzz-seeds: configs/catalog/*.yaml tests/data/topo-bad/catalog-bad/*/*.yaml
#include "tests/fuzz/fuzz.h"
#include "topo/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = {"cat/switches.yaml", "cat/nics.yaml", "cat/media.yaml",
					    "cat/gpus.yaml"};
	char path[256], dir[256], msg[1024];
	size_t k;

	fuzz_path(dir, sizeof(dir), "cat/x");
	dir[strlen(dir) - 2] = 0; /* dir/cat */
	for (k = 0; k < 4; k++) {
		struct topo__catalog *c = NULL;
		struct topo_error e;

		fuzz_write(path, sizeof(path), files[k], data, size);
		if (topo__catalog_load(dir, &c, &e) == 0)
			topo__catalog_free(c);
		else
			topo_error_format(&e, msg, sizeof(msg));
		unlink(path);
	}
	return 0;
}
