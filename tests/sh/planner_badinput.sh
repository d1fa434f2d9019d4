#!/usr/bin/env bash
# tests/sh/planner_badinput.sh - `arplan validate`, `predict`, `fit`, `step`, `compare`, `sweep` and `report` on bad input: every case must exit 2 with
# exactly one line on stderr that names the file (or the option) and says what is wrong.
# Bad calibrations (tests/data/planner/calib-bad/*.yaml, first line "# expect: LINE:COLUMN
# phrase") must also point at FILE:LINE:COLUMN and say what was expected.  And the good
# counterparts: the calibration example in configs/README.md and the shipped example load.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
D=tests/data/planner
T=configs/topologies/lab-2node.yaml
GOOD=$D/results-lab2.json
pass=0 fail=0
sub=validate

# check NAME PREFIX PHRASE -- ARGS...: exit 2, one stderr line starting with PREFIX, holding PHRASE
check() {
	local name=$1 prefix=$2 phrase=$3; shift 4
	local out rc lines
	out=$("$arplan" $sub "$@" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$out" | wc -l)
	if [ $rc -ne 2 ]; then
		echo "FAIL $name: exit $rc, expected 2 ($out)"; fail=$((fail + 1))
	elif [ "$lines" -ne 1 ]; then
		echo "FAIL $name: $lines lines on stderr, expected one: $out"; fail=$((fail + 1))
	elif [[ $out != "$prefix"* ]]; then
		echo "FAIL $name: expected '$prefix...', got: $out"; fail=$((fail + 1))
	elif [[ $out != *"$phrase"* ]]; then
		echo "FAIL $name: message lacks '$phrase': $out"; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

for f in $D/calib-bad/*.yaml; do
	exp=$(sed -n '1s/^# expect: //p' "$f")
	where=${exp%% *} phrase=${exp#* }
	check "$f" "$f:$where: " "$phrase" -- $GOOD --topo $T --calib "$f"
	check "$f (expected)" "$f:$where: " "(expected " -- $GOOD --topo $T --calib "$f"
done

check truncated "$D/results-truncated.json: " "truncated" -- $D/results-truncated.json --topo $T
check foreign "$D/results-foreign.json: " "not an arbench results file" -- \
	$D/results-foreign.json --topo $T
check newer "$D/results-newer.json: " "written by a newer arbench (schema 2)" -- \
	$D/results-newer.json --topo $T
check inconsistent "$D/results-inconsistent.json: " "node_of_rank" -- \
	$D/results-inconsistent.json --topo $T
check "nccl text without counts" "$D/nccl-allreduce.txt: " "--ranks N --nodes N" -- \
	$D/nccl-allreduce.txt --topo $T
check "nccl wrong nodes" "$D/nccl-allreduce.txt: " "expected --nodes 2" -- \
	$D/nccl-allreduce.txt --topo $T --ranks 4 --nodes 3
check "nccl truncated" "$D/nccl-truncated.txt: " "truncated" -- \
	$D/nccl-truncated.txt --topo $T --ranks 4 --nodes 2
check "nccl all_gather" "$D/nccl-allgather.txt: " "not an all-reduce test" -- \
	$D/nccl-allgather.txt --topo $T --ranks 4 --nodes 2
# found by fuzz_results: "Collective test starting:" at the very end of a line read past it
check "nccl test name cut off" "$D/nccl-cut-after-collective.txt: " "not an all-reduce test" -- \
	$D/nccl-cut-after-collective.txt --topo $T --ranks 4 --nodes 2
check "good then bad" "$D/results-newer.json: " "newer" -- $GOOD $D/results-newer.json --topo $T
check "more nodes than the topology" "arplan validate: $D/results-3nodes.json on $T: " "fewer" -- \
	$GOOD $D/results-3nodes.json --topo $T
check "missing results" "$D/none.json: " "cannot open" -- $D/none.json --topo $T
check "bad topology" "tests/data/topo-bad/unknown-key.yaml:" "unknown key" -- \
	$GOOD --topo tests/data/topo-bad/unknown-key.yaml
check "missing calib" "$D/none.yaml: " "cannot open" -- $GOOD --topo $T --calib $D/none.yaml
check "no topo" "arplan validate: " "--topo" -- $GOOD
check "no results" "arplan validate: " "no results file" -- --topo $T
check "bad max-error" "arplan validate: --max-error 'lots'" "expected a fraction" -- \
	$GOOD --topo $T --max-error lots
check "bad engine" "arplan validate: --engine 'fast'" "flow or closed" -- \
	$GOOD --topo $T --engine fast
check "bad ecmp" "arplan validate: --ecmp 'any'" "hash or spread" -- $GOOD --topo $T --ecmp any
check "bad min-size" "arplan validate: --min-size '1Q'" "a size" -- $GOOD --topo $T --min-size 1Q
check "ranks without nodes" "arplan validate: " "go together" -- $GOOD --topo $T --ranks 4
check "unknown option" "arplan validate: " "unknown option" -- $GOOD --topo $T --frobnicate

# predict and fit
sub=predict
check "predict: no topo" "arplan predict: " "--topo" --
check "predict: too many nodes" "arplan predict: --nodes 9" "only 8 nodes" -- \
	--topo configs/topologies/lab-2leaf-1to1.yaml --nodes 9
check "predict: more ranks than GPUs" "arplan predict: " "GPUs" -- \
	--topo configs/topologies/single-switch-4x8.yaml --ranks-per-node 9
check "predict: unknown algorithm" "arplan predict: " "unknown algorithm 'ringg'" -- \
	--topo $T --algo ringg
check "predict: bad size" "arplan predict: bad value '1Q' for -b" "" -- --topo $T -b 1Q
check "predict: bad engine" "arplan predict: bad value 'fast' for --engine" "" -- --topo $T --engine fast
check "predict: -b > -e" "arplan predict: " "larger than" -- --topo $T -b 8M -e 1M
check "predict: bad calibration" "$D/calib-bad/" "expected" -- --topo $T \
	--calib "$(ls $D/calib-bad/*.yaml | head -n 1)"
check "predict: bad topology" "tests/data/topo-bad/unknown-key.yaml:" "unknown key" -- \
	--topo tests/data/topo-bad/unknown-key.yaml
sub=fit
check "fit: no output" "arplan fit: " "-o calib.yaml is required" -- $GOOD
check "fit: truncated results" "arplan fit: $D/results-truncated.json: " "truncated" -- \
	--topo $T $D/results-truncated.json -o /dev/null
check "fit: newer results" "arplan fit: $D/results-newer.json: " "newer arbench" -- \
	--topo $T $D/results-newer.json -o /dev/null
check "fit: several nodes, no topology" "arplan fit: " "no topology" -- $GOOD -o /dev/null
check "fit: nccl-tests log without topology" "arplan fit: $D/nccl-allreduce.txt: " "--topo" -- \
	$D/nccl-allreduce.txt -o /dev/null
# step and compare: bad workloads point at FILE:LINE:COLUMN; run-time checks are one line each
W=configs/workloads/llama2-7b.yaml
G=configs/topologies/single-switch-4x8.yaml
sub=step
for f in $D/workload-bad/*.yaml; do
	exp=$(sed -n '1s/^# expect: //p' "$f")
	where=${exp%% *} phrase=${exp#* }
	check "$f" "$f:$where: " "$phrase" -- --topo $G --workload "$f"
	check "$f (expected)" "$f:$where: " "(expected " -- --topo $G --workload "$f"
done
check "step: no topo" "arplan step: " "--topo" -- --workload $W
check "step: no workload" "arplan step: " "--workload" -- --topo $G
check "step: missing workload" "$D/none.yaml: " "cannot open" -- --topo $G --workload $D/none.yaml
check "step: degrees" "arplan step: $D/workload-run/degrees-mismatch.yaml: " "but single-switch-4x8 has 32" -- \
	--topo $G --workload $D/workload-run/degrees-mismatch.yaml
check "step: does not fit" "arplan step: $D/workload-run/too-big.yaml: " "does not fit" -- \
	--topo $G --workload $D/workload-run/too-big.yaml
check "step: GPU not in catalog" "arplan step: $D/workload-run/gpu-unknown.yaml: " \
	"GPU 'H900' is not in the catalog" -- --topo $G --workload $D/workload-run/gpu-unknown.yaml
check "step: bad topology" "tests/data/topo-bad/unknown-key.yaml:" "unknown key" -- \
	--topo tests/data/topo-bad/unknown-key.yaml --workload $W
check "step: bad calibration" "$D/calib-bad/" "expected" -- --topo $G --workload $W \
	--calib "$(ls $D/calib-bad/*.yaml | head -n 1)"
check "step: unknown option" "arplan step: " "unknown option" -- --topo $G --workload $W --csv
check "step: scale 0" "arplan step: " "for --scale (expected a factor 0 < X <= 1" -- --topo $G --workload $W --scale 0
check "step: scale junk" "arplan step: " "bad value '2x' for --scale" -- --topo $G --workload $W --scale 2x
check "step: unknown algo" "arplan step: " "unknown algorithm 'ring2' for --algo" -- --topo $G --workload $W --algo ring2
sub=compare
check "compare: no topology" "arplan compare: " "no topology" -- --workload $W
check "compare: no workload" "arplan compare: " "--workload" -- $G
check "compare: json and csv" "arplan compare: " "choose one" -- $G --workload $W --json --csv
check "compare: no --scale" "arplan compare: " "unknown option" -- $G --workload $W --scale 0.1
check "compare: second topology bad" "tests/data/topo-bad/unknown-key.yaml:" "unknown key" -- \
	$G tests/data/topo-bad/unknown-key.yaml --workload $W
check "compare: degrees" "arplan compare: $D/workload-run/degrees-mismatch.yaml: " "GPUs, but" -- \
	$G --workload $D/workload-run/degrees-mismatch.yaml
sub=sweep
check "sweep: no gpus" "arplan sweep: " "--gpus N is required" -- --workload $W
check "sweep: gpus not a multiple of 8" "arplan sweep: bad value '100' for --gpus" "multiple of 8" -- \
	--workload $W --gpus 100
check "sweep: data given" "arplan sweep: $D/workload-run/degrees-mismatch.yaml sets parallel.data 3" \
	"left out" -- --workload $D/workload-run/degrees-mismatch.yaml --gpus 256
check "sweep: no catalog" "arplan sweep: no catalog directory $D/none" "--catalog" -- \
	--workload $W --gpus 256 --catalog $D/none
check "sweep: topology option" "arplan sweep: " "unknown option" -- --workload $W --gpus 256 --topo $G
if out=$("$arplan" sweep --workload configs/workloads/llama3-70b.yaml --gpus 256 2>&1) &&
	[[ $out == *"cheapest per unit of effective compute"* ]] && [[ $out == *rail-only* ]]; then
	pass=$((pass + 1))
else
	echo "FAIL sweep of 256 GPUs: $out"; fail=$((fail + 1))
fi
# every shipped workload runs: the published runs on the clusters they ran on (README "Against
# published training runs"), the others on a 1,024-GPU H100 fabric
declare -A run_on=([bloom-176b]=jean-zay-384-a100 [megatron-1t]=selene-3072-a100)
for w in configs/workloads/*.yaml; do
	t=${w##*/} t=${run_on[${t%.yaml}]:-dgx-h100-superpod-4su}
	if out=$("$arplan" step --topo configs/topologies/$t.yaml --workload "$w" 2>&1 >/dev/null); then
		pass=$((pass + 1))
	else
		echo "FAIL $w does not run: $out"; fail=$((fail + 1))
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# report: bad results, links and options; a failed report leaves no output file behind
R=tests/data/report
sub=report
check "report: truncated" "$D/results-truncated.json: " "truncated" -- \
	$D/results-truncated.json -o "$tmp/r.html"
check "report: foreign" "$D/results-foreign.json: " "not an arbench results file" -- \
	$D/results-foreign.json -o "$tmp/r.html"
check "report: newer" "$D/results-newer.json: " "written by a newer arbench (schema 2)" -- \
	$D/results-newer.json -o "$tmp/r.html"
check "report: empty results" "$R/bad-empty.json: " 'the "results" list is empty' -- \
	$R/bad-empty.json -o "$tmp/r.html"
check "report: good then empty" "$R/bad-empty.json: " "no results" -- \
	$R/results.json $R/bad-empty.json -o "$tmp/r.html"
check "report: link bandwidth" "$R/bad-links-bw.json: " 'links[1]: "bw_gbps"' -- \
	$R/bad-links-bw.json -o "$tmp/r.html"
check "report: link rank" "$R/bad-links-rank.json: " "links[2]: \"src\" and \"dst\" must be two different ranks 0..3" -- \
	$R/bad-links-rank.json -o "$tmp/r.html"
check "report: links not a list" "$R/bad-links-type.json: " '"links" is not a list' -- \
	$R/bad-links-type.json -o "$tmp/r.html"
check "report: nodes_info" "$R/bad-nodes-info.json: " '"nodes_info" is not a list' -- \
	$R/bad-nodes-info.json -o "$tmp/r.html"
check "report: nccl-tests text" "$D/nccl-allreduce.txt: " "nccl-tests text output" -- \
	$D/nccl-allreduce.txt -o "$tmp/r.html"
check "report: missing file" "$D/none.json: " "cannot open" -- $D/none.json -o "$tmp/r.html"
check "report: no -o" "arplan report: " "no -o FILE" -- $R/results.json
check "report: no results" "arplan report: " "no results file" -- -o "$tmp/r.html"
check "report: -o is the input" "arplan report: -o $R/results.json is the results file" "replace" -- \
	$R/results.json -o $R/results.json
check "report: bad format" "arplan report: --format 'pdf'" "html, md or csv" -- \
	$R/results.json -o "$tmp/r.html" --format pdf
check "report: bad expect" "arplan report: --expect 'fast'" "GB/s" -- \
	$R/results.json -o "$tmp/r.html" --expect fast
check "report: calib without topo" "arplan report: " "--calib needs --topo" -- \
	$R/results.json -o "$tmp/r.html" --calib configs/calibrations/example-lab.yaml
check "report: bad topology" "tests/data/topo-bad/unknown-key.yaml:" "unknown key" -- \
	$R/results.json -o "$tmp/r.html" --topo tests/data/topo-bad/unknown-key.yaml
check "report: too few nodes" "arplan report: $R/results.json on $T: " "fewer" -- \
	$R/results.json -o "$tmp/r.html" --topo $T
check "report: keep-plots a file" "arplan report: --keep-plots $R/results.json" "not a directory" -- \
	$R/results.json -o "$tmp/r.html" --keep-plots $R/results.json
check "report: unknown option" "arplan report: " "unknown option" -- $R/results.json -o "$tmp/r.html" --pdf
if [ -e "$tmp/r.html" ] || ls "$tmp"/r.html.* >/dev/null 2>&1; then
	echo "FAIL report: a failed report left $(ls "$tmp")"; fail=$((fail + 1))
else
	pass=$((pass + 1))
fi
sub=validate
awk '/^## Calibration files/ { c = 1 } c && /^```$/ { n++; next } c && n == 1' configs/README.md \
	>"$tmp/readme-calib.yaml"
for c in "$tmp/readme-calib.yaml" configs/calibrations/*.yaml; do
	if out=$("$arplan" validate $GOOD --topo $T --calib "$c" 2>&1 >/dev/null); then
		pass=$((pass + 1))
	else
		echo "FAIL $c does not load: $out"; fail=$((fail + 1))
	fi
done

# the workload example in configs/README.md runs
awk '/^## Workload files/ { c = 1 } c && /^```$/ { n++; next } c && n == 1' configs/README.md \
	>"$tmp/readme-workload.yaml"
if out=$("$arplan" step --topo configs/topologies/dgx-h100-superpod-1su.yaml \
	--workload "$tmp/readme-workload.yaml" 2>&1 >/dev/null); then
	pass=$((pass + 1))
else
	echo "FAIL the workload example in configs/README.md does not run: $out"; fail=$((fail + 1))
fi

"$arplan" validate --help | grep -q -- '--max-error' && pass=$((pass + 1)) ||
	{ echo "FAIL --help"; fail=$((fail + 1)); }

echo "planner_badinput: $pass passed, $fail failed"
[ $fail -eq 0 ]
