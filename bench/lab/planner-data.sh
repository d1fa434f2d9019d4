#!/usr/bin/env bash
# bench/lab/planner-data.sh - measure the data the planner (arplan fit/validate, issue 8) is
# calibrated on and validated against.  Run as root from anywhere in the repository:
#
#   bench/lab/planner-data.sh [calib|valid|all] [OUTDIR]     (default: all, bench/results/planner-lab)
#   env: BUILD=build  ONLY="lab-2node lab-3leaf"  (run only these files of the chosen set)
#
# CALIBRATION (OUTDIR/calib/): shm-np2, shm-np4 (one host, shared memory, no lab), lab-2node,
# lab-2leaf-1to1.  VALIDATION (OUTDIR/valid/): lab-2leaf-2to1, lab-3leaf, lab-mixed-rates,
# lab-2node-2rph (2 ranks per host), lab-4host-2rph (lab-mixed-rates at 2 ranks per host).
# The model must never be fitted on a validation file.
#
# Every run: the lab is brought up, arbench runs under a timeout, the JSON (and arbench's
# table, logs/NAME.log) is saved, the lab is brought down (also on error or Ctrl-C: trap).
# One lab per machine: each lab run holds /run/arlab-test.lock (the lab tests' lock)
# while its lab is up, so a concurrent `make check` waits for it, and we wait for it.
# OUTDIR/SET/runs.tsv gets one line per run: file, start (UTC), wall seconds, CPU busy % just
# before (see wait_quiet), load average before and after (/proc/loadavg, first three fields),
# exit code, command.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
SET=${1:-all}
OUT=${2:-bench/results/planner-lab}
case $SET in calib | valid | all | table) ;; *)
	echo "usage: $0 [calib|valid|all|table] [OUTDIR]" >&2
	exit 2
	;;
esac

# `table`: the README's tables from OUTDIR/{calib,valid}/*.json: busbw (Mbit/s, out-of-place
# mean; in place in parentheses) of ring, tree, hier, rhd at 1 MiB and 8 MiB.  No root needed.
if [ "$SET" = table ]; then
	for d in "$OUT"/calib "$OUT"/valid; do
		[ -d "$d" ] || continue
		for f in "$d"/*.json; do
			echo
			echo "**${d##*/}/${f##*/}** ($(jq -r '"\(.ranks) ranks on \(.nodes) nodes"' "$f"))"
			echo
			echo "| algorithm | 1 MiB | 8 MiB |"
			echo "|---|---|---|"
			jq -r '
				def bw(a; s; ip): [.results[] | select(.algo == a and .size == s and .inplace == ip)
					| .busbw * 8000 | . * 10 | round / 10][0] // "-";
				. as $r | ("ring", "tree", "hier", "rhd") as $a
				| "| \($a) | \($r | bw($a; 1048576; false)) (\($r | bw($a; 1048576; true))) | \($r | bw($a; 8388608; false)) (\($r | bw($a; 8388608; true))) |"' "$f"
		done
	done
	exit 0
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

[ "$(id -u)" = 0 ] || { echo "planner-data: needs root (arlab)" >&2; exit 2; }
if [ ! -x "$BUILD/arlab" ] || [ ! -x "$BUILD/arbench" ]; then
	echo "planner-data: build first (make -j2 all)" >&2
	exit 2
fi
for c in mpirun flock timeout jq; do
	command -v $c >/dev/null || { echo "planner-data: needs $c" >&2; exit 2; }
done

# private copies of arlab and arbench, clean-up on every exit path, the quiet wait, the lock
QUIET_WAIT=${QUIET_WAIT:-300}
. bench/lab/measurelib.sh
measure_setup planner-data

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}

# arbench flags
F_SHM="-b 8 -e 16M -f 2 -A ring,tree,hier,rhd -n 10 -w 3 -c 1"
F_2NODE="-b 8 -e 16M -f 2 -A ring,tree,hier,rhd -n 5 -w 2 -c 1"
F_LAB="-b 8 -e 8M -f 2 -A ring,tree,hier,rhd -n 3 -w 1 -c 1"

# Other developers compile and test on this machine: before each run wait_quiet (at most
# QUIET_WAIT seconds, default 300, until the CPUs are less than QUIET_BUSY % busy, default 25,
# over 2 s), then go ahead either way; the busy figure goes into runs.tsv.
quiet() {
	wait_quiet
	echo "  CPU ${BUSY}% busy (waited $WAITED s for quiet)"
}

