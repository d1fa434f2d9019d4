/*
 * json.c - the results file (schema "version": 1, documented in README's "The JSON results
 * file"): run description, per-node hwloc summary and one entry per measured size, built with
 * jansson and rewritten atomically (a new FILE.tmp.PID.N, created with O_EXCL beside FILE, then
 * rename) after every size so that a run killed part-way leaves valid JSON holding the sizes it
 * finished.  A read-only or non-regular FILE is refused, never replaced.  No environment is
 * recorded.
 */
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* json_object_set_new / json_array_append_new return -1 on failure and steal the value. */
#define SET(obj, key, val) (json_object_set_new((obj), (key), (val)) ? -ENOMEM : 0)

static json_t *nic_json(const struct topo_nic_info *nic)
{
	return json_pack("{s:s, s:i, s:f, s:b}", "name", nic->name, "numa_node", nic->numa_node,
			 "speed_bps", nic->speed_bps, "rdma", nic->rdma);
}

static json_t *node_json(const struct topo_node_info *ni, const char *name)
{
	json_t *nics = json_array(), *gpus = json_array();

	for (int i = 0; nics && i < ni->n_nics; i++)
		json_array_append_new(nics, nic_json(&ni->nics[i]));
	for (int i = 0; gpus && i < ni->n_gpus; i++)
		json_array_append_new(gpus, json_pack("{s:s, s:i}", "name", ni->gpus[i].name,
						      "numa_node", ni->gpus[i].numa_node));
	return json_pack("{s:s, s:i, s:i, s:i, s:s, s:o, s:o}", "name", name, "cores", ni->cores,
			 "pus", ni->pus, "numa_nodes", ni->numa_nodes, "cpu_model", ni->cpu_model,
			 "nics", nics, "gpus", gpus);
}

static json_t *command_json(int argc, char **argv)
{
	size_t len = 1;
	json_t *s;
	char *buf;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	buf = calloc(1, len);
	if (!buf)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, argv[i]);
	}
	s = json_string(buf);
	free(buf);
	return s;
}

static json_t *settings_json(const struct bench_opts *o)
{
	return json_pack("{s:I, s:I, s:f, s:I, s:i, s:i, s:b, s:s, s:f, s:I, s:b}", "minbytes",
			 (json_int_t)o->minbytes, "maxbytes", (json_int_t)o->maxbytes, "stepfactor",
			 o->stepfactor, "stepbytes", (json_int_t)o->stepbytes, "iters", o->iters,
			 "warmup", o->warmup, "check", o->check != 0, "agg", bench_agg_name(o->agg),
			 "timeout_sec", o->timeout, "segment_bytes", (json_int_t)o->segment,
			 "shared_buffers", o->shared_buffers);
}

json_t *bench_json_new(const struct bench_run_info *info)
{
	const struct bench_cluster *cl = info->cl;
	json_t *doc = json_object(), *hosts = json_array(), *rpn = json_array(),
	       *nodes = json_array(), *node_of = json_array(), *local = json_array();
	const char **names = calloc((size_t)cl->map.n_nodes + 1, sizeof(*names));
	char name[256];
	int err = 0;

	if (!doc || !hosts || !rpn || !nodes || !names || !node_of || !local)
		goto err_free_parts;
	for (int r = 0; r < cl->map.n_ranks; r++) {
		err |= json_array_append_new(node_of, json_integer(cl->map.node_of_rank[r]));
		err |= json_array_append_new(local, json_integer(cl->map.local_rank[r]));
	}
	for (int n = 0; n < cl->map.n_nodes; n++) {
		bench_node_name(cl, n, info->o->anonymize, name, sizeof(name));
		names[n] = cl->hostnames[cl->map.first_rank_of_node[n]];
		err |= json_array_append_new(hosts, json_string(name));
		err |= json_array_append_new(rpn, json_integer(cl->map.ranks_on_node[n]));
		if (cl->nodes)
			err |= json_array_append_new(nodes, node_json(&cl->nodes[n], name));
	}
	err |= SET(doc, "version", json_integer(BENCH_JSON_VERSION));
	err |= SET(doc, "arbench_version", json_string(BENCH_VERSION));
	err |= SET(doc, "command", command_json(info->argc, info->argv));
	err |= SET(doc, "mpi_library", json_string(info->mpi_library));
	err |= SET(doc, "ranks", json_integer(cl->nranks));
	err |= SET(doc, "nodes", json_integer(cl->map.n_nodes));
	err |= SET(doc, "ranks_per_node", rpn);
	err |= SET(doc, "node_of_rank", node_of);
	err |= SET(doc, "local_rank", local);
	err |= SET(doc, "hosts", hosts);
	err |= SET(doc, "nodes_info", nodes);
	err |= SET(doc, "transport", json_string(info->o->transport));
	err |= SET(doc, "settings", settings_json(info->o));
	err |= SET(doc, "results", json_array());
	if (!err && info->o->anonymize)
		err = bench_json_anonymize(doc, names, cl->map.n_nodes);
	free(names);
	if (err) {
		json_decref(doc);
		return NULL;
	}
	return doc;

err_free_parts:
	free(names);
	json_decref(hosts);
	json_decref(rpn);
	json_decref(nodes);
	json_decref(node_of);
	json_decref(local);
	json_decref(doc);
	return NULL;
}

/* Times to the nanosecond and bandwidths to 1 kB/s: no binary noise in reports. */
static double ns(double us)
{
	return round(us * 1e3) / 1e3;
}

static double kbps(double gbps)
{
	return round(gbps * 1e6) / 1e6;
}

