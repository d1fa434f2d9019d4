#!/usr/bin/env bash
# tests/sh/verbs_emulator.sh - the verbs emulator's own contract (RC semantics the verbs
# tests rely on), with raw verbs calls on 2 ranks (tests/mpi/verbs_emu_check: ordering,
# selective signalling, receiver not ready, rkey/bounds/access errors with flushes, PSN,
# CQ overrun); and a program needing a verb the emulator lacks fails at load
# (LD_BIND_NOW=1), not at the call.
set -u
. "$(dirname "$0")/verbs_lib.bash"
t0=$SECONDS
emu 2 120 "$BUILD/tests/mpi/verbs_emu_check"
[ $rc -eq 0 ] || fail "verbs_emu_check: exit $rc"
cat "$out"
if [ "${VERBS_REAL:-0}" != 1 ] && command -v "${CC:-cc}" >/dev/null; then
	printf '#include <infiniband/verbs.h>\nint main(void) { return !ibv_create_srq(0, 0); }\n' \
		>"$TMPD/srq.c"
	"${CC:-cc}" "$TMPD/srq.c" -o "$TMPD/srq" -libverbs || fail "cannot build the load test"
	LD_LIBRARY_PATH=$EMU_DIR LD_BIND_NOW=1 "$TMPD/srq" >"$out" 2>"$err"
	rc=$?
	[ $rc -eq 127 ] && grep -q 'undefined symbol: ibv_create_srq' "$err" ||
		fail "a program using ibv_create_srq loaded (exit $rc)"
	echo "a verb the emulator lacks (ibv_create_srq): fails at load"
fi
echo "verbs_emulator: passed in $((SECONDS - t0)) s"
