#!/usr/bin/env bash
# tests/sh/verbs_faults.sh - verbs API conformance against an emulator: faults the emulator
# injects into one rank of arbench -t verbs on 3 ranks (ring, 64 KiB - 1 MiB, --timeout 3).
# Each must end within 60 s (never hang) with exit 3 and a line naming the rank, the peer
# and the operation (one line from rank 0 as a rule; arbench's other ranks report themselves
# too when rank 0 finished its part and waits elsewhere, so every "arbench:" line must name
# a rank and a peer, and one must match the fault):
#   a completion error on rank 0's 20th work request (transport retry counter exceeded),
#   a wrong rkey on rank 0's 20th work request (a real remote access error, checked by the
#     emulator against the target's registration; the target's QP is flushed),
#   rank 1 stops at its 20th work request (the others time out naming it),
#   rank 2's CQ holds only 4 entries (the emulator reports the overrun; the run fails),
#   rank 1 may pin only 64 KiB (ibv_reg_mr ENOMEM at start-up: the hint names ulimit -l).
set -u
. "$(dirname "$0")/verbs_lib.bash"
if [ "${VERBS_REAL:-0}" = 1 ]; then echo "VERBS_REAL=1: this test injects faults through the emulator; skipped"; exit 77; fi
t0=$SECONDS
# each line: emulator settings | extended regex the stderr must match
cases=$(cat <<'CASES'
VERBS_EMU_FAULT_RANK=0 VERBS_EMU_FAIL_WR=20|arbench: rank 0: (send|recv)( of [0-9]+ bytes)? (to|from) rank [0-9] failed: RDMA write to rank [12] completed with 'transport retry counter exceeded'
VERBS_EMU_FAULT_RANK=0 VERBS_EMU_BAD_RKEY_WR=20|arbench: rank [0-2]: (send|recv)( of [0-9]+ bytes)? (to|from) rank [0-9] failed: RDMA write (to rank [12] completed with 'remote access error'|with immediate from rank 0 flushed)
VERBS_EMU_FAULT_RANK=1 VERBS_EMU_STOP_WR=20|arbench: (rank [02]: (recv from|send to) rank 1 timed out|timeout: rank 1 did not arrive)
VERBS_EMU_FAULT_RANK=2 VERBS_EMU_CQE_MAX=4|arbench: rank [0-2]: (send|recv)( of [0-9]+ bytes)? (to|from) rank [0-9] (failed|timed out)
CASES
)
any='^arbench: (rank [0-9]+: .*rank [0-9]+|timeout: rank [0-9]+)'
n=0
while IFS='|' read -r faults want; do
	s=$SECONDS
	EMU_EXTRA=$faults emu 3 60 "$ARB" -t verbs -A ring -b 64K -e 1M -n 2 -w 1 --timeout 3 -q
	[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "$faults: hung (killed after 60 s)"
	[ $rc -eq 3 ] || fail "$faults: exit $rc, expected 3"
	grep -qE -- "$want" "$err" || fail "$faults: no message matching: $want"
	lines=$(grep -c '^arbench: ' "$err")
	[ "$(grep -cE -- "$any" "$err")" -eq "$lines" ] ||
		fail "$faults: an arbench: line names no rank and peer"
	echo "$faults: exit 3 after $((SECONDS - s)) s, $lines line(s): $(grep -E -- "$want" "$err" | head -n 1 | cut -c1-200)"
	n=$((n + 1))
done <<<"$cases"
grep -q 'verbs-emulator: CQ overrun' "$err" || fail "CQ overrun not reported by the emulator"
# pinning limit: rank 1 may register 64 KiB only, its rings need 3 MiB
EMU_EXTRA="VERBS_EMU_FAULT_RANK=1 VERBS_EMU_MEMLOCK=65536" emu 3 60 "$ARB" -t verbs -e 64 -q
[ $rc -eq 3 ] || fail "memlock: exit $rc, expected 3"
grep -qE "^arbench: rank 0: transport 'verbs': rank 1: ibv_reg_mr of [0-9]+ bytes failed: out of lockable memory; raise the limit \(ulimit -l" "$err" ||
	fail "memlock: no message naming rank 1 and ulimit -l"
echo "memlock limit on rank 1: exit 3: $(grep '^arbench: ' "$err" | cut -c1-200)"
n=$((n + 1))
echo "verbs_faults (verbs API conformance against an emulator): $n faults, each a clear failure, $((SECONDS - t0)) s"
