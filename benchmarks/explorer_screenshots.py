"""The screenshots of docs/explorer.md, taken by the test browser (headless Chromium,
``file://``, network cut) on the workspace's ``explorer/`` page: the map with a point hovered,
and a cluster's grid.

    python benchmarks/explorer_screenshots.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "explorer"
NO_NETWORK = ("unshare", "--map-root-user", "--net")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--virtual-time-budget=10000")
# What to do before each picture: (window size, script run once the page has loaded).
SHOTS = {
    "map": ("1400,1000", """const [x, y] = explorer.pointAt(ROW);
      document.getElementById("map").dispatchEvent(new MouseEvent("mousemove", {clientX: x, clientY: y, bubbles: true}));"""),
    "cluster": ("1400,900", """document.getElementById("cluster-id").value = "8";
      document.getElementById("cluster-show").click();
      const $ = id => document.getElementById(id);
      const top = document.createElement("div"); top.append($("views"), $("grid-title"), $("grid-count"), $("grid"));
      document.body.prepend(top); window.scrollTo(0, 0);
      const t = document.querySelectorAll("#grid .thumb")[40].getBoundingClientRect();
      $("grid").dispatchEvent(new MouseEvent("mousemove", {clientX: t.left + 20, clientY: t.top + 20, bubbles: true}));"""),
}
ROW = 52_345  # a validation image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", type=Path, default=ROOT / "explorer", help="the page's directory")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go")
    args = parser.parse_args()
    page = args.page
    args.out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (size, action) in SHOTS.items():
            shot = page / f".shot_{name}.html"
            script = ('<script>window.addEventListener("load", () => setTimeout(() => {'
                      + action.replace("ROW", str(ROW)) + "}, 1000));</script></body>")
            shot.write_text((page / "index.html").read_text().replace("</body>", script))
            try:
                subprocess.run([*NO_NETWORK, shutil.which("chromium"), *FLAGS, f"--window-size={size}",
                                f"--user-data-dir={tmp}/{name}", f"--screenshot={args.out / (name + '.png')}",
                                shot.as_uri()], check=True, capture_output=True, timeout=120)
            finally:
                shot.unlink()


if __name__ == "__main__":
    main()
