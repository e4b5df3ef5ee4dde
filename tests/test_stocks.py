"""rnn_lib.stocks: every ticker loads offline, sorted by date, and mistakes are named."""

import gzip
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import bokeh_sampledata
import numpy as np
import pandas as pd
import pytest

from rnn_lib.stocks import COLUMNS, TICKERS, UnknownTickerError, load_prices, plot_prices

# (trading days, first date, last date) of each ticker in bokeh_sampledata 2026.1
EXPECTED = {
    "AAPL": (3270, "2000-03-01", "2013-03-01"),
    "FB": (196, "2012-05-18", "2013-03-01"),
    "GOOG": (2148, "2004-08-19", "2013-03-01"),
    "IBM": (3270, "2000-03-01", "2013-03-01"),
    "MSFT": (3270, "2000-03-01", "2013-03-01"),
}


def _raw_rows(ticker):
    """The package's own CSV rows for one ticker, read without bokeh_sampledata's code."""
    path = f"{bokeh_sampledata.__path__[0]}/_data/stocks.csv.gz"
    with gzip.open(path, "rt") as f:
        header = next(f).strip().lower().split(",")  # Ticker,Date,...,Close,...
        rows = [dict(zip(header, line.strip().split(","), strict=True)) for line in f]
    return [r for r in rows if r["ticker"] == ticker]


@pytest.mark.parametrize("ticker", TICKERS)
def test_every_ticker_loads_sorted_and_unique(ticker):
    prices = load_prices(ticker)
    n, first, last = EXPECTED[ticker]
    assert isinstance(prices, pd.Series) and isinstance(prices.index, pd.DatetimeIndex)
    assert len(prices) == n, f"{ticker}: expected {n} trading days, got {len(prices)}"
    assert prices.index[0] == pd.Timestamp(first) and prices.index[-1] == pd.Timestamp(last)
    assert prices.index.is_monotonic_increasing and prices.index.is_unique
    assert prices.index.name == "date" and prices.name == f"{ticker} adj_close"
    assert prices.dtype == np.float64
    assert np.isfinite(prices.to_numpy()).all() and (prices.to_numpy() > 0).all()


def test_values_match_the_package_file():
    rows = _raw_rows("IBM")
    prices = load_prices("IBM", column="close")
    expected = pd.Series([float(r["close"]) for r in rows],
                         index=pd.to_datetime([r["date"] for r in rows]))
    np.testing.assert_array_equal(prices.to_numpy(), expected.sort_index().to_numpy())
    assert prices["2013-03-01"] == float(rows[-1]["close"])


def test_ticker_is_case_insensitive_and_columns_differ():
    pd.testing.assert_series_equal(load_prices("msft"), load_prices("MSFT"))
    assert set(COLUMNS) == {"open", "high", "low", "close", "volume", "adj_close"}
    volume = load_prices("MSFT", column="volume")
    assert volume.name == "MSFT volume" and volume.min() > 1e5


def test_adjusted_close_has_no_split_jump():
    # MSFT split 2:1 on 2003-02-18: the raw close halves that day, the adjusted one does not.
    day = pd.Timestamp("2003-02-18")
    raw, adj = load_prices("MSFT", "close"), load_prices("MSFT", "adj_close")
    i = raw.index.get_loc(day)
    assert raw.iloc[i] / raw.iloc[i - 1] < 0.55, "expected the raw close to halve at the split"
    assert abs(adj.iloc[i] / adj.iloc[i - 1] - 1) < 0.05, "adj_close should not jump at a split"


@pytest.mark.parametrize("bad", ["TSLA", "", "AAPL ", None, 3])
def test_unknown_ticker_is_a_clear_error(bad):
    if bad == "AAPL ":  # surrounding spaces are forgiven, not an error
        assert len(load_prices(bad)) == EXPECTED["AAPL"][0]
        return
    with pytest.raises(UnknownTickerError, match="expected a ticker in AAPL, FB, GOOG"):
        load_prices(bad)
    assert issubclass(UnknownTickerError, ValueError)


def test_unknown_column_is_a_clear_error():
    with pytest.raises(UnknownTickerError, match="expected a column in .*got 'price'"):
        load_prices("AAPL", column="price")


def test_plot_prices_shades_validation_and_test():
    prices = load_prices("FB")
    ax = plot_prices(prices, n_val=40, n_test=100)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["FB adj_close", "validation (40 days)", "test (100 days)"]
    assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == len(prices)
    assert len(ax.patches) == 2
    ax_plain = plot_prices(prices)  # no periods: nothing shaded
    assert len(ax_plain.patches) == 0
    with pytest.raises(ValueError, match="expected 0 <= n_val \\+ n_test < len\\(prices\\) = 196"):
        plot_prices(prices, n_val=100, n_test=96)
    matplotlib.pyplot.close("all")


# -- lab2_stocks: its test cells pass the solution and catch the classic mistakes -------------
# The lab's autograded test cells (hidden tests included) are run here on the reference answers
# and on broken ones, without a kernel: a hidden test that a wrong answer passes is a defect.

LAB = Path(__file__).resolve().parents[1] / "solutions" / "lab2_stocks" / "lab2_stocks.ipynb"


def _lab_cells() -> dict[str, str]:
    cells = json.loads(LAB.read_text())["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
            for c in cells if "nbgrader" in c["metadata"]}


def _namespace() -> dict:
    """The lab's names after the reference answers of parts 1-3 have run."""
    ns = {"np": np, "pd": pd, "load_prices": load_prices}
    for grade_id in ("make_windows", "split_and_normalise", "metrics"):
        exec(_lab_cells()[grade_id], ns)
    return ns


def _run_test_cell(grade_id: str, ns: dict) -> None:
    exec(_lab_cells()[grade_id], ns)


def _forecast_names(ns, n_test=100, ticker="AAPL"):
    """A stand-in for part 4: a 'model' that predicts the naive forecast plus noise."""
    p = load_prices(ticker).to_numpy()
    truth, naive = p[-n_test:], p[-n_test - 1:-1]
    pred = naive + np.random.default_rng(0).normal(scale=0.5, size=n_test)
    ns.update(TICKER=ticker, N_TEST=n_test, test_pred=pred, test_truth=truth, naive_pred=naive,
              ratio=ns["baseline_ratio"](pred, truth, naive))
    return ns


def test_lab_reference_answers_pass_every_test_cell():
    ns = _namespace()
    for grade_id in ("test_make_windows", "test_split_and_normalise", "test_metrics"):
        _run_test_cell(grade_id, ns)
    _run_test_cell("test_forecast", _forecast_names(ns))
    cells = _lab_cells()
    for grade_id in ("test_make_windows", "test_split_and_normalise", "test_metrics"):
        assert "### BEGIN HIDDEN TESTS" in cells[grade_id], f"{grade_id} has no hidden tests"


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
def test_lab_make_windows_tests_catch_mistakes(broken):
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
def test_lab_split_tests_fail_on_leakage(mistake):
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
def test_lab_metric_tests_catch_mistakes(mistake):
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
def test_lab_forecast_tests_catch_mistakes(mistake):
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
