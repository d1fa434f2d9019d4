#!/usr/bin/env bash
# bench/scripts/report-scale.sh - how long `arplan report` takes on a large results file: it
# writes a file of ROWS rows (default 10,150: arbench -d all -o all -A all over 29 sizes, both
# placements, 32 ranks on 8 nodes, as `arbench -b 8 -e 2G` would) and an `arbench links` file
# of the 8 nodes, then times the HTML report (charts by gnuplot), the same with the lab topology
# and calibration (every point predicted), Markdown and CSV.  Prints CPU (user + sys) and wall
# seconds and peak RSS from /usr/bin/time, and the load average before.  A benchmark: it
# measures and prints; it passes or fails nothing.  The input files are generated, not
# measured (times from a latency + bandwidth model); only the report's time is of interest.
#   usage: bench/scripts/report-scale.sh [ROWS]   (BUILD=build)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
want=${1:-10150}
[ -x "$arplan" ] || { echo "report-scale: no $arplan (run make first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "report-scale: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/report-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# results: types x ops x algorithms x placements x sizes, repeated until ROWS rows
awk -v want="$want" 'BEGIN {
	split("float double half bfloat16 int32 int64 uint8", type, " ")
	split("4 8 2 2 4 8 1", esize, " ")
	split("sum prod min max avg", op, " ")
	split("ring tree hier rhd mpi", algo, " ")
	split("600 350 300 260 280", lat, " ")
	split("0.0112 0.0101 0.0119 0.0094 0.0108", bw, " ")
	printf "{\"version\": 1, \"arbench_version\": \"0.1.0\", \"command\": \"arbench -b 8 -e 2G -d all -o all -A all\",\n"
	printf " \"mpi_library\": \"Open MPI v4.1.4\", \"ranks\": 32, \"nodes\": 8,\n"
	printf " \"ranks_per_node\": [4,4,4,4,4,4,4,4], \"node_of_rank\": ["
	for (r = 0; r < 32; r++) printf "%s%d", r ? "," : "", int(r / 4)
	printf "],\n \"local_rank\": ["
	for (r = 0; r < 32; r++) printf "%s%d", r ? "," : "", r % 4
	printf "],\n \"hosts\": ["
	for (n = 0; n < 8; n++) printf "%s\"host%02d.example.org\"", n ? "," : "", n
	printf "],\n \"nodes_info\": ["
	for (n = 0; n < 8; n++)
		printf "%s{\"name\": \"host%02d.example.org\", \"cores\": 32, \"pus\": 64, \"numa_nodes\": 2, \"cpu_model\": \"AMD EPYC 7543\", \"nics\": [{\"name\": \"eth0\", \"numa_node\": 0, \"speed_bps\": 100000000, \"rdma\": false}], \"gpus\": []}", n ? ",\n  " : "", n
	printf "],\n \"transport\": \"mpi\", \"settings\": {\"iters\": 20, \"warmup\": 5, \"check\": true, \"agg\": \"avg\", \"segment_bytes\": 0},\n \"results\": [\n"
	rows = 0
	while (rows < want)
		for (k = 0; k < 29 && rows < want; k++)
			for (t = 1; t <= 7 && rows < want; t++)
				for (o = 1; o <= 5 && rows < want; o++)
					for (a = 1; a <= 5 && rows < want; a++)
						for (ip = 0; ip < 2 && rows < want; ip++) {
							size = 8 * 2 ^ k
							us = lat[a] + size * 2 * 31 / 32 / (bw[a] * 1e9) * 1e6
							p50 = us * (1 + (rows % 7) / 100)
							busbw = size / (p50 * 1e-6) / 1e9 * 2 * 31 / 32
							printf "%s  {\"size\": %.0f, \"count\": %.0f, \"type\": \"%s\", \"op\": \"%s\", \"algo\": \"%s\", \"transport\": \"mpi\", \"inplace\": %s, \"time_us\": {\"min\": %.3f, \"p50\": %.3f, \"avg\": %.3f, \"p99\": %.3f, \"max\": %.3f}, \"algbw\": %.6f, \"busbw\": %.6f, \"wrong\": 0, \"slowest_rank\": 3}", rows ? ",\n" : "", size, size / esize[t], type[t], op[o], algo[a], ip ? "true" : "false", p50 * 0.95, p50, p50 * 1.01, p50 * 1.3, p50 * 1.5, busbw * 32 / 62, busbw
							rows++
						}
	printf "\n ]}\n"
}' >"$tmp/results.json"
# links: one rank per node, every ordered pair, one slow
awk 'BEGIN {
	printf "{\"version\": 1, \"arbench_version\": \"0.1.0\", \"ranks\": 8, \"nodes\": 8, \"node_of_rank\": [0,1,2,3,4,5,6,7],\n \"hosts\": ["
	for (n = 0; n < 8; n++) printf "%s\"host%02d.example.org\"", n ? "," : "", n
	printf "],\n \"links\": [\n"
	i = 0
	for (s = 0; s < 8; s++)
		for (d = 0; d < 8; d++)
			if (s != d)
				printf "%s  {\"src\": %d, \"dst\": %d, \"src_host\": \"host%02d.example.org\", \"dst_host\": \"host%02d.example.org\", \"size\": 8388608, \"bw_gbps\": %.6f, \"lat_us\": 48.0, \"flagged\": %s}", i++ ? ",\n" : "", s, d, s, d, (s == 2 && d == 5) ? 0.006 : 0.0118, (s == 2 && d == 5) ? "true" : "false"
	printf "\n ]}\n"
}' >"$tmp/links.json"

rows=$(grep -c '"size":' "$tmp/results.json")
echo "# arplan report on $rows result rows ($(du -k "$tmp/results.json" | cut -f1) KiB of JSON) and 56 links"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s %10s\n' "report" "cpu(s)" "wall(s)" "rss(MiB)"
run() { # label args...
	local label=$1 rc
	shift
	/usr/bin/time -o "$tmp/time" -f '%U %S %e %M' "$arplan" report "$tmp/results.json" \
		"$tmp/links.json" "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] || { echo "$label: arplan report exited $rc: $(cat "$tmp/err")"; return; }
	read -r u s e m <"$tmp/time"
	printf '%-44s %8.2f %8.2f %10.0f\n' "$label" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$e" "$((m / 1024))"
}
run "html (5 charts by gnuplot)" -o "$tmp/r.html" --topo configs/topologies/lab-2leaf-1to1.yaml \
	--calib configs/calibrations/example-lab.yaml
run "html, no topology (4 charts)" -o "$tmp/r2.html"
run "md" --format md -o "$tmp/r.md"
run "csv" --format csv -o "$tmp/r.csv"
echo "# report sizes: html $(du -k "$tmp/r.html" | cut -f1) KiB, md $(du -k "$tmp/r.md" | cut -f1) KiB, csv $(du -k "$tmp/r.csv" | cut -f1) KiB"
