#!/usr/bin/env bash
# lab_rails.sh - hosts with two NICs on two rails in a routed fabric (bench/lab/rails.c), with
# and without a path between the rails.
# - Counting: the shipped lab-rail-optimized.yaml and lab-rail-only.yaml come up with the
#   hosts, switches and links `arplan topo --json` counts, as namespaces and veth pairs.
# - Rail-optimized (2 SUs, a leaf per rail per SU, 2 spines, 100 Mbit/s): iperf3 from node0 to
#   node2 (the other SU) reaches >= 85% of the rate on rail 0 and on rail 1; a connection bound
#   to node0's rail-0 address to node2's rail-1 address crosses the spines (>= 85%, and
#   `arlab counters` sees its bytes leave node0's NIC 0, not NIC 1); arbench's ring with 2
#   ranks per host, each bound to one NIC rail-matched (`--rail-bind matched`), reaches a busbw
#   >= 85% of a link, with correct results.
# - Rail-only (a switch per rail, nothing between them): `up` says the rails are not joined;
#   iperf3 on rail 1 reaches >= 85%; the same bound connection to the other rail fails as
#   unreachable; `run --rail-bind` is refused (exit 2, naming two ranks with no path) before
#   anything starts; the ring with one rank per host on both NICs (the default) reaches a busbw
#   >= 80% of the two links together (one link alone would be 50%), with correct results.
# - Clean-up: after `down` no namespace, root link or state is left, and the root namespace's
#   sysctls, rules and routes are as before.
# A measurement that falls short is taken once more.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 120
lab_need "$ARBENCH" "$ARPLAN"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

root_state() {
	sysctl -n net.ipv4.ip_forward net.ipv4.fib_multipath_hash_policy \
		net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter net.core.txrehash 2>/dev/null
	ip rule
	ip route show table all | grep -v '^local\|^broadcast' | sort
	ip -br link | awk '{print $1}' | sort
}
before=$(root_state)

# up_counted NAME: up the shipped topology; its hosts/switches/links match arplan topo's
up_counted() {
	local f want out n_host_ns n_sw_ns n_ends=0 ns
	f=$(lab_shipped "$1")
	"$ARPLAN" topo --json "$f" >"$LAB_TMP/topo.json" || lab_fail "arplan topo $1 failed"
	want=$(jq -r '"\(.nodes) hosts, \(.switches.total) routed switches (ECMP, 5-tuple hash), \(.links.host + .links.fabric) links"' "$LAB_TMP/topo.json")
	out=$(lab up "$f") || lab_fail "up of $1 failed: $out"
	echo "$out"
	echo "arplan topo: $want"
	echo "$out" | grep -qF "$want" || lab_fail "$1: up does not match arplan topo ($want): $out"
	n_host_ns=$(ip netns list | awk '{print $1}' | grep '^arl-' | grep -vc '^arl-sw_')
	n_sw_ns=$(ip netns list | awk '{print $1}' | grep -c '^arl-sw_')
	for ns in $(ip netns list | awk '{print $1}' | grep '^arl-'); do
		n_ends=$((n_ends + $(ip -n "$ns" -br link show type veth | wc -l)))
	done
	[ "$n_host_ns hosts, $n_sw_ns routed switches (ECMP, 5-tuple hash), $((n_ends / 2)) links" = "$want" ] ||
		lab_fail "$1: the lab has $n_host_ns host and $n_sw_ns switch namespaces, $((n_ends / 2)) veth pairs; arplan topo: $want"
	UP_OUT=$out
}

# iperf_pct SERVER ADDR CLIENT [iperf3 options]: 2 s; Mbit/s into BW, % of 100 Mbit/s into PCT
iperf_pct() {
	local s=$1 a=$2 c=$3
	shift 3
	lab exec "$s" -- iperf3 -s -1 -B "$a" -D --logfile "$LAB_TMP/iperf-$s.log" ||
		lab_fail "iperf3 server on $s did not start"
	for ((i = 0; i < 50; i++)); do
		lab exec "$s" -- sh -c 'ss -ltn | grep -q ":5201 "' && break
		sleep 0.1
	done
	lab exec "$c" -- timeout 20 iperf3 -c "$a" -t 2 -J "$@" >"$LAB_TMP/iperf.json"
	IPERF_RC=$?
	BW=$(jq '(.end.sum_received.bits_per_second // 0) / 1e6' "$LAB_TMP/iperf.json")
	PCT=$(awk -v b="$BW" 'BEGIN { printf "%.1f", 100 * b / 100 }')
}

# ring JSON LINKS [run options]: arbench ring at 8 MiB, correct results; busbw into BUSBW and
# its % of LINKS links of 100 Mbit/s into PCT
ring() {
	local json=$1 links=$2
	shift 2
	lab run "$@" --bench "$(realpath "$ARBENCH")" -- -b 8M -e 8M -n 3 -w 1 -c 1 -A ring \
		-J "$json" >"$LAB_TMP/run.log" 2>&1 ||
		lab_fail "ring ($*) failed: $(tail -n 20 "$LAB_TMP/run.log")"
	grep -q '^# Out of bounds values : 0 OK' "$LAB_TMP/run.log" ||
		lab_fail "ring ($*): wrong results: $(tail -n 20 "$LAB_TMP/run.log")"
	BUSBW=$(lab_busbw "$json" ring 8388608) || lab_fail "no ring result in $json"
	PCT=$(awk -v b="$BUSBW" -v n="$links" 'BEGIN { printf "%.1f", 100 * b * 8e9 / (n * 100e6) }')
}

