/*
 * discover.c - local discovery: what the node this process runs on has (cores, hardware
 * threads, NUMA nodes, CPU model, network and RDMA devices with their NUMA locality and link
 * speed, GPUs), read with hwloc.  Link speeds come from sysfs (/sys/class/net/NAME/speed,
 * /sys/class/infiniband/NAME/ports/1/rate) where readable.  hwloc lists only NICs that sit on a
 * PCI device, so virtual interfaces (a container's veth, a bond) are added from /sys/class/net
 * afterwards with an unknown NUMA node.  The loopback interface is never listed.
 */
#include "topo/topo.h"

#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read the first line of a sysfs file into buf; 0 or -errno. */
static int read_sysfs(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int err = 0;

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* Link speed of a network interface in bits/s from /sys/class/net/NAME/speed (Mbit/s);
 * 0 when unreadable or unknown (virtual devices report -1 or fail with EINVAL). */
static double net_speed_bps(const char *name)
{
	char path[512], buf[64];
	long mbit;

	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", name);
	if (read_sysfs(path, buf, sizeof(buf)))
		return 0;
	mbit = strtol(buf, NULL, 10);
	return mbit > 0 ? (double)mbit * 1e6 : 0;
}

/* Rate of port 1 of an RDMA device from /sys/class/infiniband/NAME/ports/1/rate
 * ("100 Gb/sec (4X EDR)") in bits/s; 0 when unreadable. */
static double rdma_speed_bps(const char *name)
{
	char path[512], buf[128];
	double gbit;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/rate", name);
	if (read_sysfs(path, buf, sizeof(buf)))
		return 0;
	gbit = strtod(buf, NULL);
	return gbit > 0 ? gbit * 1e9 : 0;
}

/* Does this network interface belong to an RDMA-capable device (RoCE, IPoIB)? */
static bool net_is_rdma(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/infiniband", name);
	return access(path, F_OK) == 0;
}

/* OS index of the single NUMA node an I/O object is attached to; -1 when it is attached to
 * several (or none). */
static int numa_of(hwloc_topology_t topo, hwloc_obj_t obj)
{
	hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, obj);

	if (!anc || !anc->nodeset || hwloc_bitmap_weight(anc->nodeset) != 1)
		return -1;
	return hwloc_bitmap_first(anc->nodeset);
}

static bool have_nic(const struct topo_node_info *out, const char *name)
{
	for (int i = 0; i < out->n_nics; i++)
		if (!strcmp(out->nics[i].name, name))
			return true;
	return false;
}

static void add_nic(struct topo_node_info *out, const char *name, int numa, double speed, bool rdma)
{
	struct topo_nic_info *nic;

	if (out->n_nics >= TOPO_MAX_NICS || have_nic(out, name))
		return;
	nic = &out->nics[out->n_nics++];
	snprintf(nic->name, sizeof(nic->name), "%.*s", (int)sizeof(nic->name) - 1, name);
	nic->numa_node = numa;
	nic->speed_bps = speed;
	nic->rdma = rdma;
}

/* One GPU per PCI device: hwloc shows several OS devices (card0, renderD128, cuda0, nvml0)
 * for the same GPU. */
static void add_gpu(struct topo_node_info *out, hwloc_topology_t topo, hwloc_obj_t dev,
		    hwloc_obj_t *parents)
{
	struct topo_gpu_info *gpu;
	const char *model;

	for (int i = 0; i < out->n_gpus; i++)
		if (parents[i] == dev->parent)
			return;
	if (out->n_gpus >= TOPO_MAX_GPUS)
		return;
	parents[out->n_gpus] = dev->parent;
	gpu = &out->gpus[out->n_gpus++];
	model = hwloc_obj_get_info_by_name(dev, "GPUModel");
	if (model)
		snprintf(gpu->name, sizeof(gpu->name), "%s (%s)", dev->name, model);
	else
		snprintf(gpu->name, sizeof(gpu->name), "%s", dev->name);
	gpu->numa_node = numa_of(topo, dev);
}

static void discover_osdevs(hwloc_topology_t topo, struct topo_node_info *out)
{
	hwloc_obj_t parents[TOPO_MAX_GPUS] = {0};
	hwloc_obj_t dev = NULL;

	while ((dev = hwloc_get_next_osdev(topo, dev))) {
		if (!dev->name)
			continue;
		switch (dev->attr->osdev.type) {
		case HWLOC_OBJ_OSDEV_NETWORK:
			add_nic(out, dev->name, numa_of(topo, dev), net_speed_bps(dev->name),
				net_is_rdma(dev->name));
			break;
		case HWLOC_OBJ_OSDEV_OPENFABRICS:
			add_nic(out, dev->name, numa_of(topo, dev), rdma_speed_bps(dev->name),
				true);
			break;
		case HWLOC_OBJ_OSDEV_GPU:
		case HWLOC_OBJ_OSDEV_COPROC:
			add_gpu(out, topo, dev, parents);
			break;
		default:
			break;
		}
	}
}

/* Interfaces hwloc did not list (not on PCI: veth, bond, tun); loopback excluded. */
static void discover_virtual_nics(struct topo_node_info *out)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		add_nic(out, e->d_name, -1, net_speed_bps(e->d_name), net_is_rdma(e->d_name));
	}
	closedir(d);
}

static void discover_cpu_model(hwloc_topology_t topo, struct topo_node_info *out)
{
	hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
	const char *model = NULL;

	if (pkg)
		model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
	if (!model)
		model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
	snprintf(out->cpu_model, sizeof(out->cpu_model), "%s", model ? model : "unknown");
}

int topo_discover_local(struct topo_node_info *out)
{
	hwloc_topology_t topo;
	int n;

	memset(out, 0, sizeof(*out));
	if (gethostname(out->hostname, sizeof(out->hostname) - 1))
		snprintf(out->hostname, sizeof(out->hostname), "unknown");
	if (hwloc_topology_init(&topo))
		return -ENOMEM;
	hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	if (hwloc_topology_load(topo)) {
		hwloc_topology_destroy(topo);
		return -EIO;
	}
	n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	out->pus = n > 0 ? n : 1;
	n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	out->cores = n > 0 ? n : out->pus; /* no core level: count each PU as a core */
	n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
	out->numa_nodes = n > 0 ? n : 1;
	discover_cpu_model(topo, out);
	discover_osdevs(topo, out);
	hwloc_topology_destroy(topo);
	discover_virtual_nics(out);
	return 0;
}
