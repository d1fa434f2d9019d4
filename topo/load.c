/*
 * load.c - topo_load(): read a topology YAML file with libcyaml into the ty_* structs, turn
 * libcyaml's errors into "file:line:column: message (expected ...)", then check every value that
 * the schema cannot (units, ranges, names that must exist) and resolve it into a topo_desc.
 * The YAML language is documented in configs/README.md.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/internal.h"

/* ---- schema ------------------------------------------------------------------------------ */

#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
#define REQ CYAML_FLAG_POINTER
#define STR(key, flags, type, member)                                                              \
	CYAML_FIELD_STRING_PTR(key, flags, type, member, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t uint_entry = {CYAML_VALUE_UINT(CYAML_FLAG_DEFAULT, unsigned)};
static const cyaml_schema_value_t float_entry = {CYAML_VALUE_FLOAT(CYAML_FLAG_DEFAULT, double)};

static const cyaml_strval_t family_strings[] = {
	{"explicit", TOPO_F_EXPLICIT},	 {"single-switch", TOPO_F_SINGLE_SWITCH},
	{"fat-tree", TOPO_F_FAT_TREE},	 {"rail-optimized", TOPO_F_RAIL_OPTIMIZED},
	{"rail-only", TOPO_F_RAIL_ONLY}, {"torus", TOPO_F_TORUS},
	{"dragonfly", TOPO_F_DRAGONFLY},
};
static const cyaml_strval_t placement_strings[] = {
	{"node", TOPO_P_NODE},
	{"rail", TOPO_P_RAIL},
};

static const cyaml_schema_field_t class_fields[] = {
	STR("rate", OPT, struct ty_class, rate),
	STR("latency", OPT, struct ty_class, latency),
	STR("media", OPT, struct ty_class, media),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t nics_fields[] = {
	CYAML_FIELD_UINT_PTR("count", OPT, struct ty_nics, count),
	STR("speed", OPT, struct ty_nics, speed),
	CYAML_FIELD_SEQUENCE("rails", OPT, struct ty_nics, rails, &uint_entry, 0, TOPO_MAX_NICS),
	STR("model", OPT, struct ty_nics, model),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t intra_fields[] = {
	STR("nvlink", OPT, struct ty_intra, nvlink),
	CYAML_FIELD_UINT_PTR("pcie_gen", OPT, struct ty_intra, pcie_gen),
	CYAML_FIELD_UINT_PTR("pcie_width", OPT, struct ty_intra, pcie_width),
	STR("shm", OPT, struct ty_intra, shm),
	STR("latency", OPT, struct ty_intra, latency),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t node_type_fields[] = {
	STR("name", REQ, struct ty_node_type, name),
	CYAML_FIELD_UINT_PTR("gpus", OPT, struct ty_node_type, gpus),
	STR("gpu_model", OPT, struct ty_node_type, gpu_model),
	CYAML_FIELD_MAPPING_PTR("intra", OPT, struct ty_node_type, intra, intra_fields),
	CYAML_FIELD_MAPPING_PTR("nics", OPT, struct ty_node_type, nics, nics_fields),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t node_type_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct ty_node_type, node_type_fields),
};

static const cyaml_schema_field_t fabric_fields[] = {
	CYAML_FIELD_ENUM("family", CYAML_FLAG_STRICT, struct ty_fabric, family, family_strings,
			 CYAML_ARRAY_LEN(family_strings)),
	STR("node_type", OPT, struct ty_fabric, node_type),
	CYAML_FIELD_UINT_PTR("nodes", OPT, struct ty_fabric, nodes),
	CYAML_FIELD_UINT_PTR("tiers", OPT, struct ty_fabric, tiers),
	CYAML_FIELD_UINT_PTR("radix", OPT, struct ty_fabric, radix),
	STR("switch", OPT, struct ty_fabric, switch_model),
	CYAML_FIELD_SEQUENCE("oversubscription", OPT, struct ty_fabric, oversub, &float_entry, 1,
			     3),
	CYAML_FIELD_ENUM_PTR("placement", OPT | CYAML_FLAG_STRICT, struct ty_fabric, placement,
			     placement_strings, CYAML_ARRAY_LEN(placement_strings)),
	CYAML_FIELD_UINT_PTR("su_nodes", OPT, struct ty_fabric, su_nodes),
	CYAML_FIELD_UINT_PTR("sus", OPT, struct ty_fabric, sus),
	/* any length here: direct.c refuses more than TOPO__MAX_DIMS at the first one too many */
	CYAML_FIELD_SEQUENCE("dims", OPT, struct ty_fabric, dims, &uint_entry, 1, CYAML_UNLIMITED),
	CYAML_FIELD_UINT_PTR("groups", OPT, struct ty_fabric, groups),
	CYAML_FIELD_UINT_PTR("routers_per_group", OPT, struct ty_fabric, routers_per_group),
	CYAML_FIELD_UINT_PTR("global_links_per_router", OPT, struct ty_fabric,
			     global_links_per_router),
	CYAML_FIELD_UINT_PTR("nodes_per_router", OPT, struct ty_fabric, nodes_per_router),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t classes_fields[] = {
	CYAML_FIELD_MAPPING_PTR("host", OPT, struct ty_classes, host, class_fields),
	CYAML_FIELD_MAPPING_PTR("fabric", OPT, struct ty_classes, fabric, class_fields),
	CYAML_FIELD_MAPPING_PTR("tier1", OPT, struct ty_classes, tier1, class_fields),
	CYAML_FIELD_MAPPING_PTR("tier2", OPT, struct ty_classes, tier2, class_fields),
	CYAML_FIELD_MAPPING_PTR("local", OPT, struct ty_classes, local, class_fields),
	CYAML_FIELD_MAPPING_PTR("global", OPT, struct ty_classes, global, class_fields),
	CYAML_FIELD_MAPPING_PTR("torus", OPT, struct ty_classes, torus, class_fields),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t node_fields[] = {
	STR("name", REQ, struct ty_node, name),
	STR("type", OPT, struct ty_node, type),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t node_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct ty_node, node_fields),
};

static const cyaml_schema_field_t switch_fields[] = {
	STR("name", REQ, struct ty_switch, name),
	CYAML_FIELD_UINT_PTR("tier", OPT, struct ty_switch, tier),
	CYAML_FIELD_UINT_PTR("radix", OPT, struct ty_switch, radix),
	STR("model", OPT, struct ty_switch, model),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t switch_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct ty_switch, switch_fields),
};

static const cyaml_schema_field_t link_fields[] = {
	STR("a", REQ, struct ty_link, a),	  STR("b", REQ, struct ty_link, b),
	STR("rate", OPT, struct ty_link, rate),	  STR("latency", OPT, struct ty_link, latency),
	STR("media", OPT, struct ty_link, media), CYAML_FIELD_END,
};
static const cyaml_schema_value_t link_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct ty_link, link_fields),
};

static const cyaml_schema_field_t top_fields[] = {
	STR("name", REQ, struct ty_top, name),
	STR("description", OPT, struct ty_top, description),
	STR("catalog", OPT, struct ty_top, catalog),
	CYAML_FIELD_SEQUENCE("node_types", OPT, struct ty_top, node_types, &node_type_entry, 0,
			     CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("fabric", REQ, struct ty_top, fabric, fabric_fields),
	CYAML_FIELD_MAPPING_PTR("link_classes", OPT, struct ty_top, link_classes, classes_fields),
	CYAML_FIELD_SEQUENCE("nodes", OPT, struct ty_top, nodes, &node_entry, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("switches", OPT, struct ty_top, switches, &switch_entry, 0,
			     CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("links", OPT, struct ty_top, links, &link_entry, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct ty_top, top_fields),
};

/* ---- what each key expects (for error messages) -------------------------------------------- */

struct expect {
	const char *key;
	const char *form;
};

static const struct expect expects[] = {
	{"name", "a name, e.g. name: dgx-h100"},
	{"description", "a line of text"},
	{"catalog", "a directory, e.g. catalog: ../catalog"},
	{"family",
	 "one of explicit, single-switch, fat-tree, rail-optimized, rail-only, torus, dragonfly"},
	{"node_type", "the name of an entry of node_types"},
	{"type", "the name of an entry of node_types"},
	{"nodes", "a count, e.g. nodes: 128 (or, for explicit, a list of {name, type})"},
	{"tiers", "2 or 3"},
	{"radix", "a port count >= 2, e.g. radix: 64"},
	{"switch", "a switch model from the catalog, e.g. switch: QM9700"},
	{"model", "a part name from the catalog"},
	{"oversubscription", "a list of ratios >= 1 per tier from the leaves up, e.g. [2, 1]"},
	{"placement", "node (a node's NICs on one leaf) or rail (NIC i on the rail-i leaf)"},
	{"su_nodes", "nodes per scalable unit, e.g. su_nodes: 32"},
	{"sus", "a count of scalable units, e.g. sus: 4"},
	{"dims", "a list of dimension sizes, e.g. dims: [4, 4, 4]"},
	{"groups", "a group count, e.g. groups: 9"},
	{"routers_per_group", "a count, e.g. routers_per_group: 4"},
	{"global_links_per_router", "a count, e.g. global_links_per_router: 2"},
	{"nodes_per_router", "a count, e.g. nodes_per_router: 2"},
	{"gpus", "a GPU count per node, e.g. gpus: 8"},
	{"gpu_model", "a GPU from the catalog, e.g. gpu_model: H100-SXM"},
	{"count", "a NIC count per node, e.g. count: 8"},
	{"speed", "a rate with a unit, e.g. speed: 400Gbit"},
	{"rails", "one rail number per NIC, e.g. rails: [0, 1, 2, 3]"},
	{"nvlink", "a rate with a unit, e.g. nvlink: 450GB/s"},
	{"pcie_gen", "a PCIe generation 1..6, e.g. pcie_gen: 5"},
	{"pcie_width", "a lane count 1, 2, 4, 8 or 16"},
	{"shm", "a rate with a unit, e.g. shm: 20GB/s"},
	{"rate", "a rate with a unit, e.g. rate: 100Mbit, 400Gbit or 25GB/s"},
	{"latency", "a time with a unit, e.g. latency: 1us"},
	{"media", "a transceiver or cable from the catalog"},
	{"a", "a node name, NODE/NIC (e.g. h1/1) or a switch name"},
	{"b", "a node name, NODE/NIC (e.g. h1/1) or a switch name"},
	{"tier", "a switch tier, 0 for a leaf"},
	{"link_classes", "a mapping of host, fabric, tier1, tier2, local, global, torus"},
	{"host", "{rate: 400Gbit, latency: 1us}"},
	{"fabric", "a mapping with family: and its parameters"},
	{"switches", "a list of {name, tier, radix, model}"},
	{"links", "a list of {a, b, rate, latency}"},
	{"node_types", "a list of {name, gpus, intra, nics}"},
};

/* The last key of a path ("links[3].rate" -> "rate"). */
static const char *last_key(const char *path, char *buf, size_t len)
{
	const char *dot = strrchr(path, '.');
	const char *k = dot ? dot + 1 : path;
	size_t n = strcspn(k, "[");

	if (n >= len)
		n = len - 1;
	memcpy(buf, k, n);
	buf[n] = 0;
	return buf;
}

static const char *expect_of(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
		if (strcmp(expects[i].key, key) == 0)
			return expects[i].form;
	return NULL;
}

/* "(expected ...)" for a key, or "". */
static void expected_for(const char *key, char *buf, size_t len)
{
	const char *f = expect_of(key);

	if (f)
		snprintf(buf, len, " (expected %s)", f);
	else
		buf[0] = 0;
}

/* Keys a mapping at this path accepts, as "a, b, c". */
static const cyaml_schema_field_t *fields_at(const cyaml_schema_field_t *fields, const char *path)
{
	char comp[128];
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, ".[");
		const cyaml_schema_field_t *f;

		if (n == 0) { /* "[i]" or "." */
			p += strcspn(p, "]") + (p[0] == '[');
			if (*p == '.')
				p++;
			continue;
		}
		if (n >= sizeof(comp))
			return NULL;
		memcpy(comp, p, n);
		comp[n] = 0;
		p += n;
		for (f = fields; f->key; f++)
			if (strcmp(f->key, comp) == 0)
				break;
		if (!f->key)
			return NULL;
		if (f->value.type == CYAML_MAPPING)
			fields = f->value.mapping.fields;
		else if (f->value.type == CYAML_SEQUENCE &&
			 f->value.sequence.entry->type == CYAML_MAPPING)
			fields = f->value.sequence.entry->mapping.fields;
		else
			return NULL;
		if (*p == '.')
			p++;
	}
	return fields;
}

static void keys_at(const cyaml_schema_field_t *root, const char *path, char *buf, size_t len)
{
	const cyaml_schema_field_t *f = fields_at(root, path);
	size_t n = 0;

	buf[0] = 0;
	for (; f && f->key && n < len; f++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", f->key);
}

/* ---- libcyaml's log, captured --------------------------------------------------------------- */

void topo__cy_log(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct topo__cylog *l = ctx;
	char msg[512];
	size_t n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	if (strncmp(msg, "Load: Backtrace:", 16) == 0) {
		l->in_backtrace = true;
		return;
	}
	if (l->in_backtrace) {
		unsigned li, co;
		const char *par = strstr(msg, "(line: ");

		if (l->n_frames < 16 && par &&
		    sscanf(par, "(line: %u, column: %u)", &li, &co) == 2) {
			snprintf(l->frames[l->n_frames], sizeof(l->frames[0]), "%.159s", msg);
			l->line[l->n_frames] = li;
			l->col[l->n_frames] = co;
			l->n_frames++;
		}
		return;
	}
	if (!l->first[0])
		snprintf(l->first, sizeof(l->first), "%.250s",
			 strncmp(msg, "Load: ", 6) ? msg : msg + 6);
}

/* The YAML path of the backtrace, from frame `from` outwards. */
static void frames_path(const struct topo__cylog *l, int from, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = l->n_frames - 1; i >= from; i--) {
		const char *q;
		char name[128];
		unsigned idx;

		if ((q = strstr(l->frames[i], "in mapping field '")) &&
		    sscanf(q, "in mapping field '%127[^']'", name) == 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "." : "", name);
		else if ((q = strstr(l->frames[i], "in sequence entry '")) &&
			 sscanf(q, "in sequence entry '%u'", &idx) == 1)
			n += (size_t)snprintf(buf + n, len - n, "[%u]", idx ? idx - 1 : 0);
		if (n >= len)
			break;
	}
}

static bool frame_is_field(const struct topo__cylog *l, int i)
{
	return i < l->n_frames && strstr(l->frames[i], "in mapping field '") != NULL;
}

/* Turn a libcyaml failure into *err. */
int topo__cy_error(const char *file, const struct topo__cylog *l, int ce,
		   const cyaml_schema_field_t *root, struct topo_error *err)
{
	char path[512], cont[512], key[128], exp[320], keys[320], name[128];
	unsigned line, col;
	const char *what = l->first;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	if (ce == CYAML_ERR_FILE_OPEN) {
		snprintf(err->message, sizeof(err->message), "cannot open: %s", strerror(errno));
		return -EINVAL;
	}
	if (topo__syntax_error(file, &line, &col, exp, sizeof(exp)) == -EINVAL) {
		err->line = line;
		err->column = col;
		snprintf(err->message, sizeof(err->message),
			 "YAML syntax error: %.300s (expected key: value pairs, consistently "
			 "indented)",
			 exp);
		return -EINVAL;
	}
	frames_path(l, 0, path, sizeof(path));
	/* the container: the innermost field frame is stale for key errors */
	frames_path(l, frame_is_field(l, 0) ? 1 : 0, cont, sizeof(cont));

	if (sscanf(what, "Missing required mapping field: %127s", name) == 1) {
		expected_for(name, exp, sizeof(exp));
		return topo__errf(err, file, cont, false, "missing required field '%s'%s", name,
				  exp);
	}
	if (sscanf(what, "Unexpected key: %127[^\n]", name) == 1) {
		char kp[700];

		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		keys_at(root, cont, keys, sizeof(keys));
		topo__errf(err, file, kp, true, "unknown key '%s' (expected one of: %.300s)", name,
			   keys);
		/* name the mapping, not the unknown key, before the message */
		snprintf(err->message, sizeof(err->message),
			 "%.100s%sunknown key '%.60s' (expected one of: %.300s)", cont,
			 *cont ? ": " : "", name, keys);
		return -EINVAL;
	}
	if (sscanf(what, "Mapping field already seen: %127[^\n]", name) == 1) {
		char kp[700];

		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		return topo__errf(err, file, kp, true, "key '%s' given twice (expected it once)",
				  name);
	}
	/* a value of the wrong type or form */
	last_key(path, key, sizeof(key));
	expected_for(key, exp, sizeof(exp));
	if (!*path)
		snprintf(exp, sizeof(exp),
			 " (expected a mapping with name: and fabric:, see configs/README.md)");
	if (strncmp(what, "Expecting ", 10) == 0) {
		char want[32] = "";

		sscanf(what, "Expecting %31[A-Z_]", want);
		topo__errf(err, file, path, false, "wrong type: a %s is needed here%s",
			   strcmp(want, "SCALAR") == 0 ? "single value" : want, exp);
	} else if (strstr(what, "entries")) {
		topo__errf(err, file, path, false, "%s%s", what, exp);
	} else {
		static const struct {
			const char *prefix, *says;
		} forms[] = {
			{"Invalid ENUM value: ", "is not one of the allowed words"},
			{"Invalid uint64_t value: ", "is not a whole number >= 0"},
			{"Invalid UINT value: ", "is not a whole number >= 0"},
			{"Invalid INT value: ", "is not a whole number"},
			{"Invalid FLOAT value: ", "is not a number"},
		};
		size_t i;

		for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
			if (strncmp(what, forms[i].prefix, strlen(forms[i].prefix)) == 0)
				break;
		if (i < sizeof(forms) / sizeof(forms[0])) {
			char v[128];
			const char *val = what + strlen(forms[i].prefix);
			size_t n = strlen(val);

			if (n >= 2 && val[0] == '\'' && val[n - 1] == '\'')
				snprintf(v, sizeof(v), "%.*s", (int)(n - 2), val + 1);
			else
				snprintf(v, sizeof(v), "%.120s", val);
			topo__errf(err, file, path, false, "'%s' %s%s", v, forms[i].says, exp);
		} else {
			topo__errf(err, file, path, false, "invalid value: %s%s", what, exp);
		}
	}
	if (l->n_frames && err->line == 1 && err->column == 1) {
		err->line = l->line[0];
		err->column = l->col[0];
	}
	return -EINVAL;
}

int topo__badint_error(const char *file, const struct topo__badint *bad, struct topo_error *err)
{
	char key[128], exp[320];

	last_key(bad->path, key, sizeof(key));
	expected_for(key, exp, sizeof(exp));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = bad->line;
	err->column = bad->col;
	snprintf(err->message, sizeof(err->message),
		 "%.200s%s'%.100s' is not a whole number%s%.150s", bad->path,
		 *bad->path ? ": " : "", bad->value, bad->is_signed ? "" : " >= 0", exp);
	return -EINVAL;
}

/* ---- semantic checks shared by every family -------------------------------------------------- */

int topo__check_rate(struct topo_desc *d, const char *s, const char *path, double *out,
		     struct topo_error *err)
{
	char k[64], exp[200];

	expected_for(last_key(path, k, sizeof(k)), exp, sizeof(exp));
	if (topo__parse_rate(s, out))
		return topo__errf(err, d->path, path, false, "'%s' is not a rate with a unit%s", s,
				  exp);
	if (!(*out > 0))
		return topo__errf(err, d->path, path, false, "rate must be > 0, got '%s'%s", s,
				  exp);
	return 0;
}

int topo__check_time(struct topo_desc *d, const char *s, const char *path, double *out,
		     struct topo_error *err)
{
	char k[64], exp[200];

	expected_for(last_key(path, k, sizeof(k)), exp, sizeof(exp));
	if (topo__parse_time(s, out))
		return topo__errf(err, d->path, path, false, "'%s' is not a time with a unit%s", s,
				  exp);
	if (*out < 0)
		return topo__errf(err, d->path, path, false, "latency must be >= 0, got '%s'%s", s,
				  exp);
	return 0;
}

static const char *const part_kind_names[TOPO_PART_KIND_COUNT] = {"switch", "NIC",
								  "transceiver or cable", "GPU"};

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

int topo__check_part(struct topo_desc *d, enum topo__part_kind kind, const char *name,
		     const char *path, int *out, struct topo_error *err)
{
	char dir[600], names[400], looked[700];
	int ret;

	*out = -1;
	if (!name)
		return 0;
	if (!d->cat) {
		if (catalog_dir(d, dir, sizeof(dir), looked, sizeof(looked)))
			return topo__errf(
				err, d->path, path, false,
				"unknown %s '%s': no catalog directory (looked in %.300s; "
				"expected catalog: DIR at the top level, arplan --catalog "
				"DIR or ARPLAN_CATALOG=DIR)",
				part_kind_names[kind], name, looked);
		ret = topo__catalog_load(dir, &d->cat, err);
		if (ret)
			return ret;
	}
	*out = topo__catalog_find(d->cat, kind, name);
	if (*out < 0) {
		topo__catalog_names(d->cat, kind, names, sizeof(names));
		return topo__errf(err, d->path, path, false,
				  "unknown %s '%s' (expected one of: %s)", part_kind_names[kind],
				  name, names);
	}
	return 0;
}

/* How a speed error names a part, by kind. */
static const struct {
	const char *noun, *per, *other;
} part_words[TOPO_PART_KIND_COUNT] = {
	[TOPO_PART_SWITCH] = {"switch", " per port", "a faster switch"},
	[TOPO_PART_NIC] = {"NIC", "", "a faster NIC"},
	[TOPO_PART_MEDIA] = {"media", "", "faster media"},
	[TOPO_PART_GPU] = {"GPU", "", "a faster GPU"},
};

int topo__check_speed(struct topo_desc *d, double bw, enum topo__part_kind kind, int part,
		      const char *path, struct topo_error *err)
{
	struct topo_part p;
	char a[32], b[32];

	if (part < 0 || topo__catalog_part(d->cat, kind, part, &p) || !(p.speed > 0) ||
	    bw <= p.speed * 1.000001)
		return 0;
	topo__fmt_rate(bw, a, sizeof(a));
	topo__fmt_rate(p.speed, b, sizeof(b));
	return topo__errf(err, d->path, path, false,
			  "a link at %s is faster than %s %s, rated %s%s (expected a rate <= %s, "
			  "or %s)",
			  a, part_words[kind].noun, p.name, b, part_words[kind].per, b,
			  part_words[kind].other);
}

/* PCIe bandwidth per lane per direction, bytes/s, after encoding (PCI-SIG figures). */
static const double pcie_lane[] = {0, 0.25e9, 0.5e9, 0.985e9, 1.969e9, 3.938e9, 7.563e9};

/* nics.rails of node type i: one rail per NIC, numbered 0..R-1 without gaps (so R <= NICs);
 * sets rails, n_rails and rail_width. */
static int check_rails(struct topo_desc *d, unsigned i, struct topo__ntype *t,
		       struct topo_error *err)
{
	const struct ty_nics *n = d->raw->node_types[i].nics;
	unsigned on[TOPO_MAX_NICS] = {0}, j, r;
	char q[160];

	t->n_rails = 0;
	t->rail_width = 0;
	for (j = 0; j < t->nics; j++) {
		r = n && n->rails ? n->rails[j] : j;
		if (r >= t->nics) {
			snprintf(q, sizeof(q), "node_types[%u].nics.rails[%u]", i, j);
			return topo__errf(err, d->path, q, false,
					  "rail %u out of range (expected 0..%u: %u NICs make at "
					  "most %u rails, numbered from 0)",
					  r, t->nics - 1, t->nics, t->nics);
		}
		t->rails[j] = (uint16_t)r;
		if (++on[r] > t->rail_width)
			t->rail_width = on[r];
		if (r + 1 > t->n_rails)
			t->n_rails = r + 1;
	}
	for (r = 0; r < t->n_rails; r++) {
		if (on[r])
			continue;
		snprintf(q, sizeof(q), "node_types[%u].nics.rails", i);
		return topo__errf(err, d->path, q, false,
				  "no NIC on rail %u (expected rails numbered from 0 without gaps, "
				  "e.g. rails: [0, 0, 1, 1])",
				  r);
	}
	return 0;
}

static int check_node_type(struct topo_desc *d, unsigned i, struct topo_error *err)
{
	const struct ty_node_type *r = &d->raw->node_types[i];
	struct topo__ntype *t = &d->ntypes[i];
	char p[128], q[160];
	unsigned j;
	int ret;

	snprintf(p, sizeof(p), "node_types[%u]", i);
	for (j = 0; j < i; j++) {
		if (strcmp(d->ntypes[j].name, r->name) == 0) {
			snprintf(q, sizeof(q), "%s.name", p);
			return topo__errf(err, d->path, q, false,
					  "duplicate node type name '%s' (expected a unique name)",
					  r->name);
		}
	}
	t->name = r->name;
	t->gpus = r->gpus ? *r->gpus : 0;
	if (t->gpus > TOPO_MAX_GPUS) {
		snprintf(q, sizeof(q), "%s.gpus", p);
		return topo__errf(err, d->path, q, false, "%u GPUs per node is more than %d%s",
				  t->gpus, TOPO_MAX_GPUS, " (expected gpus: 0..16)");
	}
	snprintf(q, sizeof(q), "%s.gpu_model", p);
	ret = topo__check_part(d, TOPO_PART_GPU, r->gpu_model, q, &t->gpu_part, err);
	if (ret)
		return ret;
	t->nics = 1;
	t->nic_part = -1;
	if (r->nics) {
		if (r->nics->count)
			t->nics = *r->nics->count;
		snprintf(q, sizeof(q), "%s.nics.count", p);
		if (t->nics < 1 || t->nics > TOPO_MAX_NICS)
			return topo__errf(
				err, d->path, q, false,
				"NIC count must be 1..%d, got %u (expected e.g. count: 8)",
				TOPO_MAX_NICS, t->nics);
		snprintf(q, sizeof(q), "%s.nics.model", p);
		ret = topo__check_part(d, TOPO_PART_NIC, r->nics->model, q, &t->nic_part, err);
		if (ret)
			return ret;
		if (r->nics->speed) {
			snprintf(q, sizeof(q), "%s.nics.speed", p);
			ret = topo__check_rate(d, r->nics->speed, q, &t->nic_bw, err);
			if (ret)
				return ret;
		}
		if (r->nics->rails && r->nics->rails_count != t->nics) {
			snprintf(q, sizeof(q), "%s.nics.rails", p);
			return topo__errf(err, d->path, q, false,
					  "%u rails given for %u NICs (expected one rail per NIC)",
					  r->nics->rails_count, t->nics);
		}
	}
	ret = check_rails(d, i, t, err);
	if (ret)
		return ret;
	if (r->intra) {
		const struct ty_intra *in = r->intra;
		double shm = 0;

		if (in->nvlink) {
			snprintf(q, sizeof(q), "%s.intra.nvlink", p);
			ret = topo__check_rate(d, in->nvlink, q, &t->gpu_bw, err);
			if (ret)
				return ret;
			t->nvlink = true;
		}
		if (in->pcie_gen) {
			unsigned w = in->pcie_width ? *in->pcie_width : 16;

			snprintf(q, sizeof(q), "%s.intra.pcie_gen", p);
			if (*in->pcie_gen < 1 || *in->pcie_gen > 6)
				return topo__errf(err, d->path, q, false,
						  "PCIe generation %u unknown (expected 1..6)",
						  *in->pcie_gen);
			snprintf(q, sizeof(q), "%s.intra.pcie_width", p);
			if (w != 1 && w != 2 && w != 4 && w != 8 && w != 16)
				return topo__errf(
					err, d->path, q, false,
					"PCIe width x%u invalid (expected 1, 2, 4, 8 or 16)", w);
			t->pcie_bw = pcie_lane[*in->pcie_gen] * w;
		}
		if (in->shm) {
			snprintf(q, sizeof(q), "%s.intra.shm", p);
			ret = topo__check_rate(d, in->shm, q, &shm, err);
			if (ret)
				return ret;
		}
		if (in->latency) {
			snprintf(q, sizeof(q), "%s.intra.latency", p);
			ret = topo__check_time(d, in->latency, q, &t->intra_lat, err);
			if (ret)
				return ret;
		}
		if (!t->gpu_bw)
			t->gpu_bw = t->pcie_bw ? t->pcie_bw : shm;
	}
	if (!t->pcie_bw)
		t->pcie_bw = t->gpu_bw;
	if (t->gpus > 0 && !t->pcie_bw)
		t->pcie_bw = t->nic_bw;
	if (t->gpus >= 2 && !t->gpu_bw) {
		snprintf(q, sizeof(q), "%s", p);
		return topo__errf(err, d->path, q, false,
				  "%u GPUs need an in-node fabric (expected intra: {nvlink: "
				  "450GB/s} or intra: {pcie_gen: 5})",
				  t->gpus);
	}
	if (t->gpus > 0 && !t->pcie_bw) {
		snprintf(q, sizeof(q), "%s", p);
		return topo__errf(err, d->path, q, false,
				  "GPU to NIC bandwidth unknown (expected intra: {pcie_gen: 5} or "
				  "nics: {speed: 400Gbit})");
	}
	return 0;
}

const char *const topo__class_keys[TOPO_C_COUNT] = {
	[TOPO_C_HOST] = "host",	    [TOPO_C_TIER1] = "tier1",	[TOPO_C_TIER2] = "tier2",
	[TOPO_C_LOCAL] = "local",   [TOPO_C_GLOBAL] = "global", [TOPO_C_TORUS] = "torus",
	[TOPO_C_FABRIC] = "fabric",
};

/* Where each class sits in struct ty_classes. */
static const size_t class_off[TOPO_C_COUNT] = {
	[TOPO_C_HOST] = offsetof(struct ty_classes, host),
	[TOPO_C_TIER1] = offsetof(struct ty_classes, tier1),
	[TOPO_C_TIER2] = offsetof(struct ty_classes, tier2),
	[TOPO_C_LOCAL] = offsetof(struct ty_classes, local),
	[TOPO_C_GLOBAL] = offsetof(struct ty_classes, global),
	[TOPO_C_TORUS] = offsetof(struct ty_classes, torus),
	[TOPO_C_FABRIC] = offsetof(struct ty_classes, fabric),
};

const struct ty_class *topo__class_given(const struct topo_desc *d, enum topo__cls_id id)
{
	const struct ty_classes *c = d->raw->link_classes;

	return c ? *(struct ty_class *const *)((const char *)c + class_off[id]) : NULL;
}

static int check_class(struct topo_desc *d, const struct ty_class *c, const char *path,
		       struct topo__class *out, struct topo_error *err)
{
	char q[160];
	int ret;

	if (!c->rate) {
		snprintf(q, sizeof(q), "%s", path);
		return topo__errf(err, d->path, q, false,
				  "missing required field 'rate' (expected rate: 400Gbit)");
	}
	snprintf(q, sizeof(q), "%s.rate", path);
	ret = topo__check_rate(d, c->rate, q, &out->bandwidth, err);
	if (ret)
		return ret;
	if (c->latency) {
		snprintf(q, sizeof(q), "%s.latency", path);
		ret = topo__check_time(d, c->latency, q, &out->latency, err);
		if (ret)
			return ret;
	}
	snprintf(q, sizeof(q), "%s.media", path);
	ret = topo__check_part(d, TOPO_PART_MEDIA, c->media, q, &out->media, err);
	if (ret)
		return ret;
	snprintf(q, sizeof(q), "%s.rate", path);
	ret = topo__check_speed(d, out->bandwidth, TOPO_PART_MEDIA, out->media, q, err);
	if (ret)
		return ret;
	out->set = true;
	return 0;
}

static int check_classes(struct topo_desc *d, struct topo_error *err)
{
	const struct topo__class *fab = &d->cls[TOPO_C_FABRIC];
	char path[64];
	int i, ret;

	for (i = 0; i < TOPO_C_COUNT; i++) {
		d->cls[i].media = -1;
		d->cls[i].from = (enum topo__cls_id)i;
	}
	for (i = TOPO_C_COUNT - 1; i >= 0; i--) { /* fabric first: the others inherit it */
		const struct ty_class *c = topo__class_given(d, (enum topo__cls_id)i);

		if (c) {
			snprintf(path, sizeof(path), "link_classes.%s", topo__class_keys[i]);
			ret = check_class(d, c, path, &d->cls[i], err);
			if (ret)
				return ret;
		} else if (i != TOPO_C_HOST && fab->set) {
			d->cls[i] = *fab;
		}
	}
	return 0;
}

/* A class the family needs: 0, or -EINVAL pointing at link_classes. */
int topo__need_class(struct topo_desc *d, enum topo__cls_id id, struct topo_error *err)
{
	if (d->cls[id].set) {
		d->cls_used |= 1u << id | 1u << d->cls[id].from;
		return 0;
	}
	return topo__errf(err, d->path, d->raw->link_classes ? "link_classes" : "", false,
			  "the %s family needs link_classes.%s%s (expected %s: {rate: 400Gbit, "
			  "latency: 1us})",
			  topo__families[d->family].name, topo__class_keys[id],
			  id == TOPO_C_HOST ? "" : " or link_classes.fabric", topo__class_keys[id]);
}

/* Generated families: the links of every class used end on switches of fabric.switch, and host
 * links on NICs of the node type's model; no class may be faster than those parts' ports. */
static int check_class_speeds(struct topo_desc *d, struct topo_error *err)
{
	char path[64];
	int i, ret = 0;

	if (d->family == TOPO_F_EXPLICIT)
		return 0; /* per link, in families.c */
	for (i = 0; i < TOPO_C_FABRIC && !ret; i++) {
		if (!(d->cls_used & 1u << i))
			continue;
		snprintf(path, sizeof(path), "link_classes.%s.rate",
			 topo__class_keys[d->cls[i].from]);
		ret = topo__check_speed(d, d->cls[i].bandwidth, TOPO_PART_SWITCH, d->switch_part,
					path, err);
		if (!ret && i == TOPO_C_HOST)
			ret = topo__check_speed(d, d->cls[i].bandwidth, TOPO_PART_NIC,
						d->ntypes[d->ntype].nic_part, path, err);
	}
	return ret;
}

/* ---- public ------------------------------------------------------------------------------ */

int topo_load(const char *path, struct topo_desc **out, struct topo_error *err)
{
	return topo_load_catalog(path, NULL, out, err);
}

int topo_load_catalog(const char *path, const char *catalog, struct topo_desc **out,
		      struct topo_error *err)
{
	cyaml_config_t cfg = {
		.log_fn = topo__cy_log,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
	};
	struct topo__cylog log;
	struct topo_desc *d;
	struct stat st;
	cyaml_err_t ce;
	unsigned i;
	int ret;

	*out = NULL;
	memset(&log, 0, sizeof(log));
	cfg.log_ctx = &log;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->catalog_opt, sizeof(d->catalog_opt), "%s", catalog ? catalog : "");
	d->switch_part = -1;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		ret = topo__errf(err, path, NULL, false,
				 "not a regular file (expected a topology YAML file)");
		goto err_free_desc;
	}
	ce = cyaml_load_file(path, &cfg, &top_schema, (cyaml_data_t **)&d->raw, NULL);
	if (ce != CYAML_OK) {
		ret = ce == CYAML_ERR_OOM ? -ENOMEM
					  : topo__cy_error(path, &log, ce, top_fields, err);
		goto err_free_desc;
	}
	if (!d->raw) {
		ret = topo__errf(err, path, "", false,
				 "the file holds no YAML document (expected a mapping with name: "
				 "and fabric:, see configs/README.md)");
		goto err_free_desc;
	}
	{
		struct topo__badint bad;

		ret = topo__check_integers(path, &top_schema, &bad);
		if (!ret && bad.found)
			ret = topo__badint_error(path, &bad, err);
		if (ret)
			goto err_free_desc;
	}
	/* node types, plus an implicit last one: no GPUs, one NIC (explicit nodes without type) */
	d->n_ntypes = d->raw->node_types_count;
	d->ntypes = calloc(d->n_ntypes + 1, sizeof(*d->ntypes));
	ret = -ENOMEM;
	if (!d->ntypes)
		goto err_free_desc;
	for (i = 0; i < d->n_ntypes; i++) {
		ret = check_node_type(d, i, err);
		if (ret)
			goto err_free_desc;
	}
	d->ntypes[d->n_ntypes] = (struct topo__ntype){.name = "(default)",
						      .nics = 1,
						      .gpu_part = -1,
						      .nic_part = -1,
						      .n_rails = 1,
						      .rail_width = 1};
	ret = check_classes(d, err);
	if (ret)
		goto err_free_desc;
	d->family = (enum topo__family)d->raw->fabric->family;
	ret = topo__check_params(d, err);
	if (ret)
		goto err_free_desc;
	ret = topo__families[d->family].validate(d, err);
	if (!ret)
		ret = topo__check_classes_used(d, err);
	if (!ret)
		ret = check_class_speeds(d, err);
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
	cyaml_config_t cfg = {
		.log_fn = cyaml_log, .mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR};

	if (!d)
		return;
	if (d->raw)
		cyaml_free(&cfg, &top_schema, d->raw, 0);
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
	return topo__families[d->family].name;
}