wanted() { # name
	[ -z "${ONLY:-}" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# ring, tree, hier, rhd busbw (out-of-place mean) at 1 MiB and 8 MiB in Mbit/s
summary() { # json
	jq -r '[.results[] | select(.inplace == false and (.size == 1048576 or .size == 8388608))
		| "\(.algo) \(.size / 1048576)M \(.busbw * 8000 | . * 10 | round / 10)"] | join(", ")' "$1"
}

# record NAME SETDIR T0 LOAD0 RC CMD...: a line in runs.tsv and the summary
record() {
	local name=$1 dir=$2 t0=$3 l0=$4 rc=$5 wall
	shift 5
	wall=$((SECONDS - t0))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name.json" "$START" "$wall" "$BUSY" "$l0" "$(load)" "$rc" "$*" \
		>>"$dir/runs.tsv"
	echo "  $name: exit $rc, ${wall} s, load before $l0, after $(load)"
	[ -s "$dir/$name.json" ] && echo "  busbw Mbit/s: $(summary "$dir/$name.json")"
	return 0
}

# one host, shared memory: run_shm SETDIR NAME NP
run_shm() {
	local dir=$1 name=$2 np=$3 t0 l0 rc
	wanted "$name" || return 0
	echo "== $name: mpirun -np $np (shared memory, no lab)"
	rm -f "$dir/$name.json"
	quiet
	START=$(date -u +%FT%TZ) l0=$(load) t0=$SECONDS
	# shellcheck disable=SC2086
	timeout -k 10 600 mpirun --oversubscribe -np "$np" "$ARBENCH" $F_SHM -J "$dir/$name.json" \
		>"$dir/logs/$name.log" 2>&1
	rc=$?
	# shellcheck disable=SC2086
	record "$name" "$dir" "$t0" "$l0" "$rc" mpirun --oversubscribe -np "$np" build/arbench $F_SHM \
		-J "$name.json"
}

# on a lab: run_lab SETDIR NAME TOPO LIMIT "ARLAB-RUN-OPTS" "ARBENCH-FLAGS"
run_lab() {
	local dir=$1 name=$2 topo=configs/topologies/$3.yaml limit=$4 ropts=$5 flags=$6 t0 l0 rc
	wanted "$name" || return 0
	echo "== $name: $topo ${ropts:-one rank per host}"
	measure_lock || { echo "planner-data: skipping $name" >&2; return 1; }
	LAB_UP=1
	"$ARLAB" up "$topo" 9>&- || { echo "planner-data: arlab up $topo failed" >&2; exit 1; }
	rm -f "$dir/$name.json"
	quiet
	START=$(date -u +%FT%TZ) l0=$(load) t0=$SECONDS
	# shellcheck disable=SC2086
	timeout -k 10 "$limit" "$ARLAB" run $ropts --bench "$ARBENCH" -- $flags -J "$dir/$name.json" \
		>"$dir/logs/$name.log" 2>&1 9>&-
	rc=$?
	[ $rc = 124 ] && echo "  $name: stopped after its ${limit} s limit" >&2
	# shellcheck disable=SC2086
	record "$name" "$dir" "$t0" "$l0" "$rc" build/arlab up "$topo" '&&' build/arlab run $ropts -- $flags \
		-J "$name.json"
	"$ARLAB" down >/dev/null 9>&- || echo "planner-data: arlab down failed" >&2
	LAB_UP=0
	exec 9>&-
	return 0
}

if [ "$SET" = calib ] || [ "$SET" = all ]; then
	D=$OUT/calib
	mkdir -p "$D/logs"
	echo "CALIBRATION -> $D"
	run_shm "$D" shm-np2 2
	run_shm "$D" shm-np4 4
	run_lab "$D" lab-2node lab-2node 600 "" "$F_2NODE"
	run_lab "$D" lab-2leaf-1to1 lab-2leaf-1to1 900 "" "$F_LAB"
fi
if [ "$SET" = valid ] || [ "$SET" = all ]; then
	D=$OUT/valid
	mkdir -p "$D/logs"
	echo "VALIDATION -> $D"
	run_lab "$D" lab-2leaf-2to1 lab-2leaf-2to1 900 "" "$F_LAB"
	run_lab "$D" lab-3leaf lab-3leaf 900 "" "$F_LAB"
	run_lab "$D" lab-mixed-rates lab-mixed-rates 900 "" "$F_LAB"
	run_lab "$D" lab-2node-2rph lab-2node 600 "--ranks-per-node 2 --np 4" "$F_2NODE"
	run_lab "$D" lab-4host-2rph lab-mixed-rates 900 "--ranks-per-node 2 --np 8" "$F_LAB"
fi
echo "planner-data: done ($OUT)"
