/*
 * calib.c - calibration files (configs/README.md, "Calibration files"): the link figures per
 * class, the reduction cost and the per-algorithm corrections a fit produced, with where they
 * came from.  plan_calib_load() reads one with libcyaml and reports errors the way topology
 * files do: "file:line:column: path: message (expected FORM)" (topo_yaml_load); plan_calib_write()
 * writes a file that loads back to the same figures.  Also plan_class_names.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "planner/internal.h"
#include "planner/yamlerr.h"

#define CALIB_SCHEMA 1

const char *const plan_class_names[PLAN_C_COUNT] = {"shm", "intra", "net"};

/* ---- defaults and lookup --------------------------------------------------------------------- */

void plan_calib_defaults(struct plan_calib *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < PLAN_C_COUNT; i++)
		c->link[i].efficiency = 1;
	c->link[PLAN_C_SHM].rate = 10e9;
}

const struct plan_algo_fit *plan_calib_algo(const struct plan_calib *c, const char *algo, int cls)
{
	unsigned i;

	if (!c || !algo)
		return NULL;
	for (i = 0; i < c->n_algo; i++)
		if (c->algo[i].cls == cls && strcmp(c->algo[i].name, algo) == 0)
			return &c->algo[i];
	return NULL;
}

/* ---- schema ---------------------------------------------------------------------------------- */

struct cy_cov {
	double min_bytes, max_bytes, min_rate, max_rate;
};

struct cy_link {
	double alpha_us, efficiency;
	double *rate; /* GB/s, shm only */
	struct cy_cov *coverage;
	double rms_residual;
	unsigned points;
};

struct cy_links {
	struct cy_link *cls[PLAN_C_COUNT];
};

struct cy_algo {
	char *name;
	int cls;
	double scale, overhead_us, rms_residual;
	unsigned points;
};

struct cy_prov {
	char **sources;
	unsigned sources_count;
	char *hosts, *date, *arbench_version;
};

struct cy_top {
	unsigned version;
	struct cy_prov *provenance;
	struct cy_links *links;
	double gamma_ns_per_byte;
	struct cy_algo *algorithms;
	unsigned algorithms_count;
};

#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
#define STR(key, flags, type, member)                                                              \
	CYAML_FIELD_STRING_PTR(key, flags, type, member, 0, CYAML_UNLIMITED)

