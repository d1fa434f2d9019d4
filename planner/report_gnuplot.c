/*
 * report_gnuplot.c - running gnuplot for `arplan report` (report_plot.c writes the scripts): one
 * child process in the plot directory, standard input and output to /dev/null, its messages
 * read through a pipe so that a failure is reported as gnuplot's own error line; then each
 * chart's SVG read back for inlining, from "<svg" on, with every id and reference prefixed by
 * the chart's name so that several charts can share one page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "planner/internal.h"

#define PATH_LEN 4160 /* the plot directory (at most 4096) and a file name */

/* gnuplot's error among its messages: the first line '"busbw.gp" line 12: ...' that is not a
 * warning, else the first line.  Cut at its end. */
static char *error_line(char *err)
{
	char *line = err, *l, *colon;

	for (l = err; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
		colon = strchr(l, ':');
		if (*l == '"' && colon && colon < l + strcspn(l, "\n") &&
		    strncmp(colon, ": warning", 9)) {
			line = l;
			break;
		}
	}
	line[strcspn(line, "\n")] = 0;
	return line;
}

/* Run `gnuplot A.gp B.gp ...` in dir; 0, or -EIO with its first error line in msg. */
int plan_rpt_gnuplot(const char *dir, const char *const *ids, size_t n, char *msg, size_t msglen)
{
	char scripts[PLAN_RPT_MAX_CHARTS][32], err[1024];
	char *argv[PLAN_RPT_MAX_CHARTS + 2];
	size_t i, got = 0;
	int fd[2], status;
	ssize_t k;
	pid_t pid;

	argv[0] = "gnuplot";
	for (i = 0; i < n; i++) {
		snprintf(scripts[i], sizeof(scripts[i]), "%s.gp", ids[i]);
		argv[i + 1] = scripts[i];
	}
	argv[n + 1] = NULL;
	fflush(NULL);
	if (pipe(fd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fd[1], 2) < 0 ||
		    chdir(dir))
			_exit(126);
		close(fd[0]);
		execvp("gnuplot", argv);
		dprintf(2, "arplan-report: exec gnuplot: %s\n", strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	while ((k = read(fd[0], err + got, sizeof(err) - 1 - got)) > 0 || (k < 0 && errno == EINTR))
		if (k > 0)
			got += (size_t)k;
	/* drain the rest so gnuplot never blocks on a full pipe */
	while ((k = read(fd[0], (char[512]){0}, 512)) > 0 || (k < 0 && errno == EINTR))
		;
	close(fd[0]);
	err[got] = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(msg, msglen,
			 "cannot run gnuplot (%s): install it (Debian: gnuplot-nox), or use "
			 "--format md or csv, which need no charts",
			 strstr(err, "exec gnuplot: ") ? strstr(err, "exec gnuplot: ") + 14 : "?");
	else {
		char *line = error_line(err);

		snprintf(msg, msglen, "gnuplot failed in %s (%s %d): %s", dir,
			 WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 *line ? line : "no message");
	}
	return -EIO;
}

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static char *read_text(const char *path)
{
	char *text = NULL, buf[8192];
	size_t len = 0, n;
	FILE *f = fopen(path, "r"), *mem;

	if (!f)
		return NULL;
	mem = open_memstream(&text, &len);
	while (mem && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	if (ferror(f) || !mem || fclose(mem)) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* gnuplot's SVG for inlining: from "<svg" on, ids and references prefixed with "ID-". */
char *plan_rpt_svg(const char *dir, const char *id)
{
	static const char *const refs[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
	char path[PATH_LEN], *text, *out = NULL, *p;
	size_t len = 0, i;
	FILE *mem;

	snprintf(path, sizeof(path), "%s/%s.svg", dir, id);
	text = read_text(path);
	p = text ? strstr(text, "<svg") : NULL;
	mem = p ? open_memstream(&out, &len) : NULL;
	if (!mem) {
		free(text);
		return NULL;
	}
	fprintf(mem, "<svg class=\"chart-svg\" role=\"img\" aria-labelledby=\"%s-title\"", id);
	for (p += 4; *p;) {
		for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
			if (!strncmp(p, refs[i], strlen(refs[i])))
				break;
		if (i < sizeof(refs) / sizeof(refs[0])) {
			fprintf(mem, "%s%s-", refs[i], id);
			p += strlen(refs[i]);
		} else {
			fputc(*p++, mem);
		}
	}
	if (fclose(mem)) {
		free(out);
		out = NULL;
	}
	free(text);
	return out;
}
