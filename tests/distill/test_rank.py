"""`distill rank`: decider states sampled from rollouts get pi_LLM labels (a distribution over the candidates and
STOP) and carry the env's observation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from raytool.distill.rank import STOP_TOOL, RankConfig, load_rank_output, rank_states, sample_states
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.teacher.distributions import likelihood_distribution
from tests.distill.fake_teacher import FakeTeacher


def test_states_get_likelihood_distributions(tmp_path: Path) -> None:
    data = build_tasks(BuildConfig(("travel",), 2, 10, seed=2, integration_walks=0), log=lambda _: None)
    data.save(tmp_path / "tasks")
    config = RankConfig(num_states=30, top_p=4, shard_size=10, with_ranking=True)
    states = sample_states(tmp_path / "tasks", config, tmp_path / "features")
    assert len(states) == 30
    assert all(1 <= len(s.candidates) <= 4 and not set(s.history) & set(s.candidates) for s in states)
    assert any(s.history for s in states)  # later steps of episodes too
    records = rank_states(states, data.tools, tmp_path / "out", FakeTeacher(), config, log=lambda _: None)
    assert len(records) == 30
    env = ToolDeciderEnv({"tasks": str(tmp_path / "tasks"), "top_p": 4, "feature_cache": str(tmp_path / "features")})
    for r in records:
        k = len(r["candidates"])
        pi = np.array(r["pi_llm"])
        assert pi.shape == (k + 1,) and len(r["logprobs"]) == k + 1  # the candidates, then STOP
        assert pi.sum() == pytest.approx(1.0) and (pi >= 0).all()
        assert r["source"] == "likelihood"  # the fake's empty ranking never parses completely: the fallback applies
        np.testing.assert_allclose(pi, likelihood_distribution(np.array(r["logprobs"])), rtol=1e-6)
        assert len(r["observation"]) == env.obs_dim
        assert r["action_mask"] == [1.0] * k + [0.0] * (4 - k) + [1.0]
    first = next(r for r in records if r["step"] == 0)  # the observation is the env's own at that state
    obs, _ = env.reset(options={"task_index": first["task_index"]})
    np.testing.assert_allclose(first["observation"], obs["observations"], atol=1e-6)
    loaded, summary = load_rank_output(tmp_path / "out")
    assert loaded == records
    assert summary["with_stop"] is True
    assert summary["env"] == {"top_p": 4, "max_steps": 8, "encoder": "hashing-256", "candidate_source": "bm25"}


def test_stop_is_scored_last_and_can_be_left_out(tmp_path: Path) -> None:
    data = build_tasks(BuildConfig(("travel",), 2, 4, seed=2, integration_walks=0), log=lambda _: None)
    data.save(tmp_path / "tasks")
    config = RankConfig(num_states=6, top_p=3, shard_size=6, with_stop=False)
    states = sample_states(tmp_path / "tasks", config, tmp_path / "features")
    assert all(len(s.candidates) >= 2 for s in states)  # without STOP a decision needs two candidates
    records = rank_states(states, data.tools, tmp_path / "a", FakeTeacher(), config, log=lambda _: None)
    assert all(len(r["pi_llm"]) == len(r["candidates"]) for r in records)

    ranked = RankConfig(num_states=6, top_p=3, shard_size=6, with_ranking=True)
    records = rank_states(states, data.tools, tmp_path / "c", RankingTeacher(), ranked, log=lambda _: None)
    for r in records:  # "finish" is ranked like a tool, and the mix keeps STOP last
        assert r["source"] == "likelihood+ranking" and r["ranking"] == [STOP_TOOL.name, *reversed(r["candidates"])]
        assert len(r["pi_llm"]) == len(r["candidates"]) + 1 and sum(r["pi_llm"]) == pytest.approx(1.0)

    renamed = [s.__class__(**{**s.__dict__, "candidates": [*s.candidates[:-1], STOP_TOOL.name]}) for s in states]
    with pytest.raises(ValueError, match="state 0 .*named 'finish'"):
        rank_states(renamed, data.tools, tmp_path / "b", FakeTeacher(), RankConfig(), log=lambda _: None)


class RankingTeacher(FakeTeacher):
    """Ranks the listed options in reverse order (so STOP, listed last, comes first)."""

    def generate(self, prompts, sampling):
        self._tick()
        out = []
        for prompt in prompts:
            listed = prompt.split("<user>")[-1].split("Candidates:\n")[-1]
            names = re.findall(r"^- ([A-Za-z0-9_ .-]+?):", listed, flags=re.MULTILINE)
            out.append(json.dumps({"ranking": names[::-1]}))
        return out


@pytest.mark.parametrize("quality", [1.0, 0.3])
def test_a_synthetic_teacher_labels_states_through_the_same_path(tmp_path: Path, quality: float) -> None:
    """The gold option recorded with each state is the oracle's action; the synthetic teacher's pi_LLM puts its
    mode there at rate q, in the same records (and summary) an LLM's labels produce."""
    from raytool.teacher.synthetic import SyntheticTeacher

    data = build_tasks(BuildConfig(("travel",), 2, 10, seed=2, integration_walks=0), log=lambda _: None)
    data.save(tmp_path / "tasks")
    config = RankConfig(num_states=60, top_p=4, shard_size=20, oracle_rate=0.5)
    states = sample_states(tmp_path / "tasks", config, tmp_path / "features")
    env = ToolDeciderEnv({"tasks": str(tmp_path / "tasks"), "top_p": 4, "feature_cache": str(tmp_path / "features")})
    state = states[0]
    env.reset(options={"task_index": state.task_index})
    oracle = env.oracle_action()
    assert state.step == 0 and state.gold == (oracle if oracle < len(state.candidates) else len(state.candidates))
    records = rank_states(states, data.tools, tmp_path / "out", SyntheticTeacher(quality), config, log=lambda _: None)
    hits = [int(np.argmax(r["pi_llm"])) == r["gold"] for r in records]
    assert len(records) == 60 and (np.mean(hits) == 1.0 if quality == 1.0 else 0.1 < np.mean(hits) < 0.55)
    _, summary = load_rank_output(tmp_path / "out")
    assert summary["teacher"] == f"synthetic-q{quality:g}" and summary["env"]["top_p"] == 4


def test_cli_ranks_with_a_synthetic_teacher_file(tmp_path: Path, monkeypatch, capsys) -> None:
    """`raytool distill rank --teacher FILE` with `backend: synthetic`: no LLM, labels at the stated quality."""
    from raytool.cli import main

    monkeypatch.setenv("RAYTOOL_CACHE", str(tmp_path / "cache"))
    build_tasks(BuildConfig(("finance",), 2, 8, seed=4, integration_walks=0), log=lambda _: None).save(tmp_path / "t")
    (tmp_path / "teacher.yaml").write_text("teacher:\n  backend: synthetic\n  quality: 1.0\n")
    args = ["distill", "rank", "--tasks", str(tmp_path / "t"), "--out", str(tmp_path / "rank"), "--states", "20",
            "--teacher", str(tmp_path / "teacher.yaml")]  # fmt: skip
    assert main(args) == 0
    records, summary = load_rank_output(tmp_path / "rank")
    assert summary["teacher"] == "synthetic-q1" and len(records) == 20
    assert all(int(np.argmax(r["pi_llm"])) == r["gold"] for r in records)
