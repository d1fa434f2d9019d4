#!/usr/bin/env bash
# tests/sh/arbench_badinput.sh - bad input to arbench (the sweep and `arbench links`) on 3
# ranks: every case exits 2 from every rank (mpirun reports 2), prints exactly one "arbench: "
# message (rank 0 only, not one per rank) naming the problem, and shows no MPI_Abort text.
set -u
. "$(dirname "$0")/arbench_lib.bash"

# each line: expected words in the message | arguments
cases=$(cat <<'CASES'
-b '1X'|-b 1X
minbytes <= maxbytes|-b 2M -e 1M
unknown algorithm 'nosuch'|-A nosuch
unknown name 'float128'|-d float128
unknown name 'xor'|-o xor
-n '0'|-n 0
-c '7'|-c 7
unknown option '--bogus'|--bogus
unknown option '-Z'|-Z
needs a value|-e
unknown transport 'pigeon'|-t pigeon
does not fit|-b 8 -e 1T
does not fit|-b 8 -e 16777215T
cannot write|-e 64 -J /nonexistent-dir/r.json
--timeout '-3'|--timeout -3
--min-busbw judges sizes >= 1 MiB|-e 64K --min-busbw 5
unexpected argument 'extra'|-e 64 extra
more than 4096 sizes|-b 1 -e 1M -i 1
-R '2': expected 0 or 1|-R 2
--segment 1 TiB does not fit|-b 8 -e 1K --segment 1T
--timeout '1e-6': expected 0 (off) or at least 0.001 s|-e 64 --timeout 1e-6
--pattern 'star': expected all, ring|links --pattern star
in (0, 1]|links --threshold 0
in (0, 1]|links --threshold 1.5
--threshold 'abc'|links --threshold abc
--seed applies to --pattern random-ring|links --seed 3
--seed '-4'|links --pattern random-ring --seed -4
links: unknown option '--bogus'|links --bogus
links: unexpected argument 'extra'|links --all-ranks extra
-n '0'|links -n 0
minbytes <= maxbytes|links -b 2M -e 1M
unknown transport 'pigeon'|links -t pigeon
all 3 ranks are on one node|links
cannot write|links --all-ranks -e 64 -J /nonexistent-dir/l.json
CASES
)
n=0
while IFS='|' read -r want args; do
	# shellcheck disable=SC2086
	arb 3 $args
	[ $rc -eq 2 ] || fail "'$args': exit $rc, expected 2"
	msgs=$(grep -c '^arbench: ' "$err")
	[ "$msgs" -eq 1 ] || fail "'$args': $msgs messages, expected exactly 1"
	grep -qF -- "$want" "$err" || fail "'$args': message lacks '$want'"
	! grep -qi 'MPI_ABORT' "$err" "$out" || fail "'$args': MPI_Abort text"
	[ ! -s "$out" ] || fail "'$args': something on stdout"
	n=$((n + 1))
done <<<"$cases"
echo "arbench_badinput: $n cases passed"
