"""Real daily stock prices that ship offline, for the forecasting lab (lab2).

The prices come from the `bokeh_sampledata` package (Quandl's public-domain WIKI prices,
March 2000 to March 2013; FB from its listing in May 2012), read from the package's own file:
nothing is downloaded. This module only *loads and shows* the data; cutting it into windows,
splitting it by time and normalising it are the lab's exercises and live in the lab notebook.

    prices = load_prices("AAPL")          # pandas Series of floats, indexed by trading day
    plot_prices(prices, n_val=200, n_test=100)

Why "adj_close" by default: the raw closing price drops by half on the day of a 2:1 stock
split (MSFT on 2003-02-18, AAPL in 2000 and 2005) although nobody lost money; the adjusted
close divides the history by every later split and dividend, so a jump in it is a real move.
"""

import numpy as np
import pandas as pd

TICKERS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")  # what bokeh_sampledata.stocks ships
COLUMNS = ("open", "high", "low", "close", "volume", "adj_close")


class UnknownTickerError(ValueError):
    """A ticker (or column) that bokeh_sampledata.stocks does not ship."""


def load_prices(ticker: str = "AAPL", column: str = "adj_close") -> pd.Series:
    """Load one stock's daily prices as a date-indexed series.

    Args:
        ticker: one of TICKERS (case-insensitive), e.g. "AAPL".
        column: one of COLUMNS; "adj_close" (default) is the split- and dividend-adjusted close.

    Returns:
        A float64 pandas Series of length L (one value per trading day, no gaps filled),
        indexed by a sorted, unique DatetimeIndex named "date", named "<TICKER> <column>".

    Raises:
        UnknownTickerError: for a ticker or column the package does not ship.
    """
    if not isinstance(ticker, str) or ticker.strip().upper() not in TICKERS:
        raise UnknownTickerError(f"expected a ticker in {', '.join(TICKERS)}, got {ticker!r}")
    if column not in COLUMNS:
        raise UnknownTickerError(f"expected a column in {', '.join(COLUMNS)}, got {column!r}")
    ticker = ticker.strip().upper()
    import bokeh_sampledata.stocks as sampledata  # reads a 1 MB gzip file: only when asked

    raw = getattr(sampledata, ticker)
    series = pd.Series(np.asarray(raw[column], dtype=np.float64),
                       index=pd.DatetimeIndex(pd.to_datetime(raw["date"]), name="date"),
                       name=f"{ticker} {column}")
    series = series[~series.index.duplicated(keep="last")].sort_index()
    return series


def plot_prices(prices: pd.Series, n_val: int = 0, n_test: int = 0, ax=None):
    """Plot a price series and shade its validation and test periods (the last days).

    Args:
        prices: a date-indexed series, as returned by `load_prices`.
        n_val: the number of trading days of the validation period (just before the test).
        n_test: the number of trading days of the test period (the last ones).
        ax: a matplotlib axis (a new figure when None).

    Returns:
        The matplotlib axis.
    """
    import matplotlib.pyplot as plt

    if n_val < 0 or n_test < 0 or n_val + n_test >= len(prices):
        raise ValueError(f"expected 0 <= n_val + n_test < len(prices) = {len(prices)}, "
                         f"got n_val={n_val}, n_test={n_test}")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    dates = prices.index
    ax.plot(dates, prices.to_numpy(), lw=0.8, color="black", label=prices.name or "price")
    L = len(prices)
    periods = [("validation", L - n_test - n_val, L - n_test, "tab:orange"),
               ("test", L - n_test, L, "tab:red")]
    for label, start, stop, color in periods:
        if stop > start:  # shade from the first day of the period to its last
            ax.axvspan(dates[start], dates[stop - 1], color=color, alpha=0.2,
                       label=f"{label} ({stop - start} days)")
    ax.set_xlabel("date")
    ax.set_ylabel("price (USD)")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return ax
