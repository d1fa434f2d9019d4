#!/usr/bin/env bash
# tests/fuzz/run.sh - run every libFuzzer target (or those named) for FUZZ_SECONDS each and
# print one line per target: runs, seconds, corpus size, and OK or what it found.
#   usage: [BUILD=build] [FUZZ_SECONDS=600] bash tests/fuzz/run.sh [fuzz_NAME...]
# Targets are $BUILD/fuzz/bin/fuzz_* (make fuzz-build).  Each target's corpus lives in
# $BUILD/fuzz/corpus/NAME and grows from run to run; its seeds (the files its source names on
# its "fuzz-seeds:" line) are copied in first.  A crash, hang (over 60 s for one input: a
# loaded machine made the sanitized summary of a 256-GPU input take 27 s), leak
# or out-of-memory (2 GiB) leaves the input in $BUILD/fuzz/crashes/NAME/ (rerun it with
# `$BUILD/fuzz/bin/NAME FILE`) and makes this script exit 1.  Log: $BUILD/fuzz/NAME.log.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
secs=${FUZZ_SECONDS:-600}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi
fail=0
for t in "${targets[@]}"; do
	bin=$BUILD/fuzz/bin/$t src=tests/fuzz/$t.c
	corpus=$BUILD/fuzz/corpus/$t crashes=$BUILD/fuzz/crashes/$t log=$BUILD/fuzz/$t.log
	[ -x "$bin" ] || { echo "fuzz $t: $bin not built (make fuzz-build)"; fail=1; continue; }
	mkdir -p "$corpus" "$crashes"
	# seeds: the globs on the source's "// fuzz-seeds:" line
	seeds=$(sed -n 's|^// fuzz-seeds:\(.*\)|\1|p' "$src")
	n_seeds=0
	for g in $seeds; do
		for f in $g; do
			[ -f "$f" ] || continue
			# named after the path, so a seed is copied once and never clobbers another
			cp "$f" "$corpus/seed-$(printf '%s' "$f" | tr '/' '_')" && n_seeds=$((n_seeds + 1))
		done
	done
	t0=$SECONDS
	"$bin" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	took=$((SECONDS - t0))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	size=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		echo "fuzz $t: OK, ${runs:-?} runs in $took s, corpus $size files ($n_seeds seeds)"
	else
		fail=1
		what=$(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer|^Assertion|abort' "$log")
		echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} runs in $took s: $what"
		echo "  input kept in $crashes/; log $log; last lines:"
		tail -n 25 "$log" | sed 's/^/  | /'
	fi
done
exit $fail
