"""The decider and agent half of the main job (`raytool train`), after the proposer: stages 5-11.

    5  decider tasks    verified level-2 tasks over all suites: `envs/decider_train` and `envs/decider_test`
                        (other seeds), each with the trained proposer's candidates (`candidates.jsonl`)
    6  pi_LLM labels    `distill rank` on the training tasks with the teacher (STOP scored), into `rank/`
    7  F_P              policy reconstruction trained on them, into `fp/` (top-1 agreement and KL printed)
    8  decider          the RLlib `Decider` with 2 env runners, into `decider/` (`--resume` continues it); argument
                        values from the stage-4 filler (`decider_stages.arguments: predicted`, the default)
    9  evaluation       decider vs teacher-only vs proposer-greedy vs oracle on the held-out tasks, and the same
                        decider given the tasks' gold values (an ORACLE row)
    10 proxies          verified level-4 requests (two suites each; `envs/agent_train`, `envs/agent_test`), decomposed
                        into per-domain sub-tasks (`agent/subtasks`) on which the proxies' decider is trained
                        (`proxies/decider`; `raytool run` loads `proposer/`, it and `filler/`)
    11 agent eval       the proxy agent vs single-LLM ReAct (same teacher, tools, candidates) on the held-out
                        requests: `agent_eval/summary.md`, metrics with 95% CIs, plots

Each stage is skipped when its artifact exists (a dataset's `tasks.jsonl`, `rank/summary.json`, `fp/fp.json`,
`decider/decider.json`, `proxies/decider/decider.json`, `agent_eval/summary.json`); the decider stage without
`--resume` starts over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from raytool.paths import cache_dir

STAGES = 11


@dataclass(frozen=True)
class DeciderStages:
    """Settings of stages 5-9 (the `decider:`, `rank:` and `fp:` sections of `raytool train --config`)."""

    train_tasks: int = 60
    test_tasks: int = 30
    level: int = 2
    top_p: int = 5
    max_steps: int = 8
    rank_states: int = 300
    arguments: str = "predicted"
    filler_dir: str = ""
    decider: dict[str, Any] | None = None
    fp: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.arguments not in ("predicted", "gold"):
            raise ValueError(f"arguments must be predicted or gold, got {self.arguments!r}")

    def filler(self, out: Path) -> str:
        """The filler checkpoint the env reads argument values with: `filler_dir` when set, else the stage-4 one
        (`out/filler`); "" (gold values) with `arguments: gold`."""
        if self.arguments != "predicted":
            return ""
        return self.filler_dir or str(out / "filler")

    @classmethod
    def from_sections(cls, settings: dict[str, Any], where: str = "<train config>") -> DeciderStages:
        """From `raytool train --config` sections (`decider_stages`, `fp`, `decider`), checked by `raytool.config`
        (errors name `where`, the key path and what was expected)."""
        from raytool.config import check_keys, settings_from
        from raytool.decider.policy_train import PolicyTrainConfig
        from raytool.decider.train import DeciderRunConfig

        own = settings.get("decider_stages") or {}
        if isinstance(own, dict):
            known = [f for f in cls.__dataclass_fields__ if f not in ("decider", "fp")]
            check_keys(own, known, where, "decider_stages")
        settings_from(PolicyTrainConfig, settings.get("fp"), where, "fp")
        DeciderRunConfig.from_dict(settings.get("decider"), where)
        stages = settings_from(cls, own, where, "decider_stages")
        return replace(stages, decider=settings.get("decider"), fp=settings.get("fp"))


@dataclass(frozen=True)
class EvaluationSettings:
    """The `evaluation:` section: `limit` test tasks of the proposer and call tables (None = all), and the
    proposer table's `baselines` (None = all of `raytool.evaluation.proposer.BASELINES`)."""

    limit: int | None = None
    baselines: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FillerStage:
    """The `filler:` section's own keys (the rest are `FillerTrainConfig` fields): `max_tasks` per dataset (None =
    all), the `encoder` (minilm; hashing in tests), `suite_tasks` per level of the suites' extra tasks."""

    max_tasks: int | None = None
    encoder: str = "minilm"
    suite_tasks: int = 90


