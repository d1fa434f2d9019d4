#!/usr/bin/env bash
# bench/scripts/perf-allreduce.sh - how this library's all-reduce compares with the MPI
# library's own MPI_Allreduce on this machine: runs build/arbench with every algorithm for
# 2 and 4 ranks at 64 MiB (float sum) and at 8 B - 4 KiB, and prints per size the fastest
# arbench algorithm beside the "mpi" baseline measured in the same run, with the ratios
# busbw(best)/busbw(mpi) and time(best)/time(mpi), plus the exact command lines.
#
#   bench/scripts/perf-allreduce.sh [-n ITERS] [-r "2 4"] [-R REPEATS] [-o DIR] [--register]
#                                   [--strict]
#
# --register runs arbench with -R 1 (send and receive buffers in node-shared memory, which
# hier reads in place; MPI_Allreduce gets the same buffers).
#
# Times are arbench's default per-size mean over ranks and iterations (out of place), in us;
# with -R N every run is repeated N times and each algorithm, mpi included, keeps its best
# (lowest) mean and median over the repeats: on a machine shared with other jobs this keeps
# a descheduled rank in one run from deciding a ratio;
# busbw in GB/s = 1e9 B/s.  Targets (checked with --strict, exit 1 when missed): busbw ratio
# >= 3 at 64 MiB with 2 ranks; time ratio <= 1.5 at every size of 8 B - 4 KiB.  Results are
# kept as JSON in DIR (default $BUILD/perf).  Exit 2 on bad arguments, 3 if a run failed.
set -u
BUILD=${BUILD:-build}
MPIRUN=${MPIRUN:-mpirun}
ARBENCH=${ARBENCH:-$BUILD/arbench}
iters=20 ranks="2 4" repeats=1 out="" strict=0 register=0

usage() {
	echo "usage: $0 [-n ITERS] [-r \"2 4\"] [-R REPEATS] [-o DIR] [--register] [--strict]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	-n) [ $# -ge 2 ] || usage; iters=$2; shift 2 ;;
	-r) [ $# -ge 2 ] || usage; ranks=$2; shift 2 ;;
	-R) [ $# -ge 2 ] || usage; repeats=$2; shift 2 ;;
	-o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--strict) strict=1; shift ;;
	--register) register=1; shift ;;
	*) usage ;;
	esac
