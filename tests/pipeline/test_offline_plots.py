"""`dvc plots show` and `dvc plots diff` draw the committed plots with no network at all: the
page they write is opened in headless Chromium inside a network namespace of its own."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from dvc_render.base import Renderer
from dvc_render.html import PAGE_HTML

from conftest import CHROMIUM_FLAGS, NO_NETWORK, PROJECT_ROOT
from fashion_clustering.scratch import git_commit, scratch_project

pytestmark = pytest.mark.slow

PLOT_DATA = ("metrics", "report/figures")
# Appended to the page DVC wrote: once vega-embed has had (virtual) seconds to draw, counts each
# plot's coloured pixels. Vega's axes and text are grey; the loss lines and the confusion cells
# are in colour, so a count is the data that was drawn.
PAINT_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const coloured = {};
  for (const div of document.querySelectorAll("div[id]")) {
    const canvas = div.querySelector("canvas");
    const pixels = canvas && canvas.width && canvas.height
      ? canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data : [];
    let count = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const rgb = [pixels[i], pixels[i + 1], pixels[i + 2]];
      count += Math.max(...rgb) - Math.min(...rgb) > 40;
    }
    coloured[div.id] = count;
  }
  const out = document.createElement("pre");
  out.id = "coloured-pixels";
  out.textContent = JSON.stringify(coloured);
  document.body.append(out);
}, 5000));
</script>
"""
# The two loss lines and their legend drew 1,427 coloured pixels, a confusion matrix 93,200.
MIN_COLOURED = 500


def dump_dom(chromium: str, url: str, profile: Path, network: bool = False) -> str:
    """The page's DOM after its scripts ran, in Chromium with a new profile; with no network
    unless ``network``."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url]
    result = subprocess.run(command if network else [*NO_NETWORK, *command],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def vega_plots() -> dict[str, str]:
    """The div id DVC gives each of dvc.yaml's vega (templated) plots, and the template."""
    plots = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["plots"]
    return {Renderer.remove_special_chars(title): props["template"]
            for plot in plots if isinstance(plot, dict) for title, props in plot.items()}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A scratch copy of the project with the committed plot data, committed (for diff)."""
    project = scratch_project(tmp_path_factory.mktemp("project"))
    for name in PLOT_DATA:
        shutil.copytree(PROJECT_ROOT / name, project / name)
    git_commit(project, "the committed plot data")
    return project


def coloured_pixels(chromium: str, project: Path, tool_env: dict, out: Path, *dvc_args: str) -> dict[str, int]:
    """Run ``dvc plots ...`` in ``project`` with its page in ``out``, open that offline and
    return each vega plot's count of coloured pixels."""
    subprocess.run(["dvc", "plots", *dvc_args, "-o", str(out)], cwd=project, env=tool_env,
                   check=True, capture_output=True)
    probed = out / "probed.html"
    probed.write_text((out / "index.html").read_text() + PAINT_PROBE)
    dom = dump_dom(chromium, probed.as_uri(), out / "profile")
    found = re.search(r'<pre id="coloured-pixels">(.*?)</pre>', dom)
    assert found, "the probe did not run"
    coloured = json.loads(html.unescape(found.group(1)))
    assert set(vega_plots()) <= set(coloured), coloured
    return {plot: coloured[plot] for plot in vega_plots()}


def test_the_vega_plots_are_the_loss_curves_and_the_confusions():
    """So the tests below check those."""
    assert set(vega_plots().values()) == {"linear", "confusion"}


def test_plots_show_draws_every_vega_plot_offline(chromium, project, tool_env, tmp_path):
    coloured = coloured_pixels(chromium, project, tool_env, tmp_path, "show")
    assert all(count >= MIN_COLOURED for count in coloured.values()), coloured


def test_plots_diff_draws_every_vega_plot_offline(chromium, project, tool_env, tmp_path):
    coloured = coloured_pixels(chromium, project, tool_env, tmp_path, "diff", "HEAD")
    assert all(count >= MIN_COLOURED for count in coloured.values()), coloured


def test_dvc_default_page_draws_nothing_offline(chromium, project, tool_env, tmp_path):
    """What the committed template fixes: DVC's own page loads vega from a CDN."""
    default = tmp_path / "default.html"
    default.write_text(PAGE_HTML)
    coloured = coloured_pixels(chromium, project, tool_env, tmp_path / "page", "show",
                               "--html-template", str(default))
    assert set(coloured.values()) == {0}, coloured


def test_chromium_offline_reaches_no_server(chromium, tmp_path):
    """A page on a local server, the one address a test can count requests at, loads in
    Chromium as run above only when that has network."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<p>served</p>")

        def log_message(self, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/page"
        online = dump_dom(chromium, url, tmp_path / "online", network=True)
        seen_online = list(requests)
        offline = dump_dom(chromium, url, tmp_path / "offline")
        server.shutdown()
    assert "served" in online and "/page" in seen_online
    assert "served" not in offline and requests == seen_online
