/*
 * counters.c - the bytes every link of the lab carried, each way: what `arlab counters` prints
 * and `arlab status` ends with, so a user sees which uplinks ECMP hashing loaded.
 *
 * `arlab up` writes the state file "links" (both ends of every link: namespace, interface,
 * name).  A link's a->b bytes are the transmit counter of its a end (what left a's shaper onto
 * the cable).  A baseline ("counters.base": when, why, and every end's counter) is saved at the
 * start of every `arlab run` and by `arlab counters --reset`; the figures printed are the
 * counters now minus the baseline, or since the lab came up when there is none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/lab/lab.h"

#define BASE_FILE "counters.base"

struct link_row {
	char ns[2][LAB_NAME_MAX + 8], dev[2][32], name[2][LAB_NAME_MAX + 16], cls[8];
};

/* A name without blanks for the one-line-per-link state file. */
static void no_blanks(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
	for (char *c = dst; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == '\n')
			*c = '_';
}

static void end_name(const struct lab_fabric *f, const struct lab_end *e, char *buf, size_t len)
{
	char tmp[LAB_NAME_MAX + 16];

	if (e->kind == LAB_END_HOST)
		snprintf(tmp, sizeof(tmp), "%s/nic%u", f->hosts[e->index].name, e->nic);
	else
		snprintf(tmp, sizeof(tmp), "%s", f->bridges[e->index].name);
	no_blanks(buf, len, tmp);
}

int lab_state_write_links(const struct lab_fabric *f, const char *dir)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/links", dir);
	fp = fopen(path, "w");
	if (!fp)
		return -errno;
	for (uint32_t l = 0; l < f->n_links; l++) {
		const struct lab_link *k = &f->links[l];
		struct link_row r;

		for (int s = 0; s < 2; s++) {
			lab_link_end(f, l, s, r.ns[s], sizeof(r.ns[s]), r.dev[s], sizeof(r.dev[s]));
			end_name(f, s ? &k->b : &k->a, r.name[s], sizeof(r.name[s]));
		}
		fprintf(fp, "%s %s %s %s %s %s %s\n", r.ns[0], r.dev[0], r.ns[1], r.dev[1],
			r.name[0], r.name[1],
			k->a.kind == LAB_END_BRIDGE && k->b.kind == LAB_END_BRIDGE ? "fabric"
										   : "host");
	}
	return fclose(fp) ? -errno : 0;
}

static int read_links(const char *dir, struct link_row **rows, size_t *n)
{
	char path[4096], *data = NULL, *save = NULL, *line;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/links", dir);
	rc = lab_read_file(path, &data, NULL);
	if (rc)
		return rc;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct link_row r;

		if (sscanf(line, "%71s %31s %71s %31s %79s %79s %7s", r.ns[0], r.dev[0], r.ns[1],
			   r.dev[1], r.name[0], r.name[1], r.cls) != 7)
			continue;
		if (*n == cap) {
			struct link_row *x;

			cap = cap ? 2 * cap : 64;
			x = realloc(*rows, cap * sizeof(*x));
			if (!x) {
				rc = -ENOMEM;
				break;
			}
			*rows = x;
		}
		(*rows)[(*n)++] = r;
	}
	free(data);
	return rc;
}

/* The transmit byte counter of dev in the output of `ip -s -o link show` (one line per
 * interface: "N: DEV[@PEER]: ... TX:  bytes packets ...\    BYTES ..."); -1 when absent. */
