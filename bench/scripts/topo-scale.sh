#!/usr/bin/env bash
# bench/scripts/topo-scale.sh - how long and how much memory expanding the 128k-GPU 3-tier
# fat-tree takes (configs/topologies/fat-tree-128k-3tier.yaml: 16,384 nodes x 8 GPUs, 8 rails).
# Prints arplan's own figures (getrusage, load+expand alone and with the summary) and, when
# /usr/bin/time is installed, its elapsed time and maximum resident set size for the whole run.
# Exits 1 when the expansion takes 2 s or more or 2 GiB or more.
# Then `arplan topo --from-results` on a generated results file of FROM_RESULTS_HOSTS hosts
# (1,000,000 by default; 0 skips it): exits 1 when that takes 30 s or more (its duplicate-host
# check used to compare all pairs: 52 s for 100k hosts).
#   usage: bench/scripts/topo-scale.sh [TOPOLOGY.yaml]   (BUILD=build by default)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
topo=${1:-configs/topologies/fat-tree-128k-3tier.yaml}
[ -x "$arplan" ] || { echo "topo-scale: no $arplan (run make first)" >&2; exit 2; }

stats=$("$arplan" topo --stats "$topo" 2>&1 >/dev/null) || { echo "$stats" >&2; exit 2; }
echo "$stats"
secs=$(sed -n 's/.*load+expand \([0-9.]*\) s.*/\1/p' <<<"$stats")
mib=$(sed -n 's/.*load+expand .*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$stats")
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f 'topo-scale: /usr/bin/time: whole arplan topo run %e s, max RSS %M KiB' \
		"$arplan" topo "$topo" 2>&1 >/dev/null | tail -n 1
fi
echo "topo-scale: $topo expanded in $secs s with a peak RSS of $mib MiB (limits: 2 s, 2048 MiB)"
awk -v s="$secs" -v m="$mib" 'BEGIN { exit !(s < 2 && m < 2048) }' ||
	{ echo "topo-scale: over the limit" >&2; exit 1; }

hosts=${FROM_RESULTS_HOSTS:-1000000}
[ "$hosts" -gt 0 ] || exit 0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
awk -v n="$hosts" 'BEGIN {
	printf "{\"hosts\": ["
	for (i = 0; i < n; i++) printf "%s\"node%d\"", i ? "," : "", (i * 7919) % n
	printf "], \"nodes_info\": ["
	for (i = 0; i < n; i++) printf "%s{\"nics\":[{\"name\":\"e\",\"speed_bps\":4e11}]}", i ? "," : ""
	print "]}" }' >"$tmp/results.json"
t0=$(date +%s.%N)
"$arplan" topo --from-results "$tmp/results.json" >"$tmp/out.yaml" || exit 2
t1=$(date +%s.%N)
fr=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "topo-scale: --from-results of $hosts hosts in $fr s ($(wc -l <"$tmp/out.yaml") lines of YAML; limit 30 s)"
awk -v s="$fr" 'BEGIN { exit !(s < 30) }' || { echo "topo-scale: --from-results over the limit" >&2; exit 1; }
