#!/usr/bin/python3
"""report_browser.py - check `arplan report` pages in a real browser (tests/sh/report_browser.sh).

  report_browser.py [--screenshot OUT.png] [--shows-text TEXT] PAGE.html:CHART,CHART...

For each page: the HTML must validate (html5lib in strict mode: the first parse error of the
WHATWG HTML parsing algorithm fails it); then headless Chromium, driven through chromedriver,
opens it from disk and the page must show exactly the charts named, each an inline SVG that is
laid out (not empty) and holds at least as many drawn marks (points, boxes) as the page says
it plotted (data-points), none of them a raster image; nothing fetched, no script, no event
handler attribute, no duplicate id, nothing on the console.  A screenshot of the first page,
as tall as the page (up to 8000 px), goes to OUT.png; the last page's text must hold TEXT
(markup in a host name shown as text).  Exit 0 pass, 1 fail.
"""
import sys

import html5lib
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

PAGE_FACTS = r"""
const charts = [...document.querySelectorAll('figure.chart')].map(fig => {
  const svg = fig.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const marks = svg ? svg.querySelectorAll(['use', 'path', 'rect', 'circle', 'polygon'].map(
      m => 'g[id*="gnuplot_plot_"] ' + m).join(', ')).length : 0;
  return {id: fig.dataset.chart, points: Number(fig.dataset.points), svg: !!svg,
          width: box.width, height: box.height, marks: marks,
          images: svg ? svg.querySelectorAll('image, foreignObject').length : 0};
});
const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
const handlers = [...document.querySelectorAll('*')].filter(
    e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).length;
return {charts: charts, scripts: document.scripts.length, handlers: handlers,
        duplicate_ids: ids.filter((id, i) => ids.indexOf(id) != i),
        resources: performance.getEntriesByType('resource').map(r => r.name),
        text: document.body.innerText, height: document.documentElement.scrollHeight,
        title: document.title};
"""

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def validate(path):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    with open(path, "rb") as f:
        try:
            parser.parse(f)
        except html5lib.html5parser.ParseError as e:
            fail(f"{path}: html5lib (strict) rejects it: {e}")
            return
    print(f"ok   {path}: valid HTML (html5lib strict, {len(parser.errors)} parse errors)")


def check_page(driver, path, expected, screenshot):
    driver.get("file://" + path)
    facts = driver.execute_script(PAGE_FACTS)
    got = [c["id"] for c in facts["charts"]]
    if sorted(got) != sorted(expected):
        fail(f"{path}: charts {got}, expected {expected}")
    for c in facts["charts"]:
        what = f"{path}: chart {c['id']}"
        if not c["svg"]:
            fail(f"{what}: no inline SVG")
        elif c["width"] < 200 or c["height"] < 150:
            fail(f"{what}: laid out at {c['width']}x{c['height']} px")
        elif c["points"] < 1 or c["marks"] < c["points"]:
            fail(f"{what}: {c['marks']} marks drawn for {c['points']} data points")
        elif c["images"]:
            fail(f"{what}: {c['images']} raster images inside the SVG")
        else:
            print(f"ok   {what}: SVG {c['width']:.0f}x{c['height']:.0f} px, "
                  f"{c['marks']} marks for {c['points']} points")
    for key, bad in (("scripts", facts["scripts"]), ("event handlers", facts["handlers"]),
                     ("duplicate ids", facts["duplicate_ids"]),
                     ("fetched resources", facts["resources"])):
        if bad:
            fail(f"{path}: {key}: {bad}")
    logs = driver.get_log("browser")
    if logs:
        fail(f"{path}: console: {logs}")
    else:
        print(f"ok   {path}: nothing fetched, no script, no console output")
    if screenshot:
        driver.set_window_size(1280, min(max(facts["height"], 800), 8000))
        driver.save_screenshot(screenshot)
        with open(screenshot, "rb") as f:
            png = f.read()
        if not png.startswith(b"\x89PNG") or len(png) < 20000:
            fail(f"{screenshot}: not a screenshot ({len(png)} bytes)")
        else:
            print(f"ok   screenshot {screenshot}: {len(png)} bytes, page "
                  f"{facts['height']} px tall")
        driver.set_window_size(1280, 1000)
    return facts


def main(argv):
    args = argv[1:]
    screenshot = shows = None
    while args and args[0].startswith("--"):
        if args[0] == "--screenshot":
            screenshot = args[1]
        elif args[0] == "--shows-text":
            shows = args[1]
        args = args[2:]
    pages = []
    for spec in args:
        path, _, charts = spec.rpartition(":")
        pages.append((path, [c for c in charts.split(",") if c]))
    if not pages:
        print(__doc__)
        return 2
    for path, _ in pages:
        validate(path)
    opts = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-extensions", "--window-size=1280,1000"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        facts = [check_page(driver, p, c, screenshot if i == 0 else None)
                 for i, (p, c) in enumerate(pages)]
    finally:
        driver.quit()
    # markup in host names (the last page) must show as text, not act
    if shows is not None:
        if shows not in facts[-1]["text"]:
            fail(f"{pages[-1][0]}: does not show {shows!r} as text")
        else:
            print(f"ok   {pages[-1][0]}: shows {shows!r} as text")
    print(f"report_browser: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
