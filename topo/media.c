/*
 * media.c - link media as they are bought, for the bill of materials: which cable or which
 * transceivers each link takes, and how many of each a buyer orders.
 *
 * A link class names a part (media: OSFP-400G-SR4) or says `media: auto`: then the cheapest
 * part of the class's reach class (rack, row, hall: in a rack, in a row, across rows; the
 * shipped catalog has DAC for rack, multimode optics for row and single-mode for hall) whose
 * speed carries the link and whose plugs fit the cages at both ends.  A transceiver sits at each
 * end of a link: where the end's cage holds two ports (a QM9700's 32 OSFP cages carry its 64
 * ports, a DGX H100's 4 OSFP cages its 8 ConnectX-7) the twin-port module of the same optics is
 * bought, one per two links of that device, else the single-port one; one fiber per link.  A
 * twin-port cable (DAC) carries two links whose twin ends share a cage.  Per switch: ports and
 * cages used (bom.c sums them by model and the media by class).  Counting is per device and
 * cheap: 655k links in a few tens of milliseconds.
 *
 *   leaf QM9700 cage [p1|p2] ==twin SR8==> fiber -> [SR4] NIC      (PCIe ConnectX-7)
 *                               \=======> fiber -> [twin SR8] DGX H100 cage [nic0|nic1]
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

struct parts {
	struct topo_part *p;
	int n;
	int *reach; /* enum topo__reach of each, -1 when not given */
};

static int parts_load(const struct topo_desc *d, enum topo__part_kind kind, struct parts *m)
{
	struct topo_part tmp;
	int i, r;

	memset(m, 0, sizeof(*m));
	while (d->cat && topo__catalog_part(d->cat, kind, m->n, &tmp) == 0)
		m->n++;
	m->p = calloc((size_t)m->n + 1, sizeof(*m->p));
	m->reach = calloc((size_t)m->n + 1, sizeof(int));
	if (!m->p || !m->reach)
		return -ENOMEM;
	for (i = 0; i < m->n; i++) {
		topo__catalog_part(d->cat, kind, i, &m->p[i]);
		for (r = 0;
		     r < TOPO_REACH_COUNT && strcmp(m->p[i].reach_class, topo__reach_classes[r]);
		     r++)
			;
		m->reach[i] = r < TOPO_REACH_COUNT ? r : -1;
	}
	return 0;
}

static void parts_free(struct parts *m)
{
	free(m->p);
	free(m->reach);
}

static bool is_kind(const struct topo_part *p, const char *kind)
{
	return strcmp(p->kind, kind) == 0;
}

static bool fast_enough(const struct topo_part *p, double bw)
{
	return !(p->speed > 0) || bw <= p->speed * 1.000001;
}

bool topo__media_auto_ok(const struct topo_desc *d, enum topo__reach r, double bw)
{
	struct parts m;
	bool ok = false;
	int i;

	if (parts_load(d, TOPO_PART_MEDIA, &m) == 0)
		for (i = 0; i < m.n && !ok; i++)
			ok = !is_kind(&m.p[i], "fiber") && m.reach[i] >= (int)r &&
			     fast_enough(&m.p[i], bw);
	parts_free(&m);
	return ok;
}

/* The transceiver of the same optics as part (fiber, reach class, speed per link) that carries
 * `cage` links per module: part itself, or the cheapest such; -1 (exact) or part when none. */
static int sibling(const struct parts *m, int part, unsigned cage, bool exact)
{
	const struct topo_part *p = &m->p[part];
	int i, best = -1;

	if (p->ports == cage)
		return part;
	for (i = 0; i < m->n; i++) {
		const struct topo_part *q = &m->p[i];

		if (is_kind(q, "transceiver") && q->ports == cage && !strcmp(q->fiber, p->fiber) &&
		    !strcmp(q->reach_class, p->reach_class) &&
		    fabs(q->speed - p->speed) <= 1e-6 * p->speed &&
		    (best < 0 || q->price_usd < m->p[best].price_usd))
			best = i;
	}
	return best >= 0 || exact ? best : part;
}

/* What one link takes: a cable, or a module at each end and a fiber; -1 where none. */
struct choice {
	int cable, mod[2], fiber;
};

static struct choice fixed(const struct parts *m, int part, const unsigned cage[2])
{
	struct choice c = {-1, {-1, -1}, -1};
	int e;

	if (part < 0)
		return c;
	if (!is_kind(&m->p[part], "transceiver")) {
		c.cable = part;
		return c;
	}
	for (e = 0; e < 2; e++)
		c.mod[e] = sibling(m, part, cage[e], false);
	c.fiber = m->p[c.mod[0]].cable >= 0 ? m->p[c.mod[0]].cable : m->p[part].cable;
	return c;
}

