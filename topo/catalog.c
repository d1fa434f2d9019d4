/*
 * catalog.c - part catalogs (configs/catalog/, one YAML file per kind): switches, NICs,
 * transceivers and cables ("media"), GPUs.  Loaded with libcyaml; every file holds one list of
 * parts with the same fields.  Each kind checks the fields it needs, every number and rate a part
 * gives is checked against its range (no zero port speed, negative price or MTBF of 0 h), and a
 * name is given once per file.  Topology files name parts; the bill of materials counts them.
 * Where a topology's catalog directory is: catalog_dir.c.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "topo/internal.h"

struct ty_part {
	char *name;
	char *kind;	 /* media: transceiver, dac, aoc, fiber */
	unsigned *radix; /* switch ports */
	unsigned *ports; /* NIC ports; media: links one module or cable end carries (2: twin) */
	unsigned *cage_ports; /* switch, NIC: ports per cage (QM9700: 2 per OSFP cage) */
	char *reach_class;    /* media: rack, row or hall */
	char *fiber;	      /* media (transceiver, fiber): multimode or single-mode */
	char *cable;	      /* transceiver: the fiber part one link takes */
	char *speed;	      /* port speed */
	double *reach_m;
	double *price_usd;
	double *watts;
	double *fit; /* failures per 1e9 hours */
	double *mtbf_hours;
	double *bf16_tflops;
	double *fp8_tflops;
	unsigned *nvlink_domain; /* GPUs per NVLink domain of the GPU's rack-scale system */
	char *memory_bw;
	double *memory_gb;
	char *nvlink;
	double *tdp_w;
};

struct ty_parts {
	struct ty_part *parts;
	unsigned parts_count;
};

#define OPT			(CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
#define STR(key, flags, member) CYAML_FIELD_STRING_PTR(key, flags, struct ty_part, member, 0, 256)
#define NUM(key, member)	CYAML_FIELD_FLOAT_PTR(key, OPT, struct ty_part, member)

static const cyaml_schema_field_t part_fields[] = {
	STR("name", CYAML_FLAG_POINTER, name),
	STR("kind", OPT, kind),
	CYAML_FIELD_UINT_PTR("radix", OPT, struct ty_part, radix),
	CYAML_FIELD_UINT_PTR("ports", OPT, struct ty_part, ports),
	CYAML_FIELD_UINT_PTR("cage_ports", OPT, struct ty_part, cage_ports),
	STR("reach_class", OPT, reach_class),
	STR("fiber", OPT, fiber),
	STR("cable", OPT, cable),
	STR("speed", OPT, speed),
	NUM("reach_m", reach_m),
	NUM("price_usd", price_usd),
	NUM("watts", watts),
	NUM("fit", fit),
	NUM("mtbf_hours", mtbf_hours),
	NUM("bf16_tflops", bf16_tflops),
	NUM("fp8_tflops", fp8_tflops),
	CYAML_FIELD_UINT_PTR("nvlink_domain", OPT, struct ty_part, nvlink_domain),
	STR("memory_bw", OPT, memory_bw),
	NUM("memory_gb", memory_gb),
	STR("nvlink", OPT, nvlink),
	NUM("tdp_w", tdp_w),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t part_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct ty_part, part_fields),
};
static const cyaml_schema_field_t parts_fields[] = {
	CYAML_FIELD_SEQUENCE("parts", CYAML_FLAG_POINTER, struct ty_parts, parts, &part_entry, 0,
			     CYAML_UNLIMITED),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t parts_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct ty_parts, parts_fields),
};

struct topo__catalog {
	struct ty_parts *kinds[TOPO_PART_KIND_COUNT];
};

static const char *const files[TOPO_PART_KIND_COUNT] = {"switches.yaml", "nics.yaml", "media.yaml",
							"gpus.yaml"};

/* ---- checks: the fields of each kind, numeric fields, rates, one check per kind ------------- */

#define K(kind)	 (1u << (kind))
#define K_SWITCH K(TOPO_PART_SWITCH)
#define K_NIC	 K(TOPO_PART_NIC)
#define K_MEDIA	 K(TOPO_PART_MEDIA)
#define K_GPU	 K(TOPO_PART_GPU)
#define K_ALL	 (K_SWITCH | K_NIC | K_MEDIA | K_GPU)

