/*
 * state.c - the state directory (/run/arlab) that `arlab up` writes once the lab is built: the
 * topology it was built from, its hosts, the switch behind each bridge or routed namespace, the
 * ends of every link (counters.c), the most NICs of a host, and the rsh agent through which
 * mpirun starts its daemons on the emulated hosts.  sys.c reads it back and removes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/lab/lab.h"

/* The rsh agent Open MPI starts its daemons with: "AGENT HOST COMMAND...". */
static const char agent_script[] =
	"#!/bin/sh\n"
	"# rsh agent written by `arlab up`.  Open MPI runs it as \"AGENT HOST COMMAND...\" to "
	"start\n"
	"# its daemon on an emulated host: enter the host's network namespace, give the process "
	"its\n"
	"# own UTS hostname (Open MPI names shared-memory segments after it; emulated hosts share\n"
	"# /dev/shm), then run the command the way ssh would (one string for a shell).\n"
	"host=$1\n"
	"shift\n"
	"case $host in\n"
	"''|-*|*[!A-Za-z0-9-]*) echo \"arlab rsh agent: bad host name '$host'\" >&2; exit 2 ;;\n"
	"esac\n"
	"if ! grep -qx -- \"$host\" " LAB_STATE_DIR "/hosts; then\n"
	"\techo \"arlab rsh agent: $host is not a host of the lab (see arlab status)\" >&2\n"
	"\texit 2\n"
	"fi\n"
	"exec ip netns exec \"" LAB_PREFIX "$host\" unshare --uts -- \\\n"
	"\tsh -c 'hostname \"$0\" && exec sh -c \"$1\"' \"$host\" \"$*\"\n";

int lab_state_write(const struct lab_fabric *f, const char *topo_path, const char *dir)
{
	char *topo = NULL, *hosts = NULL;
	size_t tlen = 0, hlen = 0;
	int rc;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	rc = lab_read_file(topo_path, &topo, &tlen);
	if (rc)
		return rc;
	rc = lab_state_file(dir, "topology.yaml", topo, tlen, 0644);
	if (!rc)
		rc = lab_state_file(dir, "source", topo_path, strlen(topo_path), 0644);
	if (!rc) {
		hosts = malloc((size_t)f->n_hosts * (LAB_NAME_MAX + 1) + 1);
		rc = hosts ? 0 : -ENOMEM;
	}
	for (uint32_t h = 0; h < f->n_hosts && !rc; h++)
		hlen += (size_t)sprintf(hosts + hlen, "%s\n", f->hosts[h].name);
	if (!rc)
		rc = lab_state_file(dir, "hosts", hosts, hlen, 0644);
	free(hosts);
	hosts = NULL;
	hlen = 0;
	if (!rc) {
		hosts = malloc((size_t)f->n_bridges * (LAB_NAME_MAX + 40) + 1);
		rc = hosts ? 0 : -ENOMEM;
	}
	for (uint32_t b = 0; b < f->n_bridges && !rc; b++) {
		char br[32];

		if (f->routed)
			lab_switch_ns(b, br, sizeof(br));
		else
			lab_bridge_ifname(b, br, sizeof(br));
		hlen += (size_t)sprintf(hosts + hlen, "%s %s\n", br, f->bridges[b].name);
	}
	/* bridged: "IFNAME SWITCH" per bridge; routed: "NAMESPACE SWITCH" per switch */
	if (!rc)
		rc = lab_state_file(dir, f->routed ? "switches" : "bridges", hosts ? hosts : "",
				    hlen, 0644);
	if (!rc)
		rc = lab_state_write_links(f, dir);
	if (!rc)
		rc = lab_state_file(dir, "rsh-agent", agent_script, strlen(agent_script), 0755);
	if (!rc)
		rc = lab_state_write_rails(f, dir);
	if (!rc) {
		char nics[16];
		unsigned most = 0;

		for (uint32_t h = 0; h < f->n_hosts; h++)
			most = f->hosts[h].n_nics > most ? f->hosts[h].n_nics : most;
		snprintf(nics, sizeof(nics), "%u\n", most);
		rc = lab_state_file(dir, "nics", nics, strlen(nics), 0644);
	}
	free(hosts);
	free(topo);
	return rc;
}
