#!/usr/bin/env bash
# lab_lifecycle.sh - `arlab up` builds what the topology says (a namespace and hostname per
# node, a bridge per switch in the fabric namespace, a shaped veth pair per link, addresses only
# inside the lab), a second `up` is a no-op, a damaged lab is rebuilt, `status` shows it, `down`
# removes exactly the prefixed objects (and processes left inside), and a second `down` is a
# no-op; hosts with two NICs get one interface per rail; on the shipped lab-2node.yaml (`up` of
# the same text from another path is a no-op), `run --ranks-per-node 2 --np 4` runs hier, ring
# and mpi with shared memory inside each emulated host and no wrong results, and the JSON sees
# 2 nodes with 2 ranks each.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 45

root_before=$(ip -br link | awk '{print $1}' | sort)
f=$(lab_gen_2leaf 2 100Mbit 200Mbit)

out=$(lab up "$f") || lab_fail "up failed: $out"
echo "$out"
echo "$out" | grep -q '4 hosts, 3 bridges, 6 links' || lab_fail "up summary: $out"
[ "$(ip netns list | awk '{print $1}' | grep -c '^arl-')" -eq 5 ] || lab_fail "expected 5 namespaces: $(ip netns list)"
[ "$(ip -br link | awk '{print $1}' | sort)" = "$root_before" ] || lab_fail "up changed the root namespace's links"
ip -4 addr | grep -q '10\.77\.' && lab_fail "a lab address leaked into the root namespace"

# each host: its own hostname, one shaped interface with its address
for i in 0 1 2 3; do
	h=$(lab exec h$i -- hostname) || lab_fail "exec on h$i failed"
	[ "$h" = "h$i" ] || lab_fail "hostname on h$i is '$h'"
	ip -n arl-h$i -br -4 addr show arl-eth0 | grep -q "10.77.0.$((i + 1))/24" || lab_fail "h$i address"
	tc -n arl-h$i qdisc show dev arl-eth0 | grep -q 'tbf.*rate 100Mbit' || lab_fail "h$i not shaped"
done
[ "$(hostname)" != h0 ] || lab_fail "exec changed the root hostname"
# bridges and both ends of the uplinks shaped at the uplink rate
[ "$(ip -n arl-fabric -br link show type bridge | wc -l)" -eq 3 ] || lab_fail "expected 3 bridges"
[ "$(tc -n arl-fabric qdisc show | grep -c 'tbf.*rate 200Mbit')" -eq 4 ] || lab_fail "uplinks not shaped on both ends"
[ "$(tc -n arl-fabric qdisc show | grep -c 'tbf.*rate 100Mbit')" -eq 4 ] || lab_fail "host ports not shaped"
# h0 (leaf0) reaches h3 (leaf1) across the spine
bw=$(lab_iperf h3 10.77.0.4 h0 1)
lab_ge "$bw" 50 || lab_fail "h0 -> h3 gets $bw Mbit/s"

st=$(lab status) || lab_fail "status failed: $st"
echo "$st"
for w in arl-h3 'bridge for switch spine0' '10.77.0.2/24' 'tbf 100Mbit' 'tbf 200Mbit'; do
	echo "$st" | grep -q "$w" || lab_fail "status does not show '$w'"
done

out=$(lab up "$f") || lab_fail "second up failed: $out"
echo "$out" | grep -q 'no-op' || lab_fail "second up is not a no-op: $out"

ip netns del arl-h2
st=$(lab status) && lab_fail "status of a damaged lab exits 0"
echo "$st" | grep -q 'missing: namespace arl-h2' || lab_fail "status does not report the missing host: $st"
out=$(lab up "$f") || lab_fail "up of a damaged lab failed: $out"
echo "$out" | grep -q 'rebuilt' || lab_fail "damaged lab not rebuilt: $out"
bw=$(lab_iperf h0 10.77.0.1 h2 1)
lab_ge "$bw" 50 || lab_fail "rebuilt h2 -> h0 gets $bw Mbit/s"

out=$(lab run --np 5 -- -b 8 -e 8 2>&1) && lab_fail "run --np 5 on 4 hosts accepted"
echo "$out" | grep -q 'more than 4 hosts' || lab_fail "run --np 5: $out"

