#!/usr/bin/env bash
# tests/sh/verbs_links.sh - `arbench links -t verbs`: verbs API conformance against an
# emulator (tests/verbs-emulator), not an RDMA test.  On 3 ranks (--all-ranks, one machine)
# every ordered pair is measured over the verbs transport ops at 1 KiB and 256 KiB (more than
# one 64 KiB ring slot), every figure positive, the JSON records transport "verbs".
set -u
. "$(dirname "$0")/verbs_lib.bash"
command -v jq >/dev/null || { echo "jq is needed"; exit 77; }
emu 3 120 "$ARB" links -t verbs --all-ranks -b 1K -e 256K -f 256 -n 2 -w 1 -J "$TMPD/v.json"
[ $rc -eq 0 ] || fail "arbench links -t verbs: exit $rc"
jq -e '.transport == "verbs" and (.links | length) == 12' "$TMPD/v.json" >/dev/null ||
	fail "expected 12 links over verbs"
jq -e 'all(.links[]; .bw_gbps > 0 and .lat_us > 0 and .bibw_gbps > 0)' "$TMPD/v.json" >/dev/null ||
	fail "a figure not positive"
echo "verbs_links (verbs API conformance against an emulator): 12 links over -t verbs"
