/*
 * results.c - measured all-reduce times in: arbench's results JSON (schema version 1, README
 * "The JSON results file", read with jansson), and what both readers share (the file read
 * whole, JSON parsed with a truncated/not-JSON verdict, rows appended); nccl-tests' output is
 * read by results_nccl.c.  Every problem is one line naming the file and what is wrong: a
 * truncated file, a file that is not JSON or not arbench's, a newer schema, fields that
 * disagree.  Reports (report_load.c) also get the parsed document, for what the rows do not
 * hold.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "planner/internal.h"

#define RESULTS_SCHEMA 1
#define MAX_FILE_BYTES (256u << 20)

/* Element sizes by type name: arbench's 7 types and nccl-tests' names. */
static const struct {
	const char *name;
	unsigned size;
} type_sizes[] = {
	{"float", 4},	 {"double", 8},	  {"half", 2},	  {"bfloat16", 2}, {"int32", 4},
	{"int64", 8},	 {"uint8", 1},	  {"int8", 1},	  {"uint32", 4},   {"uint64", 8},
	{"float16", 2},	 {"float32", 4},  {"float64", 8}, {"f8e4m3", 1},   {"f8e5m2", 1},
	{"fp8_e4m3", 1}, {"fp8_e5m2", 1},
};

unsigned plan__type_size(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(type_sizes) / sizeof(type_sizes[0]); i++)
		if (strcmp(type_sizes[i].name, name) == 0)
			return type_sizes[i].size;
	return 0;
}

int plan_file_error(char *msg, size_t len, const char *path, const char *fmt, ...)
{
	char tmp[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	snprintf(msg, len, "%s: %s", path, tmp);
	return -EINVAL;
}

void plan_results_free(struct plan_results *r)
{
	int i;

	if (!r)
		return;
	if (r->hosts)
		for (i = 0; i < r->nodes; i++)
			free(r->hosts[i]);
	free(r->hosts);
	free(r->node_of_rank);
	free(r->rows);
	free(r);
}

struct plan_results *plan__results_new(const char *path, int ranks, int nodes)
{
	struct plan_results *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->ranks = ranks;
	r->nodes = nodes;
	r->node_of_rank = calloc((size_t)ranks, sizeof(*r->node_of_rank));
	r->hosts = calloc((size_t)nodes, sizeof(*r->hosts));
	if (!r->node_of_rank || !r->hosts) {
		plan_results_free(r);
		return NULL;
	}
	return r;
}

int plan__results_add_row(struct plan_results *r, size_t *cap, const struct plan_row *row)
{
	if (r->n_rows == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct plan_row *rows = realloc(r->rows, n * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		r->rows = rows;
		*cap = n;
	}
	r->rows[r->n_rows++] = *row;
	return 0;
}

/* The whole file, NUL-terminated.  0, -EINVAL with msg, or -ENOMEM. */
int plan__slurp(const char *path, char **buf, size_t *len, char *msg, size_t msglen)
{
	struct stat st;
	FILE *f;
	size_t n;

	*buf = NULL;
	if (stat(path, &st) != 0)
		return plan_file_error(msg, msglen, path, "cannot open: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return plan_file_error(msg, msglen, path,
				       "not a regular file (expected a results file)");
	if ((unsigned long long)st.st_size > MAX_FILE_BYTES)
		return plan_file_error(msg, msglen, path,
				       "%lld bytes is too big for a results file",
				       (long long)st.st_size);
	f = fopen(path, "rb");
	if (!f)
		return plan_file_error(msg, msglen, path, "cannot open: %s", strerror(errno));
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(*buf, 1, (size_t)st.st_size, f);
	fclose(f);
	(*buf)[n] = 0;
	*len = n;
	return 0;
}

const char *plan__skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* Parse text as JSON; a failure says whether the text was cut short or is not JSON at all. */
json_t *plan__parse_json(const char *path, const char *text, size_t len, char *msg, size_t msglen)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);

	if (doc)
		return doc;
	if (je.position >= (int)len || strstr(je.text, "premature end") ||
	    strstr(je.text, "end of file"))
		plan_file_error(
			msg, msglen, path,
			"truncated: the JSON ends early at line %d (expected a complete results "
			"file; was the run killed while writing it?)",
			je.line);
	else
		plan_file_error(msg, msglen, path,
				"not JSON: line %d, column %d: %s (expected arbench's "
				"results JSON)",
				je.line, je.column, je.text);
	return NULL;
}

bool plan__looks_like_nccl_text(const char *text)
{
	return strstr(text, "out-of-place") || strstr(text, "nccl-tests") ||
	       strstr(text, "Collective test");
}

/* ---- arbench's JSON -------------------------------------------------------------------------- */