# (not through lab: its budget's timeout would report the kill as "Terminated")
"$ARLAB" exec h1 -- sleep 300 9>&- &
sleep 0.5
out=$(lab down) || lab_fail "down failed: $out"
echo "$out"
echo "$out" | grep -q 'removed 5 namespaces' || lab_fail "down: $out"
echo "$out" | grep -q 'stopped 1 processes' || lab_fail "down did not stop the process left in h1: $out"
wait
ip netns list | grep -q '^arl-' && lab_fail "down left namespaces: $(ip netns list)"
[ -e /run/arlab ] && lab_fail "down left /run/arlab"
[ "$(ip -br link | awk '{print $1}' | sort)" = "$root_before" ] || lab_fail "root links changed"
lab status | grep -q 'no lab is up' || lab_fail "status after down"
lab down | grep -q 'nothing removed' || lab_fail "second down"
# hosts with two NICs on two rails: one interface and one /24 per NIC index, built routed
# (rails.c; tests/sh/lab_rails.sh has the rest)
cat >"$LAB_TMP/rails.yaml" <<'Y'
name: test-rails
fabric: {family: explicit}
node_types: [{name: two-nic, gpus: 2, intra: {pcie_gen: 4}, nics: {count: 2}}]
link_classes: {host: {rate: 200Mbit, latency: 5us}}
nodes: [{name: a, type: two-nic}, {name: b, type: two-nic}]
switches: [{name: rail0}, {name: rail1}]
links:
  - {a: a/0, b: rail0}
  - {a: b/0, b: rail0}
  - {a: a/1, b: rail1}
  - {a: b/1, b: rail1}
Y
out=$(lab up "$LAB_TMP/rails.yaml") || lab_fail "up of two rails failed: $out"
echo "$out" | grep -q '2 hosts, 2 routed switches (ECMP, 5-tuple hash), 4 links' || lab_fail "rails: $out"
ip -n arl-b -br -4 addr show arl-eth1 | grep -q '10.77.1.2/24' || lab_fail "rails: b's second NIC"
[ "$(cat /run/arlab/nics)" = 2 ] || lab_fail "rails: state does not record 2 NICs"
bw=$(lab_iperf b 10.77.1.2 a 1)
lab_ge "$bw" 100 || lab_fail "rail 1 a -> b gets $bw Mbit/s"
lab down >/dev/null || lab_fail "down of the rails lab failed"

# two ranks per host on the shipped 2-node lab: shared memory inside an emulated host (hier's
# intra-node phases, vader for ring and mpi), TCP over the shaped link between the hosts
f=$(lab_shipped lab-2node)
out=$(lab up "$f") || lab_fail "up of lab-2node failed: $out"
out=$(lab up "$LAB_TOPOLOGIES/lab-2node.yaml") || lab_fail "up of the shipped file failed: $out"
echo "$out" | grep -q 'no-op' || lab_fail "up of the same text from another path is not a no-op: $out"
json=$LAB_TMP/rpn2.json
lab run --bench "$(realpath "$ARBENCH")" --ranks-per-node 2 --np 4 -- -b 1K -e 4M -f 4 \
	-A hier,ring,mpi -c 1 -n 3 -w 1 -J "$json" >"$LAB_TMP/rpn2.log" 2>&1 ||
	lab_fail "run --ranks-per-node 2 --np 4 failed: $(tail -n 20 "$LAB_TMP/rpn2.log")"
grep '^# Out of bounds values : 0 OK' "$LAB_TMP/rpn2.log" ||
	lab_fail "run --ranks-per-node 2: wrong results: $(tail -n 20 "$LAB_TMP/rpn2.log")"
jq -e '.ranks == 4 and .nodes == 2 and .ranks_per_node == [2, 2] and
	([.results[] | select(.wrong != 0)] | length) == 0 and
	([.results[].algo] | unique) == ["hier", "mpi", "ring"]' "$json" >/dev/null ||
	lab_fail "run --ranks-per-node 2: JSON says $(jq -c '{ranks, nodes, ranks_per_node, hosts}' "$json")"
echo "2 hosts x 2 ranks: $(jq -c '{nodes, ranks_per_node, hosts}' "$json"), no wrong results"
# node-shared buffers (-R 1) across emulated hosts: one shared window per host, hier stages
lab run --bench "$(realpath "$ARBENCH")" --ranks-per-node 2 --np 4 -- -b 1K -e 1M -f 32 \
	-A hier,ring -R 1 -c 1 -n 2 -w 1 >"$LAB_TMP/rpn2-shared.log" 2>&1 ||
	lab_fail "run -R 1 failed: $(tail -n 20 "$LAB_TMP/rpn2-shared.log")"
grep -q '^# Out of bounds values : 0 OK' "$LAB_TMP/rpn2-shared.log" ||
	lab_fail "run -R 1: wrong results: $(tail -n 20 "$LAB_TMP/rpn2-shared.log")"
echo "2 hosts x 2 ranks, node-shared buffers: no wrong results"

# one up or down at a time: a down while another holds the arlab lock waits for it
flock /run/arlab.lock sleep 2 9>&- &
holder=$!
sleep 0.5
t0=$SECONDS
out=$(lab down 2>&1) || lab_fail "down of lab-2node failed: $out"
wait $holder
echo "$out" | grep -q 'waiting for another arlab up/down' || lab_fail "down did not wait for the lock: $out"
echo "$out" | grep -q 'removed 3 namespaces' || lab_fail "down after the wait: $out"
echo "down waited for the arlab lock ($((SECONDS - t0)) s) and then removed the lab"
echo "lifecycle ok"
