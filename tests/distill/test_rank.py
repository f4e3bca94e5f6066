"""`distill rank`: decider states sampled from rollouts get pi_LLM labels (a distribution over the candidates)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raytool.distill.rank import RankConfig, rank_states, sample_states
from raytool.envs.build import BuildConfig, build_tasks
from raytool.teacher.distributions import likelihood_distribution
from tests.distill.fake_teacher import FakeTeacher


def test_states_get_likelihood_distributions(tmp_path: Path) -> None:
    data = build_tasks(BuildConfig(("travel",), 2, 10, seed=2, integration_walks=0), log=lambda _: None)
    data.save(tmp_path / "tasks")
    config = RankConfig(num_states=30, top_p=4, shard_size=10, with_ranking=True)
    states = sample_states(tmp_path / "tasks", config, tmp_path / "features")
    assert len(states) == 30
    assert all(2 <= len(s.candidates) <= 4 and not set(s.history) & set(s.candidates) for s in states)
    assert any(s.history for s in states)  # later steps of episodes too
    records = rank_states(states, data.tools, tmp_path / "out", FakeTeacher(), config, log=lambda _: None)
    assert len(records) == 30
    for r in records:
        pi = np.array(r["pi_llm"])
        assert pi.shape == (len(r["candidates"]),) and pi.sum() == pytest.approx(1.0) and (pi >= 0).all()
        assert r["source"] == "likelihood"  # the fake's empty ranking never parses completely: the fallback applies
        np.testing.assert_allclose(pi, likelihood_distribution(np.array(r["logprobs"])), rtol=1e-6)
