"""Model quality: every figure the lectures and labs claim, beside its baseline from the same run.

    make bench-quality [MODE=full] [DEVICE=auto] [JOBS=1] [NB=...]
    .venv/bin/python -m bench.quality --mode full [NOTEBOOK ...]    # runs them, then the table
    .venv/bin/python -m bench.quality --report build/report.json    # the table of a run made

Each notebook prints its headline figures (`rnn_lib.runtime.report`), the model's and its
baseline's, both measured by that run: the runner reads them back into its report. CLAIMS says
which figure is the model, which is its baseline, which way is better and, where a lecture sets
one, the target (or that the model must equal a reference, as lab 3's solution equals the
course's model). The table gives each claim's two figures, whether the model beats its baseline
and meets the target, the model's parameters and the notebook's seconds. A run's report
(`make notebooks MODE=full DEVICE=cuda` on a GPU, or the merged report of its shards) gives the
same table without running anything again (`--report`).
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import publish
from coursetools.notebooks import discover, run_all

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Claim:
    notebook: str  # the notebook's file name without .ipynb
    what: str
    model: str  # the figure names of rnn_lib.runtime.report
    baseline: str
    baseline_name: str
    higher_is_better: bool = True
    target: float | None = None  # full mode's target, where the lecture sets one
    parameters: str | None = None  # the figure that counts the model's parameters
    baseline_parameters: str | None = None  # and the baseline's, where it has any
    match: bool = False  # the claim is that the model equals its baseline (a reference)


CLAIMS = [
    Claim("01_rnn_cell", "majority of a bit sequence, accuracy", "majority_acc", "chance",
          "chance", parameters="parameters"),
    Claim("02_graphs_and_bptt", "second number, T=20, clipped RNN: test MSE",
          "clip_t20_test_mse", "mean_baseline_mse", "predicting the mean", False),
    Claim("02_graphs_and_bptt", "echo, truncated BPTT k=16: accuracy", "tbptt_k16_acc",
          "tbptt_k4_acc", "k=4 (the bit outside the chunk)"),
    Claim("03_lstm", "recall after T-1 steps, LSTM b_f=3: accuracy", "lstm_fb3_acc",
          "rnn_matched_acc", "RNN with as many parameters", parameters="lstm_params",
          baseline_parameters="rnn_matched_params"),
    Claim("04_gru", "recall after T-1 steps, GRU: accuracy", "recall_gru", "recall_rnn", "RNN",
          parameters="gru_params", baseline_parameters="rnn_params"),
    Claim("04_gru", "the same, LSTM", "recall_lstm", "recall_rnn", "RNN",
          parameters="lstm_params", baseline_parameters="rnn_params"),
    Claim("05_deep_and_bidirectional", "tagging, bidirectional H=32: token accuracy",
          "bi32_acc", "uni32_acc", "unidirectional H=32", target=1.0, parameters="bi32_params",
          baseline_parameters="uni32_params"),
    Claim("05_deep_and_bidirectional", "tagging, unidirectional H=32: token accuracy",
          "uni32_acc", "lookup_acc", "most frequent tag", parameters="uni32_params"),
    Claim("06_sequence_problems_and_batching", "sentiment, LSTM: accuracy", "lstm_acc",
          "bow_acc", "bag of words", parameters="lstm_params", baseline_parameters="bow_params"),
    Claim("06_sequence_problems_and_batching", "tagging, bidirectional LSTM: token accuracy",
          "tagger_acc", "lookup_acc", "most frequent tag", parameters="tagger_params"),
    Claim("07_char_language_model", "character LM, LSTM: validation nats/char", "lstm_nats",
          "best_ngram_nats", "best Kneser-Ney n-gram", False, target=1.5,
          parameters="lstm_params"),
    Claim("08_image_captioning", "captioning, greedy: test BLEU", "greedy_bleu", "blind_bleu",
          "decoder without the image", target=90.0, parameters="captioner_params",
          baseline_parameters="blind_params"),
    Claim("08_image_captioning", "the same", "greedy_bleu", "nn_pixel_bleu",
          "nearest neighbour in pixels", parameters="captioner_params"),
    Claim("09_machine_translation", "translation, attention: test BLEU", "attention_bleu",
          "no_attention_bleu", "no attention", parameters="attention_params",
          baseline_parameters="no_attention_params"),
    Claim("09_machine_translation", "the same", "attention_bleu", "word_by_word_bleu",
          "word by word (lexicon)", parameters="attention_params"),
    Claim("lab2_stocks", "stocks, last 100 days, RNN: RMSE", "model_rmse", "naive_rmse",
          "persistence (tomorrow = today)", False, parameters="parameters"),
    Claim("lab3_attention", "lab 3, the solution's attention model: test BLEU", "bleu_yours",
          "bleu_course", "rnn_lib.seq2seq.translate, same weights", target=90.0,
          parameters="parameters", match=True),
]


def _number(text: str | None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def rows(results: list[dict], mode: str) -> list[dict]:
    """One row per claim whose notebook is in `results` (dicts of the runner's Result)."""
    by_name = {Path(r["notebook"]).stem: r for r in results}
    table = []
    for claim in CLAIMS:
        result = by_name.get(claim.notebook)
        if result is None:
            continue
        figures = result.get("figures", {})
        model, base = _number(figures.get(claim.model)), _number(figures.get(claim.baseline))
        row = {"notebook": claim.notebook, "what": claim.what, "model": model,
               "baseline_name": claim.baseline_name, "baseline": base,
               "status": result["status"], "seconds": result["seconds"],
               "parameters": figures.get(claim.parameters) if claim.parameters else None,
               "baseline_parameters": (figures.get(claim.baseline_parameters)
                                       if claim.baseline_parameters else None)}
        if model is None or base is None:
            row["verdict"] = (f"not reported ({claim.model}, {claim.baseline})"
                              if result["status"] == "ok" else "the notebook failed")
        else:
            better = model > base if claim.higher_is_better else model < base
            if claim.match:
                same = abs(model - base) <= 1e-6 * max(1.0, abs(base))
                row["verdict"] = "equals the reference" if same else "DIFFERS from the reference"
            else:
                row["verdict"] = "beats the baseline" if better else "does NOT beat the baseline"
            if mode == "full" and claim.target is not None:
                met = model >= claim.target if claim.higher_is_better else model <= claim.target
                sign = ">=" if claim.higher_is_better else "<="
                row["verdict"] += (f"; target {sign} {claim.target:g} "
                                   + ("met" if met else "NOT met"))
        table.append(row)
    return table


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def format_table(table: list[dict]) -> str:
    head = ["notebook", "claim", "model", "baseline", "", "verdict", "params", "baseline's",
            "nb s"]
    body = [[r["notebook"], r["what"], _show(r["model"]), _show(r["baseline"]),
             f"({r['baseline_name']})", r["verdict"], r["parameters"] or "-",
             r["baseline_parameters"] or "-", f"{r['seconds']:.0f}"] for r in table]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                     .rstrip() for line in [head, *body])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="run these (default: every notebook with a claim)")
    parser.add_argument("--report", type=Path, help="tabulate this run's report.json instead "
                                                    "of running anything")
    parser.add_argument("--mode", default="full", choices=["quick", "full"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--executed", type=Path, default=REPO / "build" / "bench" / "quality",
                        help="where the executed copies go")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "quality.json")
    args = parser.parse_args(argv)
    if args.report is not None:
        if args.notebooks:
            parser.error("expected either --report or notebooks to run, not both")
        try:
            record = json.loads(args.report.read_text())
            results, mode, device = record["results"], record["mode"], record["device"]
        except (OSError, ValueError, KeyError) as err:
            parser.error(f"expected a report.json of `make notebooks` at {args.report}: {err}")
    else:
        claimed = {c.notebook for c in CLAIMS}
        notebooks = [p.resolve() for p in args.notebooks] or [
            p for p in discover() if p.stem in claimed]
        missing = [str(p) for p in notebooks if not p.is_file()]
        if args.jobs < 1 or missing:
            parser.error(f"expected --jobs >= 1 and notebook files; got --jobs {args.jobs}"
                         + (f", missing {', '.join(missing)}" if missing else ""))
        mode, device = args.mode, args.device
        results = [vars(r) for r in run_all(notebooks, args.executed, jobs=args.jobs,
                                            mode=mode, device=device)]
    table = rows(results, mode)
    if not table:
        print("no notebook with a claim in this run (see CLAIMS in bench/quality.py)",
              file=sys.stderr)
        return 1
    publish(f"model quality, {mode} mode, device {device}", format_table(table),
            {"mode": mode, "device": device, "rows": table}, args.out)
    failed = sorted({r["notebook"] for r in table if r["status"] != "ok"})
    if failed:
        print(f"failed: {', '.join(failed)}: their figures are missing", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
