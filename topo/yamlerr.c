/*
 * yamlerr.c - YAML files read with libcyaml, with errors a user can act on: libcyaml's log is
 * captured and its first error turned into "file:line:column: path: message (expected FORM)",
 * the form taken from the file kind's table of what each key expects (struct topo_yaml_doc).
 * Topology files, catalog files and the planner's calibration and workload files all load
 * through topo_yaml_load(); positions come from locate.c.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/internal.h"

/* ---- what a key expects --------------------------------------------------------------------- */

/* The last key of a path ("links[3].rate" -> "rate"). */
static const char *last_key(const char *path, char *buf, size_t len)
{
	const char *dot = strrchr(path, '.');
	const char *k = dot ? dot + 1 : path;
	size_t n = strcspn(k, "[");

	if (n >= len)
		n = len - 1;
	memcpy(buf, k, n);
	buf[n] = 0;
	return buf;
}

const char *topo_yaml_form_of(const struct topo_yaml_doc *doc, const char *path)
{
	const struct topo_yaml_form *f;
	char key[128];

	last_key(path, key, sizeof(key));
	for (f = doc->forms; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f->form;
	return NULL;
}

/* The fields of the mapping at path ("" = the document; "[i]" steps into a list's entries), or
 * NULL when path is not a mapping of the schema. */
static const cyaml_schema_field_t *fields_at(const cyaml_schema_field_t *fields, const char *path)
{
	char comp[128];
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, ".[");
		const cyaml_schema_field_t *f;

		if (n == 0) { /* "[i]" or "." */
			p += strcspn(p, "]") + (p[0] == '[');
			if (*p == '.')
				p++;
			continue;
		}
		if (n >= sizeof(comp))
			return NULL;
		memcpy(comp, p, n);
		comp[n] = 0;
		p += n;
		for (f = fields; f->key; f++)
			if (strcmp(f->key, comp) == 0)
				break;
		if (!f->key)
			return NULL;
		if (f->value.type == CYAML_MAPPING)
			fields = f->value.mapping.fields;
		else if (f->value.type == CYAML_SEQUENCE &&
			 f->value.sequence.entry->type == CYAML_MAPPING)
			fields = f->value.sequence.entry->mapping.fields;
		else
			return NULL;
		if (*p == '.')
			p++;
	}
	return fields;
}

static const cyaml_schema_field_t *root_fields(const struct topo_yaml_doc *doc)
{
	return doc->schema->mapping.fields;
}

