# bench/lab/measurelib.sh - what the lab measurement scripts share; sourced (from the repository
# root) by ecmp-spread.sh, rails-measure.sh, planner-data.sh and bench/scripts/overlap-lab.sh,
# never run.  measure_setup NAME (needs BUILD and OUT): OUT made absolute, private copies of
# arlab and arbench in TMP (a concurrent `make` cannot take them away mid-run), ARLAB, ARBENCH,
# LAB_UP=0, and on every exit path the lab taken down when LAB_UP=1 and TMP removed.
# measure_lock: the lab tests' lock (LOCK, on fd 9), then 1 (lock released) when somebody
# else's lab is up.  load: the three load averages; cpu_busy: the CPUs' busy % over 2 s;
# wait_quiet: up to QUIET_WAIT s (60) until less than QUIET_BUSY % (25) busy, then BUSY, LOAD
# and WAITED (seconds).
# shellcheck shell=bash disable=SC2034
measure_setup() {
	MEASURE_NAME=$1
	mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
	TMP=$(mktemp -d "/tmp/$MEASURE_NAME.XXXXXX")
	# ARLAB=path picks another arlab (overlap-lab.sh: the one its calibration runs used)
	cp "${ARLAB:-$BUILD/arlab}" "$TMP/arlab" && cp "$BUILD/arbench" "$TMP/" || exit 1
	ARLAB=$TMP/arlab
	ARBENCH=$TMP/arbench
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
LOCK=${LOCK:-/run/arlab-test.lock}
measure_lock() {
	echo "$MEASURE_NAME: waiting for the lab lock $LOCK"
	mkdir -p "${LOCK%/*}"
	exec 9>>"$LOCK"
	flock -w 1800 9 || { echo "$MEASURE_NAME: lab lock busy for 30 minutes" >&2; exit 1; }
	if [ -e /run/arlab ] || ip netns list | grep -q '^arl-'; then
		echo "$MEASURE_NAME: somebody else's lab is up ($(cat /run/arlab/source 2>/dev/null)); not touching it" >&2
		exec 9>&-
		return 1
	fi
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
	WAITED=$((SECONDS - t0))
	LOAD=$(load)
}
