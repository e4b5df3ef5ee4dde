"""rnn_lib.stocks: every ticker loads offline, sorted by date, and mistakes are named."""

import gzip

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
