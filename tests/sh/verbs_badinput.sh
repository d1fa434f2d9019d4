#!/usr/bin/env bash
# tests/sh/verbs_badinput.sh - bad verbs settings to arbench on 2 ranks, against the emulator
# (one device, emu0, one port, 2 GIDs) and, where this host has no RDMA device, against the
# real libibverbs: each gives exit 2 and exactly one "arbench: " line naming the problem.
set -u
. "$(dirname "$0")/verbs_lib.bash"
if [ "${VERBS_REAL:-0}" = 1 ]; then echo "VERBS_REAL=1: this test relies on the emulator's device list; skipped"; exit 77; fi
# each line: emulator settings (- for none) | expected words | arguments
cases=$(cat <<'CASES'
VERBS_EMU_DEVICES=|no RDMA device found|-t verbs
-|RDMA device 'mlx5_9' not found (devices here: emu0)|-t verbs --ib-dev mlx5_9
-|RDMA device emu0 has no port 2 (ports 1-1)|-t verbs --ib-dev emu0:2
-|port must be a number|-t verbs --ib-dev emu0:one
-|--gid-index 7 is out of range: emu0 port 1 has GID indices 0-1|-t verbs --gid-index 7
-|--ib-dev applies to -t verbs only|--ib-dev emu0
-|--gid-index '-1'|-t verbs --gid-index -1
-|-A mpi: not supported on this run|-t verbs -A mpi
CASES
)
n=0
while IFS='|' read -r extra want args; do
	[ "$extra" = - ] && extra=
	# shellcheck disable=SC2086
	EMU_EXTRA=$extra emu 2 60 "$ARB" -b 8 -e 64 $args
	[ $rc -eq 2 ] || fail "'$args' ($extra): exit $rc, expected 2"
	[ "$(grep -c '^arbench: ' "$err")" -eq 1 ] || fail "'$args': expected exactly one message"
	grep -qF -- "$want" "$err" || fail "'$args': message lacks '$want'"
	! grep -qi 'MPI_ABORT' "$err" "$out" || fail "'$args': MPI_Abort text"
	n=$((n + 1))
done <<<"$cases"
# the real library on a host without any RDMA device
if [ -z "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
	EMU_ENV=LD_BIND_NOW=1 emu 2 60 "$ARB" -b 8 -e 64 -t verbs
	[ $rc -eq 2 ] || fail "real libibverbs, no device: exit $rc, expected 2"
	grep -qF 'no RDMA device found' "$err" || fail "real libibverbs, no device: wrong message"
	grep -qF 'use -t mpi' "$err" || fail "real libibverbs, no device: no hint"
	n=$((n + 1))
fi
echo "verbs_badinput: $n cases passed"
