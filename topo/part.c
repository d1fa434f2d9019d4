/*
 * part.c - one catalog part by kind and name, for callers outside topo/ (the planner's workload
 * model needs a GPU's peak, memory and failure rate, and every BOM part's failure rate): looked
 * up in the catalog topo_load() found for the topology.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	int k, idx;

	for (k = 0; k < TOPO_PART_KIND_COUNT && strcmp(kind_names[k], kind); k++)
		;
	if (k == TOPO_PART_KIND_COUNT)
		return -EINVAL;
	if (!d->cat) {
		if (d->cat_ret == -ENOENT)
			snprintf(names, len, "no catalog directory (looked in %s)", d->cat_looked);
		else
			topo_error_format(&d->cat_err, names, len);
		return -EINVAL;
	}
	idx = topo__catalog_find(d->cat, (enum topo__part_kind)k, name);
	if (idx < 0) {
		topo__catalog_names(d->cat, (enum topo__part_kind)k, names, len);
		return -ENOENT;
	}
	topo__catalog_part(d->cat, (enum topo__part_kind)k, idx, out);
	out->name = NULL; /* as topo.h says: the caller copies the name it asked for */
	out->kind = "";
	return 0;
}