int bench_json_add(json_t *doc, const struct bench_result *r)
{
	json_t *results = json_object_get(doc, "results");
	json_t *e;

	if (!results)
		return -EINVAL;
	e = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:{s:f, s:f, s:f, s:f, s:f}, s:f, s:f, "
		      "s:I, s:i}",
		      "size", (json_int_t)r->size, "count", (json_int_t)r->count, "type",
		      ar_dtype_name(r->dtype), "op", ar_op_name(r->op), "algo", r->algo,
		      "transport", r->transport, "inplace", r->inplace, "time_us", "min",
		      ns(r->time_us.min), "p50", ns(r->time_us.p50), "avg", ns(r->time_us.avg),
		      "p99", ns(r->time_us.p99), "max", ns(r->time_us.max), "algbw", kbps(r->algbw),
		      "busbw", kbps(r->busbw), "wrong", (json_int_t)r->wrong, "slowest_rank",
		      r->slowest_rank);
	if (!e)
		return -ENOMEM;
	return json_array_append_new(results, e) ? -ENOMEM : 0;
}

/* ---- anonymisation --------------------------------------------------------------------------- */

struct alias {
	const char *text; /* a hostname or its short form */
	size_t len;
	int node;
};

/* Replace, in one left-to-right pass, the longest alias starting at each position. */
static char *scrub(const char *s, const struct alias *al, size_t n_al)
{
	size_t cap = strlen(s) * 2 + 64, used = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	while (*s) {
		const struct alias *best = NULL;

		for (size_t i = 0; i < n_al; i++)
			if ((!best || al[i].len > best->len) && !strncmp(s, al[i].text, al[i].len))
				best = &al[i];
		if (used + 32 >= cap) {
			char *bigger = realloc(out, cap *= 2);

			if (!bigger) {
				free(out);
				return NULL;
			}
			out = bigger;
		}
		if (best) {
			used += (size_t)snprintf(out + used, cap - used, "node%d", best->node);
			s += best->len;
		} else {
			out[used++] = *s++;
		}
	}
	out[used] = '\0';
	return out;
}

static int scrub_value(json_t *v, const struct alias *al, size_t n_al)
{
	const char *key;
	json_t *child;
	size_t i;
	char *clean;
	int err = 0;

	if (json_is_string(v)) {
		clean = scrub(json_string_value(v), al, n_al);
		if (!clean)
			return -ENOMEM;
		err = json_string_set(v, clean) ? -ENOMEM : 0;
		free(clean);
		return err;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i,
				   child) if ((err = scrub_value(child, al, n_al))) return err;
	} else if (json_is_object(v)) {
		json_object_foreach(v, key,
				    child) if ((err = scrub_value(child, al, n_al))) return err;
	}
	return 0;
}

int bench_json_anonymize(json_t *doc, const char *const *hostnames, int n)
{
	struct alias *al = calloc((size_t)n * 2 + 1, sizeof(*al));
	size_t n_al = 0;
	int err;

	if (!al)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		size_t full = strlen(hostnames[i]), shrt = strcspn(hostnames[i], ".");

		if (!full)
			continue;
		al[n_al++] = (struct alias){hostnames[i], full, i};
		/* "gpu17.example.org" also appears as "gpu17"; skip very short forms, which
		 * would mangle ordinary words */
		if (shrt < full && shrt >= 3)
			al[n_al++] = (struct alias){hostnames[i], shrt, i};
	}
	err = scrub_value(doc, al, n_al);
	free(al);
	return err;
}

/* May `path` be replaced?  0 when it does not exist or is a regular file we may write (root
 * too: a file with no write bit at all is read-only on purpose); -EACCES for a read-only file,
 * -ELOOP for a symlink (as O_NOFOLLOW), -EISDIR for a directory, -EINVAL for another
 * non-regular file.  *mode: its permission bits. */
static int replaceable(const char *path, mode_t *mode)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) ||
	    !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))
		return -EACCES;
	*mode = st.st_mode & 07777;
	return 0;
}

/* Create a new temporary file beside `path`: O_EXCL, so neither a planted file nor a planted
 * symlink is ever opened, and a name of our own (PID and a clock-derived number), so a stale
 * one does not block the run.  Returns the fd and the name in *tmp (malloc'd), or a negative errno.
 */
static int create_tmp(const char *path, char **tmp)
{
	struct timespec ts;
	size_t len = strlen(path) + 48;
	int attempt, fd = -EEXIST;

	*tmp = malloc(len);
	if (!*tmp)
		return -ENOMEM;
	for (attempt = 0; attempt < 100 && fd == -EEXIST; attempt++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(*tmp, len, "%s.tmp.%ld.%lx", path, (long)getpid(),
			 (unsigned long)ts.tv_nsec ^ (unsigned long)attempt);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

int bench_json_write(const json_t *doc, const char *path)
{
	mode_t mode = 0;
	char *tmp;
	FILE *f;
	int fd, err;

	err = replaceable(path, &mode);
	if (err)
		return err;
	fd = create_tmp(path, &tmp);
	if (fd < 0)
		return fd;
	if (mode && fchmod(fd, mode)) { /* keep the mode of the file replaced */
		err = -errno;
		close(fd);
		goto err_unlink;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto err_unlink;
	}
	errno = 0;
	if (json_dumpf(doc, f, JSON_INDENT(1)) || fflush(f) || ferror(f)) {
		err = errno ? -errno : -EIO;
		fclose(f);
		goto err_unlink;
	}
	if (fclose(f)) {
		err = -errno;
		goto err_unlink;
	}
	if (rename(tmp, path)) {
		err = -errno;
		goto err_unlink;
	}
	free(tmp);
	return 0;

err_unlink:
	unlink(tmp);
	free(tmp);
	return err;
}
