"""bench/quality.py: each claim names figures its notebook reports, the verdicts, the table of
a report made elsewhere (a GPU run) and of a run of its own."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from bench import quality
from coursetools import checkout
from coursetools.notebooks import discover


def reported_names(notebook) -> set[str]:
    """The keyword names of the notebook's `report(...)` calls."""
    source = "\n".join("".join(cell["source"]) for cell in
                       json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code")
    names = set()
    for call in re.finditer(r"(?<![\w.])report\(", source):
        depth, end = 0, call.end() - 1
        for end in range(call.end() - 1, len(source)):
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            if depth == 0:
                break
        names |= set(re.findall(r"(\w+)=", source[call.end():end]))
    return names


def test_every_claim_names_figures_its_notebook_reports():
    notebooks = {p.stem: p for p in discover()}
    for claim in quality.CLAIMS:
        assert claim.notebook in notebooks, claim
        names = reported_names(notebooks[claim.notebook])
        wanted = {claim.model, claim.baseline} | (
            {claim.parameters, claim.baseline_parameters} - {None})
        assert wanted <= names, (claim, sorted(wanted - names))
    lectures = {p.stem for p in discover() if p.parent.name == "lectures"}
    assert lectures <= {c.notebook for c in quality.CLAIMS}  # every lecture claims something


def result(notebook: str, status: str = "ok", **figures) -> dict:
    return {"notebook": f"lectures/{notebook}.ipynb", "status": status, "seconds": 12.0,
            "figures": {k: str(v) for k, v in figures.items()}}


def test_verdicts_follow_the_direction_and_the_target_in_full_mode():
    results = [result("07_char_language_model", lstm_nats=1.6, best_ngram_nats=1.7,
                      lstm_params=1000),
               result("lab2_stocks", model_rmse=2.0, naive_rmse=1.5, parameters=99)]
    full = {r["notebook"]: r for r in quality.rows(results, "full")}
    assert full["07_char_language_model"]["verdict"] == (
        "beats the baseline; target <= 1.5 NOT met")
    assert full["07_char_language_model"]["parameters"] == "1000"
    assert full["lab2_stocks"]["verdict"] == "does NOT beat the baseline"
    quick = quality.rows(results, "quick")
    assert quick[0]["verdict"] == "beats the baseline"  # targets are full mode's


def test_a_failed_or_silent_notebook_is_said_so():
    results = [result("01_rnn_cell", status="failed"), result("lab2_stocks", model_rmse=1.0)]
    verdicts = [r["verdict"] for r in quality.rows(results, "full")]
    assert verdicts == ["the notebook failed", "not reported (model_rmse, naive_rmse)"]


def test_the_table_of_a_report_made_elsewhere(tmp_path, capsys):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"mode": "full", "device": "cuda", "results": [
        result("09_machine_translation", attention_bleu=97.5, no_attention_bleu=40.2,
               word_by_word_bleu=34.7, attention_params=607594)]}))
    out = tmp_path / "quality.json"
    assert quality.main(["--report", str(report), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "model quality, full mode, device cuda" in printed
    line = next(x for x in printed.splitlines() if "word by word" in x)
    assert "97.5" in line and "34.7" in line and "beats the baseline" in line
    assert [r["baseline"] for r in json.loads(out.read_text())["rows"]] == [40.2, 34.7]


@pytest.mark.parametrize("content", [None, "{}", "not json"])
def test_a_bad_report_is_refused_with_what_was_expected(tmp_path, content, capsys):
    report = tmp_path / "report.json"
    if content is not None:
        report.write_text(content)
    with pytest.raises(SystemExit) as stop:
        quality.main(["--report", str(report)])
    assert stop.value.code == 2
    assert "expected a report.json of `make notebooks`" in capsys.readouterr().err


def test_a_quick_run_of_its_own(tmp_path, capsys):
    notebook = next(p for p in discover() if p.stem == "01_rnn_cell")
    out = tmp_path / "quality.json"
    assert quality.main(["--mode", "quick", "--device", "cpu", str(notebook),
                         "--executed", str(tmp_path / "run"), "--out", str(out)]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert row["status"] == "ok" and row["model"] is not None and row["baseline"] is not None
    assert row["verdict"].endswith("the baseline") and row["parameters"]
    assert "01_rnn_cell" in capsys.readouterr().out


def test_make_bench_quality_is_full_mode_unless_mode_is_given():
    repo = Path(__file__).resolve().parent.parent

    def dry(*args):
        return subprocess.run(["make", "-n", "bench-quality", *args], cwd=repo, text=True,
                              capture_output=True, check=True, env=checkout.user_env(repo)).stdout

    assert "-m bench.quality --mode full --device auto" in dry()
    assert "-m bench.quality --mode quick --device cpu --jobs 1" in dry(
        "MODE=quick", "DEVICE=cpu", "JOBS=1")
    everything = subprocess.run(["make", "-n", "bench"], cwd=repo, text=True,
                                capture_output=True, check=True, env=checkout.user_env(repo))
    assert "-m bench.quality --mode full" in everything.stdout  # `make bench` includes it


def test_a_claim_of_equality_says_whether_the_two_figures_agree():
    same = result("lab3_attention", bleu_yours=98.12, bleu_course=98.12, parameters=10)
    other = result("lab3_attention", bleu_yours=97.0, bleu_course=98.12, parameters=10)
    assert quality.rows([same], "quick")[0]["verdict"] == "equals the reference"
    assert quality.rows([other], "full")[0]["verdict"] == (
        "DIFFERS from the reference; target >= 90 met")
