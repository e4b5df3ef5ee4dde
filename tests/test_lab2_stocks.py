"""The test cells of lab2_stocks (hidden tests included), run without a kernel: the reference
answers pass them, and each classic mistake fails them (a hidden test that a wrong answer
passes is a defect)."""

import numpy as np
import pandas as pd
import pytest
from labcells import lab_path, read_cells, run_cell

from rnn_lib.stocks import load_prices

CELLS = read_cells(lab_path("lab2_stocks"))
GRADED = ("test_make_windows", "test_split_and_normalise", "test_metrics")


def _namespace() -> dict:
    """The lab's names after the reference answers of parts 1-3 have run."""
    ns = {"np": np, "pd": pd, "load_prices": load_prices}
    for grade_id in ("make_windows", "split_and_normalise", "metrics"):
        run_cell(CELLS[grade_id], ns, grade_id)
    return ns


def _run_test_cell(grade_id: str, ns: dict) -> None:
    run_cell(CELLS[grade_id], ns, grade_id)


def _forecast_names(ns, n_test=100, ticker="AAPL"):
    """A stand-in for part 4: a 'model' that predicts the naive forecast plus noise."""
    p = load_prices(ticker).to_numpy()
    truth, naive = p[-n_test:], p[-n_test - 1:-1]
    pred = naive + np.random.default_rng(0).normal(scale=0.5, size=n_test)
    ns.update(TICKER=ticker, N_TEST=n_test, test_pred=pred, test_truth=truth, naive_pred=naive,
              ratio=ns["baseline_ratio"](pred, truth, naive))
    return ns


def test_reference_answers_pass_every_test_cell():
    ns = _namespace()
    for grade_id in GRADED:
        _run_test_cell(grade_id, ns)
    _run_test_cell("test_forecast", _forecast_names(ns))
    for grade_id in GRADED:
        assert "### BEGIN HIDDEN TESTS" in CELLS[grade_id], f"{grade_id} has no hidden tests"


def _window_float64(series, window):
    v = np.asarray(series, dtype=np.float64)
    return np.lib.stride_tricks.sliding_window_view(v[:-1], window).copy(), v[window:].copy()


def _window_by_label(series, window):  # series[i] on a pandas Series reads the label i
    n = len(series) - window
    X = np.array([[series[i + j] for j in range(window)] for i in range(n)], dtype=np.float32)
    return X, np.array([series[i + window] for i in range(n)], dtype=np.float32)


def _window_without_checks(series, window):  # window >= L gives empty arrays, no error
    v = np.asarray(series, dtype=np.float32)
    n = max(len(v) - window, 0)
    X = np.array([v[i:i + window] for i in range(n)], dtype=np.float32).reshape(n, window)
    return X, v[window:window + n].copy()


@pytest.mark.parametrize("broken", [_window_float64, _window_by_label, _window_without_checks])
def test_make_windows_tests_catch_mistakes(broken):
    ns = _namespace()
    ns["make_windows"] = broken
    with pytest.raises(AssertionError):
        _run_test_cell("test_make_windows", ns)


def _split(ns, prices, window, n_val, n_test, fit="train", order="time"):
    """split_and_normalise with one mistake: statistics from `fit`, windows in `order`."""
    p = np.asarray(prices, dtype=np.float64)
    n_days = len(p) - n_val - n_test
    if n_val < 1 or n_test < 1 or n_days <= window:
        raise ValueError("too short")
    stats = {"train": p[:n_days], "train+val": p[:n_days + n_val], "all": p}[fit]
    mean, std = float(stats.mean()), float(stats.std())
    X, y = ns["make_windows"]((p - mean) / std, window)
    idx = np.arange(len(y))
    n_train = len(y) - n_val - n_test
    if order == "random split":
        idx = np.random.default_rng(0).permutation(len(y))
    elif order == "shuffled training":
        idx[:n_train] = np.random.default_rng(0).permutation(n_train)
    parts = {"train": idx[:n_train], "val": idx[n_train:n_train + n_val],
             "test": idx[n_train + n_val:]}
    out = {"mean": mean, "std": std}
    for name, part in parts.items():
        out[f"X_{name}"], out[f"y_{name}"] = X[part], y[part]
    return out


@pytest.mark.parametrize("mistake", [{"fit": "all"}, {"fit": "train+val"},
                                     {"order": "random split"}, {"order": "shuffled training"}])
def test_split_tests_fail_on_leakage(mistake):
    ns = _namespace()
    ns["split_and_normalise"] = lambda *a, **k: _split(ns, *a, **k, **mistake)
    with pytest.raises(AssertionError):
        _run_test_cell("test_split_and_normalise", ns)
    ns["split_and_normalise"] = lambda *a, **k: _split(ns, *a, **k)  # the same code, no mistake
    _run_test_cell("test_split_and_normalise", ns)


def _rmse_broadcasting(pred, truth):
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


@pytest.mark.parametrize("mistake", ["broadcasting rmse", "inverted ratio", "squared ratio"])
def test_metric_tests_catch_mistakes(mistake):
    ns = _namespace()
    rmse = _rmse_broadcasting if mistake == "broadcasting rmse" else ns["rmse"]
    ns["rmse"] = rmse
    if mistake == "inverted ratio":
        ns["baseline_ratio"] = lambda pred, truth, naive: rmse(naive, truth) / rmse(pred, truth)
    elif mistake == "squared ratio":
        ns["baseline_ratio"] = lambda p, t, n: (rmse(p, t) / rmse(n, t)) ** 2
    with pytest.raises(AssertionError):
        _run_test_cell("test_metrics", ns)


@pytest.mark.parametrize("mistake", ["normalised predictions", "ratio off by 1%",
                                     "inverted ratio", "naive shifted", "truth shifted"])
def test_forecast_tests_catch_mistakes(mistake):
    ns = _forecast_names(_namespace())
    p = load_prices("AAPL").to_numpy()
    mean, std = p[:-300].mean(), p[:-300].std()
    if mistake == "normalised predictions":
        ns["test_pred"] = (ns["test_pred"] - mean) / std
        ns["ratio"] = ns["baseline_ratio"](ns["test_pred"], ns["test_truth"], ns["naive_pred"])
    elif mistake == "ratio off by 1%":  # a ratio that is not the one the predictions give
        ns["ratio"] = ns["ratio"] * 1.01
    elif mistake == "inverted ratio":
        ns["ratio"] = 1 / ns["ratio"]
    elif mistake == "naive shifted":  # "today" taken as the target day itself
        ns["naive_pred"] = ns["test_truth"]
    else:
        ns["test_truth"] = p[-101:-1]
    with pytest.raises(AssertionError):
        _run_test_cell("test_forecast", ns)
