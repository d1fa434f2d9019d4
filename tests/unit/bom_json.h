/*
 * bom_json.h - reading `arplan topo --json`'s bill of materials in the unit tests (test_bom.c,
 * test_nvl72.c); include after cmocka.h and jansson.h.
 */
#ifndef ARBENCH_TESTS_BOM_JSON_H
#define ARBENCH_TESTS_BOM_JSON_H

#include <string.h>

/* The integer at key of o; fails the test when there is none. */
static json_int_t num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no integer '%s'", key);
	return json_integer_value(v);
}

/* The count of bom line (item, part); 0 when there is no such line. */
static json_int_t bom_count(const json_t *j, const char *item, const char *part)
{
	const json_t *l;
	size_t i;

	json_array_foreach(json_object_get(j, "bom"), i, l)
	{
		if (!strcmp(json_string_value(json_object_get(l, "item")), item) &&
		    !strcmp(json_string_value(json_object_get(l, "part")), part))
			return num(l, "count");
	}
	return 0;
}

#endif
