#!/usr/bin/env bash
# tests/sh/topo_badinput.sh - every bad topology file under tests/data/topo-bad/ must make
# `arplan topo` exit 2 with one line "FILE:LINE:COLUMN: message".  The first line of each file
# says what is expected:  "# expect: LINE:COLUMN phrase of the message", or, for an error in
# another file (a bad part in a catalog under catalog-bad/), "# expect: PATH:LINE:COLUMN phrase"
# with PATH relative to tests/data/topo-bad/.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
pass=0 fail=0
for f in tests/data/topo-bad/*.yaml; do
	exp=$(sed -n '1s/^# expect: //p' "$f")
	if [ -z "$exp" ]; then
		echo "FAIL $f: no '# expect: LINE:COLUMN phrase' first line"; fail=$((fail + 1)); continue
	fi
	where=${exp%% *} phrase=${exp#* } at=$f
	if [[ $where == *:*:* ]]; then # PATH:LINE:COLUMN
		at=$(dirname "$f")/${where%:*:*}
		where=${where#"${where%:*:*}:"}
	fi
	# at most 4 GiB: a regression that allocates without bound fails here, not the machine
	out=$(ulimit -v 4194304; "$arplan" topo "$f" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$out" | wc -l)
	if [ $rc -ne 2 ]; then
		echo "FAIL $f: exit $rc, expected 2 ($out)"; fail=$((fail + 1))
	elif [ "$lines" -ne 1 ]; then
		echo "FAIL $f: $lines lines on stderr, expected one: $out"; fail=$((fail + 1))
	elif [[ $out != "$at:$where: "* ]]; then
		echo "FAIL $f: expected '$at:$where: ...', got: $out"; fail=$((fail + 1))
	elif [[ $out != *"$phrase"* ]]; then
		echo "FAIL $f: message lacks '$phrase': $out"; fail=$((fail + 1))
	elif [[ $out != *"(expected "* ]]; then
		echo "FAIL $f: message does not say what was expected: $out"; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "topo_badinput: $pass passed, $fail failed"
[ $pass -ge 15 ] || { echo "fewer than 15 bad inputs checked"; exit 1; }
[ $fail -eq 0 ]
