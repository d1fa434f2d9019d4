#!/usr/bin/env bash
# bench/scripts/planner-scale.sh - how the flow engine's time and memory grow with the cluster:
# `arplan predict` of ring, tree, hier and rhd at one size (1 GiB) on 1k, 16k and 128k GPUs
# (the shipped 2-tier and 3-tier fat-trees), one process on one core, printed side by side
# with CPU seconds (user + sys), wall seconds and peak RSS from /usr/bin/time, and each
# algorithm alone on the largest.  A benchmark: it measures and prints, it passes or fails
# nothing.
#   usage: bench/scripts/planner-scale.sh [SIZE]   (BUILD=build; SIZE 1G)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
size=${1:-1G}
[ -x "$arplan" ] || { echo "planner-scale: no $arplan (run make first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "planner-scale: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
run() { # label topology algos
	local out
	out=$( { /usr/bin/time -f '%U %S %e %M' taskset -c 0 "$arplan" predict --topo "$2" --size "$size" \
		--algo "$3" >/dev/null; } 2>&1 | tail -n 1)
	read -r u s e m <<<"$out"
	printf '%-28s %-22s %8.2f %8.2f %10.0f\n' "$1" "$3" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$e" "$((m / 1024))"
}
printf '%-28s %-22s %8s %8s %10s\n' "topology" "algorithms" "cpu(s)" "wall(s)" "rss(MiB)"
run "1,024 GPUs (2-tier)" configs/topologies/fat-tree-1024-1to1.yaml ring,tree,hier,rhd
run "16,384 GPUs (3-tier)" configs/topologies/fat-tree-16k-3tier.yaml ring,tree,hier,rhd
run "131,072 GPUs (3-tier)" configs/topologies/fat-tree-128k-3tier.yaml ring,tree,hier,rhd
for a in ring tree hier rhd nccl-ring; do
	run "131,072 GPUs (3-tier)" configs/topologies/fat-tree-128k-3tier.yaml $a
done
