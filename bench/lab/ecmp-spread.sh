#!/usr/bin/env bash
# bench/lab/ecmp-spread.sh - what ECMP hashing costs recursive halving-doubling, measured and
# predicted.  On the routed 2-leaf x 2-spine lab (configs/topologies/lab-2leaf-2spine.yaml: 4
# hosts per leaf at 100 Mbit/s, 2 x 200 Mbit/s uplinks per leaf, 1:1) it runs rhd RUNS times,
# each a fresh mpirun (new TCP connections, so a new draw of the hash), one rank per host, and
# after each run reads `arlab counters --fabric`: how many bytes each leaf sent up to each spine.
# Then `arplan predict --ecmp sample:SAMPLES --conns CONNS` on the same topology and calibration
# gives the distribution of rhd's time over random hash draws.  CONNS is 1: in this lab all of
# a peer pair's bytes cross one TCP connection, although `arlab run` sets btl_tcp_links 2
# (`ss -tni` in a host during a run: one connection per peer carries megabytes, the others
# kilobytes), and the counters agree: each leaf's uplink bytes split in quarters (4 pairs),
# never in eighths.  The script compares the median busbw of the runs with the model's, and the range (max - min) of the runs with the model's expected
# range of RUNS draws (resampled from its SAMPLES draws).
#
# The runs use Open MPI's default TCP eager limit (64 KiB; EAGER sets it), not the 4 MiB that
# `arlab run` sets for the ring's sake: with 4 MiB, rhd's 1 MiB segments go eagerly both ways
# over one connection per peer pair, and on the 8-host labs some iterations then run two of
# their 4 MiB steps at about half rate (lab-2leaf-1to1, 8 MiB, no ECMP: 64-70 Mbit/s with
# iterations up to 1.9 s, against 98 Mbit/s and at most 1.21 s with 64 KiB, side by side;
# bench/results/routed-ecmp.md).  That slow mode is Open MPI's, not the fabric's, and it hid
# the hash's cost.  Run as root from the repository:
#
#   bench/lab/ecmp-spread.sh [RUNS] [OUTDIR]       measure RUNS (10) runs, then compare
#   bench/lab/ecmp-spread.sh compare [OUTDIR]      compare the runs already in OUTDIR (no root)
#   env: BUILD=build SIZE=8M ITERS=3 SAMPLES=2000 CONNS=1 CALIB=bench/results/planner-lab/calib.yaml
#        EAGER=65536 (Open MPI's btl_tcp_eager_limit and rndv_eager_limit for the runs, bytes)
#        QUIET_BUSY=25 QUIET_WAIT=60 (wait up to QUIET_WAIT s for the CPUs to be < QUIET_BUSY %)
#
# Prints one line per run (busbw, load before and after, CPU busy before, uplink MB) and the
# comparison; keeps the JSON, counters and logs in OUTDIR (default /tmp/arlab-ecmp).  About
# 25 s per run.  Holds the lab tests' lock (/run/arlab-test.lock) while the lab is up.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
MODE=measure
[ "${1:-}" = compare ] && { MODE=compare; shift; set -- 0 "$@"; }
RUNS=${1:-10}
OUT=${2:-/tmp/arlab-ecmp}
SIZE=${SIZE:-8M}
ITERS=${ITERS:-3}
SAMPLES=${SAMPLES:-2000}
CONNS=${CONNS:-1}
CALIB=${CALIB:-bench/results/planner-lab/calib.yaml}
EAGER=${EAGER:-65536}
TOPO=configs/topologies/lab-2leaf-2spine.yaml

[ -f "$CALIB" ] || { echo "ecmp-spread: no calibration $CALIB (set CALIB=FILE)" >&2; exit 2; }
bytes=$(numfmt --from=iec "$SIZE")
if [ $MODE = measure ]; then
[ "$(id -u)" = 0 ] || { echo "ecmp-spread: needs root (arlab)" >&2; exit 2; }
for b in arlab arbench arplan; do
	[ -x "$BUILD/$b" ] || { echo "ecmp-spread: build first (make -j2 all): no $BUILD/$b" >&2; exit 2; }
done
for c in mpirun flock timeout jq awk; do
	command -v $c >/dev/null || { echo "ecmp-spread: needs $c" >&2; exit 2; }
done
. bench/lab/measurelib.sh
measure_setup ecmp-spread

measure_lock || exit 1
LAB_UP=1
"$ARLAB" up "$TOPO" 9>&- || { echo "ecmp-spread: arlab up $TOPO failed" >&2; exit 1; }

printf '# %s, rhd at %s B, %s iterations after 1 warm-up, one rank per host, TCP eager limit %s B; %s\n' \
	"$TOPO" "$bytes" "$ITERS" "$EAGER" "$(date -u +%FT%TZ)"
