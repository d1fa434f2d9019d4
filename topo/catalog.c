/*
 * catalog.c - part catalogs (configs/catalog/ (one YAML file per kind)): switches, NICs,
 * transceivers and cables
 * ("media"), GPUs.  Loaded with libcyaml; every file holds one list of parts with the same
 * fields, and each kind checks the fields it needs.  Topology files name parts; the bill of
 * materials counts them.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "topo/internal.h"

struct ty_part {
	char *name;
	char *kind;	 /* media: transceiver, dac, aoc */
	unsigned *radix; /* switch ports */
	unsigned *ports; /* NIC ports */
	char *speed;	 /* port speed */
	double *reach_m;
	double *price_usd;
	double *watts;
	double *fit; /* failures per 1e9 hours */
	double *mtbf_hours;
	double *bf16_tflops;
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
	STR("speed", OPT, speed),
	NUM("reach_m", reach_m),
	NUM("price_usd", price_usd),
	NUM("watts", watts),
	NUM("fit", fit),
	NUM("mtbf_hours", mtbf_hours),
	NUM("bf16_tflops", bf16_tflops),
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

static const cyaml_config_t cy_cfg = {
	.log_fn = NULL,
	.mem_fn = cyaml_mem,
	.log_level = CYAML_LOG_ERROR,
};

/* The fields each kind must have. */
static int check_part(const char *file, unsigned i, enum topo__part_kind kind,
		      const struct ty_part *p, struct topo_error *err)
{
	char path[64];
	double v;

	snprintf(path, sizeof(path), "parts[%u]", i);
	switch (kind) {
	case TOPO_PART_SWITCH:
		if (!p->radix || *p->radix < 2)
			return topo__errf(err, file, path, false,
					  "switch '%s' needs radix >= 2 (expected radix: 64)",
					  p->name);
		break;
	case TOPO_PART_GPU:
		if (!p->bf16_tflops || *p->bf16_tflops <= 0)
			return topo__errf(err, file, path, false,
					  "GPU '%s' needs bf16_tflops > 0 (expected bf16_tflops: "
					  "989)",
					  p->name);
		break;
	case TOPO_PART_MEDIA:
		if (!p->kind || (strcmp(p->kind, "transceiver") && strcmp(p->kind, "dac") &&
				 strcmp(p->kind, "aoc"))) {
			snprintf(path, sizeof(path), "parts[%u]%s", i, p->kind ? ".kind" : "");
			return topo__errf(
				err, file, path, false,
				"media '%s' needs a kind (expected kind: transceiver, dac "
				"or aoc)",
				p->name);
		}
		break;
	default:
		break;
	}
	if (p->speed && topo__parse_rate(p->speed, &v)) {
		snprintf(path, sizeof(path), "parts[%u].speed", i);
		return topo__errf(err, file, path, false,
				  "'%s' is not a rate with a unit (expected e.g. 400Gbit)",
				  p->speed);
	}
	return 0;
}

int topo__catalog_load(const char *dir, struct topo__catalog **out, struct topo_error *err)
{
	struct topo__catalog *c = calloc(1, sizeof(*c));
	cyaml_config_t cfg = cy_cfg;
	char path[700];
	int k, ret;
	unsigned i;

	if (!c)
		return -ENOMEM;
	cfg.log_fn = topo__cy_log;
	for (k = 0; k < TOPO_PART_KIND_COUNT; k++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		if (stat(path, &st))
			continue; /* a missing file is an empty list */
		struct topo__cylog log;
		cyaml_err_t ce;

		memset(&log, 0, sizeof(log));
		cfg.log_ctx = &log;
		ce = cyaml_load_file(path, &cfg, &parts_schema, (cyaml_data_t **)&c->kinds[k],
				     NULL);
		if (ce != CYAML_OK) {
			ret = ce == CYAML_ERR_OOM
				      ? -ENOMEM
				      : topo__cy_error(path, &log, ce, parts_fields, err);
			goto err_free_catalog;
		}
		for (i = 0; c->kinds[k] && i < c->kinds[k]->parts_count; i++) {
			ret = check_part(path, i, (enum topo__part_kind)k, &c->kinds[k]->parts[i],
					 err);
			if (ret)
				goto err_free_catalog;
		}
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
		if (c->kinds[k])
			cyaml_free(&cy_cfg, &parts_schema, c->kinds[k], 0);
	free(c);
}

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
	if (p->memory_bw)
		topo__parse_rate(p->memory_bw, &out->memory_bw);
	if (p->nvlink)
		topo__parse_rate(p->nvlink, &out->nvlink_bw);
	out->memory_gb = p->memory_gb ? *p->memory_gb : 0;
	out->per_link = strcmp(out->kind, "transceiver") == 0 ? 2 : 1;
	return 0;
}
