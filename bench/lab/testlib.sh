# bench/lab/testlib.sh - shell helpers shared by the lab tests (tests/sh/lab_*.sh) and
# bench/lab/compare-oversub.sh (which uses only lab_compare).  Sourced, not run.  Provides: lab_init (skip when this machine
# cannot host a lab, take the lab lock, start the test's time budget, clean up on every exit),
# lab_need (fail unless the programs are built: ARLAB, ARBENCH, ARPLAN),
# the shipped lab topologies and generators for others, an iperf3 measurement between two lab
# hosts, and busbw extraction from arbench JSON.
#
# Time: every lab test has a budget in seconds (lab_init BUDGET), counted from when it holds
# the lab lock (waiting for another lab user is not the test's time).  The budgets of the four
# tests add up to under 5 minutes.  `lab run` and `lab exec` get only the time left (a command
# still running at the deadline is stopped and the test fails, saying so); a test measures
# again only when the time left allows (lab_time_for); at the end each test prints its elapsed
# seconds and fails if it went over.

LAB_BUILD=${BUILD:-build}
ARLAB=${ARLAB:-$LAB_BUILD/arlab}
ARBENCH=${ARBENCH:-$LAB_BUILD/arbench}
ARPLAN=${ARPLAN:-$LAB_BUILD/arplan}
# in /run, which only root can write (the old /run/lock is world-writable: a planted symlink
# there made `exec 9>` truncate any file root can write); opened for append, never truncated
LAB_LOCK=/run/arlab-test.lock
LAB_TOPOLOGIES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../configs/topologies" && pwd)
LAB_TEST=$(basename "$0" .sh)
LAB_DEADLINE=

# Seconds left of the budget, at least 1 (timeout 0 would mean no limit).
lab_left() {
	local l=$((LAB_DEADLINE - SECONDS))
	echo $((l > 1 ? l : 1))
}

# True when SECONDS more fit in the budget: is there time to measure once more?
lab_time_for() { # seconds
	[ $((SECONDS + $1)) -le "$LAB_DEADLINE" ]
}

# arlab, without the lock's descriptor: processes it leaves running (a daemon in a namespace)
# must not keep the lock held after this script is gone.  `run` and `exec` are stopped at the
# budget's deadline (exit 124); up, down and status take a second or two and run to the end,
# so that a lab is never left half built.
lab() {
	local rc
	case ${1:-} in
	run | exec)
		if [ -n "$LAB_DEADLINE" ]; then
			timeout -k 5 "$(lab_left)" "$ARLAB" "$@" 9>&-
			rc=$?
			[ $rc -eq 124 ] && echo "$LAB_TEST: arlab $1 stopped at the end of the" \
				"test's ${LAB_BUDGET} s budget" >&2
			return $rc
		fi
		;;
	esac
	"$ARLAB" "$@" 9>&-
}

# One line, the same in every lab test for the same cause (tests/run.sh shows the last line).
lab_skip() { # reason
	echo "skip: $1"
	exit 77
}

lab_fail() { # message
	echo "FAIL: $*" >&2
	exit 1
}

# lab_need PROGRAM...: fail the test unless every PROGRAM (a path) is built.
lab_need() {
	local p
	for p in "$@"; do [ -x "$p" ] || lab_fail "$p is not built"; done
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
	if [ -n "$LAB_DEADLINE" ] && [ $rc -ne 77 ]; then
		local took=$((SECONDS - LAB_T0))
		echo "$LAB_TEST: ${took} s of its ${LAB_BUDGET} s budget" \
			"(after ${LAB_WAITED} s waiting for the lab lock)"
		if [ $rc -eq 0 ] && [ $took -gt "$LAB_BUDGET" ]; then
			echo "FAIL: $LAB_TEST took ${took} s, over its budget of ${LAB_BUDGET} s" >&2
			rc=1
		fi
	fi
	exit $rc
}