/* What a part's pointer member is, to tell whether the file gave it. */
enum part_type { F_STR, F_UINT, F_NUM };

/*
 * Every field of part_fields and the kinds of part that take it, in schema order.  A field
 * given to a part of another kind (bf16_tflops in switches.yaml) is an error, not ignored.
 */
static const struct kind_field {
	const char *key;
	size_t off; /* of the pointer in struct ty_part */
	enum part_type type;
	unsigned kinds; /* K_* bits */
} kind_fields[] = {
	{"name", offsetof(struct ty_part, name), F_STR, K_ALL},
	{"kind", offsetof(struct ty_part, kind), F_STR, K_MEDIA},
	{"radix", offsetof(struct ty_part, radix), F_UINT, K_SWITCH},
	{"ports", offsetof(struct ty_part, ports), F_UINT, K_NIC | K_MEDIA},
	{"cage_ports", offsetof(struct ty_part, cage_ports), F_UINT, K_SWITCH | K_NIC},
	{"reach_class", offsetof(struct ty_part, reach_class), F_STR, K_MEDIA},
	{"fiber", offsetof(struct ty_part, fiber), F_STR, K_MEDIA},
	{"cable", offsetof(struct ty_part, cable), F_STR, K_MEDIA},
	{"speed", offsetof(struct ty_part, speed), F_STR, K_SWITCH | K_NIC | K_MEDIA},
	{"reach_m", offsetof(struct ty_part, reach_m), F_NUM, K_MEDIA},
	{"price_usd", offsetof(struct ty_part, price_usd), F_NUM, K_ALL},
	{"watts", offsetof(struct ty_part, watts), F_NUM, K_SWITCH | K_NIC | K_MEDIA},
	{"fit", offsetof(struct ty_part, fit), F_NUM, K_ALL},
	{"mtbf_hours", offsetof(struct ty_part, mtbf_hours), F_NUM, K_ALL},
	{"bf16_tflops", offsetof(struct ty_part, bf16_tflops), F_NUM, K_GPU},
	{"fp8_tflops", offsetof(struct ty_part, fp8_tflops), F_NUM, K_GPU},
	{"nvlink_domain", offsetof(struct ty_part, nvlink_domain), F_UINT, K_GPU},
	{"memory_bw", offsetof(struct ty_part, memory_bw), F_STR, K_GPU},
	{"memory_gb", offsetof(struct ty_part, memory_gb), F_NUM, K_GPU},
	{"nvlink", offsetof(struct ty_part, nvlink), F_STR, K_GPU},
	{"tdp_w", offsetof(struct ty_part, tdp_w), F_NUM, K_GPU}, /* watts of a GPU */
};

static const char *const kind_nouns[TOPO_PART_KIND_COUNT] = {
	[TOPO_PART_SWITCH] = "switch",
	[TOPO_PART_NIC] = "NIC",
	[TOPO_PART_MEDIA] = "media",
	[TOPO_PART_GPU] = "GPU",
};

static bool field_given(const struct ty_part *p, const struct kind_field *f)
{
	const char *at = (const char *)p + f->off;

	if (f->type == F_STR)
		return *(char *const *)at != NULL;
	if (f->type == F_UINT)
		return *(unsigned *const *)at != NULL;
	return *(double *const *)at != NULL;
}

/* The fields the kinds in mask take ("name, radix, ..."), or with files, their catalog files. */
static void kind_list(unsigned mask, bool files_of_kinds, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = 0;
	if (files_of_kinds) {
		for (i = 0; i < TOPO_PART_KIND_COUNT && n < len; i++)
			if (mask & K(i))
				n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
						      files[i]);
		return;
	}
	for (i = 0; i < sizeof(kind_fields) / sizeof(kind_fields[0]) && n < len; i++)
		if (kind_fields[i].kinds & mask)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      kind_fields[i].key);
}

