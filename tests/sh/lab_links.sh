#!/usr/bin/env bash
# lab_links.sh - `arbench links` finds the slow host: on configs/topologies/lab-slow-host.yaml
# (5 hosts on one switch at 200 Mbit/s, node2 at 100 Mbit/s) with one rank per host, every
# pair at 256 KiB, the links flagged are exactly the eight between node2 and the others (both
# directions) and no other, --fail-below makes the run exit 1, and the summary names node2 as
# the host every flagged link touches.  A run whose flags differ is taken once more when the
# budget allows (other load on the 2 cores shows as noise); both are printed, as are the
# slowest healthy and the fastest flagged link against their shaped rates.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 60
lab_need "$ARBENCH"

f=$(lab_shipped lab-slow-host)
lab up "$f" >/dev/null || lab_fail "up of $f failed"
want="node0>node2 node1>node2 node2>node0 node2>node1 node2>node3 node2>node4 node3>node2 node4>node2"
json=$LAB_TMP/links.json
for try in 1 2; do
	lab run --bench "$(realpath "$ARBENCH")" -- links -b 256K -e 256K -n 3 -w 1 --fail-below \
		-J "$json" >"$LAB_TMP/run.log" 2>"$LAB_TMP/run.err"
	rc=$?
	# apart: mpirun forwards stdout and stderr on two streams, so the --fail-below line could
	# land inside a line of the summary
	cat "$LAB_TMP/run.log" "$LAB_TMP/run.err"
	[ -s "$json" ] || lab_fail "no JSON written (exit $rc)"
	got=$(jq -r '[.links[] | select(.flagged) | "\(.src_host)>\(.dst_host)"] | sort | join(" ")' "$json")
	echo "try $try: exit $rc, flagged: $got"
	[ "$got" = "$want" ] && [ $rc -eq 1 ] && break
	lab_time_for 20 || break
done
[ "$got" = "$want" ] || lab_fail "flagged '$got', expected exactly node2's links: '$want'"
[ $rc -eq 1 ] || lab_fail "--fail-below with flagged links: exit $rc, expected 1"
[ "$(jq '.links | length' "$json")" -eq 20 ] || lab_fail "expected 20 directed links in the JSON"
grep -q '^#   every flagged link touches node2' "$LAB_TMP/run.log" ||
	lab_fail "the summary does not name node2 as the common host"
# printed, not asserted (a timing figure on a shared machine): 200 Mbit/s = 0.025 GB/s
slow_ok=$(jq '[.links[] | select(.flagged | not) | .bw_gbps * 8000 / 200] | min' "$json")
echo "slowest unflagged link: $(awk -v x="$slow_ok" 'BEGIN { printf "%.0f", 100 * x }')% of 200 Mbit/s"
fast_slow=$(jq '[.links[] | select(.flagged) | .bw_gbps * 8000 / 100] | max' "$json")
echo "fastest flagged link: $(awk -v x="$fast_slow" 'BEGIN { printf "%.0f", 100 * x }')% of 100 Mbit/s"
echo "lab_links: node2's 8 links flagged, the other 12 not"