static long long tx_bytes(const char *out, const char *dev)
{
	size_t n = strlen(dev);
	const char *line = out;

	while (line && *line) {
		const char *name = strstr(line, ": "), *tx, *eol = strchr(line, '\n');

		if (name && (!eol || name < eol)) {
			name += 2;
			if (!strncmp(name, dev, n) && (name[n] == ':' || name[n] == '@')) {
				tx = strstr(name, "TX:");
				if (!tx || (eol && tx > eol) || !(tx = strchr(tx, '\\')))
					return -1;
				return strtoll(tx + 1, NULL, 10);
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

/* Every end's transmit counter now, into tx[2 * n] (-1 when the interface is gone): one
 * `ip -s -o link show` per namespace. */
static int read_tx(const struct link_row *rows, size_t n, long long *tx)
{
	static char out[1 << 20];

	for (size_t i = 0; i < 2 * n; i++)
		tx[i] = -2; /* not read yet */
	for (size_t i = 0; i < 2 * n; i++) {
		const char *ns = rows[i / 2].ns[i % 2];
		char *argv[] = {"ip", "-n", (char *)ns, "-s", "-o", "link", "show", NULL};

		if (tx[i] != -2)
			continue;
		if (lab_run(argv, out, sizeof(out), NULL, 0) != 0)
			out[0] = '\0';
		for (size_t j = i; j < 2 * n; j++)
			if (tx[j] == -2 && !strcmp(rows[j / 2].ns[j % 2], ns))
				tx[j] = tx_bytes(out, rows[j / 2].dev[j % 2]);
	}
	return 0;
}

int lab_counters_reset(const char *dir)
{
	struct link_row *rows = NULL;
	long long *tx = NULL;
	char path[4096];
	size_t n = 0;
	FILE *fp = NULL;
	int rc;

	rc = read_links(dir, &rows, &n);
	if (rc)
		return rc;
	tx = malloc((2 * n + 1) * sizeof(*tx));
	rc = -ENOMEM;
	if (!tx)
		goto out;
	read_tx(rows, n, tx);
	snprintf(path, sizeof(path), "%s/" BASE_FILE, dir);
	fp = fopen(path, "w");
	rc = -errno;
	if (!fp)
		goto out;
	fprintf(fp, "%lld\n", (long long)time(NULL));
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%lld %lld\n", tx[2 * i], tx[2 * i + 1]);
	rc = fclose(fp) ? -errno : 0;
out:
	free(tx);
	free(rows);
	return rc;
}

/* The baseline, when there is one for these n links: base[2n] and its time. */
static bool read_base(const char *dir, size_t n, long long *base, long long *when)
{
	char path[4096];
	size_t i = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/" BASE_FILE, dir);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	if (fscanf(fp, "%lld", when) == 1)
		for (; i < 2 * n && fscanf(fp, "%lld", &base[i]) == 1; i++)
			;
	fclose(fp);
	return i == 2 * n;
}

int lab_counters_print(const char *dir, bool fabric_only, FILE *out)
{
	struct link_row *rows = NULL;
	long long *tx = NULL, *base = NULL, when = 0;
	size_t n = 0;
	bool have_base;
	int rc;

	rc = read_links(dir, &rows, &n);
	if (rc) {
		fprintf(stderr, "arlab: cannot read %s/links: %s (is a lab up?)\n", dir,
			strerror(-rc));
		return rc;
	}
	tx = malloc((2 * n + 1) * sizeof(*tx));
	base = calloc(2 * n + 1, sizeof(*base));
	rc = -ENOMEM;
	if (!tx || !base)
		goto out;
	read_tx(rows, n, tx);
	have_base = read_base(dir, n, base, &when);
	if (have_base) {
		char stamp[32];
		time_t t = (time_t)when;
		struct tm tm;

		strftime(stamp, sizeof(stamp), "%H:%M:%S UTC", gmtime_r(&t, &tm));
		fprintf(out,
			"# bytes each link carried each way since %s (%lld s ago: the start of the "
			"last `arlab run` or `arlab counters --reset`)\n",
			stamp, (long long)time(NULL) - when);
	} else {
		fprintf(out, "# bytes each link carried each way since the lab came up\n");
	}
	fprintf(out, "# %-5s %-6s %-20s %-20s %12s %12s\n", "link", "class", "end a", "end b",
		"a->b (MB)", "b->a (MB)");
	for (size_t i = 0; i < n; i++) {
		double mb[2];

		if (fabric_only && strcmp(rows[i].cls, "fabric"))
			continue;
		for (int s = 0; s < 2; s++) {
			long long now = tx[2 * i + (size_t)s], b = base[2 * i + (size_t)s];

			mb[s] = now < 0 ? -1 : (double)(now - (b > 0 && b <= now ? b : 0)) / 1e6;
		}
		fprintf(out, "  %-5zu %-6s %-20s %-20s ", i, rows[i].cls, rows[i].name[0],
			rows[i].name[1]);
		for (int s = 0; s < 2; s++)
			if (mb[s] < 0)
				fprintf(out, " %12s", "gone");
			else
				fprintf(out, " %12.3f", mb[s]);
		fprintf(out, "\n");
	}
	rc = 0;
out:
	free(tx);
	free(base);
	free(rows);
	return rc;
}
