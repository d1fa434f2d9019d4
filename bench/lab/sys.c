/*
 * sys.c - the lab's contact with the system: running `ip`/`tc` with fork/exec (no shell),
 * listing what carries the lab prefix (namespaces, root-namespace links), tearing it all down,
 * and reading and writing files, such as the host list of the state directory (/run/arlab;
 * state.c writes it).  It knows nothing of fabrics: every other file of the lab may call it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/lab/lab.h"

/* Append n bytes to buf (NUL-terminated, at most len-1 bytes kept). */
static void append(char *buf, size_t len, size_t *used, const char *data, size_t n)
{
	if (!buf || len == 0)
		return;
	if (n > len - 1 - *used)
		n = len - 1 - *used;
	memcpy(buf + *used, data, n);
	*used += n;
	buf[*used] = '\0';
}

int lab_run(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	int po[2], pe[2], status, open_fds = 2;
	size_t uo = 0, ue = 0;
	pid_t pid;

	if (out && outlen)
		out[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC))
		goto err_close_po;
	pid = fork();
	if (pid < 0)
		goto err_close_pe;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	while (open_fds) {
		struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &pe[0] : &po[0];
			char tmp[4096];
			ssize_t r;

			if (*fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(*fd, tmp, sizeof(tmp));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(*fd);
				*fd = -1;
				open_fds--;
				continue;
			}
			if (i)
				append(err, errlen, &ue, tmp, (size_t)r);
			else
				append(out, outlen, &uo, tmp, (size_t)r);
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (err && errlen) { /* one line: strip the trailing newline */
		size_t n = strlen(err);

		while (n && (err[n - 1] == '\n' || err[n - 1] == '\r'))
			err[--n] = '\0';
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);

err_close_pe:
	close(pe[0]);
	close(pe[1]);
err_close_po:
	close(po[0]);
	close(po[1]);
	return -errno;
}

