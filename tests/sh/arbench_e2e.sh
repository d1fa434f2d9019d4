#!/usr/bin/env bash
# tests/sh/arbench_e2e.sh - arbench end to end under mpirun: 1..4 ranks over every algorithm
# with checks on, every type and op at small sizes, the table's columns and footer, the JSON
# file (valid, documented keys, one entry per row and placement), --anonymize, a run killed
# part-way leaving valid JSON, a corrupted result giving exit 1, --min-busbw giving exit 1.
set -u
. "$(dirname "$0")/arbench_lib.bash"

check_table() { # np: columns, rows, every #wrong 0, footer OK
	grep -q '^# *size *count *type *redop *algo *time *algbw *busbw *#wrong *time *algbw *busbw *#wrong' "$out" ||
		fail "np=$1: column header missing"
	grep -q '(B) *(elements) .*(us) *(GB/s) *(GB/s)' "$out" || fail "np=$1: units line missing"
	rows=$(grep -vc '^#' "$out")
	[ "$rows" -gt 0 ] || fail "np=$1: no rows"
	bad=$(grep -v '^#' "$out" | awk 'NF != 13 || $9 != 0 || $13 != 0' | head -3)
	[ -z "$bad" ] || fail "np=$1: wrong values or malformed rows: $bad"
	grep -q '^# Out of bounds values : 0 OK$' "$out" || fail "np=$1: footer not OK"
	grep -q '^# Avg bus bandwidth' "$out" || fail "np=$1: no average busbw"
}

for np in 1 2 3 4; do
	arb $np -b 8 -e 256K -f 8 -n 3 -w 1 -c 1 -A all -J "$TMPD/r$np.json"
	[ $rc -eq 0 ] || fail "np=$np: exit $rc"
	check_table $np
	algos=$(grep -v '^#' "$out" | awk '{print $5}' | sort -u | wc -l)
	[ "$algos" -ge 4 ] || fail "np=$np: only $algos algorithms ran"
	j=$TMPD/r$np.json
	python3 -m json.tool "$j" >/dev/null || fail "np=$np: invalid JSON"
	[ "$(json_get "$j" "d['version']")" = 1 ] || fail "np=$np: version"
	[ "$(json_get "$j" "d['ranks']")" = $np ] || fail "np=$np: ranks"
	[ "$(json_get "$j" "len(d['results'])")" = $((2 * rows)) ] || fail "np=$np: results != 2 x rows"
	keys=$(json_get "$j" "sorted(k for k in ['version','command','arbench_version','mpi_library','ranks','nodes','ranks_per_node','hosts','nodes_info','results'] if k not in d)")
	[ "$keys" = "[]" ] || fail "np=$np: missing top-level keys $keys"
	keys=$(json_get "$j" "sorted(set(k for r in d['results'] for k in ['size','count','type','op','algo','transport','inplace','time_us','algbw','busbw','wrong','slowest_rank'] if k not in r))")
	[ "$keys" = "[]" ] || fail "np=$np: missing result keys $keys"
	[ "$(json_get "$j" "all(set(r['time_us'])=={'min','p50','avg','p99','max'} and r['time_us']['min']<=r['time_us']['p50']<=r['time_us']['max'] and r['wrong']==0 and 0<=r['slowest_rank']<$np for r in d['results'])")" = True ] ||
		fail "np=$np: bad time_us / wrong / slowest_rank"
	[ "$(json_get "$j" "sorted(d['nodes_info'][0])")" = "['cores', 'cpu_model', 'gpus', 'name', 'nics', 'numa_nodes', 'pus']" ] ||
		fail "np=$np: nodes_info keys"
	# the cluster map: one node here, ranks numbered in order on it
	[ "$(json_get "$j" "d['node_of_rank'] == [0]*$np and d['local_rank'] == list(range($np)) and d['ranks_per_node'] == [$np]")" = True ] ||
		fail "np=$np: node_of_rank / local_rank"
	# the footer compares every algorithm with the mpi baseline (no busbw on one rank)
	[ "$(grep -c '^# Avg bus bandwidth [a-z]* *: .* GB/s ([0-9.]*x mpi)$' "$out")" = $((np > 1 ? algos - 1 : 0)) ] ||
		fail "np=$np: footer ratios against mpi"
	# busbw = algbw * 2(p-1)/p in every entry
	[ "$(json_get "$j" "all(abs(r['busbw'] - r['algbw']*2*($np-1)/$np) <= 2e-6 + 1e-9*r['busbw'] for r in d['results'])")" = True ] ||
		fail "np=$np: busbw formula"
	echo "ok: np=$np, $rows rows, $algos algorithms"
done

# every type and op at small sizes, checked
arb 3 -b 8 -e 4K -f 8 -n 1 -w 0 -d all -o all -A all -q
[ $rc -eq 0 ] || fail "all types/ops: exit $rc"
check_table 3
[ "$(grep -v '^#' "$out" | awk '{print $3"/"$4}' | sort -u | wc -l)" -eq 35 ] || fail "not 7 types x 5 ops"
echo "ok: 7 types x 5 ops on 3 ranks, all exact"

