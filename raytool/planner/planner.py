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
(`segmenter_plan`, source `segmenter`). Then five rules: a second action joined by "and" or a comma is its own
sub-task (`split_at_actions`: "Quote customer cu-106 a loan ... | and accept it", an action word being a catalogue
tool name's first word, `action_words`); a sub-task that refers back ("show it to me", "rent them a car", "cancel
that reservation") is routed on its own votes plus those of its text followed by the (routed) text of the sub-task
it refers to (the segmenter's nearest link, else the one before it), since the reference alone names no domain,
while a sub-task that names its own ("how loaded is site dub-dc2 and what power does it draw") keeps it; an explicit
"step k" in a sub-task's text is that dependency (as in the rule planner); a dependency on a sub-task of another
domain is dropped (the segmenter is trained on the executable suites, whose chains never cross domains); a
sub-task that refers back ("it", "them", "that order", "the same account") but was given no dependency depends on
the nearest earlier sub-task of its domain. It falls back to the rule planner when it finds no sub-task.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from raytool.filler.features import name_words
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
# request verbs that name no tool of the suites but start an action ("show me X", "buy 12 shares")
_REQUEST_VERBS = ("show", "tell", "give", "buy", "sell", "order", "file", "schedule", "look", "fetch", "pull")
_ACTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # router -> `action_words` of its catalogue
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
    segments = split_at_actions(query, segments, _actions_of(router))
    texts = []
    for k, segment in enumerate(segments):
        referent = max(segment.depends_on) if segment.depends_on else k - 1
        texts.append(segment.text + (" " + texts[referent] if k and _REFERS_BACK.search(segment.text) else ""))
    votes = router.votes([s.text for s in segments])
    referring = [k for k, segment in enumerate(segments) if texts[k] != segment.text]
    for k, context in zip(referring, router.votes([texts[k] for k in referring]) if referring else [], strict=True):
        votes[k] = {d: votes[k][d] + context[d] for d in votes[k]}
    domains = [router.best(v) for v in votes]
    subtasks = []
    for k, (segment, domain) in enumerate(zip(segments, domains, strict=True), start=1):
        explicit = {int(n) for n in _STEP.findall(segment.text) if 0 < int(n) < k}
        needs = explicit or {d + 1 for d in segment.depends_on if domains[d] == domain}
        if not needs and _REFERS_BACK.search(segment.text):
            same = [i for i in range(1, k) if domains[i - 1] == domain]
            needs = set(same[-1:])
        subtasks.append(SubTask(k, segment.text, domain, tuple(sorted(needs))))
    return _planned(subtasks, "segmenter")


def action_words(specs) -> frozenset[str]:
    """The words that start an action in requests over `specs`: each tool name's first word ("accept" of
    `accept_loan`, "get" of `getWeather`) and a few request verbs (`_REQUEST_VERBS`), less every word of a
    parameter's name or enum value ("add" of `add_insurance`, "buy" of `side: [buy, sell]`), which a sub-task also
    writes as a value ("book it, add insurance", "buy side")."""
    verbs = set(_REQUEST_VERBS)
    valued: set[str] = set()
    for spec in specs:
        verbs.update(name_words(spec.name)[:1])
        for name, schema in spec.properties.items():
            valued.update(name_words(name))
            for value in schema.get("enum", []) if isinstance(schema, dict) else []:
                valued.update(str(value).lower().split())
    return frozenset(v for v in verbs if len(v) >= 3 and v not in valued)


def _actions_of(router) -> frozenset[str]:
    """`action_words` of the router's catalogue, read once per router (its tools do not change)."""
    if router not in _ACTIONS:
        _ACTIONS[router] = action_words(router.specs)
    return _ACTIONS[router]


@functools.lru_cache(maxsize=64)
def _action_cut(verbs: frozenset[str]) -> re.Pattern:
    """Where a second action starts: "and", ", and" or a comma before an action word, not before "of"."""
    actions = "|".join(sorted(map(re.escape, verbs)))
    return re.compile(rf"(?:,\s*and\s+|\s+and\s+|,\s+)(?=(?:{actions})\b(?!\s+of\b))", re.I)


def split_at_actions(query: str, segments, verbs: frozenset[str]):
    """`segments` cut where "and" or a comma is followed by an action word (`action_words`) and both sides have at
    least two words: "Quote customer cu-106 a loan of 20383.48 | and accept it", "submit it | and schedule it
    automatically" (the tagger joins a second action on a known joiner it has mostly seen inside one call: "how
    loaded is site X and what power does it draw"). A piece after a cut that refers back depends on the piece before
    it; a dependency on a cut segment is on its last piece."""
    from raytool.planner.segmenter import Segment

    if not verbs:
        return list(segments)
    cut = _action_cut(frozenset(verbs))
    out, last = [], []  # last: each input segment's last piece in `out`
    for segment in segments:
        pieces, start = [], segment.start
        for match in cut.finditer(query, segment.start, segment.end):
            if len(query[start : match.start()].split()) >= 2 and len(query[match.end() : segment.end].split()) >= 2:
                pieces.append((start, match.start()))
                start = match.end()
        pieces.append((start, segment.end))
        for j, (a, b) in enumerate(pieces):
            if j == 0:
                needs = tuple(last[d] for d in segment.depends_on)
            else:
                needs = (len(out) - 1,) if _REFERS_BACK.search(query[a:b]) else ()
            text = segment.text if len(pieces) == 1 else query[a:b]
            out.append(Segment(text, a, b, needs))
        last.append(len(out) - 1)
    return out


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
