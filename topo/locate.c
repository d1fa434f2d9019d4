/*
 * locate.c - point an error at the right place in a YAML file.
 *
 * libcyaml turns a file into C structs but keeps no positions, and semantic checks run on the
 * structs.  So each check names a YAML path ("fabric.radix", "links[3].rate"), and on error this
 * file walks the file's libyaml events once to find that path's line and column (1-based).  The
 * same walk reports libyaml's own syntax errors at their position.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "topo/internal.h"

#define MAX_DEPTH 64

struct frame {
	bool map;	 /* mapping, else sequence */
	bool want_key;	 /* mapping: the next node is a key */
	unsigned index;	 /* sequence: index of the next entry */
	size_t path_len; /* length of this container's own path */
	char key[128];	 /* mapping: the current key */
};

struct walk {
	const char *target;
	bool want_key_mark;
	bool found;
	unsigned line, col;
	char path[1024];
	struct frame st[MAX_DEPTH];
	int depth;
};

/* Set w->path to the path of the node that is about to start, given the top frame. */
static void child_path(struct walk *w)
{
	struct frame *f;
	size_t n;

	if (w->depth == 0) {
		w->path[0] = 0;
		return;
	}
	f = &w->st[w->depth - 1];
	n = f->path_len;
	if (f->map)
		snprintf(w->path + n, sizeof(w->path) - n, "%s%s", n ? "." : "", f->key);
	else
		snprintf(w->path + n, sizeof(w->path) - n, "[%u]", f->index);
}

static void value_done(struct walk *w)
{
	struct frame *f;

	if (w->depth == 0)
		return;
	f = &w->st[w->depth - 1];
	if (f->map)
		f->want_key = true;
	else
		f->index++;
}

static void hit(struct walk *w, const yaml_mark_t *m)
{
	w->found = true; /* keep the last match: a duplicate key is found at its second use */
	w->line = (unsigned)m->line + 1;
	w->col = (unsigned)m->column + 1;
}

/* Returns 1 to go on, 0 at the end of the stream. */
static int on_event(struct walk *w, const yaml_event_t *ev)
{
	struct frame *top = w->depth ? &w->st[w->depth - 1] : NULL;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 0;
	case YAML_SCALAR_EVENT:
		if (top && top->map && top->want_key) {
			snprintf(top->key, sizeof(top->key), "%s",
				 (const char *)ev->data.scalar.value);
			top->want_key = false;
			child_path(w);
			if (w->want_key_mark && strcmp(w->path, w->target) == 0)
				hit(w, &ev->start_mark);
			return 1;
		}
		child_path(w);
		if (!w->want_key_mark && strcmp(w->path, w->target) == 0)
			hit(w, &ev->start_mark);
		value_done(w);
		return 1;
	case YAML_ALIAS_EVENT:
		child_path(w);
		if (!w->want_key_mark && strcmp(w->path, w->target) == 0)
			hit(w, &ev->start_mark);
		value_done(w);
		return 1;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		child_path(w);
		if (!w->want_key_mark && strcmp(w->path, w->target) == 0)
			hit(w, &ev->start_mark);
		if (w->depth == MAX_DEPTH)
			return 0;
		top = &w->st[w->depth++];
		memset(top, 0, sizeof(*top));
		top->map = ev->type == YAML_MAPPING_START_EVENT;
		top->want_key = top->map;
		top->path_len = strlen(w->path);
		return 1;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (w->depth)
			w->depth--;
		if (w->depth)
			w->path[w->st[w->depth - 1].path_len] = 0;
		value_done(w);
		return 1;
	default:
		return 1;
	}
}

/* Walk the file; on a syntax error fill *syn_line/col/msg and return -EINVAL. */
static int walk_file(const char *file, struct walk *w, unsigned *syn_line, unsigned *syn_col,
		     char *syn_msg, size_t syn_len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f = fopen(file, "r");
	int go = 1, ret = 0;

	if (!f)
		return -errno;
	if (!yaml_parser_initialize(&p)) {
		ret = -ENOMEM;
		goto err_close;
	}
	yaml_parser_set_input_file(&p, f);
	while (go) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (syn_line) {
				*syn_line = (unsigned)p.problem_mark.line + 1;
				*syn_col = (unsigned)p.problem_mark.column + 1;
				snprintf(syn_msg, syn_len, "%s%s%s",
					 p.problem ? p.problem : "YAML syntax error",
					 p.context ? " " : "", p.context ? p.context : "");
			}
			ret = -EINVAL;
			break;
		}
		go = on_event(w, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
err_close:
	fclose(f);
	return ret;
}

int topo__locate(const char *file, const char *path, bool key, unsigned *line, unsigned *col)
{
	struct walk *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->target = path;
	w->want_key_mark = key;
	ret = walk_file(file, w, NULL, NULL, NULL, 0);
	if (!w->found && key && !ret) { /* a sequence entry has no key: point at its value */
		memset(w, 0, sizeof(*w));
		w->target = path;
		ret = walk_file(file, w, NULL, NULL, NULL, 0);
	}
	if (w->found) {
		*line = w->line;
		*col = w->col;
		ret = 0;
	} else if (!ret) {
		ret = -ENOENT;
	}
	free(w);
	return ret;
}

int topo__syntax_error(const char *file, unsigned *line, unsigned *col, char *msg, size_t len)
{
	struct walk *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->target = "\x01"; /* matches nothing */
	ret = walk_file(file, w, line, col, msg, len);
	free(w);
	return ret;
}

int topo__errf(struct topo_error *err, const char *file, const char *path, bool key,
	       const char *fmt, ...)
{
	va_list ap;
	unsigned line = 0, col = 0;
	char msg[448];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!err)
		return -EINVAL;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	if (path && topo__locate(file, path, key, &line, &col) == 0) {
		err->line = line;
		err->column = col;
	} else {
		err->line = 1;
		err->column = 1;
	}
	if (path && *path)
		snprintf(err->message, sizeof(err->message), "%s: %s", path, msg);
	else
		snprintf(err->message, sizeof(err->message), "%s", msg);
	return -EINVAL;
}

void topo_error_format(const struct topo_error *e, char *buf, size_t len)
{
	if (e->line)
		snprintf(buf, len, "%s:%u:%u: %s", e->file, e->line, e->column, e->message);
	else
		snprintf(buf, len, "%s: %s", e->file, e->message);
}
