"""The `bayes` searcher (raytool's Gaussian process, `raytool/tune/searcher.py`) against Optuna (Tune's
`OptunaSearch`, TPE), side by side in one run on the same objectives and budgets.

    python benchmarks/searchers.py [--trials 12] [--seeds 20]

A decider sweep costs minutes per trial, so the searchers are compared where the answer is known: the space of
`tune_configs/decider_bayes.yaml` (lambda1, lambda2, sigma; uniform) and objectives of the shape seen in the real
sweeps (docs/tune.md), each with observation noise: `bowl` (one smooth optimum inside the box), `ridge` (success
insensitive to lambda2 and a narrow band in lambda1 x sigma) and `edge` (the optimum on the box's border). Each
searcher runs `--trials` sequential trials (the file's budget: 12, 4 initial points) per seed, driven through
`SweepConfig.search_alg()` (the exact objects `raytool tune` uses); the table gives the median over seeds of the
best noiseless value found (the regret to the true optimum: lower is better) and the searcher's own time per
suggestion. Optuna is not a project dependency (`pip install optuna==5.1.0` first; the measurement kept the GP).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import yaml

from raytool.tables import format_table
from raytool.tune.space import sweep_from_dict

SPACE = {"lambda1": {"uniform": [0.0, 1.0]}, "lambda2": {"uniform": [0.0, 0.1]}, "sigma": {"uniform": [0.05, 0.69]}}
NOISE = 0.02


def bowl(c: dict) -> float:
    return 0.7 - 0.8 * (c["lambda1"] - 0.3) ** 2 - 20.0 * (c["lambda2"] - 0.04) ** 2 - 1.0 * (c["sigma"] - 0.35) ** 2


def ridge(c: dict) -> float:
    band = c["lambda1"] - 1.2 * (c["sigma"] - 0.05)
    return 0.7 - 6.0 * band**2 - 0.2 * (c["sigma"] - 0.5) ** 2


def edge(c: dict) -> float:
    return 0.5 + 0.2 * c["lambda1"] - 0.3 * (c["sigma"] - 0.05) - 0.5 * c["lambda2"]


OBJECTIVES = {"bowl": bowl, "ridge": ridge, "edge": edge}


def optimum(objective) -> float:
    grid = np.linspace(0, 1, 41)
    return max(objective({"lambda1": a, "lambda2": 0.1 * b, "sigma": 0.05 + 0.64 * s})
               for a in grid for b in grid[::4] for s in grid)  # fmt: skip


def run(algorithm: str, objective, trials: int, seed: int) -> tuple[float, float]:
    """(best noiseless value found, seconds per suggestion) of one sweep."""
    record = {"space": SPACE, "decider": {"iterations": 20}, "metric": "success", "mode": "max",
              "search": {"algorithm": "bayes", "num_samples": trials, "initial_points": 4, "seed": seed}}  # fmt: skip
    sweep = sweep_from_dict(yaml.safe_load(yaml.safe_dump(record)), "benchmark")
    if algorithm == "optuna":  # what `search.algorithm: optuna` builds, with its sampler seeded
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        space = {k: v.domain() for k, v in sweep.dimensions.items()}
        searcher = OptunaSearch(
            space=space, metric="success", mode="max", sampler=optuna.samplers.TPESampler(seed=seed)
        )
    else:
        searcher = sweep.search_alg()
    rng = np.random.default_rng(seed)
    best, spent = -np.inf, 0.0
    for i in range(trials):
        start = time.perf_counter()
        config = searcher.suggest(f"t{i}")
        spent += time.perf_counter() - start
        value = objective(config)
        best = max(best, value)
        start = time.perf_counter()
        searcher.on_trial_complete(f"t{i}", {"success": value + NOISE * rng.standard_normal()})
        spent += time.perf_counter() - start
    return best, spent / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for name, objective in OBJECTIVES.items():
        top = optimum(objective)
        for algorithm in ("bayes", "optuna"):
            found = [run(algorithm, objective, args.trials, seed) for seed in range(args.seeds)]
            regret = [top - value for value, _ in found]
            rows.append([name, algorithm, f"{statistics.median(regret):.4f}", f"{np.mean(regret):.4f}",
                         f"{statistics.median(s for _, s in found) * 1000:.1f}"])  # fmt: skip
    print(f"{args.trials} trials per sweep, {args.seeds} seeds, noise sd {NOISE}; regret = optimum - best found")
    print(format_table(["objective", "searcher", "median regret", "mean regret", "ms per suggestion"], rows))


if __name__ == "__main__":
    main()
