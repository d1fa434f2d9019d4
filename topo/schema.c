/*
 * schema.c - what a topology YAML file may hold: the libcyaml schema that loads it into the ty_*
 * structs of internal.h, the names of the fabric families (written here once), and what each
 * key expects, for error messages.  The language is documented in configs/README.md.
 */
#include <cyaml/cyaml.h>

#include "topo/internal.h"

#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
#define REQ CYAML_FLAG_POINTER
#define STR(key, flags, type, member)                                                              \
	CYAML_FIELD_STRING_PTR(key, flags, type, member, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t uint_entry = {CYAML_VALUE_UINT(CYAML_FLAG_DEFAULT, unsigned)};
static const cyaml_schema_value_t float_entry = {CYAML_VALUE_FLOAT(CYAML_FLAG_DEFAULT, double)};

const cyaml_strval_t topo__family_names[TOPO_F_COUNT] = {
	[TOPO_F_EXPLICIT] = {"explicit", TOPO_F_EXPLICIT},
	[TOPO_F_SINGLE_SWITCH] = {"single-switch", TOPO_F_SINGLE_SWITCH},
	[TOPO_F_FAT_TREE] = {"fat-tree", TOPO_F_FAT_TREE},
	[TOPO_F_RAIL_OPTIMIZED] = {"rail-optimized", TOPO_F_RAIL_OPTIMIZED},
	[TOPO_F_RAIL_ONLY] = {"rail-only", TOPO_F_RAIL_ONLY},
	[TOPO_F_TORUS] = {"torus", TOPO_F_TORUS},
	[TOPO_F_DRAGONFLY] = {"dragonfly", TOPO_F_DRAGONFLY},
};
static const cyaml_strval_t placement_strings[] = {
	{"node", TOPO_P_NODE},
	{"rail", TOPO_P_RAIL},
};

static const cyaml_schema_field_t class_fields[] = {
	STR("rate", OPT, struct ty_class, rate),
	STR("latency", OPT, struct ty_class, latency),
	STR("media", OPT, struct ty_class, media),
	STR("reach", OPT, struct ty_class, reach),
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

static const cyaml_schema_field_t scale_up_fields[] = {
	CYAML_FIELD_UINT_PTR("domain_nodes", OPT, struct ty_scale_up, domain_nodes),
	STR("nvlink", OPT, struct ty_scale_up, nvlink),
	STR("nvlink_switch", OPT, struct ty_scale_up, nvlink_switch),
	CYAML_FIELD_UINT_PTR("switch_trays", OPT, struct ty_scale_up, switch_trays),
	STR("latency", OPT, struct ty_scale_up, latency),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t fabric_fields[] = {
	CYAML_FIELD_ENUM("family", CYAML_FLAG_STRICT, struct ty_fabric, family, topo__family_names,
			 TOPO_F_COUNT),
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
	CYAML_FIELD_MAPPING_PTR("scale_up", OPT, struct ty_fabric, scale_up, scale_up_fields),
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

const cyaml_schema_value_t topo__top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct ty_top, top_fields),
};

/* What each key expects, for error messages (a family: the words of the enum above). */
const struct topo_yaml_form topo__forms[] = {
	{"name", "a name, e.g. name: dgx-h100"},
	{"description", "a line of text"},
	{"catalog", "a directory, e.g. catalog: ../catalog"},
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
	{"scale_up", "a mapping {domain_nodes, nvlink, nvlink_switch, switch_trays}, e.g. "
		     "domain_nodes: 18, nvlink: 900GB/s"},
	{"domain_nodes", "nodes per NVLink domain, e.g. domain_nodes: 18 (a GB200 NVL72 rack)"},
	{"nvlink_switch", "an NVLink switch tray from the catalog, e.g. nvlink_switch: "
			  "NVLink5-Switch-Tray"},
	{"switch_trays", "NVLink switch trays per domain, e.g. switch_trays: 9"},
	{"nvlink_domain", "GPUs per NVLink domain of the GPU's rack-scale system, e.g. "
			  "nvlink_domain: 72"},
	{"fp8_tflops", "dense FP8 TFLOP/s, e.g. fp8_tflops: 1979"},
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
	{"media",
	 "a transceiver or cable from the catalog, or auto (the cheapest of the class's reach)"},
	{"reach", "rack (in a rack), row (in a row) or hall (across rows)"},
	{"a", "a node name, NODE/NIC (e.g. h1/1) or a switch name"},
	{"b", "a node name, NODE/NIC (e.g. h1/1) or a switch name"},
	{"tier", "a switch tier, 0 for a leaf"},
	{"link_classes", "a mapping of host, fabric, tier1, tier2, local, global, torus"},
	{"host", "{rate: 400Gbit, latency: 1us}"},
	{"fabric", "a mapping with family: and its parameters"},
	{"switches", "a list of {name, tier, radix, model}"},
	{"links", "a list of {a, b, rate, latency}"},
	{"node_types", "a list of {name, gpus, intra, nics}"},
	{NULL, NULL},
};

const struct topo_yaml_doc topo__doc = {
	.schema = &topo__top_schema,
	.forms = topo__forms,
	.what = NULL,
	.top_form = "a mapping with name: and fabric:, see configs/README.md",
};
