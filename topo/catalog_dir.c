/*
 * catalog_dir.c - the catalog directory of a topology (the order it is looked for in is in
 * topo.h: the file's catalog:, --catalog, $ARPLAN_CATALOG, beside the file, the installed or
 * built arplan's), loaded by topo_load() through topo__catalog_open().
 */
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/internal.h"

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The catalog directory of d (see topo_load() in topo.h for the order) into buf: 0, or -ENOENT
 * with the places looked at in `looked`. */
static int catalog_dir(const struct topo_desc *d, char *buf, size_t len, char *looked,
		       size_t looked_len)
{
	char tmp[512], exe[512];
	const char *dir, *env = getenv("ARPLAN_CATALOG");
	size_t n = 0;
	ssize_t k;
	int i;

	looked[0] = 0;
	snprintf(tmp, sizeof(tmp), "%s", d->path);
	dir = dirname(tmp);
	if (d->raw->catalog) { /* the file's own choice: only that */
		if (d->raw->catalog[0] == '/')
			snprintf(buf, len, "%s", d->raw->catalog);
		else
			snprintf(buf, len, "%s/%s", dir, d->raw->catalog);
		snprintf(looked, looked_len, "%s (its catalog:)", buf);
		return is_dir(buf) ? 0 : -ENOENT;
	}
	if (d->catalog_opt[0]) { /* --catalog: only that */
		snprintf(buf, len, "%s", d->catalog_opt);
		snprintf(looked, looked_len, "%s (--catalog)", buf);
		return is_dir(buf) ? 0 : -ENOENT;
	}
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		snprintf(looked, looked_len, "%s ($ARPLAN_CATALOG)", buf);
		return is_dir(buf) ? 0 : -ENOENT;
	}
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[k > 0 ? k : 0] = 0;
	for (i = 0; i < 3; i++) {
		if (i == 0)
			snprintf(buf, len, "%s/../catalog", dir);
		else if (!exe[0])
			break;
		else
			snprintf(buf, len, "%s/%s", dirname(exe),
				 i == 1 ? "../share/arbench/configs/catalog"
					: "../configs/catalog");
		if (is_dir(buf))
			return 0;
		if (n < looked_len)
			n += (size_t)snprintf(looked + n, looked_len - n, "%s%s%s", n ? ", " : "",
					      buf, i == 0 ? " (beside the file)" : "");
		if (i == 1) { /* dirname() cut exe; read it again */
			k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
			exe[k > 0 ? k : 0] = 0;
		}
	}
	return -ENOENT;
}

int topo__catalog_open(struct topo_desc *d)
{
	char dir[600];

	if (catalog_dir(d, dir, sizeof(dir), d->cat_looked, sizeof(d->cat_looked))) {
		d->cat_ret = -ENOENT;
		return 0;
	}
	d->cat_ret = topo__catalog_load(dir, &d->cat, &d->cat_err);
	return d->cat_ret == -ENOMEM ? -ENOMEM : 0;
}
