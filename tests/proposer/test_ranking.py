"""Fusion of dense and lexical scores, rank interleaving across query segments, and Platt calibration."""

from __future__ import annotations

import numpy as np
import pytest

from raytool.proposer.ranking import PlattScaling, expected_calibration_error, fit_platt, fuse, interleave


def test_fuse_normalises_bm25_by_the_row_maximum() -> None:
    dense = np.array([[0.1, 0.2, 0.3], [0.5, 0.4, 0.0]])
    lexical = np.array([[2.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
    fused = fuse(dense, lexical, 0.5)
    np.testing.assert_allclose(fused[0], [0.1 + 0.25, 0.2 + 0.5, 0.3])
    np.testing.assert_allclose(fused[1], dense[1])  # an all-zero BM25 row adds nothing and divides by nothing
    assert np.isfinite(fused).all()
    np.testing.assert_allclose(fuse(dense, lexical, 0.0), dense)


def test_interleave_gives_every_segment_its_best_before_any_second_best() -> None:
    # segment 0 likes tools 0 > 1 > 2 (all high scores), segment 1 likes tool 4 > 3 (lower scores)
    fused = np.array(
        [
            [0.9, 0.85, 0.8, 0.1, 0.0],
            [0.1, 0.0, 0.0, 0.3, 0.4],
        ]
    )
    order, best = interleave(fused, k=4)
    assert order.tolist() == [0, 4, 1, 3]  # rank 0 of each segment, then rank 1 of each (by max fused score)
    np.testing.assert_allclose(best, fused.max(axis=0)[order])
    again, _ = interleave(fused, k=4)
    assert again.tolist() == order.tolist()


def test_interleave_single_segment_is_a_plain_sort_and_ties_break_by_index() -> None:
    row = np.array([[0.2, 0.5, 0.5, 0.1]])
    order, best = interleave(row, k=4)
    assert order.tolist() == [1, 2, 0, 3]
    assert best.tolist() == [0.5, 0.5, 0.2, 0.1]


def test_interleave_with_k_larger_than_the_pool() -> None:
    fused = np.array([[0.3, 0.1, 0.2], [0.0, 0.6, 0.1]])
    order, best = interleave(fused, k=10)
    assert sorted(order.tolist()) == [0, 1, 2]
    assert order.tolist()[:2] == [1, 0]  # both rank-0 tools first, the better by max score leading
    assert len(best) == 3


def test_interleave_depth_limits_the_rank_competition() -> None:
    fused = np.array(
        [
            [0.9, 0.8, 0.7, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.2, 0.1],
        ]
    )
    shallow, _ = interleave(fused, k=4, depth=1)
    # only each segment's best competes by rank; the rest follow by max fused score
    assert shallow.tolist() == [0, 3, 1, 2]
    deep, _ = interleave(fused, k=4, depth=2)
    assert deep.tolist() == [0, 3, 1, 4]


def _logistic_data(n: int, a: float, b: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(a * x + b)))).astype(float)
    return x, y


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_fit_platt_recovers_an_increasing_mapping_with_lower_log_loss() -> None:
    x, y = _logistic_data(4000, a=4.0, b=0.5)
    platt = fit_platt(x, y)
    assert platt.a > 0
    grid = np.linspace(-1, 1, 11)
    assert (np.diff(platt(grid)) > 0).all()
    assert platt.a == pytest.approx(4.0, rel=0.25)
    assert platt.b == pytest.approx(0.5, abs=0.3)
    assert _log_loss(platt(x), y) < _log_loss(PlattScaling()(x), y)


def test_platt_default_maps_scores_into_the_unit_interval() -> None:
    p = PlattScaling()(np.array([-5.0, 0.0, 0.5, 5.0]))
    assert ((p >= 0) & (p <= 1)).all()
    assert p[2] == pytest.approx(0.5)


def test_expected_calibration_error() -> None:
    rng = np.random.default_rng(0)
    probs = rng.uniform(size=20000)
    calibrated = (rng.uniform(size=probs.size) < probs).astype(float)
    assert expected_calibration_error(probs, calibrated) < 0.02
    overconfident = np.full(1000, 0.95)
    labels = np.r_[np.ones(200), np.zeros(800)]
    assert expected_calibration_error(overconfident, labels) == pytest.approx(0.75)
    exact = np.array([0.0, 0.0, 1.0, 1.0])
    assert expected_calibration_error(exact, exact) == pytest.approx(0.0)
