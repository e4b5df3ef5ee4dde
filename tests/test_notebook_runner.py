"""coursetools.notebooks: the papermill runner behind `make notebooks` and `make all`."""

import json
import os

import nbformat
import pytest
import torch

from coursetools import notebooks


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("quick = True\ndevice = 'auto'\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "rnn-course", "display_name": "RNN course",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def pair(tmp_path):
    good = _notebook(tmp_path / "good.ipynb",
                     "from rnn_lib.runtime import setup\ndev = setup(device, seed)",
                     "assert quick is False and seed == 5")
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('the loss is nan')",
                    "y = 2")
    return good, bad


def test_a_failing_notebook_is_named_with_its_cell_and_the_others_still_run(pair, tmp_path,
                                                                             capsys):
    good, bad = pair
    out = tmp_path / "build"
    code = notebooks.main([str(bad), str(good), "--mode", "full", "--device", "cpu",
                           "--seed", "5", "--out", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "FAILED" in printed and "bad.ipynb" in printed
    source_line = "\"raise ValueError('the loss is nan')\""
    assert f"cell 3 (counting from 1 in the source notebook: {source_line})" in printed
    assert "raised ValueError: the loss is nan" in printed
    report = json.loads((out / "report.json").read_text())
    status = {r["notebook"].split("/")[-1]: r for r in report["results"]}
    assert status["bad.ipynb"]["status"] == "failed"
    assert status["good.ipynb"]["status"] == "ok"  # ran after the failure, with the parameters
    assert status["good.ipynb"]["device"] == "cpu"
    assert report["mode"] == "full"
    assert (out / "good.ipynb").exists() and (out / "bad.ipynb").exists()


def test_parallel_jobs_give_the_same_report(pair, tmp_path):
    good, bad = pair
    results = notebooks.run_all([good, bad], tmp_path / "b", jobs=2, mode="full",
                                device="cpu", seed=5, kernel="rnn-course")
    assert [r.status for r in results] == ["ok", "failed"]


@pytest.mark.parametrize(("args", "message"), [
    (["--mode", "fast"], "MODE must be one of quick, full, got 'fast'"),
    (["--device", "tpu"], "DEVICE must be one of auto, cpu, cuda, got 'tpu'"),
    (["--seed", "x"], "SEED must be an integer"),
    (["--kernel", "no-such-kernel"],
     "kernel 'no-such-kernel' is not installed: run `make install`"),
    (["missing.ipynb"], "not a notebook file: missing.ipynb"),
])
def test_bad_arguments_are_refused_before_anything_runs(args, message, capsys, tmp_path):
    assert notebooks.main(args + ["--out", str(tmp_path / "b")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_cuda_without_a_gpu_is_refused(capsys, tmp_path):
    import torch

    code = notebooks.main(["--device", "cuda", "--out", str(tmp_path / "b"), "x.ipynb"])
    if torch.cuda.is_available():
        assert "DEVICE=cuda" not in capsys.readouterr().err
    else:
        assert code == 2
        err = capsys.readouterr().err
        assert "no CUDA GPU is visible" in err and "DEVICE=cpu" in err


def test_discovery_finds_lectures_before_solutions():
    found = notebooks.discover()
    folders = [p.relative_to(notebooks.ROOT).parts[0] for p in found]
    assert folders == sorted(folders, key=("lectures", "solutions").index)


def test_the_report_carries_the_figures_the_notebook_reported(tmp_path):
    nb = _notebook(tmp_path / "fig.ipynb", "from rnn_lib.runtime import report, setup\n"
                   "dev = setup(device, seed)\nreport(acc=0.75 + seed / 100, n=3)")
    result = notebooks.run_one(nb, tmp_path / "out.ipynb", device="cpu", seed=2, threads=1)
    assert result.status == "ok"
    assert result.figures == {"acc": "0.77", "n": "3"}
    assert (result.seed, result.threads) == (2, 1)
    assert "acc=0.77, n=3" in notebooks.format_report([result], "quick")


def test_a_run_leaves_the_callers_environment_as_it_was(tmp_path, monkeypatch):
    monkeypatch.delenv("RNN_PROGRESS", raising=False)
    monkeypatch.setenv("RNN_SEED", "41")
    nb = _notebook(tmp_path / "env.ipynb", "import os\nassert os.environ['RNN_SEED'] == '3'\n"
                   "assert os.environ['RNN_PROGRESS'] == '0'")
    assert notebooks.run_one(nb, tmp_path / "out.ipynb", seed=3, threads=1).status == "ok"
    assert "RNN_PROGRESS" not in os.environ and os.environ["RNN_SEED"] == "41"


def test_runs_in_threads_each_give_their_own_kernel_its_environment(tmp_path):
    """The runner never sets its own os.environ for a kernel: two runs at once in one process
    (threads) each see their own seed."""
    from concurrent.futures import ThreadPoolExecutor

    def one(seed):
        nb = _notebook(tmp_path / f"s{seed}.ipynb",
                       f"import os\nassert os.environ['RNN_SEED'] == '{seed}'")
        return notebooks.run_one(nb, tmp_path / f"out{seed}.ipynb", seed=seed, threads=1)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, [5, 6]))
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]


def test_modes_and_devices_are_rnn_lib_runtimes():
    from rnn_lib import runtime

    for mode in runtime.MODES:
        notebooks.check_mode(mode)
    with pytest.raises(notebooks.UsageError, match="MODE must be one of quick, full"):
        notebooks.check_mode("fast")
    with pytest.raises(notebooks.UsageError, match="DEVICE must be one of auto, cpu, cuda"):
        notebooks.check_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(notebooks.UsageError, match="no CUDA GPU is visible"):
            notebooks.check_device("cuda")


def test_text_table_sizes_columns_to_their_widest_cell_and_aligns_numbers_right():
    lines = notebooks.text_table(["name", "seconds"], [["a", "1.5"], ["longer", "12.0"]],
                                 right={1})
    assert lines == ["name    seconds", "------  -------", "a           1.5",
                     "longer     12.0"]
