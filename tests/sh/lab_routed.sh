#!/usr/bin/env bash
# lab_routed.sh - fabrics with several paths between switches come up routed (routed.c): every
# switch its own namespace forwarding IPv4 with a multipath route to every host.
# - Counting: the k = 4 fat-tree lab (configs/topologies/lab-fat-tree-k4.yaml) has the hosts,
#   switches and links `arplan topo --json` counts on the same file, as namespaces and veth
#   pairs; an edge switch routes to a host in another pod over both its aggregation switches,
#   with the 5-tuple hash; iperf3 from a host to the farthest one (5 switches) gets > 50% of
#   the rate; `down` leaves no namespace.
# - Faithfulness on a 2-spine fabric (one host per leaf, every link 400 Mbit/s): iperf3 reaches
#   85-100% of the rate, and `arlab counters` shows that the bytes iperf3 sent crossed leaf0's
#   uplinks (their sum is 95-110% of what iperf3 received); arbench's ring at 32 MiB reaches a
#   busbw of >= 85% of the rate.  A measurement that falls short is taken once more.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 60
lab_need "$ARBENCH" "$ARPLAN"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- counting: the k = 4 fat-tree ----
f=$(lab_shipped lab-fat-tree-k4)
"$ARPLAN" topo --json "$f" >"$LAB_TMP/topo.json" || lab_fail "arplan topo failed"
want_hosts=$(jq '.nodes' "$LAB_TMP/topo.json")
want_sw=$(jq '.switches.total' "$LAB_TMP/topo.json")
want_links=$(jq '.links.host + .links.fabric' "$LAB_TMP/topo.json")
echo "arplan topo: $want_hosts nodes, $want_sw switches, $want_links host and fabric links"
[ "$want_hosts/$want_sw/$want_links" = 16/20/48 ] || lab_fail "arplan topo counts the k = 4 fat-tree as $want_hosts/$want_sw/$want_links"
out=$(lab up "$f") || lab_fail "up of the k = 4 fat-tree failed: $out"
echo "$out"
echo "$out" | grep -q "$want_hosts hosts, $want_sw routed switches (ECMP, 5-tuple hash), $want_links links" ||
	lab_fail "up summary does not match arplan topo: $out"
n_host_ns=$(ip netns list | awk '{print $1}' | grep '^arl-' | grep -vc '^arl-sw_')
n_sw_ns=$(ip netns list | awk '{print $1}' | grep -c '^arl-sw_')
n_ends=0
for ns in $(ip netns list | awk '{print $1}' | grep '^arl-'); do
	n_ends=$((n_ends + $(ip -n "$ns" -br link show type veth | wc -l)))
done
echo "lab: $n_host_ns host namespaces, $n_sw_ns switch namespaces, $((n_ends / 2)) veth pairs"
[ "$n_host_ns/$n_sw_ns/$((n_ends / 2))" = "$want_hosts/$want_sw/$want_links" ] ||
	lab_fail "the lab has $n_host_ns/$n_sw_ns/$((n_ends / 2)) hosts/switches/links, arplan topo $want_hosts/$want_sw/$want_links"
# node0's edge switch: the namespace whose route to node0 is direct; its route to node15
edge=$(for ns in $(ip netns list | awk '{print $1}' | grep '^arl-sw_'); do
	ip -n "$ns" route show 10.77.0.1 | grep -q 'dev arl-p' && ! ip -n "$ns" route show 10.77.0.1 | grep -q via && echo "$ns"
done | head -n 1)
[ -n "$edge" ] || lab_fail "no switch has a direct route to node0"
hops=$(ip -n "$edge" route show 10.77.0.16 | grep -c 'nexthop via')
[ "$hops" -eq 2 ] || lab_fail "$edge routes to node15 over $hops next hops, expected 2: $(ip -n "$edge" route show 10.77.0.16)"
[ "$(ip netns exec "$edge" sysctl -n net.ipv4.fib_multipath_hash_policy)" = 1 ] || lab_fail "$edge does not hash on the 5-tuple"
[ "$(ip netns exec "$edge" sysctl -n net.ipv4.ip_forward)" = 1 ] || lab_fail "$edge does not forward"
bw=$(lab_iperf node15 10.77.0.16 node0 1)
lab_ge "$bw" 50 || lab_fail "node0 -> node15 across the core gets $bw Mbit/s"
lab status | grep -q 'nexthop via' || lab_fail "status does not show the multipath routes"
lab down >/dev/null || lab_fail "down of the k = 4 fat-tree failed"
ip netns list | grep -q '^arl-' && lab_fail "down left namespaces: $(ip netns list)"
echo "k = 4 fat-tree: counts match arplan topo, ECMP over 2 next hops, node0 -> node15 $bw Mbit/s, removed"

