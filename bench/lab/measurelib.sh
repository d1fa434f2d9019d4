# bench/lab/measurelib.sh - what the lab measurement scripts share; sourced (from the repository
# root) by ecmp-spread.sh and rails-measure.sh, never run.  measure_setup NAME (needs BUILD and
# OUT): OUT made absolute, private copies of arlab and arbench in TMP (a concurrent `make` cannot
# take them away mid-run), ARLAB, LAB_UP=0, and on every exit path the lab taken down when
# LAB_UP=1 and TMP removed.  load: the three load averages; cpu_busy: the CPUs' busy % over 2 s;
# wait_quiet: up to QUIET_WAIT s (60) until less than QUIET_BUSY % (25) busy, then BUSY and LOAD.
measure_setup() {
	MEASURE_NAME=$1
	mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
	TMP=$(mktemp -d "/tmp/$MEASURE_NAME.XXXXXX")
	cp "$BUILD/arlab" "$BUILD/arbench" "$TMP/" || exit 1
	ARLAB=$TMP/arlab
	LAB_UP=0
	trap measure_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
}
measure_cleanup() {
	local rc=$?
	[ "$LAB_UP" = 1 ] && { "$ARLAB" down >/dev/null 2>&1 9>&- || echo "$MEASURE_NAME: arlab down failed" >&2; }
	rm -rf "$TMP"
	exit $rc
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_busy() {
	local a b ta=0 tb=0 i
	read -r -a a < <(grep '^cpu ' /proc/stat)
	sleep 2
	read -r -a b < <(grep '^cpu ' /proc/stat)
	for ((i = 1; i < ${#a[@]}; i++)); do ta=$((ta + a[i])) tb=$((tb + b[i])); done
	echo $((tb > ta ? 100 - 100 * ((b[4] + b[5]) - (a[4] + a[5])) / (tb - ta) : 0))
}
wait_quiet() {
	local t0=$SECONDS
	while :; do
		BUSY=$(cpu_busy)
		[ "$BUSY" -lt "${QUIET_BUSY:-25}" ] || [ $((SECONDS - t0)) -ge "${QUIET_WAIT:-60}" ] && break
		sleep 3
	done
	LOAD=$(load)
}
