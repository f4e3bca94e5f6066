"""The main job as one ordered list of stages, and the loop that runs it.

Each `Stage` names what it reads (`inputs`), what it writes under the output directory (`writes`), whether it skips
its work when that is already there (`skips`: then it prints its existing results instead; a checkpoint of older
features is retrained) and the function that runs it (`run(job)`, calling the stage's own module of
`raytool.pipeline`). Stages hand their outputs to later ones through `job.state`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from raytool.pipeline.log import say
from raytool.pipeline.settings import NO_FILE, AgentStages, DeciderStages, SuiteStage, synth_config
from raytool.tables import format_table


@dataclass
class MainJob:
    """One run of the main job: where it writes, its data and settings (`load_train_config`), the teacher factory,
    and what the stages have handed on (`state`)."""

    out: Path
    data_dir: Path
    settings: dict[str, Any]
    make_teacher: Callable[[], Any]
    resume: bool = False
    where: str = NO_FILE
    state: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def decider(self) -> DeciderStages:
        return DeciderStages.from_sections(self.settings, self.where)

    @cached_property
    def agent(self) -> AgentStages:
        return AgentStages.from_sections(self.settings, self.where)


@dataclass(frozen=True)
class Stage:
    number: int  # as printed: `[train] stage 4/11: ...` (stages 4 and 10 have several parts)
    name: str
    inputs: str
    writes: str  # under the output directory
    skips: bool  # skipped when `writes` is present
    run: Callable[[MainJob], None]


def _benchmarks(job: MainJob) -> None:
    from raytool.pipeline.benchmarks import import_benchmarks

    job.state["datasets"] = import_benchmarks(job.out, job.data_dir)


def _suites(job: MainJob) -> None:
    from raytool.config import settings_from
    from raytool.pipeline.suites import build_suite_tasks

    stage = settings_from(SuiteStage, job.settings.get("suites"), job.where, "suites")
    job.state["suite_dirs"] = list(build_suite_tasks(job.out, stage).values())


def _synth(job: MainJob) -> None:
    from raytool.pipeline.synth import synth_stage

    config = synth_config(job.settings, job.where)
    synth_stage(job.out, job.state["datasets"]["seal_tools_dev"], config, job.make_teacher)


def _proposer(job: MainJob) -> None:
    from raytool.pipeline.proposer import train_proposer_stage

    train_proposer_stage(job.state["datasets"], job.out, job.settings)


def _filler(job: MainJob) -> None:
    from raytool.pipeline.filler import train_filler_stage

    train_filler_stage(job.out, job.settings, job.data_dir, job.state["suite_dirs"], job.where)


def _decider_tasks(job: MainJob) -> None:
    from raytool.pipeline.decider_tasks import build_decider_tasks

    job.state["decider_tasks"] = build_decider_tasks(job.out, job.out / "proposer", job.decider)


def _rank(job: MainJob) -> None:
    from raytool.pipeline.rank import label_states

    job.state["rank"] = label_states(job.out, job.state["decider_tasks"]["train"], job.decider, job.make_teacher)


def _fp(job: MainJob) -> None:
    from raytool.pipeline.fp import train_fp

    job.state["fp"] = train_fp(job.out, job.state["rank"], job.decider)


def _decider(job: MainJob) -> None:
    from raytool.pipeline.decider import train_decider_stage

    tasks = job.state["decider_tasks"]["train"]
    job.state["decider"] = train_decider_stage(job.out, tasks, job.state["fp"], job.decider, job.resume)


def _evaluation(job: MainJob) -> None:
    from raytool.pipeline.evaluation import evaluate_stage

    evaluate_stage(job.state["decider_tasks"], job.state["fp"], job.state["decider"], job.decider)


def _agent_tasks(job: MainJob) -> None:
    from raytool.pipeline.agent_tasks import build_agent_tasks

    job.state["requests"] = build_agent_tasks(job.out, job.agent)


def _segmenter(job: MainJob) -> None:
    from raytool.pipeline.segmenter import train_segmenter_stage

    job.state["segmenter"] = str(train_segmenter_stage(job.out, job.settings.get("segmenter") or {}, job.where))


def _proxy_proposer(job: MainJob) -> None:
    from raytool.pipeline.proxies import proxy_proposer_stage

    proxy_proposer_stage(job.out, job.agent)


def _proxies(job: MainJob) -> None:
    from raytool.pipeline.proxies import train_proxies_stage

    requests, segmenter = job.state["requests"]["train"], job.state["segmenter"]
    job.state["proxies"] = train_proxies_stage(job.out, requests, job.state["fp"], job.decider, job.agent, segmenter)


def _agent_eval(job: MainJob) -> None:
    from raytool.pipeline.agent_eval import agent_eval_stage

    agent_eval_stage(job.out, job.state["requests"]["test"], job.state["proxies"], job.agent, job.make_teacher,
                     job.decider.filler(job.out), job.state["segmenter"])  # fmt: skip


STAGES = (  # number, name, inputs, writes, skipped when present, run
    Stage(1, "benchmarks", "the shared benchmark files", "datasets/", False, _benchmarks),
    Stage(2, "suite tasks", "the executable suites", "envs/<suite>_l<level>/", False, _suites),
    Stage(3, "teacher synth", "Seal-Tools dev, the teacher", "synth/summary.json", True, _synth),
    Stage(4, "proposer", "Seal-Tools dev, synth/", "proposer/proposer.json", True, _proposer),
    Stage(4, "filler", "Seal-Tools dev, suite tasks", "filler/filler.json", True, _filler),
    Stage(5, "decider tasks", "the suites, proposer/", "envs/decider_{train,test}/", True, _decider_tasks),
    Stage(6, "pi_LLM labels", "envs/decider_train/, the teacher", "rank/summary.json", True, _rank),
    Stage(7, "F_P", "rank/", "fp/fp.json", True, _fp),
    Stage(8, "decider", "envs/decider_train/, fp/, filler/", "decider/decider.json", True, _decider),
    Stage(9, "decider table", "envs/decider_*/, fp/, decider/", "(printed)", False, _evaluation),
    Stage(10, "agent requests", "the suites", "envs/agent_{train,test}/", True, _agent_tasks),
    Stage(10, "segmenter", "builder requests", "segmenter/segmenter.json", True, _segmenter),
    Stage(10, "proxy proposer", "proposer/, the suites", "proxies/proposer/proposer.json", True, _proxy_proposer),
    Stage(
        10, "proxy decider", "envs/agent_train/, proxies/proposer/, fp/", "proxies/decider/decider.json", True, _proxies
    ),
    Stage(11, "agent eval", "envs/agent_test/, proxies/, the teacher", "agent_eval/summary.json", True, _agent_eval),
)


TIMINGS = "timings.json"


def run_main_job(job: MainJob, stages: tuple[Stage, ...] = STAGES) -> MainJob:
    """Every stage, in order; returns the job (its `state`). Each stage's wall seconds are printed when it ends and,
    with the total, written to `timings.json` in the output directory (a stage skipped because its output was there
    shows the seconds it took to print that output)."""
    from raytool.memory import release_memory
    from raytool.tools.files import atomic_write_text

    timings, start = [], time.perf_counter()
    for stage in stages:
        began = time.perf_counter()
        stage.run(job)
        release_memory()  # what the stage freed goes back to the OS before the next one starts engines beside it
        seconds = time.perf_counter() - began
        timings.append({"stage": stage.number, "name": stage.name, "seconds": round(seconds, 1)})
        say(stage.number, f"{stage.name} took {seconds:.0f} s")
    total = time.perf_counter() - start
    atomic_write_text(job.out / TIMINGS, json.dumps({"stages": timings, "total_seconds": round(total, 1)}, indent=2))
    rows = [[t["stage"], t["name"], round(t["seconds"])] for t in timings] + [["", "total", round(total)]]
    print(format_table(["stage", "part", "seconds"], rows))
    print(f"[train] done in {total / 60:.1f} min: artifacts in {job.out}")
    return job
