#!/usr/bin/env bash
# Side by side on one lab: rhd (or ALGOS) at 8 MiB under Open MPI TCP variants (VARIANTS: base =
# `arlab run` defaults, eager64k / eager256k = that eager limit, links1 / links4 = btl_tcp_links,
# pthread = btl_tcp_progress_thread 1).
# Kept as run for bench/results/routed-ecmp.md, 2026-12-03 18:47.  usage: TOPO ROUNDS (root)
set -u
cd "$(dirname "$0")/../../.." || exit 2
TOPO=$1; ROUNDS=${2:-2}
BUILD=build OUT=${OUT:-/tmp/eager-side-by-side}
. bench/lab/measurelib.sh
measure_setup x14
exec 9>>/run/arlab-test.lock; flock -w 600 9 || exit 1
LAB_UP=1
"$ARLAB" up "$TOPO" 9>&- >/dev/null || exit 1
run() { # label env...
	local label=$1; shift
	env "$@" timeout -k 10 300 "$ARLAB" run --bench "$TMP/arbench" -- ${SIZES:--b 8M -e 8M} -n ${ITERS:-8} -w 1 -c 0 -A ${ALGOS:-rhd} -q ${ARGS:-} -J "$OUT/$label.json" >"$OUT/$label.log" 2>&1 9>&-
	jq -r --arg l "$label" --arg ld "$(load)" '.results[] | [$l, .algo, .size, (if .inplace then "in" else "out" end), (.busbw*8000|.*10|round/10), (.time_us.min/1000|round), (.time_us.p50/1000|round), (.time_us.max/1000|round), $ld] | @tsv' "$OUT/$label.json"
}
for ((r=1;r<=ROUNDS;r++)); do
	for v in ${VARIANTS:-base eager64k links1 links4}; do
		case $v in
		base) run $v.$r X=1 ;;
		eager256k) run $v.$r OMPI_MCA_btl_tcp_eager_limit=262144 OMPI_MCA_btl_tcp_rndv_eager_limit=262144 ;;
		eager64k) run $v.$r OMPI_MCA_btl_tcp_eager_limit=65536 OMPI_MCA_btl_tcp_rndv_eager_limit=65536 ;;
		links1) run $v.$r OMPI_MCA_btl_tcp_links=1 ;;
		links4) run $v.$r OMPI_MCA_btl_tcp_links=4 ;;
		pthread) run $v.$r OMPI_MCA_btl_tcp_progress_thread=1 ;;
		seg4m) ARGS="--segment 4M" run $v.$r X=1 ;;
		seg256k) ARGS="--segment 256K" run $v.$r X=1 ;;
		esac
	done
done
