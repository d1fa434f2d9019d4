#!/usr/bin/env bash
# lab_oversub.sh - the lab shows topology.  On the shipped 2-leaf, 1-spine labs
# (configs/topologies/lab-2leaf-1to1.yaml and lab-2leaf-2to1.yaml: 4 hosts per leaf at
# 100 Mbit/s, uplinks 400 or 200 Mbit/s) it measures ring, tree, hier, rhd and mpi with one rank
# per host and prints busbw and the ratio 2:1 / 1:1 of each, from the mean over iterations and
# from the fastest iteration (in place or not; the least noisy figure when 8 emulated hosts
# share 2 cores).  It asserts the robust part, from the fastest iteration: the ring barely
# changes (one flow each way crosses the spine: ratio >= 0.8, and >= 70 Mbit/s at 1:1),
# recursive halving-doubling slows down (its first step sends half the data of all 8 ranks
# across the spine at once: ratio <= 0.95; theory 0.64), and the double binary tree at 1:1 gets
# at least 0.6 of the ring's busbw (theory 0.875; measured 0.83-0.89 at 2 MiB; 0.26 before its
# progress-loop rewrite, when every rank waited on its slowest tree neighbour in turn).  When
# that does not hold, the whole
# measurement is taken once more if the budget has room for it (noise from other load); both
# are printed.  2 MiB, 2 iterations after 1 warm-up: about 40 s; bench/lab/compare-oversub.sh
# measures the same at 8 MiB.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 150
lab_need "$ARBENCH"

SIZE=2M
measure() {
	local v f t
	for v in 1to1 2to1; do
		t=$SECONDS
		f=$(lab_shipped lab-2leaf-$v)
		lab up "$f" >/dev/null || lab_fail "up of lab-2leaf-$v failed"
		lab run --bench "$(realpath "$ARBENCH")" -- -b $SIZE -e $SIZE -n 2 -w 1 -c 0 \
			-A ring,tree,hier,rhd,mpi -q -J "$LAB_TMP/$v.json" >"$LAB_TMP/run.log" 2>&1 ||
			lab_fail "arbench on lab-2leaf-$v failed: $(tail -n 20 "$LAB_TMP/run.log")"
		lab down >/dev/null || lab_fail "down failed"
		echo "lab-2leaf-$v: up, arbench, down in $((SECONDS - t)) s"
	done
	lab_compare "$LAB_TMP/1to1.json" "$LAB_TMP/2to1.json" >"$LAB_TMP/ratios.tsv" ||
		lab_fail "cannot compare the results"
	[ "$(cut -f1 "$LAB_TMP/ratios.tsv" | tr '\n' ' ')" = "ring tree hier rhd mpi " ] ||
		lab_fail "missing results: $(cat "$LAB_TMP/ratios.tsv")"
	echo "busbw in Mbit/s, 8 ranks one per host, $SIZE; ratio = 2:1 / 1:1"
	lab_compare_table "$LAB_TMP/1to1.json" "$LAB_TMP/2to1.json" 1:1 2:1
	ring=$(awk -F'\t' '$1 == "ring" { printf "%.2f", $7 }' "$LAB_TMP/ratios.tsv")
	ring1=$(awk -F'\t' '$1 == "ring" { printf "%.1f", $5 }' "$LAB_TMP/ratios.tsv")
	rhd=$(awk -F'\t' '$1 == "rhd" { printf "%.2f", $7 }' "$LAB_TMP/ratios.tsv")
	tree1=$(awk -F'\t' '$1 == "tree" { printf "%.1f", $5 }' "$LAB_TMP/ratios.tsv")
	tree_ring=$(awk -v t="$tree1" -v r="$ring1" 'BEGIN { printf "%.2f", (r > 0 ? t / r : 0) }')
}

holds() {
	lab_ge "$ring1" 70 && lab_ge "$ring" 0.8 && lab_ge 0.95 "$rhd" && lab_ge "$tree_ring" 0.6
}

t0=$SECONDS
measure
took=$((SECONDS - t0))
if ! holds; then
	if lab_time_for $((took + 5)); then
		echo "measuring once more"
		measure
	else
		echo "no time left in the budget to measure once more (one measurement took ${took} s)"
	fi
fi
# the lab measures the links: the ring at 1:1 gets most of a 100 Mbit/s host link
lab_ge "$ring1" 70 || lab_fail "ring at 1:1 gets $ring1 Mbit/s, below 70"
lab_ge "$ring" 0.8 || lab_fail "ring 2:1/1:1 = $ring, expected >= 0.8 (one flow each way crosses the spine)"
lab_ge 0.95 "$rhd" || lab_fail "rhd 2:1/1:1 = $rhd, expected <= 0.95: the spine does not show"
lab_ge "$tree_ring" 0.6 || lab_fail "tree at 1:1 gets $tree1 Mbit/s, $tree_ring of the ring's $ring1: expected >= 0.6"
echo "oversubscription visible: 2:1/1:1 from the fastest iteration, ring $ring, rhd $rhd"
echo "tree at 1:1: $tree1 Mbit/s, $tree_ring of the ring (fastest iterations)"
