"""`ProxyAgent`: the LLM decomposes, per-domain proxies choose and chain the tools, in parallel on Ray.

    agent = ProxyAgent(AgentConfig(proxy=ProxyConfig(proposer=..., decider=...)), catalogue, teacher, work_dir)
    result = agent.run("First, ... Separately, ...", world_seed=7)    # one request, with a trace
    results = agent.run_tasks(dataset.tasks)                          # many, batched (the evaluation harness)

1. Plan: one teacher call per request decomposes it into sub-tasks with domains and dependencies
   (`raytool.planner`; rule + router when the teacher's answer is unusable; no call with a single domain).
   All requests' planning calls go to the teacher together (`raytool.teacher.lockstep`).
2. Allocate: same-domain chains of sub-tasks become jobs; jobs run in waves (a job waits for the jobs it
   depends on).
3. Execute: each wave's jobs go to their domain's `ProxyModel` — a Ray actor per domain (`parallel=True`), so
   independent jobs of different domains overlap in time — or in-process one after another (`parallel=False`,
   the baseline the speed-up is measured against).
4. Merge: the jobs' calls are concatenated in plan order (result references re-based) and the whole
   trajectory is scored against the request's task by the verifiable reward.

Domains: for executable tasks, the suites (a tool's `domain` is its suite); otherwise one domain, `all`, whose
proxy sees each task's own tool pool.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raytool.agent.executor import JobExecutor
from raytool.agent.outcome import Outcome, score_outcome
from raytool.agent.proxy import ProxyConfig, ProxyModel, proxy_actor
from raytool.envs.reward import MadeCall, RewardConfig
from raytool.planner.domain_router import BM25DomainRouter, ProposerDomainRouter, domain_pools
from raytool.planner.plan import Plan
from raytool.planner.planner import PlannerConfig, plan_episode
from raytool.teacher.lockstep import Ledger, drive
from raytool.tools.call import REF_KEY, map_refs
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

SINGLE_DOMAIN = "all"
QUERY_SOURCE = "query"  # a bare request: its calls only carry the argument values read off the text


@dataclass(frozen=True)
class AgentConfig:
    """The proxy agent's settings.

    proxy: the checkpoints every domain's proxy uses unless `proxies` names its own.
    proxies: per-domain `ProxyConfig` overrides (domain -> config).
    planner: `PlannerConfig` (when to ask the teacher, the usability checks).
    domain_router: which domain a piece of a request goes to (`raytool.planner.domain_router`): `proposer` (the
        proxy's proposer ranks all domains' tools) or `bm25`.
    parallel: one Ray actor per domain (True) or in-process proxies run one after another (False).
    proxy_cpus: Ray CPUs per proxy actor.
    proxy_resources: Ray custom resources per proxy actor (e.g. {"proxy": 1}: the cluster's proxy nodes).
    decompose: False = no planner: every request goes whole to one proxy over all the tools (an ablation).
    """

    proxy: ProxyConfig
    proxies: dict[str, ProxyConfig] = field(default_factory=dict)
    planner: PlannerConfig = PlannerConfig()
    domain_router: str = "proposer"
    parallel: bool = True
    proxy_cpus: float = 0.5
    proxy_resources: dict[str, float] = field(default_factory=dict)
    decompose: bool = True

    def __post_init__(self) -> None:
        if self.domain_router not in ("proposer", "bm25"):
            raise ValueError(f"domain_router must be proposer or bm25, got {self.domain_router!r}")


@dataclass
class AgentResult:
    task: Task
    plan: Plan
    outcome: Outcome
    ledger: Ledger
    jobs: list[dict[str, Any]]
    wall_s: float  # planning share + the slowest job of each wave (the request's critical path)


def task_domains(tasks: Sequence[Task], catalogue: dict[str, ToolSpec]) -> dict[str, list[ToolSpec]]:
    """Domain -> its tools (module docstring)."""
    if tasks and all(t.env for t in tasks):
        suites = sorted({s for t in tasks for s in t.env["suites"]})
        pools = domain_pools(list(catalogue.values()), suites)
        if set(pools) == set(suites):
            return pools
    return {SINGLE_DOMAIN: list(catalogue.values())}


class ProxyAgent:
    """See the module docstring."""

    def __init__(
        self,
        config: AgentConfig,
        catalogue: dict[str, ToolSpec],
        teacher,
        work_dir: str | Path,
        pools: dict[str, list[ToolSpec]] | None = None,
        log=print,
        executor: JobExecutor | None = None,
        domain_router=None,
    ) -> None:
        """`executor`: where the proxies' jobs run (default: this agent's own `ProxyModel`s, in process or as Ray
        actors); `domain_router`: the domain router to use (default: made on first use from `config.domain_router`)."""
        self.config = config
        self.catalogue = catalogue
        self.teacher = teacher
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.pools = pools if pools and config.decompose else task_domains([], catalogue)
        self.log = log
        self.descriptions = {
            d: "tools such as " + ", ".join(s.name for s in tools[:6]) for d, tools in self.pools.items()
        }
        self.catalogue_records = [s.to_dict() for s in catalogue.values()]  # what the proxies are sent
        self.executor = executor
        self._domain_router = domain_router
        self._segmenter = None
        self._proxies: dict[str, Any] = {}
        self._cpus = 0.0

    # -- parts, made on first use --------------------------------------------------------------------------------
    def proxy_config(self, domain: str) -> ProxyConfig:
        return self.config.proxies.get(domain, self.config.proxy)

    @property
    def domain_router(self):
        if self._domain_router is None:
            if self.config.domain_router == "bm25" or len(self.pools) == 1:
                self._domain_router = BM25DomainRouter(self.pools)
            else:
                from raytool.proposer.proposer import ToolProposer

                proposer = ToolProposer.load(self.config.proxy.proposer, threads=1)
                self._domain_router = ProposerDomainRouter(self.pools, proposer)
        return self._domain_router

    @property
    def segmenter(self):
        """The planner's distilled segmenter (`PlannerConfig.segmenter`), None when not configured."""
        if self._segmenter is None and self.config.planner.segmenter:
            from raytool.planner.segmenter import Segmenter

            self._segmenter = Segmenter.load(self.config.planner.segmenter)
        return self._segmenter

    def proxy(self, domain: str):
        if domain not in self._proxies:
            if self.config.parallel:
                self._cpus = self._cpus or self._actor_cpus()
                actor = proxy_actor(self._cpus, self.config.proxy_resources)
                self._proxies[domain] = actor.remote(domain, self.proxy_config(domain))
            else:
                self._proxies[domain] = ProxyModel(domain, self.proxy_config(domain))
        return self._proxies[domain]

    def _actor_cpus(self) -> float:
        """`proxy_cpus`, lowered so that one actor per domain fits in the CPUs Ray has free (else the last actors
        would wait forever: a teacher actor may hold most of a small machine)."""
        import ray

        deadline = time.monotonic() + 30.0  # actors just killed (an earlier agent) free their CPUs a moment later
        while True:
            free = float(ray.available_resources().get("CPU", 0.0))
            fit = free / len(self.pools)
            if fit >= min(self.config.proxy_cpus, 0.1) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if fit < 0.01:
            raise RuntimeError(f"no free Ray CPU for {len(self.pools)} proxy actors; start Ray with more CPUs")
        if fit < self.config.proxy_cpus:
            self.log(f"[agent] {free:g} free Ray CPUs for {len(self.pools)} proxies: {fit:.2f} CPU each")
        return min(self.config.proxy_cpus, fit)

    def start(self) -> None:
        """Create every domain's proxy now (actors load their checkpoints in parallel)."""
        for domain in self.pools:
            self.proxy(domain)
        if self.config.parallel:
            import ray

            ray.get([p.solve.remote([], []) for p in self._proxies.values()])

    def close(self) -> None:
        if self.config.parallel:
            import ray

            for actor in self._proxies.values():
                ray.kill(actor)
        self._proxies.clear()

    # -- running ---------------------------------------------------------------------------------------------------
    def run(self, query: str, world_seed: int = 0, task: Task | None = None) -> AgentResult:
        """One request (or a dataset `task`) end to end. A bare request runs on the suites' world from `world_seed`,
        its argument values read from the text by the proxies' filler (`ProxyConfig.filler`), or without one off
        the suites' question templates (`raytool.agent.slots`)."""
        if task is None:
            from raytool.agent.slots import request_calls
            from raytool.envs.suites import SUITE_NAMES, get_suite

            suites = [d for d in self.pools if d in SUITE_NAMES]
            env = {"suites": suites, "world_seed": world_seed, "level": 0} if suites else None
            tools = [t for name in suites for t in get_suite(name).tools.values() if t.name in self.catalogue]
            calls = () if self.config.proxy.filler else request_calls(query, tools)
            task = Task(id="query", query=query, calls=calls, env=env, source=QUERY_SOURCE)
        return self.run_tasks([task])[0]

    def run_tasks(self, tasks: Sequence[Task]) -> list[AgentResult]:
        """Plan all tasks (batched teacher calls), run their jobs wave by wave, merge and score."""
        episodes = [
            plan_episode(t.query, self.descriptions, self.domain_router, self.config.planner, self.segmenter)
            for t in tasks
        ]
        plans, ledgers = drive(episodes, self.teacher, self.log)
        done: dict[tuple[int, int], dict[str, Any]] = {}
        for wave in range(1 + max((j.wave for p in plans for j in p.jobs), default=-1)):
            by_domain: dict[str, list[tuple[int, int, dict]]] = {}
            for t, (task, plan) in enumerate(zip(tasks, plans, strict=True)):
                for job in plan.jobs:
                    if job.wave == wave:
                        by_domain.setdefault(job.domain, []).append((t, job.id, self._job(task, job)))
            for (t, j), result in self.execute(by_domain).items():
                done[(t, j)] = result
        results = []
        for t, (task, plan, ledger) in enumerate(zip(tasks, plans, ledgers, strict=True)):
            jobs = [done[(t, job.id)] for job in plan.jobs]
            outcome = score_outcome(task, _merge(jobs), sum(j["decisions"] for j in jobs), RewardConfig())
            outcome.info.update(plan=plan.source, jobs=len(jobs))
            waves: dict[int, float] = {}
            for job, result in zip(plan.jobs, jobs, strict=True):
                took = result["end"] - result["start"] + result["setup_s"]
                waves[job.wave] = max(waves.get(job.wave, 0.0), took)
            results.append(AgentResult(task, plan, outcome, ledger, jobs, ledger.wall_s + sum(waves.values())))
        return results

    def _job(self, task: Task, job) -> dict[str, Any]:
        return job_payload(task, job, self.pools, self.catalogue)

    def execute(
        self, by_domain: dict[str, list[tuple[int, int, dict]]], catalogue: list[dict[str, Any]] | None = None
    ) -> dict[tuple[int, int], dict]:
        """One wave: `{domain: [(task index, job id, job payload), ...]}` -> `{(task index, job id): result}`, run by
        the executor over `catalogue` (default: this agent's catalogue records)."""
        keys = {d: [(t, j) for t, j, _ in items] for d, items in by_domain.items()}
        jobs = {d: [sub for _, _, sub in items] for d, items in by_domain.items()}
        records = self.catalogue_records if catalogue is None else catalogue
        answers = (self.executor or self).solve(jobs, records)
        return {key: result for d in by_domain for key, result in zip(keys[d], answers[d], strict=True)}

    def solve(self, jobs: dict[str, list[dict]], catalogue: list[dict[str, Any]]) -> dict[str, list[dict]]:
        """The agent's own `JobExecutor`: its proxies, as Ray actors in parallel (`config.parallel`) or in process."""
        if self.config.parallel:
            import ray

            shared = ray.put(catalogue)
            refs = {d: self.proxy(d).solve.remote(jobs[d], shared) for d in jobs}
            return dict(zip(refs, ray.get(list(refs.values())), strict=True))
        return {d: self.proxy(d).solve(jobs[d], catalogue) for d in jobs}


