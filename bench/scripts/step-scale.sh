#!/usr/bin/env bash
# bench/scripts/step-scale.sh - how long `arplan compare` of four 16k-GPU topologies and `arplan
# sweep` for 128k GPUs take (issue 9's limits: 2 s and 10 s).  Prints elapsed and CPU (user +
# system) seconds of each; on a shared machine the CPU time is the figure to trust.  Exits 1
# when a CPU time is over its limit.  The 405B workload's batch is raised to 128M tokens for
# 128k GPUs (16M tokens are less than one sequence per micro-batch there).
#   usage: bench/scripts/step-scale.sh   (BUILD=build by default; needs /usr/bin/time)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "step-scale: no $arplan (run make first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "step-scale: no /usr/bin/time" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/global_batch_tokens: 16777216/global_batch_tokens: 134217728/' \
	configs/workloads/llama3-405b.yaml >"$tmp/405b-128k.yaml"
T=configs/topologies/fat-tree-16k-3tier.yaml
rc=0
# run NAME LIMIT CMD...: print elapsed and CPU seconds; rc=1 when CPU >= LIMIT
run() {
	local name=$1 limit=$2 t; shift 2
	t=$(/usr/bin/time -f '%e %U %S' "$@" 2>&1 >/dev/null | tail -n 1) ||
		{ echo "step-scale: $name failed: $t" >&2; exit 2; }
	read -r el us sy <<<"$t"
	cpu=$(awk -v u="$us" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
	echo "step-scale: $name: $el s elapsed, $cpu s CPU (limit $limit s)"
	awk -v c="$cpu" -v l="$limit" 'BEGIN { exit !(c < l) }' || rc=1
}
run "compare, four 16k-GPU topologies, llama3-405b" 2 \
	"$arplan" compare $T $T $T $T --workload configs/workloads/llama3-405b.yaml
run "sweep, 131072 GPUs, llama3-405b (128M-token batch)" 10 \
	"$arplan" sweep --workload "$tmp/405b-128k.yaml" --gpus 131072
exit $rc
