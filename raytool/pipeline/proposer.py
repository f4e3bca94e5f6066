"""Stage 4: the tool proposer on Seal-Tools dev (with the teacher's rationales), then its table on test_in_domain."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.reports import report_key, report_once


def train_proposer_stage(datasets: dict, out: Path, settings: dict) -> None:
    """Stage 4: the proposer on Seal-Tools dev (skipped when its checkpoint exists), then test_in_domain."""
    from raytool.evaluation.proposer import BASELINES, evaluate, results_table
    from raytool.proposer.config import ProposerConfig
    from raytool.proposer.data import load_records
    from raytool.proposer.proposer import ToolProposer
    from raytool.proposer.train import prepare_data, train_proposer
    from raytool.tools.dataset import ToolDataset

    ckpt = out / "proposer"
    dev, test = datasets["seal_tools_dev"], datasets["seal_tools_test"]
    if (ckpt / "proposer.json").exists():
        say(4, f"proposer checkpoint {ckpt} exists, skipping training")
    else:
        say(4, f"train the proposer on Seal-Tools dev ({len(dev.tasks)} tasks) into {ckpt}")
        config = ProposerConfig.from_dict(settings.get("proposer") or {})
        train_proposer(prepare_data(dev.tasks, dev.tools, config, load_records([out / "synth"])), config, ckpt)
    evaluation = settings.get("evaluation") or {}
    test = ToolDataset(test.tools, test.tasks[: evaluation.get("limit") or len(test.tasks)])
    baselines = list(evaluation.get("baselines", BASELINES))
    print(f"[train] proposer on Seal-Tools test_in_domain ({len(test.tasks)} tasks, all {len(test.tools):,} tools)")
    key = report_key(ckpt / "proposer.json", tasks=len(test.tasks), baselines=baselines)
    table, kept = report_once(
        out / "reports" / "proposer.json",
        key,
        lambda: results_table(evaluate(test, (1, 5, 10), ToolProposer.load(ckpt), baselines)),
    )
    print(table + ("\n(kept from the run that made this checkpoint: reports/proposer.json)" if kept else ""))
