"""coursetools.robustness: the notebooks over seeds x thread counts, in one table."""

import json

import nbformat
import pytest

from coursetools import robustness


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("quick = True\ndevice = 'auto'\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "rnn-course", "display_name": "RNN course",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_every_seed_and_thread_count_gets_a_row_and_the_figures_a_range(tmp_path, capsys):
    # The "lesson" holds for seed 0 only: the table must show which run broke it.
    nb = _notebook(tmp_path / "lesson.ipynb",
                   "import os\nfrom rnn_lib.runtime import report\n"
                   "report(acc=0.9 - 0.1 * seed, threads=int(os.environ['OMP_NUM_THREADS']))\n"
                   "assert seed == 0, 'the effect vanished'")
    out = tmp_path / "rob"
    code = robustness.main([str(nb), "--seeds", "0 1", "--threads", "1", "2", "--out", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    rows = [ln.split()[1:4] for ln in printed.splitlines() if ln.startswith(str(nb))]
    assert rows == [["0", "1", "ok"], ["0", "2", "ok"], ["1", "1", "failed"],
                    ["1", "2", "failed"]], printed  # 2 seeds x 2 thread counts, in order
    assert "acc=0.8 .. 0.9" in printed and "threads=1 .. 2" in printed
    assert "2/4 ok" in printed and "2 of 4 runs ok" in printed
    assert "FAILED" in printed and "(seed 1, threads 1)" in printed
    report = json.loads((out / "report.json").read_text())
    runs = {(r["seed"], r["threads"]): r["status"] for r in report["results"]}
    assert runs == {(0, 1): "ok", (0, 2): "ok", (1, 1): "failed", (1, 2): "failed"}
    assert (out / "seed1-threads2").is_dir() and (out / "report.txt").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--seeds", "0 x"], "SEEDS must be integers >= 0"),
    (["--threads", "0"], "THREADS must be integers >= 1"),
    (["--threads", ""], "THREADS is empty"),
    (["--mode", "fast"], "MODE must be one of quick, full"),
    (["missing.ipynb"], "not a notebook file: missing.ipynb"),
])
def test_bad_arguments_are_refused_before_anything_runs(args, message, capsys, tmp_path):
    assert robustness.main(args + ["--out", str(tmp_path / "b")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
