"""GaussianProcessSearch: the GP maths against closed forms, and the search finding a known optimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from raytool.tune.searcher import GaussianProcessSearch, expected_improvement, gp_posterior, rbf
from raytool.tune.space import Dimension


def test_gp_posterior_interpolates_and_reverts_to_the_prior_far_away() -> None:
    x = np.array([[0.1], [0.5], [0.9]])
    y = np.array([1.0, -0.5, 0.3])
    mean, std = gp_posterior(x, y, x, length=0.2, noise=1e-8)
    assert mean == pytest.approx(y, abs=1e-4) and std == pytest.approx(0.0, abs=1e-3)
    far_mean, far_std = gp_posterior(x, y, np.array([[50.0]]), length=0.2)
    assert far_mean[0] == pytest.approx(0.0, abs=1e-9) and far_std[0] == pytest.approx(1.0)


def test_gp_posterior_matches_the_one_point_closed_form() -> None:
    # one observation (x0, y0): mean(q) = k y0 / (1 + noise), var(q) = 1 - k^2 / (1 + noise), k = rbf(q, x0)
    x0, y0, q, length, noise = np.array([[0.3]]), np.array([2.0]), np.array([[0.45]]), 0.25, 0.1
    k = float(rbf(q, x0, length)[0, 0])
    assert k == pytest.approx(np.exp(-0.5 * 0.15**2 / length**2))
    mean, std = gp_posterior(x0, y0, q, length, noise)
    assert mean[0] == pytest.approx(k * 2.0 / 1.1) and std[0] == pytest.approx(np.sqrt(1 - k * k / 1.1))


def test_expected_improvement_closed_form() -> None:
    assert expected_improvement(np.array([0.0]), np.array([1.0]), 0.0, xi=0.0)[0] == pytest.approx(norm.pdf(0))
    # far above the best, EI is the gap; far below, it vanishes
    assert expected_improvement(np.array([5.0]), np.array([0.01]), 1.0, xi=0.0)[0] == pytest.approx(4.0)
    assert expected_improvement(np.array([-5.0]), np.array([0.01]), 1.0, xi=0.0)[0] == pytest.approx(0.0, abs=1e-12)


def _search(searcher: GaussianProcessSearch, f, rounds: int) -> list[tuple[float, float]]:
    seen = []
    for i in range(rounds):
        config = searcher.suggest(f"t{i}")
        value = f(config["x"])
        searcher.on_trial_complete(f"t{i}", {"score": value})
        seen.append((config["x"], value))
    return seen


def test_search_finds_the_optimum_of_a_smooth_function_better_than_its_sobol_start() -> None:
    def f(x: float) -> float:
        return -((x - 0.73) ** 2)

    searcher = GaussianProcessSearch({"x": Dimension("uniform", (0.0, 1.0))}, "score", "max", initial_points=4)
    seen = _search(searcher, f, 12)
    start, later = seen[:4], seen[4:]
    assert all(0.0 <= x <= 1.0 for x, _ in seen)
    assert max(v for _, v in later) > max(v for _, v in start)
    assert abs(max(seen, key=lambda s: s[1])[0] - 0.73) < 0.03


def test_min_mode_pending_trials_and_state_round_trip(tmp_path) -> None:
    dims = {"a": Dimension("loguniform", (1e-4, 1e-1)), "b": Dimension("choice", (16, 32, 64))}
    searcher = GaussianProcessSearch(dims, "loss", "min", initial_points=2, seed=3)
    _ = [searcher.suggest(f"t{i}") for i in range(2)]
    searcher.on_trial_complete("t0", {"loss": 1.0})
    searcher.on_trial_complete("t1", {"loss": 0.5})
    assert [v for _, v in searcher.observed] == [-1.0, -0.5]  # min mode: maximise the negative
    searcher.on_trial_complete("unknown", {"loss": 0.1})  # never suggested: ignored
    searcher.suggest("t2")  # pending while the next is chosen: "constant liar"
    config = searcher.suggest("t3")
    assert 1e-4 <= config["a"] <= 1e-1 and config["b"] in (16, 32, 64)
    searcher.save(str(tmp_path / "state.pkl"))
    again = GaussianProcessSearch(dims, "loss", "min", initial_points=2, seed=3)
    again.restore(str(tmp_path / "state.pkl"))
    assert again.suggested == 4 and set(again.pending) == {"t2", "t3"} and len(again.observed) == 2
    assert again.suggest("t4") == searcher.suggest("t4")  # same state, same suggestion


def test_sobol_start_is_deterministic_per_seed() -> None:
    dims = {"x": Dimension("uniform", (0.0, 1.0)), "y": Dimension("uniform", (0.0, 1.0))}
    first = [GaussianProcessSearch(dims, "m", "max", seed=1).suggest("a") for _ in range(2)]
    assert first[0] == first[1]
    searcher = GaussianProcessSearch(dims, "m", "max", seed=1)
    points = [searcher.suggest(str(i)) for i in range(4)]
    assert len({(p["x"], p["y"]) for p in points}) == 4
