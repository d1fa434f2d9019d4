/*
 * part.c - one catalog part by kind and name, for callers outside topo/ (the planner's workload
 * model needs a GPU's peak, memory and failure rate, and every BOM part's failure rate): looked
 * up in the catalog the topology uses, loaded here when the topology named no part itself.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "topo/internal.h"

static const char *const kind_names[TOPO_PART_KIND_COUNT] = {
	[TOPO_PART_SWITCH] = "switch",
	[TOPO_PART_NIC] = "nic",
	[TOPO_PART_MEDIA] = "media",
	[TOPO_PART_GPU] = "gpu",
};

int topo_catalog_part(const struct topo_desc *d, const char *kind, const char *name,
		      struct topo_part *out, char *names, size_t len)
{
	struct topo__catalog *own = NULL;
	const struct topo__catalog *cat = d->cat;
	struct topo_error err;
	char tmp[512], dir[1100];
	struct stat st;
	int k, idx, ret = 0;

	for (k = 0; k < TOPO_PART_KIND_COUNT && strcmp(kind_names[k], kind); k++)
		;
	if (k == TOPO_PART_KIND_COUNT)
		return -EINVAL;
	if (!cat) {
		snprintf(tmp, sizeof(tmp), "%s", d->path);
		if (d->raw->catalog && d->raw->catalog[0] == '/')
			snprintf(dir, sizeof(dir), "%s", d->raw->catalog);
		else
			snprintf(dir, sizeof(dir), "%s/%s", dirname(tmp),
				 d->raw->catalog ? d->raw->catalog : "../catalog");
		if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(names, len, "no catalog directory %s", dir);
			return -EINVAL;
		}
		ret = topo__catalog_load(dir, &own, &err);
		if (ret) {
			topo_error_format(&err, names, len);
			return ret;
		}
		cat = own;
	}
	idx = topo__catalog_find(cat, (enum topo__part_kind)k, name);
	if (idx < 0) {
		topo__catalog_names(cat, (enum topo__part_kind)k, names, len);
		ret = -ENOENT;
	} else {
		ret = topo__catalog_part(cat, (enum topo__part_kind)k, idx, out);
		out->name = NULL; /* the catalog's strings may be freed below */
		out->kind = "";
	}
	topo__catalog_free(own);
	return ret;
}