TRAIN_SECTIONS = ("proposer", "filler", "evaluation", "decider_stages", "fp", "decider", "agent", "segmenter",
                  "catalogue")  # fmt: skip


def load_train_config(path: Path | None) -> dict[str, Any]:
    """The sections of a `raytool train --config` file (none: the embedded default's), every one checked at once
    (`check_train_config`): a misspelled key fails before any stage runs, in `raytool.config`'s error shape."""
    from raytool.config import check_keys, read_config

    record = read_config(path)
    check_keys(record, TRAIN_SECTIONS, str(path), "")
    check_train_config(record, str(path))
    return record


def check_train_config(settings: dict[str, Any], where: str) -> None:
    """Every section of a `raytool train --config` file, checked at once (a typo fails before any stage runs)."""
    from raytool.config import settings_from
    from raytool.filler.train import FillerTrainConfig
    from raytool.planner.segmenter_train import SegmenterTrainConfig
    from raytool.proposer.config import ProposerConfig
    from raytool.train_catalogue import CatalogueJobConfig

    ProposerConfig.from_dict(settings.get("proposer") or {}, where)
    settings_from(EvaluationSettings, settings.get("evaluation"), where, "evaluation")
    filler = settings.get("filler") or {}
    if isinstance(filler, dict):
        own = set(FillerStage.__dataclass_fields__)
        settings_from(FillerStage, {k: v for k, v in filler.items() if k in own}, where, "filler")
        filler = {k: v for k, v in filler.items() if k not in own}
    settings_from(FillerTrainConfig, filler, where, "filler")
    DeciderStages.from_sections(settings, where)
    AgentStages.from_sections(settings, where)
    settings_from(SegmenterTrainConfig, settings.get("segmenter"), where, "segmenter")
    if settings.get("catalogue") is not None:
        CatalogueJobConfig.from_dict(settings["catalogue"], where)


@dataclass(frozen=True)
class AgentStages:
    """Settings of stages 10-11 (the `agent:` section of `raytool train --config`).

    train_tasks / test_tasks: level-`level` requests over all suites (level 4: two suites per request).
    phrasing: share of the training requests written in varied language (`BuildConfig.phrasing`); their
        sub-tasks come from the segmenter's plans.
    methods: what stage 11 compares (`raytool eval agent --method`).
    decider: `DeciderRunConfig` fields of the proxies' decider (default: the `decider:` section's).
    proxy_resources: Ray custom resources per proxy actor in stage 11 (e.g. {"proxy": 1}, see clusters/).
    """

    train_tasks: int = 60
    test_tasks: int = 30
    level: int = 4
    methods: tuple[str, ...] = ("proxy", "react")
    phrasing: float = 0.0
    decider: dict[str, Any] | None = None
    proxy_resources: dict[str, float] | None = None

    @classmethod
    def from_sections(cls, settings: dict[str, Any], where: str = "<train config>") -> AgentStages:
        """From the `agent` section (its `decider` defaults to the `decider` section), checked by `raytool.config`."""
        from raytool.config import settings_from
        from raytool.decider.train import DeciderRunConfig

        stages = settings_from(cls, settings.get("agent"), where, "agent")
        if stages.decider:
            DeciderRunConfig.from_dict(stages.decider, where, "agent.decider")
        return replace(stages, decider=stages.decider or settings.get("decider"))


def build_agent_tasks(out: Path, stages: AgentStages) -> dict[str, Path]:
    """Stage 10, first half: verified multi-domain requests for the agent (train seed 20, test seed 21)."""
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES

    paths = {}
    for split, count, seed in (("train", stages.train_tasks, 20), ("test", stages.test_tasks, 21)):
        path = out / "envs" / f"agent_{split}"
        paths[split] = path
        if (path / "tasks.jsonl").exists():
            _say(10, f"{path} exists, skipping")
            continue
        _say(10, f"build {count} verified level-{stages.level} requests over {', '.join(SUITE_NAMES)} into {path}")
        phrasing = stages.phrasing if split == "train" else 0.0
        config = BuildConfig(tuple(SUITE_NAMES), level=stages.level, num_tasks=count, seed=seed, phrasing=phrasing)
        build_verified(config).save(path)
    return paths


