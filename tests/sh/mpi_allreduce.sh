#!/usr/bin/env bash
# tests/sh/mpi_allreduce.sh - every all-reduce algorithm x type x op x count x in/out of place
# against a scalar reference, under mpirun for p in {1,2,3,4,5,7,8}, and hier's on node-shared
# buffers (--shared) for p in {2,3,5,8}; then the timeout path
# (one rank skips the call, the others must get -ETIMEDOUT naming a peer) and one message of
# more than INT_MAX bytes through the mpi transport.  Exit 0 pass, 1 on any failure.
set -u
. "$(dirname "$0")/mpi_lib.bash"
bin=$BUILD/tests/mpi/allreduce_check
need_bin "$bin"
flags=$mpi_flags

rc=0
t0=$SECONDS
for p in 1 2 3 4 5 7 8; do
	timeout -k 5 180 $MPIRUN $flags -np $p "$bin" || { echo "FAIL: matrix at p=$p"; rc=1; }
done
# the same matrix on node-shared buffers (ar_mem_alloc): hier's zero-copy path
for p in 2 3 5 8; do
	timeout -k 5 180 $MPIRUN $flags -np $p "$bin" --shared --algo hier || { echo "FAIL: shared-buffer matrix at p=$p"; rc=1; }
done
timeout -k 5 60 $MPIRUN $flags -np 4 "$bin" --timeout || { echo "FAIL: timeout test"; rc=1; }
timeout -k 5 120 $MPIRUN $flags -np 2 "$bin" --big || { echo "FAIL: big-message test"; rc=1; }
echo "mpi_allreduce: $((SECONDS - t0)) s, $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
