/*
 * cmd_common.c - what the arlab commands (cmd_*.c) share: parsing flags and counts, and
 * what stands between a command and the system: root, a lab that is up (its host list), and
 * the lock that lets one `up` or `down` at a time change the lab.  Each says what is wrong on
 * the command's error stream and returns the exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bench/lab/lab.h"

/* The lock lives in /run, which only root can write, not in the world-writable /run/lock:
 * nobody else can plant a file or symlink there, or open it to hold it.  It is opened with
 * O_NOFOLLOW all the same and must be a regular file owned by root with no other link, mode
 * 0600.  Close-on-exec, so nothing arlab starts keeps it. */
#define ARLAB_LOCK	"/run/arlab.lock"
#define ARLAB_LOCK_WAIT 120 /* seconds; the environment variable of that name may set others */

int lab_parse_count(const char *opt, const char *s, unsigned max, unsigned *out, FILE *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > max) {
		fprintf(err, "arlab: %s %s: expected a number from 1 to %u\n", opt, s, max);
		return ARB_EXIT_INPUT;
	}
	*out = (unsigned)v;
	return 0;
}

int lab_parse_flags(int argc, char **argv, const struct lab_flag *flags, const char *usage,
		    void (*help)(FILE *), FILE *out, FILE *err)
{
	struct option opts[LAB_MAX_FLAGS + 2] = {{"help", no_argument, NULL, 'h'}};
	char shorts[2 * LAB_MAX_FLAGS + 3] = "+h";
	size_t n = 0, k = strlen(shorts);
	bool bad = false;
	int c;

	for (; flags[n].name && n < LAB_MAX_FLAGS; n++) {
		/* a long flag returns its index + 1 above the characters; a short one itself */
		opts[n + 1] = (struct option){flags[n].name, no_argument, NULL, (int)(n + 1) << 8};
		if (flags[n].short_name)
			shorts[k++] = flags[n].short_name;
		*flags[n].value = false;
	}
	optind = 0; /* GNU: a full reset, so that tests can parse again */
	opterr = 0; /* one usage line for anything wrong */
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		size_t f = (size_t)c >> 8;

		if (c == 'h') {
			help(out);
			return ARB_EXIT_OK;
		}
		for (size_t j = 0; !f && j < n; j++) /* a short option: its flag */
			f = flags[j].short_name == c ? j + 1 : 0;
		bad |= f == 0;
		if (f)
			*flags[f - 1].value = true;
	}
	if (bad || optind != argc) {
		fprintf(err, "%s", usage);
		return ARB_EXIT_INPUT;
	}
	return -1;
}

int lab_need_root(const char *what, FILE *err)
{
	if (geteuid() == 0)
		return 0;
	fprintf(err, "arlab: %s needs root (it creates network namespaces); run it as root\n",
		what);
	return ARB_EXIT_INPUT;
}

int lab_hosts_or_fail(char ***hosts, size_t *n, FILE *err)
{
	if (lab_state_hosts(LAB_STATE_DIR, hosts, n) || *n == 0) {
		fprintf(err, "arlab: no lab is up (no %s/hosts); run 'arlab up TOPO.yaml'\n",
			LAB_STATE_DIR);
		return ARB_EXIT_INPUT;
	}
	return 0;
}

/* "PID 123 (arlab down)" for the process holding a flock on the file of `st`, or "". */
static void lock_holder(const struct stat *st, char *buf, size_t len)
{
	FILE *f = fopen("/proc/locks", "r");
	char line[256];

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		long pid;
		char type[16], path[64], cmd[200] = "";
		const char *p = strstr(line, "FLOCK");
		FILE *c;

		if (!p ||
		    sscanf(p, "FLOCK %*s %15s %ld %x:%x:%llu", type, &pid, &maj, &min, &ino) != 5)
			continue;
		if (ino != (unsigned long long)st->st_ino || makedev(maj, min) != st->st_dev)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		c = fopen(path, "r");
		if (c) {
			size_t n = fread(cmd, 1, sizeof(cmd) - 1, c), i;

			fclose(c);
			for (i = 0; i < n; i++) /* arguments are NUL-separated; no control chars */
				if ((unsigned char)cmd[i] < 0x20 || cmd[i] == 0x7f)
					cmd[i] = ' ';
			cmd[n] = 0;
			while (n && cmd[n - 1] == ' ')
				cmd[--n] = 0;
		}
		snprintf(buf, len, "PID %ld%s%.150s%s", pid, *cmd ? " (" : "", cmd,
			 *cmd ? ")" : "");
		break;
	}
	fclose(f);
}

static int lock_wait_seconds(void)
{
	const char *e = getenv("ARLAB_LOCK_WAIT");
	char *end;
	long v;

	if (!e || !*e)
		return ARLAB_LOCK_WAIT;
	v = strtol(e, &end, 10);
	return *end || v < 0 || v > 86400 ? ARLAB_LOCK_WAIT : (int)v;
}

/* Open the lock file, refusing anything that is not a private regular file of ours. */
static int open_lock(const char *what, struct stat *st, FILE *err)
{
	int fd = open(ARLAB_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(err, "arlab: %s: cannot open %s: %s%s\n", what, ARLAB_LOCK, strerror(errno),
			errno == ELOOP ? " (a symlink: remove it, arlab makes its own lock)" : "");
		return -1;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_uid != geteuid() ||
	    st->st_nlink != 1) {
		fprintf(err,
			"arlab: %s: %s is not a regular file of ours (owner uid %u, %u links); "
			"remove it, arlab makes its own lock\n",
			what, ARLAB_LOCK, (unsigned)st->st_uid, (unsigned)st->st_nlink);
		close(fd);
		return -1;
	}
	if ((st->st_mode & 077) && fchmod(fd, 0600)) { /* nobody else may open it to hold it */
		fprintf(err, "arlab: %s: chmod %s: %s\n", what, ARLAB_LOCK, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int lab_lock(const char *what, FILE *err)
{
	int fd, waited = 0, wait_s = lock_wait_seconds();
	char holder[200];
	struct stat st;

	fd = open_lock(what, &st, err);
	if (fd < 0)
		return ARB_EXIT_RUNTIME;
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(err, "arlab: %s: flock %s: %s\n", what, ARLAB_LOCK,
				strerror(errno));
			close(fd);
			return ARB_EXIT_RUNTIME;
		}
		if (waited == 0 || waited >= wait_s * 10)
			lock_holder(&st, holder, sizeof(holder));
		if (waited == 0)
			fprintf(err,
				"arlab: %s: waiting for another arlab up/down (%s held by %s)\n",
				what, ARLAB_LOCK,
				*holder ? holder : "a process not found in /proc/locks");
		if (waited++ >= wait_s * 10) {
			fprintf(err, "arlab: %s: %s held %s for %d s; try again\n", what,
				*holder ? holder : "another process", ARLAB_LOCK, wait_s);
			close(fd);
			return ARB_EXIT_INPUT;
		}
		usleep(100000);
	}
	return 0; /* fd stays open: the lock lasts as long as this process */
}
