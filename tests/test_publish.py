"""`make slides` and `make site`: what they are made of, and every page of them in Chromium.

The browser tests build the decks and the site from the executed copies that
tests/test_notebooks.py leaves in the build folder the test workers share (executed_build,
conftest.py); the notebooks not yet there they run first, once (executed.run_once). Each
page is served on localhost and loaded in headless Chromium: no console error, no request to
another host (any is refused and reported), no failed request, every image loaded, the
equations typeset. One screenshot per kind of page is kept in build/screenshots/.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from browser import BROKEN_IMAGES, chromium, load, serve

from coursetools.notebooks import ROOT
from coursetools.publish import executed, site, slidemeta, slides

LECTURES = slides.lectures()
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
SCREENSHOTS = ROOT / "build" / "screenshots"
MATH = re.compile(r"\$[^$\n]+\$")


def _nb(path: Path) -> dict:
    return json.loads(path.read_text())


def _has_math(nb: dict) -> bool:
    return any(MATH.search("".join(c["source"])) for c in nb["cells"]
               if c["cell_type"] == "markdown")


# --- what the decks and the site are made of -------------------------------------------

@pytest.mark.parametrize("path", LECTURES, ids=[p.name for p in LECTURES])
def test_every_lecture_cell_has_a_slide_type(path):
    nb = _nb(path)
    kinds = [c["metadata"].get("slideshow", {}).get("slide_type") for c in nb["cells"]]
    missing = [i for i, k in enumerate(kinds) if k not in SLIDE_TYPES]
    assert not missing, (f"{path.name}: cells {missing} have no slide type: run "
                         f"`.venv/bin/python -m coursetools.publish.slidemeta {path}`")
    assert kinds[0] == "slide", f"{path.name}: the deck must open with a slide (its title)"
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert params["metadata"]["slideshow"]["slide_type"] == "skip", (
        f"{path.name}: the parameters cell is plumbing: skip it on the slides")
    assert slides.count_slides(nb) >= 8, f"{path.name}: a deck of fewer than 8 slides"


def _cell(kind, text, tags=()):
    cell = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {},
            "source": text}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def test_slidemeta_lays_out_a_new_lecture_and_keeps_what_an_author_chose():
    long_text = " ".join(["word"] * (slidemeta.NOTES_WORDS + 1))
    nb = {"cells": [
        _cell("markdown", "# Lecture 10 - Something new\n\nWhat it teaches."),
        _cell("code", "quick = True\ndevice = 'auto'\nseed = 0", tags=["parameters"]),
        _cell("code", "import torch\nfrom rnn_lib.runtime import setup\nsetup(seed)"),
        _cell("markdown", "## 1. A section"),
        _cell("code", "diagrams.lstm_cell(peephole=True);"),
        _cell("markdown", "Short: what the figure shows."),
        _cell("markdown", long_text),
        _cell("markdown", "### A subsection"),
        _cell("code", "fig, ax = plt.subplots()\nax.plot(losses)\nax.set_xlabel('step')"),
        _cell("code", "x = 1"),
    ]}
    nb["cells"][-1]["metadata"]["slideshow"] = {"slide_type": "fragment"}  # the author's
    slidemeta.layout(nb)
    kinds = [c["metadata"]["slideshow"]["slide_type"] for c in nb["cells"]]
    assert kinds == ["slide", "skip", "skip", "slide", "-", "fragment", "notes", "subslide",
                     "-", "fragment"]
    hidden = [i for i, c in enumerate(nb["cells"]) if "hide-input" in c["metadata"].get("tags", [])]
    assert hidden == [4, 8], "the diagram and the plot show their output only"
    slidemeta.layout(nb, force=True)
    assert nb["cells"][-1]["metadata"]["slideshow"]["slide_type"] == "-"


def test_a_notebook_is_run_again_only_when_missing_failed_or_older_than_its_source(tmp_path):
    source = LECTURES[0]
    build = tmp_path / "build"
    assert executed.stale([source], build) == [source]  # missing
    copy = executed.executed_path(source, build)
    copy.parent.mkdir(parents=True)
    copy.write_text(json.dumps({"cells": [], "metadata": {"papermill": {}}}))
    assert executed.stale([source], build) == []
    older = source.stat().st_mtime - 10
    os.utime(copy, (older, older))
    assert executed.stale([source], build) == [source]  # older than the source
    copy.write_text(json.dumps({"cells": [], "metadata": {"papermill": {"exception": True}}}))
    assert executed.stale([source], build) == [source]  # it failed


def test_the_landing_page_links_every_lecture_and_lab_of_the_course_map():
    rows = site.course_map()
    paths = [p for _, p, _ in rows]
    assert paths == ([f"lectures/{p.name}" for p in LECTURES]
                     + [f"labs/{d.name}/" for d in sorted((ROOT / "labs").iterdir())
                        if d.is_dir()]), "the README's course map misses a lecture or a lab"
    page = site.landing_page()
    for _, path, _ in rows:
        assert f"]({site._doc(path)})" in page
        assert (ROOT / site._doc(path)).is_file(), f"{path}: no such notebook"


# --- built, and seen in a browser ------------------------------------------------------

@pytest.fixture(scope="module")
def published(executed_build):
    """Decks and site built once (the first worker to need them) from the shared notebooks."""
    here = executed_build / "published"
    with executed.claimed(here):
        if not (here / "built").exists():
            slides.build(LECTURES, executed_build, here / "slides", jobs=1, device="cpu",
                         threads=1)
            site.build(executed_build, here / "site", jobs=1, device="cpu", threads=1)
            (here / "built").touch()
    decks = [(d["file"], d["title"], d["slides"])
             for d in json.loads((here / "slides" / "decks.json").read_text())]
    out = here / "site"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield {"decks": decks, "slides": here / "slides", "site": out, "browser": browser}


def _clean(visit, what):
    assert not visit.outside, f"{what} asked another host for {visit.outside[:3]}"
    assert not visit.failed, f"{what}: requests failed: {visit.failed[:3]}"
    assert not visit.errors, f"{what}: console errors: {visit.errors[:3]}"
    broken = visit.page.evaluate(BROKEN_IMAGES)
    assert not broken, f"{what}: images did not load: {broken[:3]}"


MATHJAX2_DONE = ("() => window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0 "
                 "&& !MathJax.Hub.queue.running")
INNERMOST = "document.querySelectorAll('.reveal .slides section:not(:has(section))').length"


@pytest.mark.notebook
def test_every_deck_loads_offline_typesets_and_moves_to_the_next_slide(published):
    browser = published["browser"]
    assert [d[0] for d in published["decks"]] == [f"{p.stem}.slides.html" for p in LECTURES]
    with serve(published["slides"]) as base:
        index = load(browser, f"{base}/index.html")
        _clean(index, "slides/index.html")
        assert index.page.locator("a").count() == len(LECTURES)
        for (file, title, count), source in zip(published["decks"], LECTURES, strict=True):
            visit = load(browser, f"{base}/{file}")
            page = visit.page
            page.wait_for_function(MATHJAX2_DONE, timeout=30_000)
            _clean(visit, file)
            assert page.evaluate(INNERMOST) == count, f"{file}: not {count} slides"
            if _has_math(_nb(source)):
                assert page.locator(".mjx-chtml").count() > 0, f"{file}: no typeset equation"
            heading = page.locator("h1").first.text_content()
            assert title in heading, f"{file}: the title slide shows {heading!r}"
            if file == published["decks"][0][0]:
                page.screenshot(path=SCREENSHOTS / "slides-title.png")
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => location.hash === '#/1'", timeout=5_000)
            assert page.evaluate("document.querySelector('section.present') !== null")
            page.close()


@pytest.mark.notebook
def test_decks_hide_the_plumbing_and_keep_speaker_notes(published):
    notes = 0
    for file, _, _ in published["decks"]:
        deck = (published["slides"] / file).read_text()
        assert "diagrams." not in deck, f"{file} shows the code that draws a diagram"
        assert "papermill sets these" not in deck, f"{file} shows the parameters cell"
        assert '<span class="c1"># Parameters</span>' not in deck, (
            f"{file} shows the parameters papermill injected")
        assert 'src="data:image/png;base64,' in deck, f"{file} has no figure"
        notes += deck.count('<aside class="notes">')
    assert notes >= 5, f"only {notes} speaker notes in all the decks"


@pytest.mark.notebook
def test_a_deck_shows_its_equations_typeset(published):
    file = published["decks"][0][0]
    with serve(published["slides"]) as base:
        visit = load(published["browser"], f"{base}/{file}")
        page = visit.page
        page.wait_for_function(MATHJAX2_DONE, timeout=30_000)
        # the first horizontal slide that holds a displayed equation
        h = page.evaluate("""() => Array.from(
            document.querySelectorAll('.reveal .slides > section'))
            .findIndex(s => s.querySelector('.MJXc-display') !== null)""")
        assert h >= 0, f"{file}: no displayed equation in the deck"
        page.evaluate(f"location.hash = '#/{h}'")
        page.wait_for_function(f"() => location.hash === '#/{h}'")
        page.wait_for_timeout(500)  # the slide transition
        shown = page.locator("section.present .MJXc-display")
        assert shown.count() > 0 and shown.first.is_visible()
        page.screenshot(path=SCREENSHOTS / "slides-equation.png")
        _clean(visit, file)


def _site_pages(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.html")
                  if "_static" not in p.parts)


@pytest.mark.notebook
def test_every_site_page_loads_offline_with_its_figures_and_equations(published):
    out, browser = published["site"], published["browser"]
    pages = _site_pages(out)
    expected = {f"lectures/{p.stem}.html" for p in LECTURES} | {"index.html", "search.html"}
    expected |= {f"labs/{d.name}/{d.name}.html" for d in (ROOT / "labs").iterdir() if d.is_dir()}
    expected |= {f"api/{m}.html" for m in site.modules()}
    assert expected <= set(pages), f"pages missing: {sorted(expected - set(pages))}"
    shots = {"index.html": "site-landing.png", f"lectures/{LECTURES[2].stem}.html":
             "site-lecture.png", "api/rnn_lib.cells.html": "site-api.png"}
    with serve(out) as base:
        for rel in pages:
            visit = load(browser, f"{base}/{rel}")
            page = visit.page
            if rel.startswith("lectures/"):
                source = ROOT / "lectures" / (Path(rel).stem + ".ipynb")
                page.wait_for_function("() => document.querySelector('mjx-container') !== null"
                                       if _has_math(_nb(source)) else "() => true",
                                       timeout=30_000)
                assert page.evaluate("document.images.length") > 0, f"{rel}: no figure"
                nav = page.locator("a.right-next, a.left-prev")
                assert nav.count() >= 1, f"{rel}: no link to the next or previous lecture"
            _clean(visit, rel)
            if rel in shots:
                page.screenshot(path=SCREENSHOTS / shots[rel], full_page=False)
            page.close()


@pytest.mark.notebook
def test_the_site_search_finds_a_lecture(published):
    with serve(published["site"]) as base:
        visit = load(published["browser"], f"{base}/search.html?q=peephole")
        page = visit.page
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li').length > 0", timeout=30_000)
        hits = page.locator("#search-results li a").all_inner_texts()
        assert any("LSTM" in h for h in hits), f"searching 'peephole' found {hits[:5]}"
        _clean(visit, "search.html")
        page.screenshot(path=SCREENSHOTS / "site-search.png")


@pytest.mark.notebook
def test_the_next_link_of_a_lecture_page_leads_to_the_next_lecture(published):
    with serve(published["site"]) as base:
        visit = load(published["browser"], f"{base}/lectures/{LECTURES[0].stem}.html")
        page = visit.page
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"lectures/{LECTURES[1].stem}.html"), page.url


@pytest.mark.notebook
def test_make_slides_and_make_site_as_the_readme_gives_them_in_a_fresh_copy(executed_build,
                                                                            tmp_path):
    """The instructor's path after `make all`: the executed lectures are in build/ (copied
    from this run's), so `make slides` and `make site` build without running any notebook."""
    from coursetools import checkout

    executed.ensure(LECTURES, executed_build, jobs=1, device="cpu", threads=1)
    course = checkout.fresh_copy(ROOT, tmp_path / "course")
    (course / "publish" / "node_modules").symlink_to(ROOT / "publish" / "node_modules")
    for source in LECTURES:
        copy = executed.executed_path(source, course / "build")
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(executed.executed_path(source, executed_build).read_bytes())
    for target, done in (("slides", f"{len(LECTURES)} decks in"), ("site", "site: ")):
        run = subprocess.run(["make", "--no-print-directory", target], cwd=course,
                             env=checkout.user_env(ROOT), capture_output=True, text=True,
                             timeout=900)
        text = run.stdout + run.stderr
        assert run.returncode == 0 and done in text, f"make {target}:\n{text[-3000:]}"
        assert "running them first" not in text, f"make {target} ran notebooks again"
        assert "Traceback" not in text, text[-3000:]
    assert (course / "build" / "slides" / "index.html").is_file()
    assert (course / "build" / "site" / "index.html").is_file()
