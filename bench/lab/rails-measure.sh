#!/usr/bin/env bash
# bench/lab/rails-measure.sh - what the rail labs measure: on configs/topologies/lab-rail-optimized.yaml
# (2 rails joined by 2 spines) and lab-rail-only.yaml (no path between rails), 4 hosts x 2 NICs
# at 100 Mbit/s, it measures iperf3 on each rail alone and on both at once, a connection from
# one rail to the other, and arbench's ring at SIZE with each way ranks can use the two NICs:
#   rpn1-both     one rank per host on both NICs (Open MPI stripes; arlab run's default)
#   rpn2-both     two ranks per host, each on both NICs
#   rpn2-matched  two ranks per host, each on one NIC, rail-matched (--rail-bind matched)
#   rpn2-local    two ranks per host, local rank i on NIC i (--rail-bind local)
# (arlab run refuses --rail-bind on the rail-only lab: that row says so).  Before each
# measurement it waits up to QUIET_WAIT s for the CPUs to be less than QUIET_BUSY % busy, and
# prints the load average and CPU busy % with the figure.  Run as root from the repository:
#
#   bench/lab/rails-measure.sh [OUTDIR]      (default /tmp/arlab-rails; about 4 minutes)
#   env: BUILD=build SIZE=32M ITERS=3 QUIET_BUSY=25 QUIET_WAIT=60
#
# Holds the lab tests' lock (/run/arlab-test.lock) while a lab is up; touches no lab it did not
# bring up.  Keeps the JSON, iperf3 output and counters in OUTDIR.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OUT=${1:-/tmp/arlab-rails}
SIZE=${SIZE:-32M}
ITERS=${ITERS:-3}
[ "$(id -u)" = 0 ] || { echo "rails-measure: needs root (arlab)" >&2; exit 2; }
for b in arlab arbench; do
	[ -x "$BUILD/$b" ] || { echo "rails-measure: build first (make -j2 all): no $BUILD/$b" >&2; exit 2; }
done
for c in mpirun iperf3 flock timeout jq awk numfmt; do
	command -v $c >/dev/null || { echo "rails-measure: needs $c" >&2; exit 2; }
done
bytes=$(numfmt --from=iec "$SIZE")
. bench/lab/measurelib.sh
measure_setup rails-measure
row() { # lab what figure
	printf '%-15s %-40s %-28s %5s%% %s\n' "$1" "$2" "$3" "$BUSY" "$LOAD"
}
ax() { "$ARLAB" "$@" 9>&-; }

# iperf3 for 3 s from node0 to node2 (the other SU in lab-rail-optimized), one stream per
# "ADDR [client options]" of SPECS, all at once; prints Mbit/s per stream, " / " between
iperf_rows() {
	local i spec pids=() bw=() args
	for ((i = 0; i < ${#SPECS[@]}; i++)); do
		read -r -a args <<<"${SPECS[i]}"
		ax exec node2 -- iperf3 -s -1 -p $((5201 + i)) -B "${args[0]}" -D || return 1
	done
	sleep 0.5
	for ((i = 0; i < ${#SPECS[@]}; i++)); do
		read -r -a args <<<"${SPECS[i]}"
		ax exec node0 -- timeout 20 iperf3 -c "${args[0]}" -p $((5201 + i)) -t 3 -J \
			"${args[@]:1}" >"$OUT/$TAG-iperf$i.json" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 0; i < ${#SPECS[@]}; i++)); do
		bw+=("$(jq -r 'if .error then "fails: " + .error else (.end.sum_received.bits_per_second / 1e5 | round / 10 | tostring) end' "$OUT/$TAG-iperf$i.json")")
	done
	local IFS=/
	echo "${bw[*]}" | sed 's|/| / |g'
}

measure_lock || exit 1
printf '# rails-measure %s: iperf3 3 s node0 -> node2; arbench ring %s B, %s iterations after 1 warm-up\n' \
	"$(date -u +%FT%TZ)" "$bytes" "$ITERS"
printf '%-15s %-40s %-28s %6s %s\n' "# lab" "measurement" "Mbit/s (busbw for rings)" "busy" "load before"
for lab in lab-rail-optimized lab-rail-only; do
	LAB_UP=1
	ax up "configs/topologies/$lab.yaml" >"$OUT/$lab-up.txt" || { echo "rails-measure: up $lab failed" >&2; exit 1; }
	short=${lab#lab-}
	for m in "rail 0|10.77.0.3" "rail 1|10.77.1.3" "rails 0 and 1 at once|10.77.0.3;10.77.1.3" \
		"rail 0 -> rail 1 (bound to 10.77.0.1)|10.77.1.3 -B 10.77.0.1"; do
		IFS=';' read -r -a SPECS <<<"${m#*|}"
		TAG="$short-$(echo "${m%%|*}" | tr -c 'a-z0-9' '_')"
		wait_quiet
		row "$short" "iperf3 ${m%%|*}" "$(iperf_rows "${SPECS[@]}")"
		ax counters --reset >/dev/null
	done
	for mode in "rpn1-both|" "rpn2-both|--ranks-per-node 2" \
		"rpn2-matched|--ranks-per-node 2 --rail-bind matched" \
		"rpn2-local|--ranks-per-node 2 --rail-bind local"; do
		name=${mode%%|*}
		json=$OUT/$short-$name.json
		rm -f "$json"
		wait_quiet
		# shellcheck disable=SC2086
		timeout 300 "$ARLAB" run ${mode#*|} --bench "$TMP/arbench" -- -b "$SIZE" -e "$SIZE" \
			-n "$ITERS" -w 1 -c 1 -A ring -J "$json" >"$OUT/$short-$name.log" 2>&1 9>&-
		rc=$?
		if [ $rc -eq 0 ] && grep -q '^# Out of bounds values : 0 OK' "$OUT/$short-$name.log"; then
			fig=$(jq -r --argjson s "$bytes" '[.results[] | select(.size == $s and .inplace == false) | .busbw][0] * 8000 * 10 | round / 10' "$json")
		else
			fig="fails (exit $rc): $(grep -m1 -o 'arlab: .*\|connect() to [0-9.:]* failed' "$OUT/$short-$name.log" | head -c 60)"
		fi
		ax counters >"$OUT/$short-$name.counters"
		row "$short" "ring $name" "$fig"
	done
	ax down >/dev/null || { echo "rails-measure: down $lab failed" >&2; exit 1; }
	LAB_UP=0
done