/* media: auto: the cheapest part per link of reach class r (else the next longer one) whose
 * plugs fit both cages; a part that does not fit only when nothing does. */
static struct choice choose(const struct parts *m, enum topo__reach r, double bw,
			    const unsigned cage[2])
{
	unsigned widest = cage[0] > cage[1] ? cage[0] : cage[1];
	double best_usd = INFINITY;
	struct choice c = {-1, {-1, -1}, -1}, best = c;
	int i, rr, fallback = -1;

	for (rr = (int)r; rr < TOPO_REACH_COUNT && isinf(best_usd); rr++) {
		for (i = 0; i < m->n; i++) {
			const struct topo_part *q = &m->p[i];
			double usd;

			if (m->reach[i] != rr || is_kind(q, "fiber") || !fast_enough(q, bw))
				continue;
			if (fallback < 0)
				fallback = i;
			if (!is_kind(q, "transceiver")) {
				if (q->ports != widest)
					continue;
				c = (struct choice){i, {-1, -1}, -1};
				usd = q->price_usd / q->ports;
			} else {
				c.cable = -1;
				c.mod[0] = sibling(m, i, cage[0], true);
				c.mod[1] = sibling(m, i, cage[1], true);
				if (c.mod[0] < 0 || c.mod[1] < 0)
					continue;
				c.fiber = m->p[c.mod[0]].cable;
				usd = m->p[c.mod[0]].price_usd / m->p[c.mod[0]].ports +
				      m->p[c.mod[1]].price_usd / m->p[c.mod[1]].ports +
				      (c.fiber >= 0 ? m->p[c.fiber].price_usd : 0);
			}
			if (usd < best_usd) {
				best_usd = usd;
				best = c;
			}
		}
	}
	return isinf(best_usd) ? fixed(m, fallback, cage) : best;
}

/* ---- the tally ------------------------------------------------------------------------------ */

#define SLOTS 4 /* distinct media lines counted per device; more are counted unpaired */

struct slot {
	int32_t line; /* -1 empty */
	uint32_t n;
};

/* One resolved link shape: media code, cages, rate, what -> its lines (cached). */
struct shape {
	int media;
	unsigned cage[2], what;
	double bw;
	int line_mod[2], line_cable, line_fiber, line_main;
};

struct tally {
	const struct topo_desc *d;
	const struct topo_graph *g;
	struct parts media, sw, nic;
	struct topo__media_tally *out;
	size_t cap;
	struct shape *shapes;
	size_t n_shapes, cap_shapes, last;
	struct slot *slots; /* [n_vertices * SLOTS] */
	uint32_t *unpaired; /* [n_vertices] cages taken by ends beyond SLOTS */
	struct pair *pairs; /* twin cables to pair up */
	size_t n_pairs, cap_pairs;
};

struct pair {
	int32_t line;
	uint32_t a, b;
};

static const char *media_class(const struct topo_part *p)
{
	if (is_kind(p, "dac"))
		return "DAC";
	if (is_kind(p, "aoc"))
		return "AOC";
	return p->fiber[0] ? p->fiber : "optics";
}

static int line_of(struct tally *t, unsigned what, int part, enum topo__media_role role,
		   const struct topo_part *label)
{
	struct topo__media_tally *o = t->out;
	const struct topo_part *p = part >= 0 ? &t->media.p[part] : NULL;
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->lines[i].what == what && o->lines[i].part == part &&
		    o->lines[i].role == role)
			return (int)i;
	if (o->n == t->cap) {
		size_t c = t->cap ? 2 * t->cap : 16;
		void *x = realloc(o->lines, c * sizeof(*o->lines));

		if (!x)
			return -ENOMEM;
		o->lines = x;
		t->cap = c;
	}
	o->lines[o->n] = (struct topo__media_line){
		.what = what,
		.part = part,
		.role = role,
		.name = p ? p->name : "(unspecified)",
		.media_class = label ? media_class(label) : "unspecified",
		.reach_class = label && label->reach_class[0] ? label->reach_class : "-",
		.ports = p && role != TOPO__ROLE_FIBER ? p->ports : 1,
		.unit_price_usd = p ? p->price_usd : 0,
		.unit_watts = p ? p->watts : 0,
	};
	return (int)o->n++;
}

