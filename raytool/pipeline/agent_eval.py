"""Stage 11: the proxy agent against the single-LLM baselines on the held-out requests."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.settings import AgentStages


def agent_eval_stage(
    out: Path, test_tasks: Path, run_dir: Path, stages: AgentStages, make_teacher, filler: str = "",
    segmenter: str = "",
) -> Path:  # fmt: skip
    """Stage 11: the proxy agent against the single-LLM baselines on the held-out requests; every method reads
    argument values with the filler checkpoint `filler` ("" = the tasks' gold values); the proxy plans with the
    segmenter checkpoint `segmenter` ("" = the teacher's decomposition)."""
    from raytool.agent.agent import AgentConfig
    from raytool.agent.proxy import ProxyConfig
    from raytool.evaluation.agent import evaluate_agent
    from raytool.pipeline.proxies import proxy_proposer
    from raytool.planner.planner import PlannerConfig
    from raytool.tools.dataset import ToolDataset

    eval_dir = out / "agent_eval"
    if (eval_dir / "summary.json").exists():
        say(11, f"{eval_dir} exists, skipping")
        print((eval_dir / "summary.md").read_text())
        return eval_dir
    dataset = ToolDataset.load(test_tasks)
    say(11, f"{', '.join(stages.methods)} on {len(dataset.tasks)} held-out requests into {eval_dir}")
    proxy = ProxyConfig(proposer=str(proxy_proposer(out)), decider=str(run_dir), filler=filler)
    resources = dict(stages.proxy_resources or {})
    config = AgentConfig(proxy=proxy, planner=PlannerConfig(segmenter=segmenter), proxy_resources=resources)
    teacher = make_teacher()
    try:
        evaluate_agent(stages.methods, dataset, eval_dir, teacher, config,
                       meta={"data": str(test_tasks), "format": "raytool"})  # fmt: skip
    finally:
        teacher.close()
    print((eval_dir / "summary.md").read_text())
    return eval_dir
