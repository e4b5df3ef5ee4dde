"""Fill in the slide layout (`slideshow.slide_type`, and `hide-input` tags) of lectures.

    python -m coursetools.publish.slidemeta [--force] LECTURE.ipynb ...

A cell that already has a slide type keeps it unless --force: the rules below give a new
lecture a deck that reads like a lecture, and the author then adjusts what they chose.

- `#` and `##` headings open a slide, `###` headings a vertical subslide;
- the parameters cell and the set-up cell (imports, `runtime.setup`) are skipped;
- a cell that only draws a diagram or prints the report, or that is mostly plotting code,
  shows its output, not its code (tag `hide-input`: folded on the site, gone on the slides);
- a paragraph of more than NOTES_WORDS words becomes the speaker notes of its slide;
- a short paragraph right after code appears as a fragment;
- anything else continues the slide, or opens a subslide when the slide would overflow.
"""

import argparse
import json
import re
import sys
from pathlib import Path

NOTES_WORDS = 170
FRAGMENT_WORDS = 45
SLIDE_LINES = 22  # about what fits a 1280x720 deck in the white theme
HIDE_INPUT = re.compile(r"^\s*(diagrams\.\w+\(.*\);?|(runtime\.)?report\(.*)\s*$", re.DOTALL)
PLOTTING = ("plt.", "ax.", "axes", "fig", "ax[", ".set_", "plot_", "imshow", "legend")
PLOTTING_SHARE = 0.6  # of a cell's code lines (comments and blank lines aside)


def _is_plotting(text: str) -> bool:
    lines = [line for line in text.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    plotting = [line for line in lines if any(word in line for word in PLOTTING)]
    return bool(lines) and len(plotting) >= PLOTTING_SHARE * len(lines)


def _source(cell) -> str:
    return "".join(cell["source"])


def _lines(cell) -> int:
    """A rough height of a cell on a slide, in lines of text (its output estimated)."""
    text = _source(cell)
    if cell["cell_type"] == "markdown":
        return len(text.split()) // 12 + text.count("\n") // 2 + 1
    plots = any(s in text for s in ("plt.", "diagrams.", "plot_", ".plot(", "imshow"))
    return min(text.count("\n") + 1, 14) + (12 if plots else 3)


def _is_setup(cell, index_of_code: int) -> bool:
    text = _source(cell)
    return ("parameters" in cell["metadata"].get("tags", [])
            or (index_of_code <= 2 and "setup(" in text and "import" in text))


def layout(nb: dict, force: bool = False) -> int:
    """Set the slide type of every cell that has none (every cell with force); returns how
    many cells changed."""
    changed = 0
    height = 0
    code_seen = 0
    previous = None
    for cell in nb["cells"]:
        text = _source(cell).strip()
        meta = cell["metadata"]
        kind = "-"
        if cell["cell_type"] == "code":
            code_seen += 1
            if _is_setup(cell, code_seen):
                kind = "skip"
            elif ((HIDE_INPUT.match(text) or _is_plotting(text))
                  and "hide-input" not in meta.get("tags", [])):
                meta.setdefault("tags", []).append("hide-input")
        if kind != "skip":
            if text.startswith(("# ", "## ")):
                kind, height = "slide", 0
            elif text.startswith("### "):
                kind, height = "subslide", 0
            elif cell["cell_type"] == "markdown" and len(text.split()) > NOTES_WORDS:
                kind = "notes"
            elif height + _lines(cell) > SLIDE_LINES and height > 0:
                kind, height = "subslide", 0
            elif (cell["cell_type"] == "markdown" and previous == "code"
                  and len(text.split()) <= FRAGMENT_WORDS):
                kind = "fragment"
            if kind != "notes":
                height += _lines(cell)
                previous = cell["cell_type"]
        slideshow = meta.setdefault("slideshow", {})
        if force or "slide_type" not in slideshow:
            if slideshow.get("slide_type") != kind:
                changed += 1
            slideshow["slide_type"] = kind
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--force", action="store_true", help="redo cells that have a type")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        nb = json.loads(path.read_text())
        changed = layout(nb, force=args.force)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        print(f"{path}: {changed} cells laid out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
