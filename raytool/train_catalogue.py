"""`raytool train --tools CATALOGUE`: the main job for a user's own tools, ending in a Serve config for them.

    raytool train --tools my_tools.json --format openai_tools --out runs/my_tools
    raytool serve --config runs/my_tools/serve.yaml

Stages (each skipped when its artifact exists, so an interrupted job resumes):
    1 catalogue   the catalogue imported (`openai_tools`, `mcp`, `openapi`, a benchmark file, or a dataset dir)
    2 tasks       the teacher writes requests and gold calls for it, each checked (`distill instructions --tools`,
                  `raytool.distill.catalogue_tasks`), joined by the user's own examples (`examples`: JSONL of
                  tasks, held to the same checks); too few usable tasks stops the job with the counts
    3 split       the usable tasks split into training and held-out tasks (`test_share`, by `seed`)
    4 proposer    trained on the training tasks over the catalogue; Recall / Complete@k on the held-out tasks
                  beside BM25 and the untrained MiniLM encoder
    5 filler      the main job's filler (trained on Seal-Tools and the suites; its schema-conditioned scorer and
                  reader take any catalogue) when it exists, else one trained on these tasks; complete-call F1 on
                  the held-out tasks with gold tools
    6 decider     the proposer's candidates; teacher pi_LLM labels for `rank_states` states and F_P on them (0: no
                  teacher labels, unguided); the RLlib decider on the training tasks (calls checked against the
                  gold calls: a user's tools are not executed), then held-out success beside the baselines
    7 serve       `serve.yaml`: the catalogue served as one domain (`catalogues:`), the checkpoints above
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text
from raytool.tools.task import Task

STEPS = 7


@dataclass(frozen=True)
class CatalogueJobConfig:
    """Settings of `raytool train --tools` (the `catalogue:` section of `--config`).

    name: the served domain's name (default: the catalogue file's stem, lower snake case).
    examples: a JSONL file of the user's own tasks over the catalogue (`Task` records: id, query, calls), or "".
    num_tasks: tasks the teacher is asked to write; min_tasks: fewer usable ones (with the examples) stop the job.
    multi_share: share of two-call tasks; test_share: held-out share of the usable tasks; seed: plan and split.
    rank_states: decider states the teacher labels for F_P (0: none, the decider trains unguided).
    filler: an argument-filler checkpoint to use ("" = the main job's when it exists and `main_filler`, else train
        one here on the training tasks, scorer only).
    proposer / decider / fp: ProposerConfig, DeciderRunConfig and PolicyTrainConfig fields.
    top_p / max_steps: the decider's candidates and steps.
    """

    name: str = ""
    examples: str = ""
    num_tasks: int = 60
    min_tasks: int = 4
    multi_share: float = 0.5
    test_share: float = 0.25
    seed: int = 0
    rank_states: int = 60
    filler: str = ""
    main_filler: bool = True
    top_p: int = 5
    max_steps: int = 8
    proposer: dict[str, Any] = field(default_factory=dict)
    decider: dict[str, Any] = field(default_factory=lambda: {"iterations": 24})
    fp: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, record: dict[str, Any] | None, where: str = "<catalogue config>") -> CatalogueJobConfig:
        """Checked by `raytool.config.settings_from`, the nested `proposer`, `decider` and `fp` sections too."""
        from raytool.config import settings_from
        from raytool.decider.fp_train import PolicyTrainConfig
        from raytool.decider.train import DeciderRunConfig
        from raytool.proposer.config import ProposerConfig

        config = settings_from(cls, record, where, "catalogue")
        for key, kind in (("proposer", ProposerConfig), ("decider", DeciderRunConfig), ("fp", PolicyTrainConfig)):
            settings_from(kind, getattr(config, key), where, f"catalogue.{key}")
        return config


def domain_name(source: Path) -> str:
    """A domain name from a catalogue's path: `My Tools.openapi.yaml` -> `my_tools`."""
    stem = source.name.split(".")[0] if not source.is_dir() else source.name
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "catalogue"


