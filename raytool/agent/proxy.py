"""`ProxyModel`: one domain's proxy — the tool proposer offers candidates, the tool decider picks and chains them.

    proxy = ProxyModel("travel", ProxyConfig(proposer="ckpt/proposer", decider="out/decider"))
    results = proxy.solve(jobs, catalogue)       # one result per job, in order

A job is a sub-task `Task` (its text as the query, the world of its suite) and its domain's tools. A batch of jobs
becomes one small in-memory dataset: the proposer ranks each job's domain tools once (the decider env's `memory`
candidate source; a job of several planned sub-tasks ranks each and merges them, `rank_candidates`), and one
`ToolDeciderEnv` built from memory with the decider's own settings (top-p, max steps, encoder; read from its
`decider.json`) and, optionally, mined skills runs every job — nothing is written to disk per request. The decider
acts as everywhere else (`raytool.decider.act.greedy_action`: greedy, skipping candidates whose call would exactly
repeat an earlier one) among the candidates that reach the relevance gate (`ProxyConfig.theta`; none: no call), the
filler (or, as an oracle, the job's gold calls) gives argument values, calls run on the suite's local tools. Each
result keeps the calls (with outputs, so the agent can merge and score them), the decisions, and timed trace events.
`proxy_actor()` gives the same class as a Ray actor, one per domain, so different domains' jobs run in parallel.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytool.decider.act import greedy_action, planned_greedy_action, proposer_action
from raytool.decider.candidates import rank_candidates
from raytool.decider.train import SUMMARY, load_module
from raytool.envs.decider_env import ToolDeciderEnv, argument_settings
from raytool.tools.dataset import ToolDataset
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

_DECIDER_ACTS = {"decider": greedy_action, "planned": planned_greedy_action}  # the policies the decider acts in
POLICIES = (*_DECIDER_ACTS, "proposer")


# The proposer's relevance gate (`ProxyConfig.theta`): a job none of whose candidates reaches this calibrated P(needed)
# gets no call. Chosen on the main job's proxies' proposer (a later session, README "The proxies (proposer + decider +
# filler) in `eval calls`"): the lowest top probability of its 240 training sub-tasks was 0.10; at 0.1 no training
# sub-task is gated, and 20 of 20 chit-chat lines, 180 of 200 Seal-Tools dev requests and 181 of 200 MetaTool requests
# (none of which the suites' tools answer) are.
THETA = 0.1  # `serve/raytool.yaml`'s `theta`; ProxyConfig's default is 0 (off: the decider alone decides)

# The proposer's prior on the decider's tool choice (`ProxyConfig.prior_weight`), chosen on 120 builder level-4
# requests in varied language (seed 78; never the natural set or a held-out set) with three stage-10 decider seeds:
# mean success 0.647 / 0.681 / 0.675 / 0.661 at w = 0 / 1 / 3 / 10, w = 1 ahead of w = 0 on every seed (README,
# "Requests as people write them").
PRIOR_WEIGHT = 1.0


@dataclass(frozen=True)
class ProxyConfig:
    """The checkpoints of one proxy.

    proposer: a `raytool proposer train` checkpoint directory.
    decider: a `raytool decider train` run directory (its `decider.json` gives top_p, max_steps, encoder).
    skills: a `raytool skills mine` file the decider may choose from ("" = tools only); the decider should have
        been trained with the same file.
    executor: `inline` or `process` (sandboxed tool calls).
    filler: a `raytool filler train` checkpoint: argument values are read from the request by it (the decider env's
        `arguments="predicted"`); "" = from the task's calls (dataset tasks' gold calls: an ORACLE).
    policy: `decider` (the trained decider acts), `planned` (the decider, stopped once it has made one call per
        planned sub-task, `raytool.decider.act.planned_greedy_action`; the `plan-bounded` ablation) or `proposer`
        (no decider: one call per planned sub-task, the proposer's best candidate, `proposer_action`; the
        `no-decider` ablation). The decider run still gives the env settings (top-p, max steps, encoder).
    prior_weight: w >= 0; with w > 0 the decider's tool (not its STOP) is re-chosen by log pi_decider + w * log
        p_proposer (`raytool.decider.act.prior_choice`); 0 is the decider alone. Default `PRIOR_WEIGHT`.
    theta: the relevance gate: a candidate whose calibrated P(needed) is below theta is never called, so a job whose
        candidates all are gets no call (the request is not for this proxy's tools: chit-chat, another domain's or
        catalogue's request) and the decider chooses among the tools the proposer thinks needed (`decider.act.below`);
        0 = the decider alone decides whether and what to call (the default; `THETA` is the served main job's value).
    need: in a job without a plan (no parts), the decider's STOP is not taken while a candidate it may call has a
        calibrated P(needed) of at least `need` (`decider.act.held_stop`): the proposer's sure tools are the floor
        that a planned job's sub-tasks are. 0 = off (the default); 0.5 = more likely needed than not.
    """

    proposer: str
    decider: str
    skills: str = ""
    executor: str = "inline"
    filler: str = ""
    policy: str = "decider"
    prior_weight: float = PRIOR_WEIGHT
    theta: float = 0.0
    need: float = 0.0

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if not self.prior_weight >= 0:
            raise ValueError(f"prior_weight must be >= 0, got {self.prior_weight!r}")
        if not 0 <= self.theta <= 1:
            raise ValueError(f"theta must be in [0, 1], got {self.theta!r}")
        if not 0 <= self.need <= 1:
            raise ValueError(f"need must be in [0, 1], got {self.need!r}")


class ProxyModel:
    """See the module docstring."""

    def __init__(self, domain: str, config: ProxyConfig, threads: int = 1) -> None:
        import torch

        from raytool.proposer.proposer import ToolProposer

        torch.set_num_threads(threads)
        self.domain = domain
        self.config = config
        summary_path = Path(config.decider) / SUMMARY
        if not summary_path.is_file():
            raise FileNotFoundError(f"{summary_path}: not a decider run directory (train one with `raytool train`)")
        self.env_settings = json.loads(summary_path.read_text())["env"]
        self.proposer = ToolProposer.load(config.proposer)
        self.module = load_module(Path(config.decider))
        self._specs: dict[str, ToolSpec] = {}

    def solve(self, jobs: Sequence[dict[str, Any]], catalogue: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run each job over the catalogue's tools; one result dict per job.

        A job is `{"task": Task.to_dict(), "pool": [tool names]}`: the sub-task (its query the job's text, its
        calls the request's gold calls, whose arguments the binder reads) and the domain's tools it may use.
        """
        if not jobs:
            return []
        began = time.time()
        tasks = [Task.from_dict(job["task"]) for job in jobs]
        for record in catalogue:  # parsed once per tool: the agent sends the same catalogue with every batch
            if record["name"] not in self._specs:
                self._specs[record["name"]] = ToolSpec.from_dict(record)
        specs = {record["name"]: self._specs[record["name"]] for record in catalogue}
        dataset = ToolDataset(specs, tasks, {"format": "raytool_subtasks", "domain": self.domain})
        top_p, max_steps = int(self.env_settings["top_p"]), int(self.env_settings["max_steps"])
        rankings = rank_candidates(self.proposer, dataset, k=top_p + max_steps, pools=[list(j["pool"]) for j in jobs],
                                   parts=[list(j.get("parts") or ()) for j in jobs])  # fmt: skip
        env = ToolDeciderEnv({
            "tasks": "", "top_p": top_p, "max_steps": max_steps,
            "encoder": self.env_settings.get("encoder", "hashing-256"), "candidate_source": "memory",
            "part_focus": bool(self.env_settings.get("part_focus", True)),
            "executor": self.config.executor, "skills": self.config.skills, **argument_settings(self.config.filler),
        }, dataset=dataset, rankings={record["task_id"]: record for record in rankings})  # fmt: skip
        setup = (time.time() - began) / len(tasks)  # dataset, candidates and env, shared by the batch's jobs
        policy = self.config.policy
        theta, need, weight = self.config.theta, self.config.need, self.config.prior_weight
        act = (
            functools.partial(proposer_action, theta=theta)
            if policy == "proposer"
            else functools.partial(_DECIDER_ACTS[policy], self.module, prior_weight=weight, theta=theta, need=need)
        )
        results = []
        try:
            for index, task in enumerate(tasks):
                start = time.time()
                obs, _ = env.reset(options={"task_index": index})
                events, decisions, done = [], 0, max(rankings[index]["scores"], default=0.0) < self.config.theta
                if done:  # the relevance gate: no candidate is likely enough to be needed
                    events.append({"kind": "decision", "domain": self.domain, "chosen": "STOP", "gate": True,
                                   "candidates": env.candidate_names(), "calls": [], "start": start,
                                   "end": time.time()})  # fmt: skip
                while not done:
                    t0 = time.time()
                    names = env.candidate_names()
                    action = act(env, obs)
                    chosen = names[action] if action < len(names) else "STOP"
                    before = len(env.made)
                    obs, _, terminated, truncated, _ = env.step(action)
                    decisions += 1
                    made = [{"name": m.name, "status": m.status} for m in env.made[before:]]
                    events.append({"kind": "decision", "domain": self.domain, "chosen": chosen,
                                   "candidates": names, "calls": made, "start": t0, "end": time.time()})  # fmt: skip
                    done = terminated or truncated
                results.append({
                    "id": task.id, "domain": self.domain, "decisions": decisions, "start": start, "end": time.time(),
                    "setup_s": setup, "pid": os.getpid(), "events": events,
                    "calls": [{"name": m.name, "arguments": m.arguments, "status": m.status, "output": m.output,
                               "missing": missing_values(specs.get(m.name), m.arguments)} for m in env.made],
                })  # fmt: skip
        finally:
            env.close()
        ended = time.time()
        return [dict(result, batch=(began, ended)) for result in results]  # the batch's span, set-up included


def missing_values(spec: ToolSpec | None, arguments: dict[str, Any] | None) -> list[str]:
    """Required parameters a call was made without (the request did not give them): reported, never invented."""
    if spec is None:
        return []
    return [name for name in spec.required if name not in (arguments or {})]


def proxy_actor(num_cpus: float = 0.5, resources: dict[str, float] | None = None):
    """`ProxyModel` as a Ray actor class with `num_cpus` (fractional on small machines) and custom `resources`
    (e.g. {"proxy": 1} to land on the cluster's proxy nodes, see clusters/)."""
    import ray

    return ray.remote(num_cpus=num_cpus, resources=dict(resources or {}))(ProxyModel)
