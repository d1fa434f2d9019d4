/*
 * results_nccl.c - measured all-reduce times from nccl-tests' all_reduce_perf output: its text
 * table, or the JSON it writes with -J (schema 2).  nccl-tests logs do not say how ranks sit on
 * nodes, so the caller gives the counts; the "#  Rank N ... on HOST" lines, when present, give
 * the placement and the host names.  Every problem is one line naming the file.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

#define NCCL_JSON_SCHEMA 2

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
	row->esize = count ? (unsigned)(size / count) : plan__type_size(type);
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
			ret = plan__results_add_row(r, &cap, &row);
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
		if (plan__json_int(e, "size", 0, &size) || plan__json_int(e, "count", 0, &count) ||
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
		ret = plan__results_add_row(r, &cap, &row);
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
	char *text, first;
	size_t len;
	int ret, i;

	*out = NULL;
	if (ranks < 1 || nodes < 1 || nodes > ranks || ranks > 1 << 24)
		return plan_file_error(
			msg, msglen, path,
			"nccl-tests output needs the rank and node counts (expected 1 <= nodes "
			"<= ranks, got %d ranks, %d nodes)",
			ranks, nodes);
	ret = plan__slurp(path, &text, &len, msg, msglen);
	if (ret)
		return ret;
	r = plan__results_new(path, ranks, nodes);
	rh.host = calloc((size_t)ranks, sizeof(*rh.host));
	ret = -ENOMEM;
	if (!r || !rh.host)
		goto err_free;
	first = *plan__skip_space(text);
	if (first == '{') {
		json_t *doc = plan__parse_json(path, text, len, msg, msglen);

		ret = -EINVAL;
		if (doc)
			ret = nccl_json(path, doc, r, &rh, msg, msglen);
		json_decref(doc);
	} else if (!first) {
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