def train_segmenter_stage(out: Path, section: dict[str, Any] | None = None, where: str = "<train config>") -> Path:
    """Stage 10: the planner's distilled segmenter (`raytool planner train-segmenter`; the `segmenter:` section holds
    `SegmenterTrainConfig` fields), skipped when present."""
    from raytool.config import settings_from
    from raytool.planner.segmenter import META
    from raytool.planner.segmenter_train import SegmenterTrainConfig, train_segmenter

    config = settings_from(SegmenterTrainConfig, section, where, "segmenter")
    path = out / "segmenter"
    if (path / META).exists():
        _say(10, f"segmenter {path} exists, skipping")
        return path
    _say(10, f"train the planner's segmenter on builder requests (template and varied phrasing) into {path}")
    meta = train_segmenter(path, config, log=lambda line: _say(10, line))
    _say(10, "segmenter held out: " + ", ".join(f"{k} {v:.3f}" for k, v in meta["metrics"].items()))
    return path


def train_proxies_stage(
    out: Path, train_tasks: Path, fp_dir: Path, decider: DeciderStages, stages: AgentStages, segmenter: str = ""
) -> Path:
    """Stage 10, second half: the training requests' sub-tasks (planned by the segmenter at `segmenter` when
    `stages.phrasing` is set, else by the rule planner), and the proxies' decider trained on them."""
    from raytool.agent.agent import task_domains
    from raytool.agent.train import subtask_dataset, train_proxy_decider
    from raytool.decider.train import SUMMARY, DeciderRunConfig
    from raytool.planner.router import ProposerRouter
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    run_dir = out / "proxies" / "decider"
    if (run_dir / SUMMARY).exists():
        _say(10, f"proxy decider {run_dir} exists, skipping")
        return run_dir
    subtasks = out / "agent" / "subtasks"
    if not (subtasks / "candidates.jsonl").exists():
        dataset = ToolDataset.load(train_tasks)
        proposer = ToolProposer.load(out / "proposer", threads=1)
        router = ProposerRouter(task_domains(dataset.tasks, dataset.tools), proposer)
        _say(10, f"decompose {len(dataset.tasks)} requests into per-domain sub-tasks in {subtasks}")
        plan = None
        if stages.phrasing and segmenter:
            from raytool.planner.planner import segmenter_plan
            from raytool.planner.segmenter import Segmenter

            loaded = Segmenter.load(segmenter)
            plan = lambda query: segmenter_plan(query, loaded, router)  # noqa: E731
        subtask_dataset(dataset, router, proposer, subtasks, k=decider.top_p + decider.max_steps, plan=plan)
    run = DeciderRunConfig.from_dict(stages.decider or {})
    _say(10, f"train the proxies' decider ({run.iterations} iterations) on the sub-tasks into {run_dir}")
    return train_proxy_decider(
        subtasks, fp_dir, run, run_dir, decider.top_p, decider.max_steps, filler=decider.filler(out)
    )


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
    from raytool.planner.planner import PlannerConfig
    from raytool.tools.dataset import ToolDataset

    eval_dir = out / "agent_eval"
    if (eval_dir / "summary.json").exists():
        _say(11, f"{eval_dir} exists, skipping")
        print((eval_dir / "summary.md").read_text())
        return eval_dir
    dataset = ToolDataset.load(test_tasks)
    _say(11, f"{', '.join(stages.methods)} on {len(dataset.tasks)} held-out requests into {eval_dir}")
    proxy = ProxyConfig(proposer=str(out / "proposer"), decider=str(run_dir), filler=filler)
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


def _say(stage: int, text: str) -> None:
    print(f"[train] stage {stage}/{STAGES}: {text}", flush=True)


def build_decider_tasks(out: Path, proposer_dir: Path, stages: DeciderStages) -> dict[str, Path]:
    """Stage 5: the decider's train/test task sets with the proposer's candidates."""
    from raytool.decider.candidates import CANDIDATES_FILE, write_candidates
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    paths = {}
    proposer = None
    for split, count, seed in (("train", stages.train_tasks, 10), ("test", stages.test_tasks, 11)):
        path = out / "envs" / f"decider_{split}"
        paths[split] = path
        if (path / CANDIDATES_FILE).exists():
            _say(5, f"{path} exists, skipping")
            continue
        _say(5, f"build {count} verified level-{stages.level} tasks over {', '.join(SUITE_NAMES)} into {path}")
        dataset = build_verified(BuildConfig(tuple(SUITE_NAMES), level=stages.level, num_tasks=count, seed=seed))
        dataset.save(path)
        proposer = proposer or ToolProposer.load(proposer_dir)
        write_candidates(proposer, ToolDataset.load(path), path / CANDIDATES_FILE)
    return paths