/* The keys a mapping at path accepts, as "a, b, c". */
static void keys_at(const struct topo_yaml_doc *doc, const char *path, char *buf, size_t len)
{
	const cyaml_schema_field_t *f = fields_at(root_fields(doc), path);
	size_t n = 0;

	buf[0] = 0;
	for (; f && f->key && n < len; f++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", f->key);
}

/* What the key at path expects: the doc's form of it, else for an enum "one of a, b, c" (into
 * words), else NULL. */
static const char *form_at(const struct topo_yaml_doc *doc, const char *path, char *words,
			   size_t len)
{
	const char *form = topo_yaml_form_of(doc, path), *dot = strrchr(path, '.');
	const cyaml_schema_field_t *f;
	char cont[512], key[128];
	size_t n, i;

	if (form)
		return form;
	snprintf(cont, sizeof(cont), "%.*s", dot ? (int)(dot - path) : 0, path);
	f = fields_at(root_fields(doc), cont);
	last_key(path, key, sizeof(key));
	for (; f && f->key && strcmp(f->key, key); f++)
		;
	if (!f || !f->key || f->value.type != CYAML_ENUM)
		return NULL;
	n = (size_t)snprintf(words, len, "one of ");
	for (i = 0; i < f->value.enumeration.count && n < len; i++)
		n += (size_t)snprintf(words + n, len - n, "%s%s", i ? ", " : "",
				      f->value.enumeration.strings[i].str);
	return words;
}

void topo__expected(const struct topo_yaml_doc *doc, const char *path, char *buf, size_t len)
{
	char words[256];
	const char *form = form_at(doc, path, words, sizeof(words));

	snprintf(buf, len, " (expected %s)", form ? form : *path ? "another value" : doc->top_form);
}

/* ---- libcyaml's log, captured --------------------------------------------------------------- */

/* The first error line and the backtrace frames, innermost first. */
struct cylog {
	char first[256];
	char frames[16][160];
	unsigned line[16], col[16];
	int n_frames;
	bool in_backtrace;
};

static void capture(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct cylog *l = ctx;
	char msg[512];
	size_t n;

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
		unsigned li, co;
		const char *par = strstr(msg, "(line: ");

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

/* The YAML path of the backtrace, from frame `from` outwards. */
static void frames_path(const struct cylog *l, int from, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = l->n_frames - 1; i >= from; i--) {
		const char *q;
		char name[128];
		unsigned idx;

		if ((q = strstr(l->frames[i], "in mapping field '")) &&
		    sscanf(q, "in mapping field '%127[^']'", name) == 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "." : "", name);
		else if ((q = strstr(l->frames[i], "in sequence entry '")) &&
			 sscanf(q, "in sequence entry '%u'", &idx) == 1)
			n += (size_t)snprintf(buf + n, len - n, "[%u]", idx ? idx - 1 : 0);
		if (n >= len)
			break;
	}
}

static bool frame_is_field(const struct cylog *l, int i)
{
	return i < l->n_frames && strstr(l->frames[i], "in mapping field '") != NULL;
}

/* A value of the wrong type or form at path (libcyaml's words in what). */
static void value_error(const char *file, const struct topo_yaml_doc *doc, const char *path,
			const char *what, struct topo_error *err)
{
	static const struct {
		const char *prefix, *says;
	} forms[] = {
		{"Invalid ENUM value: ", "is not one of the allowed words"},
		{"Invalid uint64_t value: ", "is not a whole number >= 0"},
		{"Invalid UINT value: ", "is not a whole number >= 0"},
		{"Invalid INT value: ", "is not a whole number"},
		{"Invalid FLOAT value: ", "is not a number"},
	};
	char exp[320];
	size_t i;

	topo__expected(doc, path, exp, sizeof(exp));
	if (strncmp(what, "Expecting ", 10) == 0) {
		char want[32] = "";

		sscanf(what, "Expecting %31[A-Z_]", want);
		topo__errf(err, file, path, false, "wrong type: a %s is needed here%s",
			   strncmp(want, "MAPPING", 7) == 0    ? "mapping"
			   : strncmp(want, "SEQUENCE", 8) == 0 ? "list"
							       : "single value",
			   exp);
		return;
	}
	if (strstr(what, "entries")) {
		topo__errf(err, file, path, false, "%s%s", what, exp);
		return;
	}
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strncmp(what, forms[i].prefix, strlen(forms[i].prefix)) == 0)
			break;
	if (i < sizeof(forms) / sizeof(forms[0])) {
		char v[128];
		const char *val = what + strlen(forms[i].prefix);
		size_t n = strlen(val);

		if (n >= 2 && val[0] == '\'' && val[n - 1] == '\'')
			snprintf(v, sizeof(v), "%.*s", (int)(n - 2), val + 1);
		else
			snprintf(v, sizeof(v), "%.120s", val);
		topo__errf(err, file, path, false, "'%s' %s%s", v, forms[i].says, exp);
	} else {
		topo__errf(err, file, path, false, "invalid value: %s%s", what, exp);
	}
}

