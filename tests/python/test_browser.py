"""The analysis pages in a real browser (issue 19 item 7): Debian's Chromium,
headless, loads the report and the comparison of real searches on
Fashion-MNIST, and the README's figures, from a local HTTP server; a harness page
checks that every image of the page decoded (complete, naturalWidth > 0) and
writes what it found into its DOM, which Chromium dumps. A page with a missing
image shows the check can fail. A screenshot of the report must not be blank.

Environment as in test_run.py. Skipped without chromium (Debian's chromium) and
under the sanitizers (the pages do not depend on how aesweep was built).
"""
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from jobsets import set_args
from testenv import AESWEEP, ANALYSIS, ENV, PYTHON, SETS, SRC, needs_fashion, scratch

TMP = scratch("browser")
CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium"),
    pytest.mark.skipif(os.environ.get("AESWEEP_SANITIZED") == "1",
                       reason="the pages do not depend on the sanitizers"),
    needs_fashion,
]

HARNESS = """<!DOCTYPE html><html><body>
<iframe id="page" src="{src}" style="width: 1200px; height: 900px"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var images = Array.from(this.contentDocument.images);
  var broken = images.filter(function (i) {{ return !(i.complete && i.naturalWidth > 0); }})
                     .map(function (i) {{ return i.getAttribute("src"); }});
  var out = document.createElement("pre");
  out.id = "result";
  out.textContent = "RESULT " + JSON.stringify({{images: images.length, broken: broken}});
  document.body.appendChild(out);
}});
</script></body></html>
"""


def chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def server():
    """TMP over HTTP on a free local port; yields the base URL."""
    TMP.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(TMP))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def images_of(server, page):
    """(images on the page, those that did not render), as Chromium saw them."""
    rel = Path(page).resolve().relative_to(TMP.resolve())
    harness = TMP / f"harness_{rel.parent.name or 'root'}.html"
    harness.write_text(HARNESS.format(src="/" + str(rel)))
    r = chromium("--virtual-time-budget=20000", "--dump-dom",
                 f"{server}/{harness.name}")
    m = re.search(r"RESULT (\{.*\})", r.stdout)
    assert m, f"no result from the harness: {r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    found = json.loads(m.group(1).replace("&quot;", '"'))
    return found["images"], found["broken"]


def run(job, out, *sets):
    cmd = [AESWEEP, "run", str(SRC / job), "--out", str(out), "--fresh", *set_args(SETS)]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out / "results.h5"


def script(name, *args):
    r = subprocess.run([PYTHON, str(ANALYSIS / name), *map(str, args)], env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


SMALL = ("data.train_limit=1500", "data.test_limit=300", "train.epochs=2",
         "search.trials=10", "classifier.epochs=1")


@pytest.fixture(scope="module")
def pages():
    """The report of jobs/tradeoffs.json in small (every new figure) and the
    comparison of it with a tpe run."""
    TMP.mkdir(parents=True, exist_ok=True)
    a = run("jobs/tradeoffs.json", TMP / "random", *SMALL)
    b = run("jobs/tradeoffs.json", TMP / "tpe", *SMALL, "search.strategy=tpe",
            "search.startup_trials=4")
    out = script("report.py", a, "-o", TMP / "report")
    script("compare.py", a, b, "-o", TMP / "compare", "--label", "random", "--label", "tpe")
    return TMP / "report" / "index.html", TMP / "compare" / "index.html", out


def test_report_renders_every_image(server, pages):
    report, _, out = pages
    n = int(re.search(r"\((\d+) figures\)", out).group(1))
    images, broken = images_of(server, report)
    assert broken == [] and images == n, (images, broken, n)
    for name in ("pareto", "parallel", "importance"):
        assert f'src="{name}.png"' in report.read_text(), name


def test_compare_renders_every_image(server, pages):
    _, compare, _ = pages
    images, broken = images_of(server, compare)
    assert images == 1 and broken == [], (images, broken)


def test_a_missing_image_is_seen(server, pages):
    """The check can fail: the report without one of its PNGs."""
    report, _, _ = pages
    broken_dir = TMP / "report_broken"
    shutil.rmtree(broken_dir, ignore_errors=True)
    shutil.copytree(report.parent, broken_dir)
    (broken_dir / "pareto.png").unlink()
    images, broken = images_of(server, broken_dir / "index.html")
    assert broken == ["pareto.png"], broken


def test_readme_figures_render(server):
    """Every image the README's Analysis section shows exists and renders."""
    readme = (SRC / "README.md").read_text()
    analysis = readme.split("## Analysis", 1)[1].split("\n## ", 1)[0]
    shown = re.findall(r"!\[[^\]]*\]\((docs/figures/[^)]+\.png)\)", analysis)
    assert {"docs/figures/pareto.png", "docs/figures/parallel.png",
            "docs/figures/importance.png", "docs/figures/compare.png"} <= set(shown), shown
    folder = TMP / "readme"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "docs" / "figures").mkdir(parents=True)
    for f in shown:
        shutil.copy(SRC / f, folder / f)
    (folder / "index.html").write_text("<html><body>" + "".join(
        f'<img src="{f}">' for f in shown) + "</body></html>")
    images, broken = images_of(server, folder / "index.html")
    assert images == len(shown) and broken == [], (images, broken)


def test_report_screenshot_is_not_blank(pages):
    report, _, _ = pages
    shot = TMP / "report.png"
    shot.unlink(missing_ok=True)
    r = chromium("--window-size=1200,2400", f"--screenshot={shot}", report.as_uri())
    assert shot.exists(), r.stderr[-2000:]
    import matplotlib.image
    pixels = matplotlib.image.imread(str(shot))
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1100, pixels.shape
    # text, tables and figures: far from one flat colour
    assert float(np.std(pixels[..., :3])) > 0.05
    print(f"screenshot {shot}: {pixels.shape[1]}x{pixels.shape[0]}", file=sys.stderr)
