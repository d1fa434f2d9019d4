/*
 * results.c - measured all-reduce times in: arbench's results JSON (schema version 1, README
 * "The JSON results file", read with jansson) and nccl-tests' output (its text table, or the JSON
 * it writes with -J).  Every problem is one line naming the file and what is wrong: a truncated
 * file, a file that is not JSON or not arbench's, a newer schema, fields that disagree.
 * nccl-tests logs do not say how ranks sit on nodes, so the caller gives the counts; the
 * "#  Rank N ... on HOST" lines, when present, give the placement and the host names.  Reports
 * (report_load.c) also get the parsed document, for what the rows do not hold.
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

#define RESULTS_SCHEMA	 1
#define NCCL_JSON_SCHEMA 2
#define MAX_FILE_BYTES	 (256u << 20)

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

static unsigned type_size(const char *name)
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

static struct plan_results *results_new(const char *path, int ranks, int nodes)
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

static int add_row(struct plan_results *r, size_t *cap, const struct plan_row *row)
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
static int slurp(const char *path, char **buf, size_t *len, char *msg, size_t msglen)
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

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* Parse text as JSON; a failure says whether the text was cut short or is not JSON at all. */
static json_t *parse_json(const char *path, const char *text, size_t len, char *msg, size_t msglen)
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

static bool looks_like_nccl_text(const char *text)
{
	return strstr(text, "out-of-place") || strstr(text, "nccl-tests") ||
	       strstr(text, "Collective test");
}

/* ---- arbench's JSON -------------------------------------------------------------------------- */

static int get_int(json_t *o, const char *key, json_int_t min, json_int_t *out)
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
	if (get_int(e, "size", 0, &size) || get_int(e, "count", 0, &count) ||
	    size > (json_int_t)1 << 50 || count > size)
		return plan_file_error(
			msg, msglen, path,
			"results[%zu]: \"size\" and \"count\" must be whole numbers, 0 <= count "
			"<= size <= 1 PiB",
			i);
	if (!type || !(row->esize = type_size(type)))
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
	if (get_int(doc, "ranks", 1, &ranks) || get_int(doc, "nodes", 1, &nodes) || nodes > ranks ||
	    ranks > 1 << 24)
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
	r = results_new(path, (int)ranks, (int)nodes);
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
			if (get_int(set, "segment_bytes", 0, &v)) {
				plan_file_error(
					msg, msglen, path,
					"settings.segment_bytes is not a whole number >= 0");
				goto err_free;
			}
			r->segment_bytes = (size_t)v;
		}
		if (json_object_get(set, "max_inflight")) {
			if (get_int(set, "max_inflight", 0, &v) || v > 1 << 20) {
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
			ret = add_row(r, &cap, &row);
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
	char *text;
	size_t len;
	json_t *doc;
	int ret;

	*out = NULL;
	if (keep)
		*keep = NULL;
	ret = slurp(path, &text, &len, msg, msglen);
	if (ret)
		return ret;
	if (!*skip_space(text)) {
		free(text);
		return plan_file_error(msg, msglen, path,
				       "empty file (expected arbench's results JSON)");
	}
	if (*skip_space(text) != '{' && *skip_space(text) != '[' && looks_like_nccl_text(text)) {
		free(text);
		return plan_file_error(
			msg, msglen, path,
			"nccl-tests text output, not arbench's JSON (read it with the rank and "
			"node counts: --ranks N --nodes N)");
	}
	doc = parse_json(path, text, len, msg, msglen);
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

/* ---- nccl-tests ------------------------------------------------------------------------------ */

/* Host of each rank, from the "#  Rank N Group G Pid P on HOST device ..." lines. */
struct rank_hosts {
	char **host; /* [ranks], NULL when not seen */
	int ranks;
	int seen;
};

static void rank_host(struct rank_hosts *rh, int rank, const char *host)
{
	if (rank < 0 || rank >= rh->ranks || rh->host[rank])
		return;
	rh->host[rank] = strdup(host);
	if (rh->host[rank])
		rh->seen++;
}

/* Placement: from the hosts of every rank when the log names them all, else blocks. */
static int nccl_place(const char *path, struct plan_results *r, struct rank_hosts *rh, char *msg,
		      size_t msglen)
{
	int i, j, n = 0;

	if (rh->seen == r->ranks) {
		for (i = 0; i < r->ranks; i++) {
			for (j = 0; j < n && strcmp(r->hosts[j], rh->host[i]); j++)
				;
			if (j == n) {
				if (n == r->nodes)
					return plan_file_error(
						msg, msglen, path,
						"the log names more than %d hosts, but the "
						"cluster was given as %d nodes (expected --nodes "
						"to match the log)",
						r->nodes, r->nodes);
				r->hosts[n] = strdup(rh->host[i]);
				if (!r->hosts[n++])
					return -ENOMEM;
			}
			r->node_of_rank[i] = j;
		}
		if (n != r->nodes)
			return plan_file_error(
				msg, msglen, path,
				"the log names %d host%s, but the cluster was given as %d "
				"nodes (expected --nodes %d)",
				n, n == 1 ? "" : "s", r->nodes, n);
		return 0;
	}
	if (rh->seen)
		return plan_file_error(
			msg, msglen, path,
			"the log names the hosts of %d ranks, but the cluster was given as %d "
			"ranks (expected --ranks to match the log)",
			rh->seen, r->ranks);
	if (r->ranks % r->nodes)
		return plan_file_error(
			msg, msglen, path,
			"%d ranks do not split evenly over %d nodes (the log does not say "
			"where ranks ran; expected a multiple)",
			r->ranks, r->nodes);
	for (i = 0; i < r->ranks; i++)
		r->node_of_rank[i] = i / (r->ranks / r->nodes);
	for (i = 0; i < r->nodes; i++) {
		char name[32];

		snprintf(name, sizeof(name), "node%d", i);
		r->hosts[i] = strdup(name);
		if (!r->hosts[i])
			return -ENOMEM;
	}
	return 0;
}

static int nccl_row_fill(struct plan_row *row, size_t size, size_t count, const char *type,
			 double time_us, double busbw)
{
	memset(row, 0, sizeof(*row));
	row->size = size;
	row->count = count;
	row->esize = count ? (unsigned)(size / count) : type_size(type);
	if (!row->esize || (count && size % count))
		return -EINVAL;
	snprintf(row->algo, sizeof(row->algo), "nccl");
	if (strlen(type) < sizeof(row->type))
		snprintf(row->type, sizeof(row->type), "%s", type);
	row->time_us = time_us;
	row->p50_us = time_us; /* nccl-tests reports the mean only */
	row->busbw = busbw;
	return time_us >= 0 ? 0 : -EINVAL;
}

#define MAX_COLS 48

/* Split a line at blanks into at most MAX_COLS tokens (the line is modified). */
static int split(char *line, char **tok)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r", &save); t && n < MAX_COLS;
	     t = strtok_r(NULL, " \t\r", &save))
		tok[n++] = t;
	return n;
}