done
[[ $iters =~ ^[1-9][0-9]*$ ]] || { echo "perf-allreduce: -n $iters: expected a positive integer" >&2; exit 2; }
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "perf-allreduce: -R $repeats: expected a positive integer" >&2; exit 2; }
[[ $ranks =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || { echo "perf-allreduce: -r '$ranks': expected rank counts like \"2 4\"" >&2; exit 2; }
if [ ! -x "$ARBENCH" ]; then
	echo "perf-allreduce: $ARBENCH not found (run make first, or set ARBENCH)" >&2
	exit 2
fi
out=${out:-$BUILD/perf}
mkdir -p "$out" || exit 2

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# 2 cores, up to 4+ ranks: Open MPI must not bind two ranks to one core
export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}
export OMPI_MCA_rmaps_base_oversubscribe=1
flags="--oversubscribe"
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"

# run NAME NP ARBENCH-ARGS...: one arbench run; its table goes to $out/NAME.txt
run() {
	local name=$1 np=$2
	shift 2
	local cmd="$MPIRUN $flags -np $np $ARBENCH $* -J $out/$name.json"
	echo "\$ $cmd"
	if ! timeout -k 10 900 $cmd >"$out/$name.txt" 2>&1; then
		echo "perf-allreduce: run $name failed:" >&2
		tail -n 20 "$out/$name.txt" >&2
		exit 3
	fi
}

# medians NAME: "size algo p50_us mpi_p50_us" per size from the JSON of every repeat (fastest
# non-mpi median); nothing when python3 is missing (the columns then show "-")
medians() {
	command -v python3 >/dev/null || return 0
	python3 - "$out/$1"-r*.json <<'PY'
import json, sys
best, mpi = {}, {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        if r["inplace"]:
            continue
        s, t = r["size"], r["time_us"]["p50"]
        if r["algo"] == "mpi":
            mpi[s] = min(t, mpi.get(s, t))
        elif s not in best or t < best[s][1]:
            best[s] = (r["algo"], t)
for s in sorted(best):
    if s in mpi:
        print(s, best[s][0], best[s][1], mpi[s])
PY
}

# table NAME NP: per size, the fastest non-mpi algorithm (out-of-place mean time, best over
# the repeats) beside mpi (likewise), then the same by median time
table() {
	medians "$1" >"$out/$1.p50"
	awk -v np="$2" '
	FILENAME ~ /p50$/ { pa[$1] = $2; pt[$1] = $3; pm[$1] = $4; next }
	/^ *[0-9]/ && NF >= 9 {
		size = $1; algo = $5; t = $6; bw = $8
		if (!(size in seen)) { seen[size] = 1; order[n++] = size }
		if (algo == "mpi") { if (!(size in mt) || t < mt[size]) { mt[size] = t; mb[size] = bw } }
		else if (!(size in bt) || t < bt[size]) { bt[size] = t; bb[size] = bw; ba[size] = algo }
	}
	END {
		for (i = 0; i < n; i++) {
			s = order[i]
			if (!(s in bt) || !(s in mt)) continue
			p50 = (s in pt && pm[s] > 0) ? sprintf("%6s %7.2f", pa[s], pt[s] / pm[s]) \
						     : sprintf("%6s %7s", "-", "-")
			printf "%5d %10d %6s %10.2f %8.2f %10.2f %8.2f %7.2f %7.2f  %s\n", np, s,
			       ba[s], bt[s], bb[s], mt[s], mb[s], (bt[s] > 0 ? mt[s] / bt[s] : 0),
			       (mt[s] > 0 ? bt[s] / mt[s] : 0), p50
		}
	}' "$out/$1.p50" "$out/$1"-r*.txt
}

common="-d float -o sum -A all -c 1 -w 5 -R $register"
echo "# perf-allreduce: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$out"/*-r*.txt "$out"/*-r*.json
for k in $(seq 1 "$repeats"); do
	for np in $ranks; do
		run "large-np$np-r$k" "$np" -b 64M -e 64M $common -n "$iters"
		run "small-np$np-r$k" "$np" -b 8 -e 4K -f 2 $common -n $((iters * 50))
	done
done
echo
echo "# float sum, out of place; best = fastest arbench algorithm at that size (mean time;"
echo "# with -R: the lowest over $repeats repeats, for every algorithm and for mpi)"
printf "%5s %10s %6s %10s %8s %10s %8s %7s %7s  %6s %7s\n" ranks bytes best best_us busbw \
	mpi_us busbw bw_x time_x best50 time50x
rows=""
for np in $ranks; do
	rows+=$(table "large-np$np" "$np")$'\n'
	rows+=$(table "small-np$np" "$np")$'\n'
done
printf "%s" "$rows" | sed '/^$/d'
echo "# bw_x = busbw(best)/busbw(mpi) = time(mpi)/time(best) (target >= 3 at 64 MiB, 2 ranks); time_x ="
echo "# time(best)/time(mpi) (target <= 1.5 at 8 B - 4 KiB); best50/time50x: the same by median"
echo "# time per iteration (robust when other jobs share the cores).  Tables and JSON: $out/"

if [ $strict = 1 ]; then
	miss=$(printf "%s" "$rows" | awk '
		$1 == 2 && $2 == 67108864 && $8 < 3 { print "2 ranks 64 MiB: bw_x " $8 " < 3" }
		$2 <= 4096 && $9 > 1.5 { print $1 " ranks " $2 " B: time_x " $9 " > 1.5" }')
	if [ -n "$miss" ]; then
		echo "perf-allreduce: targets missed: $miss" | tr '\n' ';' >&2
		echo >&2
		exit 1
	fi
fi
exit 0