printf '# run %8s %6s %16s %16s  %s\n' "busbw" "busy" "load before" "load after" \
	"MB up: leaf0->spine0 leaf0->spine1 leaf1->spine0 leaf1->spine1  worst uplink share"
printf '# %3s %8s %6s\n' "" "(Mbit/s)" "(%)"
: >"$OUT/runs.tsv"
for ((i = 1; i <= RUNS; i++)); do
	wait_quiet
	l0=$(load)
	OMPI_MCA_btl_tcp_eager_limit=$EAGER OMPI_MCA_btl_tcp_rndv_eager_limit=$EAGER \
		timeout -k 10 300 "$ARLAB" run --bench "$TMP/arbench" -- -b "$SIZE" -e "$SIZE" -n "$ITERS" \
		-w 1 -c 0 -A rhd -q -J "$OUT/run$i.json" >"$OUT/run$i.log" 2>&1 9>&-
	rc=$?
	"$ARLAB" counters --fabric >"$OUT/counters$i.txt" 9>&-
	l1=$(load)
	[ $rc = 0 ] || { echo "ecmp-spread: run $i failed (exit $rc): $(tail -n 5 "$OUT/run$i.log")" >&2; continue; }
	bw=$(jq --argjson s "$bytes" '[.results[] | select(.algo == "rhd" and .size == $s and .inplace == false) | .busbw * 8000][0]' "$OUT/run$i.json")
	# bytes each leaf sent up to each spine (a->b of the leaf<->spine links)
	ups=$(awk '$1 !~ /^#/ && $3 ~ /^leaf/ && $4 ~ /^spine/ { printf "%s ", $5 }' "$OUT/counters$i.txt")
	share=$(echo "$ups" | awk '{ m = 0; for (i = 1; i + 1 <= NF; i += 2) { t = $i + $(i + 1);
		if (t > 0 && $i / t > m) m = $i / t; if (t > 0 && $(i + 1) / t > m) m = $(i + 1) / t }
		printf "%.2f", m }')
	printf '  %3d %8.1f %6s %16s %16s  %s  %s\n' "$i" "$bw" "$BUSY" "$l0" "$l1" "$ups" "$share"
	printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$bw" "$BUSY" "$l0" "$l1" "$ups" "$share" >>"$OUT/runs.tsv"
done
"$ARLAB" down >/dev/null 9>&- || echo "ecmp-spread: arlab down failed" >&2
LAB_UP=0
exec 9>&-

fi
pred="$BUILD/arplan predict --topo $TOPO --calib $CALIB --size $SIZE --algo rhd --ecmp sample:$SAMPLES --conns $CONNS"
$pred >"$OUT/predict.txt" || { echo "ecmp-spread: $pred failed" >&2; exit 1; }
$pred --json >"$OUT/predict.json" || exit 1
echo
echo "# $pred"
cat "$OUT/predict.txt"
# busbw (Mbit/s) of every draw
jq -r --argjson s "$bytes" '.ranks as $p | .predictions[0].samples_us[]
	| $s / (. * 1e-6) * 2 * ($p - 1) / $p * 8 / 1e6' "$OUT/predict.json" >"$OUT/predicted-busbw.txt"
n=$(wc -l <"$OUT/runs.tsv")
[ "$n" -ge 2 ] || { echo "ecmp-spread: fewer than 2 runs succeeded" >&2; exit 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_med=$(cut -f2 "$OUT/runs.tsv" | median)
m_rng=$(cut -f2 "$OUT/runs.tsv" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print hi - lo }')
p_med=$(median <"$OUT/predicted-busbw.txt")
# the model's expected range of n runs: mean of max - min over 4000 sets of n draws
p_rng=$(awk -v n="$n" 'BEGIN { srand(1) } { v[NR] = $1 } END {
	for (k = 0; k < 4000; k++) { lo = 1e30; hi = -1e30
		for (j = 0; j < n; j++) { x = v[int(rand() * NR) + 1]; if (x < lo) lo = x; if (x > hi) hi = x }
		s += hi - lo }
	print s / 4000 }' "$OUT/predicted-busbw.txt")
echo
awk -v mm="$m_med" -v pm="$p_med" -v mr="$m_rng" -v pr="$p_rng" -v n="$n" -v s="$SAMPLES" 'BEGIN {
	printf "rhd busbw over %d runs: median %.1f Mbit/s, range %.1f Mbit/s (max - min)\n", n, mm, mr
	printf "model (%s draws): median %.1f Mbit/s (%+.1f%%), expected range of %d draws %.1f Mbit/s (%+.1f%%)\n",
		s, pm, 100 * (pm - mm) / mm, n, pr,
		(mr > 0 ? 100 * (pr - mr) / mr : 0) }'
echo "(results in $OUT)"
