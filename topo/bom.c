/*
 * bom.c - the parts of the bill of materials a buyer checks a quote with (topo_bom_detail()):
 * media by class (DAC, AOC, multimode, single-mode) and reach class (rack, row, hall), from the
 * tally of media.c, and per switch model the ports and cages used of those there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

static const char *const class_order[] = {"DAC",	 "AOC",	   "multimode",
					  "single-mode", "optics", "unspecified"};

static int class_rank(const struct topo_media_class *c)
{
	int i, r;

	for (i = 0; i < 6 && strcmp(c->media_class, class_order[i]); i++)
		;
	for (r = 0; r < TOPO_REACH_COUNT && strcmp(c->reach_class, topo__reach_classes[r]); r++)
		;
	return i * 8 + r;
}

static int class_cmp(const void *x, const void *y)
{
	return class_rank(x) - class_rank(y);
}

static int by_class(const struct topo__media_tally *t, struct topo_bom_detail *out)
{
	size_t i, j;

	out->media = calloc(t->n + 1, sizeof(*out->media));
	if (!out->media)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		const struct topo__media_line *l = &t->lines[i];
		struct topo_media_class *c;

		for (j = 0; j < out->n_media; j++)
			if (!strcmp(out->media[j].media_class, l->media_class) &&
			    !strcmp(out->media[j].reach_class, l->reach_class))
				break;
		c = &out->media[j];
		if (j == out->n_media) {
			c->media_class = l->media_class;
			c->reach_class = l->reach_class;
			out->n_media++;
		}
		c->links += l->class_links;
		if (l->role == TOPO__ROLE_MODULE)
			c->modules += l->count;
		else
			c->cables += l->count;
		c->price_usd += l->unit_price_usd * (double)l->count;
		c->watts += l->unit_watts * (double)l->count;
	}
	qsort(out->media, out->n_media, sizeof(*out->media), class_cmp);
	return 0;
}

static int by_switch(const struct topo_desc *d, const struct topo_graph *g,
		     const struct topo__media_tally *t, struct topo_bom_detail *out)
{
	const struct topo__graph_priv *pg = (const struct topo__graph_priv *)g;
	size_t cap = 0, j;
	uint32_t v;

	for (v = 0; v < g->n_vertices; v++) {
		struct topo_part p;
		bool known = pg->vpart[v] >= 0 &&
			     !topo__catalog_part(d->cat, TOPO_PART_SWITCH, pg->vpart[v], &p);
		const char *model =
			known ? p.name : "(unspecified)"; /* names live in the catalog */
		struct topo_switch_use *u;

		if (!topo__fabric_switch(&g->vertices[v]))
			continue;
		for (j = 0; j < out->n_switches && strcmp(out->switches[j].model, model); j++)
			;
		if (j == out->n_switches) {
			if (j == cap) {
				void *x;

				cap = cap ? 2 * cap : 4;
				x = realloc(out->switches, cap * sizeof(*out->switches));
				if (!x)
					return -ENOMEM;
				out->switches = x;
			}
			out->switches[j] = (struct topo_switch_use){
				.model = model,
				.radix = known ? p.radix : d->radix,
				.cage_ports = known ? p.cage_ports : 1,
			};
			out->n_switches++;
		}
		u = &out->switches[j];
		u->count++;
		u->ports_used += t->ports_used[v];
		u->cages_used += t->cages_used[v];
		u->ports += u->radix;
		u->cages += u->radix / u->cage_ports;
		if (t->ports_used[v] > u->max_ports_used)
			u->max_ports_used = t->ports_used[v];
	}
	return 0;
}

int topo_bom_detail(const struct topo_desc *d, const struct topo_graph *g,
		    struct topo_bom_detail *out)
{
	struct topo__media_tally t;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = topo__media_tally(d, g, &t);
	if (ret)
		return ret;
	ret = by_class(&t, out);
	if (!ret)
		ret = by_switch(d, g, &t, out);
	topo__media_tally_free(&t);
	if (ret)
		topo_bom_detail_free(out);
	return ret;
}

void topo_bom_detail_free(struct topo_bom_detail *b)
{
	free(b->media);
	free(b->switches);
	memset(b, 0, sizeof(*b));
}
