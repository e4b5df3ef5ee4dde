"""The browser assets of the decks and the site, from publish/node_modules (npm ci).

They are copied next to what is built, so a deck or a page opened from build/ (or from any
copy of it) loads nothing from another host.
"""

import shutil
from pathlib import Path

from coursetools.notebooks import ROOT

NODE_MODULES = ROOT / "publish" / "node_modules"
# The folders and files each deck or page refers to, relative to publish/node_modules.
REVEAL = "reveal.js"
MATHJAX2 = "mathjax"  # the slides' template speaks MathJax 2 (MathJax.Hub)
MATHJAX3 = "mathjax3/es5"  # Sphinx's default MathJax
REQUIRE = "requirejs/require.js"
JQUERY = "jquery/dist/jquery.min.js"
_SKIP = shutil.ignore_patterns(
    # MathJax 2: the unminified copy, its tests, every font but TeX's woff (CHTML's)
    "unpacked", "test", "Asana-Math", "Gyre-*", "Latin-Modern", "Neo-Euler", "STIX-Web",
    "eot", "otf", "svg", "png",
    # reveal.js: only dist/ and plugin/ are served
    "demo.html", "index.html", "css", "js", "*.md", "*.map")


class MissingAssets(RuntimeError):
    """publish/node_modules lacks an asset: `make publish-deps` (npm ci) installs them."""


def source(rel: str) -> Path:
    path = NODE_MODULES / rel
    if not path.exists():
        raise MissingAssets(f"{path} is missing: run `make publish-deps` (npm ci in publish/)")
    return path


def copy(rel: str, dest_dir: Path) -> Path:
    """Copy one asset (file or folder) into dest_dir, once; returns where it now is."""
    src = source(rel)
    dest = dest_dir / Path(rel).name if src.is_file() else dest_dir / rel.split("/")[0]
    if src.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    elif not (dest / ".copied").exists() or (
            (dest / ".copied").stat().st_mtime < src.stat().st_mtime):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, ignore=_SKIP)
        (dest / ".copied").touch()
    return dest