int plan__json_int(json_t *o, const char *key, long long min, long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

static int arbench_row(const char *path, size_t i, json_t *e, struct plan_row *row, char *msg,
		       size_t msglen)
{
	json_t *t = json_object_get(e, "time_us"), *v;
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *algo = json_string_value(json_object_get(e, "algo"));
	json_int_t size, count;

	memset(row, 0, sizeof(*row));
	if (!json_is_object(e))
		return plan_file_error(msg, msglen, path, "results[%zu] is not an object", i);
	if (plan__json_int(e, "size", 0, &size) || plan__json_int(e, "count", 0, &count) ||
	    size > (json_int_t)1 << 50 || count > size)
		return plan_file_error(
			msg, msglen, path,
			"results[%zu]: \"size\" and \"count\" must be whole numbers, 0 <= count "
			"<= size <= 1 PiB",
			i);
	if (!type || !(row->esize = plan__type_size(type)))
		return plan_file_error(
			msg, msglen, path,
			"results[%zu]: unknown \"type\" %s%s%s (expected float, double, half, "
			"bfloat16, int32, int64 or uint8)",
			i, type ? "'" : "(missing)", type ? type : "", type ? "'" : "");
	if ((json_int_t)row->esize * count != size)
		return plan_file_error(msg, msglen, path,
				       "results[%zu]: size %lld is not count %lld x %u bytes of %s",
				       i, (long long)size, (long long)count, row->esize, type);
	if (!algo || !*algo || strlen(algo) >= sizeof(row->algo))
		return plan_file_error(msg, msglen, path,
				       "results[%zu]: \"algo\" missing or too long", i);
	v = json_object_get(e, "inplace");
	if (!json_is_boolean(v))
		return plan_file_error(msg, msglen, path,
				       "results[%zu]: \"inplace\" is not true or false", i);
	if (!json_is_object(t) || !json_is_number(json_object_get(t, "avg")) ||
	    !json_is_number(json_object_get(t, "p50")))
		return plan_file_error(
			msg, msglen, path,
			"results[%zu]: \"time_us\" needs numbers \"avg\" and \"p50\"", i);
	row->size = (size_t)size;
	row->count = (size_t)count;
	snprintf(row->algo, sizeof(row->algo), "%s", algo);
	row->inplace = json_is_true(v);
	row->time_us = json_number_value(json_object_get(t, "avg"));
	row->p50_us = json_number_value(json_object_get(t, "p50"));
	row->busbw = json_number_value(json_object_get(e, "busbw"));
	if (!(row->time_us >= 0) || !(row->p50_us >= 0))
		return plan_file_error(msg, msglen, path, "results[%zu]: a negative time", i);
	snprintf(row->type, sizeof(row->type), "%s", type);
	v = json_object_get(e, "op");
	if (json_is_string(v) && json_string_length(v) < sizeof(row->op))
		snprintf(row->op, sizeof(row->op), "%s", json_string_value(v));
	v = json_object_get(e, "wrong");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		row->wrong = (unsigned long long)json_integer_value(v);
	/* the spread over iterations: all three or none */
	if (json_is_number(json_object_get(t, "min")) &&
	    json_is_number(json_object_get(t, "p99")) &&
	    json_is_number(json_object_get(t, "max"))) {
		row->min_us = json_number_value(json_object_get(t, "min"));
		row->p99_us = json_number_value(json_object_get(t, "p99"));
		row->max_us = json_number_value(json_object_get(t, "max"));
		if (!(row->min_us >= 0) || !(row->p99_us >= 0) || !(row->max_us >= 0))
			return plan_file_error(msg, msglen, path, "results[%zu]: a negative time",
					       i);
		row->has_spread = true;
	}
	return 0;
}

static int arbench_doc(const char *path, json_t *doc, bool links_ok, struct plan_results **out,
		       char *msg, size_t msglen)
{
	json_t *ver = json_object_get(doc, "version"), *res = json_object_get(doc, "results");
	json_t *nor = json_object_get(doc, "node_of_rank"), *hosts = json_object_get(doc, "hosts");
	json_t *set = json_object_get(doc, "settings"), *e;
	json_int_t ranks, nodes, v;
	struct plan_results *r;
	const char *av;
	size_t i, cap = 0;
	int ret;

	if (!json_is_object(doc))
		return plan_file_error(
			msg, msglen, path,
			"not an arbench results file (the JSON is not an object; expected the "
			"file arbench -J writes)");
	if (json_object_get(doc, "nccl_version") || json_object_get(doc, "config"))
		return plan_file_error(
			msg, msglen, path,
			"nccl-tests JSON, not arbench's (read it with the rank and node counts: "
			"--ranks N --nodes N)");
	if (!ver || !(json_is_array(res) || (links_ok && !res && json_object_get(doc, "links"))))
		return plan_file_error(
			msg, msglen, path,
			"not an arbench results file (no \"version\" or no \"results\" list; "
			"expected the file arbench -J writes)");
	if (!json_is_integer(ver) || json_integer_value(ver) < 1)
		return plan_file_error(msg, msglen, path,
				       "\"version\" is not a schema number >= 1");
	if (json_integer_value(ver) > RESULTS_SCHEMA)
		return plan_file_error(
			msg, msglen, path,
			"written by a newer arbench (schema %lld); this arplan reads schema %d",
			(long long)json_integer_value(ver), RESULTS_SCHEMA);
	if (plan__json_int(doc, "ranks", 1, &ranks) || plan__json_int(doc, "nodes", 1, &nodes) ||
	    nodes > ranks || ranks > 1 << 24)
		return plan_file_error(
			msg, msglen, path,
			"\"ranks\" and \"nodes\" must be whole numbers, 1 <= nodes <= ranks");
	if (!json_is_array(nor) || (json_int_t)json_array_size(nor) != ranks)
		return plan_file_error(
			msg, msglen, path,
			"\"node_of_rank\" must list one node per rank (%lld ranks, %zu given)",
			(long long)ranks, json_is_array(nor) ? json_array_size(nor) : 0);
	if (!json_is_array(hosts) || (json_int_t)json_array_size(hosts) != nodes)
		return plan_file_error(
			msg, msglen, path,
			"\"hosts\" must list one name per node (%lld nodes, %zu given)",
			(long long)nodes, json_is_array(hosts) ? json_array_size(hosts) : 0);
	r = plan__results_new(path, (int)ranks, (int)nodes);
	if (!r)
		return -ENOMEM;
	av = json_string_value(json_object_get(doc, "arbench_version"));
	snprintf(r->arbench_version, sizeof(r->arbench_version), "%s", av ? av : "unknown");
	ret = -EINVAL;
	json_array_foreach(nor, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) >= nodes) {
			plan_file_error(msg, msglen, path,
					"node_of_rank[%zu] is not a node index 0..%lld", i,
					(long long)nodes - 1);
			goto err_free;
		}
		r->node_of_rank[i] = (int)json_integer_value(e);
	}
	json_array_foreach(hosts, i, e)
	{
		if (!json_is_string(e)) {
			plan_file_error(msg, msglen, path, "hosts[%zu] is not a string", i);
			goto err_free;
		}
		r->hosts[i] = strdup(json_string_value(e));
		if (!r->hosts[i]) {
			ret = -ENOMEM;
			goto err_free;
		}
	}
	for (v = 0; v < nodes; v++) {
		for (i = 0; i < (size_t)ranks && r->node_of_rank[i] != v; i++)
			;
		if (i == (size_t)ranks) {
			plan_file_error(msg, msglen, path,
					"node %lld (%s) has no rank in \"node_of_rank\"",
					(long long)v, r->hosts[v]);
			goto err_free;
		}
	}
	if (set && json_is_object(set)) {
		if (json_object_get(set, "segment_bytes")) {
			if (plan__json_int(set, "segment_bytes", 0, &v)) {
				plan_file_error(
					msg, msglen, path,
					"settings.segment_bytes is not a whole number >= 0");
				goto err_free;
			}
			r->segment_bytes = (size_t)v;
		}
		if (json_object_get(set, "max_inflight")) {
			if (plan__json_int(set, "max_inflight", 0, &v) || v > 1 << 20) {
				plan_file_error(msg, msglen, path,
						"settings.max_inflight is not a whole number >= 0");
				goto err_free;
			}
			r->max_inflight = (int)v;
		}
	}
	json_array_foreach(res, i, e)
	{
		struct plan_row row;

		ret = arbench_row(path, i, e, &row, msg, msglen);
		if (!ret)
			ret = plan__results_add_row(r, &cap, &row);
		if (ret)
			goto err_free;
	}
	*out = r;
	return 0;

