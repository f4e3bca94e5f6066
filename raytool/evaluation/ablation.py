"""The agent's ablation runner: the proxy agent with one part taken out at a time, in the same harness.

    raytool eval ablation --checkpoint DIR --data PATH --format FORMAT --out DIR [--train-tasks DIR]

    proxy               the full agent (planner, per-domain proxies, the decider trained with JS and tau guidance;
                        skills when a skills file is given)
    no-skills           without macro-actions: the decider trained without them (`unskilled_decider`), when the full
                        agent has skills
    no-planner          no decomposition: each request goes whole to one proxy over all the tools
    no-decider          no RL decider: one call per planned sub-task, the proposer's best candidate for it
                        (`ProxyConfig.policy="proposer"`); what the decider adds over the proposer and the plan
    plan-bounded        the decider stopped once it has made one call per planned sub-task
                        (`ProxyConfig.policy="planned"`): its own choices within the plan's budget, no extra calls
    no-js               the proxies' decider retrained with lambda1 = 0 (no JS penalty toward pi_LLM, no sigma bound)
    no-tau              the proxies' decider retrained with lambda2 = 0 (no Kendall-tau term on the critic)
    rationale-loss      the proposer trained with the rationale loss (alpha > 0; the default proposer has alpha = 0,
                        so this is the rationale ablation's other arm), given as --rationale-proposer

Retrained deciders use the full agent's training sub-tasks, F_P and run settings, into `OUT/deciders/<variant>`.
Every variant is a method of `raytool.evaluation.agent.evaluate_agent`, so the metrics, CIs, table and plots are
the same as `raytool eval agent`'s.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raytool.agent.agent import AgentConfig

VARIANTS = ("proxy", "no-skills", "no-planner", "no-decider", "plan-bounded", "no-js", "no-tau", "rationale-loss")
_RETRAIN = {"no-js": {"lambda1": 0.0}, "no-tau": {"lambda2": 0.0}}


def ablation_configs(
    base: AgentConfig,
    subtasks: Path | None,
    fp_dir: Path | None,
    out: Path,
    rationale_proposer: Path | None = None,
    unskilled_decider: Path | None = None,
    variants: tuple[str, ...] = VARIANTS,
    log: Callable = print,
) -> dict[str, AgentConfig]:
    """Variant name -> its `AgentConfig`, retraining the deciders the variants need (skipped when done). Variants
    that do not apply (no skills to remove, no rationale proposer given) are left out."""
    from raytool.agent.train import train_proxy_decider
    from raytool.decider.train import SUMMARY, DeciderRunConfig

    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown ablation(s) {unknown}; choose from {', '.join(VARIANTS)}")
    summary = json.loads((Path(base.proxy.decider) / SUMMARY).read_text())
    env, run = summary["env"], dict(summary["run"])
    configs: dict[str, AgentConfig] = {}
    for name in variants:
        if name == "proxy":
            configs[name] = base
        elif name == "no-skills" and base.proxy.skills:
            configs[name] = _with(base, skills="", decider=str(unskilled_decider or base.proxy.decider))
        elif name == "no-planner":
            configs[name] = dataclasses.replace(base, decompose=False)
        elif name == "no-decider":
            configs[name] = _with(base, policy="proposer")
        elif name == "plan-bounded":
            configs[name] = _with(base, policy="planned")
        elif name in _RETRAIN:
            if subtasks is None:
                raise ValueError(f"ablation {name!r} retrains the decider: give the training sub-tasks")
            training = dict(run.get("training") or {}) | _RETRAIN[name]
            run_dir = train_proxy_decider(
                subtasks, fp_dir, DeciderRunConfig.from_dict(run | {"training": training}), out / "deciders" / name,
                env["top_p"], env["max_steps"], base.proxy.skills, log, filler=base.proxy.filler,
            )  # fmt: skip
            configs[name] = _with(base, decider=str(run_dir))
        elif name == "rationale-loss" and rationale_proposer is not None:
            configs[name] = _with(base, proposer=str(rationale_proposer))
    return configs


def _with(base: AgentConfig, **changes: Any) -> AgentConfig:
    return dataclasses.replace(base, proxy=dataclasses.replace(base.proxy, **changes), proxies={})
