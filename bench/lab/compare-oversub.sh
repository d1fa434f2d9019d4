#!/usr/bin/env bash
# bench/lab/compare-oversub.sh - does the lab show oversubscription?  Builds the 2-leaf,
# 1-spine lab (4 hosts per leaf at 100 Mbit/s) at 1:1 (400 Mbit/s uplinks) and at 2:1
# (200 Mbit/s), runs arbench's ring, tree, hier, rhd and mpi with one rank per node on each,
# and prints busbw per algorithm and the ratio 2:1 / 1:1.  Run as root from the repository:
#
#   bench/lab/compare-oversub.sh [OUTDIR]       (env: BUILD=build SIZE=8M ITERS=3 ALGOS=...)
#
# Takes about 3 minutes (8 emulated hosts share 2 cores).  The JSON
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
exec 9>>/run/arlab-test.lock
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
. bench/lab/testlib.sh
lab_compare_table "$OUT/1to1.json" "$OUT/2to1.json" 1:1 2:1
echo "(busbw = algbw x 2(p-1)/p, p = 8, one rank per host; host links 100 Mbit/s; $SIZE, $ITERS iterations)"
