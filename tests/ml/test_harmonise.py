"""Monthly composites of the real eo-learn patch, checked against a computation by hand."""

from __future__ import annotations

import statistics
from datetime import datetime

import numpy as np
import pytest

from ml.errors import InvalidModelInput
from ml.harmonise import composites
from ml.series import load_eopatch


@pytest.fixture(scope="module")
def patch():
    return load_eopatch()


def _by_hand(patch, row, col, year, month):
    """The median of the clear NDVI values of one pixel in one month, with plain Python."""
    values = []
    for i, stamp in enumerate(patch.timestamps.astype(str)):
        when = datetime.fromisoformat(stamp)
        if (when.year, when.month) == (year, month) and patch.clouds[i, row, col, 0] == 0:
            values.append(float(patch.ndvi[i, row, col, 0]))
    return statistics.median(values) if values else None


def test_monthly_medians_and_the_filling_rule_match_a_hand_computation(patch):
    result = composites(patch.ndvi, patch.clouds, patch.timestamps, 2016)
    assert result.values.shape == (12, 101, 100, 1)
    assert result.starts.astype(str).tolist()[:2] == ["2016-01-01", "2016-02-01"]
    checked_median = checked_fill = 0
    for row, col in [(0, 0), (50, 50), (100, 99), (20, 70)]:
        hand = [_by_hand(patch, row, col, 2016, m) for m in range(1, 13)]
        known = [m for m, v in enumerate(hand) if v is not None]
        for m, value in enumerate(hand):
            got = float(result.values[m, row, col, 0])
            if value is not None:
                assert got == pytest.approx(value, abs=1e-6) and not result.filled[m, row, col, 0]
                checked_median += 1
                continue
            before = [k for k in known if k < m]
            after = [k for k in known if k > m]
            if before and after:  # linear between the nearest months with a clear view
                a, b = before[-1], after[0]
                expected = hand[a] + (hand[b] - hand[a]) * (m - a) / (b - a)
            else:  # the nearest month's value at the ends of the year
                expected = hand[(before or after)[-1 if before else 0]]
            assert got == pytest.approx(expected, abs=1e-6) and result.filled[m, row, col, 0]
            checked_fill += 1
    assert checked_median >= 20 and checked_fill >= 8  # both parts of the rule were exercised


def test_a_pixel_never_clear_stays_unknown_and_bad_shapes_are_refused(patch):
    clouds = patch.clouds.copy()
    clouds[:, 3, 4] = 1
    result = composites(patch.ndvi, clouds, patch.timestamps, 2016)
    assert np.isnan(result.values[:, 3, 4]).all() and not result.filled[:, 3, 4].any()
    assert not np.isnan(result.values[:, 3, 5]).any()
    with pytest.raises(InvalidModelInput, match="does not match"):
        composites(patch.ndvi, clouds[:, :50], patch.timestamps, 2016)
    with pytest.raises(InvalidModelInput, match="68 dates"):
        composites(patch.ndvi, clouds, patch.timestamps[:10], 2016)
    with pytest.raises(InvalidModelInput, match="'month' or a number of days"):
        composites(patch.ndvi, clouds, patch.timestamps, 2016, period="week")


def test_eight_day_composites_give_46_periods(patch):
    result = composites(patch.ndvi, patch.clouds, patch.timestamps, 2016, period=8)
    assert result.values.shape[0] == 46 and not np.isnan(result.values).any()
