#!/usr/bin/env bash
# bench/scripts/planner-accuracy.sh - the planner's accuracy on the emulated lab, as the README
# prints it: fit a calibration on DATADIR/calib only, validate it on every file of
# DATADIR/valid (fabrics the fit never saw), and compare the flow and closed engines on the
# 2:1 lab against 1:1 (contention).  A benchmark: it prints tables and passes or fails nothing.
#   usage: bench/scripts/planner-accuracy.sh [DATADIR] [MIN_SIZE]
#          (DATADIR: bench/results/planner-lab, measured by bench/lab/planner-data.sh;
#           MIN_SIZE: 1M, the smallest size summarised; BUILD=build)
# Writes DATADIR/calib.yaml (the calibration it validated), unless the one there already holds
# the same figures: the fit is deterministic, and only its provenance date would change.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
DATA=${1:-bench/results/planner-lab}
MIN=${2:-1M}
A=$BUILD/arplan
T=configs/topologies
[ -x "$A" ] || { echo "planner-accuracy: no $A (run make first)" >&2; exit 2; }
command -v jq >/dev/null || { echo "planner-accuracy: needs jq" >&2; exit 2; }
for f in shm-np2 shm-np4 lab-2node lab-2leaf-1to1; do
	[ -s "$DATA/calib/$f.json" ] || { echo "planner-accuracy: missing $DATA/calib/$f.json" >&2; exit 2; }
done

# validation file -> the topology it was measured on
VALID=(lab-2leaf-2to1:lab-2leaf-2to1 lab-3leaf:lab-3leaf lab-mixed-rates:lab-mixed-rates
	lab-2node-2rph:lab-2node lab-4host-2rph:lab-mixed-rates)

echo "## Calibration (fitted on $DATA/calib only)"
echo
echo '```'
"$A" fit "$DATA/calib/shm-np2.json" "$DATA/calib/shm-np4.json" \
	--topo "$T/lab-2node.yaml" "$DATA/calib/lab-2node.json" \
	--topo "$T/lab-2leaf-1to1.yaml" "$DATA/calib/lab-2leaf-1to1.json" \
	-o "$DATA/calib.new.yaml" --min-size "$MIN" 2>&1 | sed -n '/^link model/,$p'
echo '```'
if [ -s "$DATA/calib.yaml" ] && cmp -s <(grep -v '^  date: ' "$DATA/calib.yaml") \
	<(grep -v '^  date: ' "$DATA/calib.new.yaml"); then
	rm -f "$DATA/calib.new.yaml"
else
	mv "$DATA/calib.new.yaml" "$DATA/calib.yaml"
fi
echo
echo "## Validation (sizes >= $MIN; median and max |error| of each row's p50 time)"
echo
echo "| validation file | topology | ring | tree | hier | rhd | all rows |"
echo "|---|---|---|---|---|---|---|"
all=()
for v in "${VALID[@]}"; do
	f=${v%%:*} t=${v##*:}
	[ -s "$DATA/valid/$f.json" ] || { echo "| $f | (missing) |||||"; continue; }
	j=$("$A" validate "$DATA/valid/$f.json" --topo "$T/$t.yaml" --calib "$DATA/calib.yaml" \
		--min-size "$MIN" --json 2>/dev/null)
	all+=("$j")
	echo "$j" | jq -r --arg f "$f" --arg t "$t" '
		def pc: . * 1000 | round / 10 | tostring + "%";
		def cell(a): .summary.per_algo[a] | if . then "\(.median_abs_error | pc) / \(.max_abs_error | pc)" else "-" end;
		"| \($f) | \($t) | \(cell("ring")) | \(cell("tree")) | \(cell("hier")) | \(cell("rhd")) | \(.summary.median_abs_error | pc) / \(.summary.max_abs_error | pc) (\(.summary.rows)) |"'
done
printf '%s\n' "${all[@]}" | jq -rs --argjson min "$(numfmt --from=iec "$MIN")" '
	[.[].rows[] | select(.size >= $min) | .error | fabs] | sort as $e
	| "\nEvery validation row together: \($e | length) rows, median |error| \($e[($e | length) / 2 | floor] * 1000 | round / 10)%, max \($e[-1] * 1000 | round / 10)%; rows over 25%: \([$e[] | select(. > 0.25)] | length)."'
echo
echo "Rows over 25%:"
printf '%s\n' "${all[@]}" | jq -r --argjson min "$(numfmt --from=iec "$MIN")" '
	.rows[] | select(.size >= $min and (.error | fabs) > 0.25)
	| "  \(.file | split("/") | last) \(.size) \(.algo) inplace=\(.inplace): measured \(.measured_us | round) us, predicted \(.predicted_us | round) us, \(.error * 1000 | round / 10)%"'

# contention: 2:1 against 1:1, measured (p50, out of place) and predicted by each engine
echo
echo "## Contention: time on lab-2leaf-2to1 / time on lab-2leaf-1to1 (1 = no slowdown)"
echo
echo "| algorithm | size | measured | flow engine | closed engine |"
echo "|---|---|---|---|---|"
m1=$DATA/calib/lab-2leaf-1to1.json m2=$DATA/valid/lab-2leaf-2to1.json
for a in ring tree hier rhd; do
	for s in 1048576 8388608; do
		meas=$(jq -n --slurpfile x "$m1" --slurpfile y "$m2" --arg a "$a" --argjson s "$s" '
			def t(f): [f[0].results[] | select(.algo == $a and .size == $s and .inplace == false) | .time_us.p50][0];
			t($y) / t($x) * 100 | round / 100')
		pr=()
		for e in flow closed; do
			p1=$("$A" predict --topo "$T/lab-2leaf-1to1.yaml" --calib "$DATA/calib.yaml" --size "$s" \
				--algo "$a" --engine "$e" --json | jq '.predictions[0].time_us')
			p2=$("$A" predict --topo "$T/lab-2leaf-2to1.yaml" --calib "$DATA/calib.yaml" --size "$s" \
				--algo "$a" --engine "$e" --json | jq '.predictions[0].time_us')
			pr+=("$(jq -n "$p2 / $p1 * 100 | round / 100")")
		done
		echo "| $a | $(numfmt --to=iec "$s")iB | $meas | ${pr[0]} | ${pr[1]} |"
	done
done
