/*
 * yamlerr.c - file:line:column errors for the planner's YAML files (yamlerr.h): the position of
 * a YAML path found by walking the file's libyaml events, libcyaml's log turned into one line
 * with the expected form of the key.  Calibration and workload files use it, each with its
 * schema and the forms of its keys.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "planner/yamlerr.h"

const char *plan_yform_of(const struct plan_ydoc *d, const char *key)
{
	const struct plan_yform *f;

	for (f = d->forms; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f->form;
	return NULL;
}

/* The last key of a YAML path ("links.net.alpha_us" -> "alpha_us", "algorithms[2]" ->
 * "algorithms"). */
void plan_ylast_key(const char *path, char *buf, size_t len)
{
	const char *dot = strrchr(path, '.');
	const char *k = dot ? dot + 1 : path;

	snprintf(buf, len, "%.*s", (int)strcspn(k, "["), k);
}

/* ---- positions: walk the libyaml events for a YAML path ------------------------------------- */

#define MAX_DEPTH 32

struct walk {
	const char *target;
	bool want_key, found;
	unsigned line, col;
	char path[512];
	struct {
		bool map, want_key;
		unsigned index;
		size_t len;
		char key[128];
	} st[MAX_DEPTH];
	int depth;
};

static void child_path(struct walk *w)
{
	size_t n;

	if (!w->depth) {
		w->path[0] = 0;
		return;
	}
	n = w->st[w->depth - 1].len;
	if (w->st[w->depth - 1].map)
		snprintf(w->path + n, sizeof(w->path) - n, "%s%s", n ? "." : "",
			 w->st[w->depth - 1].key);
	else
		snprintf(w->path + n, sizeof(w->path) - n, "[%u]", w->st[w->depth - 1].index);
}

static void value_done(struct walk *w)
{
	if (!w->depth)
		return;
	if (w->st[w->depth - 1].map)
		w->st[w->depth - 1].want_key = true;
	else
		w->st[w->depth - 1].index++;
}

static void hit(struct walk *w, const yaml_mark_t *m, bool key)
{
	if (key != w->want_key || strcmp(w->path, w->target))
		return;
	w->found = true; /* the last match: a key given twice is found at its second use */
	w->line = (unsigned)m->line + 1;
	w->col = (unsigned)m->column + 1;
}

static bool on_event(struct walk *w, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return false;
	case YAML_SCALAR_EVENT:
		if (w->depth && w->st[w->depth - 1].map && w->st[w->depth - 1].want_key) {
			snprintf(w->st[w->depth - 1].key, sizeof(w->st[0].key), "%s",
				 (const char *)ev->data.scalar.value);
			w->st[w->depth - 1].want_key = false;
			child_path(w);
			hit(w, &ev->start_mark, true);
			return true;
		}
		/* fall through */
	case YAML_ALIAS_EVENT:
		child_path(w);
		hit(w, &ev->start_mark, false);
		value_done(w);
		return true;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		child_path(w);
		hit(w, &ev->start_mark, false);
		if (w->depth == MAX_DEPTH)
			return false;
		memset(&w->st[w->depth], 0, sizeof(w->st[0]));
		w->st[w->depth].map = ev->type == YAML_MAPPING_START_EVENT;
		w->st[w->depth].want_key = w->st[w->depth].map;
		w->st[w->depth].len = strlen(w->path);
		w->depth++;
		return true;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (w->depth)
			w->depth--;
		if (w->depth)
			w->path[w->st[w->depth - 1].len] = 0;
		value_done(w);
		return true;
	default:
		return true;
	}
}

