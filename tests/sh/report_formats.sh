#!/usr/bin/env bash
# tests/sh/report_formats.sh - what `arplan report` says, against an independent oracle: a
# Python reading of the same fixtures (tests/data/report/) recomputes every median per
# algorithm and size, the best algorithm per band of sizes, the peak busbw and the links, and
# the CSV and Markdown must agree; --expect passes and fails (exit 1, report still written);
# --topo/--calib predict every modelled algorithm and not mpi; --keep-plots leaves scripts
# that gnuplot redraws; hostile strings stay inert in Markdown and CSV; -o - writes to
# standard output.  Exit 0 pass, 1 fail.
set -u
BUILD=${BUILD:-build}
arplan=$BUILD/arplan
D=tests/data/report
T=configs/topologies/lab-2leaf-1to1.yaml
C=configs/calibrations/example-lab.yaml
[ -x "$arplan" ] || { echo "no $arplan: build first"; exit 1; }
tmp=$(mktemp -d /tmp/report_formats.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
no() { fail=$((fail + 1)); echo "FAIL $*"; }

# run EXPECTED_EXIT ARGS...: arplan report, its exit status checked
run() {
	local want=$1 rc
	shift
	"$arplan" report "$@" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	if [ $rc -ne "$want" ]; then
		no "arplan report $*: exit $rc, expected $want: $(cat "$tmp/stderr")"
		return 1
	fi
	return 0
}

run 0 $D/results.json $D/links.json --format csv -o "$tmp/r.csv" &&
	run 0 $D/results.json $D/links.json --format md -o "$tmp/r.md" &&
	run 0 $D/results.json $D/links.json --topo $T --calib $C --format csv -o "$tmp/p.csv" &&
	run 0 $D/hostile.json --format csv -o "$tmp/h.csv" &&
	run 0 $D/hostile.json --format md -o "$tmp/h.md" &&
	/usr/bin/python3 - "$tmp" $D <<'EOF'
import csv, json, statistics, sys

tmp, data = sys.argv[1], sys.argv[2]
bad = 0

def check(cond, what):
    global bad
    print(("ok   " if cond else "FAIL ") + what)
    bad += not cond

def close(a, b):
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-12)

res = json.load(open(f"{data}/results.json"))
groups = {}
for r in res["results"]:
    groups.setdefault((r["algo"], r["size"]), []).append(r)
algos = list(dict.fromkeys(r["algo"] for r in res["results"]))
oracle = {}
for (a, s), rows in groups.items():
    t = [r["time_us"] for r in rows]
    oracle[(a, s)] = dict(
        busbw=statistics.median(r["busbw"] for r in rows),
        p50=statistics.median(x["p50"] for x in t), p99=statistics.median(x["p99"] for x in t),
        spread=statistics.median(x["p99"] / x["p50"] for x in t),
        min=min(x["min"] for x in t), max=max(x["max"] for x in t), rows=len(rows))

# CSV: one point per algorithm and size, in order, with the oracle's medians
rows = list(csv.DictReader(open(f"{tmp}/r.csv", newline="")))
points = [r for r in rows if r["record"] == "point"]
want_order = sorted(oracle, key=lambda k: (algos.index(k[0]), k[1]))
check([(p["algo"], int(p["size_B"])) for p in points] == want_order,
      f"csv: {len(points)} points, by algorithm (first seen) then size")
mism = [p for p in points if not all((
    close(float(p["busbw_GBps"]), oracle[(p["algo"], int(p["size_B"]))]["busbw"]),
    close(float(p["time_p50_us"]), oracle[(p["algo"], int(p["size_B"]))]["p50"]),
    close(float(p["time_p99_us"]), oracle[(p["algo"], int(p["size_B"]))]["p99"]),
    close(float(p["p99_over_p50"]), oracle[(p["algo"], int(p["size_B"]))]["spread"]),
    close(float(p["time_min_us"]), oracle[(p["algo"], int(p["size_B"]))]["min"]),
    close(float(p["time_max_us"]), oracle[(p["algo"], int(p["size_B"]))]["max"]),
    int(p["rows"]) == oracle[(p["algo"], int(p["size_B"]))]["rows"]))]
check(not mism, f"csv: medians, min, max and row counts match the oracle ({len(mism)} differ)")
check(all(p["predicted_us"] == "" for p in points), "csv: no prediction without --topo")

links = json.load(open(f"{data}/links.json"))["links"]
big = max(l["size"] for l in links)
want = sorted((l["src"], l["dst"], l["bw_gbps"], l["flagged"]) for l in links if l["size"] == big)
got = sorted((int(r["src_rank"]), int(r["dst_rank"]), float(r["link_bw_GBps"]),
              r["flagged"] == "1") for r in rows if r["record"] == "link")
check(got == want, f"csv: the {len(want)} links at the largest size ({big} B), flags kept")

# Markdown summary: the best algorithm per band (fastest median time at most sizes)
md = open(f"{tmp}/r.md").read()
bands = [("small (below 64 KiB)", 0, 64 << 10), ("medium (64 KiB up to 8 MiB)", 64 << 10, 8 << 20),
         ("large (8 MiB and up)", 8 << 20, 1 << 62)]
