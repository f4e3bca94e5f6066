"""Stage 9: the decider against teacher-only, proposer-greedy and the oracle on the held-out tasks, and the same
decider with the tasks' gold values (an ORACLE row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytool.pipeline.decider_tasks import env_config
from raytool.pipeline.log import say
from raytool.pipeline.settings import DeciderStages


def evaluate_stage(paths: dict[str, Path], fp_dir: Path, run_dir: Path, stages: DeciderStages) -> dict[str, Any]:
    """Stage 9: the results table on the held-out tasks."""
    from raytool.decider.train import load_module
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation.decider import baseline_policies, decider_table, evaluate_policies, module_policy

    filler = stages.filler(run_dir.parent)
    test_env = ToolDeciderEnv(env_config(paths["test"], stages, filler))
    baselines, threshold = baseline_policies(ToolDeciderEnv(env_config(paths["train"], stages, filler)), fp_dir)
    module = load_module(run_dir)
    results = evaluate_policies(test_env, {"decider (RL, LLM-guided)": module_policy(module), **baselines})
    if filler:  # the same decider with the tasks' gold values: what argument errors cost
        gold_env = ToolDeciderEnv(env_config(paths["test"], stages, ""))
        results |= evaluate_policies(gold_env, {"decider, gold arguments (ORACLE)": module_policy(module)})
    say(9, f"decider vs baselines on {len(test_env.tasks)} held-out tasks ({paths['test']}), "
            f"{stages.arguments} arguments")  # fmt: skip
    print(decider_table(results))
    print(f"teacher-only: argmax of F_P's pi_LLM; proposer-greedy: threshold {threshold} fitted on the training tasks")
    return results