err_free:
	plan_results_free(r);
	return ret;
}

int plan_results_load_doc(const char *path, bool links_ok, struct plan_results **out, json_t **keep,
			  char *msg, size_t msglen)
{
	char *text, first;
	size_t len;
	json_t *doc;
	int ret;

	*out = NULL;
	if (keep)
		*keep = NULL;
	ret = plan__slurp(path, &text, &len, msg, msglen);
	if (ret)
		return ret;
	first = *plan__skip_space(text);
	if (!first) {
		free(text);
		return plan_file_error(msg, msglen, path,
				       "empty file (expected arbench's results JSON)");
	}
	if (first != '{' && first != '[' && plan__looks_like_nccl_text(text)) {
		free(text);
		return plan_file_error(
			msg, msglen, path,
			"nccl-tests text output, not arbench's JSON (read it with the rank and "
			"node counts: --ranks N --nodes N)");
	}
	doc = plan__parse_json(path, text, len, msg, msglen);
	free(text);
	if (!doc)
		return -EINVAL;
	ret = arbench_doc(path, doc, links_ok, out, msg, msglen);
	if (!ret && keep)
		*keep = doc;
	else
		json_decref(doc);
	return ret;
}

int plan_results_load(const char *path, struct plan_results **out, char *msg, size_t msglen)
{
	return plan_results_load_doc(path, false, out, NULL, msg, msglen);
}
