#!/usr/bin/env bash
# tests/sh/topo_torus_bisection.sh - a torus's bisection (summary.c's closed form) against the
# exact answer (max flow over every balanced split) for the same wiring written as an explicit
# topology, for tori of up to 16 nodes with odd and even dimensions, with host links as fast
# as the torus links (the host side limits) and 4x faster (the torus cut limits).  An odd
# largest dimension used to be cut into unequal halves (5x2: 200 GB/s against the exact 250).
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "FAIL: no $arplan: build first"; exit 1; }
tmp=$(mktemp -d /tmp/topo_torus_bisection.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
gen() { # dims (space-separated), host rate; writes $tmp/torus.yaml and $tmp/explicit.yaml
	local host=$2 d R=1 r stride x nb list
	read -ra d <<<"$1"
	for k in "${d[@]}"; do R=$((R * k)); done
	list=$(IFS=,; echo "${d[*]}")
	printf 'name: t\nnode_types:\n  - {name: n, nics: {count: 1, speed: %s}}\nfabric: {family: torus, node_type: n, dims: [%s]}\nlink_classes:\n  host: {rate: %s}\n  torus: {rate: 400Gbit}\n' \
		"$host" "$list" "$host" >"$tmp/torus.yaml"
	{
		printf 'name: e\nnode_types:\n  - {name: n, nics: {count: 1, speed: %s}}\nfabric: {family: explicit}\nnodes:\n' "$host"
		for ((r = 0; r < R; r++)); do echo "  - {name: h$r, type: n}"; done
		echo "switches:"
		for ((r = 0; r < R; r++)); do echo "  - {name: r$r}"; done
		echo "links:"
		for ((r = 0; r < R; r++)); do echo "  - {a: h$r, b: r$r, rate: $host}"; done
		for ((r = 0; r < R; r++)); do
			stride=1
			for k in "${d[@]}"; do
				x=$(((r / stride) % k)); nb=$((r - x * stride + ((x + 1) % k) * stride))
				if [ "$k" -ge 3 ] || { [ "$k" -eq 2 ] && [ $x -eq 0 ]; }; then
					echo "  - {a: r$r, b: r$nb, rate: 400Gbit}"
				fi
				stride=$((stride * k))
			done
		done
	} >"$tmp/explicit.yaml"
}
for dims in "3" "5" "15" "3 3" "5 2" "5 3" "7 2" "4 3" "4 4" "2 2 2" "3 2 2"; do
	for host in 400Gbit 1600Gbit; do
		gen "$dims" "$host"
		a=$("$arplan" topo "$tmp/torus.yaml" 2>&1 | sed -n 's/^bisection *//p')
		b=$("$arplan" topo "$tmp/explicit.yaml" 2>&1 | sed -n 's/^bisection *//p')
		n=$((n + 1))
		if [ -z "$a" ] || [ "$a" != "$b" ]; then
			echo "FAIL torus [$dims], host $host: '$a', exact '$b'"; fail=$((fail + 1))
		else
			echo "ok   torus [$dims], host $host: $a"
		fi
	done
done
echo "topo_torus_bisection: $((n - fail)) of $n agree with the exact max flow"
[ $fail -eq 0 ]
