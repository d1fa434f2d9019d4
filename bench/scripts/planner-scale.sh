#!/usr/bin/env bash
# bench/scripts/planner-scale.sh - how the flow engine's time and memory grow with the cluster:
# `arplan predict` of ring, tree, hier and rhd at one size (1 GiB) on 1k, 16k and 128k GPUs
# (the shipped 2-tier and 3-tier fat-trees), one process on one core, printed side by side
# with CPU seconds (user + sys), wall seconds, CPU microseconds per GPU (flat = linear
# growth) and peak RSS from /usr/bin/time, then each algorithm alone on the largest.  Each
# line is REPEAT runs (3): the least CPU time of them (what the work costs; other jobs only add)
# and the median.  The load average is printed first: on a shared machine, compare runs made
# side by side.  A benchmark: it measures and prints, it passes or fails nothing.
#   usage: bench/scripts/planner-scale.sh [SIZE]   (BUILD=build; SIZE 1G; REPEAT=3)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
size=${1:-1G}
[ -x "$arplan" ] || { echo "planner-scale: no $arplan (run make first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "planner-scale: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
repeat=${REPEAT:-3}
case $repeat in '' | *[!0-9]* | 0) echo "planner-scale: REPEAT must be a count, not '$repeat'" >&2; exit 2 ;; esac
run() { # label GPUs topology algos
	local out i all=""
	for i in $(seq "$repeat"); do
		out=$( { /usr/bin/time -f '%U %S %e %M' taskset -c 0 "$arplan" predict --topo "$3" \
			--size "$size" --algo "$4" >/dev/null; } 2>&1 | tail -n 1)
		all="$all$out"$'\n'
	done
	# per run: user sys wall rss; sorted by cpu, the first is the least, the middle the median
	printf '%s' "$all" | awk '{ print $1 + $2, $3, $4 }' | sort -n | awk -v l="$1" -v a="$4" -v n="$2" '
		{ c[NR] = $1; w[NR] = $2; if ($3 > m) m = $3 }
		END { md = c[int((NR + 1) / 2)]
			printf "%-24s %-20s %8.2f %8.2f %8.2f %10.1f %10.0f\n", l, a, c[1], md, w[1],
				c[1] / n * 1e6, m / 1024 }'
}
echo "# $arplan predict --size $size, pinned to one core, $repeat runs a line; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %-20s %8s %8s %8s %10s %10s\n' "topology" "algorithms" "cpu(s)" "median" "wall(s)" \
	"cpu/GPU(us)" "rss(MiB)"
run "1,024 GPUs (2-tier)" 1024 configs/topologies/fat-tree-1024-1to1.yaml ring,tree,hier,rhd
run "16,384 GPUs (3-tier)" 16384 configs/topologies/fat-tree-16k-3tier.yaml ring,tree,hier,rhd
run "131,072 GPUs (3-tier)" 131072 configs/topologies/fat-tree-128k-3tier.yaml ring,tree,hier,rhd
for a in ring tree hier rhd nccl-ring; do
	run "131,072 GPUs (3-tier)" 131072 configs/topologies/fat-tree-128k-3tier.yaml $a
done
