#!/usr/bin/env bash
# bench/lab/compare-oversub.sh - does the lab show oversubscription?  Builds the 2-leaf,
# 1-spine lab (4 hosts per leaf at 100 Mbit/s) at 1:1 (400 Mbit/s uplinks) and at 2:1
# (200 Mbit/s), runs arbench's ring, tree, hier, rhd and mpi with one rank per node on each,
# and prints busbw per algorithm and the ratio 2:1 / 1:1.  Run as root from the repository:
#
#   bench/lab/compare-oversub.sh [OUTDIR]       (env: BUILD=build SIZE=8M ITERS=3 ALGOS=...)
#
# Takes a few minutes (tree and rhd are slow on 8 emulated hosts sharing 2 cores).  The JSON
# results stay in OUTDIR (default /tmp/arlab-oversub).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SIZE=${SIZE:-8M}
ITERS=${ITERS:-3}
ALGOS=${ALGOS:-ring,tree,hier,rhd,mpi}
OUT=${1:-/tmp/arlab-oversub}
ARLAB=$BUILD/arlab

[ "$(id -u)" = 0 ] || { echo "compare-oversub: needs root" >&2; exit 2; }
[ -x "$ARLAB" ] && [ -x "$BUILD/arbench" ] || { echo "compare-oversub: build first (make BUILD=$BUILD)" >&2; exit 2; }
# one lab per machine: wait for the lab tests of a concurrent `make check`
mkdir -p /run/lock
exec 9>/run/lock/arlab-test.lock
flock -w 900 9 || { echo "compare-oversub: the lab lock stayed busy" >&2; exit 1; }
if "$ARLAB" status | grep -qv 'no lab is up'; then
	echo "compare-oversub: a lab is up already; 'arlab down' it first" >&2
	exit 2
fi
mkdir -p "$OUT"
trap '"$ARLAB" down >/dev/null 2>&1 || true' EXIT

for v in 1to1 2to1; do
	"$ARLAB" up "configs/topologies/lab-2leaf-$v.yaml"
	"$ARLAB" run -- -b "$SIZE" -e "$SIZE" -n "$ITERS" -w 1 -c 0 -A "$ALGOS" -q \
		-J "$OUT/$v.json" >"$OUT/$v.log" 2>&1 || { cat "$OUT/$v.log"; exit 1; }
	"$ARLAB" down >/dev/null
done

# busbw per algorithm in Mbit/s: out-of-place mean, and from the fastest iteration (in place or
# not); ratios 2:1 / 1:1 of both
printf '%-6s %10s %10s %8s %10s %10s %8s\n' algo '1:1 mean' '2:1 mean' ratio '1:1 best' '2:1 best' ratio
jq -r -n --slurpfile a "$OUT/1to1.json" --slurpfile b "$OUT/2to1.json" '
	def mean($r; $algo): [$r[0].results[] | select(.algo == $algo and .inplace == false) | .busbw][0] * 8000;
	def best($r; $algo): $r[0] as $j | [$j.results[] | select(.algo == $algo) | .time_us.min] | min
		| ($j.results[0].size / (. * 1e-6) * 2 * ($j.ranks - 1) / $j.ranks * 8 / 1e6);
	$a[0].results | map(select(.inplace == false) | .algo)
	| .[] as $algo
	| [$algo, mean($a; $algo), mean($b; $algo), mean($b; $algo) / mean($a; $algo),
	   best($a; $algo), best($b; $algo), best($b; $algo) / best($a; $algo)]
	| @tsv' | awk -F'\t' '{ printf "%-6s %10.1f %10.1f %8.2f %10.1f %10.1f %8.2f\n", $1, $2, $3, $4, $5, $6, $7 }'
echo "(busbw = algbw x 2(p-1)/p, p = 8, one rank per host; host links 100 Mbit/s; $SIZE, $ITERS iterations)"
