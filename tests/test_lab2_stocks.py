"""The test cells of lab2_stocks (hidden tests included), run without a kernel: the reference
answers pass them, and each classic mistake fails exactly the cells that test it, with a
message that names it (in lines that nbgrader validate shows whole): a mistake costs only the
points of its own part (a hidden test that a wrong answer passes is a defect)."""

import numpy as np
import pandas as pd
import pytest
from labcells import (
    graded_cells,
    lab_path,
    long_lines,
    read_cells,
    run_cell,
    run_cells,
    strip_hidden,
)

from rnn_lib.stocks import load_prices

LAB = lab_path("lab2_stocks")
CELLS = read_cells(LAB)
GRADED = [name for name in graded_cells(LAB) if name in CELLS]  # the code cells
PARTS = {"make_windows": ["test_make_windows", "test_make_windows_types",
                          "test_make_windows_errors"],
         "split_and_normalise": ["test_split_and_normalise", "test_split_by_time",
                                 "test_split_normalisation"],
         "metrics": ["test_rmse", "test_rmse_shapes", "test_baseline_ratio"],
         "model_and_training": ["test_forecast"]}


def _namespace(cells=CELLS) -> dict:
    """The lab's names after the reference answers of parts 1-3 have run, and a stand-in for
    part 4 (see _forecast_names)."""
    ns = {"np": np, "pd": pd, "load_prices": load_prices}
    for grade_id in ("make_windows", "split_and_normalise", "metrics"):
        run_cell(cells[grade_id], ns, grade_id)
    return _forecast_names(ns)


def _forecast_names(ns, n_test=100, n_val=200, ticker="AAPL"):
    """A stand-in for part 4: a 'model' that predicts the naive forecast plus noise."""
    p = load_prices(ticker).to_numpy()
    truth, naive = p[-n_test:], p[-n_test - 1:-1]
    pred = naive + np.random.default_rng(0).normal(scale=0.5, size=n_test)
    ns.update(TICKER=ticker, N_TEST=n_test, N_VAL=n_val, test_pred=pred, test_truth=truth,
              naive_pred=naive, ratio=ns["baseline_ratio"](pred, truth, naive))
    return ns


def _failures(ns, cells=CELLS) -> dict:
    """{graded test cell: its error} for those that fail, all of them run on `ns`."""
    results = run_cells(cells, ns, GRADED)
    return {name: error for name, error in results.items() if error is not None}


def test_every_graded_cell_belongs_to_a_part():
    assert sorted(sum(PARTS.values(), [])) == sorted(GRADED)
    for tests in PARTS.values():
        for name in tests:
            assert "### BEGIN HIDDEN TESTS" in CELLS[name] or name == "test_forecast", name


def test_reference_answers_pass_every_test_cell():
    assert _failures(_namespace()) == {}


def test_student_version_passes_the_reference_answers_and_shows_nothing():
    """The visible checks alone (hidden tests removed) pass the reference answers, and no test
    cell ends with an expression that displays a value (nbgrader reads it as a score)."""
    visible = {name: strip_hidden(source) for name, source in CELLS.items()}
    shown = {}
    results = run_cells(visible, _namespace(visible), GRADED, shown=shown)
    assert results == dict.fromkeys(GRADED), {k: e for k, e in results.items() if e}
    assert not shown


# --- part 1: make_windows
def _checked(make_windows):
    """make_windows with the reference's ValueErrors: the mistake is elsewhere."""
    def checked(series, window):
        shape = np.shape(series)
        if len(shape) != 1 or not 1 <= window < shape[0]:
            raise ValueError("bad window")
        return make_windows(series, window)

    return checked


@_checked
def _window_float64(series, window):
    v = np.asarray(series, dtype=np.float64)
    return np.lib.stride_tricks.sliding_window_view(v[:-1], window).copy(), v[window:].copy()


@_checked
def _window_by_label(series, window):  # series[i] on a pandas Series reads the label i
    n = len(series) - window
    X = np.array([[series[i + j] for j in range(window)] for i in range(n)], dtype=np.float32)
    return X, np.array([series[i + window] for i in range(n)], dtype=np.float32)


def _window_without_checks(series, window):  # window >= L gives empty arrays, no error
    v = np.asarray(series, dtype=np.float32)
    n = max(len(v) - window, 0)
    X = np.array([v[i:i + window] for i in range(n)], dtype=np.float32).reshape(n, window)
    return X, v[window:window + n].copy()


@_checked
def _window_target_in_window(series, window):  # y[i] = the window's own last value
    v = np.asarray(series, dtype=np.float32)
    return np.lib.stride_tricks.sliding_window_view(v[:-1], window).copy(), v[window - 1:-1].copy()


WINDOW_MISTAKES = {  # the make_windows it uses, {cell it fails: what the message says}
    "float64 arrays": (_window_float64, {"test_make_windows_types": "expected float32 arrays"}),
    "pandas Series read by label": (
        _window_by_label, {"test_make_windows_types": "(read the series by position"}),
    "no ValueError": (_window_without_checks,
                      {"test_make_windows_errors": "should raise a ValueError"}),
    # a windowing bug costs part 1 only: part 2 is graded with a reference make_windows
    "target inside the window": (
        _window_target_in_window,
        {"test_make_windows": "y[i] is the last value of window i"}),
}


def _assert_fails_exactly(failures, expected):
    assert set(failures) == set(expected), failures
    for cell, phrase in expected.items():
        error = failures[cell]
        assert error.startswith("AssertionError: ") and phrase in error, (cell, error)
        assert not long_lines(error.removeprefix("AssertionError: ")), (cell, error)


