"""The sweep report from trial rows (no Ray): best trial choice, per-setting means over seeds, heatmap panels."""

from __future__ import annotations

import math

import yaml

from raytool.tune.space import sweep_from_dict
from raytool.tune.sweep import best_config_text, best_row, heatmap_panels, settings_table

SWEEP = sweep_from_dict({
    "decider": {"iterations": 8, "hidden": 32},
    "space": {"lambda1": {"grid": [0.0, 0.5]}, "lambda2": 0.05, "seed": {"grid": [0, 1]}},
    "eval_every": 4, "scheduler": {"grace_period": 4, "max_t": 8},
})  # fmt: skip


def _row(trial: str, lambda1: float, seed: int, curve: dict[int, float], reward: float = 0.0) -> dict:
    last = max(curve)
    return {"trial": trial, "status": "TERMINATED", "config": {"lambda1": lambda1, "lambda2": 0.05, "seed": seed},
            "iterations": last, "success": curve[last], "reward": reward, "calls": 3.0, "train_success": 0.1,
            "js_to_llm": 0.2, "curve": curve}  # fmt: skip


ROWS = [
    _row("a", 0.0, 0, {4: 0.2, 8: 0.5}),
    _row("b", 0.0, 1, {4: 0.4, 8: 0.3}),
    _row("c", 0.5, 0, {4: 0.6}),  # stopped by ASHA at the first rung, with the highest value seen
    _row("d", 0.5, 1, {4: 0.1, 8: 0.5}, reward=0.9),
]


def test_best_is_among_the_longest_runs_and_ties_go_to_the_reward() -> None:
    best = best_row(ROWS, SWEEP)
    assert best["trial"] == "d"  # c was only measured at iteration 4; a and d tie on success, d has more reward
    text = best_config_text(best, SWEEP, "/x/sweep")
    decider = yaml.safe_load(text)["decider"]
    assert decider["training"] == {"lambda1": 0.5, "lambda2": 0.05} and decider["seed"] == 1
    assert decider["hidden"] == 32 and decider["iterations"] == 8 and text.startswith("# best trial d")


def test_a_full_tie_goes_to_the_first_trial_id_in_any_row_order() -> None:
    tied = [_row("t2", 0.0, 0, {8: 0.5}), _row("t1", 0.5, 0, {8: 0.5}), _row("t3", 0.5, 1, {8: 0.5})]
    assert {best_row(order, SWEEP)["trial"] for order in (tied, tied[::-1], tied[1:] + tied[:1])} == {"t1"}


def test_settings_average_their_seeds_at_the_common_iteration_and_at_the_end() -> None:
    table = settings_table(ROWS, SWEEP)
    lines = table.splitlines()
    assert lines[0].split("|")[1:-1] == [" lambda1 ", " trials ", " success @ 4 ", " ran 8 ", " success @ 8 "]
    first, second = ([c.strip() for c in line.split("|")[1:-1]] for line in lines[2:])
    assert first == ["0.5", "2", "0.35", "1", "0.5"]  # (0.6 + 0.1) / 2 at iteration 4; only d ran to 8
    assert second == ["0", "2", "0.3", "2", "0.4"]
    no_seed = sweep_from_dict({"space": {"lambda1": {"grid": [0.0]}}})
    assert settings_table(ROWS, no_seed) is None


def test_heatmap_panels_compare_like_for_like_then_the_survivors() -> None:
    early, late = heatmap_panels(ROWS, SWEEP)
    assert early["title"] == "success at iteration 4 (all 4 trials)" and early["values"] == [0.2, 0.4, 0.6, 0.1]
    assert late["title"] == "success at iteration 8 (3 trials ran it)"
    assert late["values"][:2] == [0.5, 0.3] and math.isnan(late["values"][2]) and late["values"][3] == 0.5
    assert early["xs"] == [0.0, 0.0, 0.5, 0.5] and early["ys"] == [0.05] * 4
