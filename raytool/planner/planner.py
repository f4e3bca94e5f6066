"""The planner: the teacher decomposes a request into sub-tasks with domains; checked, with a fallback.

    plan = yield from plan_episode(query, domains, router, config)     # inside a lockstep episode

One teacher call per request: with `structured` (the default) a generation constrained to the decomposition's JSON
Schema (`decomposition_schema`: vLLM structured outputs, the OpenAI backend's `response_format`), else a free
generation with the answer's JSON begun (`{"subtasks": [{"id": 1, "text": "`).
The decomposition is used only when it is usable:
  - it parses (`raytool.teacher.parsing.parse_decomposition`) into at least one sub-task;
  - every sub-task is grounded: at least `min_grounding` of its words occur in the request (a weak model
    invents sub-tasks that are not there);
  - together the sub-tasks cover at least `min_coverage` of the request's words (nothing is dropped).
Sub-tasks whose domain label is missing or unknown are routed (`raytool.planner.domain_router`). Otherwise the rule
decomposition (`raytool.planner.rules`: sentences and their "step k" references) with routed domains is used,
and the plan records why (`Plan.failure`). With a single domain there is nothing to delegate: the whole request
is one sub-task and the teacher is not called (`mode="auto"`; `mode="always"` asks it anyway, `"never"` uses
the rule without asking).

With a distilled segmenter (`PlannerConfig.segmenter`, `raytool.planner.segmenter`) `mode="auto"` does not ask the
teacher: the segmenter splits the request and links the sub-tasks, the router labels each sub-task's domain
(`segmenter_plan`, source `segmenter`). Then four rules: a sub-task that refers back by a pronoun ("show it to
me", "rent them a car") is routed on its text followed by the (routed) text of the sub-task it refers to (the
segmenter's nearest link, else the one before it), since the pronoun alone names no domain; an explicit "step k"
in a sub-task's text is that dependency (as in the rule planner); a dependency on a sub-task of another domain is
dropped (the segmenter is trained on the executable suites, whose chains never cross domains); a sub-task that
refers back ("it", "them", "that order", "the same account") but was given no dependency depends on the nearest
earlier sub-task of its domain. It falls back to the rule planner when it finds no sub-task.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from raytool.planner.plan import Plan, SubTask, allocate
from raytool.planner.rules import sentence_dependencies, split_sentences
from raytool.teacher.backend import Sampling
from raytool.teacher.lockstep import Episode, GenerateRequest
from raytool.teacher.parsing import Decomposition, parse_decomposition
from raytool.teacher.prompts import decomposition_messages

MODES = ("auto", "always", "never")
PREFILL = '{"subtasks": [{"id": 1, "text": "'
_WORD = re.compile(r"[a-z0-9]+")
_STEP = re.compile(r"\bstep\s+(\d+)\b", re.I)
_PRONOUN = re.compile(r"\b(it|its|them|their|they)\b", re.I)
_REFERS_BACK = re.compile(r"\b(it|its|them|their|they|(that|the same|this|those) [a-z]+|the [a-z]+'s)\b", re.I)


@dataclass(frozen=True)
class PlannerConfig:
    """How requests are decomposed (module docstring).

    mode: `auto` (ask the teacher when there are several domains), `always`, or `never` (rule only).
    max_tokens: the decomposition's generation budget.
    min_grounding: share of a sub-task's words that must occur in the request.
    min_coverage: share of the request's words the sub-tasks must cover together.
    segmenter: a trained segmenter's directory ("" = none): `auto` then plans with it instead of the teacher.
    structured: constrain the teacher's answer to the decomposition's JSON Schema (guided decoding); a teacher
        that cannot (the transformers backend) gets the prefilled free generation instead.
    """

    mode: str = "auto"
    max_tokens: int = 256
    min_grounding: float = 0.6
    min_coverage: float = 0.8
    segmenter: str = ""
    structured: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"planner.mode must be one of {', '.join(MODES)}, got {self.mode!r}")


def plan_episode(
    query: str, domains: Mapping[str, str], router, config: PlannerConfig = PlannerConfig(), segmenter=None
) -> Episode:
    """A lockstep episode (`raytool.teacher.lockstep`) returning the request's `Plan`; `segmenter`: the loaded
    `PlannerConfig.segmenter`, used in `auto` mode."""
    names = list(domains)
    if config.mode == "never" or (config.mode == "auto" and (len(names) == 1 or segmenter is not None)):
        if len(names) == 1:
            return _planned([SubTask(1, query, names[0])], "single")
        if segmenter is not None and config.mode == "auto":
            return segmenter_plan(query, segmenter, router)
        return rule_plan(query, router, "not asked")
        yield  # a generator even when the teacher is not asked
    messages = tuple(decomposition_messages(query, dict(domains)))
    if config.structured:
        schema = json.dumps(decomposition_schema(names))
        text = yield GenerateRequest(
            messages, Sampling(max_tokens=config.max_tokens, json_schema=schema), free_prefill=PREFILL
        )
    else:
        text = yield GenerateRequest(messages, Sampling(max_tokens=config.max_tokens), PREFILL)
    decomposition = parse_decomposition(text, names)
    failure = unusable(decomposition, query, config)
    if failure:
        return rule_plan(query, router, failure)
    unrouted = [s for s in decomposition.subtasks if s.domain is None]
    routed = dict(zip([s.id for s in unrouted], router.route([s.text for s in unrouted]), strict=True))
    subtasks = [SubTask(s.id, s.text, s.domain or routed[s.id], tuple(s.depends_on)) for s in decomposition.subtasks]
    return _planned(subtasks, "llm")


def rule_plan(query: str, router, failure: str) -> Plan:
    """Sentences as sub-tasks, their references as dependencies, domains from the router."""
    sentences = split_sentences(query) or [query]
    domains = router.route(sentences)
    deps = sentence_dependencies(sentences)
    subtasks = [SubTask(i, s, d, dep) for i, (s, d, dep) in enumerate(zip(sentences, domains, deps, strict=True), 1)]
    plan = _planned(subtasks, "rule")
    plan.failure = failure
    return plan


def decomposition_schema(domains: list[str], max_subtasks: int = 8) -> dict:
    """The JSON Schema of a decomposition over `domains` (what `parse_decomposition` reads)."""
    item = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "text": {"type": "string"},
            "domain": {"enum": list(domains)},
            "depends_on": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["id", "text", "domain", "depends_on"],
        "additionalProperties": False,
    }
    subtasks = {"type": "array", "items": item, "minItems": 1, "maxItems": max_subtasks}
    return {
        "type": "object",
        "properties": {"subtasks": subtasks},
        "required": ["subtasks"],
        "additionalProperties": False,
    }


def segmenter_plan(query: str, segmenter, router) -> Plan:
    """The segmenter's sub-tasks and dependencies, domains from the router (module docstring)."""
    segments = segmenter.segment([query])[0]
    if not segments:
        return rule_plan(query, router, "segmenter_found_nothing")
    texts = []
    for k, segment in enumerate(segments):
        referent = max(segment.depends_on) if segment.depends_on else k - 1
        texts.append(segment.text + (" " + texts[referent] if k and _PRONOUN.search(segment.text) else ""))
    domains = router.route(texts)
    subtasks = []
    for k, (segment, domain) in enumerate(zip(segments, domains, strict=True), start=1):
        explicit = {int(n) for n in _STEP.findall(segment.text) if 0 < int(n) < k}
        needs = explicit or {d + 1 for d in segment.depends_on if domains[d] == domain}
        if not needs and _REFERS_BACK.search(segment.text):
            same = [i for i in range(1, k) if domains[i - 1] == domain]
            needs = set(same[-1:])
        subtasks.append(SubTask(k, segment.text, domain, tuple(sorted(needs))))
    return _planned(subtasks, "segmenter")


def unusable(decomposition: Decomposition, query: str, config: PlannerConfig) -> str:
    """Why the teacher's decomposition cannot be used ("" when it can)."""
    if not decomposition.subtasks:
        return decomposition.failure or "no_subtasks"
    request = _words(query)
    for subtask in decomposition.subtasks:
        words = _words(subtask.text)
        if not words or len(words & request) / len(words) < config.min_grounding:
            return "ungrounded_subtask"
    covered = set().union(*(_words(s.text) for s in decomposition.subtasks)) & request
    if len(covered) / max(len(request), 1) < config.min_coverage:
        return "incomplete_cover"
    return ""


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _planned(subtasks: list[SubTask], source: str) -> Plan:
    return Plan(subtasks, source, allocate(subtasks))
