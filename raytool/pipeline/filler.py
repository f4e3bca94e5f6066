"""Stage 4 (cont.): the argument filler, then complete calls on Seal-Tools test_in_domain."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.reports import report_key, report_once
from raytool.pipeline.settings import NO_FILE, filler_settings


def train_filler_stage(out: Path, settings: dict, data_dir: Path, suite_dirs: list[Path], where: str = NO_FILE) -> None:
    """Stage 4 (cont.): the argument filler on the gold calls of Seal-Tools dev, the stage-2 suite tasks
    (`suite_dirs`) and the suites' level-1, 3 and 4 tasks (skipped when its checkpoint is current), then its calls on
    Seal-Tools test_in_domain (given candidates, and gold tools as an oracle row)."""
    from raytool.evaluation.calls import OracleTools, ProposerFiller, evaluate_calls, given_candidates
    from raytool.filler.checkpoint import is_current
    from raytool.filler.filler import ArgumentFiller
    from raytool.filler.train import train_filler
    from raytool.hardware import cpu_has_bf16
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    ckpt = out / "filler"
    stage, config = filler_settings(settings, where)
    data = [out / "datasets" / "seal_tools_dev", *suite_dirs, *filler_suite_paths(out, stage.phrasing)]
    current = is_current(ckpt, reader=stage.encoder == "minilm" and config.reader_epochs > 0)
    if current and trained_on(ckpt) == data_names(data):
        say(4, f"filler checkpoint {ckpt} exists, skipping training")
    else:
        if (ckpt / "filler.json").exists():
            say(4, f"{ckpt} is out of date (other features, no span reader, or other training data): retraining")
        filler_suite_tasks(out, stage.suite_tasks, stage.phrasing)
        say(4, f"train the argument filler on the gold calls of {len(data)} datasets into {ckpt}")
        train_filler(data, ckpt, config, stage.encoder, max_tasks=stage.max_tasks)
    test = ToolDataset.load(out / "datasets" / "seal_tools_test")
    limit = (settings.get("evaluation") or {}).get("limit") or len(test.tasks)
    test = ToolDataset(test.tools, test.tasks[:limit])
    given_file = data_dir / "seal_tools" / "for_finetune" / "test_in_domain.json"
    print(
        f"[train] complete calls on Seal-Tools test_in_domain ({len(test.tasks)} tasks, the benchmark's 5 candidates)"
    )
    summary = out / "calls_eval" / "summary.md"
    # the reader's precision follows the CPU (`ArgumentFiller.load`): a checkpoint moved to another CPU is evaluated
    key = report_key(ckpt / "filler.json", out / "proposer" / "proposer.json", tasks=len(test.tasks),
                     candidates=str(given_file), bf16=cpu_has_bf16())  # fmt: skip

    def make() -> str:
        given = given_candidates(given_file)
        filler = ArgumentFiller.load(ckpt)
        proposed = ProposerFiller(ToolProposer.load(out / "proposer"), filler, test.tools, lambda task: given[task.id])
        methods = [proposed, OracleTools(filler, test.tools, reuse=proposed)]  # the oracle reuses the same fills
        evaluate_calls(methods, test, out / "calls_eval")
        return summary.read_text()

    table, kept = report_once(out / "reports" / "calls.json", key, make, outputs=[summary])
    print(table + (f"\n(kept from the run that made these checkpoints: {summary})" if kept else ""))


# (level, seed) of the suites' tasks the filler also trains on: every suite's templates at levels 1, 3 and 4, seeds
# apart from the decider's (10, 11) and the agent's (20, 21) held-out tasks
FILLER_SUITE_LEVELS = ((1, 31), (3, 33), (4, 34))


def filler_suite_paths(out: Path, phrasing: float = 0.0) -> list[Path]:
    """Where `filler_suite_tasks` puts its levels' tasks (`filler_l{level}`, `_p{percent}` when phrased)."""
    tail = f"_p{round(phrasing * 100)}" if phrasing else ""
    return [out / "envs" / f"filler_l{level}{tail}" for level, _ in FILLER_SUITE_LEVELS]


def filler_suite_tasks(out: Path, count: int, phrasing: float = 0.0) -> list[Path]:
    """Verified level-1, 3 and 4 tasks over all suites for the filler (`count` per level, a `phrasing` share of
    them in varied language, `BuildConfig.phrasing`; built once): the level-2 tasks alone left it weak on the
    templates of longer requests (an enum value beside another one, multi-word names, values after "Separately,"),
    and templates alone on requests as people write them (optional values phrased freely)."""
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES

    paths = filler_suite_paths(out, phrasing)
    for (level, seed), path in zip(FILLER_SUITE_LEVELS, paths, strict=True):
        if not (path / "tasks.jsonl").exists():
            config = BuildConfig(tuple(SUITE_NAMES), level=level, num_tasks=count, seed=seed, phrasing=phrasing)
            build_verified(config, log=lambda _: None).save(path)
    return paths


def trained_on(ckpt: Path) -> list[str] | None:
    """The dataset directories a filler checkpoint was trained on (its `filler.json`), by `data_names`; None when
    unrecorded."""
    import json

    meta = ckpt / "filler.json"
    if not meta.exists():
        return None
    data = (json.loads(meta.read_text()).get("metrics") or {}).get("data")
    return None if data is None else data_names(data)


def data_names(paths) -> list[str]:
    """Dataset directories by their last two path parts (`envs/filler_l1_p50`): an output directory copied or moved
    elsewhere keeps its filler current."""
    return ["/".join(Path(p).parts[-2:]) for p in paths]