/* A field that parts of this kind do not take: name it, where it belongs, and what is taken. */
static int check_kind_fields(const char *file, const char *at, enum topo__part_kind kind,
			     const struct ty_part *p, struct topo_error *err)
{
	char path[96], taken[200], belongs[80];
	size_t i;

	for (i = 0; i < sizeof(kind_fields) / sizeof(kind_fields[0]); i++) {
		const struct kind_field *f = &kind_fields[i];

		if ((f->kinds & K(kind)) || !field_given(p, f))
			continue;
		snprintf(path, sizeof(path), "%s.%s", at, f->key);
		kind_list(K(kind), false, taken, sizeof(taken));
		kind_list(f->kinds, true, belongs, sizeof(belongs));
		return topo__errf(err, file, path, true,
				  "part '%s': %s is not a %s field, it belongs in %s (expected the "
				  "%s fields: %s)",
				  p->name, f->key, kind_nouns[kind], belongs, kind_nouns[kind],
				  taken);
	}
	return 0;
}

/* A number a part may give: finite and >= 0, or > 0 where zero means nothing (an MTBF of 0 h). */
static const struct num_field {
	const char *key;
	size_t off; /* of the double * in struct ty_part */
	bool positive;
	const char *example;
} num_fields[] = {
	{"reach_m", offsetof(struct ty_part, reach_m), true, "reach_m: 50"},
	{"price_usd", offsetof(struct ty_part, price_usd), false, "price_usd: 30000"},
	{"watts", offsetof(struct ty_part, watts), false, "watts: 750"},
	{"fit", offsetof(struct ty_part, fit), false, "fit: 200, in failures per 1e9 hours"},
	{"mtbf_hours", offsetof(struct ty_part, mtbf_hours), true, "mtbf_hours: 500000"},
	{"bf16_tflops", offsetof(struct ty_part, bf16_tflops), true, "bf16_tflops: 989"},
	{"fp8_tflops", offsetof(struct ty_part, fp8_tflops), true, "fp8_tflops: 1979"},
	{"memory_gb", offsetof(struct ty_part, memory_gb), true, "memory_gb: 80"},
	{"tdp_w", offsetof(struct ty_part, tdp_w), false, "tdp_w: 700"},
};

/* A rate a part may give: a unit and > 0. */
static const struct rate_field {
	const char *key;
	size_t off; /* of the char * in struct ty_part */
	const char *example;
} rate_fields[] = {
	{"speed", offsetof(struct ty_part, speed), "speed: 400Gbit"},
	{"memory_bw", offsetof(struct ty_part, memory_bw), "memory_bw: 3350GB/s"},
	{"nvlink", offsetof(struct ty_part, nvlink), "nvlink: 450GB/s"},
};

/* cage_ports of a switch or NIC: >= 1, and a switch's radix fills whole cages. */
static int need_cage(const char *file, const char *at, const struct ty_part *p, unsigned radix,
		     struct topo_error *err)
{
	char path[96];

	if (!p->cage_ports || (*p->cage_ports >= 1 && (!radix || radix % *p->cage_ports == 0)))
		return 0;
	snprintf(path, sizeof(path), "%s.cage_ports", at);
	return topo__errf(err, file, path, false,
			  "'%s': cage_ports %u %s (expected cage_ports: 1, or 2 for twin-port "
			  "OSFP cages)",
			  p->name, *p->cage_ports,
			  *p->cage_ports ? "does not divide the radix" : "must be >= 1");
}

static int need_radix(const char *file, const char *at, const struct ty_part *p,
		      struct topo_error *err)
{
	char path[96];

	if (p->radix && *p->radix >= 2)
		return need_cage(file, at, p, *p->radix, err);
	snprintf(path, sizeof(path), "%s%s", at, p->radix ? ".radix" : "");
	return topo__errf(err, file, path, false,
			  "switch '%s' needs radix >= 2 (expected radix: 64)", p->name);
}

static int need_ports(const char *file, const char *at, const struct ty_part *p,
		      struct topo_error *err)
{
	char path[96];

	if (!p->ports || *p->ports >= 1)
		return need_cage(file, at, p, 0, err);
	snprintf(path, sizeof(path), "%s.ports", at);
	return topo__errf(err, file, path, false, "NIC '%s' needs ports >= 1 (expected ports: 1)",
			  p->name);
}

