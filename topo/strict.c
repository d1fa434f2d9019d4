/*
 * strict.c - refuse integer fields that libcyaml accepts with junk after the digits.
 *
 * libcyaml 1.3 reads an integer with strtoll/strtoull (base 0) and ignores what follows the
 * digits, so `sus: 2.7` loads as 2, `sus: 1e308` as 1, `gpus: 0x10` as 16 and `radix: 0500000000`
 * as octal 83886080 (found by fuzz_topo).  After libcyaml has loaded a
 * file, topo__check_integers() walks the file's libyaml events once beside the schema and finds
 * the first scalar whose schema type is an integer but whose text is not a plain decimal whole
 * number in the range of its C type.  The caller turns it into a file:line:column error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "topo/internal.h"

#define MAX_DEPTH 64

struct sframe {
	const cyaml_schema_value_t *schema; /* NULL: not in the schema, not checked */
	bool map, want_key;
	unsigned index;
	size_t path_len;
	const cyaml_schema_value_t *child; /* mapping: schema of the current key's value */
};

/* The schema of the value of `key` in a mapping schema, or NULL. */
static const cyaml_schema_value_t *field_schema(const cyaml_schema_value_t *m, const char *key)
{
	const cyaml_schema_field_t *f;

	if (!m || m->type != CYAML_MAPPING)
		return NULL;
	for (f = m->mapping.fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return &f->value;
	return NULL;
}

/* Is `s` a decimal whole number (a '-' only when `sign`) that fits `size` bytes? */
static bool plain_integer(const char *s, bool sign, size_t size)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0, max;

	if (sign && *p == '-') {
		neg = true;
		p++;
	}
	if (!*p || (p[0] == '0' && p[1])) /* "010": libcyaml would read octal 8 */
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (size == 0 || size > 8)
		size = 8;
	max = size == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
	if (sign)
		max >>= 1; /* INT_MAX of that size; the negative side is one more */
	return v <= max + (neg ? 1 : 0);
}

static void child_path(char *path, size_t len, const struct sframe *top, const char *key)
{
	size_t n = top->path_len;

	if (top->map)
		snprintf(path + n, len - n, "%s%s", n ? "." : "", key);
	else
		snprintf(path + n, len - n, "[%u]", top->index);
}

int topo__check_integers(const char *file, const cyaml_schema_value_t *root,
			 struct topo__badint *bad)
{
	struct sframe *st = calloc(MAX_DEPTH, sizeof(*st));
	char key[128] = "";
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f;
	int depth = 0, go = 1, ret = 0;

	memset(bad, 0, sizeof(*bad));
	if (!st)
		return -ENOMEM;
	f = fopen(file, "r");
	if (!f) {
		ret = -errno;
		goto err_free_stack;
	}
	if (!yaml_parser_initialize(&p)) {
		ret = -ENOMEM;
		goto err_close;
	}
	yaml_parser_set_input_file(&p, f);
	while (go && !bad->found) {
		struct sframe *top = depth ? &st[depth - 1] : NULL;
		const cyaml_schema_value_t *s;

		if (!yaml_parser_parse(&p, &ev)) {
			ret = -EINVAL; /* libcyaml has reported syntax errors already */
			break;
		}
		/* the schema of the node this event starts, and its path */
		if (!top)
			s = root;
		else if (top->map)
			s = top->child;
		else
			s = top->schema && top->schema->type == CYAML_SEQUENCE
				    ? top->schema->sequence.entry
				    : NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			go = 0;
			break;
		case YAML_SCALAR_EVENT:
			if (top && top->map && top->want_key) {
				snprintf(key, sizeof(key), "%s",
					 (const char *)ev.data.scalar.value);
				top->child = field_schema(top->schema, key);
				top->want_key = false;
				break;
			}
			if (s && (s->type == CYAML_UINT || s->type == CYAML_INT) &&
			    !plain_integer((const char *)ev.data.scalar.value, s->type == CYAML_INT,
					   s->data_size)) {
				bad->found = true;
				bad->line = (unsigned)ev.start_mark.line + 1;
				bad->col = (unsigned)ev.start_mark.column + 1;
				bad->is_signed = s->type == CYAML_INT;
				snprintf(bad->value, sizeof(bad->value), "%s",
					 (const char *)ev.data.scalar.value);
				if (top)
					child_path(bad->path, sizeof(bad->path), top, key);
			}
			/* fall through */
		case YAML_ALIAS_EVENT:
			if (top && top->map)
				top->want_key = true;
			else if (top)
				top->index++;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == MAX_DEPTH) {
				go = 0; /* deeper than any schema: nothing of ours in there */
				break;
			}
			if (top)
				child_path(bad->path, sizeof(bad->path), top, key);
			else
				bad->path[0] = 0;
			st[depth] = (struct sframe){
				.schema = s,
				.map = ev.type == YAML_MAPPING_START_EVENT,
				.want_key = ev.type == YAML_MAPPING_START_EVENT,
				.path_len = strlen(bad->path),
			};
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth)
				depth--;
			if (depth) {
				top = &st[depth - 1];
				bad->path[top->path_len] = 0;
				if (top->map)
					top->want_key = true;
				else
					top->index++;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (!bad->found)
		bad->path[0] = 0;
	yaml_parser_delete(&p);
err_close:
	fclose(f);
err_free_stack:
	free(st);
	return ret;
}
