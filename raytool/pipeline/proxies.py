"""Stage 10 (last part): the training requests' per-domain sub-tasks, and the proxies' decider trained on them."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.settings import AgentStages, DeciderStages


def train_proxies_stage(
    out: Path, train_tasks: Path, fp_dir: Path, decider: DeciderStages, stages: AgentStages, segmenter: str = ""
) -> Path:
    """Stage 10, last part: the training requests' sub-tasks (planned by the segmenter at `segmenter` when
    `stages.phrasing` is set, else by the rule planner), ranked by the proxies' proposer (`proxy_proposer`), and
    the proxies' decider trained on them."""
    from raytool.agent.agent import task_domains
    from raytool.agent.train import subtask_dataset, train_proxy_decider
    from raytool.decider.train import SUMMARY, DeciderRunConfig
    from raytool.planner.domain_router import ProposerDomainRouter
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    run_dir = out / "proxies" / "decider"
    if (run_dir / SUMMARY).exists():
        say(10, f"proxy decider {run_dir} exists, skipping")
        return run_dir
    proposer_dir = proxy_proposer(out)
    subtasks = out / "agent" / "subtasks"
    if not (subtasks / "candidates.jsonl").exists():
        dataset = ToolDataset.load(train_tasks)
        proposer = ToolProposer.load(proposer_dir, threads=1)
        router = ProposerDomainRouter(task_domains(dataset.tasks, dataset.tools), proposer)
        say(10, f"decompose {len(dataset.tasks)} requests into per-domain sub-tasks in {subtasks}")
        plan = None
        if stages.phrasing and segmenter:
            from raytool.planner.planner import segmenter_plan
            from raytool.planner.segmenter import Segmenter

            loaded = Segmenter.load(segmenter)
            plan = lambda query: segmenter_plan(query, loaded, router)  # noqa: E731
        subtask_dataset(dataset, router, proposer, subtasks, k=decider.top_p + decider.max_steps, plan=plan)
    run = DeciderRunConfig.from_dict(stages.decider or {})
    say(10, f"train the proxies' decider ({run.iterations} iterations) on the sub-tasks into {run_dir}")
    # its text encoder is F_P's: stage 6 labelled F_P's states under `decider.encoder`
    return train_proxy_decider(
        subtasks, fp_dir, run, run_dir, decider.top_p, decider.max_steps, filler=decider.filler(out)
    )


def proxy_proposer_stage(out: Path, stages: AgentStages) -> Path:
    """Stage 10: the proxies' proposer at `out/proxies/proposer`, the main one fine-tuned on the suites' sub-tasks
    (`raytool.proposer.proxy_tuning`; skipped when it exists); the main one with `agent.proposer.tasks_per_level: 0`."""
    from raytool.proposer.proxy_tuning import tune_proxy_proposer

    config = stages.proposer_config()
    if config.tasks_per_level == 0:
        return out / "proposer"
    path = out / "proxies" / "proposer"
    if (path / "proposer.json").exists():
        say(10, f"proxies' proposer {path} exists, skipping")
        return path
    say(10, f"fine-tune the proposer on the suites' sub-tasks (template and varied phrasing) into {path}")
    return tune_proxy_proposer(out / "proposer", path, config)


def proxy_proposer(root: Path) -> Path:
    """The proposer the proxies of a main-job output `root` use: `proxies/proposer` when stage 10 made one, else
    the main `proposer`."""
    tuned = Path(root) / "proxies" / "proposer"
    return tuned if (tuned / "proposer.json").exists() else Path(root) / "proposer"