/* Walk file; a syntax error fills *e (position and libyaml's words) and returns -EINVAL. */
static int walk_file(const char *file, struct walk *w, struct topo_error *e)
{
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f = fopen(file, "r");
	bool go = true;
	int ret = 0;

	if (!f)
		return -errno;
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&p, f);
	while (go) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (e) {
				e->line = (unsigned)p.problem_mark.line + 1;
				e->column = (unsigned)p.problem_mark.column + 1;
				snprintf(e->message, sizeof(e->message),
					 "YAML syntax error: %.200s%s%.100s (expected key: value "
					 "pairs, consistently indented)",
					 p.problem ? p.problem : "", p.context ? " " : "",
					 p.context ? p.context : "");
			}
			ret = -EINVAL;
			break;
		}
		go = on_event(w, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return ret;
}

/* Fill *err for path in file (key: point at the key, not the value).  Returns -EINVAL. */
int plan_yerrf(struct topo_error *err, const char *file, const char *path, bool key,
	       const char *fmt, ...)
{
	struct walk *w = calloc(1, sizeof(*w));
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = err->column = 1;
	if (w) {
		w->target = path;
		w->want_key = key;
		if (walk_file(file, w, NULL) == 0 && w->found) {
			err->line = w->line;
			err->column = w->col;
		}
		free(w);
	}
	if (*path)
		snprintf(err->message, sizeof(err->message), "%.100s: %s", path, msg);
	else
		snprintf(err->message, sizeof(err->message), "%s", msg);
	return -EINVAL;
}

/* ---- libcyaml's log, captured ---------------------------------------------------------------- */

void plan_ylog_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct plan_ylog *l = ctx;
	char msg[512];
	size_t n;
	unsigned li, co;
	const char *par;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	if (strncmp(msg, "Load: Backtrace:", 16) == 0) {
		l->in_backtrace = true;
		return;
	}
	if (l->in_backtrace) {
		par = strstr(msg, "(line: ");
		if (l->n_frames < 16 && par &&
		    sscanf(par, "(line: %u, column: %u)", &li, &co) == 2) {
			snprintf(l->frames[l->n_frames], sizeof(l->frames[0]), "%.159s", msg);
			l->line[l->n_frames] = li;
			l->col[l->n_frames] = co;
			l->n_frames++;
		}
		return;
	}
	if (!l->first[0])
		snprintf(l->first, sizeof(l->first), "%.250s",
			 strncmp(msg, "Load: ", 6) ? msg : msg + 6);
}

/* The YAML path of the backtrace from frame `from` outwards. */
static void frames_path(const struct plan_ylog *l, int from, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = l->n_frames - 1; i >= from && n < len; i--) {
		const char *q;
		char name[128];
		unsigned idx;

		if ((q = strstr(l->frames[i], "in mapping field '")) &&
		    sscanf(q, "in mapping field '%127[^']'", name) == 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "." : "", name);
		else if ((q = strstr(l->frames[i], "in sequence entry '")) &&
			 sscanf(q, "in sequence entry '%u'", &idx) == 1)
			n += (size_t)snprintf(buf + n, len - n, "[%u]", idx ? idx - 1 : 0);
	}
}

