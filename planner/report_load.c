/*
 * report_load.c - `arplan report`'s inputs.  Each file goes through results.c (rows, cluster map
 * and the same one-line errors: truncated, not arbench's, a newer schema); then what only a
 * report shows is read from the same document: arbench's version, the MPI library, the run's
 * settings, the hwloc inventory (nodes_info) and `arbench links`' list of links.  --anonymize
 * (plan_rpt_anonymize) then renames every host and drops the command line, the paths and the
 * parts of strings that can name a user or a build machine.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

/* A string member, or "" when missing or not a string; NULL only when out of memory. */
static char *dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return strdup(s ? s : "");
}

static int int_or(json_t *o, const char *key, int fallback)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1 << 30)
		return fallback;
	return (int)json_integer_value(v);
}

/* ---- inventory ------------------------------------------------------------------------------- */

/* "eth0 (100 Gbit/s, NUMA 0, RDMA), ib0 (...)": NULL when out of memory. */
static char *nics_text(json_t *nics)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_t *e;

	if (!f)
		return NULL;
	json_array_foreach(nics, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		double bps = json_number_value(json_object_get(e, "speed_bps"));
		int numa = json_is_integer(json_object_get(e, "numa_node"))
				   ? (int)json_integer_value(json_object_get(e, "numa_node"))
				   : -1;

		fprintf(f, "%s%s (", i ? ", " : "", name ? name : "?");
		if (bps >= 1e9 && isfinite(bps))
			fprintf(f, "%g Gbit/s", bps / 1e9);
		else if (bps > 0)
			fprintf(f, "%g Mbit/s", bps / 1e6);
		else
			fputs("speed unknown", f);
		if (numa >= 0)
			fprintf(f, ", NUMA %d", numa);
		fprintf(f, "%s)", json_is_true(json_object_get(e, "rdma")) ? ", RDMA" : "");
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* "2 x NVIDIA H100, 1 x ..." (runs of equal names counted). */
static char *gpus_text(json_t *gpus)
{
	char *buf = NULL;
	size_t len = 0, i, n = json_array_size(gpus);
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (i = 0; i < n;) {
		const char *name =
			json_string_value(json_object_get(json_array_get(gpus, i), "name"));
		size_t j = i + 1;

		if (!name)
			name = "?";
		while (j < n) {
			const char *next =
				json_string_value(json_object_get(json_array_get(gpus, j), "name"));

			if (!next || strcmp(next, name))
				break;
			j++;
		}
		fprintf(f, "%s%zu x %s", i ? ", " : "", j - i, name);
		i = j;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int load_nodes(const char *path, json_t *doc, struct plan_rpt_file *f, char *msg,
		      size_t msglen)
{
	json_t *list = json_object_get(doc, "nodes_info"), *e;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return plan_file_error(msg, msglen, path,
				       "\"nodes_info\" is not a list (expected one object "
				       "per node: name, cores, cpu_model, nics, gpus)");
	f->nodes = calloc(json_array_size(list) + 1, sizeof(*f->nodes));
	if (!f->nodes)
		return -ENOMEM;
	json_array_foreach(list, i, e)
	{
		struct plan_rpt_node *n = &f->nodes[i];
		json_t *nics = json_object_get(e, "nics"), *gpus = json_object_get(e, "gpus");

		if (!json_is_object(e) || (nics && !json_is_array(nics)) ||
		    (gpus && !json_is_array(gpus)))
			return plan_file_error(
				msg, msglen, path,
				"nodes_info[%zu] is not an object with lists \"nics\" and "
				"\"gpus\"",
				i);
		f->n_nodes = (int)i + 1;
		n->cores = int_or(e, "cores", -1);
		n->pus = int_or(e, "pus", -1);
		n->numa_nodes = int_or(e, "numa_nodes", -1);
		n->name = dup_str(e, "name");
		n->cpu_model = dup_str(e, "cpu_model");
		n->nics = nics_text(nics);
		n->gpus = gpus_text(gpus);
		if (!n->name || !n->cpu_model || !n->nics || !n->gpus)
			return -ENOMEM;
	}
	return 0;
}

/* "20 iterations after 5 warm-up, per-iteration time: avg over ranks, results checked, ..." */
static char *settings_text(json_t *doc)
{
	json_t *s = json_object_get(doc, "settings");
	const char *agg = json_string_value(json_object_get(s, "agg"));
	int seg = int_or(s, "segment_bytes", 0);
	char *buf = NULL, size[32];
	size_t len = 0;
	FILE *f;

	if (!json_is_object(s))
		return strdup("");
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "%d iterations after %d warm-up; iteration time: %s over ranks; results %s",
		int_or(s, "iters", 0), int_or(s, "warmup", 0), agg ? agg : "?",
		json_is_true(json_object_get(s, "check")) ? "checked" : "not checked");
	plan_rpt_size((size_t)seg, size, sizeof(size));
	fprintf(f, "; segment %s", seg ? size : "library default");
	if (json_is_true(json_object_get(s, "shared_buffers")))
		fputs("; node-shared buffers (-R 1)", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- links ----------------------------------------------------------------------------------- */

static int load_links(const char *path, json_t *doc, struct plan_rpt_file *f, char *msg,
		      size_t msglen)
{
	json_t *list = json_object_get(doc, "links"), *e;
	int ranks = f->res->ranks;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return plan_file_error(
			msg, msglen, path,
			"\"links\" is not a list (expected [{src, dst, src_host, dst_host, size, "
			"bw_gbps, lat_us, flagged}] as arbench links writes)");
	f->links = calloc(json_array_size(list) + 1, sizeof(*f->links));
	if (!f->links)
		return -ENOMEM;
	json_array_foreach(list, i, e)
	{
		struct plan_rpt_link *l = &f->links[i];
		json_t *src = json_object_get(e, "src"), *dst = json_object_get(e, "dst");
		json_t *size = json_object_get(e, "size"), *bw = json_object_get(e, "bw_gbps");
		json_t *lat = json_object_get(e, "lat_us");
		const char *sh = json_string_value(json_object_get(e, "src_host"));
		const char *dh = json_string_value(json_object_get(e, "dst_host"));

		if (!json_is_object(e))
			return plan_file_error(msg, msglen, path, "links[%zu] is not an object", i);
		if (!json_is_integer(src) || !json_is_integer(dst) || json_integer_value(src) < 0 ||
		    json_integer_value(dst) < 0 || json_integer_value(src) >= ranks ||
		    json_integer_value(dst) >= ranks ||
		    json_integer_value(src) == json_integer_value(dst))
			return plan_file_error(
				msg, msglen, path,
				"links[%zu]: \"src\" and \"dst\" must be two different ranks "
				"0..%d",
				i, ranks - 1);
		if (!sh || !dh)
			return plan_file_error(
				msg, msglen, path,
				"links[%zu]: \"src_host\" and \"dst_host\" must be strings", i);
		if (!json_is_integer(size) || json_integer_value(size) < 0 ||
		    json_integer_value(size) > (json_int_t)1 << 50)
			return plan_file_error(
				msg, msglen, path,
				"links[%zu]: \"size\" is not a whole number of bytes", i);
		if (!json_is_number(bw) || !(json_number_value(bw) >= 0) ||
		    !isfinite(json_number_value(bw)) || !json_is_number(lat) ||
		    !(json_number_value(lat) >= 0) || !isfinite(json_number_value(lat)))
			return plan_file_error(
				msg, msglen, path,
				"links[%zu]: \"bw_gbps\" and \"lat_us\" must be numbers >= 0", i);
		if (!json_is_boolean(json_object_get(e, "flagged")))
			return plan_file_error(msg, msglen, path,
					       "links[%zu]: \"flagged\" is not true or false", i);
		l->src = (int)json_integer_value(src);
		l->dst = (int)json_integer_value(dst);
		l->size = (size_t)json_integer_value(size);
		l->bw_gbps = json_number_value(bw);
		l->lat_us = json_number_value(lat);
		l->flagged = json_is_true(json_object_get(e, "flagged"));
		f->n_links = i + 1;
		l->src_host = strdup(sh);
		l->dst_host = strdup(dh);
		if (!l->src_host || !l->dst_host)
			return -ENOMEM;
	}
	return 0;
}

/* ---- files ----------------------------------------------------------------------------------- */

static int load_file(const char *path, struct plan_rpt_file *f, char *msg, size_t msglen)
{
	json_t *doc = NULL;
	int ret;

	ret = plan_results_load_doc(path, true, &f->res, &doc, msg, msglen);
	if (ret)
		return ret;
	ret = -ENOMEM;
	f->name = strdup(path);
	f->arbench_version = dup_str(doc, "arbench_version");
	f->mpi_library = dup_str(doc, "mpi_library");
	f->transport = dup_str(doc, "transport");
	f->command = dup_str(doc, "command");
	f->settings = settings_text(doc);
	if (!f->name || !f->arbench_version || !f->mpi_library || !f->transport || !f->command ||
	    !f->settings)
		goto out;
	ret = load_nodes(path, doc, f, msg, msglen);
	if (!ret)
		ret = load_links(path, doc, f, msg, msglen);
	if (!ret && !f->res->n_rows && !f->n_links)
		ret = plan_file_error(
			msg, msglen, path,
			"no results: the \"results\" list is empty%s (expected at least one "
			"measured size; did the run stop before its first size finished?)",
			json_object_get(doc, "links") ? " and so is \"links\"" : "");
out:
	json_decref(doc);
	return ret;
}

int plan_rpt_load(struct plan_report *r, char *const *paths, size_t n, char *msg, size_t msglen)
{
	size_t i;
	int ret;

	r->files = calloc(n + 1, sizeof(*r->files));
	if (!r->files)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		r->n_files = i + 1;
		ret = load_file(paths[i], &r->files[i], msg, msglen);
		if (ret)
			return ret;
	}
	return 0;
}

static void free_file(struct plan_rpt_file *f)
{
	int i;
	size_t k;

	for (i = 0; f->nodes && i < f->n_nodes; i++) {
		free(f->nodes[i].name);
		free(f->nodes[i].cpu_model);
		free(f->nodes[i].nics);
		free(f->nodes[i].gpus);
	}
	free(f->nodes);
	for (k = 0; f->links && k < f->n_links; k++) {
		free(f->links[k].src_host);
		free(f->links[k].dst_host);
	}
	free(f->links);
	plan_results_free(f->res);
	free(f->name);
	free(f->arbench_version);
	free(f->mpi_library);
	free(f->transport);
	free(f->command);
	free(f->settings);
}

void plan_rpt_free(struct plan_report *r)
{
	size_t i;

	for (i = 0; r->files && i < r->n_files; i++)
		free_file(&r->files[i]);
	free(r->files);
	free(r->points);
	free(r->refs);
	free(r->algos);
	free(r->links);
	free(r->topo_name);
	free(r->topo_path);
	free(r->calib_path);
	memset(r, 0, sizeof(*r));
}

/* ---- --anonymize ----------------------------------------------------------------------------- */

struct alias {
	const char *text; /* a host name or its short form */
	size_t len;
	int node;
};

struct aliases {
	struct alias *a;
	size_t n, cap;
	const char **hosts; /* distinct full names, in order of first appearance */
	size_t n_hosts;
};

static int alias_add(struct aliases *al, const char *host)
{
	size_t i, full = strlen(host), shrt = strcspn(host, ".");

	if (!full)
		return 0;
	for (i = 0; i < al->n_hosts; i++)
		if (!strcmp(al->hosts[i], host))
			return 0;
	if (al->n + 2 > al->cap) {
		size_t cap = al->cap ? al->cap * 2 : 64;
		struct alias *a = realloc(al->a, cap * sizeof(*a));
		const char **h = realloc(al->hosts, cap * sizeof(*h));

		if (a)
			al->a = a;
		if (h)
			al->hosts = h;
		if (!a || !h)
			return -ENOMEM;
		al->cap = cap;
	}
	al->hosts[al->n_hosts] = host;
	al->a[al->n++] = (struct alias){host, full, (int)al->n_hosts};
	/* "gpu17.example.org" also appears as "gpu17"; very short forms would mangle words */
	if (shrt < full && shrt >= 3)
		al->a[al->n++] = (struct alias){host, shrt, (int)al->n_hosts};
	al->n_hosts++;
	return 0;
}

/* s with every alias replaced, longest first at each position, in one pass (so "node1" of one
 * file and "node1" made from another host never chain).  Frees s.  NULL when out of memory. */
static char *scrub(char *s, const struct aliases *al)
{
	size_t i, cap, used = 0;
	const char *p;
	char *out;
	bool any = false;

	if (!s)
		return NULL;
	for (i = 0; i < al->n && !any; i++)
		any = memmem(s, strlen(s), al->a[i].text, al->a[i].len) != NULL;
	if (!any)
		return s;
	cap = strlen(s) * 4 + 32;
	out = malloc(cap);
	if (!out) {
		free(s);
		return NULL;
	}
	for (p = s; *p;) {
		const struct alias *best = NULL;

		for (i = 0; i < al->n; i++)
			if ((!best || al->a[i].len > best->len) &&
			    !strncmp(p, al->a[i].text, al->a[i].len))
				best = &al->a[i];
		if (best) {
			used += (size_t)snprintf(out + used, cap - used, "node%d", best->node);
			p += best->len;
		} else {
			out[used++] = *p++;
		}
	}
	out[used] = 0;
	free(s);
	return out;
}

/* The part of an MPI library string that names the library and its version only: up to the
 * first comma, and never past a '/', '@' or '\' (a build path or user@host). */
static void cut_library(char *s)
{
	s[strcspn(s, ",/@\\")] = 0;
	while (*s && s[strlen(s) - 1] == ' ')
		s[strlen(s) - 1] = 0;
}

/* A row's fixed-size field scrubbed in place; rows repeat a few names, so the last one is
 * remembered (raw and scrubbed). */
struct field_memo {
	char in[16], out[16];
	bool set;
};

static int scrub_field(char *field, size_t size, struct field_memo *m, const struct aliases *al)
{
	char *s;

	if (m->set && !strcmp(field, m->in)) {
		snprintf(field, size, "%s", m->out);
		return 0;
	}
	s = scrub(strdup(field), al);
	if (!s)
		return -ENOMEM;
	snprintf(m->in, sizeof(m->in), "%s", field);
	snprintf(field, size, "%s", s);
	snprintf(m->out, sizeof(m->out), "%s", field);
	m->set = strlen(m->in) < sizeof(m->in) - 1;
	free(s);
	return 0;
}

#define SCRUB(p)                                                                                   \
	do {                                                                                       \
		if (!((p) = scrub((p), &al)))                                                      \
			goto err_nomem;                                                            \
	} while (0)

int plan_rpt_anonymize(struct plan_report *r)
{
	struct aliases al = {0};
	struct field_memo algo_memo = {0}, op_memo = {0};
	size_t i, k, n_copied = 0;
	int n, ret = -ENOMEM;

	/* every host name first, so that all files share one numbering */
	for (i = 0; i < r->n_files; i++) {
		struct plan_rpt_file *f = &r->files[i];

		for (n = 0; n < f->res->nodes; n++)
			if (alias_add(&al, f->res->hosts[n]))
				goto err_nomem;
		for (n = 0; n < f->n_nodes; n++)
			if (alias_add(&al, f->nodes[n].name))
				goto err_nomem;
		for (k = 0; k < f->n_links; k++)
			if (alias_add(&al, f->links[k].src_host) ||
			    alias_add(&al, f->links[k].dst_host))
				goto err_nomem;
	}
	/* the aliases point into the strings scrubbed below: work on copies of the names */
	for (; n_copied < al.n_hosts; n_copied++)
		if (!(al.hosts[n_copied] = strdup(al.hosts[n_copied])))
			goto err_nomem;
	for (i = 0; i < al.n; i++)
		al.a[i].text = al.hosts[al.a[i].node];
	for (i = 0; i < r->n_files; i++) {
		struct plan_rpt_file *f = &r->files[i];
		char name[48];

		free(f->name);
		snprintf(name, sizeof(name), "results file %zu", i + 1);
		f->command[0] = 0;
		cut_library(f->mpi_library);
		if (!(f->name = strdup(name)))
			goto err_nomem;
		SCRUB(f->mpi_library);
		SCRUB(f->arbench_version);
		SCRUB(f->transport);
		SCRUB(f->settings);
		for (n = 0; n < f->res->nodes; n++)
			SCRUB(f->res->hosts[n]);
		for (n = 0; n < f->n_nodes; n++) {
			SCRUB(f->nodes[n].name);
			SCRUB(f->nodes[n].cpu_model);
			SCRUB(f->nodes[n].nics);
			SCRUB(f->nodes[n].gpus);
		}
		for (k = 0; k < f->n_links; k++) {
			SCRUB(f->links[k].src_host);
			SCRUB(f->links[k].dst_host);
		}
		/* fixed names in arbench's files; scrubbed all the same */
		for (k = 0; k < f->res->n_rows; k++) {
			struct plan_row *row = &f->res->rows[k];

			if (scrub_field(row->algo, sizeof(row->algo), &algo_memo, &al) ||
			    scrub_field(row->op, sizeof(row->op), &op_memo, &al))
				goto err_nomem;
		}
	}
	if (r->topo_name)
		SCRUB(r->topo_name);
	if (r->topo_path)
		r->topo_path[0] = 0;
	if (r->calib_path)
		r->calib_path[0] = 0;
	r->anonymized = true;
	ret = 0;
err_nomem:
	for (i = 0; i < n_copied; i++)
		free((char *)al.hosts[i]);
	free(al.hosts);
	free(al.a);
	return ret;
}
