#!/usr/bin/env bash
# tests/sh/mpi_hier_nodes.sh - the hierarchical all-reduce (allreduce/hier.c) on fake cluster
# maps, so that its inter-node phase and unequal ranks per node run on one machine: every type
# x op x count x in/out of place, bit-exact against a local reference (tests/mpi/hier_nodes.c),
# with the smallest staging slot (64 KiB: many chunks per call, slot reuse across chunks and
# calls) and for some maps also the default 1 MiB; some maps again on node-shared buffers
# (-R: the zero-copy path); then the timeout path inside a node and between nodes.
# Exit 0 pass, 1 on any failure.
set -u
. "$(dirname "$0")/mpi_lib.bash"
bin=$BUILD/tests/mpi/hier_nodes
need_bin "$bin"
flags=$mpi_flags

# ranks, map ("-" = one node from shared memory, else the node index of every rank), slots
configs=(
	"1 - 65536"
	"3 - 65536,1048576"
	"2 0,1 65536"
	"4 0,1,2,3 65536"
	"5 0,0,0,1,1 65536,1048576"
	"6 0,0,1,1,1,2 65536"
	"7 0,1,1,2,2,2,2 65536"
	"8 0,0,0,0,1,1,1,1 65536,1048576"
	"8 0,1,0,1,0,1,0,1 65536"
)
rc=0
t0=$SECONDS
for cfg in "${configs[@]}"; do
	set -- $cfg
	map=$2
	[ "$map" = - ] && map=""
	for slot in ${3//,/ }; do
		timeout -k 5 240 $MPIRUN $flags -np "$1" "$bin" -s "$slot" $map ||
			{ echo "FAIL: p=$1 map ${map:-shm} slot $slot"; rc=1; }
	done
done
# node-shared buffers (ar_mem_alloc): the zero-copy path on nodes whose ranks all own a slice,
# the staged one on bigger nodes of the same map (0,0,1,1,1: node 1 has an extra rank)
for cfg in "3 - 65536" "4 0,0,1,1 65536" "5 0,0,1,1,1 65536" "8 0,1,0,1,0,1,0,1 1048576"; do
	set -- $cfg
	map=$2
	[ "$map" = - ] && map=""
	timeout -k 5 240 $MPIRUN $flags -np "$1" "$bin" -R -s "$3" $map ||
		{ echo "FAIL: p=$1 map ${map:-shm} slot $3, node-shared buffers"; rc=1; }
done
timeout -k 5 60 $MPIRUN $flags -np 2 "$bin" -T || { echo "FAIL: timeout in a node"; rc=1; }
timeout -k 5 60 $MPIRUN $flags -np 3 "$bin" -T 0,1,1 || { echo "FAIL: timeout between nodes"; rc=1; }
echo "mpi_hier_nodes: $((SECONDS - t0)) s, $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
