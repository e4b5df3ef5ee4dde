"""Grade submissions one after the other: `nbgrader autograde`, then `generate_feedback`.

    python -m coursetools.grading.worker ROOT RESULTS (LAB:STUDENT ... | -) [--overrides JSON]

The driver (autograde.py) starts these worker processes (one per job) and hands each the next
submission from one shared queue on its stdin (`-`) when it is free: after each submission
the worker writes RESULTS/<index>.json, {"ok": bool, "error": str,
"seconds": float} (the seconds of grading that submission alone). nbgrader
catches what goes wrong inside one submission; a worker that hangs or dies is killed by the
driver, which records that submission as failed and starts a new worker for the rest. Loading
nbgrader takes seconds, so one process grades many submissions.
"""

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from .feedback import mark_pending_feedback
from .gradebook import gradebook_url
from .layout import layout, load_config


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _run(converter_class, config: Config, lab: str, student: str, errors: _Errors) -> None:
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lab
    coursedir.student_id = student
    converter = converter_class(coursedir=coursedir, config=config)
    converter.force = True
    converter.log.addHandler(errors)
    converter.start()


def feedback(root: Path, lab: str, student: str, config: Config, errors=None) -> None:
    """nbgrader's generate_feedback for one graded submission, hand-graded parts pending."""
    _run(GenerateFeedback, config, lab, student, errors or _Errors())
    mark_pending_feedback(layout(root, config), *gradebook_url(config, root), lab, student)


def grade(root: Path, lab: str, student: str, overrides: dict | None = None) -> dict:
    """Autograde and write feedback for one submission; never raises."""
    errors = _Errors()
    try:
        config = load_config(root, overrides)
        _run(Autograde, config, lab, student, errors)
        feedback(root, lab, student, config, errors)
        return {"ok": True, "error": ""}
    except Exception as err:  # noqa: BLE001 - the reason goes to the report, not a traceback
        lines = [line for line in errors.lines if line.strip()]
        detail = next((line.strip().splitlines()[-1] for line in reversed(lines)
                       if "Traceback" in line), "")
        return {"ok": False, "error": detail or f"{type(err).__name__}: {err}"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("results", type=Path)
    parser.add_argument("submissions", nargs="+",
                        help="LAB:STUDENT ...; or - to read one LAB:STUDENT per line from stdin")
    parser.add_argument("--overrides", default="{}", help="JSON {'Section.name': value}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    root = args.root.resolve()
    os.chdir(root)
    items = sys.stdin if args.submissions == ["-"] else args.submissions
    for index, item in enumerate(line.strip() for line in items):
        lab, student = item.split(":", 1)
        logging.info("grading %s / %s", student, lab)
        start = time.monotonic()
        result = grade(root, lab, student, json.loads(args.overrides))
        result["seconds"] = round(time.monotonic() - start, 1)
        tmp = args.results / f"{index}.tmp"
        tmp.write_text(json.dumps(result))
        tmp.replace(args.results / f"{index}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
