"""Per-task values -> means with 95% confidence intervals, for the agent evaluation's reports.

Two intervals, both closed-form so the same values always give the same numbers (no bootstrap resampling):

  mean_ci        Student-t:  mean ± t_{(1+c)/2, n-1} · s / sqrt(n),  s the sample standard deviation (ddof=1).
  proportion_ci  Wilson score, for 0/1 outcomes (success, exact match):
                   center = (p + z²/2n) / (1 + z²/n),  half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²),
                 z = Φ⁻¹((1+c)/2). A t-interval on 0/1 data collapses to a zero-width interval at p = 0 or 1
                 (every value equal) and can leave [0, 1] near them; Wilson stays inside [0, 1] and keeps a
                 nonzero width at 0/n and n/n, which is where small evaluations of good agents sit.

    summarise({"success": [1, 0, 1], "teacher_calls": [3, 4, 2]}, binary={"success"})
    -> {"success": {"mean": 0.666667, "ci95": [0.20766, 0.938508], "n": 3}, "teacher_calls": {...}}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scipy import stats

ROUND = 6  # decimals kept in to_dict(), so the JSON reports are stable across platforms


@dataclass(frozen=True)
class Estimate:
    """A mean and its confidence interval [low, high] over n per-task values."""

    mean: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict:
        """{"mean", "ci95": [low, high], "n"}, floats rounded to 6 decimals."""
        return {"mean": _round(self.mean), "ci95": [_round(self.low), _round(self.high)], "n": self.n}


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> Estimate:
    """Mean with a Student-t interval; n == 1 or zero variance gives a zero-width interval at the mean."""
    xs = _finite(values)
    _check_confidence(confidence)
    n = len(xs)
    mean = math.fsum(xs) / n
    if n == 1:
        return Estimate(mean, mean, mean, 1)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)  # sample variance, ddof=1
    if var == 0.0:
        return Estimate(mean, mean, mean, n)
    half = float(stats.t.ppf((1.0 + confidence) / 2.0, df=n - 1)) * math.sqrt(var / n)
    return Estimate(mean, mean - half, mean + half, n)


def proportion_ci(successes: Sequence[bool | int | float], confidence: float = 0.95) -> Estimate:
    """Success rate k/n with its Wilson score interval; every value must be 0/1 (or False/True)."""
    xs = _finite(successes)
    _check_confidence(confidence)
    if any(x not in (0.0, 1.0) for x in xs):
        raise ValueError(f"proportion_ci takes 0/1 outcomes, got {sorted(set(xs) - {0.0, 1.0})[:3]}")
    n = len(xs)
    p = sum(xs) / n
    z = float(stats.norm.ppf((1.0 + confidence) / 2.0))
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n))
    # Analytically low = 0 at p = 0 and high = 1 at p = 1; set them exactly rather than up to round-off.
    low = 0.0 if p == 0.0 else max(0.0, center - half)
    high = 1.0 if p == 1.0 else min(1.0, center + half)
    return Estimate(p, low, high, n)


def summarise(per_task: dict[str, list[float]], binary: set[str] | frozenset[str] = frozenset()) -> dict[str, dict]:
    """Every metric -> Estimate.to_dict(): Wilson for the names in `binary`, Student-t for the rest."""
    out = {}
    for name, values in per_task.items():
        try:
            estimate = proportion_ci(values) if name in binary else mean_ci(values)
        except ValueError as err:
            raise ValueError(f"metric {name!r}: {err}") from err
        out[name] = estimate.to_dict()
    return out


def _finite(values: Iterable[float]) -> list[float]:
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("no values: an estimate needs at least one task")
    if not all(math.isfinite(x) for x in xs):
        raise ValueError("values must be finite (got NaN or inf)")
    return xs


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def _round(x: float) -> float:
    return round(float(x), ROUND) + 0.0  # + 0.0 turns -0.0 into 0.0
