/*
 * test_bom.c - the bill of materials as a buyer counts it (topo/media.c through `arplan topo
 * --json`): twin-port optics on a DGX H100 SuperPOD scalable unit against the counts NVIDIA's
 * reference architecture implies, single-port modules where a NIC cage holds one port, DAC
 * inside a rack and single-mode across rows, and switch ports and cages never over what the
 * switches have, on every shipped topology.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "tests/unit/bom_json.h"

/* `arplan topo --json FILE` through plan_cmd_topo(), parsed. */
static json_t *topo_json(const char *file)
{
	const char *argv[] = {"topo", "--json", file};
	FILE *out = tmpfile(), *err = tmpfile();
	json_error_t je;
	json_t *j;
	int rc;

	assert_non_null(out);
	assert_non_null(err);
	rc = plan_cmd_topo(3, (char **)argv, out, err);
	if (rc != PLAN_EXIT_OK)
		fail_msg("arplan topo %s: exit %d", file, rc);
	rewind(out);
	j = json_loadf(out, 0, &je);
	if (!j)
		fail_msg("%s: JSON does not parse: %s", file, je.text);
	fclose(out);
	fclose(err);
	return j;
}

/* The media_classes entry of class and reach, or NULL. */
static const json_t *media_class(const json_t *j, const char *cls, const char *reach)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(j, "media_classes"), i, c)
	{
		if (!strcmp(json_string_value(json_object_get(c, "class")), cls) &&
		    !strcmp(json_string_value(json_object_get(c, "reach")), reach))
			return c;
	}
	return NULL;
}

/*
 * NVIDIA DGX SuperPOD reference architecture, DGX H100 (docs.nvidia.com/dgx-superpod/
 * reference-architecture-scalable-infrastructure-h100, Network Fabrics, table 4 "Compute fabric
 * component count"): one SU has 8 leaf and 4 spine QM9700, 256 spine-leaf cables and 252
 * compute+UFM cables for its 31 DGX and the UFM (a 32-node design; the shipped file fills all
 * 32, so 32 x 8 = 256 node-leaf cables).  The DGX H100 brings its 8 compute ConnectX-7 out on
 * 4 twin-port OSFP cages (DGX H100 user guide, OSFP1P1..OSFP4P2) and a QM9700 has 64 ports in
 * 32 twin-port cages (QM9700 datasheet), so by hand:
 *   DGX side    32 DGX x 4 cages                     = 128 twin-port modules
 *   leaf down   8 leaves x 32 ports / 2              = 128
 *   leaf up     8 leaves x 32 ports / 2              = 128
 *   spine       4 spines x 64 ports / 2              = 128
 *   total 512 twin-port modules (OSFP-800G-2xSR4), no single-port one, and one fiber per link:
 *   256 + 256 = 512.  Before this counting: 1024 single-port modules (2 per link).
 */
static void test_superpod_1su(void **state)
{
	json_t *j = topo_json("configs/topologies/dgx-h100-superpod-1su.yaml");
	const json_t *mm = media_class(j, "multimode", "row"), *sw, *tot;

	assert_int_equal(bom_count(j, "switch (tier 0)", "QM9700"), 8);
	assert_int_equal(bom_count(j, "switch (tier 1)", "QM9700"), 4);
	assert_int_equal(bom_count(j, "media (host links)", "OSFP-800G-2xSR4"), 128 + 128);
	assert_int_equal(bom_count(j, "media (tier 0-1 links)", "OSFP-800G-2xSR4"), 128 + 128);
	assert_int_equal(bom_count(j, "media (host links)", "OSFP-400G-SR4"), 0);
	assert_int_equal(bom_count(j, "media (host links)", "MPO-fiber-MM"), 256);
	assert_int_equal(bom_count(j, "media (tier 0-1 links)", "MPO-fiber-MM"), 256);
	assert_non_null(mm);
	assert_int_equal(num(mm, "links"), 512);
	assert_int_equal(num(mm, "modules"), 512);
	assert_int_equal(num(mm, "cables"), 512);
	tot = json_object_get(j, "media_total");
	assert_int_equal(num(tot, "modules"), 512);
	sw = json_array_get(json_object_get(j, "switch_ports"), 0);
	assert_string_equal(json_string_value(json_object_get(sw, "model")), "QM9700");
	assert_int_equal(num(sw, "count"), 12);
	assert_int_equal(num(sw, "ports_used"), 12 * 64);
	assert_int_equal(num(sw, "cages_used"), 12 * 32);
	json_decref(j);
}

/* Four SUs: table 4 gives 32 leaves, 16 spines and 1024 spine-leaf cables (and 1020
 * compute+UFM cables for 127 DGX: the shipped file has 128, 1024).  Modules: 2 x (1024 + 1024)
 * link ends / 2 per twin-port module = 2048. */
