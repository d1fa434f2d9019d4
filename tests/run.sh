#!/usr/bin/env bash
# tests/run.sh - run every test of arbench and print one closing line "N passed, N failed".
#
# A test is: each binary under $BUILD/tests/unit/ (cmocka), and each script tests/sh/*.sh
# (MPI tests under mpirun, end-to-end arbench runs, lab tests).  Each runs with a time limit;
# its output goes to $BUILD/test-logs/NAME.log and is shown when it fails.  A script that
# cannot run here (no root, no namespaces) exits 77 and prints one line saying why: counted
# as skipped, never as passed.  Select with: tests/run.sh PATTERN
set -u
BUILD=${BUILD:-build}
export BUILD
export MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI on a container-like machine: do not bind ranks to cores (2 cores, up to 8 ranks).
export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}
export OMPI_MCA_rmaps_base_oversubscribe=1
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
pattern=${1:-}
logs=$BUILD/test-logs
mkdir -p "$logs/unit" "$logs/sh"

pass=0 fail=0 skip=0 failed=()
run_one() { # name, command...
	local name=$1; shift
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && return
	local t0=$SECONDS rc
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$logs/$name.log" 2>&1 </dev/null
	rc=$?
	local dt=$((SECONDS - t0))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS  %-40s %4ds\n' "$name" "$dt"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$logs/$name.log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		[ $rc -eq 124 ] && echo "timed out after ${TEST_TIMEOUT}s" >>"$logs/$name.log"
		printf 'FAIL  %-40s %4ds (exit %d)\n' "$name" "$dt" "$rc"
		tail -n 40 "$logs/$name.log" | sed 's/^/      | /'
	fi
}

for t in "$BUILD"/tests/unit/*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in tests/sh/*.sh; do
	[ -f "$t" ] && run_one "sh/$(basename "$t" .sh)" bash "$t"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}  (logs in $logs/)"
echo "check: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $((pass + fail)) -gt 0 ]
