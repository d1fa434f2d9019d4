/*
 * fuzz_calib.c - libFuzzer target: the calibration loader (planner/calib.c, libcyaml) and the
 * property that what plan_calib_write() writes loads back: a calibration it accepts must
 * round-trip, or the target aborts and libFuzzer keeps the input.
 */
// fuzz-seeds: configs/calibrations/*.yaml tests/data/planner/calib-bad/*.yaml
#include <errno.h>

#include "planner/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[256], back[256], emsg[1024];
	struct plan_calib c, c2;
	struct topo_error e;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	fuzz_write(path, sizeof(path), "calib.yaml", data, size);
	rc = plan_calib_load(path, &c, &e);
	if (rc == 0) {
		out = open_memstream(&text, &len);
		if (!out || plan_calib_write(&c, out))
			abort();
		fclose(out);
		fuzz_write(back, sizeof(back), "back.yaml", (const uint8_t *)text, len);
		if (plan_calib_load(back, &c2, &e)) {
			topo_error_format(&e, emsg, sizeof(emsg));
			fprintf(stderr,
				"plan_calib_write wrote a file that does not load: %s\n%s\n", emsg,
				text);
			abort();
		}
		free(text);
	} else if (rc != -EINVAL && rc != -ENOMEM) {
		fprintf(stderr, "plan_calib_load returned %d\n", rc);
		abort();
	}
	return 0;
}
