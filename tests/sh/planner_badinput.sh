#!/usr/bin/env bash
# tests/sh/planner_badinput.sh - `arplan validate` on bad input: every case must exit 2 with
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

# check NAME PREFIX PHRASE -- ARGS...: exit 2, one stderr line starting with PREFIX, holding PHRASE
check() {
	local name=$1 prefix=$2 phrase=$3; shift 4
	local out rc lines
	out=$("$arplan" validate "$@" 2>&1 >/dev/null)
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
check "good then bad" "$D/results-newer.json: " "newer" -- $GOOD $D/results-newer.json --topo $T
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^## Calibration files/ { c = 1 } c && /^```$/ { n++; next } c && n == 1' configs/README.md \
	>"$tmp/readme-calib.yaml"
for c in "$tmp/readme-calib.yaml" configs/calibrations/*.yaml; do
	if out=$("$arplan" validate $GOOD --topo $T --calib "$c" 2>&1 >/dev/null); then
		pass=$((pass + 1))
	else
		echo "FAIL $c does not load: $out"; fail=$((fail + 1))
	fi
done

"$arplan" validate --help | grep -q -- '--max-error' && pass=$((pass + 1)) ||
	{ echo "FAIL --help"; fail=$((fail + 1)); }

echo "planner_badinput: $pass passed, $fail failed"
[ $fail -eq 0 ]
