#!/usr/bin/env bash
# tests/sh/verbs_conformance.sh - verbs API conformance against an emulator: for p in {2,3,4}
# (and a quick run on 1 rank),
# every algorithm that runs over the transport table (ring, tree, hier, rhd), 7 types x 5 ops x
# counts {0, 1, p-1, p+1, 10007, 300007 (1300007 for uint8)} x in/out of place, and with
# 1000-byte segments, gives over -t verbs results bit-identical to the same algorithm over
# mpi (tests/mpi/verbs_check); then arbench -t verbs -A all -c 1 (exact expected results) on
# every integer type and op, 1 B to 2 MiB (more than one 1 MiB segment), mpi reported as
# skipped; then the same with the emulator placing every write late and in two halves.
set -u
. "$(dirname "$0")/verbs_lib.bash"
t0=$SECONDS
chk=$BUILD/tests/mpi/verbs_check
emu 1 60 "$chk" --quick # one rank: no QP at all, sends and one-sided writes to itself
[ $rc -eq 0 ] || fail "verbs_check at p=1: exit $rc"
cat "$out"
for p in 2 3 4; do
	emu $p 240 "$chk"
	[ $rc -eq 0 ] || fail "verbs_check at p=$p: exit $rc"
	cat "$out"
done
for p in 2 3 4; do
	emu $p 120 "$ARB" -t verbs -A all -c 1 -d int32,int64,uint8 -o all -b 1 -e 2M -f 11 -n 1 -w 0
	[ $rc -eq 0 ] || fail "arbench -t verbs -c 1 at p=$p: exit $rc"
	grep -q '^# skipped (not supported on this run): mpi' "$out" || fail "mpi not reported as skipped"
	grep -q 'Out of bounds values : 0 OK' "$out" || fail "arbench -t verbs at p=$p: wrong results"
	n=$(grep -cE '^ +[0-9]+ +[0-9]+ +(int32|int64|uint8) ' "$out")
	echo "arbench -t verbs p=$p: $n rows, 0 wrong"
done
# placement faults that a correct transport must not notice: late, and in two halves
EMU_EXTRA="VERBS_EMU_DELAY_US=200 VERBS_EMU_SPLIT=1" \
	emu 3 120 "$ARB" -t verbs -A ring,tree,rhd -c 1 -d int32 -o sum,max -b 4 -e 300K -f 9 -n 1 -w 0
[ $rc -eq 0 ] || fail "delayed and split placement: exit $rc"
grep -q 'Out of bounds values : 0 OK' "$out" || fail "delayed and split placement: wrong results"
echo "delayed (200 us) and split placement at p=3: 0 wrong"
echo "verbs_conformance (verbs API conformance against an emulator): passed in $((SECONDS - t0)) s"