/* A word of a media field: one of words[], else an error at at.key. */
static int media_word(const char *file, const char *at, const char *key, const char *v,
		      const char *name, const char *const *words, size_t n, const char *expect,
		      struct topo_error *err)
{
	char path[96];
	size_t i;

	for (i = 0; v && i < n; i++)
		if (strcmp(v, words[i]) == 0)
			return 0;
	snprintf(path, sizeof(path), "%s%s%s", at, v ? "." : "", v ? key : "");
	if (!v)
		return topo__errf(err, file, path, false, "media '%s' needs a %s (expected %s: %s)",
				  name, key, key, expect);
	return topo__errf(err, file, path, false, "media '%s': unknown %s '%s' (expected %s: %s)",
			  name, key, v, key, expect);
}

const char *const topo__reach_classes[TOPO_REACH_COUNT] = {"rack", "row", "hall"};

static int need_media_kind(const char *file, const char *at, const struct ty_part *p,
			   struct topo_error *err)
{
	static const char *const kinds[] = {"transceiver", "dac", "aoc", "fiber"};
	static const char *const fibers[] = {"multimode", "single-mode"};
	char path[96];
	int ret;

	ret = media_word(file, at, "kind", p->kind, p->name, kinds, 4,
			 "transceiver, dac, aoc or fiber", err);
	if (!ret && p->reach_class)
		ret = media_word(file, at, "reach_class", p->reach_class, p->name,
				 topo__reach_classes, TOPO_REACH_COUNT,
				 "rack (in a rack), row (in a row) or hall (across rows)", err);
	if (!ret && p->fiber)
		ret = media_word(file, at, "fiber", p->fiber, p->name, fibers, 2,
				 "multimode or single-mode", err);
	if (ret)
		return ret;
	if (p->ports && *p->ports < 1) {
		snprintf(path, sizeof(path), "%s.ports", at);
		return topo__errf(err, file, path, false,
				  "media '%s' carries ports: 0 links (expected ports: 1, or 2 for "
				  "a twin-port module or cable)",
				  p->name);
	}
	if (p->cable && strcmp(p->kind, "transceiver")) {
		snprintf(path, sizeof(path), "%s.cable", at);
		return topo__errf(err, file, path, true,
				  "media '%s': only a transceiver names a fiber cable (expected no "
				  "cable: for kind %s)",
				  p->name, p->kind);
	}
	return 0;
}

static int need_tflops(const char *file, const char *at, const struct ty_part *p,
		       struct topo_error *err)
{
	if (p->bf16_tflops)
		return 0; /* > 0 is checked with the other numbers */
	return topo__errf(err, file, at, false,
			  "GPU '%s' needs bf16_tflops > 0 (expected bf16_tflops: 989)", p->name);
}

/* What each kind must have, beyond the checks every part gets. */
static int (*const kind_checks[TOPO_PART_KIND_COUNT])(const char *, const char *,
						      const struct ty_part *,
						      struct topo_error *) = {
	[TOPO_PART_SWITCH] = need_radix,
	[TOPO_PART_NIC] = need_ports,
	[TOPO_PART_MEDIA] = need_media_kind,
	[TOPO_PART_GPU] = need_tflops,
};

