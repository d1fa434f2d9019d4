#!/usr/bin/env bash
# tests/sh/report_browser.sh - `arplan report`'s HTML in a real browser.  Two pages: the
# results, links, lab topology and calibration fixtures (tests/data/report/, every chart), and
# hostile.json (host, CPU, NIC and algorithm names made of markup).  Each must pass HTML Tidy
# with no warning; then tests/sh/report_browser.py validates it with html5lib in strict mode,
# opens it in headless Chromium (through chromedriver and Selenium), checks that every chart
# is an inline SVG with its data points drawn, that nothing is fetched, no script or event
# handler exists and the console stays empty, and saves a screenshot of the first page to
# $BUILD/test-logs/report.png.
# Needs the Debian packages chromium, chromium-driver, python3-selenium, python3-html5lib,
# tidy (make deps).  Exit 0 pass, 1 fail.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
D=tests/data/report
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
for f in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x $f ] || { echo "FAIL: $f missing (make deps installs chromium chromium-driver)"; exit 1; }
done
/usr/bin/python3 -c 'import selenium, html5lib' || {
	echo "FAIL: python3-selenium or python3-html5lib missing (make deps)"; exit 1; }
command -v tidy >/dev/null || { echo "FAIL: tidy missing (make deps)"; exit 1; }
tmp=$(mktemp -d /tmp/report_browser.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$BUILD/test-logs"

"$arplan" report $D/results.json $D/links.json --topo configs/topologies/lab-2leaf-1to1.yaml \
	--calib configs/calibrations/example-lab.yaml --expect 0.01 -o "$tmp/report.html" ||
	{ echo "FAIL: arplan report exited $?"; exit 1; }
"$arplan" report $D/hostile.json -o "$tmp/hostile.html" ||
	{ echo "FAIL: arplan report (hostile.json) exited $?"; exit 1; }
# a second validator: HTML Tidy must have nothing to say (exit 0: no warning, no error)
for page in report hostile; do
	out=$(tidy -q -e "$tmp/$page.html" 2>&1) ||
		{ echo "FAIL: tidy on $page.html: $out"; exit 1; }
	echo "ok   $page.html: tidy -q -e reports nothing"
done
shot=$BUILD/test-logs/report.png
case $shot in /*) ;; *) shot=$PWD/$shot ;; esac
timeout -k 5 120 /usr/bin/python3 tests/sh/report_browser.py --screenshot "$shot" \
	--shows-text '<img src=x onerror=console.error("xss")>' \
	"$tmp/report.html:busbw,latency,spread,links,predicted" \
	"$tmp/hostile.html:busbw,latency,spread,links"
