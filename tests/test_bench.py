"""bench/grading.py: its table, and what it refuses (the timing itself is the bench's job)."""

import json
import re

import pytest

from bench import grading as bench
from coursetools.grading import report


def test_summary_gives_each_labs_seconds_and_the_throughput_against_one_worker():
    runs = {"JOBS=1": {"wall": 40.0, "count": 4, "seconds": {"lab1_cells": [4.0, 6.0],
                                                             "lab2_stocks": [10.0, 12.0]}},
            "JOBS=2": {"wall": 25.0, "count": 4, "seconds": {"lab1_cells": [5.0, 7.0],
                                                             "lab2_stocks": [11.0, 13.0]}}}
    table = bench.summary(runs, ["lab1_cells", "lab2_stocks"])
    lab1 = next(line for line in table.splitlines() if line.startswith("lab1_cells"))
    assert "5.0 (4.0-6.0, n=2)" in lab1 and "6.0 (5.0-7.0, n=2)" in lab1
    assert "wall, JOBS=2: 25.0 s for 4 submissions (1.60x" in table


def test_a_submission_that_was_not_graded_fails_the_bench(tmp_path):
    report.write_status(tmp_path, report.Status("student01", "lab1_cells", "graded", "d",
                                                seconds=3.5))
    report.write_status(tmp_path, report.Status("student02", "lab1_cells", "failed", "d",
                                                reason="cell timeout"))
    assert bench.seconds_per_lab(tmp_path, ["lab1_cells"], ["student01"]) == {"lab1_cells": [3.5]}
    with pytest.raises(bench.BenchError, match="student02/lab1_cells was not graded: cell timeout"):
        bench.seconds_per_lab(tmp_path, ["lab1_cells"], ["student01", "student02"])


@pytest.mark.parametrize("args", [["--students", "0"], ["--jobs", "0"], ["--labs", "lab9"]])
def test_bad_arguments_are_refused_before_anything_runs(args, capsys):
    with pytest.raises(SystemExit) as stop:
        bench.main(args)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert "expected --students >= 1, --jobs >= 1 and labs among lab1_cells" in error


def test_the_bench_grades_a_solution_in_a_fresh_copy_and_writes_its_figures(tmp_path, capsys):
    out = tmp_path / "grading.json"
    assert bench.main(["--students", "1", "--jobs", "1", "--labs", "lab1_cells",
                       "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "released lab1_cells in" in printed and "wall, JOBS=1:" in printed
    figures = json.loads(out.read_text())
    assert list(figures["runs"]) == ["JOBS=1"]  # --jobs 1: no second run
    (seconds,) = figures["runs"]["JOBS=1"]["seconds"]["lab1_cells"]
    assert 0 < seconds < figures["runs"]["JOBS=1"]["wall"]


def test_the_layer_bench_times_rnn_lib_against_torch_on_the_same_weights(tmp_path, capsys):
    from bench import layers as bench_layers

    out = tmp_path / "layers.json"
    assert bench_layers.main(["--sizes", "4x6x8", "--kinds", "LSTM", "GRU",
                              "--min-run-time", "0.01", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^LSTM +4x6x8  forward\+backward ", printed, re.MULTILINE)
    figures = json.loads(out.read_text())
    assert [row["kind"] for row in figures["rows"]] == ["LSTM", "GRU"]
    for row in figures["rows"]:
        for mode in ("forward", "forward+backward"):
            m = row[mode]
            assert m["torch_ms"] > 0 and m["rnn_lib_ms"] > 0 and m["per_step_cells_ms"] > 0
            assert m["ratio"] == pytest.approx(m["rnn_lib_ms"] / m["torch_ms"], rel=0.05)


@pytest.mark.parametrize("args", [["--sizes", "32x50"], ["--kinds", "Transformer"],
                                  ["--threads", "0"]])
def test_the_layer_bench_refuses_bad_arguments(args, capsys):
    from bench import layers as bench_layers

    with pytest.raises(SystemExit) as stop:
        bench_layers.main(args)
    assert stop.value.code == 2
    assert "expected sizes NxTxH (like 32x50x64)" in capsys.readouterr().err


@pytest.mark.notebook
def test_the_notebook_bench_times_each_notebook_alone_and_with_jobs(tmp_path, capsys):
    from bench import notebooks as bench_notebooks

    out = tmp_path / "notebooks.json"
    lab = "solutions/lab1_cells/lab1_cells.ipynb"
    assert bench_notebooks.main([lab, "--jobs", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sum of notebook times" in printed and "JOBS=2: " in printed
    figures = json.loads(out.read_text())
    assert list(figures["runs"]) == ["JOBS=1", "JOBS=2"]
    for run in figures["runs"].values():
        assert 0 < run["seconds"][lab] <= run["wall"]


def test_the_notebook_bench_refuses_bad_arguments(capsys):
    from bench import notebooks as bench_notebooks

    with pytest.raises(SystemExit) as stop:
        bench_notebooks.main(["--jobs", "0"])
    assert stop.value.code == 2
    assert "expected --jobs >= 1 and notebook files" in capsys.readouterr().err