def run_catalogue_job(
    source: Path, fmt: str, out: Path, make_teacher: Callable, config: CatalogueJobConfig = CatalogueJobConfig(),
    main_job: Path | None = None, log: Callable[[str], None] = print,
) -> dict[str, Any]:  # fmt: skip
    """Run the stages (module docstring) into `out`; returns {stage: figures} (also `out/report.json`)."""
    from raytool.evaluation.proposer import load_eval_data

    out = Path(out)
    name = config.name or domain_name(Path(source))
    say = _sayer(log)
    report: dict[str, Any] = {"domain": name, "config": asdict(config)}

    say(1, f"import {source} ({fmt}) into {out / 'catalogue'}")
    catalogue = load_eval_data(Path(source), fmt, log=lambda line: log(f"[train] {line}"))
    catalogue = ToolDataset(catalogue.tools, [], catalogue.info, catalogue.report)
    catalogue.save(out / "catalogue")
    report["catalogue"] = {"tools": len(catalogue.tools), "import_report": catalogue.report.to_dict()}

    report["tasks"] = _tasks_stage(catalogue, out, make_teacher, config, say)
    paths = _split_stage(out, config, say)
    report["proposer"] = _proposer_stage(paths, out, config, say)
    filler, report["filler"] = _filler_stage(paths, out, config, main_job, say)
    report["decider"] = _decider_stage(paths, out, filler, make_teacher, config, say)
    say(7, f"write {out / 'serve.yaml'}: the catalogue served as domain {name!r}")
    atomic_write_text(out / "serve.yaml", serve_config(name, out, filler))
    atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    log(f"[train] done: `raytool serve --config {out / 'serve.yaml'}` serves {len(catalogue.tools)} tools as {name!r}")
    return report


