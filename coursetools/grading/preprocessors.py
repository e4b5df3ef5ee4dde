"""Three nbgrader preprocessors for untrusted submissions.

* `KeepFirstGradeId` (in `c.Autograde.sanitize_preprocessors`, instead of DeduplicateIds): a
  student who copies a graded cell makes its grade id appear twice. nbgrader's DeduplicateIds
  empties the metadata of the earlier cells, and a later step then fails with
  `KeyError: 'grade_id'` (issue #1083): the submission cannot be graded. Here the first cell
  keeps the id and every copy becomes an ordinary cell (it still runs; it is not graded), with
  a comment saying so.

* `DropStderrNoise` (in `c.Autograde.autograde_preprocessors`, instead of nbgrader's
  IgnorePattern): nbgrader gives a test cell zero points as soon as it wrote *anything* to
  stderr, so a correct answer that warns or shows a progress bar would lose its points.
  IgnorePattern drops whole stderr outputs that match; but a tqdm bar ends with a separate "\\n"
  and a warning's second line quotes source code, so here the matching *lines* (and a
  warning's indented source line) are removed, and an output left blank is dropped.
* `HideHiddenTests` (first in `c.GenerateFeedback.preprocessors`): the autograded notebook
  holds every test as the instructor wrote it and `generate_feedback` renders it as is
  (nbgrader issues #917, #1363). It removes the `### BEGIN HIDDEN TESTS` regions and shortens
  each error of such a cell to its name and message, since a traceback quotes the failing line;
  and it removes every output line that quotes a hidden test (code that printed its source).
"""

import re

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, IgnorePattern, NbGraderPreprocessor

MAX_MESSAGE = 500
NOTE = "# (hidden tests were run here; their code is not shown)"
COPY_NOTE = "# nbgrader: a copy of graded cell {!r}; it runs but is not graded\n"


class KeepFirstGradeId(NbGraderPreprocessor):
    """The first cell with a grade id keeps it; copies lose their nbgrader metadata."""

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
                continue
            grade_id = cell.metadata.nbgrader.get("grade_id")
            if grade_id in seen:
                self.log.warning("Cell with id %r exists multiple times: the copy is not graded",
                                 grade_id)
                del cell.metadata["nbgrader"]
                cell.source = COPY_NOTE.format(grade_id) + cell.source
            seen.add(grade_id)
        return nb, resources


class DropStderrNoise(IgnorePattern):
    """Remove stderr lines matching `pattern` (warnings, progress bars); drop blank leftovers."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not self.pattern or cell.cell_type != "code":
            return cell, resources
        noise = re.compile(self.pattern)
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = self._clean(output.text, noise)
                if not output.text.strip():
                    continue
            kept.append(output)
        cell.outputs = kept
        return cell, resources

    @staticmethod
    def _clean(text: str, noise: re.Pattern) -> str:
        lines, skipping = [], False
        for line in re.split(r"(?<=\n)", text):
            if noise.search(line):
                skipping = True  # a warning's next, indented line quotes the source
                continue
            if skipping and line[:1] in (" ", "\t"):
                continue
            skipping = False
            lines.append(line)
        return "".join(lines)


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for feedback: also hides the hidden tests' lines in tracebacks, and
    removes any line of any output that quotes a hidden test (a kernel can read a cell's source
    while it runs, from IPython's history or its events, and print it)."""

    def preprocess(self, nb, resources):
        hidden = hidden_lines(nb, self.begin_test_delimeter, self.end_test_delimeter)
        nb, resources = super().preprocess(nb, resources)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                _scrub(output, hidden)
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or self.begin_test_delimeter not in cell.source:
            return cell, resources
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        cell.source = cell.source.rstrip("\n") + "\n" + NOTE
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = str(output.get("evalue", ""))[:MAX_MESSAGE]
                output.traceback = [f"{output.ename}: {message}"]
        return cell, resources


QUOTED = "[a line that quoted a hidden test was removed from the feedback]"
MIN_QUOTE = 8  # shorter hidden lines ("else:", ")") are too common to call a quote


def hidden_lines(nb, begin: str, end: str) -> set[str]:
    """The stripped lines between the hidden-test markers of every cell, and the markers."""
    lines, inside = {begin, end}, False
    for cell in nb.cells:
        for line in cell.get("source", "").splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and len(line.strip()) >= MIN_QUOTE:
                lines.add(line.strip())
    return lines


def _scrub(output, hidden: set[str]) -> None:
    def clean(text: str) -> str:
        return "".join(QUOTED + "\n" if any(h in line for h in hidden) else line
                       for line in re.split(r"(?<=\n)", text))

    if not hidden:
        return
    if "text" in output:
        output.text = clean(output.text)
    for key, value in output.get("data", {}).items():
        if isinstance(value, str):
            output.data[key] = clean(value)
    if output.get("output_type") == "error":
        output.evalue = clean(str(output.get("evalue", "")))
        output.traceback = [clean(line) for line in output.get("traceback", [])]