static int shape_lines(struct tally *t, struct shape *s)
{
	struct choice c;
	int e;

	c = TOPO__MEDIA_IS_AUTO(s->media)
		    ? choose(&t->media, TOPO__MEDIA_AUTO_REACH(s->media), s->bw, s->cage)
		    : fixed(&t->media, s->media, s->cage);
	s->line_mod[0] = s->line_mod[1] = s->line_cable = s->line_fiber = -1;
	if (c.mod[0] >= 0) {
		for (e = 0; e < 2; e++)
			s->line_mod[e] = line_of(t, s->what, c.mod[e], TOPO__ROLE_MODULE,
						 &t->media.p[c.mod[e]]);
		if (c.fiber >= 0)
			s->line_fiber = line_of(t, s->what, c.fiber, TOPO__ROLE_FIBER,
						&t->media.p[c.mod[0]]);
		s->line_main = s->line_mod[0];
	} else {
		s->line_cable = line_of(t, s->what, c.cable,
					c.cable >= 0 ? TOPO__ROLE_CABLE : TOPO__ROLE_NONE,
					c.cable >= 0 ? &t->media.p[c.cable] : NULL);
		s->line_main = s->line_cable;
	}
	if (s->line_mod[0] == -ENOMEM || s->line_mod[1] == -ENOMEM || s->line_fiber == -ENOMEM ||
	    s->line_cable == -ENOMEM)
		return -ENOMEM;
	return 0;
}

static struct shape *shape_of(struct tally *t, int media, const unsigned cage[2], unsigned what,
			      double bw)
{
	struct shape *s;
	size_t i;

	for (i = 0; i < t->n_shapes; i++) {
		s = &t->shapes[(t->last + i) % t->n_shapes]; /* the last one first */
		if (s->media == media && s->cage[0] == cage[0] && s->cage[1] == cage[1] &&
		    s->what == what && s->bw == bw) {
			t->last = (t->last + i) % t->n_shapes;
			return s;
		}
	}
	if (t->n_shapes == t->cap_shapes) {
		size_t c = t->cap_shapes ? 2 * t->cap_shapes : 16;
		void *x = realloc(t->shapes, c * sizeof(*t->shapes));

		if (!x)
			return NULL;
		t->shapes = x;
		t->cap_shapes = c;
	}
	s = &t->shapes[t->n_shapes];
	*s = (struct shape){.media = media, .cage = {cage[0], cage[1]}, .what = what, .bw = bw};
	if (shape_lines(t, s))
		return NULL;
	t->last = t->n_shapes++;
	return s;
}

/* The cage ports of vertex v's part, and the device its cage belongs to (a NIC's cage is
 * shared with the NICs beside it: nic0 and nic1 of a DGX H100 in one OSFP cage). */
static unsigned cage_of(const struct tally *t, uint32_t v, uint32_t *dev)
{
	const struct topo__graph_priv *pg = (const struct topo__graph_priv *)t->g;
	const struct topo_vertex *x = &t->g->vertices[v];
	const struct parts *m = x->kind == TOPO_V_NIC ? &t->nic : &t->sw;
	int part = pg->vpart[v];
	unsigned c = part >= 0 && part < m->n ? m->p[part].cage_ports : 1;

	*dev = v;
	if (x->kind == TOPO_V_NIC && c > 1) /* a node's NICs are consecutive vertices */
		*dev = v - x->local % c;
	return c ? c : 1;
}

static void count_end(struct tally *t, uint32_t dev, int line)
{
	struct slot *s = &t->slots[(size_t)dev * SLOTS];
	int i;

	for (i = 0; i < SLOTS; i++) {
		if (s[i].line == line || s[i].line < 0) {
			s[i].line = line;
			s[i].n++;
			return;
		}
	}
	t->unpaired[dev]++;
	t->out->lines[line].count += t->out->lines[line].role == TOPO__ROLE_MODULE;
}

static int add_pair(struct tally *t, int line, uint32_t a, uint32_t b)
{
	if (t->n_pairs == t->cap_pairs) {
		size_t c = t->cap_pairs ? 2 * t->cap_pairs : 256;
		void *x = realloc(t->pairs, c * sizeof(*t->pairs));

		if (!x)
			return -ENOMEM;
		t->pairs = x;
		t->cap_pairs = c;
	}
	t->pairs[t->n_pairs++] = (struct pair){line, a < b ? a : b, a < b ? b : a};
	return 0;
}

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

