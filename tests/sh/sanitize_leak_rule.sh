#!/usr/bin/env bash
# tests/sh/sanitize_leak_rule.sh - the sanitizer run's leak rule (tests/sanitize/check-leaks.sh)
# tolerates only leaks lying wholly in Open MPI or hwloc: on recorded reports, leaks allocated
# inside hwloc_topology_load and MPI_Init pass; a leak in our code, one allocated by our code
# called back from inside Open MPI, and one whose allocating frame is an unsymbolized address
# of our own program all fail.
set -u
check=tests/sanitize/check-leaks.sh d=tests/data/leaks
out=$(bash "$check" "$d/tolerated.log") || { echo "FAIL: library leaks not tolerated: $out"; exit 1; }
echo "ok   tolerated: $(echo "$out" | tr '\n' ' ')"
for f in ours callback unsymbolized; do
	out=$(bash "$check" "$d/$f.log") && { echo "FAIL: $f.log tolerated: $out"; exit 1; }
	echo "ok   $f.log refused: $(echo "$out" | tail -n 1)"
done