/* Part i of a file: no field of another kind, its kind's fields, then every number and rate. */
static int check_part(const char *file, unsigned i, enum topo__part_kind kind,
		      const struct ty_part *p, struct topo_error *err)
{
	char at[32], path[96];
	size_t j;
	double v;
	int ret;

	snprintf(at, sizeof(at), "parts[%u]", i);
	ret = check_kind_fields(file, at, kind, p, err);
	if (ret)
		return ret;
	ret = kind_checks[kind](file, at, p, err);
	if (ret)
		return ret;
	for (j = 0; j < sizeof(num_fields) / sizeof(num_fields[0]); j++) {
		const struct num_field *f = &num_fields[j];
		const double *x = *(double *const *)((const char *)p + f->off);

		if (!x || (isfinite(*x) && (f->positive ? *x > 0 : *x >= 0)))
			continue;
		snprintf(path, sizeof(path), "%s.%s", at, f->key);
		return topo__errf(err, file, path, false,
				  "part '%s': %s must be %s, got %g (expected e.g. %s)", p->name,
				  f->key, f->positive ? "> 0" : ">= 0", *x, f->example);
	}
	for (j = 0; j < sizeof(rate_fields) / sizeof(rate_fields[0]); j++) {
		const struct rate_field *f = &rate_fields[j];
		const char *x = *(char *const *)((const char *)p + f->off);

		if (!x)
			continue;
		snprintf(path, sizeof(path), "%s.%s", at, f->key);
		if (topo__parse_rate(x, &v))
			return topo__errf(
				err, file, path, false,
				"part '%s': '%s' is not a rate with a unit (expected e.g. "
				"%s)",
				p->name, x, f->example);
		if (!(v > 0))
			return topo__errf(err, file, path, false,
					  "part '%s': %s must be > 0, got '%s' (expected e.g. %s)",
					  p->name, f->key, x, f->example);
	}
	if (p->fit && p->mtbf_hours) {
		snprintf(path, sizeof(path), "%s.mtbf_hours", at);
		return topo__errf(err, file, path, true,
				  "part '%s' gives both fit and mtbf_hours (expected one failure "
				  "rate: fit: 200 or mtbf_hours: 500000)",
				  p->name);
	}
	return 0;
}

/* A name given twice in one file: the later one is the error. */
static int check_unique(const char *file, const struct ty_parts *ps, struct topo_error *err)
{
	unsigned i, j, line = 0, col = 0;
	char path[64];

	for (i = 1; i < ps->parts_count; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(ps->parts[i].name, ps->parts[j].name))
				continue;
			snprintf(path, sizeof(path), "parts[%u].name", j);
			topo__locate(file, path, false, &line, &col);
			snprintf(path, sizeof(path), "parts[%u].name", i);
			return topo__errf(err, file, path, false,
					  "duplicate part name '%s', first at line %u (expected "
					  "every name once in a catalog file)",
					  ps->parts[i].name, line);
		}
	}
	return 0;
}

/* A transceiver's cable: names a part of kind fiber in the same file. */
static int check_cables(const char *file, const struct ty_parts *ps, struct topo_error *err)
{
	char path[64], names[300];
	unsigned i, j;
	size_t n;

	for (i = 0; i < ps->parts_count; i++) {
		const struct ty_part *p = &ps->parts[i];

		if (!p->cable)
			continue;
		for (j = 0; j < ps->parts_count; j++)
			if (strcmp(ps->parts[j].name, p->cable) == 0 &&
			    strcmp(ps->parts[j].kind, "fiber") == 0)
				break;
		if (j < ps->parts_count)
			continue;
		names[0] = 0;
		for (j = 0, n = 0; j < ps->parts_count && n < sizeof(names); j++)
			if (strcmp(ps->parts[j].kind, "fiber") == 0)
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
						      n ? ", " : "", ps->parts[j].name);
		snprintf(path, sizeof(path), "parts[%u].cable", i);
		return topo__errf(
			err, file, path, false,
			"transceiver '%s': cable '%s' is not a part of kind fiber in this "
			"file (expected one of: %s)",
			p->name, p->cable, names[0] ? names : "(none: add one with kind: fiber)");
	}
	return 0;
}

/* A catalog file: what its keys expect is said as for topology files. */
static const struct topo_yaml_doc parts_doc = {
	.schema = &parts_schema,
	.forms = topo__forms,
	.what = NULL,
	.top_form = "a mapping with parts: (a list of parts), see configs/README.md",
};

