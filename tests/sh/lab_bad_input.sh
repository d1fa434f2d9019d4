#!/usr/bin/env bash
# lab_bad_input.sh - `arlab up` refuses bad input with one clear line and exit 2, and leaves
# nothing behind (namespaces and root links unchanged): no nodes, a link rate of 0, a node name
# that is not a hostname (a bad character, a dot, 64 characters), more hosts than --max-hosts
# (and the default cap of 64), a routed fabric the lab cannot route (a rail whose NICs no
# switch path joins), and `up` while another lab is up (which
# must survive untouched).  A command that fails half-way through `up` gives exit 3 (a runtime
# failure) and the partial lab is removed.
set -u
. "$(dirname "$0")/../../bench/lab/testlib.sh"
lab_init 15

snapshot() { { ip netns list; ip -br link | awk '{print $1}'; } | sort; }

# expect_reject NAME WANT ARLAB-ARGS...: exit 2, one stderr line containing WANT, no change
expect_reject() {
	local name=$1 want=$2 before after rc
	shift 2
	before=$(snapshot)
	lab "$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
	rc=$?
	after=$(snapshot)
	[ $rc -eq 2 ] || lab_fail "$name: exit $rc, expected 2 ($(cat "$LAB_TMP/err"))"
	[ "$(wc -l <"$LAB_TMP/err")" -eq 1 ] || lab_fail "$name: expected one error line, got: $(cat "$LAB_TMP/err")"
	grep -q -- "$want" "$LAB_TMP/err" || lab_fail "$name: error does not say '$want': $(cat "$LAB_TMP/err")"
	[ "$before" = "$after" ] || lab_fail "$name: left something behind: $(diff <(echo "$before") <(echo "$after"))"
	echo "ok   $name: $(cat "$LAB_TMP/err")"
}

t=$LAB_TMP
cat >"$t/empty.yaml" <<'Y'
name: no-nodes
fabric: {family: explicit}
nodes: []
switches: [{name: sw0}]
links: []
Y
expect_reject "no nodes" "node" up "$t/empty.yaml"

sed 's/rate: 400Mbit/rate: 0Mbit/' "$(lab_shipped lab-2node)" >"$t/zero.yaml"
expect_reject "rate 0" "rate" up "$t/zero.yaml"

sed 's/node1/node_1/g' "$(lab_shipped lab-2node)" >"$t/badname.yaml"
expect_reject "bad hostname" "node_1" up "$t/badname.yaml"

sed 's/node1/no.de1/g' "$(lab_shipped lab-2node)" >"$t/dotname.yaml"
expect_reject "hostname with a dot" "not a valid hostname" up "$t/dotname.yaml"

# 64 characters: refused by the whole name (it used to be cut to a valid 63 and accepted)
n64=n$(printf '%063d' 0 | tr 0 a)
sed "s/node1/$n64/g" "$(lab_shipped lab-2node)" >"$t/longname.yaml"
expect_reject "64-character name" "\"$n64\" is not a valid hostname" up "$t/longname.yaml"

expect_reject "above --max-hosts" "more than the cap of 6" up --max-hosts 6 "$(lab_gen_2leaf 4 100Mbit 400Mbit)"
expect_reject "above the default cap" "more than the cap of 64" up "$(lab_gen_2leaf 33 100Mbit 400Mbit)"
expect_reject "bad --max-hosts" "max-hosts" up --max-hosts 0 "$(lab_shipped lab-2node)"

# a routed lab it cannot route is refused before anything is created, naming the nodes: here
# rail 1 is split (b's NIC 1 on a switch nothing joins), so a NIC-1 address of b, which a
# sends out of its own NIC 1, could not be reached.  Rails not joined to each other are not
# refused (rail-only, tests/sh/lab_rails.sh).  The other unroutable cases, a cable between two
# nodes or a node no switch path reaches, are disconnected graphs that topo/ refuses first;
# they are checked in unit/test_lab and unit/test_lab_rails.
cat >"$t/split-rail.yaml" <<'Y'
name: test-split-rail
fabric: {family: explicit}
node_types: [{name: two-nic, gpus: 2, intra: {pcie_gen: 4}, nics: {count: 2}}]
link_classes: {host: {rate: 100Mbit, latency: 5us}}
nodes: [{name: a, type: two-nic}, {name: b, type: two-nic}]
switches: [{name: rail0}, {name: rail1}, {name: island}]
links:
  - {a: a/0, b: rail0}
  - {a: b/0, b: rail0}
  - {a: a/1, b: rail1}
  - {a: b/1, b: island}
Y
expect_reject "routed: a rail split in two" "no path between nodes a and b through the switches (a/nic1 on rail1, b/nic1 on island" up "$t/split-rail.yaml"

expect_reject "missing file" "No such file" up "$t/nonexistent.yaml"

# a command failing half-way through up (a tc that refuses): exit 3, everything built removed
mkdir -p "$t/fakebin"
printf '#!/bin/sh\necho "fake tc: injected failure" >&2\nexit 1\n' >"$t/fakebin/tc"
chmod +x "$t/fakebin/tc"
before=$(snapshot)
PATH="$t/fakebin:$PATH" lab up "$(lab_shipped lab-2node)" >/dev/null 2>"$t/err"
rc=$?
[ $rc -eq 3 ] || lab_fail "up with a failing tc: exit $rc, expected 3"
grep -q "up failed at 'tc .*injected failure; removing what was built" "$t/err" ||
	lab_fail "up with a failing tc: $(cat "$t/err")"
[ "$(snapshot)" = "$before" ] || lab_fail "a failed up left something behind"
[ -e /run/arlab ] && lab_fail "a failed up left /run/arlab"
echo "ok   failure half-way: $(cat "$t/err")"

# another lab is up: refused, and the running lab is untouched
a=$(lab_shipped lab-2node)
lab up "$a" >/dev/null || lab_fail "could not bring up the first lab"
st_before=$(lab status)
expect_reject "up while another lab is up" "another lab is up" up "$(lab_gen_2node 200Mbit)"
[ "$(lab status)" = "$st_before" ] || lab_fail "the running lab changed"
lab down >/dev/null || lab_fail "arlab down failed"
[ -z "$(ip netns list | grep '^arl-')" ] || lab_fail "arlab down left namespaces"
echo "all bad input rejected"
