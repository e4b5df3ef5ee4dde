"""Feedback a student can read right after autograde: hand-graded parts marked as pending.

nbgrader's feedback shows a written answer or a task that waits for a TA in Formgrader as
"Score: 0.0 / 3.0", and the notebook's total as if those points were lost. `mark_pending`
rewrites the HTML that `generate_feedback` wrote: each such part reads "Score: pending
(graded by hand) / 3.0" and the total says how many points are still to be graded. Once a
TA has saved the manual scores, `make grades` (or Formgrader's own "generate feedback")
writes the feedback again with the real scores.
"""

import re

from .layout import Layout

PENDING = "pending (graded by hand)"


def pending_parts(gb, lab: str, student: str) -> dict[str, dict[str, float]]:
    """{notebook: {grade_id: max score}} of the parts that still need a manual grade."""
    found = {}
    for notebook in gb.find_submission(lab, student).notebooks:
        parts = {grade.name: float(grade.max_score) for grade in notebook.grades
                 if grade.needs_manual_grade}
        if parts:
            found[notebook.name] = parts
    return found


def mark_pending(html: str, parts: dict[str, float]) -> str:
    """The feedback page `html` with the scores of `parts` ({grade_id: points}) marked pending."""
    for grade_id in parts:
        name = re.escape(grade_id)
        # the table of contents: <li><a href="#id">Written response</a> (Score: 0.0 / 3.0)
        html = re.sub(rf'(<a href="#{name}">[^<]*</a> \(Score: )[\d.]+( / )',
                      rf"\g<1>{PENDING}\g<2>", html)
        # the part's own heading: <a name="id"></a> ... Score: 0.0 / 3.0
        html = re.sub(rf'(<a name="(?:comment-)?{name}"></a>.*?Score: )[\d.]+( / )',
                      rf"\g<1>{PENDING}\g<2>", html, count=1, flags=re.DOTALL)
    if parts:
        points = sum(parts.values())
        html = re.sub(r"(<h4>[^<(]*\(Score: [\d.]+ / [\d.]+)\)",
                      rf"\g<1>; {points:g} point(s) still to be graded by hand)", html, count=1)
    return html


def mark_pending_feedback(folders: Layout, db_url: str, course_id: str, lab: str,
                          student: str) -> None:
    """Rewrite feedback/<student>/<lab>/*.html with the hand-graded parts marked pending."""
    from .gradebook import open_gradebook

    with open_gradebook(db_url, course_id) as gb:
        pending = pending_parts(gb, lab, student)
    for notebook, parts in pending.items():
        path = folders.feedback / student / lab / f"{notebook}.html"
        if path.is_file():
            path.write_text(mark_pending(path.read_text(encoding="utf-8"), parts),
                            encoding="utf-8")