int lab_run_cmd(const struct lab_cmd *c, bool verbose, char *err, size_t errlen)
{
	if (verbose) {
		for (int i = 0; i < c->argc; i++)
			printf("%s%s", i ? " " : "+ ", c->argv[i]);
		printf("\n");
		fflush(stdout);
	}
	return lab_run(c->argv, NULL, 0, err, errlen);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_name(char ***names, size_t *n, const char *s)
{
	char **p = realloc(*names, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*names = p;
	p[*n] = strdup(s);
	if (!p[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

void lab_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int lab_list_netns(char ***names, size_t *n)
{
	DIR *d = opendir(LAB_NETNS_DIR);
	struct dirent *e;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && (e = readdir(d)))
		if (strncmp(e->d_name, LAB_PREFIX, strlen(LAB_PREFIX)) == 0)
			rc = push_name(names, n, e->d_name);
	closedir(d);
	if (rc) {
		lab_free_names(*names, *n);
		*names = NULL;
		*n = 0;
		return rc;
	}
	qsort(*names, *n, sizeof(**names), name_cmp);
	return 0;
}

int lab_list_root_links(char ***names, size_t *n)
{
	struct if_nameindex *ifs = if_nameindex();
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!ifs)
		return -errno;
	for (struct if_nameindex *i = ifs; i->if_index && !rc; i++)
		if (strncmp(i->if_name, LAB_PREFIX, strlen(LAB_PREFIX)) == 0)
			rc = push_name(names, n, i->if_name);
	if_freenameindex(ifs);
	if (rc) {
		lab_free_names(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

/* Stop the processes inside namespace ns (TERM, then KILL after 2 s).  Returns how many. */
static unsigned stop_procs(const char *ns, bool verbose)
{
	char out[8192], *save = NULL, *tok;
	char *argv[] = {"ip", "netns", "pids", (char *)ns, NULL};
	pid_t pids[512];
	unsigned n = 0;

	if (lab_run(argv, out, sizeof(out), NULL, 0) != 0)
		return 0;
	for (tok = strtok_r(out, " \n", &save); tok && n < 512;
	     tok = strtok_r(NULL, " \n", &save)) {
		long v = strtol(tok, NULL, 10);

		if (v > 1 && v != getpid())
			pids[n++] = (pid_t)v;
	}
	for (unsigned i = 0; i < n; i++) {
		if (verbose)
			printf("+ kill -TERM %d (in %s)\n", (int)pids[i], ns);
		kill(pids[i], SIGTERM);
	}
	for (int t = 0; t < 20 && n; t++) {
		bool alive = false;
		struct timespec ts = {0, 100 * 1000 * 1000};

		for (unsigned i = 0; i < n; i++)
			alive |= kill(pids[i], 0) == 0;
		if (!alive)
			return n;
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	return n;
}

/* Remove the files of the state directory and the directory. */
static int remove_state(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(dir) && errno != ENOENT ? -errno : 0;
}

int lab_teardown(bool verbose, unsigned *n_netns, unsigned *n_links, unsigned *n_procs, char *err,
		 size_t errlen)
{
	char **names = NULL, msg[LAB_ERR_MAX];
	size_t n = 0;
	int rc, first = 0;

	*n_netns = *n_links = *n_procs = 0;
	rc = lab_list_netns(&names, &n);
	if (rc)
		return rc;
	/* hosts first, the fabric namespace last: its bridges outlive the hosts' cables */
	for (size_t i = 0; i < n; i++)
		*n_procs += stop_procs(names[i], verbose);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < n; i++) {
			bool fabric = !strcmp(names[i], LAB_FABRIC_NS);
			char *argv[] = {"ip", "netns", "del", names[i], NULL};
			struct lab_cmd c = {4, argv};

			if (fabric != (k == 1))
				continue;
			rc = lab_run_cmd(&c, verbose, msg, sizeof(msg));
			if (rc == 0)
				(*n_netns)++;
			else if (!first) {
				first = rc < 0 ? rc : -EIO;
				snprintf(err, errlen, "ip netns del %s: %s", names[i], msg);
			}
		}
	lab_free_names(names, n);
	rc = lab_list_root_links(&names, &n);
	if (rc)
		return first ? first : rc;
	for (size_t i = 0; i < n; i++) {
		char *argv[] = {"ip", "link", "del", names[i], NULL};
		struct lab_cmd c = {4, argv};

		rc = lab_run_cmd(&c, verbose, msg, sizeof(msg));
		if (rc == 0)
			(*n_links)++;
		else if (!first) {
			first = rc < 0 ? rc : -EIO;
			snprintf(err, errlen, "ip link del %s: %s", names[i], msg);
		}
	}
	lab_free_names(names, n);
	rc = remove_state(LAB_STATE_DIR);
	if (rc && !first) {
		first = rc;
		snprintf(err, errlen, "cannot remove %s: %s", LAB_STATE_DIR, strerror(-rc));
	}
	return first;
}

/* Write len bytes of data to dir/name (created with mode, or truncated).  0 or -errno. */
int lab_state_file(const char *dir, const char *name, const char *data, size_t len, int mode)
{
	char path[4096];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		data += w;
		len -= (size_t)w;
	}
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int lab_read_file(const char *path, char **data, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 4096, n = 0, k;
	char *buf = malloc(cap + 1), *p;

	if (!fp || !buf) {
		int e = fp ? ENOMEM : errno;

		free(buf);
		if (fp)
			fclose(fp);
		return -e;
	}
	while ((k = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += k;
		if (n == cap) {
			p = realloc(buf, 2 * cap + 1);
			if (!p) {
				free(buf);
				fclose(fp);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
	}
	fclose(fp);
	buf[n] = '\0';
	*data = buf;
	if (len)
		*len = n;
	return 0;
}

int lab_state_hosts(const char *dir, char ***names, size_t *n)
{
	char path[4096], *data, *save = NULL, *tok;
	int rc;

	*names = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/hosts", dir);
	rc = lab_read_file(path, &data, NULL);
	if (rc)
		return rc;
	for (tok = strtok_r(data, "\n", &save); tok && !rc; tok = strtok_r(NULL, "\n", &save))
		rc = push_name(names, n, tok);
	free(data);
	if (rc) {
		lab_free_names(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}