@pytest.mark.parametrize("mistake", WINDOW_MISTAKES)
def test_make_windows_mistakes_fail_only_part_1(mistake):
    broken, expected = WINDOW_MISTAKES[mistake]
    ns = _namespace()
    ns["make_windows"] = broken
    _assert_fails_exactly(_failures(ns), expected)
    assert ns["make_windows"] is broken, "a test cell must put the student's function back"


# --- part 2: split_and_normalise
def _split(ns, prices, window, n_val, n_test, fit="train", order="time", ddof=0):
    """split_and_normalise with one mistake: statistics from `fit`, windows in `order`."""
    p = np.asarray(prices, dtype=np.float64)
    n_days = len(p) - n_val - n_test
    if n_val < 1 or n_test < 1 or n_days <= window:
        raise ValueError("too short")
    stats = {"train": p[:n_days], "train+val": p[:n_days + n_val], "all": p}[fit]
    mean, std = float(stats.mean()), float(stats.std(ddof=ddof))
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


SPLIT_MISTAKES = {
    "normalised with all the days": ({"fit": "all"}, {"test_split_normalisation": "leakage"}),
    "normalised with training and validation days": (
        {"fit": "train+val"}, {"test_split_normalisation": "leakage: fit the normalisation"}),
    "std with ddof=1": ({"ddof": 1}, {"test_split_normalisation": "use ddof=0"}),
    "random split": ({"order": "random split"}, {"test_split_by_time": "never at random"}),
    "shuffled training windows": (
        {"order": "shuffled training"},
        {"test_split_by_time": "shuffled: keep them in time order"}),
}


@pytest.mark.parametrize("mistake", SPLIT_MISTAKES)
def test_split_mistakes_fail_only_their_cells(mistake):
    kwargs, expected = SPLIT_MISTAKES[mistake]
    ns = _namespace()
    ns["split_and_normalise"] = lambda *a, **k: _split(ns, *a, **k, **kwargs)
    _assert_fails_exactly(_failures(ns), expected)
    ns["split_and_normalise"] = lambda *a, **k: _split(ns, *a, **k)  # the same code, no mistake
    assert _failures(ns) == {}


# --- part 3: rmse and baseline_ratio
def _rmse_broadcasting(pred, truth):
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


def _mse(pred, truth):
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if pred.shape != truth.shape:
        raise ValueError("shapes differ")
    return float(np.mean((pred - truth) ** 2))


METRIC_MISTAKES = {  # (rmse, baseline_ratio given rmse, {cell: phrase}); None: the reference
    # a mistake in rmse costs rmse's points only: baseline_ratio is graded with a reference
    "broadcasting rmse": (_rmse_broadcasting, None,
                          {"test_rmse_shapes": "must raise a ValueError"}),
    "mean squared error": (_mse, None, {"test_rmse": "expected sqrt(4/3)"}),
    "inverted ratio": (None, lambda rmse: lambda p, t, n: rmse(n, t) / rmse(p, t),
                       {"test_baseline_ratio": "baseline_ratio is inverted"}),
    "squared ratio": (None, lambda rmse: lambda p, t, n: (rmse(p, t) / rmse(n, t)) ** 2,
                      {"test_baseline_ratio": "baseline_ratio is squared"}),
}


@pytest.mark.parametrize("mistake", METRIC_MISTAKES)
def test_metric_mistakes_fail_only_their_cells(mistake):
    rmse, ratio, expected = METRIC_MISTAKES[mistake]
    ns = _namespace()
    if rmse is not None:
        ns["rmse"] = rmse
    if ratio is not None:
        ns["baseline_ratio"] = ratio(ns["rmse"])
    # part 4 computes its ratio with the student's baseline_ratio: right or wrong, it is
    # what part 3 made, and costs part 3 only
    _forecast_names(ns)
    _assert_fails_exactly(_failures(ns), expected)


# --- part 4: the forecast
FORECAST_MISTAKES = {
    "normalised predictions": "test_pred looks normalised",
    "predictions of shuffled days": "never at random",
    "ratio off by 1%": "ratio should be RMSE(test_pred)/RMSE(naive_pred)",
    "inverted ratio": "ratio is inverted",
    "naive shifted": "naive_pred[t] should be the true price of the day before t",
    "truth shifted": "test_truth should be the true last N_TEST prices",
}


@pytest.mark.parametrize("mistake", FORECAST_MISTAKES)
def test_forecast_mistakes_fail_the_forecast_cell(mistake):
    ns = _namespace()
    p = load_prices("AAPL").to_numpy()
    mean, std = p[:-300].mean(), p[:-300].std()
    if mistake == "normalised predictions":
        ns["test_pred"] = (ns["test_pred"] - mean) / std
    elif mistake == "predictions of shuffled days":  # a random split: X_test from any days
        days = np.random.default_rng(0).choice(len(p) - 1, size=100, replace=False)
        ns["test_pred"] = p[days] + np.random.default_rng(1).normal(scale=0.5, size=100)
    elif mistake == "ratio off by 1%":  # a ratio that is not the one the predictions give
        ns["ratio"] = ns["ratio"] * 1.01
    elif mistake == "inverted ratio":
        ns["ratio"] = 1 / ns["ratio"]
    elif mistake == "naive shifted":  # "today" taken as the target day itself
        ns["naive_pred"] = ns["test_truth"]
    else:
        ns["test_truth"] = p[-101:-1]
    if mistake in ("normalised predictions", "predictions of shuffled days"):
        ns["ratio"] = ns["baseline_ratio"](ns["test_pred"], ns["test_truth"], ns["naive_pred"])
    _assert_fails_exactly(_failures(ns), {"test_forecast": FORECAST_MISTAKES[mistake]})
