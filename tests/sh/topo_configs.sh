#!/usr/bin/env bash
# tests/sh/topo_configs.sh - every shipped topology (configs/topologies/*.yaml) loads, expands
# and is summarised by `arplan topo` (text and --json) with exit 0; the 128k-GPU fat-tree
# expands within bench/scripts/topo-scale.sh's limits.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
fail=0 n=0
for f in configs/topologies/*.yaml; do
	n=$((n + 1))
	if ! out=$("$arplan" topo "$f" 2>&1); then
		echo "FAIL $f: $out"; fail=$((fail + 1)); continue
	fi
	grep -q '^bisection' <<<"$out" || { echo "FAIL $f: no bisection line"; fail=$((fail + 1)); }
	"$arplan" topo --json "$f" >/dev/null 2>&1 || { echo "FAIL $f --json"; fail=$((fail + 1)); }
done
BUILD=$BUILD bash bench/scripts/topo-scale.sh || { echo "FAIL topo-scale"; fail=$((fail + 1)); }
echo "topo_configs: $n topologies, $fail failures"
[ $n -ge 10 ] && [ $fail -eq 0 ]
