"""`ToolDeciderEnv`: the tool decider's gymnasium environment. One episode is one task.

Each step the agent sees the query, its call history and the top-p candidate tools of the task's pool (ranked
once per task by a candidate source, tools already called successfully skipped), and picks a candidate or
STOP. The binder (`raytool.envs.binder`) fills the arguments; the call runs through an executor (inline or
in a sandbox process) for executable tasks, or is only checked against the tool's schema for dataset tasks;
the verifiable reward (`raytool.envs.reward`) is paid as per-step differences, so the return equals it.

A proxy's job of several planned sub-tasks (`rank_candidates(parts=)`) carries each part's own ranking besides the
merged one: while i calls have been made (attempts, failed ones included) the candidates are part i's ranking
first, then the merged one (`part_focus`, the default), so the sub-task the job is at leads the list whatever the
wording of the others; after the last part, the merged ranking. With predicted arguments and the parts' texts (a
proxy's memory rankings, `part_texts`), a tool's values are read from the part whose own ranking puts the tool
highest, the whole job filling in what that part does not give (`_slots`).

At inference the agents skip (`skip_mask`) the candidates whose call would repeat an earlier one or could not be
made as it would be bound now: a required value nobody gives, a stated value written unlike its parameter's
documented example (`binder.written_like_example`), or a stated value that a successful call of the episode already
took as a value of another kind (`binder.taken_as_other_kind`: "USD" passed as a currency is no nationality).

Macro-actions (`skills=<file>`, `raytool.envs.macros`): a skill whose first tool is among the candidates, whose
tools are all among the task's ranked tools (the candidate source's top K: all of them look needed) and none
called successfully yet, is offered right before its first tool with the lowest of its tools' scores, and the
list is cut back to p, so skills displace the lowest-ranked tools and the spaces stay the same (a decider
trained without skills still runs). Choosing one is one decision (`max_steps` counts decisions) that runs its
tools in order through the binder, stopping at the first call that is not valid; `candidate_names()` names the
candidates, skills included. A skill's slot shows the mean of its tools' vectors (re-normalised), that score, and
its first tool's history flags and fillable share.

Observation (`Dict`, as RLlib's action-masking modules expect):
  observations  float32 in [-1, 1], (2D + 4 + p (D + 5),): query vector; mean vector of the tools called successfully;
                [step, valid calls, failed calls] / max_steps and last-call-ok; then per candidate its tool
                vector, score in [0, 1], rank / p, called-before, failed-before, share of required arguments
                the binder can fill now.
  action_mask   float32 (p + 1,): 1 for existing candidates, and for STOP (the last action), except while a task
                whose ranking merges n >= 2 planned sub-tasks (a proxy's job, `rank_candidates(parts=)`) has made
                fewer than n calls: the planner asked for n calls, so the decider may not stop before trying each
                (attempts count, so a failed call does not hold it; `max_steps` still ends the episode).
Episode-end `info`: task_id, episode_reward, success, calls (calls made), decisions (actions taken, STOP
included), precision, completeness.
RLlib: `register_decider_env()` registers `ENV_NAME`; the env takes RLlib's `config` (an `EnvContext` dict).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from raytool.envs.binder import (
    PastCall,
    bind_arguments,
    kind_examples,
    resolve_arguments,
    slots_for,
    taken_as_other_kind,
    task_slots,
    written_like_example,
)
from raytool.envs.docgen import KIND_KEY
from raytool.envs.features import build_features, load_or_build_features
from raytool.envs.macros import Macro, load_macros
from raytool.envs.reward import INVALID, MALFORMED, REPEATED, VALID, MadeCall, RewardConfig, score_trajectory
from raytool.envs.suite import InvalidArgument, check_arguments
from raytool.paths import cache_dir
from raytool.tools.call import is_result_ref
from raytool.tools.dataset import ToolDataset
from raytool.tools.spec import ToolSpec

ENV_NAME = "raytool/ToolDecider-v0"
OBS_SCALARS, OBS_PER_CANDIDATE = 4, 5


def observation_size(dim: int, top_p: int) -> int:
    """Length of an observation: 2D + 4 + p (D + 5) (module docstring)."""
    return 2 * dim + OBS_SCALARS + top_p * (dim + OBS_PER_CANDIDATE)


def observation_dim(length: int, top_p: int) -> int | None:
    """D of an observation of `length` values with `top_p` candidates (`observation_size` inverted); None when no
    integer D >= 1 fits."""
    dim, rest = divmod(length - OBS_SCALARS - top_p * OBS_PER_CANDIDATE, 2 + top_p)
    return dim if not rest and dim >= 1 else None


@dataclass(frozen=True)
class DeciderEnvConfig:
    """Settings of `ToolDeciderEnv` (RLlib passes them as a dict; unknown keys are an error).

    tasks: a dataset directory (`raytool data import` or `raytool envs build` output); "" when the env is given
        its dataset in memory.
    top_p: candidates offered per step.
    max_steps: calls per episode before truncation (STOP is allowed except under a job's sub-task floor, above).
    candidate_source: `bm25`, `embedding` (cosine of the encoder's vectors), `file:<path>` (the trained
        proposer's rankings, `raytool.decider.candidates`) or `memory` (those rankings handed to the constructor).
    encoder: feature encoder, `hashing-256` (no model) or `minilm`.
    executor: `inline` (trusted suites in-process), `process` (sandboxed child) or `none` (schema check only;
        always used for tasks without an executable `env`).
    reward: `RewardConfig` fields.
    feature_cache: directory of cached features (default `$RAYTOOL_CACHE/features`).
    seed: episode order; each env runner offsets it by its worker index.
    skills: a skills file (`raytool skills mine` output) whose skills are offered as macro-actions; "" = none.
    arguments: where argument values come from. `gold`: the task's gold calls (`binder.task_slots`; an ORACLE,
        for ablations and task generation); `predicted`: the argument filler (`raytool.filler`) reads each tool's
        values from the request text, once per task and tool (values only: a value produced by an earlier call is
        the binder's kind match on that call's output). A real request carries no gold calls.
    filler: the filler checkpoint for `arguments="predicted"` (default `$RAYTOOL_CACHE/run/filler`).
    part_focus: for a task whose ranking merges planned sub-tasks' (a proxy's job), offer the current part's own
        candidates first: part i while i calls have been made, the merged ranking after the last part (module
        docstring). False = the merged ranking at every step.
    """

    tasks: str
    top_p: int = 5
    max_steps: int = 8
    candidate_source: str = "bm25"
    encoder: str = "hashing-256"
    executor: str = "inline"
    reward: dict[str, float] = field(default_factory=dict)
    feature_cache: str = ""
    seed: int = 0
    skills: str = ""
    arguments: str = "gold"
    filler: str = ""
    part_focus: bool = True

    def __post_init__(self) -> None:
        if self.top_p < 1 or self.max_steps < 1:
            raise ValueError("top_p and max_steps must be >= 1")
        if self.arguments not in ("gold", "predicted"):
            raise ValueError(f"arguments must be gold or predicted, got {self.arguments!r}")
        if self.executor not in ("inline", "process", "none"):
            raise ValueError(f"executor must be inline, process or none, got {self.executor!r}")

    @classmethod
    def from_dict(cls, config: dict[str, Any], where: str = "<ToolDeciderEnv config>") -> DeciderEnvConfig:
        """Checked by `raytool.config.settings_from` (errors name `where`, the key path and what was expected)."""
        from raytool.config import settings_from

        return settings_from(cls, config, where, "env")


def argument_settings(filler: str | Path = "") -> dict[str, str]:
    """The `DeciderEnvConfig` keys of an argument source: the filler checkpoint at `filler` reads every value from
    the request (`predicted`); "" = the tasks' gold calls (`gold`, an ORACLE)."""
    return {"arguments": "predicted", "filler": str(filler)} if filler else {"arguments": "gold"}


