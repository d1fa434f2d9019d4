#!/usr/bin/env bash
# tests/sh/planner_ecmp_sample.sh - `arplan predict --ecmp sample:N` gives the spread of times that
# ECMP hashing causes.  On the 2-leaf x 2-spine lab topology (4 hosts per leaf, 1:1), rhd's
# cross-spine steps collide or not depending on the hash: its draws are ordered (best <= p50 <=
# p99 <= worst), the best draw is as fast as spreading every flow (a balanced hash exists), the
# worst is clearly slower (>= 1.2x); two connections per flow (--conns 2), each hashed on its
# own, make a bad draw less likely (the mean draw is faster than with one connection); the same command prints the same figures (seeded).
# With one spine there is no choice: every draw is the spread figure.  Bad values exit 2 with
# one line.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
T2=configs/topologies/lab-2leaf-2spine.yaml
T1=configs/topologies/lab-2leaf-1to1.yaml
fail() { echo "FAIL: $*"; exit 1; }
pred() { "$arplan" predict --size 8M --algo ring,rhd --json "$@"; }

j1=$(pred --topo $T2 --ecmp sample:300) || fail "predict --ecmp sample:300 failed"
j2=$(pred --topo $T2 --ecmp sample:300 --conns 2) || fail "predict --conns 2 failed"
[ "$j2" = "$(pred --topo $T2 --ecmp sample:300 --conns 2)" ] || fail "two identical runs differ"
echo "$j1" | jq -e '.ecmp == "sample" and .samples == 300 and .conns == 1 and
	(.predictions | length) == 2 and (.predictions[0].samples_us | length) == 300' >/dev/null ||
	fail "JSON layout: $(echo "$j1" | jq -c 'del(.predictions)')"
for j in "$j1" "$j2"; do
	echo "$j" | jq -e '.predictions[] | select(.algo == "rhd")
		| .best_us <= .p50_us and .p50_us <= .p99_us and .p99_us <= .worst_us
		and (.best_us / .spread_us - 1 | fabs) < 0.01 and .worst_us >= 1.2 * .spread_us' >/dev/null ||
		fail "rhd on 2 spines: $(echo "$j" | jq -c '.predictions[] | select(.algo == "rhd") | del(.samples_us)')"
done
mean='.predictions[] | select(.algo == "rhd") | .samples_us | add / length'
m1=$(echo "$j1" | jq "$mean")
m2=$(echo "$j2" | jq "$mean")
awk -v a="$m1" -v b="$m2" 'BEGIN { exit !(b < 0.97 * a) }' || fail "rhd mean draw: 1 connection $m1 us, 2 connections $m2 us: expected 2 to be faster"
echo "rhd 8 MiB on 2 spines: $(echo "$j1" | jq -r '.predictions[] | select(.algo == "rhd") | "spread \(.spread_us | round) us, p50 \(.p50_us | round), worst \(.worst_us | round)"'), mean $(printf %.0f "$m1") us (1 connection), $(printf %.0f "$m2") us (2)"

pred --topo $T1 --ecmp sample:50 | jq -e '[.predictions[] | .best_us == .worst_us and
	(.worst_us / .spread_us - 1 | fabs) < 1e-9] | all' >/dev/null || fail "one spine: draws differ"
"$arplan" predict --topo $T2 --size 8M --algo rhd --ecmp sample:20 | grep -q '^# arplan predict: .*ECMP sample: 20 hash draws' ||
	fail "table header"

for bad in "--ecmp sample:0" "--ecmp sample:x" "--ecmp sample:" "--conns 0" "--ecmp sample:5 --engine closed"; do
	# shellcheck disable=SC2086
	err=$("$arplan" predict --topo $T2 --size 1M $bad 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$bad': exit $rc, $err"
	echo "ok   $bad: $err"
done
echo "ecmp sample ok"
