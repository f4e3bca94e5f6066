"""How a trained decider acts (`raytool/decider/act.py`): the proposer's probabilities as a prior on its tool choice."""

from __future__ import annotations

import numpy as np
import pytest

from raytool.agent.proxy import ProxyConfig
from raytool.decider import act


def test_the_prior_moves_the_choice_to_a_candidate_the_proposer_is_sure_of_and_never_to_a_disallowed_one() -> None:
    logits = np.array([2.0, 1.5, -np.inf])
    probs = [0.1, 0.9, 0.99]
    assert act.prior_choice(logits, probs, 0.0) == 0  # the decider alone
    assert act.prior_choice(logits, probs, 3.0) == 1  # 2 + 3 log 0.1 = -4.9 < 1.5 + 3 log 0.9 = 1.18
    assert act.prior_choice(logits, probs, 100.0) == 1  # slot 2 is not allowed, however sure the proposer is
    assert act.prior_choice(np.array([0.0, 0.0]), [0.0, 0.0], 3.0) in (0, 1)  # zero probabilities stay finite


class _Env:
    """A decider env's surface that the act functions read: three candidates and STOP."""

    stop_action = 3
    made: list = []
    planned_calls = 0  # no plan: the relevance gate holds from the first step

    @property
    def plan_due(self) -> bool:  # as `ToolDeciderEnv.plan_due`
        return len(self.made) < self.planned_calls

    def __init__(self, repeats: list[bool], scores: list[float]) -> None:
        self._repeats, self.candidate_scores = np.array(repeats + [False]), scores

    def skip_mask(self) -> np.ndarray:
        return self._repeats


@pytest.mark.parametrize(
    ("logits", "repeats", "weight", "expected"),
    [
        ([2.0, 1.5, 0.0, 1.0], [False, False, False], 0.0, 0),  # the decider's argmax
        ([2.0, 1.5, 0.0, 1.0], [False, False, False], 3.0, 1),  # re-chosen by the proposer's prior
        ([2.0, 1.5, 0.0, 3.0], [False, False, False], 3.0, 3),  # STOP stays the decider's own decision
        ([2.0, 1.5, 0.0, 1.0], [False, True, False], 3.0, 2),  # a call that would repeat is never re-chosen
    ],
)
def test_greedy_action_keeps_stop_and_the_repeat_mask_and_applies_the_prior_to_the_tool(
    monkeypatch, logits, repeats, weight, expected
) -> None:
    monkeypatch.setattr(act, "decider_logits", lambda module, obs: np.array(logits))
    env = _Env(repeats, [0.05, 0.9, 0.6])
    assert act.greedy_action(None, env, {}, prior_weight=weight) == expected


def test_theta_masks_the_candidates_the_proposer_thinks_unneeded_and_never_stop(monkeypatch) -> None:
    """`ProxyConfig.theta`: a candidate whose proposer probability is below theta is not called, with or without
    the prior; when every candidate is below it only STOP is left (the relevance gate)."""
    monkeypatch.setattr(act, "decider_logits", lambda module, obs: np.array([2.0, 1.5, 0.0, 1.0]))
    env = _Env([False, False, False], [0.05, 0.9, 0.6])
    assert act.greedy_action(None, env, {}) == 0  # theta 0: the decider's argmax, the 0.05 candidate
    assert act.greedy_action(None, env, {}, theta=0.1) == 1  # that one is masked: the next best logit
    assert act.greedy_action(None, env, {}, prior_weight=3.0, theta=0.7) == 1  # only 0.9 reaches 0.7
    assert act.greedy_action(None, env, {}, theta=0.95) == 3  # none reaches it: STOP
    assert list(act.below(env, 0.6)) == [True, False, False, False]  # 0.6 reaches 0.6; STOP never below
    assert not act.below(env, 0.0).any()


def test_a_plan_whose_sub_tasks_still_want_calls_holds_the_gate_off_until_they_have_them(monkeypatch) -> None:
    """While the job's planned sub-tasks lack their calls the env masks STOP (the planner says a call is due): the
    gate does not mask then — it would end the job with no call, as it did on freely written requests whose right
    tool the proposer scores low for one part; once the plan's calls are made, a further call must reach theta."""
    monkeypatch.setattr(act, "decider_logits", lambda module, obs: np.array([2.0, 1.5, 0.0, 1.0]))
    env = _Env([False, False, False], [0.05, 0.09, 0.08])
    env.planned_calls = 2
    assert act.greedy_action(None, env, {}, theta=0.1) == 0  # no call yet of the 2 planned: the decider's argmax
    env.made = ["a call"]
    assert act.greedy_action(None, env, {}, theta=0.1) == 0  # 1 of 2
    env.made = ["a call", "another"]
    assert act.greedy_action(None, env, {}, theta=0.1) == 3  # the plan's calls made: none reaches 0.1, STOP


