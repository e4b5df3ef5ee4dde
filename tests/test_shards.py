"""Sharded notebook runs: the split, the merge, and N shards run apart equal one run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools import shards

ROOT = Path(__file__).resolve().parent.parent


def test_balance_puts_every_notebook_in_one_shard_longest_first_on_the_least_loaded():
    names = ["a", "b", "c", "d", "e"]
    seconds = {"a": 60, "b": 50, "c": 40, "d": 10}  # e unknown: the median, 45
    split = shards.balance(names, seconds, 2)
    assert sorted(sum(split, [])) == names
    # a (60) -> 1, b (50) -> 2, e (45) -> 2, c (40) -> 1, d (10) -> 2: 100 against 105
    assert split == [["a", "c"], ["b", "d", "e"]]
    assert shards.balance(names, seconds, 2) == split, "the same inputs give the same split"
    assert shards.balance(names, {}, 5) == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert shards.balance(["a"], {}, 3) == [["a"], [], []]


@pytest.mark.parametrize("spec", ["0/3", "4/3", "2", "a/b", "1/0"])
def test_a_bad_shard_spec_says_what_is_expected(spec):
    with pytest.raises(shards.ShardError, match="SHARD must be i/N with 1 <= i <= N"):
        shards.parse(spec)


def _report(tmp_path, index, count, mode="quick", notebooks=("x",)):
    path = tmp_path / shards.report_name(index, count)
    path.write_text(json.dumps({
        "mode": mode, "device": "cpu", "seed": 0, "shard": {"index": index, "count": count},
        "results": [{"notebook": n, "status": "ok", "seconds": 1.0, "device": "cpu",
                     "output": n} for n in notebooks]}))
    return path


def test_merge_refuses_a_missing_shard_and_shards_of_different_runs(tmp_path):
    one = _report(tmp_path, 1, 3)
    three = _report(tmp_path, 3, 3)
    with pytest.raises(shards.ShardError, match=r"shards \[2\] of 3 are missing"):
        shards.merge([one, three])
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(shards.ShardError, match="different mode"):
        shards.merge([one, _report(other, 2, 3, mode="full"), three])
    with pytest.raises(shards.ShardError, match="no shard reports"):
        shards.merge([])


def _run(*args, out):
    return subprocess.Popen([sys.executable, "-m", "coursetools.notebooks", "--device", "cpu",
                             "--out", str(out), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.notebook
def test_two_shards_run_apart_then_merged_equal_one_unsharded_run(tmp_path):
    notebooks = ["solutions/lab1_cells/lab1_cells.ipynb", "lectures/01_rnn_cell.ipynb"]
    sharded, whole = tmp_path / "sharded", tmp_path / "whole"
    procs = [_run("--shard", f"{i}/2", *notebooks, out=sharded) for i in (1, 2)]
    procs.append(_run(*notebooks, out=whole))  # the baseline, one run of both
    for proc in procs:
        output = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0, output[-3000:]
    done = subprocess.run([sys.executable, "-m", "coursetools.shards", "merge",
                           "--out", str(sharded / "report.json")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((sharded / "report.json").read_text())
    unsharded = json.loads((whole / "report.json").read_text())
    by_name = {r["notebook"]: r for r in merged["results"]}
    assert sorted(by_name) == sorted(notebooks), "each notebook ran in exactly one shard"
    for result in unsharded["results"]:
        mine = by_name[result["notebook"]]
        assert mine["status"] == result["status"] == "ok"
        assert mine["figures"] == result["figures"], result["notebook"]
    assert merged["shards"] == 2 and (sharded / "solutions" / "lab1_cells").is_dir()


def _shell(expression: str, env: dict) -> str:
    return subprocess.run(["bash", "-c", f'echo "{expression}"'], env=env, text=True,
                          capture_output=True, check=True).stdout.strip()


def test_the_launchers_give_every_task_its_own_shard_of_the_same_n():
    import re

    import yaml

    job = yaml.safe_load((ROOT / "launchers" / "k8s-notebooks-job.yaml").read_text())
    spec = job["spec"]
    container = spec["template"]["spec"]["containers"][0]
    count = int(next(e["value"] for e in container["env"] if e["name"] == "SHARDS"))
    assert spec["completionMode"] == "Indexed" and spec["completions"] == count
    shard = re.search(r"SHARD=(.*)$", container["command"][-1]).group(1)
    got = [shards.parse(_shell(shard, {"JOB_COMPLETION_INDEX": str(k), "SHARDS": str(count)}))
           for k in range(count)]  # Kubernetes counts from 0
    assert got == [(i, count) for i in range(1, count + 1)]

    for name in ("slurm-notebooks.sbatch", "slurm-autograde.sbatch"):
        sbatch = (ROOT / "launchers" / name).read_text()
        low, high = map(int, re.search(r"#SBATCH --array=(\d+)-(\d+)", sbatch).groups())
        shard = re.search(r'SHARD="([^"]+)"', sbatch).group(1)
        got = [shards.parse(_shell(shard, {"SLURM_ARRAY_TASK_ID": str(k),
                                           "SLURM_ARRAY_TASK_COUNT": str(high - low + 1)}))
               for k in range(low, high + 1)]
        assert got == [(i, high) for i in range(1, high + 1)], name
        assert subprocess.run(["bash", "-n", str(ROOT / "launchers" / name)]).returncode == 0

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "notebooks-gpu.yml").read_text())
    matrix = workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    run = next(s["run"] for s in workflow["jobs"]["shard"]["steps"] if "SHARD=" in s.get("run", ""))
    assert f"SHARD=${{{{ matrix.shard }}}}/{len(matrix)}" in run and matrix == list(
        range(1, len(matrix) + 1))
    merge = str(workflow["jobs"]["merge"]["steps"])
    assert "coursetools.shards merge" in merge
    assert "bench.quality --report build/report.json" in merge  # the results table's figures
