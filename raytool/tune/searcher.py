"""`GaussianProcessSearch`: Bayesian optimisation for Tune with numpy and scipy only (no optuna / hyperopt needed).

The search runs in the unit cube, one coordinate per swept dimension (`Dimension.from_unit` maps a coordinate
to a value; log scale for loguniform). The first
`initial_points` trials are scrambled-Sobol points; after that each suggestion is the candidate (of `candidates`
fresh Sobol points) with the highest expected improvement under a Gaussian process fitted to the finished trials
(RBF kernel, length scale chosen by marginal likelihood from a small grid, targets standardised). Trials still
running count as observations of the worst value so far ("constant liar"), so concurrent suggestions spread out.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from ray.tune.search import Searcher
from scipy.stats import norm, qmc

LENGTH_SCALES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2)


def rbf(a: np.ndarray, b: np.ndarray, length: float) -> np.ndarray:
    """exp(-|a - b|^2 / (2 l^2)) for every pair of rows."""
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return np.exp(-0.5 * d2 / length**2)


def _factor(x: np.ndarray, y: np.ndarray, length: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factor L of K(x, x) + noise I and alpha = (K + noise I)^-1 y."""
    chol = np.linalg.cholesky(rbf(x, x, length) + noise * np.eye(len(x)))
    return chol, np.linalg.solve(chol.T, np.linalg.solve(chol, y))


def gp_posterior(
    x: np.ndarray, y: np.ndarray, query: np.ndarray, length: float, noise: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation at `query` of a zero-mean, unit-variance GP through (x, y)."""
    chol, alpha = _factor(x, y, length, noise)
    ks = rbf(query, x, length)
    v = np.linalg.solve(chol, ks.T)
    return ks @ alpha, np.sqrt(np.clip(1.0 - (v**2).sum(0), 1e-12, None))


def log_marginal_likelihood(x: np.ndarray, y: np.ndarray, length: float, noise: float = 1e-4) -> float:
    chol, alpha = _factor(x, y, length, noise)
    return float(-0.5 * y @ alpha - np.log(np.diag(chol)).sum() - 0.5 * len(x) * np.log(2 * np.pi))


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    """E[max(f - best - xi, 0)] for f ~ N(mean, std^2) (maximisation)."""
    z = (mean - best - xi) / std
    return (mean - best - xi) * norm.cdf(z) + std * norm.pdf(z)


class GaussianProcessSearch(Searcher):
    """Tune searcher over `dimensions` (name -> `raytool.tune.space.Dimension`), module docstring."""

    def __init__(
        self, dimensions: dict[str, Any], metric: str, mode: str, initial_points: int = 4, candidates: int = 512,
        seed: int = 0, xi: float = 0.01,
    ) -> None:  # fmt: skip
        super().__init__(metric=metric, mode=mode)
        if not dimensions:
            raise ValueError("GaussianProcessSearch needs at least one swept dimension")
        self.dimensions = dict(dimensions)
        self.initial_points, self.candidates, self.seed, self.xi = initial_points, candidates, seed, xi
        self.suggested = 0
        self.pending: dict[str, np.ndarray] = {}
        self.observed: list[tuple[np.ndarray, float]] = []

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        names = list(self.dimensions)
        if self.suggested < self.initial_points or len(self.observed) < 2:
            sobol = qmc.Sobol(len(names), scramble=True, seed=self.seed)
            point = sobol.random(1 << self.suggested.bit_length())[self.suggested]  # powers of 2 keep Sobol balanced
        else:
            point = self._best_candidate(len(names))
        self.suggested += 1
        self.pending[trial_id] = point
        return {name: self.dimensions[name].from_unit(u) for name, u in zip(names, point, strict=True)}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        point = self.pending.pop(trial_id, None)
        if point is None or error or not result or self.metric not in result:
            return
        value = float(result[self.metric])
        if np.isfinite(value):
            self.observed.append((point, value if self.mode == "max" else -value))

    def _best_candidate(self, dims: int) -> np.ndarray:
        x = np.array([p for p, _ in self.observed])
        y = np.array([v for _, v in self.observed])
        if self.pending:  # constant liar: running trials as the worst value seen
            x = np.vstack([x, *self.pending.values()])
            y = np.concatenate([y, np.full(len(self.pending), y.min())])
        scale = y.std() or 1.0
        ys = (y - y.mean()) / scale
        length = max(LENGTH_SCALES, key=lambda ell: log_marginal_likelihood(x, ys, ell))
        sobol = qmc.Sobol(dims, scramble=True, seed=self.seed + 1000 + self.suggested)
        query = sobol.random(self.candidates)
        mean, std = gp_posterior(x, ys, query, length)
        return query[int(np.argmax(expected_improvement(mean, std, ys.max(), self.xi)))]

    def get_state(self) -> dict:
        return {"suggested": self.suggested, "pending": self.pending, "observed": self.observed}

    def set_state(self, state: dict) -> None:
        self.suggested, self.pending, self.observed = state["suggested"], state["pending"], state["observed"]

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.get_state(), handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            self.set_state(pickle.load(handle))
