"""The course website: a static Sphinx site in build/site/, viewable offline.

    python -m coursetools.publish.site [--build build] [--out build/site]

The landing page is the README's course map, each lecture a page with its executed outputs
(from build/, run first when stale), each lab its student version, and each rnn_lib module an
API page made from its docstrings. Sphinx + myst-nb + sphinx-book-theme build it; MathJax 3
is copied from publish/node_modules next to the pages.
"""

import argparse
import importlib
import json
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from coursetools.grading.layout import layout
from coursetools.notebooks import ROOT
from coursetools.publish import assets, executed
from coursetools.publish.slides import lectures, title

CONF = ROOT / "publish" / "site"
README = ROOT / "README.md"
ROW = re.compile(r"^\| *([^|]+?) *\| *`([^`]+)` *\| *(.+?) *\|$")


def course_map() -> list[tuple[str, str, str]]:
    """(number, path, what you will be able to do) for each row of the README's course map."""
    text = README.read_text()
    section = text.split("## Course map", 1)[1].split("\n## ", 1)[0]
    rows = [ROW.match(line) for line in section.splitlines()]
    return [m.groups() for m in rows if m and m.group(1) != "#"]


def _doc(path: str) -> str:
    """The staged document a course-map path refers to (a lab folder -> its notebook)."""
    if path.endswith("/"):
        name = path.rstrip("/").split("/")[-1]
        return f"{path}{name}.ipynb"
    return path


def landing_page() -> str:
    intro = README.read_text().split("\n## ", 1)[0].split("\n", 1)[1].strip()
    rows = "\n".join(f"| {n} | [{_title(ROOT / _doc(p))}]({_doc(p)}) | {what} |"
                      for n, p, what in course_map())
    lecture_docs = "\n".join(_doc(p) for _, p, _ in course_map() if p.startswith("lectures/"))
    lab_docs = "\n".join(_doc(p) for _, p, _ in course_map() if p.startswith("labs/"))
    return f"""# Recurrent neural networks: an open course

{intro}

## Course map

| # | notebook | what you will be able to do |
|---|---|---|
{rows}

The lectures are shown as they ran in quick mode (a short run that fits a laptop CPU); each
states its full-mode reference figures. The labs are the student versions: download one
(the button at the top of its page), fill in the cells marked `YOUR CODE HERE`, and run it in
`make lab`. The API pages document `rnn_lib`, the library every notebook imports.

```{{toctree}}
:caption: Lectures
:hidden:

{lecture_docs}
```

```{{toctree}}
:caption: Labs
:hidden:

{lab_docs}
```

```{{toctree}}
:caption: rnn_lib
:hidden:

api/index
```
"""


def _title(notebook: Path) -> str:
    return title(json.loads(notebook.read_text()), notebook.stem)


def modules() -> list[str]:
    import rnn_lib

    return sorted(f"rnn_lib.{m.name}" for m in pkgutil.iter_modules(rnn_lib.__path__))


def _summary(module: str) -> str:
    doc = importlib.import_module(module).__doc__ or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ") or module


def api_pages(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    listing = "\n".join(f"| [`{m}`]({m}.rst) | {_summary(m)} |" for m in modules())
    toc = "\n".join(modules())
    (dest / "index.md").write_text(
        "# rnn_lib\n\nThe teaching library: one module per idea, each named after it.\n\n"
        f"| module | what it holds |\n|---|---|\n{listing}\n\n"
        f"```{{toctree}}\n:hidden:\n\n{toc}\n```\n")
    for m in modules():
        (dest / f"{m}.rst").write_text(f"{m}\n{'=' * len(m)}\n\n.. automodule:: {m}\n")


def stage(build_dir: Path, src: Path, **run_kwargs) -> None:
    """Lay out the site's sources in `src`: landing page, executed lectures, labs, API."""
    shutil.rmtree(src, ignore_errors=True)
    (src / "lectures").mkdir(parents=True)
    sources = lectures()
    for source, copy in zip(sources, executed.ensure(sources, build_dir, **run_kwargs),
                            strict=True):
        shutil.copy2(copy, src / "lectures" / source.name)
    for lab in sorted(layout(ROOT).release.glob("*/*.ipynb")):  # the student versions
        (src / "labs" / lab.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(lab, src / "labs" / lab.parent.name / lab.name)
    (src / "index.md").write_text(landing_page())
    api_pages(src / "api")


def build(build_dir: Path, out: Path, **run_kwargs) -> Path:
    """Stage the sources in <out>-src and build the site into `out`.

    run_kwargs go to the runner for the notebooks that are stale (executed.ensure)."""
    src = out.with_name(out.name + "-src")
    stage(build_dir, src, **run_kwargs)
    mathjax = assets.source(assets.MATHJAX3)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", "-W", "--keep-going",
           "-c", str(CONF), "-d", str(out.with_name(out.name + "-doctrees")), str(src), str(out)]
    done = subprocess.run(cmd, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"sphinx-build failed (exit {done.returncode}); its warnings are "
                           "above. The command was: " + " ".join(cmd))
    assets.copy(assets.MATHJAX3, out / "_static")
    assert (out / "_static" / "mathjax3" / "tex-mml-chtml.js").is_file(), mathjax
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=ROOT / "build",
                        help="where the executed notebooks are (and are run into when stale)")
    parser.add_argument("--out", type=Path, default=None, help="default: <build>/site")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        out = build(args.build, args.out or args.build / "site")
    except (RuntimeError, assets.MissingAssets) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pages = len(list(out.rglob("*.html")))
    print(f"site: {pages} pages in {out} ({time.perf_counter() - start:.1f} s); "
          f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
