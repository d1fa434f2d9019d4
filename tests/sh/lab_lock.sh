#!/usr/bin/env bash
# lab_lock.sh - arlab's up/down lock cannot be turned against root: a symlink planted where the
# lock lives (the old world-writable /run/lock/arlab.lock, or /run/arlab.lock) is never followed,
# a lock file owned by someone else is refused (both exit 3, a runtime failure), a lock somebody holds is reported with the
# holder's PID, and the lock file ends up mode 0600.  Runs `arlab down` in a private mount and
# network namespace with a tmpfs over /run, so it never sees or touches a real lab (and needs
# no lab lock).  Root only; skipped (exit 77) elsewhere.
set -u
BUILD=${BUILD:-build}
ARLAB=${ARLAB:-$BUILD/arlab}
[ "$(id -u)" = 0 ] || { echo "skip: lab_lock needs root (a private mount namespace)"; exit 77; }
[ -x "$ARLAB" ] || { echo "FAIL: $ARLAB is not built"; exit 1; }
unshare -m -n --propagation private true 2>/dev/null ||
	{ echo "skip: lab_lock cannot create mount and network namespaces here"; exit 77; }
tmp=$(mktemp -d /tmp/lab_lock.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$ARLAB" "$tmp/arlab"
cp "$(dirname "$0")/../../bench/lab/testlib.sh" "$tmp/testlib.sh"
# the lab tests' lock (testlib.sh) must live where only root writes (this machine's directory)
test_lock=$(sed -n "s/^LAB_LOCK=//p" "$tmp/testlib.sh")
[ "$(stat -c %a:%u "${test_lock%/*}")" = 755:0 ] || {
	echo "FAIL: the lab test lock $test_lock is in a directory of mode $(stat -c %a:%u "${test_lock%/*}")"
	exit 1
}

# shellcheck disable=SC2016
unshare -m -n --propagation private env TMPD="$tmp" bash -c '
set -u
fail() { echo "FAIL: $*"; exit 1; }
arlab=$TMPD/arlab
mount -t tmpfs tmpfs /run || fail "cannot mount a tmpfs over /run"
mkdir -p /run/lock /run/netns && chmod 1777 /run/lock

# 1. symlinks planted at the lock paths: never followed, nothing created at their targets
ln -s "$TMPD/victim-new" /run/arlab.lock
ln -s "$TMPD/victim-old" /run/lock/arlab.lock
ARLAB_LOCK_WAIT=1 timeout 20 "$arlab" down >"$TMPD/out" 2>&1
rc=$?
[ -e "$TMPD/victim-new" ] || [ -e "$TMPD/victim-old" ] &&
	fail "arlab down followed a planted symlink and created $(ls "$TMPD"/victim-*)"
[ $rc -eq 3 ] || fail "arlab down with a symlink as its lock: exit $rc, expected 3: $(cat "$TMPD/out")"
grep -q symlink "$TMPD/out" || fail "the error does not say symlink: $(cat "$TMPD/out")"
echo "ok   planted symlink refused (exit $rc): $(cat "$TMPD/out")"
rm -f /run/arlab.lock /run/lock/arlab.lock

# 2. a lock file owned by another user: refused, not used
touch /run/arlab.lock && chown 65534 /run/arlab.lock
ARLAB_LOCK_WAIT=1 timeout 20 "$arlab" down >"$TMPD/out" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "not a regular file of ours" "$TMPD/out" ||
	fail "a lock file owned by uid 65534 was used (exit $rc): $(cat "$TMPD/out")"
echo "ok   foreign lock file refused (exit $rc): $(cat "$TMPD/out")"
rm -f /run/arlab.lock

# 3. the lock held by another process: the waiting arlab names it, gives up with exit 2
flock -o /run/arlab.lock sleep 30 &   # -o: the lock goes with flock itself when killed
holder=$!
for _ in $(seq 50); do grep -q FLOCK /proc/locks && break; sleep 0.1; done
ARLAB_LOCK_WAIT=1 timeout 20 "$arlab" down >"$TMPD/out" 2>&1
rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
[ $rc -eq 2 ] || fail "arlab down with the lock held: exit $rc, expected 2: $(cat "$TMPD/out")"
grep -q "held by PID $holder (flock -o" "$TMPD/out" ||
	fail "the waiting message does not name PID $holder: $(cat "$TMPD/out")"
echo "ok   holder named: $(head -n 1 "$TMPD/out")"

# 4. free: down runs, the lock file is ours, mode 0600
"$arlab" down >"$TMPD/out" 2>&1 || fail "arlab down with a free lock: $(cat "$TMPD/out")"
[ "$(stat -c %a:%u /run/arlab.lock)" = 600:0 ] ||
	fail "lock file is $(stat -c %a:%u /run/arlab.lock), expected 600:0"
echo "ok   free lock taken, /run/arlab.lock is 0600 root"

# 5. the lab tests and scripts (testlib.sh) lock in a directory only root writes, and taking
# their lock neither truncates nor creates anything through the old /run/lock path
echo keep >"$TMPD/victim-test"
ln -s "$TMPD/victim-test" /run/lock/arlab-test.lock
LAB_LOCK=$(sed -n "s/^LAB_LOCK=//p" "$TMPD/testlib.sh")
( exec 9>>"$LAB_LOCK"; flock -w 5 9 ) || fail "cannot take the lab test lock $LAB_LOCK"
[ "$(cat "$TMPD/victim-test")" = keep ] || fail "taking the lab test lock truncated a planted target"
echo "ok   lab test lock $LAB_LOCK in a root-only directory, planted /run/lock link untouched"
'
