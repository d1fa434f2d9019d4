#!/usr/bin/env bash
# bench/scripts/overlap-lab.sh - the GPU idle fraction measured on the emulated lab (`arbench
# overlap`) against `arplan step`'s prediction for the same schedule, per lab/workload pair.
# A benchmark: it measures and prints; it asserts nothing.  From the repository's top:
#
#   bench/scripts/overlap-lab.sh measure [OUTDIR]   as root: bring up each pair's lab, run
#                                                   arbench overlap, bring it down
#   bench/scripts/overlap-lab.sh predict [OUTDIR]   no root: arplan step per pair, the table
#   bench/scripts/overlap-lab.sh all [OUTDIR]       both (default); OUTDIR: bench/results/overlap-lab
#   env: BUILD=build  CALIB=calib.yaml  ONLY="name ..."  STEPS=N (timed steps per run)
#        ARLAB=path (the arlab to build labs with: the one the calibration runs used)
#
# CALIB defaults to bench/results/planner-lab/calib.yaml, fitted by `arplan fit` on the lab's
# calibration runs only (bench/lab/planner-data.sh calib); never on these runs.  Each lab run
# holds the lab test lock (/run/arlab-test.lock, as bench/lab/testlib.sh) while its lab is
# up.  OUTDIR/runs.tsv gets one line per run: name, start (UTC), seconds, CPU busy % just
# before (wait_quiet), load before, load after (/proc/loadavg), exit code, command.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
MODE=${1:-all}
OUT=${2:-bench/results/overlap-lab}
CALIB=${CALIB:-bench/results/planner-lab/calib.yaml}
STEPS=${STEPS:-10}
case $MODE in measure | predict | all) ;; *)
	echo "usage: $0 [measure|predict|all] [OUTDIR]" >&2
	exit 2
	;;
esac

# name, lab topology, workload, scale, algorithm: scales chosen so a step takes seconds
PAIRS=(
	"2node-llama2-7b lab-2node llama2-7b 0.005 ring"
	"2node-llama3-8b lab-2node llama3-8b 0.003 ring"
	"mixed-llama3-8b lab-mixed-rates llama3-8b 0.001 ring"
	"3leaf-llama3-8b lab-3leaf llama3-8b 0.001 ring"
)

# private copies of arlab and arbench, clean-up, the lock and the quiet wait (at most
# QUIET_WAIT s, default 300, until the CPUs are under QUIET_BUSY % busy, default 25, over 2 s;
# then go ahead either way; BUSY goes into runs.tsv)
QUIET_WAIT=${QUIET_WAIT:-300}
. bench/lab/measurelib.sh

wanted() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

measure() {
	[ "$(id -u)" = 0 ] || { echo "overlap-lab: measuring needs root (arlab)" >&2; exit 2; }
	[ -x "$BUILD/arlab" ] && [ -x "$BUILD/arbench" ] || { echo "overlap-lab: build first" >&2; exit 2; }
	mkdir -p "$OUT/logs"
	measure_setup overlap-lab
	OUTABS=$OUT
	local p name topo wl scale algo flags l0 t0 rc start
	for p in "${PAIRS[@]}"; do
		read -r name topo wl scale algo <<<"$p"
		wanted "$name" || continue
		echo "== $name"
		measure_lock || { echo "overlap-lab: skipping $name" >&2; continue; }
		LAB_UP=1
		"$ARLAB" up "configs/topologies/$topo.yaml" 9>&- >/dev/null ||
			{ echo "overlap-lab: arlab up $topo failed" >&2; exit 1; }
		flags="overlap --workload $PWD/configs/workloads/$wl.yaml --topo $PWD/configs/topologies/$topo.yaml --scale $scale -A $algo --steps $STEPS --warmup 1 --timeout 60"
		wait_quiet
		echo "  CPU ${BUSY}% busy (waited $WAITED s for quiet)"
		start=$(date -u +%FT%TZ) l0=$(load) t0=$SECONDS
		# shellcheck disable=SC2086
		timeout -k 10 900 "$ARLAB" run --bench "$ARBENCH" -- $flags -J "$OUTABS/$name.json" \
			>"$OUTABS/logs/$name.log" 2>&1 9>&-
		rc=$?
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$start" $((SECONDS - t0)) "$BUSY" "$l0" "$(load)" "$rc" \
			"build/arlab up configs/topologies/$topo.yaml && build/arlab run -- ${flags//$PWD\//} -J $name.json" \
			>>"$OUT/runs.tsv"
		echo "  exit $rc, $((SECONDS - t0)) s, load before $l0, after $(load)"
		cat "$OUTABS/logs/$name.log"
		"$ARLAB" down >/dev/null 9>&- || echo "overlap-lab: arlab down failed" >&2
		LAB_UP=0
		exec 9>&-
	done
}

predict() {
	local cal=$CALIB p name topo wl scale algo m pred meas
	if [ ! -f "$cal" ]; then
		echo "overlap-lab: no $cal; predicting with configs/calibrations/example-lab.yaml (NOT fitted)" >&2
		cal=configs/calibrations/example-lab.yaml
	fi
	echo "calibration: $cal"
	echo "idle: measured p50 and p99 over the timed steps, predicted; error = predicted - measured p50"
	echo "(percentage points); comm: time in the bucket all-reduces per step, measured p50 and predicted"
	echo
	echo "| pair | lab | workload | scale | algo | idle p50 (%) | idle p99 (%) | predicted (%) | error (pts) | comm p50 (ms) | predicted (ms) | step p50 (ms) | predicted (ms) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for p in "${PAIRS[@]}"; do
		read -r name topo wl scale algo <<<"$p"
		wanted "$name" || continue
		m=$OUT/$name.json
		[ -s "$m" ] || { echo "| $name | $topo | $wl | $scale | $algo | not measured (no $m) |"; continue; }
		pred=$("$BUILD/arplan" step --topo "configs/topologies/$topo.yaml" \
			--workload "configs/workloads/$wl.yaml" --scale "$scale" --algo "$algo" \
			--calib "$cal" --json | jq -r '.step | "\(.idle_fraction) \(.allreduce_s) \(.step_s)"') ||
			pred="nan nan nan"
		meas=$(jq -r '"\(.idle_fraction.p50) \(.idle_fraction.p99) \(.comm_s.p50) \(.step_s.p50)"' "$m")
		# shellcheck disable=SC2086
		set -- $meas $pred
		awk -v n="$name" -v t="$topo" -v w="$wl" -v s="$scale" -v a="$algo" -v i50="$1" -v i99="$2" \
			-v c50="$3" -v s50="$4" -v pi="$5" -v pc="$6" -v ps="$7" 'BEGIN {
			printf "| %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %+.1f | %.0f | %.0f | %.0f | %.0f |\n",
				n, t, w, s, a, 100 * i50, 100 * i99, 100 * pi, 100 * (pi - i50), 1e3 * c50, 1e3 * pc,
				1e3 * s50, 1e3 * ps }'
	done
	echo
	echo "commands (per pair):"
	for p in "${PAIRS[@]}"; do
		read -r name topo wl scale algo <<<"$p"
		wanted "$name" || continue
		echo "  build/arlab up configs/topologies/$topo.yaml && build/arlab run -- overlap --workload configs/workloads/$wl.yaml --topo configs/topologies/$topo.yaml --scale $scale -A $algo --steps $STEPS"
		echo "  build/arplan step --topo configs/topologies/$topo.yaml --workload configs/workloads/$wl.yaml --scale $scale --algo $algo --calib $cal"
	done
}

case $MODE in
measure) measure ;;
predict) predict ;;
all) measure && predict ;;
esac
