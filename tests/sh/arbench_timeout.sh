#!/usr/bin/env bash
# tests/sh/arbench_timeout.sh - --timeout names the ranks that did not arrive: the test hook
# ARBENCH_TEST_STALL_RANK=R makes rank R sleep before the second size; with --timeout 2 the run
# must abort within a bounded time with one message naming rank R.  Rank 0 stalling is noticed
# by rank 1.  With ARBENCH_TEST_STALL_AT=collective the rank stalls after the arrival check, and
# the library's own timeout must fail the collective: one message with the library's text (rank,
# peer, operation) and the silent rank named.  A run without a stall completes normally.
set -u
. "$(dirname "$0")/arbench_lib.bash"

stall() { # np rank
	local t0=$SECONDS
	ARBENCH_TEST_STALL_RANK=$2 ARBENCH_TEST_STALL_SEC=60 arb "$1" -b 8 -e 64 -f 2 -n 2 -w 0 \
		-A ring --timeout 2
	dt=$((SECONDS - t0))
	[ $rc -ne 0 ] || fail "stalled rank $2: exit 0"
	[ $rc -ne 124 ] && [ $dt -lt 30 ] || fail "stalled rank $2: took ${dt}s (not bounded)"
	[ "$(grep -c '^arbench: timeout' "$err")" -eq 1 ] || fail "stalled rank $2: not one timeout message"
}

stall 4 2
grep -q '^arbench: timeout: rank 2 did not arrive at size 16 B (float sum, ring) within 2 s' "$err" ||
	fail "message does not name rank 2"
grep -q '^ *8 ' "$out" || fail "the first size was not measured before the stall"
echo "ok: rank 2 of 4 stalled, aborted in ${dt}s naming it"

stall 3 0
grep -q '^arbench: timeout: rank 0 did not arrive .*noticed by rank 1' "$err" ||
	fail "message does not name rank 0"
echo "ok: rank 0 of 3 stalled, aborted in ${dt}s naming it"

for algo in ring tree rhd mpi; do
	t0=$SECONDS
	ARBENCH_TEST_STALL_AT=collective ARBENCH_TEST_STALL_RANK=2 ARBENCH_TEST_STALL_SEC=60 \
		arb 4 -b 8 -e 64 -f 2 -n 2 -w 1 -A $algo --timeout 2
	dt=$((SECONDS - t0))
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $dt -lt 30 ] || fail "$algo: stall in collective: exit $rc after ${dt}s"
	[ "$(grep -c '^arbench: ' "$err")" -eq 1 ] || fail "$algo: not exactly one message"
	grep -Eq "^arbench: rank [0-9]+: .*timed out after 2.0 s \($algo .*no error from rank ([0-9]+, )*2\$" "$err" ||
		fail "$algo: message lacks the library's text or the silent rank"
	echo "ok: $algo: rank 2 stalled inside the collective, aborted in ${dt}s: $(grep '^arbench: ' "$err")"
done

arb 3 -b 8 -e 64K -f 16 -n 2 -w 0 -A all --timeout 5
[ $rc -eq 0 ] || fail "no stall, --timeout 5: exit $rc"
echo "arbench_timeout: all passed"