def test_the_proposer_policy_takes_the_first_candidate_that_reaches_theta() -> None:
    class Planned(_Env):
        made, planned_calls, candidates, stop_action = [], 0, [0, 1, 2], 3

    env = Planned([False, False, False], [0.05, 0.9, 0.6])
    assert act.proposer_action(env, {}) == 0
    assert act.proposer_action(env, {}, theta=0.1) == 1
    assert act.proposer_action(env, {}, theta=0.95) == env.stop_action
    env.planned_calls = 1  # a planned sub-task without its call: its floor holds the gate off
    assert act.proposer_action(env, {}, theta=0.95) == 0


def test_a_negative_prior_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="prior_weight"):
        ProxyConfig("p", "d", prior_weight=-1.0)


def test_the_prior_is_on_by_default_and_the_command_line_can_turn_it_off(tmp_path) -> None:
    """`ProxyConfig`'s default is the chosen weight (1); `--prior-weight` left out keeps it, `--prior-weight 0` is the
    decider alone (`commands.common.agent_config`, which `run`, `eval agent` and `eval ablation` share)."""
    import argparse

    from raytool.agent.proxy import PRIOR_WEIGHT
    from raytool.commands.common import agent_arguments, agent_config

    assert ProxyConfig("p", "d").prior_weight == PRIOR_WEIGHT == 1.0
    for sub in ("proposer", "decider"):
        (tmp_path / sub).mkdir()
    parser = argparse.ArgumentParser()
    agent_arguments(parser)
    base = ["--checkpoint", str(tmp_path), "--proposer", str(tmp_path / "proposer"), "--decider",
            str(tmp_path / "decider")]  # fmt: skip
    assert agent_config(parser.parse_args(base)).proxy.prior_weight == 1.0
    assert agent_config(parser.parse_args([*base, "--prior-weight", "0"])).proxy.prior_weight == 0.0


def test_without_a_prior_the_decider_acts_exactly_as_before(monkeypatch) -> None:
    """prior_weight 0 reads nothing but the logits and the skip mask: any env that served
    `greedy_action` before still does."""
    monkeypatch.setattr(act, "decider_logits", lambda module, obs: np.array([0.5, 2.0, 1.0]))

    class Bare:
        def skip_mask(self) -> np.ndarray:
            return np.array([False, True, False])

    assert act.greedy_action(None, Bare(), {}) == 2


def test_need_holds_stop_while_a_sure_candidate_of_an_unplanned_job_is_uncalled(monkeypatch) -> None:
    """`ProxyConfig.need`: in a job without a plan the decider's STOP is not taken while a candidate it may call has a
    probability of at least `need` — the one its logits rank first is called instead; never one the gate or the
    skip mask holds, never under a plan (the plan's floor is the env's), and STOP stands when no candidate is sure."""
    monkeypatch.setattr(act, "decider_logits", lambda module, obs: np.array([0.0, -1.0, -2.0, 1.0]))  # STOP first
    env = _Env([False, False, False], [0.3, 0.8, 0.9])
    assert act.greedy_action(None, env, {}) == 3  # off: the decider stops
    assert act.greedy_action(None, env, {}, need=0.5) == 1  # 0.8 and 0.9 are sure: the decider prefers 0.8's
    assert act.greedy_action(None, env, {}, need=0.85) == 2  # only 0.9 is
    assert act.greedy_action(None, env, {}, need=0.95) == 3  # none is: STOP stands
    repeats = _Env([False, True, True], [0.3, 0.8, 0.9])
    assert act.greedy_action(None, repeats, {}, need=0.5) == 3  # the sure ones would repeat: STOP
    assert act.greedy_action(None, env, {}, theta=0.85, need=0.5) == 2  # 0.8 is below the gate
    env.planned_calls = 2
    env.made = ["a call", "another"]
    assert act.greedy_action(None, env, {}, need=0.5) == 3  # a planned job: its plan decides, not `need`
    env.made, env.planned_calls = [], 0
    # with the prior (weight 1) the choice among all candidates would be 0.3's (log-softmax 0 - 1.20 beats -1 - 0.22):
    # a held STOP re-chooses among the sure ones only
    assert act.greedy_action(None, env, {}, prior_weight=1.0) == 3  # not held: STOP stays
    assert act.greedy_action(None, env, {}, prior_weight=1.0, need=0.5) == 1
    assert act.greedy_action(None, env, {}, prior_weight=1.0, need=0.85) == 2
    held = act.held_stop(np.array([-np.inf, 0.5, 2.0]), [0.9, 0.1], 0.5)
    assert np.array_equal(held, [-np.inf, 0.5, 2.0])  # the one sure candidate is masked: nothing held, STOP stands
    with pytest.raises(ValueError, match="need"):
        ProxyConfig("p", "d", need=1.5)
