#!/usr/bin/env bash
# tests/sh/report_anonymize.sh - `arplan report --anonymize` leaves nothing that names the
# measured machines: the fixtures are copied under a path holding a user name
# (.../home/fabric-eng/runs/), and the HTML, Markdown and CSV reports (with a topology and a
# calibration, and the --keep-plots files) are searched for every host name and its short
# form, the domain, the user name (which arbench's command line and Open MPI's package
# string hold), /home and the directory the files came from.  Without --anonymize the same
# search must find them (the test would notice a report that drops everything).  Exit 0 pass.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
D=tests/data/report
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
tmp=$(mktemp -d /tmp/report_anonymize.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
runs=$tmp/home/fabric-eng/runs
mkdir -p "$runs"
cp $D/results.json $D/links.json "$runs/"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
no() { fail=$((fail + 1)); echo "FAIL $*"; }

secrets=(fabric-eng /home "$runs" "$tmp" cluster.example.org example.org)
for h in $(jq -r '.hosts[]' $D/results.json $D/links.json | sort -u); do
	secrets+=("$h" "${h%%.*}")
done

report() { # FLAG FORMAT OUT
	"$arplan" report "$runs/results.json" "$runs/links.json" \
		--topo configs/topologies/lab-2leaf-1to1.yaml \
		--calib configs/calibrations/example-lab.yaml $1 --format "$2" -o "$3" >/dev/null
}

for fmt in html md csv; do
	if ! report "--anonymize --keep-plots $tmp/plots-$fmt" $fmt "$tmp/anon.$fmt"; then
		no "--anonymize --format $fmt: exit $?"
		continue
	fi
	found=0
	for s in "${secrets[@]}"; do
		if grep -rqiF -- "$s" "$tmp/anon.$fmt" "$tmp/plots-$fmt"; then
			no "--anonymize --format $fmt: '$s' is in the report: $(grep -rioF -- "$s" "$tmp/anon.$fmt" "$tmp/plots-$fmt" | head -n 2)"
			found=1
		fi
	done
	[ $found = 0 ] && ok "--anonymize --format $fmt: none of ${#secrets[@]} names, paths or the user"
	# still a report of those machines: the nodes under their new names, every link
	if [ "$fmt" != csv ] && ! grep -q 'node3' "$tmp/anon.$fmt"; then
		no "--anonymize --format $fmt: node3 missing"
	fi
	[ "$fmt" = csv ] && [ "$(grep -c '^link,' "$tmp/anon.csv")" = 12 ] && ok "--anonymize csv: 12 links, hosts renamed"
done
grep -q '<h3>Nodes of results file 1</h3>' "$tmp/anon.html" && ! grep -q 'Command (' "$tmp/anon.html" &&
	ok "--anonymize html: files named by number, no command line" || no "--anonymize html: file names or command"

# the same search finds them without --anonymize
if report "" html "$tmp/plain.html"; then
	missing=()
	for s in fabric-eng /home "$runs" r1n01.cluster.example.org; do
		grep -qF -- "$s" "$tmp/plain.html" || missing+=("$s")
	done
	[ ${#missing[@]} = 0 ] && ok "without --anonymize: host, user and path are shown" ||
		no "without --anonymize: ${missing[*]} not found (is the search looking at the right thing?)"
else
	no "report without --anonymize: exit $?"
fi
echo "report_anonymize: $pass passed, $fail failed"
[ $fail -eq 0 ]
