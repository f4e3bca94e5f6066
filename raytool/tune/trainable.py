"""The Tune trial of a decider sweep: one RLlib `Decider` trained with the trial's sampled settings.

Every iteration reports the training metrics and the held-out ones: every `eval_every` iterations (and the first
and the last) the greedy decider runs once per held-out task for `success`, `reward` and `calls`; the reports in
between repeat the latest evaluation (`eval_iteration` names it; the loader makes ASHA's rungs fall on evaluations).
Checkpoints (the algorithm's whole state: weights, optimizers, multiplier, replay buffer) go with the report every
`checkpoint_every` iterations; a retried or restored trial continues from its latest one.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

from raytool.tune.space import SweepConfig


@dataclass(frozen=True)
class TrialSetup:
    """What every trial shares: the sweep, the decider env configs (train and held-out) and the F_P path."""

    sweep: SweepConfig
    env: dict[str, Any]
    test_env: dict[str, Any]
    fp: str | None


def trial_resources(setup: TrialSetup):
    """The trial's placement group: its own process plus one bundle per env runner (with the runners' roles)."""
    from ray import tune

    run = setup.sweep.run_config()
    head = {"CPU": float(setup.sweep.resources.get("trial_cpus", 0.5)), **setup.sweep.resources.get("custom", {})}
    runner = {"CPU": float(run.cpus_per_env_runner), **run.runner_resources}
    return tune.PlacementGroupFactory([head] + [runner] * run.num_env_runners)


def decider_trial(config: dict[str, Any], setup: TrialSetup) -> None:
    """Tune function trainable (module docstring)."""
    import torch
    from ray import tune

    from raytool.decider.train import decider_config, result_row
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation.decider import module_policy, rollout

    torch.set_num_threads(1)
    run = setup.sweep.trial_run(config)
    algo = decider_config(setup.env, setup.fp, run).build_algo()
    try:
        checkpoint = tune.get_checkpoint()
        if checkpoint:
            with checkpoint.as_directory() as path:
                algo.restore_from_path(path)
        test_env = ToolDeciderEnv(setup.test_env)
        held_out: dict[str, float] = {}
        while algo.training_iteration < run.iterations:
            row = result_row(algo.train(), algo.training_iteration)
            iteration = row["iteration"]
            metrics = {
                "train_success": row["success_rate"], "train_reward": row["task_reward"], "env_steps": row["env_steps"],
                "js_to_llm": row["js_to_llm"], "kendall_tau_b": row["kendall_tau_b"],
                "sigma_multiplier": row["sigma_multiplier"],
            }  # fmt: skip
            last = iteration >= run.iterations
            if last or not held_out or iteration % setup.sweep.eval_every == 0:
                held_out = {**rollout(test_env, module_policy(algo.get_module())), "eval_iteration": iteration}
            metrics.update(held_out)  # between evaluations: the latest one (eval_iteration says which)
            if last or iteration % run.checkpoint_every == 0:
                with tempfile.TemporaryDirectory() as tmp:
                    algo.save_to_path(tmp)
                    tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))
            else:
                tune.report(metrics)
    finally:
        algo.stop()
