"""The environment build pipeline: scenario composition -> document generation -> function integration ->
complexity scaling -> localized deployment, for the executable suites.

    raytool envs build --suite cpn --level 3 --num-tasks 200 --seed 0 --out DIR

writes a dataset directory (`tools.jsonl` with the generated docs of every deployed tool, `tasks.jsonl` with
gold calls and verifiable answers, `manifest.json` with the merges, the level and the verification count).
Every task is replayed through an executor after the build; the manifest records how many reproduce their
answer (all of them, or the build fails).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from raytool.envs.binder import resolve_arguments
from raytool.envs.compose import ComposedTask, eligible_tools, grow_chain, render_query, replay
from raytool.envs.integration import Merge, find_overlaps
from raytool.envs.levels import LevelSpec, level_spec
from raytool.envs.phrasing import natural_query
from raytool.envs.reward import MadeCall, answer_produced
from raytool.envs.sandbox import ToolExecutor, derive_seed
from raytool.envs.suite import SuiteTool, ToolError, ToolSuite
from raytool.envs.suites import SUITE_NAMES, get_suite
from raytool.tools.dataset import ToolDataset
from raytool.tools.task import Task


@dataclass(frozen=True)
class BuildConfig:
    """What to build.

    suites: suites whose chains the tasks are made of (round-robin); level-4 tasks add a second suite.
    level: complexity level (`raytool.envs.levels`).
    num_tasks: how many tasks.
    seed: everything (worlds, chains, distractors) derives from it; same config -> same tasks.
    attempts: composition attempts per task before giving up.
    integration_walks: random walks per suite for function integration (0 disables it).
    phrasing: share of tasks whose request is written in varied natural language (`raytool.envs.phrasing`)
        instead of the step template; drawn per task from its own seed, so the tasks' calls do not change.
    """

    suites: tuple[str, ...]
    level: int
    num_tasks: int
    seed: int = 0
    attempts: int = 300
    integration_walks: int = 100
    phrasing: float = 0.0

    def __post_init__(self) -> None:
        level_spec(self.level)
        if not 0.0 <= self.phrasing <= 1.0:
            raise ValueError(f"phrasing must be a share in [0, 1], got {self.phrasing}")
        if self.num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {self.num_tasks}")
        for name in self.suites:
            if name not in SUITE_NAMES:
                raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITE_NAMES)}")


def build_tasks(config: BuildConfig, log: Callable[[str], None] = print) -> ToolDataset:
    """Run the pipeline (module docstring) and return the dataset; `verify_tasks` is run by `build_and_verify`."""
    spec = level_spec(config.level)
    involved = list(SUITE_NAMES) if spec.distractors or spec.domains > 1 else list(config.suites)
    suites = {name: get_suite(name) for name in involved}
    merges = integrate(suites, config, log)
    gone = {m.merged for m in merges}
    deployed = {name: [t for t in s.tools.values() if t.name not in gone] for name, s in suites.items()}
    catalogue = {t.name: t.spec for tools in deployed.values() for t in tools}
    tasks: list[Task] = []
    start = time.perf_counter()
    for i in range(config.num_tasks):
        rng = random.Random(f"{config.seed}/{config.level}/{','.join(config.suites)}/{i}")
        tasks.append(_one_task(i, rng, config, spec, suites, deployed))
        if (i + 1) % max(1, config.num_tasks // 5) == 0 or i + 1 == config.num_tasks:
            rate = (i + 1) / (time.perf_counter() - start)
            eta = (config.num_tasks - i - 1) / rate
            log(f"[envs] composed {i + 1}/{config.num_tasks} tasks ({rate:,.0f}/s, eta {eta:.0f}s)")
    info = {
        "format": "raytool_envs",
        "build": asdict(config),
        "level": asdict(spec) | {"param_types": sorted(spec.param_types)},
        "merges": [m.to_dict() for m in merges],
    }
    return ToolDataset(catalogue, tasks, info)


def integrate(suites: dict[str, ToolSuite], config: BuildConfig, log: Callable[[str], None]) -> list[Merge]:
    """Function integration of every involved suite (memoised per suite, seed and walk count)."""
    merges: list[Merge] = []
    for name in suites:
        if config.integration_walks:
            found = _suite_merges(name, config.seed, config.integration_walks)
            for m in found:
                log(f"[envs] merged {m.suite}.{m.merged} into {m.kept} ({m.agreements} agreeing inputs)")
            merges += found
    return merges


@functools.lru_cache(maxsize=32)
def _suite_merges(name: str, seed: int, walks: int) -> tuple[Merge, ...]:
    return tuple(find_overlaps(get_suite(name), seed=seed, walks=walks))


def _one_task(i: int, rng: random.Random, config: BuildConfig, spec: LevelSpec, suites, deployed) -> Task:
    primary = config.suites[i % len(config.suites)]
    for _ in range(config.attempts):
        world_seed = rng.randrange(2**31)
        names = [primary] + (rng.sample([s for s in SUITE_NAMES if s != primary], spec.domains - 1))
        composed = _compose(names, world_seed, spec, suites, deployed, rng)
        if composed is None:
            continue
        pool = [t.name for n in names for t in deployed[n]]
        others = [t.name for n, tools in deployed.items() if n not in names for t in tools]
        pool += rng.sample(others, min(spec.distractors, len(others)))
        return Task(
            id=f"{'+'.join(names)}-L{config.level}-s{config.seed}-{i}",
            query=_query(composed, config, i),
            calls=tuple(composed.calls),
            tools=tuple(sorted(pool)),
            domain="+".join(suites[n].domain for n in names),
            difficulty=f"level-{config.level}",
            answer=[composed.outputs[e] for e in composed.chain_ends],
            source="raytool_envs",
            env={"suites": names, "world_seed": world_seed, "level": config.level},
        )
    raise RuntimeError(
        f"could not compose task {i} for suite {primary!r} at level {config.level} in {config.attempts} attempts: "
        "the suite lacks tools that chain at this level"
    )


def _query(composed: ComposedTask, config: BuildConfig, i: int) -> str:
    """The template request, or (for a `phrasing` share of the tasks) the varied one; its own random stream."""
    rng = random.Random(f"phrasing/{config.seed}/{config.level}/{i}")
    if config.phrasing and rng.random() < config.phrasing:
        return natural_query(composed.tools, composed.calls, composed.chain_ends, rng)[0]
    return render_query(composed.tools, composed.calls, composed.chain_ends)


def _compose(names: Sequence[str], world_seed: int, spec: LevelSpec, suites, deployed, rng) -> ComposedTask | None:
    total = rng.randint(spec.min_calls, spec.max_calls)
    lengths = [total // len(names) + (1 if k < total % len(names) else 0) for k in range(len(names))]
    slots: dict[str, Any] = {}
    chain: list[SuiteTool] = []
    ends: list[int] = []
    for name, length in zip(names, lengths, strict=True):
        world = suites[name].make_world(derive_seed(world_seed, name))
        live = {t.name for t in deployed[name]}
        tools = [t for t in eligible_tools(suites[name], spec) if t.name in live]
        part = grow_chain(suites[name], tools, world, length, spec.optional_rate, rng, slots)
        if part is None:
            return None
        chain += part
        ends.append(len(chain) - 1)
    worlds = {n: suites[n].make_world(derive_seed(world_seed, n)) for n in names}
    owner = {t.name: t.suite for t in chain}
    try:
        calls, outputs = replay(
            chain, slots, lambda tool, args: suites[owner[tool]].call(worlds[owner[tool]], tool, args)
        )
    except ToolError:
        return None
    if sum(not c.depends_on for c in calls) != len(names):
        return None  # a slot added late changed a binding: the steps no longer form the intended chains
    return ComposedTask(chain, calls, outputs, slots, ends)


def require_replay(tasks: Sequence[Task], executor: str = "inline", log: Callable[[str], None] = print) -> int:
    """`verify_tasks` through an `inline` or `process` executor; raises ValueError unless every task replays."""
    from raytool.envs.sandbox import InlineExecutor, ProcessSandbox

    with InlineExecutor() if executor == "inline" else ProcessSandbox() as runner:
        verified, failures = verify_tasks(tasks, runner)
    log(f"[envs] replayed gold calls ({executor} executor): {verified}/{len(tasks)} reproduce their answer")
    if failures:
        shown = "\n".join(failures[:10])
        raise ValueError(f"{len(failures)} tasks do not replay; nothing was written:\n{shown}")
    return verified


def build_verified(config: BuildConfig, executor: str = "inline", log: Callable[[str], None] = print) -> ToolDataset:
    """`build_tasks`, then `require_replay`; the verified count goes into the dataset's info."""
    dataset = build_tasks(config, log)
    dataset.info["verified"] = require_replay(dataset.tasks, executor, log)
    return dataset


def verify_tasks(tasks: Sequence[Task], executor: ToolExecutor) -> tuple[int, list[str]]:
    """Replay every task's gold calls through `executor`; (tasks whose answer was reproduced, failure notes)."""
    ok, failures = 0, []
    for task in tasks:
        executor.reset(task.env["suites"], task.env["world_seed"])
        made, outputs = [], []
        for call in task.calls:
            result = executor.call(call.name, resolve_arguments(call.arguments or {}, outputs))
            outputs.append(result.output)
            made.append(MadeCall(call.name, call.arguments or {}, "valid" if result.ok else "invalid", result.output))
            if not result.ok:
                failures.append(f"{task.id}: {call.name} failed ({result.error_type}: {result.error})")
                break
        else:
            if answer_produced(task.answer, made):
                ok += 1
            else:
                failures.append(f"{task.id}: replay did not reproduce the answer")
    return ok, failures