# ---- rail-optimized ----
up_counted lab-rail-optimized
echo "$UP_OUT" | grep -q '2 rails .* joined by the switches' || lab_fail "rail-optimized: up does not say the rails are joined"
for rail in 0 1; do
	for try in 1 2; do
		iperf_pct node2 "10.77.$rail.3" node0
		echo "rail-optimized: iperf3 node0 -> node2 on rail $rail (across the spines): $BW Mbit/s ($PCT%)"
		lab_ge "$PCT" 85 && break
	done
	lab_ge "$PCT" 85 || lab_fail "rail-optimized: rail $rail at $PCT% of the rate, expected >= 85%"
done
for try in 1 2; do
	lab counters --reset >/dev/null || lab_fail "counters --reset failed"
	iperf_pct node2 10.77.1.3 node0 -B 10.77.0.1
	[ "$IPERF_RC" -eq 0 ] || lab_fail "rail-optimized: node0's rail 0 to node2's rail 1 failed: $(jq -r .error "$LAB_TMP/iperf.json")"
	lab counters >"$LAB_TMP/counters.txt" || lab_fail "counters failed"
	nic0=$(awk '$3 == "node0/nic0" { print $5 }' "$LAB_TMP/counters.txt")
	nic1=$(awk '$3 == "node0/nic1" { print $5 }' "$LAB_TMP/counters.txt")
	echo "rail-optimized: iperf3 node0 rail 0 -> node2 rail 1 (through the spines): $BW Mbit/s ($PCT%); MB out of node0/nic0 $nic0, nic1 $nic1"
	lab_ge "$PCT" 85 && break
done
lab_ge "$PCT" 85 || lab_fail "rail-optimized: between rails at $PCT% of the rate, expected >= 85%"
lab_ge "$nic0" 20 && lab_ge 1 "$nic1" || { cat "$LAB_TMP/counters.txt"; lab_fail "rail-optimized: the bound connection did not leave NIC 0 (nic0 $nic0 MB, nic1 $nic1 MB)"; }
for try in 1 2; do
	ring "$LAB_TMP/ro.json" 1 --rail-bind matched --ranks-per-node 2
	echo "rail-optimized: arbench ring 8 MiB, 8 ranks, each on one NIC rail-matched: busbw $BUSBW GB/s ($PCT% of a link)"
	lab_ge "$PCT" 85 && break
done
lab_ge "$PCT" 85 || lab_fail "rail-optimized: rail-matched ring at $PCT% of a link, expected >= 85%"
lab down >/dev/null || lab_fail "down of lab-rail-optimized failed"

# ---- rail-only ----
up_counted lab-rail-only
echo "$UP_OUT" | grep -q 'not joined (rail-only)' || lab_fail "rail-only: up does not say the rails are not joined"
for try in 1 2; do
	iperf_pct node2 10.77.1.3 node0
	echo "rail-only: iperf3 node0 -> node2 on rail 1: $BW Mbit/s ($PCT%)"
	lab_ge "$PCT" 85 && break
done
lab_ge "$PCT" 85 || lab_fail "rail-only: rail 1 at $PCT% of the rate, expected >= 85%"
iperf_pct node2 10.77.1.3 node0 -B 10.77.0.1
err=$(jq -r '.error // ""' "$LAB_TMP/iperf.json")
echo "rail-only: iperf3 node0 rail 0 -> node2 rail 1: exit $IPERF_RC, '$err'"
[ "$BW" = 0 ] && echo "$err" | grep -qi 'unreachable' ||
	lab_fail "rail-only: a connection between rails did not fail as unreachable (exit $IPERF_RC, '$err')"
lab run --rail-bind matched --ranks-per-node 2 --bench "$(realpath "$ARBENCH")" -- -b 1M \
	>"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
echo "rail-only: run --rail-bind matched: exit $rc, $(cat "$LAB_TMP/err")"
[ $rc -eq 2 ] && grep -q 'ranks 0 (node0, NIC 0) and 2 (node1, NIC 1) would have no path' "$LAB_TMP/err" ||
	lab_fail "rail-only: run --rail-bind matched was not refused naming the ranks (exit $rc)"
for try in 1 2; do
	ring "$LAB_TMP/rl.json" 2
	echo "rail-only: arbench ring 8 MiB, 4 ranks, each on both NICs: busbw $BUSBW GB/s ($PCT% of two links)"
	lab_ge "$PCT" 80 && break
done
lab_ge "$PCT" 80 || lab_fail "rail-only: ring on both rails at $PCT% of two links, expected >= 80% (one link alone is 50%)"
lab down >/dev/null || lab_fail "down of lab-rail-only failed"

# ---- nothing left ----
ip netns list | grep -q '^arl-' && lab_fail "down left namespaces: $(ip netns list)"
[ -e /run/arlab ] && lab_fail "down left /run/arlab"
after=$(root_state)
[ "$before" = "$after" ] || lab_fail "the root namespace changed: $(diff <(echo "$before") <(echo "$after"))"
echo "rails: counts match arplan topo, rails at >= 85%, joined or not as described, nothing left (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
