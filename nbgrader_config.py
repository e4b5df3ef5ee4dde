"""nbgrader's configuration for this course (read by every `nbgrader` command run here).

Instructors edit `solutions/<lab>/<lab>.ipynb`; `make release` writes the student version to
`labs/<lab>/`; `make autograde` grades `submitted/<student>/<lab>/` in a sandbox
(coursetools/grading, see the README's grading section).
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    GetGrades,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from coursetools.grading.checks import CheckOutsideKernel
from coursetools.grading.preprocessors import DropStderrNoise, HideHiddenTests, KeepFirstGradeId
from coursetools.grading.sandbox import SandboxedExecute

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# -- layout: sources with solutions and hidden tests, student versions, gradebook -----------
c.CourseDirectory.root = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook is nbgrader's default, <root>/gradebook.db (hidden tests live there).
# Never copy build outputs or checkpoints into a release or an autograded folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "build", "*.db",
                            "reference_checks"]

# -- executing a submission ------------------------------------------------------------------
c.Execute.timeout = 300  # seconds per cell: quick-mode training cells fit on a 2-core CPU
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "rnn-course"  # the course's kernel, whatever the notebook names
# `nbgrader validate` and the Validate button run the student's kernel with the student's
# environment: one PyTorch thread unless OMP_NUM_THREADS says otherwise (PyTorch's default, a
# thread per core, made validating lab 3 take 320 s on 2 cores; it must finish well inside the
# 300 s cell timeout). The sandboxed autograde kernels get Sandbox.threads below.
c.Execute.extra_arguments = [
    "--IPKernelApp.exec_lines=import os; os.environ.setdefault('OMP_NUM_THREADS', '1')"
]
# Validate prints failing messages whole (nbgrader's default cuts every line at 90 characters).
c.Validator.width = 10_000
# The sandbox (coursetools/grading/sandbox.py) confines each kernel: memory, wall clock, CPU
# time, processes, output, files, one PyTorch thread, the kernel's RNN_* environment. Its
# limits are the traits of `Sandbox` there, each with its reason; `make check-sandbox`
# prints the values in force. To change one for this course set it here, e.g.
#   c.Sandbox.memory = 8 * 2**30
# (tests/test_grading.py fails if this file repeats a default instead).
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    KeepFirstGradeId,  # instead of DeduplicateIds, which fails on a copied cell (#1083)
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,  # nbgrader's Execute, in the sandbox
    DropStderrNoise,  # nbgrader's IgnorePattern, line by line
    ClearMetadataPreprocessor,
    LimitOutput,
    CheckOutsideKernel,  # the checked values against the solution's, outside the sandbox
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# A deleted test cell is put back and run; an edited one is overwritten from the gradebook.
c.OverwriteCells.add_missing_cells = True
# Any stderr output fails a test cell in nbgrader: drop warnings and progress bars first.
c.DropStderrNoise.enabled = True
c.DropStderrNoise.pattern = (
    r"(?i)(warning|\d+%\||it/s\]|s/it\]|matplotlib is building the font cache)"
)
c.LimitOutput.max_lines = 1000
# reference_checks/<lab>/ (written by `make release`) is found from the course root
c.CheckOutsideKernel.course_root = c.CourseDirectory.root
c.LimitOutput.max_traceback = 100

# -- feedback: never show hidden tests ---------------------------------------------------------
c.GenerateFeedback.preprocessors = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]

# -- JupyterLab's Assignment List needs an exchange folder that exists (make install makes it) --
c.Exchange.root = c.CourseDirectory.root + "/exchange"
