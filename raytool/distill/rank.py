"""`raytool distill rank`: pi_LLM labels for sampled decider states (the policy reconstruction model's data).

States are sampled by running `ToolDeciderEnv` on a dataset with a mixed policy (the gold oracle with
probability `oracle_rate`, else a uniformly random allowed action), recording the state before each decision:
the query, the tools called so far and the top-p candidates. For each state the teacher scores every candidate
as the next tool (prompt (c): summed log-likelihood of the candidate's name after "Next tool:"), giving

    pi_LLM = softmax(logprobs / temperature)                      (likelihood; always available)

and, with `with_ranking`, also generates a ranking (JSON); when it parses completely the two are mixed
log-linearly with weight `ranking_weight`, else the likelihood alone is kept (the documented fallback).
Records: task_id, task_index, step, history, candidates, logprobs, ranking, pi_llm, source.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from raytool.distill.cache import PromptCache, cached_generate, cached_scores
from raytool.distill.shards import run_sharded
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.teacher.backend import Sampling, TeacherBackend
from raytool.teacher.distributions import combine_distributions, likelihood_distribution, ranking_distribution
from raytool.teacher.parsing import parse_ranking
from raytool.teacher.prompts import (
    candidate_continuations,
    next_tool_prompt_messages,
    next_tool_scoring_prompt,
    ranking_messages,
)
from raytool.tools.files import atomic_write_text


@dataclass(frozen=True)
class RankConfig:
    """Settings of `distill rank` (see the module docstring)."""

    num_states: int = 200
    top_p: int = 5
    oracle_rate: float = 0.7
    temperature: float = 1.0
    with_ranking: bool = False
    ranking_weight: float = 0.5
    shard_size: int = 25
    workers: int = 1
    seed: int = 0


@dataclass(frozen=True)
class DeciderState:
    task_id: str
    task_index: int
    step: int
    query: str
    history: list[str]
    candidates: list[str]


def sample_states(tasks_dir: Path, config: RankConfig, feature_cache: Path) -> list[DeciderState]:
    """Decider states from rollouts of the mixed policy (module docstring), at most `num_states`."""
    env = ToolDeciderEnv({"tasks": str(tasks_dir), "top_p": config.top_p, "feature_cache": str(feature_cache)})
    rng = random.Random(config.seed)
    states: list[DeciderState] = []
    episode = 0
    while len(states) < config.num_states and episode < 20 * config.num_states:
        obs, _ = env.reset(options={"task_index": rng.randrange(len(env.tasks))})
        done = truncated = False
        while not (done or truncated) and len(states) < config.num_states:
            names = [env.specs[c].name for c in env.candidates]
            if len(names) > 1:
                history = [m.name for m in env.made if m.status == "valid"]
                states.append(DeciderState(env.task.id, env._task_index, env.steps, env.task.query, history, names))
            allowed = np.flatnonzero(obs["action_mask"])
            action = env.oracle_action() if rng.random() < config.oracle_rate else int(rng.choice(allowed))
            obs, _, done, truncated, _ = env.step(action)
        episode += 1
    env.close()
    return states


def rank_states(
    states: list[DeciderState],
    specs: dict,
    out_dir: Path,
    teacher: TeacherBackend,
    config: RankConfig,
    log: Callable = print,
) -> list[dict[str, Any]]:
    """Teacher labels for every state, sharded and cached; writes `summary.json`."""
    cache = PromptCache(Path(out_dir) / "cache")

    def process(indices: list[int]) -> list[dict[str, Any]]:
        chunk = [states[i] for i in indices]
        tools = [[specs[n] for n in s.candidates] for s in chunk]
        prompts = teacher.chat(
            [next_tool_prompt_messages(s.query, s.history, t) for s, t in zip(chunk, tools, strict=True)]
        )
        conts = [candidate_continuations(t) for t in tools]
        logprobs = cached_scores(teacher, cache, [next_tool_scoring_prompt(p) for p in prompts], conts)
        rankings: list[Any] = [None] * len(chunk)
        if config.with_ranking:
            asks = teacher.chat([ranking_messages(s.query, s.history, t) for s, t in zip(chunk, tools, strict=True)])
            texts = cached_generate(teacher, cache, asks, Sampling(max_tokens=64))
            rankings = [parse_ranking(text, s.candidates) for text, s in zip(texts, chunk, strict=True)]
        return [_label(s, lp, r, config) for s, lp, r in zip(chunk, logprobs, rankings, strict=True)]

    job = {"kind": "rank", "teacher": teacher.model_name, "config": asdict(config)}
    ids = [f"{s.task_id}/{s.step}/{i}" for i, s in enumerate(states)]
    records = run_sharded(Path(out_dir), ids, config.shard_size, process, config.workers, job, log)
    summary = {
        "states": len(records),
        "ranking_used_rate": sum(r["source"] != "likelihood" for r in records) / max(len(records), 1),
        "mean_max_pi": float(np.mean([max(r["pi_llm"]) for r in records])) if records else 0.0,
        "teacher": teacher.model_name,
    }
    atomic_write_text(Path(out_dir) / "summary.json", json.dumps(summary, indent=2) + "\n")
    return records


def _label(state: DeciderState, logprobs: list[float], ranking, config: RankConfig) -> dict[str, Any]:
    pi = likelihood_distribution(np.asarray(logprobs, dtype=np.float64), config.temperature)
    source, order = "likelihood", None
    if ranking is not None and ranking.complete:
        order = ranking.order
        pi_rank = ranking_distribution([state.candidates.index(n) for n in order], len(state.candidates))
        pi, source = combine_distributions(pi, pi_rank, config.ranking_weight), "likelihood+ranking"
    return asdict(state) | {"logprobs": logprobs, "ranking": order, "pi_llm": [float(x) for x in pi], "source": source}
