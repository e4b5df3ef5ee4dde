"""Every lecture as a reveal.js deck, from its executed copy in build/, viewable offline.

    python -m coursetools.publish.slides [--build build] [--out build/slides] [LECTURE ...]

Cells are laid out by their `slideshow.slide_type` metadata (slide, subslide, fragment, skip,
notes; `python -m coursetools.publish.slidemeta` fills it in for a new lecture). Cells tagged
`remove-cell` are left out, and cells tagged `remove-input` or `hide-input` show only their
output: the figure stays, its plumbing goes. reveal.js, MathJax 2, require.js and jQuery are
copied into <out>/vendor/ and every deck refers to them there.
"""

import argparse
import html
import json
import sys
import time
from pathlib import Path

from coursetools.notebooks import ROOT
from coursetools.publish import assets, executed

LECTURES = ROOT / "lectures"
TEMPLATES = ROOT / "publish" / "templates"
# papermill's injected parameters are the run's plumbing too: the deck says what it teaches.
HIDDEN_CELL_TAGS = {"remove-cell", "injected-parameters"}
HIDDEN_INPUT_TAGS = {"remove-input", "hide-input"}
VENDOR = "vendor"


def lectures() -> list[Path]:
    return sorted(p for p in LECTURES.glob("*.ipynb"))


def exporter():
    """nbconvert's SlidesExporter, set up so that a deck refers only to files beside it."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.SlidesExporter.template_name = "course_slides"
    c.SlidesExporter.reveal_url_prefix = f"{VENDOR}/reveal.js"
    c.SlidesExporter.reveal_theme = "white"  # `simple`, the default, imports Google Fonts
    c.SlidesExporter.reveal_scroll = True  # a long cell scrolls instead of running off
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.require_js_url = f"{VENDOR}/require.js"
    c.SlidesExporter.jquery_url = f"{VENDOR}/jquery.min.js"
    c.SlidesExporter.mathjax_url = f"{VENDOR}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    c.SlidesExporter.exclude_input_prompt = True  # no "In [12]:" beside the code
    c.SlidesExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = HIDDEN_CELL_TAGS
    c.TagRemovePreprocessor.remove_input_tags = HIDDEN_INPUT_TAGS
    return SlidesExporter(config=c)


def count_slides(nb: dict) -> int:
    """How many slides (horizontal and vertical) nbconvert makes of a notebook."""
    count = 0
    for cell in nb["cells"]:
        if HIDDEN_CELL_TAGS & set(cell["metadata"].get("tags", [])):
            continue
        kind = cell["metadata"].get("slideshow", {}).get("slide_type", "-")
        if kind in ("slide", "subslide") or (count == 0 and kind not in ("skip", "notes")):
            count += 1
    return count


def vendor(out: Path) -> None:
    for rel in (assets.REVEAL, assets.MATHJAX2, assets.REQUIRE, assets.JQUERY):
        assets.copy(rel, out / VENDOR)


def _index(decks: list[tuple[str, str, int]]) -> str:
    items = "\n".join(
        f'  <li><a href="{html.escape(file)}">{html.escape(title)}</a> ({n} slides)</li>'
        for file, title, n in decks)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>RNN course: slides</title></head>\n<body>\n<h1>RNN course: the lectures' "
            f"slides</h1>\n<ul>\n{items}\n</ul>\n<p>Press <kbd>s</kbd> in a deck for the "
            "speaker notes, <kbd>Esc</kbd> for the overview.</p>\n</body></html>\n")


def title(nb: dict, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            first = "".join(cell["source"]).strip().splitlines()[0]
            return first.lstrip("#").strip() or fallback
    return fallback


def build(sources: list[Path], build_dir: Path, out: Path,
          **run_kwargs) -> list[tuple[str, str, int]]:
    """Write one deck per lecture and an index into `out`; returns (file, title, slides).

    run_kwargs go to the runner for the notebooks that are stale (executed.ensure)."""
    executed_copies = executed.ensure(sources, build_dir, **run_kwargs)
    out.mkdir(parents=True, exist_ok=True)
    vendor(out)
    slides = exporter()
    decks = []
    for source, copy in zip(sources, executed_copies, strict=True):
        nb = json.loads(copy.read_text())
        body, _ = slides.from_filename(str(copy))
        name = f"{source.stem}.slides.html"
        (out / name).write_text(body)
        decks.append((name, title(nb, source.stem), count_slides(nb)))
    (out / "index.html").write_text(_index(decks))
    (out / "decks.json").write_text(json.dumps(
        [{"file": f, "title": t, "slides": n} for f, t, n in decks], indent=2) + "\n")
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lectures", nargs="*", type=Path, help="default: every lecture")
    parser.add_argument("--build", type=Path, default=ROOT / "build",
                        help="where the executed notebooks are (and are run into when stale)")
    parser.add_argument("--out", type=Path, default=None, help="default: <build>/slides")
    args = parser.parse_args(argv)
    sources = [p.resolve() for p in args.lectures] or lectures()
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        print(f"error: no such lecture: {', '.join(missing)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        decks = build(sources, args.build, args.out or args.build / "slides")
    except (RuntimeError, assets.MissingAssets) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for file, _, n in decks:
        print(f"  {n:3} slides  {file}")
    print(f"{len(decks)} decks in {args.out or args.build / 'slides'} "
          f"({time.perf_counter() - start:.1f} s); open index.html there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
