# tests/sh/verbs_lib.bash - helpers shared by the verbs_*.sh tests (sourced; not a test itself).
# Runs programs against the userspace verbs emulator (tests/verbs-emulator): "verbs API
# conformance against an emulator", not an RDMA test.  Each script gets a private emulator
# segment (VERBS_EMU_SHM), removed on exit.  With VERBS_REAL=1 the same tests run on the real
# libibverbs and whatever device the host has (a real HCA or Soft-RoCE).
# Provides: emu NP TIMEOUT PROGRAM ARGS... (output in $out/$err, status in $rc).
. "$(dirname "$0")/arbench_lib.bash"
EMU_DIR=$PWD/$BUILD/tests/verbs-emulator
[ -f "$EMU_DIR/libibverbs.so.1" ] || { echo "FAIL: $EMU_DIR/libibverbs.so.1 not built"; exit 1; }
export VERBS_EMU_SHM=/verbs-emu-test-$$
trap 'rm -rf "$TMPD"; rm -f /dev/shm$VERBS_EMU_SHM' EXIT
EMU_ENV="LD_LIBRARY_PATH=$EMU_DIR LD_BIND_NOW=1"
[ "${VERBS_REAL:-0}" = 1 ] && EMU_ENV="LD_BIND_NOW=1"

# emu NP SECONDS PROGRAM ARGS...: mpirun with the emulator in every rank's environment;
# extra VAR=VALUE pairs in $EMU_EXTRA go to every rank too.
emu() {
	local np=$1 secs=$2; shift 2
	local xs=() kv
	for kv in $EMU_ENV ${EMU_EXTRA:-}; do
		export "${kv?}"
		xs+=(-x "${kv%%=*}")
	done
	timeout -k 5 "$secs" "$MPIRUN" -q --oversubscribe -np "$np" -x VERBS_EMU_SHM "${xs[@]}" \
		"$@" >"$out" 2>"$err" </dev/null
	rc=$?
	for kv in $EMU_ENV ${EMU_EXTRA:-}; do unset "${kv%%=*}"; done
}
