"""`raytool distill rank`: pi_LLM labels for sampled decider states (the policy reconstruction model's data).

States are sampled by running `ToolDeciderEnv` on a dataset with a mixed policy (the gold oracle with
probability `oracle_rate`, else a uniformly random allowed action), recording the state before each decision:
the query, the tools called so far, the top-p candidates and the env's observation and action mask exactly as
the env produced them (so F_P trains on the very input the RL learner sees). For each state the teacher scores
every option as the next tool (prompt (c): summed log-likelihood of the option's name after "Next tool:"), giving

    pi_LLM = softmax(logprobs / temperature)                      (likelihood; always available)

and, with `with_ranking`, also generates a ranking (JSON); when it parses completely the two are mixed
log-linearly with weight `ranking_weight`, else the likelihood alone is kept (the documented fallback).

STOP: the env's last action ends the episode. With `with_stop` the teacher sees it as a pseudo-tool
`STOP_TOOL` ("finish") listed after the candidates and scored (and ranked) like them, so `logprobs` and
`pi_llm` have len(candidates) + 1 entries, STOP last: the env's action order (candidates, then STOP). A real
candidate tool named "finish" would be ambiguous and is an error. Without STOP a state needs two candidates to be
a decision; with it one candidate (versus STOP) is enough.

Records (`shards/*.jsonl`): task_id, task_index, step, query, history, candidates, observation, action_mask,
logprobs, ranking, pi_llm, source. `summary.json` records the env settings (`RankConfig.env_settings`) that a
trainer must match, and `with_stop`.
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
from raytool.distill.shards import read_shards, run_sharded
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
from raytool.teacher.synthetic import SyntheticTeacher
from raytool.tools.files import atomic_write_text, read_json
from raytool.tools.spec import ToolSpec

STOP_TOOL = ToolSpec("finish", "Call this when the request is fully handled and no more tools are needed.")
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class RankConfig:
    """Settings of `distill rank` (see the module docstring).

    num_states: decider states to sample (at most; fewer if 20 * num_states episodes do not yield them).
    top_p, max_steps, candidate_source, encoder: the `ToolDeciderEnv` settings the states are sampled under
        (`DeciderEnvConfig` fields); a model trained on the records must run under the same ones.
    oracle_rate: probability that the sampling policy takes the gold oracle's action (else a random allowed one).
    temperature: of the likelihood softmax.
    with_stop: also score STOP, as the pseudo-tool `STOP_TOOL`, last in every distribution.
    with_ranking: also generate a ranking and mix it in when it parses completely.
    ranking_weight: weight of the ranking distribution in the log-linear mix.
    shard_size, workers: states per output shard, shards labelled at once.
    seed: of the sampling policy and the episode order.
    """

    num_states: int = 200
    top_p: int = 5
    max_steps: int = 8
    candidate_source: str = "bm25"
    encoder: str = "hashing-256"
    oracle_rate: float = 0.7
    temperature: float = 1.0
    with_stop: bool = True
    with_ranking: bool = False
    ranking_weight: float = 0.5
    shard_size: int = 25
    workers: int = 1
    seed: int = 0

    def env_settings(self) -> dict[str, Any]:
        """The env settings that shape the observation (written to `summary.json` as `env`)."""
        return {
            "top_p": self.top_p,
            "max_steps": self.max_steps,
            "encoder": self.encoder,
            "candidate_source": self.candidate_source,
        }


@dataclass(frozen=True)
class DeciderState:
    """One decision of an episode: what the teacher is shown, and the env's observation of it.

    observation: the env's `observations` vector (rounded to 6 decimals); action_mask: its `action_mask`.
    gold: the option the gold oracle takes here, as an index into [candidates..., STOP] (len(candidates) = STOP):
        read only by a teacher of controlled quality (`teacher/synthetic.py`), never by an LLM's prompt.
    """

    task_id: str
    task_index: int
    step: int
    query: str
    history: list[str]
    candidates: list[str]
    observation: list[float]
    action_mask: list[float]
    gold: int = -1


def sample_states(tasks_dir: Path, config: RankConfig, feature_cache: Path) -> list[DeciderState]:
    """Decider states from rollouts of the mixed policy (module docstring), at most `num_states`."""
    env = ToolDeciderEnv({**config.env_settings(), "tasks": str(tasks_dir), "feature_cache": str(feature_cache)})
    min_candidates = 1 if config.with_stop else 2
    rng = random.Random(config.seed)
    states: list[DeciderState] = []
    episode = 0
    while len(states) < config.num_states and episode < 20 * config.num_states:
        obs, _ = env.reset(options={"task_index": rng.randrange(len(env.tasks))})
        done = truncated = False
        while not (done or truncated) and len(states) < config.num_states:
            names = env.candidate_names()
            oracle = env.oracle_action()
            if len(names) >= min_candidates:
                history = [m.name for m in env.made if m.status == "valid"]
                observation = [round(float(x), 6) for x in obs["observations"]]
                mask = [float(x) for x in obs["action_mask"]]
                gold = oracle if oracle < len(names) else len(names)  # STOP is the option after the candidates
                states.append(
                    DeciderState(env.task.id, env._task_index, env.steps, env.task.query, history, names,
                                 observation, mask, gold)
                )  # fmt: skip
            allowed = np.flatnonzero(obs["action_mask"])
            action = oracle if rng.random() < config.oracle_rate else int(rng.choice(allowed))
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
    if config.with_stop:
        for i, state in enumerate(states):
            if STOP_TOOL.name in state.candidates:
                raise ValueError(
                    f"state {i} (task {state.task_id}): a candidate tool is named {STOP_TOOL.name!r}, the name of "
                    "the STOP pseudo-tool; rename the tool or run with with_stop=False"
                )
    extra = [STOP_TOOL] if config.with_stop else []
    cache = PromptCache(Path(out_dir) / "cache")
    synthetic = isinstance(teacher, SyntheticTeacher)
    if synthetic and not config.with_stop:
        raise ValueError("a synthetic teacher ranks STOP among the options: run `distill rank` with with_stop=True")
    ids = [f"{s.task_id}/{s.step}/{i}" for i, s in enumerate(states)]

    def process(indices: list[int]) -> list[dict[str, Any]]:
        chunk = [states[i] for i in indices]
        tools = [[specs[n] for n in s.candidates] + extra for s in chunk]
        if synthetic:  # a teacher of controlled quality: its scores come from the gold option, not from a prompt
            logprobs = [teacher.rank_options(ids[i], len(t), states[i].gold, True)
                        for i, t in zip(indices, tools, strict=True)]  # fmt: skip
            return [_label(s, [t.name for t in ts], lp, None, config)
                    for s, ts, lp in zip(chunk, tools, logprobs, strict=True)]  # fmt: skip
        prompts = teacher.chat(
            [next_tool_prompt_messages(s.query, s.history, t) for s, t in zip(chunk, tools, strict=True)]
        )
        conts = [candidate_continuations(t) for t in tools]
        logprobs = cached_scores(teacher, cache, [next_tool_scoring_prompt(p) for p in prompts], conts)
        rankings: list[Any] = [None] * len(chunk)
        if config.with_ranking:
            asks = teacher.chat([ranking_messages(s.query, s.history, t) for s, t in zip(chunk, tools, strict=True)])
            texts = cached_generate(teacher, cache, asks, Sampling(max_tokens=64))
            rankings = [parse_ranking(text, [t.name for t in ts]) for text, ts in zip(texts, tools, strict=True)]
        return [
            _label(s, [t.name for t in ts], lp, r, config)
            for s, ts, lp, r in zip(chunk, tools, logprobs, rankings, strict=True)
        ]

    job = {"kind": "rank", "teacher": teacher.model_name, "config": asdict(config)}
    records = run_sharded(Path(out_dir), ids, config.shard_size, process, config.workers, job, log)
    summary = {
        "states": len(records),
        "ranking_used_rate": sum(r["source"] != "likelihood" for r in records) / max(len(records), 1),
        "mean_max_pi": float(np.mean([max(r["pi_llm"]) for r in records])) if records else 0.0,
        "teacher": teacher.model_name,
        "with_stop": config.with_stop,
        "env": config.env_settings(),
    }
    atomic_write_text(Path(out_dir) / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    return records


def load_rank_output(out_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records of every finished shard, summary.json) of a `distill rank` output directory."""
    out_dir = Path(out_dir)
    summary_path = out_dir / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"{out_dir}: not a `distill rank` output (missing {SUMMARY_FILE})")
    return read_shards(out_dir), read_json(summary_path)


def _label(state: DeciderState, names: list[str], logprobs: list[float], ranking, config: RankConfig) -> dict[str, Any]:
    """The record of one state; `names` are the scored options (the candidates, then "finish" with STOP)."""
    pi = likelihood_distribution(np.asarray(logprobs, dtype=np.float64), config.temperature)
    source, order = "likelihood", None
    if ranking is not None and ranking.complete:
        order = ranking.order
        pi_rank = ranking_distribution([names.index(n) for n in order], len(names))
        pi, source = combine_distributions(pi, pi_rank, config.ranking_weight), "likelihood+ranking"
    return asdict(state) | {"logprobs": logprobs, "ranking": order, "pi_llm": [float(x) for x in pi], "source": source}