int topo__catalog_load(const char *dir, struct topo__catalog **out, struct topo_error *err)
{
	struct topo__catalog *c = calloc(1, sizeof(*c));
	char path[700];
	int k, ret;
	unsigned i;

	if (!c)
		return -ENOMEM;
	for (k = 0; k < TOPO_PART_KIND_COUNT; k++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		if (stat(path, &st))
			continue; /* a missing file is an empty list */
		ret = topo_yaml_load(path, &parts_doc, (void **)&c->kinds[k], err);
		if (ret)
			goto err_free_catalog;
		for (i = 0; c->kinds[k] && i < c->kinds[k]->parts_count; i++) {
			ret = check_part(path, i, (enum topo__part_kind)k, &c->kinds[k]->parts[i],
					 err);
			if (ret)
				goto err_free_catalog;
		}
		ret = c->kinds[k] ? check_unique(path, c->kinds[k], err) : 0;
		if (!ret && c->kinds[k] && k == TOPO_PART_MEDIA)
			ret = check_cables(path, c->kinds[k], err);
		if (ret)
			goto err_free_catalog;
	}
	*out = c;
	return 0;
err_free_catalog:
	topo__catalog_free(c);
	return ret;
}

void topo__catalog_free(struct topo__catalog *c)
{
	int k;

	if (!c)
		return;
	for (k = 0; k < TOPO_PART_KIND_COUNT; k++)
		topo_yaml_free(&parts_doc, c->kinds[k]);
	free(c);
}

/* ---- lookups ------------------------------------------------------------------------------ */

int topo__catalog_find(const struct topo__catalog *c, enum topo__part_kind kind, const char *name)
{
	unsigned i;

	if (!c || !c->kinds[kind])
		return -1;
	for (i = 0; i < c->kinds[kind]->parts_count; i++)
		if (strcmp(c->kinds[kind]->parts[i].name, name) == 0)
			return (int)i;
	return -1;
}

void topo__catalog_names(const struct topo__catalog *c, enum topo__part_kind kind, char *buf,
			 size_t len)
{
	size_t n = 0;
	unsigned i;

	buf[0] = 0;
	if (!c || !c->kinds[kind] || !c->kinds[kind]->parts_count) {
		snprintf(buf, len, "(none in the catalog)");
		return;
	}
	for (i = 0; i < c->kinds[kind]->parts_count && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      c->kinds[kind]->parts[i].name);
}

/* Figures of one part for the bill of materials; see topo.h. */
int topo__catalog_part(const struct topo__catalog *c, enum topo__part_kind kind, int idx,
		       struct topo_part *out)
{
	const struct ty_part *p;

	memset(out, 0, sizeof(*out));
	if (!c || idx < 0 || !c->kinds[kind] || (unsigned)idx >= c->kinds[kind]->parts_count)
		return -ENOENT;
	p = &c->kinds[kind]->parts[idx];
	out->name = p->name;
	out->kind = p->kind ? p->kind : "";
	out->radix = p->radix ? *p->radix : 0;
	if (p->speed)
		topo__parse_rate(p->speed, &out->speed);
	out->price_usd = p->price_usd ? *p->price_usd : 0;
	out->watts = p->watts ? *p->watts : (p->tdp_w ? *p->tdp_w : 0);
	out->fit =
		p->fit ? *p->fit : (p->mtbf_hours && *p->mtbf_hours > 0 ? 1e9 / *p->mtbf_hours : 0);
	out->reach_m = p->reach_m ? *p->reach_m : 0;
	out->bf16_tflops = p->bf16_tflops ? *p->bf16_tflops : 0;
	out->fp8_tflops = p->fp8_tflops ? *p->fp8_tflops : 0;
	out->nvlink_domain = p->nvlink_domain ? *p->nvlink_domain : 0;
	if (p->memory_bw)
		topo__parse_rate(p->memory_bw, &out->memory_bw);
	if (p->nvlink)
		topo__parse_rate(p->nvlink, &out->nvlink_bw);
	out->memory_gb = p->memory_gb ? *p->memory_gb : 0;
	out->per_link = strcmp(out->kind, "transceiver") == 0 ? 2 : 1;
	out->ports = p->ports ? *p->ports : 1;
	out->cage_ports = p->cage_ports ? *p->cage_ports : 1;
	out->reach_class = p->reach_class ? p->reach_class : "";
	out->fiber = p->fiber ? p->fiber : "";
	out->cable = p->cable ? topo__catalog_find(c, kind, p->cable) : -1;
	return 0;
}