def env_config(tasks: Path, stages: DeciderStages, filler: str) -> dict[str, Any]:
    """The decider env of `tasks`: the proposer's candidates, and argument values read by the filler checkpoint
    `filler` (`stages.filler(out)`), or "" for the tasks' gold calls (an ORACLE)."""
    from raytool.decider.candidates import decider_env_config
    from raytool.envs.decider_env import argument_settings

    return decider_env_config(tasks, stages.top_p, stages.max_steps) | argument_settings(filler)


def label_states(out: Path, tasks: Path, stages: DeciderStages, make_teacher) -> Path:
    """Stage 6: teacher pi_LLM labels for sampled decider states."""
    from raytool.decider.candidates import candidate_source
    from raytool.distill.rank import RankConfig, rank_states, sample_states
    from raytool.tools.dataset import ToolDataset

    rank_dir = out / "rank"
    if (rank_dir / "summary.json").exists():
        _say(6, f"{rank_dir} exists, skipping")
        return rank_dir
    config = RankConfig(
        num_states=stages.rank_states, top_p=stages.top_p, max_steps=stages.max_steps,
        candidate_source=candidate_source(tasks), shard_size=50,
    )  # fmt: skip
    states = sample_states(tasks, config, cache_dir() / "features")
    _say(6, f"teacher pi_LLM for {len(states)} decider states (candidates + STOP) into {rank_dir}")
    teacher = make_teacher()
    try:
        rank_states(states, ToolDataset.load(tasks).tools, rank_dir, teacher, config)
    finally:
        teacher.close()
    return rank_dir


def train_fp(out: Path, rank_dir: Path, stages: DeciderStages) -> Path:
    """Stage 7: F_P on the labels (held-out tasks for its report)."""
    from raytool.decider.policy_train import (
        PolicyTrainConfig,
        load_rank_records,
        metrics_table,
        train_policy_reconstruction,
    )
    from raytool.tools.files import read_json

    fp_dir = out / "fp"
    if (fp_dir / "fp.json").exists():
        _say(7, f"F_P {fp_dir} exists, skipping training")
        metrics = read_json(fp_dir / "fp.json").get("metrics", {})
    else:
        records, env = load_rank_records([rank_dir])
        _say(7, f"train F_P on {len(records)} teacher-labelled states into {fp_dir}")
        config = PolicyTrainConfig(**(stages.fp or {}))  # checked by DeciderStages.from_sections
        metrics = train_policy_reconstruction(records, config, fp_dir, env=env, log=lambda line: None)
    if metrics:
        print(metrics_table(metrics))
    return fp_dir


def train_decider_stage(out: Path, tasks: Path, fp_dir: Path, stages: DeciderStages, resume: bool) -> Path:
    """Stage 8: the RLlib decider."""
    from raytool.decider.train import SUMMARY, DeciderRunConfig, train_decider

    run_dir = out / "decider"
    if (run_dir / SUMMARY).exists():
        _say(8, f"decider {run_dir} exists, skipping training")
        return run_dir
    run = DeciderRunConfig.from_dict(stages.decider or {})
    _say(8, f"train the decider ({run.iterations} iterations, {run.num_env_runners} env runners) into {run_dir}")
    summary = train_decider(env_config(tasks, stages, stages.filler(out)), fp_dir, run, run_dir, resume=resume)
    print(
        f"[train] decider trained in {summary['train_seconds']:.0f} s; last iteration: {json.dumps(summary['final'])}"
    )
    return run_dir


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
    _say(9, f"decider vs baselines on {len(test_env.tasks)} held-out tasks ({paths['test']}), "
            f"{stages.arguments} arguments")  # fmt: skip
    print(decider_table(results))
    print(f"teacher-only: argmax of F_P's pi_LLM; proposer-greedy: threshold {threshold} fitted on the training tasks")
    return results