static bool whole(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	*out = (size_t)v;
	return !*end && !errno;
}

static bool number(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return end != s && !*end;
}

static int nccl_text(const char *path, char *text, struct plan_results *r, struct rank_hosts *rh,
		     char *msg, size_t msglen)
{
	int isize = -1, icount = -1, itype = -1, itime = -1, ibus = -1, ncols = 0, lineno = 0;
	size_t cap = 0;
	char *line, *next;
	int ret;

	for (line = text; line && *line; line = next) {
		char *tok[MAX_COLS];
		char copy[1024];
		int n, i, rank;
		bool last;

		next = strchr(line, '\n');
		last = !next;
		if (next)
			*next++ = 0;
		lineno++;
		snprintf(copy, sizeof(copy), "%s", line);
		n = split(copy, tok);
		if (!n)
			continue;
		if (tok[0][0] == '#') {
			const char *s;
			char host[256];
			int skip = 0;

			if ((s = strstr(line, "Collective test starting:")) &&
			    !strstr(s, "all_reduce")) {
				s += 25 + strspn(s + 25, " \t"); /* the test's name, maybe empty */
				return plan_file_error(
					msg, msglen, path,
					"line %d: not an all-reduce test (%s; expected "
					"all_reduce_perf output)",
					lineno, *s ? s : "no test name");
			}
			if (sscanf(line, "#  Rank %d Group %*d Pid %*d on %255s device%n", &rank,
				   host, &skip) == 2 &&
			    skip) {
				rank_host(rh, rank, host);
				continue;
			}
			/* the header "#  size  count  type  redop  root  time  algbw  busbw ..."
			 * (older versions have no root); data rows lack the leading '#' */
			if (itime >= 0 || strcmp(tok[0], "#") || n < 2 || strcmp(tok[1], "size"))
				continue;
			for (i = 2; i < n; i++) {
				if (strcmp(tok[i], "count") == 0)
					icount = i - 1;
				else if (strcmp(tok[i], "type") == 0)
					itype = i - 1;
				else if ((strcmp(tok[i], "time") == 0 ||
					  strcmp(tok[i], "cputime") == 0) &&
					 itime < 0)
					itime = i - 1;
				else if (strcmp(tok[i], "busbw") == 0 && ibus < 0)
					ibus = i - 1;
			}
			if (icount < 0 || itype < 0 || itime < 0 || ibus < 0) {
				icount = itype = itime = ibus = -1;
				continue;
			}
			isize = 0;
			ncols = ibus + 1;
			continue;
		}
		if (itime < 0)
			continue; /* before the header: NCCL INFO lines and the like */
		{
			size_t size, count;
			double t, bw;
			struct plan_row row;

			if (!whole(tok[0], &size))
				continue; /* a NCCL INFO or warning line between rows */
			if (n < ncols)
				return plan_file_error(
					msg, msglen, path,
					"line %d: %s row (%d of %d columns; expected nccl-tests' "
					"size count type redop root time algbw busbw ...)",
					lineno, last ? "truncated: an incomplete" : "a short", n,
					ncols);
			if (!whole(tok[isize], &size) || !whole(tok[icount], &count) ||
			    !number(tok[itime], &t) || !number(tok[ibus], &bw) ||
			    nccl_row_fill(&row, size, count, tok[itype], t, bw))
				return plan_file_error(
					msg, msglen, path,
					"line %d: not a result row (expected numbers for size, "
					"count, time and busbw)",
					lineno);
			ret = add_row(r, &cap, &row);
			if (ret)
				return ret;
		}
	}
	if (itime < 0)
		return plan_file_error(
			msg, msglen, path,
			"not nccl-tests output (no '#  size  count  type ...  time  algbw  busbw' "
			"header; expected all_reduce_perf's output)");
	if (!r->n_rows)
		return plan_file_error(
			msg, msglen, path,
			"no result rows after the header (truncated? expected rows of size, "
			"count, type, time, busbw)");
	return 0;
}

