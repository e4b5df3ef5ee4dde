"""Regenerate the student versions in `labs/` (and the gradebook) from `solutions/`.

    python -m coursetools.grading release [LAB ...]

Each lab is `nbgrader generate_assignment LAB --force`: the student notebook loses its
solutions (a `raise NotImplementedError()` stub) and hidden tests, and the gradebook gets the
full test cells that autograde puts back. Running it twice gives the same files. Then the
solution runs once in the sandbox, and the values its tests check are kept in
`reference_checks/<lab>/` for the grader (checks.py).
"""

import shutil
import subprocess
import sys
from pathlib import Path

from .checks import compute_references
from .gradebook import nbgrader_env
from .layout import layout, load_config
from .sandbox import SandboxError


class ReleaseError(RuntimeError):
    """A lab could not be released; the message holds nbgrader's reason."""


def source_labs(root: Path) -> list[str]:
    """The labs found in solutions/: every folder holding at least one notebook."""
    folder = layout(root).source
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))


def release(root: Path, labs: list[str] | None = None, quiet: bool = True) -> list[str]:
    """Run generate_assignment for `labs` (default: all); return the labs released."""
    root = Path(root).resolve()
    folders = layout(root)
    known = source_labs(root)
    labs = labs or known
    unknown = sorted(set(labs) - set(known))
    if unknown:
        raise ReleaseError(f"expected labs from {folders.source} ({', '.join(known) or 'none'}), "
                           f"got {', '.join(unknown)}")
    for lab in labs:
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", lab, "--force"],
            cwd=root, env=nbgrader_env(), capture_output=True, text=True)
        errors = [line for line in done.stderr.splitlines() if "ERROR" in line or "Error" in line]
        if done.returncode != 0 or not (folders.release / lab).is_dir():
            raise ReleaseError(f"generate_assignment {lab} failed (exit {done.returncode}):\n"
                               + "\n".join(errors[-15:] or done.stderr.splitlines()[-15:]))
        for junk in (folders.release / lab).rglob(".ipynb_checkpoints"):
            shutil.rmtree(junk)
        references(root, lab)
        if not quiet:
            print(f"released {lab}: {folders.rel(folders.release / lab)}/ and "
                  f"{folders.rel(folders.references / lab)}/")
    return labs


def references(root: Path, lab: str) -> None:
    """What the solution of `lab` checks, for the grader to compare outside the sandbox."""
    try:
        compute_references(root, lab, load_config(root))
    except (RuntimeError, SandboxError) as err:
        raise ReleaseError(f"the reference checks of {lab} could not be computed: {err}") from err


MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_SECRET = 12  # shorter lines ("return x", "pass") are too common to call a leak


def secret_lines(notebooks: list[Path]) -> set[str]:
    """Lines of solutions and hidden tests that appear nowhere else in these source notebooks.

    A line counts when it is inside a `### BEGIN SOLUTION` / `### BEGIN HIDDEN TESTS` region or
    in a markdown solution cell, is at least MIN_SECRET characters once stripped, and is not
    also a public line (a line outside those regions) of any of the notebooks.
    """
    import nbformat

    secret, public = set(), set()
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            # nbgrader replaces a whole markdown answer, unless it marks the answer's region
            whole = (cell.cell_type == "markdown" and meta.get("solution")
                     and MARKERS[0] not in cell.source)
            inside = False
            for line in cell.source.splitlines():
                text = line.strip()
                if any(marker in text for marker in MARKERS[::2]):
                    inside = True
                elif any(marker in text for marker in MARKERS[1::2]):
                    inside = False
                elif text:
                    (secret if inside or whole else public).add(text)
    return {line for line in secret - public if len(line) >= MIN_SECRET}


def find_leaks(root: Path) -> list[str]:
    """Every place in labs/ where a secret line of solutions/ or a marker appears."""
    import nbformat

    root, folders = Path(root), layout(root)
    sources = sorted(folders.source.glob("*/*.ipynb"))
    if not sources:  # a search with nothing to look for would always pass
        raise ReleaseError(f"expected lab notebooks in {folders.source}/<lab>/ to search "
                           f"{folders.release}/ for: check nbgrader_config.py in {root}")
    secrets = secret_lines(sources)
    leaks = []
    for path in sorted(p for p in folders.release.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":  # search the sources as written, not JSON-escaped
            try:
                text += "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
            except Exception:  # noqa: BLE001 - a broken notebook is still searched as text
                pass
        # A secret leaks when it stands as a line of its own (a substring match would flag
        # every public line that merely contains a short secret such as "model.eval()").
        lines = {line.strip() for line in text.splitlines()}
        for needle in sorted(secrets & lines):
            leaks.append(f"{path.relative_to(root)}: {needle!r}")
        for marker in MARKERS:
            if marker in text:
                leaks.append(f"{path.relative_to(root)}: {marker!r}")
    return leaks
