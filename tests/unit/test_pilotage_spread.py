"""Percentiles read from a histogram (runtime/pilotage/common.py): as `percentile_cont` would, within a
bucket."""

import random

import pytest

from runtime.pilotage import _merged, _spread


def percentile_cont(values: list[float], p: float) -> float:
    ordered = sorted(values)
    h = p * (len(ordered) - 1)
    low = ordered[int(h)]
    return low + (h - int(h)) * (ordered[min(int(h) + 1, len(ordered) - 1)] - low)


def histogram(values: list[float]) -> dict[float, tuple[float, float, int]]:
    """What the SQL of `_histograms` returns: per bucket, its smallest and largest value and its count."""
    found: dict[float, list[float]] = {}
    for v in values:
        width = 60 if v < 3600 else 3600 if v < 7 * 86400 else 6 * 3600
        found.setdefault(v // width * width, []).append(v)
    return {bucket: (min(b), max(b), len(b)) for bucket, b in found.items()}


def test_exact_when_each_bucket_holds_equal_values():
    values = [86400.0, 86400.0, 7 * 86400.0]
    spread = _spread(histogram(values))
    assert (spread.count, spread.longest) == (3, 7 * 86400.0)
    assert spread.median == percentile_cont(values, 0.5)
    assert spread.p90 == pytest.approx(percentile_cont(values, 0.9))


@pytest.mark.parametrize("seed", range(5))
def test_within_a_bucket_of_the_exact_percentile(seed):
    rng = random.Random(seed)
    values = [rng.expovariate(1 / (3 * 86400)) for _ in range(2000)] + [
        rng.uniform(0, 3600) for _ in range(300)
    ]
    spread = _spread(histogram(values))
    for p, found in ((0.5, spread.median), (0.9, spread.p90)):
        exact = percentile_cont(values, p)
        width = 60 if exact < 3600 else 3600 if exact < 7 * 86400 else 6 * 3600
        assert abs(found - exact) <= width, (p, found, exact)


def test_histograms_of_several_outcomes_merge_into_the_step_s():
    rng = random.Random(9)
    paid, plan = ([rng.uniform(0, 20 * 86400) for _ in range(300)] for _ in range(2))
    assert _merged([histogram(paid), histogram(plan)]) == histogram(paid + plan)
