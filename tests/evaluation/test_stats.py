"""Confidence intervals against their closed forms, by hand: Student-t for means, Wilson for 0/1 rates."""

from __future__ import annotations

import json
import math

import pytest

from raytool.evaluation.stats import Estimate, mean_ci, proportion_ci, summarise

Z95 = 1.959963984540054  # Phi^-1(0.975)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval written out: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p, z2 = k / n, Z95 * Z95
    center, half = p + z2 / (2 * n), Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (center - half) / (1 + z2 / n), (center + half) / (1 + z2 / n)


def test_t_interval_by_hand() -> None:
    # [1, 2, 3, 4]: mean 2.5, s = sqrt(5/3), t_{0.975, 3} = 3.182446 (t table), half = t s / sqrt(4) = 2.054260
    est = mean_ci([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305 * math.sqrt(5 / 3) / 2
    assert est.n == 4 and est.mean == pytest.approx(2.5)
    assert (est.low, est.high) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-7)
    assert half == pytest.approx(2.054260, abs=1e-6)


def test_t_interval_narrows_with_confidence() -> None:
    values = [0.2, 0.5, 0.9, 1.4, 0.3]
    wide, narrow = mean_ci(values, 0.99), mean_ci(values, 0.80)
    assert wide.low < narrow.low < narrow.mean < narrow.high < wide.high


def test_wilson_closed_forms() -> None:
    z2 = Z95 * Z95
    none, every, half = proportion_ci([0] * 10), proportion_ci([True] * 10), proportion_ci([1, 0] * 5)
    assert (none.mean, none.low) == (0.0, 0.0)
    assert none.high == pytest.approx(z2 / (10 + z2))  # 0/n: upper bound z²/(n + z²) = 0.2775
    assert (every.mean, every.high) == (1.0, 1.0)
    assert every.low == pytest.approx(10 / (10 + z2))  # n/n: lower bound n/(n + z²) = 0.7225
    assert half.mean == 0.5
    assert (half.low, half.high) == pytest.approx((0.236593, 0.763407), abs=1e-6)
    assert (half.low, half.high) == pytest.approx(wilson(5, 10))
    assert (proportion_ci([1, 1, 0]).low, proportion_ci([1, 1, 0]).high) == pytest.approx(wilson(2, 3))


def test_zero_variance_and_single_value() -> None:
    assert mean_ci([3.0, 3.0, 3.0]) == Estimate(3.0, 3.0, 3.0, 3)
    assert mean_ci([7]) == Estimate(7.0, 7.0, 7.0, 1)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [0.0, math.inf]])
def test_empty_or_non_finite_values_raise(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        mean_ci(bad)


def test_proportion_rejects_non_binary() -> None:
    with pytest.raises(ValueError, match="0/1"):
        proportion_ci([0, 1, 2])
    with pytest.raises(ValueError, match="at least one"):
        proportion_ci([])


def test_to_dict_rounds_for_json() -> None:
    assert Estimate(1 / 3, -0.0, 2 / 3, 3).to_dict() == {"mean": 0.333333, "ci95": [0.0, 0.666667], "n": 3}


def test_summarise_picks_interval_per_metric_and_is_deterministic() -> None:
    per_task = {"success": [1.0, 0.0, 1.0, 1.0], "teacher_calls": [3.0, 4.0, 2.0, 5.0]}
    out = summarise(per_task, binary={"success"})
    assert list(out) == ["success", "teacher_calls"]
    assert out["success"] == proportion_ci([1, 0, 1, 1]).to_dict()
    assert out["teacher_calls"] == mean_ci([3, 4, 2, 5]).to_dict()
    assert json.dumps(summarise(per_task, {"success"})) == json.dumps(out)


def test_summarise_names_the_bad_metric() -> None:
    with pytest.raises(ValueError, match="'reward'"):
        summarise({"success": [1], "reward": []}, binary={"success"})