static int nccl_json(const char *path, json_t *doc, struct plan_results *r, struct rank_hosts *rh,
		     char *msg, size_t msglen)
{
	json_t *ver = json_object_get(doc, "version"), *res = json_object_get(doc, "results");
	json_t *devs = json_object_get(json_object_get(doc, "config"), "devices"), *e;
	size_t i, cap = 0;
	int ret;

	if (!json_is_object(doc) || !json_is_array(res) ||
	    !(json_object_get(doc, "nccl_version") || json_object_get(doc, "config")))
		return plan_file_error(
			msg, msglen, path,
			"not nccl-tests JSON (no \"nccl_version\", \"config\" or \"results\"; "
			"expected the file all_reduce_perf -J writes)");
	if (json_is_integer(ver) && json_integer_value(ver) > NCCL_JSON_SCHEMA)
		return plan_file_error(
			msg, msglen, path,
			"written by a newer nccl-tests (JSON schema %lld); this arplan reads "
			"schema %d",
			(long long)json_integer_value(ver), NCCL_JSON_SCHEMA);
	json_array_foreach(devs, i, e)
	{
		json_t *rk = json_object_get(e, "rank");
		const char *h = json_string_value(json_object_get(e, "hostname"));

		if (json_is_integer(rk) && h)
			rank_host(rh, (int)json_integer_value(rk), h);
	}
	json_array_foreach(res, i, e)
	{
		json_t *p = json_object_get(e, "out_of_place"), *t;
		json_int_t size, count;
		const char *type = json_string_value(json_object_get(e, "type"));
		struct plan_row row;

		if (!json_is_object(p))
			p = json_object_get(e, "in_place");
		t = json_object_get(p, "time");
		if (!t)
			t = json_object_get(p, "cpu_time");
		if (get_int(e, "size", 0, &size) || get_int(e, "count", 0, &count) ||
		    !json_is_number(t) ||
		    nccl_row_fill(&row, (size_t)size, (size_t)count, type ? type : "",
				  json_number_value(t),
				  json_number_value(json_object_get(p, "bus_bw"))))
			return plan_file_error(
				msg, msglen, path,
				"results[%zu]: expected size, count, type and out_of_place "
				"{time, alg_bw, bus_bw}",
				i);
		if (!json_is_object(json_object_get(e, "out_of_place")))
			row.inplace = true;
		ret = add_row(r, &cap, &row);
		if (ret)
			return ret;
	}
	if (!r->n_rows)
		return plan_file_error(msg, msglen, path, "no results in the nccl-tests JSON");
	return 0;
}

int plan_results_load_nccl(const char *path, int ranks, int nodes, struct plan_results **out,
			   char *msg, size_t msglen)
{
	struct rank_hosts rh = {.ranks = ranks};
	struct plan_results *r;
	char *text;
	size_t len;
	int ret, i;

	*out = NULL;
	if (ranks < 1 || nodes < 1 || nodes > ranks || ranks > 1 << 24)
		return plan_file_error(
			msg, msglen, path,
			"nccl-tests output needs the rank and node counts (expected 1 <= nodes "
			"<= ranks, got %d ranks, %d nodes)",
			ranks, nodes);
	ret = slurp(path, &text, &len, msg, msglen);
	if (ret)
		return ret;
	r = results_new(path, ranks, nodes);
	rh.host = calloc((size_t)ranks, sizeof(*rh.host));
	ret = -ENOMEM;
	if (!r || !rh.host)
		goto err_free;
	if (*skip_space(text) == '{') {
		json_t *doc = parse_json(path, text, len, msg, msglen);

		ret = -EINVAL;
		if (doc)
			ret = nccl_json(path, doc, r, &rh, msg, msglen);
		json_decref(doc);
	} else if (!*skip_space(text)) {
		ret = plan_file_error(msg, msglen, path, "empty file (expected nccl-tests output)");
	} else {
		ret = nccl_text(path, text, r, &rh, msg, msglen);
	}
	if (!ret)
		ret = nccl_place(path, r, &rh, msg, msglen);
	if (ret)
		goto err_free;
	*out = r;
	r = NULL;
err_free:
	for (i = 0; rh.host && i < ranks; i++)
		free(rh.host[i]);
	free(rh.host);
	plan_results_free(r);
	free(text);
	return ret;
}