/* Turn a failed cyaml_load_file (error ce, log l) into *err; -EINVAL. */
static int cy_error(const char *file, const struct topo_yaml_doc *doc, const struct cylog *l,
		    cyaml_err_t ce, struct topo_error *err)
{
	char path[512], cont[512], kp[700], exp[320], keys[320], name[128], words[256];
	const char *what = l->first, *form;
	unsigned line, col;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	if (ce == CYAML_ERR_FILE_OPEN) {
		snprintf(err->message, sizeof(err->message), "cannot open: %s%s%s%s",
			 strerror(errno), doc->what ? " (expected " : "",
			 doc->what ? doc->what : "", doc->what ? ")" : "");
		return -EINVAL;
	}
	if (topo__syntax_error(file, &line, &col, exp, sizeof(exp)) == -EINVAL) {
		err->line = line;
		err->column = col;
		snprintf(err->message, sizeof(err->message),
			 "YAML syntax error: %.300s (expected key: value pairs, consistently "
			 "indented)",
			 exp);
		return -EINVAL;
	}
	frames_path(l, 0, path, sizeof(path));
	/* the container: the innermost field frame is stale for key errors */
	frames_path(l, frame_is_field(l, 0) ? 1 : 0, cont, sizeof(cont));

	if (sscanf(what, "Missing required mapping field: %127s", name) == 1) {
		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		form = form_at(doc, kp, words, sizeof(words));
		return topo__errf(err, file, cont, false, "missing required field '%s'%s%s%s", name,
				  form ? " (expected " : "", form ? form : "", form ? ")" : "");
	}
	if (sscanf(what, "Unexpected key: %127[^\n]", name) == 1) {
		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		keys_at(doc, cont, keys, sizeof(keys));
		topo__errf(err, file, kp, true, "unknown key '%s' (expected one of: %.300s)", name,
			   keys);
		/* name the mapping, not the unknown key, before the message */
		snprintf(err->message, sizeof(err->message),
			 "%.100s%sunknown key '%.60s' (expected one of: %.300s)", cont,
			 *cont ? ": " : "", name, keys);
		return -EINVAL;
	}
	if (sscanf(what, "Mapping field already seen: %127[^\n]", name) == 1) {
		snprintf(kp, sizeof(kp), "%s%s%s", cont, *cont ? "." : "", name);
		return topo__errf(err, file, kp, true, "key '%s' given twice (expected it once)",
				  name);
	}
	value_error(file, doc, path, what, err);
	if (l->n_frames && err->line == 1 && err->column == 1) {
		err->line = l->line[0];
		err->column = l->col[0];
	}
	return -EINVAL;
}

/* ---- public ------------------------------------------------------------------------------ */

int topo_yaml_load(const char *file, const struct topo_yaml_doc *doc, void **out,
		   struct topo_error *err)
{
	cyaml_config_t cfg = {
		.log_fn = capture,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
	};
	struct cylog log;
	cyaml_err_t ce;

	*out = NULL;
	memset(&log, 0, sizeof(log));
	cfg.log_ctx = &log;
	ce = cyaml_load_file(file, &cfg, doc->schema, (cyaml_data_t **)out, NULL);
	if (ce != CYAML_OK) {
		*out = NULL;
		return ce == CYAML_ERR_OOM ? -ENOMEM : cy_error(file, doc, &log, ce, err);
	}
	/* libcyaml reads `2.7` as the integer 2: every integer field must be a plain one */
	if (*out) {
		struct topo__badint bad;
		int ret = topo__check_integers(file, doc->schema, &bad);

		if (!ret && bad.found)
			ret = topo__badint_error(file, doc, &bad, err);
		if (ret) {
			topo_yaml_free(doc, *out);
			*out = NULL;
			return ret;
		}
	}
	return 0;
}

void topo_yaml_free(const struct topo_yaml_doc *doc, void *data)
{
	const cyaml_config_t cfg = {
		.log_fn = cyaml_log,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
	};

	if (data)
		cyaml_free(&cfg, doc->schema, data, 0);
}

int topo_yaml_errf(struct topo_error *err, const char *file, const char *path, bool key,
		   const char *fmt, ...)
{
	char msg[448];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return topo__errf(err, file, path, key, "%s", msg);
}

int topo__badint_error(const char *file, const struct topo_yaml_doc *doc,
		       const struct topo__badint *bad, struct topo_error *err)
{
	char exp[320];

	topo__expected(doc, bad->path, exp, sizeof(exp));
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = bad->line;
	err->column = bad->col;
	snprintf(err->message, sizeof(err->message),
		 "%.200s%s'%.100s' is not a whole number%s%.150s", bad->path,
		 *bad->path ? ": " : "", bad->value, bad->is_signed ? "" : " >= 0", exp);
	return -EINVAL;
}
