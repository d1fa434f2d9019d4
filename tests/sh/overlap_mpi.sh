#!/usr/bin/env bash
# tests/sh/overlap_mpi.sh - `arbench overlap` under mpirun on this host (no lab), p = 2..4, a
# few seconds: the steps follow the planner's schedule (compute never shorter than planned;
# with overlap off every bucket runs after backward, so exposed >= comm; with overlap on most
# of the communication hides), every bucket's result is checked (a flipped bit is caught,
# exit 1), the JSON holds steps, idle_fraction, exposed_s and step_s, and bad input exits 2
# with one line.  Exit 0 pass, 1 on any failure.
set -u
. "$(dirname "$0")/mpi_lib.bash"
bin=$BUILD/arbench
need_bin "$bin"
command -v jq >/dev/null || { echo "skip: overlap_mpi needs jq"; exit 77; }
# up to 4 ranks and their GPU threads on 2 cores: waiting ranks yield (as arlab run sets it)
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
flags=$mpi_flags
tmp=$(mktemp -d /tmp/overlap-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
topo=configs/topologies/lab-2node.yaml
rc=0 t0=$SECONDS
fail() { echo "FAIL: $*"; rc=1; }

ovl() { # np, then arbench overlap flags
	local np=$1
	shift
	timeout -k 5 60 $MPIRUN $flags -np "$np" "$bin" overlap --topo $topo --quiet "$@"
}

# jq expression over FILE must be true
holds() { # file expr what
	jq -e "$2" "$1" >/dev/null || fail "$3 ($(jq -c "$2" "$1" 2>&1 | head -c 200))"
}

# 1. overlap on, every algorithm of the library, 2 to 4 ranks: right results, sane figures
for run in "2 ring" "3 tree" "4 rhd" "4 hier" "3 ring"; do
	set -- $run
	j=$tmp/on-$1-$2.json
	ovl "$1" --workload configs/workloads/llama2-7b.yaml --scale 0.0005 --steps 4 -A "$2" \
		-J "$j" >"$tmp/out" 2>&1 || { fail "p=$1 -A $2 exited $?"; cat "$tmp/out"; continue; }
	holds "$j" '.steps | length == 4' "p=$1 $2: 4 steps in the JSON"
	holds "$j" '[.steps[].wrong] | add == 0' "p=$1 $2: no wrong values"
	holds "$j" '.ranks == '"$1"' and .workload.data == '"$1" "p=$1 $2: one data-parallel rank each"
	holds "$j" '[.steps[] | .idle_fraction >= 0 and .idle_fraction < 1 and .exposed_s <= .step_s
		and (.idle_fraction - .exposed_s / .step_s | fabs) < 0.05] | all' \
		"p=$1 $2: 0 <= idle < 1, exposed <= step"
	# sleeps are never short; a loaded machine wakes them late, so the upper bound is loose
	holds "$j" '.workload.compute_s as $c | [.steps[] | .compute_s >= 0.999 * $c and .compute_s < 2 * $c + 0.2] | all' \
		"p=$1 $2: measured compute follows the planned compute"
	holds "$j" '(.idle_fraction | has("p50") and has("p99")) and (.exposed_s | has("p50")) and (.step_s | has("p99"))' \
		"p=$1 $2: p50/p99 summaries"
	grep -q '^    p50 ' "$tmp/out" && grep -q '^    p99 ' "$tmp/out" || fail "p=$1 $2: table without p50/p99 rows"
done

# 2. overlap off: all communication after backward; on: most of it hides under backward
ovl 2 --workload tests/data/overlap/no-overlap.yaml --scale 0.0005 --steps 3 -J "$tmp/off.json" \
	>"$tmp/out" 2>&1 || { fail "no-overlap run exited $?"; cat "$tmp/out"; }
holds "$tmp/off.json" '.workload.overlap == false and ([.steps[] | .exposed_s >= 0.9 * .comm_s and .exposed_s > 0] | all)' \
	"overlap off: exposed >= comm"
holds "$tmp/on-2-ring.json" '.workload.overlap and .comm_s.p50 > 0 and .exposed_s.p50 < 0.9 * .comm_s.p50' \
	"overlap on: some communication hidden under backward"

# 3. a wrong result is caught: exit 1, FAILED
ARBENCH_TEST_CORRUPT_RANK=1 ovl 2 --workload configs/workloads/llama2-7b.yaml --scale 0.0002 \
	--steps 1 >"$tmp/out" 2>&1
r=$?
[ $r = 1 ] && grep -q 'Out of bounds values : 1 FAILED' "$tmp/out" ||
	{ fail "flipped bit: exit $r (expected 1 and FAILED)"; cat "$tmp/out"; }

# 4. bad input: exit 2 and one line naming the problem
bad() { # expected-phrase, flags...
	local want=$1
	shift
	ovl 2 "$@" >"$tmp/out" 2>&1
	local r=$?
	[ $r = 2 ] && grep -q -- "$want" "$tmp/out" || { fail "bad input ($*): exit $r, expected 2 and '$want'"; cat "$tmp/out"; }
}
bad 'only data parallelism is emulated' --workload configs/workloads/llama3-70b.yaml
bad 'parallel.data is 3 but the run has 2 ranks' --workload tests/data/overlap/data-3.yaml
bad "bad value '0' for --scale" --workload configs/workloads/llama2-7b.yaml --scale 0
bad "bad value 'ring2' for -A" --workload configs/workloads/llama2-7b.yaml -A ring2
bad '--workload FILE is required' --scale 0.1
bad 'training.global_batch_tokens' --workload tests/data/planner/workload-bad/batch-below-sequence.yaml

echo "overlap_mpi: $((SECONDS - t0)) s, $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