# ---- faithfulness on 2 spines ----
cat >"$LAB_TMP/2spine.yaml" <<'Y'
name: test-2spine-400
fabric: {family: explicit}
link_classes:
  host: {rate: 400Mbit, latency: 5us}
  fabric: {rate: 400Mbit, latency: 5us}
nodes: [{name: node0}, {name: node1}]
switches: [{name: leaf0}, {name: leaf1}, {name: spine0, tier: 1}, {name: spine1, tier: 1}]
links:
  - {a: node0, b: leaf0}
  - {a: node1, b: leaf1}
  - {a: leaf0, b: spine0}
  - {a: leaf0, b: spine1}
  - {a: leaf1, b: spine0}
  - {a: leaf1, b: spine1}
Y
out=$(lab up "$LAB_TMP/2spine.yaml") || lab_fail "up of the 2-spine fabric failed: $out"
echo "$out"
echo "$out" | grep -q 'routed switches' || lab_fail "the 2-spine fabric is not routed: $out"
for try in 1 2; do
	lab counters --reset >/dev/null || lab_fail "counters --reset failed"
	bw=$(lab_iperf node1 10.77.0.2 node0 3)
	pct=$(awk -v b="$bw" 'BEGIN { printf "%.1f", 100 * b / 400 }')
	sent=$(jq '.end.sum_received.bytes' "$LAB_TMP/iperf.json")
	lab counters --fabric >"$LAB_TMP/counters.txt" || lab_fail "counters failed"
	up=$(awk '$3 == "leaf0" { s += $5 } END { printf "%.0f", s * 1e6 }' "$LAB_TMP/counters.txt")
	share=$(awk -v u="$up" -v s="$sent" 'BEGIN { printf "%.1f", (s > 0 ? 100 * u / s : 0) }')
	echo "iperf3 node0 -> node1 across 2 spines: $bw Mbit/s ($pct%); leaf0's uplinks carried $share% of its bytes"
	lab_ge "$pct" 85 && break
done
cat "$LAB_TMP/counters.txt"
lab_ge "$pct" 85 || lab_fail "iperf3 across 2 spines: $pct% of the rate, expected >= 85%"
lab_ge 100 "$pct" || lab_fail "iperf3 across 2 spines: $pct% of the rate, expected <= 100%"
lab_ge "$share" 95 && lab_ge 110 "$share" ||
	lab_fail "counters: leaf0's uplinks carried $share% of the bytes iperf3 received, expected 95-110%"
json=$LAB_TMP/ring.json
for try in 1 2; do
	lab run --bench "$(realpath "$ARBENCH")" -- -b 32M -e 32M -n 3 -w 1 -c 0 -A ring -q \
		-J "$json" >"$LAB_TMP/run.log" 2>&1 ||
		lab_fail "arbench on 2 spines failed: $(tail -n 20 "$LAB_TMP/run.log")"
	busbw=$(lab_busbw "$json" ring 33554432) || lab_fail "no ring result in $json"
	pct=$(awk -v b="$busbw" 'BEGIN { printf "%.1f", 100 * b * 8e9 / 400e6 }')
	echo "arbench ring 32 MiB across 2 spines: busbw $busbw GB/s ($pct% of the link)"
	lab_ge "$pct" 85 && break
done
lab_ge "$pct" 85 || lab_fail "ring across 2 spines: busbw $pct% of the link, expected >= 85%"
lab down >/dev/null || lab_fail "down failed"
echo "routed: counts match, faithful across 2 spines (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
