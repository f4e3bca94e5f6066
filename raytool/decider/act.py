"""How a trained decider acts: the one inference function.

The evaluation's rollouts (the main job's stage 9, `benchmarks/decider.py`) and the proxies (`raytool.agent.proxy`,
so the agent, `raytool run` and the Serve endpoint) all call `greedy_action`, so the decider row of a results table
measures the policy that the agent and the server run.
"""

from __future__ import annotations

import numpy as np
import torch


def decider_logits(module, obs: dict[str, np.ndarray]) -> np.ndarray:
    """(p + 1,) logits of a `DeciderTorchRLModule` for one observation; disallowed actions are -inf (the module
    applies the observation's action mask)."""
    with torch.no_grad():
        inputs = {"obs": {key: torch.as_tensor(value)[None] for key, value in obs.items()}}
        return module.forward_inference(inputs)["action_dist_inputs"][0].numpy()


def below(env, theta: float) -> np.ndarray:
    """(p + 1,) bool: the candidates whose proposer probability (`ToolDeciderEnv.candidate_scores`, calibrated
    P(needed)) is below `theta` — tools the proposer does not think the job needs; STOP False. theta 0: none."""
    mask = np.zeros(env.stop_action + 1, dtype=bool)
    mask[: len(env.candidate_scores)] = np.asarray(env.candidate_scores, dtype=np.float64) < theta
    return mask


def _skipped(env, theta: float) -> np.ndarray:
    """`ToolDeciderEnv.skip_mask`, and with theta > 0 the candidates `below` it — once the job's planned sub-tasks
    have their calls (`ToolDeciderEnv.plan_due`; a job without a plan: from the first step). While the plan's
    floor holds, the env masks STOP because the planner says a call is due, and the calibrated probability of the
    right tool for one part of a request written freely is often low (0.096 for the hotel booking of "I need a
    deluxe room at HT-HND-2 for tr-103, ..."): gating there ended such jobs with no call (README, "The gate on every
    step, past the plan"). Whether the job is for this proxy at all is the job-level gate's (`agent.proxy`, before
    the first step)."""
    skipped = env.skip_mask()
    if theta > 0 and not env.plan_due:
        skipped = skipped | below(env, theta)
    return skipped


def proposer_action(env, obs: dict[str, np.ndarray], theta: float = 0.0) -> int:
    """No decider (the `no-decider` ablation): one call per planned sub-task of the job (`ToolDeciderEnv.planned_calls`,
    at least one), each the first candidate the env does not skip (`ToolDeciderEnv.skip_mask`: a call that would
    exactly repeat an earlier one or could not be made; with `part_focus`, the proposer's best tool for the part the
    job is at) and, once the plan's calls are made, whose probability reaches `theta` (`_skipped`), then STOP. No
    learning."""
    if len(env.made) >= max(env.planned_calls, 1):
        return env.stop_action
    skipped = _skipped(env, theta)
    return next((slot for slot in range(len(env.candidates)) if not skipped[slot]), env.stop_action)


def planned_greedy_action(module, env, obs: dict[str, np.ndarray], prior_weight: float = 0.0,
                          theta: float = 0.0, need: float = 0.0) -> int:  # fmt: skip
    """The decider bounded by the plan (`ProxyConfig.policy="planned"`): `greedy_action` while fewer calls than the
    job's planned sub-tasks have been made, then STOP. A job without planned parts acts as `greedy_action`."""
    if env.planned_calls and not env.plan_due:
        return env.stop_action
    return greedy_action(module, env, obs, prior_weight, theta, need)


def greedy_action(module, env, obs: dict[str, np.ndarray], prior_weight: float = 0.0, theta: float = 0.0,
                  need: float = 0.0) -> int:  # fmt: skip
    """The decider's action in `env` (a `ToolDeciderEnv`) at `obs`: the argmax of its logits, skipping the candidates
    `ToolDeciderEnv.skip_mask` holds — a call that would exactly repeat one already made this episode (not executed,
    it only costs its penalty) or that could not be made as it would be bound now (a required value nobody gives, a
    stated value not written like its parameter's example: "tr-103" as a booking id; it would only fail) — and, with
    `theta` > 0 (`ProxyConfig.theta`), those whose proposer probability is below it (`below`) once the job's planned
    sub-tasks have their calls (`_skipped`). That mask never holds STOP, and an action the env masks keeps a finite
    logit, so an action always exists (STOP when every candidate is skipped, even under a job's sub-task floor).

    `prior_weight` w > 0 (`ProxyConfig.prior_weight`, whose default is 1; 0, this function's default, is off): when
    the decider calls a tool, *which* one is re-chosen with the proposer's calibrated probabilities as a prior
    (`prior_choice`); *when* to stop stays the decider's own decision — except with `need` > 0
    (`ProxyConfig.need`) in a job without a plan: its STOP is not taken while a candidate it may call has a
    calibrated P(needed) of at least `need`: the choice is then made among those alone (`held_stop`), by the logits or,
    with the prior, by `prior_choice`. That is the plan's floor for a job the planner did not split: the proposer's
    sure tools."""
    allowed = np.where(_skipped(env, theta), -np.inf, decider_logits(module, obs))
    choice = int(np.argmax(allowed))
    if need > 0 and choice == env.stop_action and not env.planned_calls:
        allowed = held_stop(allowed, env.candidate_scores, need)
        choice = int(np.argmax(allowed))
    if prior_weight <= 0:  # off: the decider alone
        return choice
    n = len(env.candidate_scores)
    return choice if choice >= n else prior_choice(allowed[:n], env.candidate_scores, prior_weight)  # STOP stays


def held_stop(allowed: np.ndarray, probs, need: float) -> np.ndarray:
    """`allowed` (the logits with the masks applied, -inf where masked; STOP last) with STOP and every candidate whose
    probability in `probs` is below `need` masked too, when an allowed candidate reaches `need`; unchanged (STOP
    stands) when none does."""
    sure = np.zeros(len(allowed), dtype=bool)
    sure[: len(probs)] = np.asarray(probs, dtype=np.float64) >= need
    sure &= np.isfinite(allowed)
    return np.where(sure, allowed, -np.inf) if sure.any() else allowed


def prior_choice(logits: np.ndarray, probs, weight: float) -> int:
    """argmax_i  log softmax(logits)_i + weight * log p_i  over candidates (logits (n,), -inf for those not
    allowed; p the proposer's calibrated probabilities, clipped to [1e-6, 1]). weight 0: the decider's argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    prior = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-6, 1.0))
    return int(np.argmax(logits + weight * prior))  # the softmax's normaliser does not change the argmax
