# tests/sh/arbench_lib.bash - helpers shared by the arbench_*.sh tests (sourced; not a test itself,
# so it does not end in .sh, which tests/run.sh would run).
# Provides: ARB (the binary), arb NP ARGS... (mpirun with the right flags, output to $out and
# $err, exit status in $rc), fail MSG, json_get FILE EXPR.
. "$(dirname "${BASH_SOURCE[0]}")/mpi_lib.bash"
ARB=$BUILD/arbench
TMPD=$(mktemp -d /tmp/arbench_test.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
out=$TMPD/out err=$TMPD/err rc=0

fail() {
	echo "FAIL: $*"
	echo "--- stdout"; tail -n 30 "$out" 2>/dev/null
	echo "--- stderr"; tail -n 30 "$err" 2>/dev/null
	exit 1
}

# arb NP ARGS...: run arbench on NP ranks (mpirun -q: no mpirun banners), bounded in time.
arb() {
	local np=$1; shift
	timeout -k 5 120 "$MPIRUN" -q --oversubscribe -np "$np" "$ARB" "$@" >"$out" 2>"$err" </dev/null
	rc=$?
}

# json_get FILE PYEXPR: evaluate a python expression over the parsed document d.
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

[ -x "$ARB" ] || { echo "FAIL: $ARB not built"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed to validate JSON"; exit 77; }
