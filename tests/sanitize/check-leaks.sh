#!/usr/bin/env bash
# tests/sanitize/check-leaks.sh LOG... - read LeakSanitizer reports (ASAN_OPTIONS log_path=...,
# fast_unwind_on_malloc=0, LSAN_OPTIONS exitcode=0) and fail on any leak that does not lie
# wholly in a library listed in tests/sanitize/leak-allow.txt (see that file for the rule).
# Prints one line per tolerated library with the leaks and bytes it accounted for, and every
# leak not tolerated in full.  Exit 0 when every leak was tolerated, 1 otherwise.
set -u
allow=$(dirname "$0")/leak-allow.txt
[ $# -gt 0 ] || { echo "check-leaks: no reports (nothing leaked, or no log files)"; exit 0; }
awk -v allowfile="$allow" '
BEGIN {
	while ((getline line < allowfile) > 0) {
		if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
		split(line, f, /[ \t]+/); lib[++nlib] = f[1]
	}
}
function module(fr,   m) {
	# "(/lib/x86_64-linux-gnu/libmpi.so.40+0x81b7c)" -> "libmpi.so.40"
	if (match(fr, /\(([^()]*\/)?[^()\/]+\+0x[0-9a-f]+\)/)) {
		m = substr(fr, RSTART + 1, RLENGTH - 2); sub(/\+0x.*/, "", m); sub(/.*\//, "", m)
		return m
	}
	if (fr ~ /<unknown module>/) return "<unknown>"
	return ""
}
# our code: a frame with a source file of our tree, or (unsymbolized) an address in one of our
# programs, which are position-independent executables mapped at 0x55... or 0x56...
function ours(fr) {
	return fr ~ / (allreduce|bench|topo|planner|tests)\/[^ ]*\.c:[0-9]+/ ||
	       fr ~ / 0x5[56][0-9a-f]+ .*\((.*\/)?(arbench|arplan|arlab|test_[a-z_0-9]+|allreduce_check|hier_[a-z_]+|planner_[a-z_]+)\+0x/
}
function allowed(m,   i) {
	for (i = 1; i <= nlib; i++) if (index(m, lib[i]) == 1) return lib[i]
	return ""
}
function judge(   i, m, first_ours, blame, ok, a) {
	if (!nfr) return
	ok = 1; blame = ""; first_ours = 0
	for (i = 1; i <= nfr; i++) if (ours(fr[i])) { first_ours = i; break }
	last = first_ours ? first_ours - 1 : nfr
	for (i = 1; i <= last && ok; i++) {
		m = module(fr[i])
		if (fr[i] ~ /libsanitizer|interceptor/) continue
		if ((a = allowed(m)) != "") { if (blame == "") blame = a; continue }
		if (m == "<unknown>") continue                   # an unloaded plugin
		if (fr[i] ~ / (\.\.\/)*(libio|stdlib|string|debug|elf|dlfcn|nptl|misc|csu|sysdeps)\//) continue # libc, called by them
		if (m ~ /^lib(c|stdc\+\+)\.so/ || m ~ /^ld-linux/) continue
		if (m != "" && fr[i] !~ / in /) continue          # unsymbolized address of an unloaded plugin
		ok = 0
	}
	# the frame our code called must be the library itself
	if (ok && first_ours && allowed(module(fr[first_ours - 1])) == "") ok = 0
	if (ok && blame == "") ok = 0
	if (ok) { nleak[blame]++; bytes[blame] += size }
	else {
		bad++
		print "NOT TOLERATED: " head
		for (i = 1; i <= nfr && i <= 14; i++) print "    " fr[i]
	}
	nfr = 0
}
/(Direct|Indirect) leak of/ { judge(); head = $0; size = $4; nfr = 0; inleak = 1; next }
inleak && /^ *#[0-9]+ / { fr[++nfr] = $0; next }
inleak && /^ *$/ { judge(); inleak = 0; next }
END {
	judge()
	for (b in nleak) printf "tolerated: %-15s %4d leaks, %8d bytes\n", b, nleak[b], bytes[b]
	if (bad) { printf "check-leaks: %d leaks not tolerated\n", bad; exit 1 }
	print "check-leaks: every leak lies wholly in a tolerated library"
}' "$@"
