/*
 * load.c - topo_load(): read a topology YAML file with libcyaml (schema.c; its errors as
 * file:line:column, yamlerr.c), refuse integers with junk after the digits (strict.c), load the
 * part catalog (catalog.c), then check in order what the schema cannot (check.c): node types,
 * link classes, the parameters the family takes, the family's own checks (families.c), its
 * scale-up domains (scaleup.c), the link classes it uses and their speeds.  The result is a
 * validated topo_desc.
 * The YAML language is documented in configs/README.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "topo/internal.h"

int topo_load(const char *path, struct topo_desc **out, struct topo_error *err)
{
	return topo_load_catalog(path, NULL, out, err);
}

/* The file as libcyaml reads it, with every integer plain: 0, -ENOMEM or -EINVAL with *err. */
static int read_file(struct topo_desc *d, const char *path, struct topo_error *err)
{
	struct stat st;
	int ret;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return topo__errf(err, path, NULL, false,
				  "not a regular file (expected a topology YAML file)");
	ret = topo_yaml_load(path, &topo__doc, (void **)&d->raw, err);
	if (ret)
		return ret;
	if (!d->raw)
		return topo__errf(err, path, "", false,
				  "the file holds no YAML document (expected a mapping with name: "
				  "and fabric:, see configs/README.md)");
	return 0;
}

int topo_load_catalog(const char *path, const char *catalog, struct topo_desc **out,
		      struct topo_error *err)
{
	const struct topo__family_ops *fam;
	struct topo_desc *d;
	int ret;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->catalog_opt, sizeof(d->catalog_opt), "%s", catalog ? catalog : "");
	d->switch_part = -1;
	ret = read_file(d, path, err);
	if (!ret)
		ret = topo__catalog_open(d);
	if (!ret)
		ret = topo__check_node_types(d, err);
	if (!ret)
		ret = topo__check_classes(d, err);
	if (ret)
		goto err_free_desc;
	d->family = (enum topo__family)d->raw->fabric->family;
	fam = topo__families[d->family];
	ret = topo__check_params(d, err);
	if (!ret)
		ret = fam->validate(d, err);
	if (!ret)
		ret = topo__check_scale_up(d, err);
	/* a listed fabric's classes are defaults, and each link is checked against its ends */
	if (!ret && !fam->listed)
		ret = topo__check_classes_used(d, err);
	if (!ret && !fam->listed)
		ret = topo__check_class_speeds(d, err);
	if (ret)
		goto err_free_desc;
	*out = d;
	return 0;

err_free_desc:
	topo_desc_free(d);
	return ret;
}

void topo_desc_free(struct topo_desc *d)
{
	if (!d)
		return;
	topo_yaml_free(&topo__doc, d->raw);
	topo__catalog_free(d->cat);
	free(d->ntypes);
	free(d->node_ntype);
	free(d->link_media);
	free(d->link_bw);
	free(d->link_lat);
	free(d);
}

const char *topo_desc_name(const struct topo_desc *d)
{
	return d->raw->name;
}

const char *topo_desc_family(const struct topo_desc *d)
{
	return topo__family_names[d->family].str;
}