# a wrong result is counted and gives exit 1
ARBENCH_TEST_CORRUPT_RANK=1 arb 2 -b 1K -e 1K -n 1 -w 0 -A ring
[ $rc -eq 1 ] || fail "corrupted result: exit $rc, expected 1"
grep -q '^# Out of bounds values : [1-9][0-9]* FAILED' "$out" || fail "corruption not reported"
echo "ok: a corrupted result exits 1"

# --anonymize: no hostname anywhere in the file (nor in the table)
host=$(hostname)
arb 2 -b 8 -e 64 -n 1 -w 0 --anonymize -J "$TMPD/anon.json" -A ring
[ $rc -eq 0 ] || fail "anonymize: exit $rc"
python3 -m json.tool "$TMPD/anon.json" >/dev/null || fail "anonymize: invalid JSON"
! grep -qF "$host" "$TMPD/anon.json" || fail "hostname '$host' left in the JSON"
! grep -qF "$host" "$out" || fail "hostname '$host' left in the table"
[ "$(json_get "$TMPD/anon.json" "d['hosts']")" = "['node0']" ] || fail "hosts not node0"
# and without it the hostname is there, so the check above can fail
arb 2 -b 8 -e 64 -n 1 -w 0 -J "$TMPD/plain.json" -A ring
grep -qF "\"$host\"" "$TMPD/plain.json" || fail "hostname missing without --anonymize"
echo "ok: --anonymize"

# -R 1: node-shared buffers (hier reads its peers' buffers in place), every result still exact
arb 3 -b 1K -e 4M -f 16 -n 2 -w 1 -c 1 -A hier,ring,mpi -R 1 -J "$TMPD/reg.json"
[ $rc -eq 0 ] || fail "-R 1: exit $rc"
check_table 3
grep -q 'buffers: node-shared (-R 1)' "$out" || fail "-R 1: not in the run description"
[ "$(json_get "$TMPD/reg.json" "d['settings']['shared_buffers']")" = True ] || fail "-R 1: settings.shared_buffers"
echo "ok: -R 1 (node-shared buffers), all exact"

# a run killed part-way leaves valid JSON with the sizes it finished
j=$TMPD/killed.json
timeout -k 5 120 "$MPIRUN" -q --oversubscribe -np 2 "$ARB" -b 64K -e 256M -i 64K -n 3 -w 0 -c 0 \
	-A ring -J "$j" --quiet >"$out" 2>"$err" &
mpipid=$!
n=0
for _ in $(seq 1 300); do
	sleep 0.1
	n=$( [ -f "$j" ] && json_get "$j" "len(d['results'])" 2>/dev/null || echo 0)
	[ "$n" -ge 4 ] && break
done
[ "$n" -ge 4 ] || { kill -9 $mpipid; fail "JSON never held 4 results"; }
ranks=$(pgrep -f "$ARB -b 64K -e 256M" | grep -v "^$mpipid$" | tr '\n' ' ')
[ -n "$ranks" ] || fail "no rank processes found"
kill -9 $ranks $mpipid 2>/dev/null
wait $mpipid 2>/dev/null
sleep 0.5
python3 -m json.tool "$j" >/dev/null || fail "killed run: invalid JSON"
m=$(json_get "$j" "len(d['results'])")
[ "$m" -ge "$n" ] || fail "killed run: $m results, had seen $n"
[ "$(json_get "$j" "[r['size'] for r in d['results'][:4]]")" = "[65536, 65536, 131072, 131072]" ] ||
	fail "killed run: wrong first sizes"
[ "$(json_get "$j" "len(d['results']) % 2")" = 0 ] || fail "killed run: half a size written"
grep -q '^ *[0-9]' "$out" || fail "killed run: no table rows printed before the kill"
echo "ok: killed run left valid JSON with $m results"

# --min-busbw above anything reachable: exit 1 with one message
arb 2 -b 1M -e 1M -n 2 -w 0 -A ring --min-busbw 1e9
[ $rc -eq 1 ] || fail "--min-busbw 1e9: exit $rc, expected 1"
[ "$(grep -c 'below --min-busbw' "$err")" -eq 1 ] || fail "--min-busbw: message not printed once"
arb 2 -b 1M -e 1M -n 2 -w 0 -A ring --min-busbw 0
[ $rc -eq 0 ] || fail "--min-busbw 0: exit $rc"
echo "ok: --min-busbw"

# --help and --version
arb 2 --help
[ $rc -eq 0 ] || fail "--help: exit $rc"
grep -q '^Usage: ' "$out" && grep -q 'default 8' "$out" && grep -q 'ARBENCH_TEST_STALL_RANK' "$out" ||
	fail "--help text"
[ "$(grep -c '^Usage: ' "$out")" -eq 1 ] || fail "--help printed by more than one rank"
arb 1 --version
[ $rc -eq 0 ] && grep -q '^arbench [0-9]' "$out" || fail "--version"
echo "ok: --help, --version"
echo "arbench_e2e: all passed"