static const cyaml_schema_field_t cov_fields[] = {
	CYAML_FIELD_FLOAT("min_bytes", CYAML_FLAG_DEFAULT, struct cy_cov, min_bytes),
	CYAML_FIELD_FLOAT("max_bytes", CYAML_FLAG_DEFAULT, struct cy_cov, max_bytes),
	CYAML_FIELD_FLOAT("min_rate_GB_per_s", CYAML_FLAG_DEFAULT, struct cy_cov, min_rate),
	CYAML_FIELD_FLOAT("max_rate_GB_per_s", CYAML_FLAG_DEFAULT, struct cy_cov, max_rate),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t link_fields[] = {
	CYAML_FIELD_FLOAT("alpha_us", CYAML_FLAG_DEFAULT, struct cy_link, alpha_us),
	CYAML_FIELD_FLOAT("efficiency", CYAML_FLAG_DEFAULT, struct cy_link, efficiency),
	CYAML_FIELD_FLOAT_PTR("rate_GB_per_s", OPT, struct cy_link, rate),
	CYAML_FIELD_MAPPING_PTR("coverage", OPT, struct cy_link, coverage, cov_fields),
	CYAML_FIELD_FLOAT("rms_residual", CYAML_FLAG_OPTIONAL, struct cy_link, rms_residual),
	CYAML_FIELD_UINT("points", CYAML_FLAG_OPTIONAL, struct cy_link, points),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t links_fields[] = {
	CYAML_FIELD_MAPPING_PTR("shm", OPT, struct cy_links, cls[PLAN_C_SHM], link_fields),
	CYAML_FIELD_MAPPING_PTR("intra", OPT, struct cy_links, cls[PLAN_C_INTRA], link_fields),
	CYAML_FIELD_MAPPING_PTR("net", OPT, struct cy_links, cls[PLAN_C_NET], link_fields),
	CYAML_FIELD_END,
};

/* An algorithm's correction is fitted per kind of call: within one host or across nodes. */
static const cyaml_strval_t algo_class_strings[] = {
	{"shm", PLAN_C_SHM},
	{"intra", PLAN_C_INTRA},
	{"net", PLAN_C_NET},
};

static const cyaml_schema_field_t algo_fields[] = {
	STR("name", CYAML_FLAG_POINTER, struct cy_algo, name),
	CYAML_FIELD_ENUM("class", CYAML_FLAG_STRICT, struct cy_algo, cls, algo_class_strings,
			 CYAML_ARRAY_LEN(algo_class_strings)),
	CYAML_FIELD_FLOAT("scale", CYAML_FLAG_DEFAULT, struct cy_algo, scale),
	CYAML_FIELD_FLOAT("overhead_us", CYAML_FLAG_DEFAULT, struct cy_algo, overhead_us),
	CYAML_FIELD_FLOAT("rms_residual", CYAML_FLAG_OPTIONAL, struct cy_algo, rms_residual),
	CYAML_FIELD_UINT("points", CYAML_FLAG_OPTIONAL, struct cy_algo, points),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t algo_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct cy_algo, algo_fields),
};

static const cyaml_schema_value_t source_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t prov_fields[] = {
	CYAML_FIELD_SEQUENCE("sources", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_prov,
			     sources, &source_entry, 0, PLAN_MAX_SOURCES),
	STR("hosts", OPT, struct cy_prov, hosts),
	STR("date", OPT, struct cy_prov, date),
	STR("arbench_version", OPT, struct cy_prov, arbench_version),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t top_fields[] = {
	CYAML_FIELD_UINT("version", CYAML_FLAG_DEFAULT, struct cy_top, version),
	CYAML_FIELD_MAPPING_PTR("provenance", OPT, struct cy_top, provenance, prov_fields),
	CYAML_FIELD_MAPPING_PTR("links", CYAML_FLAG_POINTER, struct cy_top, links, links_fields),
	CYAML_FIELD_FLOAT("gamma_ns_per_byte", CYAML_FLAG_OPTIONAL, struct cy_top,
			  gamma_ns_per_byte),
	CYAML_FIELD_SEQUENCE("algorithms", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_top,
			     algorithms, &algo_entry, 0, PLAN_MAX_ALGOS),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct cy_top, top_fields),
};

/* What each key expects, for error messages. */
static const struct topo_yaml_form forms[] = {
	{"version", "version: 1"},
	{"provenance", "a mapping of sources, hosts, date, arbench_version"},
	{"sources", "a list of results files, at most 16, e.g. sources: [run1.json]"},
	{"hosts", "host names, comma separated, e.g. hosts: \"h1,h2\""},
	{"date", "a UTC date, e.g. date: \"2026-12-03T10:00:00Z\""},
	{"arbench_version", "a version, e.g. arbench_version: \"0.1.0\""},
	{"links", "a mapping of shm, intra, net"},
	{"shm", "{alpha_us: 0.5, efficiency: 1, rate_GB_per_s: 10}"},
	{"intra", "{alpha_us: 2, efficiency: 0.9}"},
	{"net", "{alpha_us: 20, efficiency: 0.93}"},
	{"alpha_us", "a per-step latency in microseconds >= 0, e.g. alpha_us: 12.5"},
	{"efficiency", "a fraction of the nominal rate > 0, e.g. efficiency: 0.93"},
	{"rate_GB_per_s", "a rate in GB/s > 0, e.g. rate_GB_per_s: 10"},
	{"coverage", "{min_bytes: 1024, max_bytes: 67108864, min_rate_GB_per_s: 1.25, "
		     "max_rate_GB_per_s: 12.5}"},
	{"min_bytes", "a size in bytes >= 0, e.g. min_bytes: 1024"},
	{"max_bytes", "a size in bytes >= min_bytes, e.g. max_bytes: 67108864"},
	{"min_rate_GB_per_s", "a rate in GB/s >= 0, e.g. min_rate_GB_per_s: 1.25"},
	{"max_rate_GB_per_s", "a rate in GB/s >= min_rate_GB_per_s, e.g. max_rate_GB_per_s: 12.5"},
	{"rms_residual", "a fraction >= 0, e.g. rms_residual: 0.04"},
	{"points", "a whole number of measurements, e.g. points: 24"},
	{"gamma_ns_per_byte", "a reduction cost in ns per byte >= 0, e.g. gamma_ns_per_byte: 0.15"},
	{"algorithms",
	 "a list of at most 16 {name, class, scale, overhead_us, rms_residual, points}"},
	{"name", "an algorithm name of at most 15 characters, e.g. name: ring"},
	{"class", "shm (calls within one host), net (calls across nodes) or intra, e.g. class: "
		  "net"},
	{"scale", "a factor > 0, e.g. scale: 1.05"},
	{"overhead_us", "a time in microseconds, e.g. overhead_us: 3.5"},
	{NULL, NULL},
};

static const struct topo_yaml_doc doc = {
	.schema = &top_schema,
	.forms = forms,
	.what = "a calibration YAML file",
	.top_form = "a mapping with version: and links:, see configs/README.md",
};

/* ---- semantic checks ------------------------------------------------------------------------- */

/* value at path must be finite and >= min (> min when strict). */
static int check(const char *file, const char *path, double v, double min, bool strict,
		 struct topo_error *err)
{
	return plan_ycheck(&doc, file, path, v, min, strict, err);
}

static int copy_str(const char *file, const char *path, const char *s, char *dst, size_t len,
		    struct topo_error *err)
{
	const char *form = topo_yaml_form_of(&doc, path);

	if (!s)
		return 0;
	if (strlen(s) >= len)
		return topo_yaml_errf(err, file, path, false,
				      "longer than %zu characters (expected %s)", len - 1,
				      form ? form : "a shorter value");
	snprintf(dst, len, "%s", s);
	return 0;
}

static int convert_link(const char *file, int cls, const struct cy_link *y, struct plan_link_fit *f,
			struct topo_error *err)
{
	char p[64], q[96];
	int ret;

	snprintf(p, sizeof(p), "links.%s", plan_class_names[cls]);
#define CHECK(field, v, min, strict)                                                               \
	do {                                                                                       \
		snprintf(q, sizeof(q), "%s.%s", p, field);                                         \
		ret = check(file, q, v, min, strict, err);                                         \
		if (ret)                                                                           \
			return ret;                                                                \
	} while (0)
	CHECK("alpha_us", y->alpha_us, 0, false);
	CHECK("efficiency", y->efficiency, 0, true);
	CHECK("rms_residual", y->rms_residual, 0, false);
	f->set = true;
	f->alpha_s = y->alpha_us * 1e-6;
	f->efficiency = y->efficiency;
	f->rms_rel_residual = y->rms_residual;
	f->points = y->points;
	if (cls == PLAN_C_SHM) {
		if (!y->rate)
			return topo_yaml_errf(
				err, file, p, false,
				"missing required field 'rate_GB_per_s' (expected the memory "
				"path's rate, e.g. rate_GB_per_s: 10)");
		CHECK("rate_GB_per_s", *y->rate, 0, true);
		f->rate = *y->rate * 1e9;
	} else if (y->rate) {
		snprintf(q, sizeof(q), "%s.rate_GB_per_s", p);
		return topo_yaml_errf(
			err, file, q, true,
			"only shm takes a rate (expected no rate_GB_per_s here: intra and net "
			"rates come from the topology)");
	}
	if (y->coverage) {
		const struct cy_cov *c = y->coverage;

		snprintf(p, sizeof(p), "links.%s.coverage", plan_class_names[cls]);
		CHECK("min_bytes", c->min_bytes, 0, false);
		CHECK("max_bytes", c->max_bytes, c->min_bytes, false);
		CHECK("min_rate_GB_per_s", c->min_rate, 0, false);
		CHECK("max_rate_GB_per_s", c->max_rate, c->min_rate, false);
		f->min_bytes = c->min_bytes;
		f->max_bytes = c->max_bytes;
		f->min_rate = c->min_rate * 1e9;
		f->max_rate = c->max_rate * 1e9;
	}
#undef CHECK
	return 0;
}

static int convert(const char *file, const struct cy_top *y, struct plan_calib *c,
		   struct topo_error *err)
{
	char q[96];
	unsigned i, j;
	int ret, k;

	plan_calib_defaults(c);
	if (y->version != CALIB_SCHEMA)
		return topo_yaml_errf(
			err, file, "version", false,
			y->version > CALIB_SCHEMA
				? "written by a newer arplan (calibration schema %u); this "
				  "arplan reads schema 1 (expected version: 1)"
				: "unknown calibration schema %u (expected version: 1)",
			y->version);
	for (k = 0; k < PLAN_C_COUNT; k++) {
		if (!y->links->cls[k])
			continue;
		ret = convert_link(file, k, y->links->cls[k], &c->link[k], err);
		if (ret)
			return ret;
	}
	ret = check(file, "gamma_ns_per_byte", y->gamma_ns_per_byte, 0, false, err);
	if (ret)
		return ret;
	c->gamma_s_per_byte = y->gamma_ns_per_byte * 1e-9;
	for (i = 0; i < y->algorithms_count; i++) {
		const struct cy_algo *a = &y->algorithms[i];

		snprintf(q, sizeof(q), "algorithms[%u].name", i);
		ret = copy_str(file, q, a->name, c->algo[i].name, sizeof(c->algo[i].name), err);
		if (ret)
			return ret;
		for (j = 0; j < i; j++)
			if (c->algo[j].cls == a->cls && strcmp(c->algo[j].name, a->name) == 0)
				return topo_yaml_errf(
					err, file, q, false,
					"algorithm '%s' given twice for class %s (expected each "
					"name once per class)",
					a->name, plan_class_names[a->cls]);
		c->algo[i].cls = a->cls;
		snprintf(q, sizeof(q), "algorithms[%u].scale", i);
		ret = check(file, q, a->scale, 0, true, err);
		snprintf(q, sizeof(q), "algorithms[%u].overhead_us", i);
		if (!ret)
			ret = check(file, q, a->overhead_us, -INFINITY, true, err);
		snprintf(q, sizeof(q), "algorithms[%u].rms_residual", i);
		if (!ret)
			ret = check(file, q, a->rms_residual, 0, false, err);
		if (ret)
			return ret;
		c->algo[i].scale = a->scale;
		c->algo[i].overhead_s = a->overhead_us * 1e-6;
		c->algo[i].rms_rel_residual = a->rms_residual;
		c->algo[i].points = a->points;
	}
	c->n_algo = y->algorithms_count;
	if (!y->provenance)
		return 0;
	for (i = 0; i < y->provenance->sources_count; i++) {
		snprintf(q, sizeof(q), "provenance.sources[%u]", i);
		ret = copy_str(file, q, y->provenance->sources[i], c->sources[i],
			       sizeof(c->sources[i]), err);
		if (ret)
			return ret;
	}
	c->n_sources = y->provenance->sources_count;
	if (y->provenance->hosts) /* may be cut, as when written */
		snprintf(c->hosts, sizeof(c->hosts), "%s", y->provenance->hosts);
	ret = copy_str(file, "provenance.date", y->provenance->date, c->date, sizeof(c->date), err);
	if (!ret)
		ret = copy_str(file, "provenance.arbench_version", y->provenance->arbench_version,
			       c->arbench_version, sizeof(c->arbench_version), err);
	return ret;
}

int plan_calib_load(const char *path, struct plan_calib *out, struct topo_error *err)
{
	struct cy_top *y = NULL;
	struct stat st;
	int ret;

	plan_calib_defaults(out);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return topo_yaml_errf(err, path, "", false,
				      "not a regular file (expected a calibration YAML file)");
	ret = topo_yaml_load(path, &doc, (void **)&y, err);
	if (ret)
		return ret;
	if (!y)
		return topo_yaml_errf(
			err, path, "", false,
			"the file holds no YAML document (expected a mapping with version: 1 "
			"and links:, see configs/README.md)");
	ret = convert(path, y, out, err);
	topo_yaml_free(&doc, y);
	if (ret)
		plan_calib_defaults(out);
	return ret;
}

/* ---- writing --------------------------------------------------------------------------------- */

/* A double-quoted YAML string. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static const char *const class_what[PLAN_C_COUNT] = {
	"shared memory between the ranks of one host",
	"a node's GPU links (NVLink, PCIe), rates from the topology",
	"the network through NICs, rates from the topology",
};

int plan_calib_write(const struct plan_calib *c, FILE *f)
{
	unsigned i;
	int k;

	fprintf(f,
		"# arplan calibration (configs/README.md, \"Calibration files\").\n"
		"# A step moving m bytes over a path of one class takes\n"
		"#   alpha + m / (rate x efficiency)\n"
		"# (rate: the path's share of its links, from the topology; shm's from here);\n"
		"# reducing m bytes takes gamma x m; an algorithm's call takes\n"
		"#   overhead + scale x (the model's time),\n"
		"# scale and overhead fitted per class of call: shm within one host, net across\n"
		"# nodes.\n"
		"# coverage: the sizes (bytes per call) and link rates the fit saw; predictions\n"
		"# outside them are flagged.  rms_residual: the fit's relative RMS error.\n"
		"version: %d\n"
		"provenance:\n"
		"  sources: [",
		CALIB_SCHEMA);
	for (i = 0; i < c->n_sources; i++) {
		fputs(i ? ", " : "", f);
		put_str(f, c->sources[i]);
	}
	fputs("]\n  hosts: ", f);
	put_str(f, c->hosts);
	fputs("\n  date: ", f);
	put_str(f, c->date);
	fputs("\n  arbench_version: ", f);
	put_str(f, c->arbench_version);
	fputs("\nlinks:", f);
	for (k = 0; k < PLAN_C_COUNT && !c->link[k].set; k++)
		;
	fputs(k == PLAN_C_COUNT ? " {}   # nothing fitted: the defaults\n" : "\n", f);
	for (k = 0; k < PLAN_C_COUNT; k++) {
		const struct plan_link_fit *l = &c->link[k];

		if (!l->set)
			continue;
		fprintf(f,
			"  %s:   # %s\n"
			"    alpha_us: %.12g\n"
			"    efficiency: %.12g\n",
			plan_class_names[k], class_what[k], l->alpha_s * 1e6, l->efficiency);
		if (k == PLAN_C_SHM)
			fprintf(f, "    rate_GB_per_s: %.12g\n", l->rate / 1e9);
		fprintf(f,
			"    coverage: {min_bytes: %.12g, max_bytes: %.12g, min_rate_GB_per_s: "
			"%.12g, max_rate_GB_per_s: %.12g}\n"
			"    rms_residual: %.12g\n"
			"    points: %u\n",
			l->min_bytes, l->max_bytes, l->min_rate / 1e9, l->max_rate / 1e9,
			l->rms_rel_residual, l->points);
	}
	fprintf(f, "gamma_ns_per_byte: %.12g   # reduction cost per byte reduced\n",
		c->gamma_s_per_byte * 1e9);
	fputs("algorithms:", f);
	if (!c->n_algo)
		fputs(" []", f);
	fputc('\n', f);
	for (i = 0; i < c->n_algo; i++) {
		const struct plan_algo_fit *a = &c->algo[i];

		if (a->cls < 0 || a->cls >= PLAN_C_COUNT)
			return -EINVAL; /* not a class: the caller's bug, not the file's */

		fputs("  - {name: ", f);
		put_str(f, a->name);
		fprintf(f, ", class: %s", plan_class_names[a->cls]);
		fprintf(f, ", scale: %.12g, overhead_us: %.12g, rms_residual: %.12g, points: %u}\n",
			a->scale, a->overhead_s * 1e6, a->rms_rel_residual, a->points);
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}

/* What a failed load of a planner input returns, after one line on err. */
static int load_failed(int ret, struct topo_error *te, FILE *err)
{
	char msg[1200];

	if (ret == -ENOMEM) {
		fprintf(err, "arplan: out of memory\n");
		return PLAN_EXIT_INTERNAL;
	}
	topo_error_format(te, msg, sizeof(msg));
	fprintf(err, "%s\n", msg);
	return PLAN_EXIT_USAGE;
}

int plan_load_topology(const char *path, struct topo_desc **d, struct topo_graph **g, FILE *err)
{
	struct topo_error te;
	int ret = topo_load(path, d, &te);

	if (!ret)
		ret = topo_expand(*d, g, &te);
	return ret ? load_failed(ret, &te, err) : PLAN_EXIT_OK;
}

int plan_load_calib(const char *path, struct plan_calib *c, FILE *err)
{
	struct topo_error te;
	int ret = plan_calib_load(path, c, &te);

	return ret ? load_failed(ret, &te, err) : PLAN_EXIT_OK;
}
