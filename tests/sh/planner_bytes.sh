#!/usr/bin/env bash
# tests/sh/planner_bytes.sh - the planner's schedules (planner/schedule.c) against the bytes
# the library sends to each peer (tests/mpi/planner_bytes.c counts every MPI_Isend), for
# ring, tree, hier and rhd, p = 1..8 with one node per rank, and cluster maps with several
# ranks per node (hier's inter-node slices).  Exit 0 pass, 1 on any mismatch.
set -u
. "$(dirname "$0")/mpi_lib.bash"
bin=$BUILD/tests/mpi/planner_bytes
need_bin "$bin"
rc=0
run() { # np [map]
	local out st
	out=$(timeout -k 5 120 "$MPIRUN" $mpi_flags -np "$@" 2>&1)
	st=$?
	grep -E '^(FAIL|planner_bytes)' <<<"$out"
	[ $st = 0 ] || { rc=1; echo "mpirun -np $* exited $st"; tail -n 5 <<<"$out"; }
}
for p in 1 2 3 4 5 6 7 8; do run "$p" "$bin"; done
run 4 "$bin" 0,0,1,1
run 5 "$bin" 0,0,0,1,1
run 6 "$bin" 0,0,1,1,1,2
run 8 "$bin" 0,0,0,0,1,1,1,1
[ $rc = 0 ] && echo "planner_bytes: every schedule matches" || echo "planner_bytes: FAILED"
exit $rc