static void test_superpod_4su(void **state)
{
	json_t *j = topo_json("configs/topologies/dgx-h100-superpod-4su.yaml");
	const json_t *mm = media_class(j, "multimode", "row");

	assert_int_equal(bom_count(j, "switch (tier 0)", "QM9700"), 32);
	assert_int_equal(bom_count(j, "switch (tier 1)", "QM9700"), 16);
	assert_non_null(mm);
	assert_int_equal(num(mm, "links"), 2048);
	assert_int_equal(num(mm, "modules"), 2048);
	assert_int_equal(num(mm, "cables"), 2048);
	json_decref(j);
}

/* A twin-port module is never bought for a NIC whose cage holds one port: PCIe ConnectX-7
 * cards take one single-port module per link, their leaves one twin-port module per two. */
static void test_single_port_nics(void **state)
{
	json_t *j = topo_json("tests/data/topo/bom-pcie-rail.yaml");

	assert_int_equal(bom_count(j, "NIC", "ConnectX-7"), 256);
	assert_int_equal(bom_count(j, "media (host links)", "OSFP-400G-SR4"), 256);
	assert_int_equal(bom_count(j, "media (host links)", "OSFP-800G-2xSR4"), 128);
	assert_int_equal(bom_count(j, "media (tier 0-1 links)", "OSFP-400G-SR4"), 0);
	assert_int_equal(bom_count(j, "media (tier 0-1 links)", "OSFP-800G-2xSR4"), 256);
	json_decref(j);
	/* three links on one twin-cage switch: two twin-port modules there, not three, and
	 * three single-port ones at the hosts */
	j = topo_json("tests/data/topo/bom-odd.yaml");
	assert_int_equal(bom_count(j, "media (host links)", "OSFP-800G-2xSR4"), 2);
	assert_int_equal(bom_count(j, "media (host links)", "OSFP-400G-SR4"), 3);
	assert_int_equal(num(json_array_get(json_object_get(j, "switch_ports"), 0), "cages_used"),
			 2);
	json_decref(j);
}

/* Reach classes choose the medium: copper inside a rack, single-mode across rows; a top-of-rack
 * fat-tree's host links are copper, one twin-port DAC per DGX H100 cage (both NICs of a cage go
 * to the same leaf). */
static void test_reach_classes(void **state)
{
	json_t *j = topo_json("tests/data/topo/bom-reach-rack.yaml");
	const json_t *c;

	c = media_class(j, "DAC", "rack");
	assert_non_null(c);
	assert_int_equal(num(c, "links"), 32);
	assert_int_equal(num(c, "modules"), 0);
	assert_null(media_class(j, "multimode", "row"));
	c = media_class(j, "single-mode", "hall");
	assert_non_null(c);
	assert_int_equal(num(c, "links"), 32);
	assert_int_equal(bom_count(j, "media (tier 0-1 links)", "OSFP-800G-2xDR4"), 32);
	json_decref(j);
	j = topo_json("configs/topologies/fat-tree-1024-1to1.yaml");
	c = media_class(j, "DAC", "rack");
	assert_non_null(c);
	assert_int_equal(num(c, "links"), 1024);
	assert_int_equal(num(c, "cables"), 512);
	c = media_class(j, "multimode", "row");
	assert_non_null(c);
	assert_int_equal(num(c, "modules"), 1024);
	json_decref(j);
}

/* On every shipped topology: ports used never above the ports there (nor on the busiest
 * switch above its radix), cages used never above the cages, where the radix is known; and
 * every link in one media class. */
static void test_ports_within(void **state)
{
	DIR *dir = opendir("configs/topologies");
	struct dirent *e;
	unsigned files = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[512];
		const json_t *u, *links = NULL;
		json_int_t in_classes = 0;
		json_t *j;
		size_t i;

		if (!strstr(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "configs/topologies/%s", e->d_name);
		j = topo_json(path);
		json_array_foreach(json_object_get(j, "switch_ports"), i, u)
		{
			if (num(u, "radix") && /* 0: not known (explicit, no model) */
			    (num(u, "ports_used") > num(u, "ports") ||
			     num(u, "cages_used") > num(u, "cages") ||
			     num(u, "max_ports_used") > num(u, "radix")))
				fail_msg("%s: %s uses %lld of %lld ports, %lld of %lld cages", path,
					 json_string_value(json_object_get(u, "model")),
					 (long long)num(u, "ports_used"),
					 (long long)num(u, "ports"),
					 (long long)num(u, "cages_used"),
					 (long long)num(u, "cages"));
		}
		links = json_object_get(j, "links");
		in_classes = num(json_object_get(j, "media_total"), "links");
		assert_int_equal(in_classes, num(links, "host") + num(links, "fabric"));
		json_decref(j);
		files++;
	}
	closedir(dir);
	assert_true(files >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_superpod_1su),	 cmocka_unit_test(test_superpod_4su),
		cmocka_unit_test(test_single_port_nics), cmocka_unit_test(test_reach_classes),
		cmocka_unit_test(test_ports_within),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
