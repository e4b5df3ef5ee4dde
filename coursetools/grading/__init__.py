"""Course grading with nbgrader: release the labs, collect and autograde submissions.

    python -m coursetools.grading release [LAB ...]
    python -m coursetools.grading collect ZIP [--lab LAB]
    python -m coursetools.grading autograde [--jobs N] [--force] [--student S] [--shard i/N]
                                            [LAB ...]
    python -m coursetools.grading merge-grades
    python -m coursetools.grading grades
    python -m coursetools.grading check-sandbox

nbgrader does the grading (`nbgrader_config.py` in the course root); this package only adds
what a course with untrusted submissions needs around it: a sandbox for every kernel
(`sandbox.py`), one process per submission so that one failure never stops the others
(`autograde.py`, `worker.py`), feedback without hidden tests and safer defaults for nbgrader's
own steps (`preprocessors.py`), each checked value compared outside the kernel with the
solution's (`checks.py`), feedback that marks hand-graded parts pending (`feedback.py`),
`grades.csv` and a summary (`report.py`), a class graded in shards on many machines and
merged into one gradebook (`shards.py`), a zip unpacker for TAs (`collect.py`), the
gradebook opened however the commands are invoked (`gradebook.py`), and releasing the labs
with `generate_assignment` (`release.py`). Every module takes the folders from nbgrader's
`CourseDirectory` as `nbgrader_config.py` sets them (`layout.py`, also its one reader).
"""