def job_payload(task: Task, job, pools: dict[str, list[ToolSpec]], catalogue: dict[str, ToolSpec]) -> dict[str, Any]:
    """A proxy's job: the sub-task (the request's pool and gold calls — the binder's argument values —, the job's
    text as the query, its suite's world), the domain's tools within the request's pool, and the texts of the job's
    planned sub-tasks (`parts`: the proxy ranks candidates for each, `rank_candidates`)."""
    allowed = set(task.tools) if task.tools else set(catalogue)
    if job.domain == SINGLE_DOMAIN:
        pool, env = [n for n in catalogue if n in allowed], task.env
    else:
        pool = [s.name for s in pools.get(job.domain, []) if s.name in allowed]
        env = None if task.env is None else {**task.env, "suites": [job.domain]}
    sub = Task(id=f"{task.id}#job{job.id}", query=job.text, calls=task.calls, tools=task.tools, domain=job.domain,
               source="raytool_subtask", env=env)  # fmt: skip
    return {"task": sub.to_dict(), "pool": pool, "parts": list(job.parts)}


def _merge(jobs: Sequence[dict[str, Any]]) -> list[MadeCall]:
    """The jobs' calls in order, each job's result references shifted past the calls before it."""
    made: list[MadeCall] = []
    for job in jobs:
        offset = len(made)
        for call in job["calls"]:
            arguments = map_refs(call["arguments"], lambda ref, offset=offset: {**ref, REF_KEY: ref[REF_KEY] + offset})
            made.append(MadeCall(call["name"], arguments, call["status"], call["output"]))
    return made