def serve_config(name: str, out: Path, filler: str) -> str:
    """The Serve config of the catalogue job's output (one catalogue domain; paths absolute)."""
    args = {
        "proposer": str((out / "proposer").resolve()),
        "decider": str((out / "decider").resolve()),
        "domains": [name],
        "catalogues": {name: str((out / "catalogue").resolve())},
        "domain_router": "bm25",
    }
    if filler:
        args["filler"] = str(Path(filler).resolve())
    record = {
        "proxy_location": "HeadOnly",
        "http_options": {"host": "127.0.0.1", "port": 8000, "request_timeout_s": 120},
        "applications": [{
            "name": "raytool", "route_prefix": "/", "import_path": "raytool.serving.app:build_app", "args": args,
            "deployments": [
                {"name": "Router", "max_ongoing_requests": 32, "ray_actor_options": {"num_cpus": 0.25}},
                {"name": f"ProxyModel-{name}", "max_ongoing_requests": 8, "ray_actor_options": {"num_cpus": 0.25},
                 "autoscaling_config": {"min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 2}},
            ],
        }],
    }  # fmt: skip
    import yaml

    head = f"# The catalogue {name!r} served as one domain: `raytool serve --config {out / 'serve.yaml'}`\n"
    return head + yaml.safe_dump(record, sort_keys=False)


def _sayer(log: Callable[[str], None]) -> Callable[[int, str], None]:
    return lambda step, text: log(f"[train] catalogue stage {step}/{STEPS}: {text}")


def _tasks_stage(catalogue: ToolDataset, out: Path, make_teacher, config: CatalogueJobConfig, say) -> dict:
    from raytool.distill.catalogue_tasks import DATASET, SUMMARY, CatalogueTaskConfig, synthesize_catalogue_tasks

    synth = out / "synth"
    if (synth / SUMMARY).exists():
        say(2, f"{synth} exists, skipping")
        summary = json.loads((synth / SUMMARY).read_text())
    else:
        say(2, f"the teacher writes {config.num_tasks} requests with their calls into {synth}")
        teacher = make_teacher()
        try:
            task_config = CatalogueTaskConfig(num=config.num_tasks, multi_share=config.multi_share, seed=config.seed)
            summary = synthesize_catalogue_tasks(catalogue, teacher, synth, task_config, log=lambda _: None)
        finally:
            teacher.close()
    say(2, f"teacher: {summary['kept']} of {summary['planned']} usable (pass rate {summary['pass_rate']:.2f}); "
           f"failed checks: {summary['failed']}")  # fmt: skip
    examples = load_examples(Path(config.examples), catalogue) if config.examples else []
    tasks = list(examples)
    seen = {t.query.lower() for t in tasks}
    tasks += [t for t in ToolDataset.load(synth / DATASET).tasks if t.query.lower() not in seen]
    if examples:
        say(2, f"with {len(examples)} examples from {config.examples}: {len(tasks)} tasks")
    if len(tasks) < config.min_tasks:
        raise SystemExit(
            f"{len(tasks)} usable tasks ({summary['kept']} of {summary['planned']} from the teacher, failed checks: "
            f"{summary['failed']}; {len(examples)} examples), fewer than min_tasks={config.min_tasks}: use a stronger "
            "teacher (--teacher, e.g. an OpenAI-compatible server), ask for more (catalogue.num_tasks) or give your "
            f"own examples (catalogue.examples); {synth} is kept (delete it to redo)"
        )
    ToolDataset(catalogue.tools, tasks, catalogue.info).save(out / "tasks" / "all")
    return summary | {"examples": len(examples), "tasks": len(tasks)}


def load_examples(path: Path, catalogue: ToolDataset) -> list[Task]:
    """The user's example tasks (JSONL `Task` records), each held to the teacher's checks; a bad one is an error
    naming the file, line and check."""
    from raytool.distill.catalogue_tasks import check_answer
    from raytool.tools.dataset import check_task_tools
    from raytool.tools.errors import FieldError, RecordError
    from raytool.tools.files import iter_jsonl

    tasks = []
    for lineno, record in iter_jsonl(path):
        if isinstance(record, RecordError):
            raise record
        try:
            task = Task.from_dict(record)
            check_task_tools(task, catalogue.tools)
        except FieldError as err:
            raise RecordError.from_field(str(path), f"line {lineno}", err) from None
        answer = json.dumps({"calls": [{"name": c.name, "arguments": c.arguments or {}} for c in task.calls],
                             "request": task.query})  # fmt: skip
        _, failed = check_answer(answer, [catalogue.tools[c.name] for c in task.calls])
        if failed:
            raise RecordError(str(path), f"line {lineno}", "calls", f"fails the task check {failed!r}")
        tasks.append(replace(task, source=task.source or "example"))
    return tasks


def _split_stage(out: Path, config: CatalogueJobConfig, say) -> dict[str, Path]:
    paths = {"train": out / "tasks" / "train", "test": out / "tasks" / "test"}
    if all((p / "tasks.jsonl").exists() for p in paths.values()):
        say(3, f"{out / 'tasks'} exists, skipping")
        return paths
    data = ToolDataset.load(out / "tasks" / "all")
    tasks = list(data.tasks)
    random.Random(config.seed).shuffle(tasks)
    held = max(1, round(len(tasks) * config.test_share))
    split = {"train": tasks[held:], "test": tasks[:held]}
    for key, path in paths.items():
        ToolDataset(data.tools, split[key], data.info | {"split": key}).save(path)
    say(3, f"{len(split['train'])} training and {len(split['test'])} held-out tasks into {out / 'tasks'}")
    return paths


def _proposer_stage(paths: dict[str, Path], out: Path, config: CatalogueJobConfig, say) -> dict:
    from raytool.evaluation.proposer import evaluate, results_table
    from raytool.proposer.config import ProposerConfig
    from raytool.proposer.proposer import ToolProposer
    from raytool.proposer.train import prepare_data, train_proposer

    ckpt = out / "proposer"
    train, test = ToolDataset.load(paths["train"]), ToolDataset.load(paths["test"])
    if (ckpt / "proposer.json").exists():
        say(4, f"{ckpt} exists, skipping training")
    else:
        say(4, f"train the proposer on {len(train.tasks)} tasks over {len(train.tools)} tools into {ckpt}")
        proposer_config = ProposerConfig.from_dict(config.proposer)
        train_proposer(prepare_data(train.tasks, train.tools, proposer_config, []), proposer_config, ckpt)
    ks = tuple(k for k in (1, 3, 5) if k <= len(test.tools))
    result = evaluate(test, ks, ToolProposer.load(ckpt), ("bm25", "minilm_zero_shot"), log=lambda _: None)
    say(4, f"the proposer on the {len(test.tasks)} held-out tasks (pool: all {len(test.tools)} tools)")
    print(results_table(result))
    methods = result["methods"].items()
    return {m: {k: v for k, v in r.items() if k.startswith(("recall", "complete"))} for m, r in methods}


def _filler_stage(paths: dict[str, Path], out: Path, config: CatalogueJobConfig, main_job: Path | None, say):
    from raytool.evaluation.calls import OracleTools, evaluate_calls
    from raytool.filler.filler import ArgumentFiller
    from raytool.filler.train import FillerTrainConfig, train_filler

    main_filler = (main_job / "filler") if main_job else None
    if config.filler:
        path = Path(config.filler)
        say(5, f"the argument filler {path} (configured)")
    elif config.main_filler and main_filler is not None and (main_filler / "filler.json").exists():
        path = main_filler
        say(5, f"the main job's argument filler {path} (trained on Seal-Tools and the suites)")
    else:
        path = out / "filler"
        if (path / "filler.json").exists():
            say(5, f"{path} exists, skipping training")
        else:
            say(5, f"no main-job filler: train one (scorer only) on the training tasks' gold calls into {path}")
            train_filler([paths["train"]], path, FillerTrainConfig(reader_epochs=0), "minilm")
    test = ToolDataset.load(paths["test"])
    summary = evaluate_calls([OracleTools(ArgumentFiller.load(path), test.tools)], test, out / "calls_eval",
                             log=lambda _: None)  # fmt: skip
    (result,) = summary["methods"].values()
    say(5, f"filler on the held-out tasks, gold tools: parameter F1 {result['parameter']['f1']:.3f}")
    return str(path), {"checkpoint": str(path), "param_f1_gold_tools": result["parameter"]["f1"]}


def _decider_stage(paths: dict[str, Path], out: Path, filler: str, make_teacher, config: CatalogueJobConfig, say):
    from raytool import pipeline
    from raytool.decider.candidates import CANDIDATES_FILE, write_candidates
    from raytool.proposer.proposer import ToolProposer

    proposer = None
    for path in paths.values():
        if not (path / CANDIDATES_FILE).exists():
            proposer = proposer or ToolProposer.load(out / "proposer")
            write_candidates(proposer, ToolDataset.load(path), path / CANDIDATES_FILE)
    unguided = {"lambda1": 0.0, "lambda2": 0.0, "sigma": math.log(2), "trust": "none"}  # as benchmarks/decider.py
    training = dict(config.decider.get("training") or {}) | ({} if config.rank_states else unguided)
    stages = pipeline.DeciderStages(top_p=config.top_p, max_steps=config.max_steps, rank_states=config.rank_states,
                                    filler_dir=filler, decider={**config.decider, "training": training},
                                    fp=config.fp)  # fmt: skip
    fp_dir = None
    if config.rank_states:
        say(6, f"teacher labels for {config.rank_states} decider states, then F_P")
        fp_dir = pipeline.train_fp(out, pipeline.label_states(out, paths["train"], stages, make_teacher), stages)
    else:
        say(6, "rank_states 0: no teacher labels, the decider trains unguided")
    run_dir = pipeline.train_decider_stage(out, paths["train"], fp_dir, stages, resume=False)
    results = pipeline.evaluate_stage(paths, fp_dir, run_dir, stages)
    return results