/* The keys a mapping at path accepts, "a, b, c". */
static void keys_at(const cyaml_schema_field_t *root, const char *path, char *buf, size_t len)
{
	const cyaml_schema_field_t *f = root;
	char comp[128];
	const char *p = path;
	size_t n = 0;

	while (*p && f) {
		size_t k = strcspn(p, ".[");

		if (!k) {
			p += strcspn(p, "]") + (*p == '[');
			p += *p == '.';
			continue;
		}
		snprintf(comp, sizeof(comp), "%.*s", (int)k, p);
		p += k;
		p += *p == '.';
		for (; f->key && strcmp(f->key, comp); f++)
			;
		if (!f->key)
			f = NULL;
		else if (f->value.type == CYAML_MAPPING)
			f = f->value.mapping.fields;
		else if (f->value.type == CYAML_SEQUENCE &&
			 f->value.sequence.entry->type == CYAML_MAPPING)
			f = f->value.sequence.entry->mapping.fields;
		else
			f = NULL;
	}
	buf[0] = 0;
	for (; f && f->key && n < len; f++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", f->key);
}

int plan_ycy_error(const struct plan_ydoc *d, const char *file, const struct plan_ylog *l,
		   cyaml_err_t ce, struct topo_error *err)
{
	char path[256], cont[256], key[128], name[128], exp[300], keys[300], kp[400];
	const char *what = l->first, *form;
	struct walk *w;
	int ret;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	if (ce == CYAML_ERR_FILE_OPEN) {
		snprintf(err->message, sizeof(err->message), "cannot open: %s (expected %s)",
			 strerror(errno), d->what);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->target = "\x01"; /* matches nothing: only syntax errors */
	ret = walk_file(file, w, err);
	free(w);
	if (ret == -EINVAL)
		return ret;
	frames_path(l, 0, path, sizeof(path));
	/* the innermost field frame names a key the error is about, not its container */
	frames_path(l, l->n_frames && strstr(l->frames[0], "in mapping field '") ? 1 : 0, cont,
		    sizeof(cont));
	if (sscanf(what, "Missing required mapping field: %127s", name) == 1) {
		form = plan_yform_of(d, name);
		return plan_yerrf(err, file, cont, false, "missing required field '%s'%s%s%s", name,
				  form ? " (expected " : "", form ? form : "", form ? ")" : "");
	}
	if (sscanf(what, "Unexpected key: %127[^\n]", name) == 1) {
		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		keys_at(d->root, cont, keys, sizeof(keys));
		plan_yerrf(err, file, kp, true, "unknown key (expected one of: %s)", keys);
		snprintf(err->message, sizeof(err->message),
			 "%.100s%sunknown key '%.60s' (expected one of: %.300s)", cont,
			 *cont ? ": " : "", name, keys);
		return -EINVAL;
	}
	if (sscanf(what, "Mapping field already seen: %127[^\n]", name) == 1) {
		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		return plan_yerrf(err, file, kp, true, "key '%s' given twice (expected it once)",
				  name);
	}
	plan_ylast_key(path, key, sizeof(key));
	form = plan_yform_of(d, key);
	snprintf(exp, sizeof(exp), " (expected %s)",
		 *path ? (form ? form : "another value") : d->top_form);
	if (strncmp(what, "Expecting ", 10) == 0) {
		char want[32] = "";

		sscanf(what, "Expecting %31[A-Z_]", want);
		plan_yerrf(err, file, path, false, "wrong type: a %s is needed here%s",
			   strncmp(want, "MAPPING", 7) == 0    ? "mapping"
			   : strncmp(want, "SEQUENCE", 8) == 0 ? "list"
							       : "single value",
			   exp);
	} else if (strstr(what, "entries")) {
		plan_yerrf(err, file, path, false, "%s%s", what, exp);
	} else {
		const char *v = strchr(what, ':');

		if (v) {
			v = v + 1 + (v[1] == ' ');
			plan_yerrf(err, file, path, false, "'%.*s' is not %s%s",
				   (int)strlen(v) - 2 * (*v == '\''), v + (*v == '\''),
				   strstr(what, "ENUM") ? "one of the allowed words"
				   : strstr(what, "UINT") || strstr(what, "uint")
					   ? "a whole number >= 0"
					   : "a number",
				   exp);
		} else {
			plan_yerrf(err, file, path, false, "invalid value: %s%s", what, exp);
		}
	}
	if (l->n_frames && err->line == 1 && err->column == 1) {
		err->line = l->line[0];
		err->column = l->col[0];
	}
	return -EINVAL;
}

/* value at path must be finite and >= min (> min when strict). */
int plan_ycheck(const struct plan_ydoc *d, const char *file, const char *path, double v, double min,
		bool strict, struct topo_error *err)
{
	char key[64];
	const char *form;

	if (isfinite(v) && (strict ? v > min : v >= min))
		return 0;
	plan_ylast_key(path, key, sizeof(key));
	form = plan_yform_of(d, key);
	return plan_yerrf(err, file, path, false, "%g is out of range (expected %s)", v,
			  form ? form : "another value");
}