for label, lo, hi in bands:
    sizes = sorted({s for (_, s) in oracle if lo <= s < hi})
    wins = {}
    for s in sizes:
        best = min((oracle[(a, s)]["p50"], algos.index(a), a) for a in algos if (a, s) in oracle)
        wins[best[2]] = wins.get(best[2], 0) + 1
    top = max(wins.values())
    winner = next(a for a in algos if wins.get(a) == top)
    line = f"- best, {label}: {winner}, fastest at {top} of {len(sizes)} sizes"
    check(line in md, f"md: {line}")
peak = max((v["busbw"], k) for k, v in oracle.items() if k[1] >= 1 << 20)
check(f"- peak busbw {peak[0]:.3g} GB/s: {peak[1][0]} at " in md,
      f"md: peak busbw {peak[0]:.3g} GB/s ({peak[1][0]})")
flagged = sum(1 for l in links if l["size"] == big and l["flagged"])
check(f"- links: {flagged} of {len(want)} flagged" in md, f"md: {flagged} links flagged")

# predictions: every algorithm the planner models, and never mpi
prows = [r for r in csv.DictReader(open(f"{tmp}/p.csv", newline="")) if r["record"] == "point"]
check(all((r["predicted_us"] != "") == (r["algo"] != "mpi") for r in prows) and
      all(float(r["bound_busbw_GBps"]) > 0 for r in prows if r["algo"] != "mpi"),
      "csv --topo --calib: ring, tree, hier, rhd predicted with a lower bound; mpi not")

# hostile strings: CSV parses to the same columns, formulas inert; Markdown has no markup
hrows = list(csv.reader(open(f"{tmp}/h.csv", newline="")))
check(len({len(r) for r in hrows}) == 1, f"csv (hostile): every row {len(hrows[0])} fields")
cells = [c for r in hrows for c in r]
check(not any(c[:1] in "=+-@" and c for c in cells if not c[:1].isdigit()),
      "csv (hostile): no cell starts with = + - @")
check("'=HYPERLINK(\"http://x\")" in cells, "csv (hostile): the formula host name kept, inert")
hmd = open(f"{tmp}/h.md").read()
check("<" not in hmd and ">" not in hmd, "md (hostile): no raw < or >")
table = [l for l in hmd.splitlines() if l.startswith("| ")]
cols = {l.replace("\\|", "").count("|") for l in table if "pipe" in l}
check(cols and all(c in (8, 9) for c in cols), f"md (hostile): pipes in names escaped {cols}")
check("\u202e" not in hmd and "\x07" not in hmd and "\x85" not in hmd,
      "md (hostile): bidi override and control characters replaced")
sys.exit(1 if bad else 0)
EOF
[ $? -eq 0 ] && ok "oracle checks" || no "oracle checks"

# --expect: pass, fail (exit 1, the report written all the same)
run 0 $D/results.json --expect 0.01 -o "$tmp/pass.html" && grep -q 'class="verdict pass"' "$tmp/pass.html" &&
	grep -q 'PASS' "$tmp/stdout" && ok "--expect 0.01: PASS, exit 0" || no "--expect 0.01"
run 1 $D/results.json --expect 0.05 -o "$tmp/fail.html" && grep -q 'class="verdict fail"' "$tmp/fail.html" &&
	grep -q 'FAIL' "$tmp/stdout" && ok "--expect 0.05: FAIL, exit 1, report written" || no "--expect 0.05"
run 1 $D/links.json --expect 0.01 -o "$tmp/nolarge.md" --format md &&
	grep -q 'FAIL' "$tmp/nolarge.md" && ok "--expect without any 1 MiB row: FAIL" ||
	no "--expect without rows"

# --keep-plots: scripts and data a user can rerun
if run 0 $D/results.json $D/links.json --topo $T --calib $C --keep-plots "$tmp/plots" -o "$tmp/k.html"; then
	n=0
	for c in busbw latency spread links predicted; do
		[ -s "$tmp/plots/$c.gp" ] && [ -s "$tmp/plots/$c.dat" ] && [ -s "$tmp/plots/$c.svg" ] && n=$((n + 1))
	done
	rm "$tmp/plots/busbw.svg"
	if [ $n -eq 5 ] && (cd "$tmp/plots" && gnuplot busbw.gp) && grep -q '<svg' "$tmp/plots/busbw.svg"; then
		ok "--keep-plots: 5 scripts with data and SVG; gnuplot busbw.gp redraws"
	else
		no "--keep-plots: $n of 5 charts kept, or the redraw failed"
	fi
fi
run 0 $D/results.json --format md --keep-plots "$tmp/plots-md" -o "$tmp/k.md" &&
	[ -s "$tmp/plots-md/busbw.gp" ] && ok "--keep-plots with --format md" || no "--keep-plots --format md"

# -o -: standard output; the report names the page's sections
run 0 $D/results.json --format md -o - && grep -q '^# All-reduce report' "$tmp/stdout" &&
	ok "-o -: Markdown on standard output" || no "-o -"
run 0 $D/results.json $D/links.json -o "$tmp/s.html" &&
	for s in summary system busbw latency spread links data; do
		grep -q "<section id=\"$s\">" "$tmp/s.html" || { no "html: no section $s"; break; }
	done && ok "html: summary, system, busbw, latency, spread, links, data sections"

echo "report_formats: $pass passed, $fail failed"
[ $fail -eq 0 ]
