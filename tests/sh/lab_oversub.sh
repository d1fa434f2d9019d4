#!/usr/bin/env bash
# lab_oversub.sh - the lab shows topology: on 2 leaves x 4 hosts at 100 Mbit/s with one spine,
# going from 1:1 (400 Mbit/s uplinks) to 2:1 (200 Mbit/s) barely changes the ring (one flow
# each way crosses the spine: 2:1/1:1 >= 0.8), while recursive halving-doubling, whose first
# step sends half the data of all 8 ranks across the spine at once, slows down (ratio <= 0.95;
# measured 0.62-0.91 from the fastest iteration, theory 0.64; its mean over iterations is
# noisier, 0.79-0.95).  8 ranks, one per host, 8 MiB, 2 iterations; busbw from the fastest
# iteration, in place or not (8 emulated hosts share 2 cores).  When the properties do not
# hold, the whole measurement is taken once more (noise from other load); both are printed.
# The full comparison of all algorithms is bench/lab/compare-oversub.sh.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 150
[ -x "$ARBENCH" ] || lab_fail "$ARBENCH is not built"

declare -A bw
measure() {
	local up f json a
	for up in 400 200; do
		f=$(lab_gen_2leaf 4 100Mbit ${up}Mbit)
		lab up "$f" >/dev/null || lab_fail "up with $up Mbit/s uplinks failed"
		json=$LAB_TMP/$up.json
		lab run --bench "$(realpath "$ARBENCH")" -- -b 8M -e 8M -n 2 -w 1 \
			-c 0 -A ring,rhd -q -J "$json" >"$LAB_TMP/run.log" 2>&1 ||
			lab_fail "arbench with $up Mbit/s uplinks failed: $(tail -n 20 "$LAB_TMP/run.log")"
		for a in ring rhd; do
			bw[$a$up]=$(lab_best_busbw "$json" $a 8388608) || lab_fail "no $a result"
			echo "$a, uplinks $up Mbit/s: busbw $(awk -v b="${bw[$a$up]}" 'BEGIN { printf "%.1f", b * 8000 }') Mbit/s"
		done
		lab down >/dev/null || lab_fail "down failed"
	done
	ring=$(awk -v a="${bw[ring200]}" -v b="${bw[ring400]}" 'BEGIN { printf "%.2f", a / b }')
	rhd=$(awk -v a="${bw[rhd200]}" -v b="${bw[rhd400]}" 'BEGIN { printf "%.2f", a / b }')
	ring1=$(awk -v b="${bw[ring400]}" 'BEGIN { print b * 8000 }')
	echo "2:1 / 1:1 busbw: ring $ring, rhd $rhd"
}

holds() {
	lab_ge "$ring1" 70 && lab_ge "$ring" 0.8 && lab_ge 0.95 "$rhd"
}

measure
holds || { echo "measuring once more"; measure; }
# the lab measures the links: the ring at 1:1 gets most of a 100 Mbit/s host link
lab_ge "$ring1" 70 || lab_fail "ring at 1:1 gets $ring1 Mbit/s, below 70"
lab_ge "$ring" 0.8 || lab_fail "ring 2:1/1:1 = $ring, expected >= 0.8 (one flow each way crosses the spine)"
lab_ge 0.95 "$rhd" || lab_fail "rhd 2:1/1:1 = $rhd, expected <= 0.95: the spine does not show"
echo "oversubscription visible: ring $ring, rhd $rhd"
