/*
 * pending.c - placeholders for the fabric families not expanded yet: they reject the file with
 * a clear error instead of producing a wrong graph.  Removed as each family lands.
 */
#include <errno.h>

#include "topo/internal.h"

static int pending(struct topo_desc *d, struct topo_error *err)
{
	return topo__errf(err, d->path, "fabric.family", false,
			  "family '%s' is not expanded yet (expected explicit or single-switch)",
			  topo__families[d->family].name);
}

int topo__fat_tree_validate(struct topo_desc *d, struct topo_error *err);
int topo__fat_tree_expand(const struct topo_desc *d, struct topo__builder *b,
			  struct topo_error *err);
int topo__rail_optimized_validate(struct topo_desc *d, struct topo_error *err);
int topo__rail_only_validate(struct topo_desc *d, struct topo_error *err);
int topo__rail_only_expand(const struct topo_desc *d, struct topo__builder *b,
			   struct topo_error *err);
int topo__torus_validate(struct topo_desc *d, struct topo_error *err);
int topo__torus_expand(const struct topo_desc *d, struct topo__builder *b, struct topo_error *err);
int topo__dragonfly_validate(struct topo_desc *d, struct topo_error *err);
int topo__dragonfly_expand(const struct topo_desc *d, struct topo__builder *b,
			   struct topo_error *err);

int topo__fat_tree_validate(struct topo_desc *d, struct topo_error *err)
{
	return pending(d, err);
}
int topo__rail_optimized_validate(struct topo_desc *d, struct topo_error *err)
{
	return pending(d, err);
}
int topo__rail_only_validate(struct topo_desc *d, struct topo_error *err)
{
	return pending(d, err);
}
int topo__torus_validate(struct topo_desc *d, struct topo_error *err)
{
	return pending(d, err);
}
int topo__dragonfly_validate(struct topo_desc *d, struct topo_error *err)
{
	return pending(d, err);
}
int topo__fat_tree_expand(const struct topo_desc *d, struct topo__builder *b,
			  struct topo_error *err)
{
	return -EOPNOTSUPP;
}
int topo__rail_only_expand(const struct topo_desc *d, struct topo__builder *b,
			   struct topo_error *err)
{
	return -EOPNOTSUPP;
}
int topo__torus_expand(const struct topo_desc *d, struct topo__builder *b, struct topo_error *err)
{
	return -EOPNOTSUPP;
}
int topo__dragonfly_expand(const struct topo_desc *d, struct topo__builder *b,
			   struct topo_error *err)
{
	return -EOPNOTSUPP;
}
