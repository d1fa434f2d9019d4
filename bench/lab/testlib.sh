# bench/lab/testlib.sh - shell helpers shared by the lab tests (tests/sh/lab_*.sh) and
# bench/lab/compare-oversub.sh.  Sourced, not run.  Provides: lab_init (skip when this machine
# cannot host a lab, take the lab lock, clean up on every exit), topology generators, an iperf3
# measurement between two lab hosts, and busbw extraction from arbench JSON.

LAB_BUILD=${BUILD:-build}
ARLAB=${ARLAB:-$LAB_BUILD/arlab}
ARBENCH=${ARBENCH:-$LAB_BUILD/arbench}
LAB_LOCK=/run/lock/arlab-test.lock

# arlab, without the lock's descriptor: processes it leaves running (a daemon in a namespace)
# must not keep the lock held after this script is gone.
lab() {
	"$ARLAB" "$@" 9>&-
}

lab_skip() { # reason
	echo "skip: $1"
	exit 77
}

lab_fail() { # message
	echo "FAIL: $*" >&2
	exit 1
}

lab_cleanup() {
	local rc=$?
	if [ -n "${LAB_TMP:-}" ]; then
		# only a lab this script built (its topology lives in LAB_TMP) is ours to remove
		if grep -qs "^$LAB_TMP/" /run/arlab/source; then
			lab down >/dev/null 2>&1 || echo "cleanup: arlab down failed" >&2
		fi
		rm -rf "$LAB_TMP"
	fi
	exit $rc
}

# Skip unless root with working network namespaces, veth, bridges and tbf; wait for the lab
# lock (one lab per machine: other engineers' `make check` may run the lab tests too); make a
# temporary directory; remove what we built on any exit.  Needs: commands...
lab_init() {
	[ "$(id -u)" = 0 ] || lab_skip "lab tests need root (network namespaces); run make check as root"
	local c
	for c in ip tc unshare flock jq "$@"; do
		command -v "$c" >/dev/null || lab_skip "lab tests need '$c' (apt-get install iproute2 util-linux jq iperf3)"
	done
	[ -x "$ARLAB" ] || lab_fail "$ARLAB is not built"
	mkdir -p "${LAB_LOCK%/*}"
	exec 9>"$LAB_LOCK"
	flock -w 600 9 || lab_fail "another lab test held $LAB_LOCK for 10 minutes"
	local probe=arl-probe$$
	if ! ip netns add "$probe" 2>/dev/null; then
		lab_skip "cannot create network namespaces here (ip netns add failed: no CAP_SYS_ADMIN?)"
	fi
	if ! ip -n "$probe" link add arl-pa type veth peer name arl-pb 2>/dev/null ||
		! ip -n "$probe" link add arl-pbr type bridge 2>/dev/null ||
		! tc -n "$probe" qdisc add dev arl-pa root tbf rate 100mbit burst 64kb latency 20ms 2>/dev/null; then
		ip netns del "$probe"
		lab_skip "this kernel lacks veth, bridge or the tbf qdisc"
	fi
	ip netns del "$probe"
	LAB_TMP=$(mktemp -d /tmp/arlab-test.XXXXXX)
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
	# a lab left behind by an earlier test run is removed; anybody else's lab is left alone
	if [ -e /run/arlab/source ] && grep -qs '^/tmp/arlab-test\.' /run/arlab/source; then
		lab down >/dev/null
	fi
	if [ -e /run/arlab ] || ip netns list | grep -q '^arl-'; then
		lab_skip "a lab is already up ($(cat /run/arlab/source 2>/dev/null || echo 'arl- namespaces')); not touching it"
	fi
}

# Two hosts on one switch, host links at RATE (e.g. 400Mbit).  Prints the file name.
lab_gen_2node() { # rate
	local f=$LAB_TMP/2node-$1.yaml
	cat >"$f" <<EOF
name: test-2node-$1
fabric: {family: explicit}
link_classes:
  host: {rate: $1, latency: 5us}
nodes: [{name: node0}, {name: node1}]
switches: [{name: sw0}]
links:
  - {a: node0, b: sw0}
  - {a: node1, b: sw0}
EOF
	echo "$f"
}

# Two leaves, one spine, PER hosts per leaf at HOSTRATE, uplinks at UPRATE.
lab_gen_2leaf() { # per hostrate uprate
	local per=$1 f=$LAB_TMP/2leaf-$1-$2-$3.yaml i l
	{
		echo "name: test-2leaf-$2-$3"
		echo "fabric: {family: explicit}"
		echo "link_classes:"
		echo "  host: {rate: $2, latency: 5us}"
		echo "  fabric: {rate: $3, latency: 5us}"
		echo "nodes:"
		for ((i = 0; i < 2 * per; i++)); do echo "  - {name: h$i}"; done
		echo "switches: [{name: leaf0}, {name: leaf1}, {name: spine0, tier: 1}]"
		echo "links:"
		for ((i = 0; i < 2 * per; i++)); do echo "  - {a: h$i, b: leaf$((i / per))}"; done
		for l in 0 1; do echo "  - {a: leaf$l, b: spine0}"; done
	} >"$f"
	echo "$f"
}

# Mbit/s received by one TCP stream from host CLIENT to host SERVER (lab address ADDR) over
# SECONDS.  Traffic stays between the two lab namespaces.
lab_iperf() { # server addr client seconds
	lab exec "$1" -- iperf3 -s -1 -B "$2" -D --logfile "$LAB_TMP/iperf-$1.log" ||
		lab_fail "iperf3 server on $1 did not start"
	local i
	for ((i = 0; i < 50; i++)); do # wait until it listens
		lab exec "$1" -- sh -c 'ss -ltn | grep -q ":5201 "' && break
		sleep 0.1
	done
	lab exec "$3" -- timeout 30 iperf3 -c "$2" -t "$4" -J >"$LAB_TMP/iperf.json" ||
		lab_fail "iperf3 client on $3 failed: $(head -c 300 "$LAB_TMP/iperf.json")"
	jq '.end.sum_received.bits_per_second / 1e6' "$LAB_TMP/iperf.json"
}

# busbw (GB/s) of ALGO at SIZE bytes, out-of-place, from arbench JSON FILE.
lab_busbw() { # file algo size
	jq -e --arg a "$2" --argjson s "$3" \
		'[.results[] | select(.algo == $a and .size == $s and .inplace == false) | .busbw][0]' \
		"$1"
}

# float comparison: lab_ge A B -> true when A >= B
lab_ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'
}

# busbw (GB/s) of ALGO at SIZE bytes from the fastest iteration, in place or not: the least
# noisy figure when 8 emulated hosts share 2 cores.  busbw = SIZE / t x 2(p-1)/p.
lab_best_busbw() { # file algo size
	jq -e --arg a "$2" --argjson s "$3" \
		'.ranks as $p | [.results[] | select(.algo == $a and .size == $s) | .time_us.min] | min
		 | $s / (. * 1e-6) * 2 * ($p - 1) / $p / 1e9' "$1"
}
