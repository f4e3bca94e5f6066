"""The ablation runner: which variants apply, and the retrained deciders carry their changed guidance weights."""

from __future__ import annotations

import json

import pytest

from raytool.agent.agent import AgentConfig
from raytool.agent.proxy import ProxyConfig
from raytool.decider.train import SUMMARY
from raytool.evaluation.ablation import ablation_configs


@pytest.mark.slow
@pytest.mark.ray
def test_variants_and_their_retrained_deciders(agent_kit, tmp_path) -> None:
    base = AgentConfig(proxy=ProxyConfig(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"])))
    variants = ("proxy", "no-skills", "no-planner", "no-decider", "plan-bounded", "no-js", "rationale-loss")
    configs = ablation_configs(base, agent_kit["subtasks"], agent_kit["fp"], tmp_path, log=lambda _: None,
                               variants=variants)  # fmt: skip
    assert list(configs) == ["proxy", "no-planner", "no-decider", "plan-bounded", "no-js"]  # no skills, no rationale
    assert configs["proxy"] is base and configs["no-planner"].decompose is False
    no_decider = configs["no-decider"].proxy
    assert no_decider.policy == "proposer" and no_decider.decider == base.proxy.decider
    assert configs["plan-bounded"].proxy.policy == "planned"
    retrained = json.loads((tmp_path / "deciders" / "no-js" / SUMMARY).read_text())
    assert configs["no-js"].proxy.decider == str(tmp_path / "deciders" / "no-js")
    assert retrained["run"]["training"]["lambda1"] == 0.0
    assert retrained["env"]["top_p"] == 4  # the full agent's decider settings


def test_unknown_variant_is_named(tmp_path) -> None:
    base = AgentConfig(proxy=ProxyConfig(proposer="p", decider=str(tmp_path)))
    with pytest.raises(ValueError, match="unknown ablation"):
        ablation_configs(base, None, None, tmp_path, variants=("no-brain",))


def test_a_proxy_policy_is_checked() -> None:
    with pytest.raises(ValueError, match="policy must be one of decider, planned, proposer"):
        ProxyConfig(proposer="p", decider="d", policy="teacher")
