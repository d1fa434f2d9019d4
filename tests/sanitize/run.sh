#!/usr/bin/env bash
# tests/sanitize/run.sh - the sanitizer run of CI: build everything with ASan and UBSan (gcc,
# -O1, any UB aborts) into $SAN_BUILD (build-asan), run the unit tests and a short MPI run
# under them (the library's exact-check matrix on 3 ranks, hier's zero-copy path on 2, arbench
# on 3 ranks with every algorithm and -c 1, node-shared buffers too), then judge the leak
# reports with check-leaks.sh: a leak passes only when it lies wholly in Open MPI or hwloc
# (tests/sanitize/leak-allow.txt says which libraries and why).  Exit 0 clean, 1 otherwise.
#   usage: bash tests/sanitize/run.sh        (about 2-3 minutes on 2 cores)
set -u
cd "$(dirname "$0")/../.."
SAN_BUILD=${SAN_BUILD:-build-asan}
SAN_OPT="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
MPIRUN=${MPIRUN:-mpirun}
logs=$SAN_BUILD/sanitize-logs
t0=$SECONDS
# without a symbolizer our frames would have no file names and could not be told from a
# library's: check-leaks.sh needs them
command -v llvm-symbolizer >/dev/null || { echo "sanitize: llvm-symbolizer missing (apt-get install llvm)"; exit 1; }
mkdir -p "$SAN_BUILD" # its build log inside it, not beside it in the source tree
make --no-print-directory -j2 BUILD="$SAN_BUILD" OPT="$SAN_OPT" all >"$SAN_BUILD/build.log" 2>&1 ||
	{ tail -n 30 "$SAN_BUILD/build.log"; echo "sanitize: build failed"; exit 1; }
echo "sanitize: built $SAN_BUILD in $((SECONDS - t0)) s"
rm -rf "$logs" && mkdir -p "$logs"
# leaks are written to $logs/asan.PID and judged below (exitcode=0: a leak alone does not fail
# the process); any other ASan or UBSan error stops the process and fails its test
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:log_path=$PWD/$logs/asan:detect_stack_use_after_return=0"
export LSAN_OPTIONS=exitcode=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_hwloc_base_binding_policy=none OMPI_MCA_rmaps_base_oversubscribe=1
rc=0
BUILD=$SAN_BUILD bash tests/run.sh unit/ || rc=1
mpi() { # name, np, program and arguments
	local name=$1 np=$2
	shift 2
	if timeout -k 5 300 "$MPIRUN" -np "$np" -x ASAN_OPTIONS -x LSAN_OPTIONS -x UBSAN_OPTIONS \
		"$@" >"$logs/$name.out" 2>&1; then
		echo "PASS  mpi/$name"
	else
		echo "FAIL  mpi/$name (exit $?)"; tail -n 20 "$logs/$name.out" | sed 's/^/      | /'; rc=1
	fi
}
mpi allreduce_check-3 3 "$SAN_BUILD/tests/mpi/allreduce_check" --counts 0,1,2,4,1000003
mpi allreduce_check-shared-2 2 "$SAN_BUILD/tests/mpi/allreduce_check" --shared --algo hier --counts 0,1,1000003
mpi arbench-3 3 "$SAN_BUILD/arbench" -b 8 -e 1M -f 16 -A all -c 1 -n 2 -w 1 -d float,int32 --quiet
mpi arbench-R1-2 2 "$SAN_BUILD/arbench" -b 8 -e 1M -f 16 -A all -c 1 -n 2 -w 1 -R 1 --quiet
# ASan errors other than leaks went to the log files too
if grep -l 'ERROR: AddressSanitizer' "$logs"/asan.* 2>/dev/null; then
	grep -h -A 30 'ERROR: AddressSanitizer' "$logs"/asan.* | head -n 60
	rc=1
fi
shopt -s nullglob
bash tests/sanitize/check-leaks.sh "$logs"/asan.* || rc=1
echo "sanitize: $([ $rc -eq 0 ] && echo ok || echo FAILED) in $((SECONDS - t0)) s (logs in $logs/)"
exit $rc
