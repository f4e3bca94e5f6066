"""Evaluate tool deciders on executable tasks: the trained decider against the method's baselines, side by side.

Every policy acts in the same `ToolDeciderEnv` (same candidates, same binder, same verifiable reward), one
episode per task, in task order (deterministic):

    decider          the trained RL policy, greedy (`raytool.decider.act.greedy_action`: argmax of its logits,
                     exact repeats skipped; the function the proxies run)
    teacher-only     argmax of pi_LLM over the allowed actions (STOP included), pi_LLM as reconstructed by F_P
    proposer-greedy  call the proposer's best remaining candidate while its probability >= theta, else STOP;
                     theta is fitted on the training tasks (best success over a grid)
    oracle           the gold next call whenever it is among the candidates (the candidates' ceiling)

Metrics per policy: success rate, mean reward (the env's F1 minus penalties), calls per task.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from raytool.decider.act import greedy_action
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.tables import format_table

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
Policy = Callable[[ToolDeciderEnv, dict[str, np.ndarray]], int]


def rollout(env: ToolDeciderEnv, policy: Policy, task_indices: Sequence[int] | None = None) -> dict[str, float]:
    """One episode per task with `policy`; mean success, reward, calls."""
    indices = range(len(env.tasks)) if task_indices is None else task_indices
    success, reward, calls = [], [], []
    for index in indices:
        obs, _ = env.reset(options={"task_index": int(index)})
        done = truncated = False
        total, info = 0.0, {}
        while not (done or truncated):
            obs, r, done, truncated, info = env.step(policy(env, obs))
            total += r
        success.append(float(info["success"]))
        reward.append(total)
        calls.append(float(info["calls"]))
    return {"success": float(np.mean(success)), "reward": float(np.mean(reward)), "calls": float(np.mean(calls))}


def _tensors(obs: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(obs["observations"])[None], torch.as_tensor(obs["action_mask"])[None]


def module_policy(module) -> Policy:
    """A `DeciderTorchRLModule` acting as the proxies do (`greedy_action`)."""
    return functools.partial(greedy_action, module)


def teacher_policy(f_p) -> Policy:
    """argmax of F_P's pi_LLM over the allowed actions."""

    def act(env, obs):
        with torch.no_grad():
            logits, _ = f_p(*_tensors(obs))
        return int(logits[0].argmax())

    return act


def proposer_greedy_policy(threshold: float) -> Policy:
    """The proposer's best remaining candidate while its probability >= threshold, else STOP."""

    def act(env, obs):
        if env.candidates and env.candidate_scores[0] >= threshold:
            return 0
        return env.stop_action

    return act


def oracle_policy(env, obs) -> int:
    return env.oracle_action()


def fit_threshold(env: ToolDeciderEnv, task_indices: Sequence[int] | None = None) -> float:
    """The proposer-greedy threshold with the best success (then reward) on the given tasks."""
    scored = [(rollout(env, proposer_greedy_policy(t), task_indices), t) for t in THRESHOLDS]
    return max(scored, key=lambda item: (item[0]["success"], item[0]["reward"]))[1]


def baseline_policies(train_env: ToolDeciderEnv, fp_dir=None) -> tuple[dict[str, Policy], float]:
    """({teacher-only (with an F_P checkpoint), proposer-greedy, oracle}, proposer-greedy's threshold fitted on
    `train_env`'s tasks)."""
    from raytool.decider.fp_checkpoint import load_policy_reconstruction

    threshold = fit_threshold(train_env)
    policies: dict[str, Policy] = {}
    if fp_dir is not None:
        policies["teacher-only"] = teacher_policy(load_policy_reconstruction(fp_dir)[0])
    policies["proposer-greedy"] = proposer_greedy_policy(threshold)
    policies["oracle"] = oracle_policy
    return policies, threshold


def evaluate_policies(env: ToolDeciderEnv, policies: dict[str, Policy]) -> dict[str, dict[str, float]]:
    """`rollout` of every named policy on all of `env`'s tasks."""
    return {name: rollout(env, policy) for name, policy in policies.items()}


def decider_table(results: dict[str, dict[str, Any]]) -> str:
    rows = [[name, f"{r['success']:.3f}", f"{r['reward']:.3f}", f"{r['calls']:.2f}"] for name, r in results.items()]
    return format_table(["policy", "success", "reward", "calls/task"], rows)