class ToolDeciderEnv(gym.Env):
    """See the module docstring."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        dataset: ToolDataset | None = None,
        rankings: dict[str, dict] | None = None,
    ) -> None:
        """`config`: `DeciderEnvConfig` keys (what RLlib passes). `dataset` and `rankings` build the env from
        memory instead (a proxy serving a request): the tasks and tools themselves (`config["tasks"]` is then
        ignored) and, with `candidate_source="memory"`, each task's ranked candidates (`raytool.envs.features`);
        nothing is read from or written to disk."""
        raw = dict(config or {})
        worker = int(getattr(config, "worker_index", 0) or 0)
        self.config = DeciderEnvConfig.from_dict(raw)
        self.reward_config = RewardConfig(**self.config.reward)
        self.dataset = dataset if dataset is not None else ToolDataset.load(self.config.tasks)
        self.tasks = self.dataset.tasks
        self.specs = list(self.dataset.tools.values())
        k = self.config.top_p + self.config.max_steps
        if dataset is not None:  # a request's own tasks: nothing to cache
            self.features = build_features(self.dataset, self.config.encoder, self.config.candidate_source, k, rankings)
        else:
            self.features = load_or_build_features(
                self.dataset, self.config.encoder, self.config.candidate_source, k,
                self.config.feature_cache or cache_dir() / "features",
            )  # fmt: skip
        self.tool_index = {name: i for i, name in enumerate(self.features.tool_names)}
        self.macros = _checked_macros(self.config.skills, self.tool_index) if self.config.skills else []
        norms = np.linalg.norm(self.features.tool_vecs, axis=1)
        self._unit_vecs = bool(len(norms)) and bool(np.allclose(norms, 1.0, atol=1e-3))
        self.executor = _make_executor(self.config.executor)
        self.filler = _load_filler(self.config.filler) if self.config.arguments == "predicted" else None
        self._predicted: dict[tuple[int, str], dict[str, Any]] = {}  # (task, tool) -> the filler's values
        self._kind_examples = kind_examples(self.specs)  # a kind's documented example, for parameters with none
        self._parts = {  # task id -> (each part's text, its own ranking's names): a proxy job's planned sub-tasks
            task_id: (record["part_texts"], record.get("part_names") or [])
            for task_id, record in (rankings or {}).items()
            if len(record.get("part_texts") or ()) > 1
        }
        p, d = self.config.top_p, self.features.dim
        self.obs_dim = observation_size(d, p)
        self.observation_space = gym.spaces.Dict(
            {
                "observations": gym.spaces.Box(-1.0, 1.0, (self.obs_dim,), np.float32),
                "action_mask": gym.spaces.Box(0.0, 1.0, (p + 1,), np.float32),
            }
        )
        self.action_space = gym.spaces.Discrete(p + 1)
        self.stop_action = p
        self._rng = random.Random(self.config.seed * 1000 + worker)
        self._task_index = -1

    # -- episode ---------------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._rng = random.Random(seed)
        options = options or {}
        index = options.get("task_index")
        self._task_index = self._rng.randrange(len(self.tasks)) if index is None else int(index)
        self.task = self.tasks[self._task_index]
        self.executes = self.executor is not None and self.task.env is not None
        if self.executes:
            self.executor.reset(self.task.env["suites"], self.task.env["world_seed"])
        self.slots = task_slots(self.task) if self.filler is None else {}
        self.made: list[MadeCall] = []
        self.history: list[PastCall] = []
        self.outputs: list[Any] = []
        self.seen: set[tuple[str, str]] = set()
        self.steps = 0
        self.score = 0.0
        self.breakdown = score_trajectory(self.task, [], self.reward_config, terminal=False)
        self._refresh_candidates()
        return self._observation(), {"task_id": self.task.id}

    def step(self, action: int, arguments: dict[str, Any] | None = None):
        """One decision: candidate `action` is called (a skill: its tools in turn, until one fails), or STOP.
        `arguments`: the call's values as the agent wrote them (a single-LLM baseline writing its own), instead of
        the env's argument source; ignored for a skill."""
        action = int(action)
        self.steps += 1
        if action == self.stop_action or action >= len(self.candidates):
            return self._finish(truncated=False)
        if self.is_macro(action):
            for name in self._macro(self.candidates[action]).tools:
                self._call(self.dataset.tools[name])
                if self.made[-1].status != VALID:
                    break
        else:
            self._call(self.specs[self.candidates[action]], arguments)
        return self._after_calls()

    def step_tool(self, name: str, arguments: dict[str, Any] | None = None):
        """Call the pool tool `name` now, offered among the candidates or not (a baseline's own plan): one step.

        A name outside the task's pool (or the catalogue) is made as a malformed call, as an agent naming a tool it
        was never offered would be. `arguments`: as for `step`. Returns what `step` returns.
        """
        self.steps += 1
        pool = set(self.task.tools) if self.task.tools else set(self.tool_index)
        if name in pool and name in self.dataset.tools:
            self._call(self.dataset.tools[name], arguments)
        else:
            self.made.append(MadeCall(name, dict(arguments or {}), MALFORMED))
            self.history.append(PastCall(ToolSpec(name, ""), False))
            self.outputs.append(None)
        return self._after_calls()

    def _after_calls(self):
        """The step's reward (the running score's change), truncation at `max_steps`, the next observation."""
        self.breakdown = score_trajectory(self.task, self.made, self.reward_config, terminal=False)
        reward, self.score = self.breakdown.reward - self.score, self.breakdown.reward
        if self.steps >= self.config.max_steps:
            obs, final, _, truncated, info = self._finish(truncated=True)
            return obs, reward + final, False, truncated, info
        self._refresh_candidates()
        return self._observation(), reward, False, False, {}

    def _finish(self, truncated: bool):
        final = score_trajectory(self.task, self.made, self.reward_config, terminal=True)
        reward = final.reward - self.score
        self.score = final.reward
        info = {
            "task_id": self.task.id,
            "episode_reward": final.reward,
            "success": final.success,
            "calls": len(self.made),
            "decisions": self.steps,
            "precision": final.precision,
            "completeness": final.completeness,
        }
        return self._observation(), reward, not truncated, truncated, info

    @property
    def planned_calls(self) -> int:
        """The planned sub-tasks of the current task's job (its ranking's `parts`; 0 for a task without parts)."""
        return int(self.features.parts[self._task_index])

    @property
    def plan_due(self) -> bool:
        """Whether the job's planned sub-tasks still lack calls (fewer calls made than `planned_calls`): STOP is
        masked then, and the relevance gate waits (`decider.act`)."""
        return len(self.made) < self.planned_calls

    def repeat_mask(self) -> np.ndarray:
        """(p + 1,) bool: True for the candidates whose call now would exactly repeat an earlier one (same tool,
        same resolved arguments; a skill: its first tool). Such a call is not executed and only costs its penalty,
        so agents at inference skip them; STOP is never masked."""
        return self._mask(self._would_repeat)

    def skip_mask(self) -> np.ndarray:
        """(p + 1,) bool: what an agent at inference skips — `repeat_mask`, and the candidates whose call could not
        be made as it would be bound now (`_could_call`: a required value neither the request nor an earlier output
        gives, a stated value not written like its parameter's documented example, "tr-103" as a booking id, or one
        an earlier successful call took as another kind of value).
        Such a call would only fail; STOP is never masked."""
        return self._mask(lambda spec, arguments: self._would_repeat(spec, arguments) or not self._could_call(
            spec, arguments))  # fmt: skip

    def _mask(self, test) -> np.ndarray:
        """(p + 1,) bool: `test(spec, arguments)` of each candidate's call as it would be bound now (a skill: its
        first tool), each bound once; STOP False."""
        mask = np.zeros(self.stop_action + 1, dtype=bool)
        for slot, cand in enumerate(self.candidates):
            spec = self.dataset.tools[self._macro(cand).tools[0]] if self.is_macro(slot) else self.specs[cand]
            mask[slot] = test(spec, self._bind(spec))
        return mask

    def _could_call(self, spec: ToolSpec, arguments: dict[str, Any]) -> bool:
        if any(name not in arguments for name in spec.required):
            return False
        succeeded = [(self.dataset.tools[m.name], m.arguments) for m in self.made
                     if m.status == VALID and m.name in self.dataset.tools]  # fmt: skip
        for name, value in arguments.items():
            schema = spec.properties.get(name, {})
            if not is_result_ref(value) and not written_like_example(
                value, schema, self._kind_examples.get(schema.get(KIND_KEY, "")), name
            ):
                return False
            if taken_as_other_kind(value, schema.get(KIND_KEY), succeeded):
                return False
        return True

    def _would_repeat(self, spec: ToolSpec, arguments: dict[str, Any]) -> bool:
        resolved = arguments
        if self.executes:
            try:
                resolved = resolve_arguments(arguments, self.outputs)
            except (LookupError, TypeError):
                pass
        return (spec.name, _key(resolved)) in self.seen

    def _call(self, spec, arguments: dict[str, Any] | None = None) -> None:
        arguments = self._bind(spec) if arguments is None else dict(arguments)
        output, status, resolved = None, VALID, arguments
        try:
            if self.executes:
                resolved = resolve_arguments(arguments, self.outputs)
                check_arguments(spec, resolved)
            else:  # no outputs to resolve references against: their values go unchecked
                check_arguments(spec, arguments, unchecked=[k for k, v in arguments.items() if is_result_ref(v)])
        except (InvalidArgument, LookupError, TypeError):
            status = MALFORMED
        if (spec.name, _key(resolved)) in self.seen:
            status = REPEATED  # the same tool with the same (resolved) arguments as an earlier call
        self.seen.add((spec.name, _key(resolved)))
        if status == VALID and self.executes:
            result = self.executor.call(spec.name, resolved)
            status, output = (VALID, result.output) if result.ok else (INVALID, None)
        self.made.append(MadeCall(spec.name, arguments, status, output))
        self.history.append(PastCall(spec, status == VALID, output))
        self.outputs.append(output)

    # -- features --------------------------------------------------------------------------------------------
    def _refresh_candidates(self) -> None:
        done = {m.name for m in self.made if m.status == VALID}
        ranked, scores = self.features.ranked[self._task_index], self.features.scores[self._task_index]
        focus = self.features.part_ranking(self._task_index, len(self.made)) if self.config.part_focus else None
        if focus is not None:  # the current part's own ranking, then the merged one
            ranked, scores = np.concatenate([focus[0], ranked]), np.concatenate([focus[1], scores])
        picks, seen = [], set()
        for c, s in zip(ranked, scores, strict=True):
            if c >= 0 and c not in seen and self.specs[c].name not in done:
                picks.append((int(c), float(s)))
                seen.add(int(c))
        picks = picks[: self.config.top_p]
        if self.macros:
            picks = self._with_macros(picks, done)[: self.config.top_p]
        self.candidates = [c for c, _ in picks]
        self.candidate_scores = [s for _, s in picks]

    def _with_macros(self, picks: list[tuple[int, float]], done: set[str]) -> list[tuple[int, float]]:
        """`picks` with each eligible macro (module docstring) inserted right before its first tool."""
        ranked = {self.specs[int(c)].name: float(s) for c, s in
                  zip(self.features.ranked[self._task_index], self.features.scores[self._task_index], strict=True)
                  if c >= 0}  # fmt: skip
        out = []
        for cand, score in picks:
            first = self.specs[cand].name
            for m, macro in enumerate(self.macros):
                if macro.tools[0] == first and all(t in ranked for t in macro.tools) and not set(macro.tools) & done:
                    out.append((len(self.specs) + m, min(ranked[t] for t in macro.tools)))
            out.append((cand, score))
        return out

    def is_macro(self, slot: int) -> bool:
        """Whether candidate `slot` is a macro-action (a skill) rather than a tool."""
        return self.candidates[slot] >= len(self.specs)

    def candidate_names(self) -> list[str]:
        """The candidates' names in slot order: tool names, and skill names for macros."""
        return [self._candidate_name(c) for c in self.candidates]

    def _candidate_name(self, cand: int) -> str:
        return self._macro(cand).name if cand >= len(self.specs) else self.specs[cand].name

    def _macro(self, cand: int) -> Macro:
        return self.macros[cand - len(self.specs)]

    def _observation(self) -> dict[str, np.ndarray]:
        f, p, d = self.features, self.config.top_p, self.features.dim
        obs = np.zeros(self.obs_dim, dtype=np.float32)
        obs[:d] = f.query_vecs[self._task_index]
        called = [self.tool_index[m.name] for m in self.made if m.status == VALID]
        if called:
            obs[d : 2 * d] = f.tool_vecs[called].mean(0)
        n = float(self.config.max_steps)
        failed = sum(m.status != VALID for m in self.made)
        last_ok = float(bool(self.made) and self.made[-1].status == VALID)
        valid = min((len(self.made) - failed) / n, 1.0)  # macros make several calls per step: keep it in the box
        obs[2 * d : 2 * d + OBS_SCALARS] = [self.steps / n, valid, failed / n, last_ok]
        mask = np.zeros(p + 1, dtype=np.float32)
        mask[p] = float(not self.candidates or not self.plan_due)
        base = 2 * d + OBS_SCALARS
        for slot, (cand, score) in enumerate(zip(self.candidates, self.candidate_scores, strict=True)):
            macro = self._macro(cand) if cand >= len(self.specs) else None  # a skill shows its first tool's flags
            spec = self.dataset.tools[macro.tools[0]] if macro else self.specs[cand]
            start = base + slot * (d + OBS_PER_CANDIDATE)
            obs[start : start + d] = self._macro_vec(macro) if macro else f.tool_vecs[cand]
            tried = [m for m in self.made if m.name == spec.name]
            obs[start + d : start + d + OBS_PER_CANDIDATE] = [
                score, slot / p, float(bool(tried)), float(any(m.status != VALID for m in tried)), self._fillable(spec),
            ]  # fmt: skip
            mask[slot] = 1.0
        return {"observations": obs, "action_mask": mask}

    def _macro_vec(self, macro: Macro) -> np.ndarray:
        """The mean of the macro's tool vectors, re-normalised when the tool vectors are unit length. (D,)"""
        vec = self.features.tool_vecs[[self.tool_index[t] for t in macro.tools]].mean(0)
        return vec / max(float(np.linalg.norm(vec)), 1e-9) if self._unit_vecs else vec

    def _slots(self, spec: ToolSpec) -> dict[str, Any]:
        """The values a call of `spec` binds from: the gold slots, or the filler's reading of the request — for a
        proxy's job of several planned parts, of the part that asks for the tool (`_asking_part`: "bump the quota of
        polar-analytics by 99" gives the amount, not the "364 GB" of the next part), what the part does not give
        from the whole job (an action the segmenter split from its details, an optional value cut off with them)."""
        if self.filler is None:
            return slots_for(self.slots, spec.name)
        key = (self._task_index, spec.name)
        if key not in self._predicted:  # once per task and tool, across episodes: the reading is deterministic
            values = self._read(self.task.query, spec)
            part = self._asking_part(spec.name)
            if part is not None:  # the part that asks for the tool first; what it does not give, from the whole job
                values = values | self._read(part, spec)
            self._predicted[key] = values
        return self._predicted[key]

    def _read(self, text: str, spec: ToolSpec) -> dict[str, Any]:
        fill = self.filler.fill(text, spec)
        return {k: v for k, v in fill.arguments.items() if not is_result_ref(v)}

    def _asking_part(self, tool: str) -> str | None:
        """The text of the job's planned part whose own ranking puts `tool` highest (the earliest part on a tie);
        None for a task without parts (memory rankings with `part_texts`) or a tool no part ranks."""
        texts, names = self._parts.get(self.task.id, ((), ()))
        ranks = [(ranked.index(tool), k) for k, ranked in enumerate(names[: len(texts)]) if tool in ranked]
        return texts[min(ranks)[1]] if ranks else None

    def _fillable(self, spec) -> float:
        if not spec.required:
            return 1.0
        args = self._bind(spec)
        return sum(p in args for p in spec.required) / len(spec.required)

    def _bind(self, spec) -> dict[str, Any]:
        """The binder's arguments for `spec` now; with predicted arguments the values the request states come first
        (`binder.bind_arguments`'s `stated_first`)."""
        return bind_arguments(
            spec, self._slots(spec), self.history, self.breakdown.gold_to_trajectory, self.filler is not None
        )

    # -- baselines -------------------------------------------------------------------------------------------
    def oracle_action(self) -> int:
        """The gold-oracle policy: the candidate that is the next unmatched gold tool, else STOP (never a skill)."""
        matched = self.breakdown.gold_to_trajectory
        for g, gold in enumerate(self.task.calls):
            if g not in matched and all(d in matched for d in gold.depends_on):
                for slot, name in enumerate(self.candidate_names()):  # tools only: no skill is named like one
                    if name == gold.name:
                        return slot
                return self.stop_action
        return self.stop_action

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()


def _key(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, sort_keys=True, default=str)


def _checked_macros(path: str, tools: dict[str, int]) -> list[Macro]:
    """The skills file's macros; a macro named like a tool would make candidate names ambiguous."""
    macros = load_macros(path)
    clash = [m.name for m in macros if m.name in tools]
    if clash:
        raise ValueError(f"{path}: skills {clash[:3]} are named like tools of the dataset; rename them")
    return macros


def _load_filler(path: str):
    from raytool.filler.checkpoint import default_dir
    from raytool.filler.filler import ArgumentFiller

    return ArgumentFiller.load(path or default_dir())


def _make_executor(kind: str):
    if kind == "none":
        return None
    from raytool.envs.sandbox import InlineExecutor, ProcessSandbox

    return InlineExecutor() if kind == "inline" else ProcessSandbox()


def register_decider_env() -> str:
    """Register `ToolDeciderEnv` with Ray Tune/RLlib under `ENV_NAME`; returns the name."""
    from ray.tune.registry import register_env

    register_env(ENV_NAME, lambda config: ToolDeciderEnv(config))
    return ENV_NAME
