"""Unpack a zip of submissions into the layout nbgrader expects: submitted/<student>/<lab>/.

    python -m coursetools.grading collect ZIP [--lab LAB] [--force]

Accepted entries (a single top folder around everything is ignored):

    <student>/<lab>/<file>       any lab of solutions/
    <student>/<lab>.ipynb        the notebook of that lab
    <student>/<file>             with --lab LAB
    <student>_<lab>.ipynb        a flat export from a learning-management system

Every name is checked before anything is written: a student id of letters, digits and
`_ . @ -`; a known lab; no absolute paths, `..`, links or hidden files; at most 50 MB unpacked
per file. With any bad entry nothing is unpacked and every problem is listed. An existing
submission is replaced only with --force.
"""

import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from .autograde import notebook_names
from .layout import layout
from .release import source_labs

STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_FILE = 50 * 2**20


class CollectError(ValueError):
    """The zip cannot be unpacked as it is; the message lists every bad entry."""


def plan(names: list[str], labs: list[str], lab: str | None) -> tuple[dict, list[str]]:
    """Map zip entries to (student, lab, relative path); return (mapping, problems).

    A single folder around everything (an LMS export) is dropped when that reading of the
    zip has fewer problems than the literal one.
    """
    files = [n for n in names if not n.endswith("/")]
    tops = {PurePosixPath(n).parts[0] for n in files}
    readings = [_plan(files, labs, lab, strip=False)]
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in files):
        readings.append(_plan(files, labs, lab, strip=True))
    return min(readings, key=lambda reading: len(reading[1]))


def _plan(files, labs, lab, strip):
    problems, mapping = [], {}
    for name in files:
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or "\\" in name:
            problems.append(f"{name}: unsafe path")
            continue
        if strip:
            parts = parts[1:]
        if any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue  # .DS_Store, .ipynb_checkpoints, macOS resource forks
        target = _target(parts, labs, lab)
        if isinstance(target, str):
            problems.append(f"{name}: {target}")
        elif target in mapping.values():
            problems.append(f"{name}: a second file for {'/'.join(target)}")
        else:
            mapping[name] = target
    return mapping, problems


def _target(parts, labs, lab):
    if len(parts) == 1:  # student_lab.ipynb
        match = re.match(r"^(.+?)_(" + "|".join(map(re.escape, labs)) + r")\.ipynb$", parts[0])
        if not match:
            return (f"expected <student>/<lab>/<file> or <student>_<lab>.ipynb with a lab of "
                    f"{', '.join(labs)}")
        student, found, rest = match.group(1), match.group(2), (f"{match.group(2)}.ipynb",)
    elif len(parts) == 2 and parts[1].endswith(".ipynb") and parts[1][:-6] in labs:
        student, found, rest = parts[0], parts[1][:-6], (parts[1],)
    elif parts[1] in labs and len(parts) > 2:
        student, found, rest = parts[0], parts[1], parts[2:]
    elif lab:
        student, found, rest = parts[0], lab, parts[1:]
    else:
        return (f"unknown lab {parts[1]!r}: expected one of {', '.join(labs)} (for "
                "<student>/<file> entries give the lab: make collect ZIP=... LAB=<lab>, or --lab)")
    if not STUDENT.match(student):
        return (f"bad student id {student!r}: expected letters, digits and _ . @ - "
                "(at most 64, starting with a letter or digit)")
    if found not in labs:
        return f"unknown lab {found!r}: expected one of {', '.join(labs)}"
    return (student, found, *rest)


def collect(root: Path, archive: Path, lab: str | None = None, force: bool = False,
            out=print) -> list[tuple[str, str]]:
    """Unpack `archive` into root/submitted; return the (student, lab) pairs written."""
    root = Path(root).resolve()
    base = layout(root).submitted
    shown = layout(root).rel(base)  # as the TA types it
    labs = source_labs(root)
    if lab and lab not in labs:
        raise CollectError(f"expected LAB= (--lab) to be one of {', '.join(labs)}, got {lab!r}")
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as err:
        raise CollectError(f"expected a zip file, got {archive}: {err}") from err
    with zf:
        infos = {info.filename: info for info in zf.infolist()}
        mapping, problems = plan(list(infos), labs, lab)
        for name in mapping:
            info = infos[name]
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(f"{name}: a symbolic link")
            elif info.file_size > MAX_FILE:
                problems.append(f"{name}: {info.file_size} bytes, more than {MAX_FILE}")
        pairs = sorted({(t[0], t[1]) for t in mapping.values()})
        existing = [p for p in pairs if (base / p[0] / p[1]).exists()]
        if existing and not force:
            problems += [f"{shown}/{s}/{la} exists already (use --force to replace it)"
                         for s, la in existing]
        if problems:
            raise CollectError("nothing was unpacked; fix these entries:\n  "
                               + "\n  ".join(problems))
        for student, found in pairs:
            shutil.rmtree(base / student / found, ignore_errors=True)
        for name, (student, found, *rest) in mapping.items():
            dest = base / student / found / Path(*rest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(name) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst, length=2**20)
    for student, found in pairs:
        problem, extra = notebook_names(root, student, found)
        if problem:
            out(f"  {shown}/{student}/{found}/: {problem}")
        elif extra:
            out(f"  {shown}/{student}/{found}/: also holds {', '.join(extra)}, not graded "
                "(not a notebook of the lab)")
        else:
            out(f"  {shown}/{student}/{found}/")
    out(f"unpacked {len(pairs)} submission(s) from {archive}")
    return pairs
