"""Temporal harmonisation: irregular, cloudy series into regular composites (12 monthly medians a year).

Rule, per pixel and band:

1. **Composite**: the median of the clear observations (cloud mask 0, value not NaN) acquired in
   the period (a calendar month; or 8-day periods from 1 January, 46 a year, the last one shorter).
2. **Fill**: a period with no clear observation takes the linear interpolation, over the period
   number, between the nearest earlier and the nearest later period with one; before the first or
   after the last such period, the nearest one's value. Filled entries are flagged in ``filled``.
3. A pixel with no clear observation in the whole year stays NaN in every period (``filled`` is
   false there); inference leaves such pixels unclassified.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ml.errors import InvalidModelInput


@dataclass(frozen=True)
class Composites:
    """``values`` (periods, rows, cols, bands); ``filled`` marks values filled by the rule; ``starts`` the periods' first days."""

    values: np.ndarray
    filled: np.ndarray
    starts: np.ndarray


def period_for(card) -> str | int:
    """The compositing period that gives a crop model's number of steps: 12 months or 46 8-day periods."""
    steps = card.input_shape[0]
    if steps not in (12, 46):
        raise InvalidModelInput(f"Model {card.name} takes {steps} steps; a cube can be composited to 12 (months) or 46 (8 days).")
    return "month" if steps == 12 else 8


def period_edges(year: int, period: str | int = "month") -> np.ndarray:
    """The periods' first days and the next year's 1 January: "month", or a number of days.

    >>> period_edges(2016)[[0, 1, -1]].astype(str).tolist()
    ['2016-01-01', '2016-02-01', '2017-01-01']
    >>> len(period_edges(2016, 8)) - 1
    46
    """
    first, last = np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year + 1}-01-01", "D")
    if period == "month":
        return np.arange(np.datetime64(f"{year}-01"), np.datetime64(f"{year + 1}-02"), dtype="datetime64[M]").astype("datetime64[D]")
    if isinstance(period, int) and period > 0:
        return np.append(np.arange(first, last, np.timedelta64(period, "D")), last)
    raise InvalidModelInput(f"Got period={period!r}; give 'month' or a number of days such as 8.")


def composites(values: np.ndarray, clouds: np.ndarray, timestamps, year: int, period: str | int = "month") -> Composites:
    """Median composites of ``values`` (dates, rows, cols, bands) over the periods of ``year``.

    ``clouds`` has the values' shape (or lacks the bands axis); non-zero means cloudy.
    """
    values = np.asarray(values, dtype="float32")
    clouds = np.asarray(clouds)
    if values.ndim != 4:
        raise InvalidModelInput(f"Got values of shape {values.shape}; give (dates, rows, cols, bands).")
    if clouds.shape not in (values.shape, values.shape[:3]):
        raise InvalidModelInput(f"The cloud mask's shape {clouds.shape} does not match the values' {values.shape}.")
    stamps = np.asarray(timestamps, dtype="datetime64[s]")
    if len(stamps) != len(values):
        raise InvalidModelInput(f"Got {len(stamps)} timestamps for {len(values)} dates.")
    clear = (clouds == 0).reshape(*clouds.shape[:3], -1) & ~np.isnan(values)
    masked = np.where(clear, values, np.nan)
    edges = period_edges(year, period).astype("datetime64[s]")
    out = np.full((len(edges) - 1, *values.shape[1:]), np.nan, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: periods without a clear view
        for p in range(len(edges) - 1):
            chosen = (stamps >= edges[p]) & (stamps < edges[p + 1])
            if chosen.any():
                out[p] = np.nanmedian(masked[chosen], axis=0)
    filled = fill_gaps(out)
    return Composites(filled, np.isnan(out) & ~np.isnan(filled), edges[:-1].astype("datetime64[D]"))


def fill_gaps(series: np.ndarray) -> np.ndarray:
    """NaNs along axis 0 filled by linear interpolation over the index, nearest value at the ends.

    >>> fill_gaps(np.array([np.nan, 1.0, np.nan, np.nan, 4.0, np.nan])).tolist()
    [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    """
    n = len(series)
    flat = series.reshape(n, -1)
    valid = ~np.isnan(flat)
    index = np.arange(n)[:, None]
    before = np.maximum.accumulate(np.where(valid, index, -1), axis=0)
    after = np.minimum.accumulate(np.where(valid, index, n)[::-1], axis=0)[::-1]
    lo, hi = np.where(before < 0, after, before), np.where(after >= n, before, after)
    ok = (lo >= 0) & (lo < n)  # a series with no value at all stays NaN
    lo, hi = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
    cols = np.arange(flat.shape[1])[None, :]
    span = np.where(hi > lo, hi - lo, 1)
    weight = np.where(hi > lo, (index - lo) / span, 0.0)
    filled = flat[lo, cols] * (1 - weight) + flat[hi, cols] * weight
    return np.where(valid, flat, np.where(ok, filled, np.nan)).reshape(series.shape).astype(series.dtype)