# Skip unless root with working network namespaces, veth, bridges and tbf and every command
# any lab test needs (the same checks and messages in every lab test, so they all skip alike);
# wait for the lab lock (one lab per machine: other engineers' `make check` or experiments may
# hold it); start the budget of BUDGET seconds; make a temporary directory; remove what we
# built on any exit.
lab_init() { # budget
	local c missing=
	[ "$(id -u)" = 0 ] || lab_skip "lab tests need root (network namespaces); run make check as root"
	for c in ip tc unshare flock timeout jq iperf3; do
		command -v "$c" >/dev/null || missing="$missing $c"
	done
	[ -z "$missing" ] ||
		lab_skip "lab tests need:$missing (apt-get install iproute2 util-linux coreutils jq iperf3)"
	lab_need "$ARLAB"
	mkdir -p "${LAB_LOCK%/*}"
	local t0=$SECONDS
	exec 9>>"$LAB_LOCK"
	flock -w 600 9 || lab_fail "another lab user held $LAB_LOCK for 10 minutes"
	LAB_WAITED=$((SECONDS - t0))
	local probe=arl-probe$$
	if ! ip netns add "$probe" 2>/dev/null; then
		lab_skip "lab tests cannot create network namespaces here (ip netns add failed: no CAP_SYS_ADMIN?)"
	fi
	if ! ip -n "$probe" link add arl-pa type veth peer name arl-pb 2>/dev/null ||
		! ip -n "$probe" link add arl-pbr type bridge 2>/dev/null ||
		! tc -n "$probe" qdisc add dev arl-pa root tbf rate 100mbit burst 64kb latency 20ms 2>/dev/null; then
		ip netns del "$probe"
		lab_skip "lab tests need veth, bridge and the tbf qdisc, which this kernel lacks"
	fi
	ip netns del "$probe"
	LAB_TMP=$(mktemp -d /tmp/arlab-test.XXXXXX)
	# private copies of the programs: a concurrent `make` relinking build/ must not take them
	# away half-way through (seen: the cleanup's `arlab down` found no arlab and left the lab up)
	cp "$ARLAB" "$LAB_TMP/arlab" || lab_fail "cannot copy $ARLAB"
	ARLAB=$LAB_TMP/arlab
	if [ -x "$ARBENCH" ]; then
		cp "$ARBENCH" "$LAB_TMP/arbench" || lab_fail "cannot copy $ARBENCH"
		ARBENCH=$LAB_TMP/arbench
	fi
	LAB_BUDGET=$1
	LAB_T0=$SECONDS
	LAB_DEADLINE=$((SECONDS + LAB_BUDGET))
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
	# a lab left behind by an earlier test run is removed; anybody else's lab is left alone
	if [ -e /run/arlab/source ] && grep -qs '^/tmp/arlab-test\.' /run/arlab/source; then
		lab down >/dev/null
	fi
	if [ -e /run/arlab ] || ip netns list | grep -q '^arl-'; then
		lab_skip "lab tests found a lab already up ($(cat /run/arlab/source 2>/dev/null || echo 'arl- namespaces')); not touching it"
	fi
}

# A topology shipped in configs/topologies (NAME.yaml), copied into LAB_TMP: the lab is built
# from the shipped text (so `arlab up` of the shipped file is then a no-op), and the copy's
# path marks the lab as this test's own for the cleanup.  Prints the file name.
lab_shipped() { # name
	local f=$LAB_TMP/$1.yaml
	cp "$LAB_TOPOLOGIES/$1.yaml" "$f" || lab_fail "no shipped topology $1"
	echo "$f"
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

# Per algorithm of arbench JSON files A and B (one size each; e.g. 1:1 and 2:1), one
# tab-separated line: algo, busbw in Mbit/s as the out-of-place mean over iterations in A and
# in B, ratio B/A, busbw of the fastest iteration (in place or not) in A and in B, ratio B/A.
lab_compare() { # a.json b.json
	jq -r -n --slurpfile a "$1" --slurpfile b "$2" '
	def mean($r; $algo): [$r[0].results[] | select(.algo == $algo and .inplace == false) | .busbw][0] * 8000;
	def best($r; $algo): $r[0] as $j | [$j.results[] | select(.algo == $algo) | .time_us.min] | min
		| ($j.results[0].size / (. * 1e-6) * 2 * ($j.ranks - 1) / $j.ranks * 8 / 1e6);
	$a[0].results | map(select(.inplace == false) | .algo)
	| .[] as $algo
	| [$algo, mean($a; $algo), mean($b; $algo), mean($b; $algo) / mean($a; $algo),
	   best($a; $algo), best($b; $algo), best($b; $algo) / best($a; $algo)]
	| @tsv'
}

# lab_compare as a table with a header, A and B labelled (e.g. 1:1 and 2:1).
lab_compare_table() { # a.json b.json label-a label-b
	printf '%-6s %10s %10s %8s %10s %10s %8s\n' algo "$3 mean" "$4 mean" ratio "$3 best" \
		"$4 best" ratio
	lab_compare "$1" "$2" |
		awk -F'\t' '{ printf "%-6s %10.1f %10.1f %8.2f %10.1f %10.1f %8.2f\n", $1, $2, $3, $4, $5, $6, $7 }'
}
