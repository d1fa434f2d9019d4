#!/usr/bin/env bash
# tests/sh/arbench_links.sh - `arbench links` under mpirun on one machine (--all-ranks: every
# rank is a participant), without the lab: at p = 2, 3, 4 every ordered pair of ranks is
# measured at every size (the matrix is complete), every bandwidth and latency is positive,
# the JSON parses with jq and has the documented fields; each pattern measures the links it
# should; --fail-below exits 1 when a link is flagged (threshold 1: half of them are below
# the median); one node without --all-ranks is bad input (exit 2); --anonymize leaves no
# hostname; -q keeps stderr empty; a peer stalled past --timeout ends the run with exit 3
# naming both ranks; a run over 3 s shows progress with the time left on stderr (not with -q,
# never on stdout); the all-reduce sweep ends with its summary.
set -u
. "$(dirname "$0")/arbench_lib.bash"
command -v jq >/dev/null || { echo "jq is needed"; exit 77; }

for np in 2 3 4; do
	j=$TMPD/links$np.json
	arb $np links --all-ranks -b 1K -e 64K -f 64 -n 3 -w 1 -J "$j"
	[ $rc -eq 0 ] || fail "np=$np: exit $rc"
	grep -q '^# *size *src *dst *src_host *dst_host *bw *median *bw/med *bibw *lat *flagged' "$out" ||
		fail "np=$np: column header missing"
	grep -q '(B) *(rank) *(rank) *(GB/s) *(GB/s) *(GB/s) *(us)' "$out" || fail "np=$np: units missing"
	grep -q '^# one-way bandwidth at 64 KiB (GB/s = 1e9 B/s' "$out" || fail "np=$np: no bandwidth matrix"
	grep -q '^# latency at 1 KiB (us' "$out" || fail "np=$np: no latency matrix"
	grep -q '^# Summary: ' "$out" || fail "np=$np: no summary"
	jq -e . "$j" >/dev/null || fail "np=$np: JSON does not parse"
	jq -e '.version == 1 and .ranks == '$np' and (.hosts | length) == 1 and .links_settings.pattern == "all"' "$j" >/dev/null ||
		fail "np=$np: top-level fields"
	# every ordered pair (src != dst) at both sizes, exactly once
	want=$((np * (np - 1) * 2))
	[ "$(jq '.links | length' "$j")" -eq $want ] || fail "np=$np: $(jq '.links | length' "$j") links, expected $want"
	[ "$(jq '[.links[] | [.src, .dst, .size]] | unique | length' "$j")" -eq $want ] || fail "np=$np: a pair twice"
	jq -e '[.links[] | select(.src == .dst)] | length == 0' "$j" >/dev/null || fail "np=$np: a self link"
	jq -e '[.links[] | .size] | unique == [1024, 65536]' "$j" >/dev/null || fail "np=$np: sizes"
	jq -e 'all(.links[]; (keys - ["bibw_gbps"]) == ["bw_gbps","dst","dst_host","flagged","lat_us","size","src","src_host"])' "$j" >/dev/null ||
		fail "np=$np: link fields"
	jq -e 'all(.links[]; .bw_gbps > 0 and .lat_us > 0 and .bibw_gbps > 0 and (.flagged | type) == "boolean" and (.src_host | type) == "string")' "$j" >/dev/null ||
		fail "np=$np: a bandwidth or latency not positive"
	jq -e '[.links[] | select(.size == 1024 and .flagged)] | length == 0' "$j" >/dev/null ||
		fail "np=$np: a link flagged at 1 KiB (below the judged sizes)"
	# the table has one row per link
	[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ ' "$out")" -eq $want ] || fail "np=$np: table rows"
	echo "ok: np=$np, $want links, all positive"
done

# patterns: which directed links each measures on 4 ranks
for case in "ring 8" "random-ring 8" "shift 12" "bisection 4"; do
	set -- $case
	arb 4 links --all-ranks --pattern "$1" -b 64K -e 64K -n 2 -w 1 -J "$TMPD/p.json"
	[ $rc -eq 0 ] || fail "--pattern $1: exit $rc"
	n=$(jq '.links | length' "$TMPD/p.json")
	[ "$n" -eq "$2" ] || fail "--pattern $1: $n links, expected $2"
	jq -e 'all(.links[]; .bw_gbps > 0 and .lat_us > 0)' "$TMPD/p.json" >/dev/null || fail "--pattern $1: values"
	echo "ok: --pattern $1, $n links"
done
grep -q '^#   bisection at 64 KiB: ' "$out" || fail "bisection total missing"
jq -e '[.links[] | [.src, .dst]] == [[0,2],[2,0],[1,3],[3,1]]' "$TMPD/p.json" >/dev/null || fail "bisection pairs"

# --fail-below: with --threshold 1 the links below the median are flagged, exit 1
arb 4 links --all-ranks -b 64K -e 64K -n 2 -w 1 --threshold 1 --fail-below
[ $rc -eq 1 ] || fail "--fail-below: exit $rc, expected 1"
grep -q '^#   flagged: [0-9]* links below 1.00 x the median' "$out" || fail "--fail-below: no flagged list"
grep -q 'below 1.00 x the median (--fail-below)' "$err" || fail "--fail-below: no message"
# and without --fail-below the same run exits 0
arb 4 links --all-ranks -b 64K -e 64K -n 2 -w 1 --threshold 1
[ $rc -eq 0 ] || fail "flagged links without --fail-below: exit $rc, expected 0"
echo "ok: --fail-below"

# one node, no --all-ranks: nothing between nodes to measure
arb 2 links
[ $rc -eq 2 ] || fail "one node: exit $rc, expected 2"
grep -q 'all 2 ranks are on one node' "$err" || fail "one node: message"
echo "ok: one node is bad input"

# --anonymize; -q leaves stderr empty
host=$(hostname)
arb 2 links --all-ranks -b 64K -e 64K -n 1 -w 0 --anonymize -q -J "$TMPD/anon.json"
[ $rc -eq 0 ] || fail "anonymize: exit $rc"
! grep -qF "$host" "$TMPD/anon.json" "$out" || fail "hostname '$host' left"
jq -e 'all(.links[]; .src_host == "node0" and .dst_host == "node0")' "$TMPD/anon.json" >/dev/null || fail "anonymized hosts"
[ ! -s "$err" ] || fail "-q: stderr not empty"
arb 2 links --all-ranks -b 64K -e 64K -n 1 -w 0 -J "$TMPD/plain.json"
jq -e --arg h "$host" '.links[0].src_host == $h' "$TMPD/plain.json" >/dev/null || fail "hostname missing without --anonymize"
echo "ok: --anonymize"

# a stalled peer: with --timeout the transfer fails after 1 s, exit 3, naming rank and peer
ARBENCH_TEST_STALL_RANK=1 ARBENCH_TEST_STALL_SEC=8 arb 2 links --all-ranks -b 64K -e 64K -n 1 -w 0 --timeout 1
[ $rc -eq 3 ] || fail "stalled peer: exit $rc, expected 3"
grep -q 'arbench: rank 0 (.*): receive from rank 1 (.*) at 64 KiB failed: timed out' "$err" ||
	fail "stalled peer: no message naming rank 0, rank 1 and the receive"
echo "ok: a stalled peer is named (exit 3)"

# a run longer than 3 s (rank 1 stalls 4 s in the first round) shows progress with the time
# left on stderr, the table and the JSON stay whole; -q keeps it quiet
ARBENCH_TEST_STALL_RANK=1 ARBENCH_TEST_STALL_SEC=4 arb 2 links --all-ranks -b 1K -e 32K -f 2 -n 1 -w 0 -J "$TMPD/prog.json"
[ $rc -eq 0 ] || fail "progress run: exit $rc"
grep -qE '^\[size [2-6]/6 [0-9.]+ KiB, round 1/1\] [0-9]+%, about [0-9]+ (s|min) left$' "$err" ||
	fail "no progress line with the time left on stderr"
! grep -q '^\[' "$out" || fail "progress on stdout"
[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ ' "$out")" -eq 12 ] || fail "progress run: table rows"
jq -e '(.links | length) == 12' "$TMPD/prog.json" >/dev/null || fail "progress run: JSON"
ARBENCH_TEST_STALL_RANK=1 ARBENCH_TEST_STALL_SEC=4 arb 2 links --all-ranks -b 1K -e 32K -f 2 -n 1 -w 0 -q
[ $rc -eq 0 ] || fail "quiet progress run: exit $rc"
! grep -q '^\[' "$err" || fail "-q: progress on stderr"
echo "ok: progress with the time left on stderr, none with -q"

# the all-reduce sweep ends with the summary per size band
arb 2 -b 2K -e 2M -f 32 -n 2 -w 1 -A ring,mpi
[ $rc -eq 0 ] || fail "sweep: exit $rc"
grep -q '^# Summary: best algorithm per size band' "$out" || fail "sweep: no summary"
for band in 'small  (< 64 KiB)' 'medium (64 KiB - 1 MiB)' 'large  (>= 1 MiB)'; do
	grep -qF "#   $band" "$out" || fail "sweep: no '$band' line"
done
echo "ok: sweep summary"
echo "arbench_links: passed"
