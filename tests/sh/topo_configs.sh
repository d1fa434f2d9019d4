#!/usr/bin/env bash
# tests/sh/topo_configs.sh - every shipped topology (configs/topologies/*.yaml) loads, expands
# and is summarised by `arplan topo` (text and --json) with exit 0; so is every ```yaml example
# in configs/README.md (so the documentation cannot rot), each written to a file that sits where
# a shipped topology would, with ../catalog the shipped catalogs; the 128k-GPU fat-tree expands
# within bench/scripts/topo-scale.sh's limits.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
fail=0 n=0 docs=0
tmp=$(mktemp -d /tmp/topo_configs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/topologies"
ln -s "$PWD/configs/catalog" "$tmp/catalog"
awk -v dir="$tmp/topologies" '
	/^```yaml/ { f = sprintf("%s/readme-%02d-line%d.yaml", dir, ++k, NR + 1); next }
	/^```/ { f = ""; next }
	f { print > f }' configs/README.md
for f in "$tmp"/topologies/*.yaml; do
	[ -e "$f" ] || continue
	docs=$((docs + 1))
	if ! out=$("$arplan" topo "$f" 2>&1); then
		start=${f##*-line} start=${start%.yaml}
		echo "FAIL the configs/README.md example from line $start (its line 1): $out"
		fail=$((fail + 1))
	fi
done
[ $docs -ge 9 ] || { echo "FAIL only $docs yaml examples found in configs/README.md"; fail=$((fail + 1)); }
for f in configs/topologies/*.yaml; do
	n=$((n + 1))
	if ! out=$("$arplan" topo "$f" 2>&1); then
		echo "FAIL $f: $out"; fail=$((fail + 1)); continue
	fi
	grep -q '^bisection' <<<"$out" || { echo "FAIL $f: no bisection line"; fail=$((fail + 1)); }
	"$arplan" topo --json "$f" >/dev/null 2>&1 || { echo "FAIL $f --json"; fail=$((fail + 1)); }
done
BUILD=$BUILD bash bench/scripts/topo-scale.sh || { echo "FAIL topo-scale"; fail=$((fail + 1)); }
echo "topo_configs: $n topologies, $docs configs/README.md examples, $fail failures"
[ $n -ge 10 ] && [ $fail -eq 0 ]