/* One link: its shape's lines, its ends on their devices, its cable. */
static int count_link(struct tally *t, uint64_t l)
{
	const struct topo__graph_priv *pg = (const struct topo__graph_priv *)t->g;
	const struct topo_link *k = &t->g->links[l];
	const struct topo_vertex *va = &t->g->vertices[k->a], *vb = &t->g->vertices[k->b];
	struct topo__media_line *lines;
	unsigned cage[2], ta = topo__tier_of(va), tb = topo__tier_of(vb), what;
	uint32_t dev[2];
	struct shape *s;
	int e;

	what = k->cls == TOPO_L_HOST ? 0 : ta == tb ? TOPO_MAX_TIERS : 1 + (ta < tb ? ta : tb);
	cage[0] = cage_of(t, k->a, &dev[0]);
	cage[1] = cage_of(t, k->b, &dev[1]);
	s = shape_of(t, pg->lmedia[l], cage, what, k->bandwidth);
	if (!s)
		return -ENOMEM;
	lines = t->out->lines;
	lines[s->line_main].class_links++;
	for (e = 0; e < 2; e++) {
		uint32_t v = e ? k->b : k->a;

		if (topo__fabric_switch(&t->g->vertices[v]))
			t->out->ports_used[v]++;
		count_end(t, dev[e], s->line_mod[e] >= 0 ? s->line_mod[e] : s->line_cable);
		if (s->line_mod[e] >= 0)
			lines[s->line_mod[e]].links++;
	}
	if (s->line_fiber >= 0) {
		lines[s->line_fiber].links++;
		lines[s->line_fiber].count++;
	}
	if (s->line_cable < 0)
		return 0;
	lines[s->line_cable].links++;
	if (lines[s->line_cable].ports < 2 || (cage[0] < 2 && cage[1] < 2)) {
		lines[s->line_cable].count++;
		return 0;
	}
	/* a twin cable: both twin ends share it, or the one twin end of a splitter */
	return add_pair(t, s->line_cable, cage[0] >= 2 ? dev[0] : UINT32_MAX,
			cage[1] >= 2 ? dev[1] : UINT32_MAX);
}

/* Modules per device (one per `ports` link ends), cages per switch, twin cables per pair. */
static void finish(struct tally *t)
{
	struct topo__media_tally *o = t->out;
	size_t i, j;
	uint32_t v;

	for (v = 0; v < t->g->n_vertices; v++) {
		const struct slot *s = &t->slots[(size_t)v * SLOTS];
		uint32_t dev;
		unsigned cage = cage_of(t, v, &dev);
		bool sw = topo__fabric_switch(&t->g->vertices[v]);

		for (i = 0; i < SLOTS && s[i].line >= 0; i++) {
			struct topo__media_line *ln = &o->lines[s[i].line];

			if (ln->role == TOPO__ROLE_MODULE)
				ln->count += (s[i].n + ln->ports - 1) / ln->ports;
			if (sw)
				o->cages_used[v] += (s[i].n + cage - 1) / cage;
		}
		if (sw)
			o->cages_used[v] += t->unpaired[v];
	}
	if (t->n_pairs) /* qsort() of NULL is undefined even for no elements */
		qsort(t->pairs, t->n_pairs, sizeof(*t->pairs), pair_cmp);
	for (i = 0; i < t->n_pairs; i = j) {
		struct topo__media_line *ln = &o->lines[t->pairs[i].line];

		for (j = i; j < t->n_pairs && !pair_cmp(&t->pairs[i], &t->pairs[j]); j++)
			;
		ln->count += (j - i + ln->ports - 1) / ln->ports;
	}
}

int topo__media_tally(const struct topo_desc *d, const struct topo_graph *g,
		      struct topo__media_tally *out)
{
	struct tally t = {.d = d, .g = g, .out = out};
	uint64_t l;
	uint32_t v;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->ports_used = calloc((size_t)g->n_vertices + 1, sizeof(uint32_t));
	out->cages_used = calloc((size_t)g->n_vertices + 1, sizeof(uint32_t));
	t.slots = malloc(((size_t)g->n_vertices + 1) * SLOTS * sizeof(*t.slots));
	t.unpaired = calloc((size_t)g->n_vertices + 1, sizeof(uint32_t));
	if (!out->ports_used || !out->cages_used || !t.slots || !t.unpaired ||
	    parts_load(d, TOPO_PART_MEDIA, &t.media) || parts_load(d, TOPO_PART_SWITCH, &t.sw) ||
	    parts_load(d, TOPO_PART_NIC, &t.nic))
		goto free_work;
	for (v = 0; v < (uint64_t)g->n_vertices * SLOTS; v++)
		t.slots[v] = (struct slot){-1, 0};
	ret = 0;
	for (l = 0; l < g->n_links && !ret; l++)
		if (g->links[l].cls != TOPO_L_INTRA)
			ret = count_link(&t, l);
	if (!ret)
		finish(&t);
free_work:
	parts_free(&t.media);
	parts_free(&t.sw);
	parts_free(&t.nic);
	free(t.shapes);
	free(t.slots);
	free(t.unpaired);
	free(t.pairs);
	if (ret)
		topo__media_tally_free(out);
	return ret;
}

void topo__media_tally_free(struct topo__media_tally *t)
{
	free(t->lines);
	free(t->ports_used);
	free(t->cages_used);
	memset(t, 0, sizeof(*t));
}
