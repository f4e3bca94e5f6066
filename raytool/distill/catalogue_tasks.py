"""`raytool distill instructions --tools CATALOGUE`: the teacher writes requests and their gold calls for any catalogue.

1. Plan `num` items: one tool, or (a `multi_share` of them) two tools where the second can use the first's result
   (a parameter named like a field of the first's `returns`, else a tool of the same domain), drawn with `seed`.
2. The teacher writes, per item, one JSON object `{"calls": [{"name", "arguments"}], "request": ...}` given the
   tools' schemas; with `structured` the output is constrained to `answer_schema` (vLLM structured outputs / the
   OpenAI backend's `response_format`): the planned tools in order, each call's arguments following its tool's
   schema, calls before the request. A value taken from an earlier call's result is `{"$ref": k, "path": "field"}`.
3. Each answer is checked, and kept only if every check passes (the first failing check is counted):
       unparsed            not one JSON object of that shape
       wrong_tools         its calls are not the planned tools, in order
       invalid_arguments   arguments fail the tool's JSON Schema (`jsonschema`; a reference stands for a valid value)
       bad_reference       a reference to a call that does not precede it, or to a field its result does not have
       ungrounded_value    a literal argument value that does not occur in the request (an invented value)
       short_request       a request of fewer than three words
       duplicate           the same request (case and spacing aside) as a kept one
4. Kept tasks and the catalogue are saved as a dataset; `summary.json` has the counts and the pass rate.
Work is sharded and resumable like `distill synth` (`raytool.distill.shards`); teacher answers are cached.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from raytool.distill.cache import PromptCache, cached_generate
from raytool.distill.shards import run_sharded
from raytool.teacher.backend import Sampling, TeacherBackend
from raytool.teacher.decoding import arguments_schema
from raytool.tools.call import REF_KEY, ToolCall, is_result_ref, map_refs
from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

CHECKS = ("unparsed", "wrong_tools", "invalid_arguments", "bad_reference", "ungrounded_value", "short_request")
DATASET = "dataset"
SUMMARY = "summary.json"
_PLACEHOLDER = {"string": "x", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}, "null": None}


@dataclass(frozen=True)
class CatalogueTaskConfig:
    """num: items planned; multi_share: share with two calls; seed: the plan's draw; shard_size: items per shard;
    max_tokens: per answer; structured: constrain the answer to its JSON Schema; temperature: 0 is greedy."""

    num: int = 40
    multi_share: float = 0.5
    seed: int = 0
    shard_size: int = 20
    max_tokens: int = 320
    structured: bool = True
    temperature: float = 0.0


def plan_items(tools: dict[str, ToolSpec], config: CatalogueTaskConfig) -> list[tuple[str, ...]]:
    """The tools of each item (module docstring, step 1)."""
    rng = random.Random(config.seed)
    names = sorted(tools)
    items: list[tuple[str, ...]] = []
    for _ in range(config.num):
        first = names[rng.randrange(len(names))]
        if len(names) > 1 and rng.random() < config.multi_share:
            items.append((first, _follower(tools, first, names, rng)))
        else:
            items.append((first,))
    return items


def _follower(tools: dict[str, ToolSpec], first: str, names: list[str], rng: random.Random) -> str:
    fields = {f.lower() for f in ((tools[first].returns or {}).get("properties") or {})}
    uses = [n for n in names if n != first and fields & {p.lower() for p in tools[n].properties}]
    same = [n for n in names if n != first and tools[n].domain and tools[n].domain == tools[first].domain]
    pool = uses or same or [n for n in names if n != first]
    return pool[rng.randrange(len(pool))]


def answer_schema(specs: list[ToolSpec]) -> dict[str, Any]:
    """The JSON Schema of one answer: exactly these calls, in order, each call's arguments following its tool's
    parameter schema (a later call's argument may instead be a reference to an earlier call's result field), then
    the request. Calls come first so that a small teacher writes the request after the values it must contain;
    strings are bounded so that decoding cannot run away."""
    calls = []
    for i, spec in enumerate(specs):
        arguments = arguments_schema(spec)
        refs = [_ref_schema(k, specs[k]) for k in range(i)]
        if refs:  # a later call's argument may be a reference to an earlier call's result instead
            arguments["properties"] = {name: {"anyOf": [own, *refs]} for name, own in arguments["properties"].items()}
        calls.append({"type": "object", "properties": {"name": {"const": spec.name}, "arguments": arguments},
                      "required": ["name", "arguments"], "additionalProperties": False})  # fmt: skip
    return {
        "type": "object",
        "properties": {
            "calls": {
                "type": "array",
                "prefixItems": calls,
                "items": False,
                "minItems": len(specs),
                "maxItems": len(specs),
            },  # fmt: skip
            "request": {"type": "string", "minLength": 12, "maxLength": 400},
        },
        "required": ["calls", "request"],
        "additionalProperties": False,
    }


def _ref_schema(k: int, spec: ToolSpec) -> dict[str, Any]:
    """A reference to call k's result (its field names when its tool declares them)."""
    fields = sorted((spec.returns or {}).get("properties") or {})
    path = {"enum": fields} if fields else {"type": "string", "maxLength": 40}
    return {"type": "object", "properties": {REF_KEY: {"const": k}, "path": path}, "required": [REF_KEY, "path"],
            "additionalProperties": False}  # fmt: skip


def task_messages(specs: list[ToolSpec]) -> list[dict[str, str]]:
    """Ask for a request a user would write and the calls that answer it (one worked example)."""
    system = (
        "You write training data for a tool-using assistant. Given tools, write one realistic user request that "
        "needs exactly those tools in that order, and the calls that answer it. Every argument value must appear "
        'in the request. A value taken from an earlier call\'s result is written {"$ref": k, "path": "field"} '
        "(k counts calls from 0). Answer with one JSON object only."
    )
    example_tools = [
        {"name": "find_user", "description": "Find a user by email", "parameters": {"type": "object", "properties":
         {"email": {"type": "string"}}, "required": ["email"]}, "returns": {"type": "object", "properties":
         {"user_id": {"type": "string"}}}},
        {"name": "list_orders", "description": "A user's orders", "parameters": {"type": "object", "properties":
         {"user_id": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["user_id"]}},
    ]  # fmt: skip
    example_answer = {
        "calls": [
            {"name": "find_user", "arguments": {"email": "ana@example.com"}},
            {"name": "list_orders", "arguments": {"user_id": {REF_KEY: 0, "path": "user_id"}, "limit": 3}},
        ],
        "request": "Look up the account of ana@example.com and show me their last 3 orders.",
    }
    tools = [s.to_dict() for s in specs]
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "Tools: " + json.dumps(example_tools)},
        {"role": "assistant", "content": json.dumps(example_answer)},
        {"role": "user", "content": "Tools: " + json.dumps(tools)},
    ]


def check_answer(text: str, specs: list[ToolSpec]) -> tuple[Task | None, str]:
    """(the task, "") when the answer passes every check (module docstring), else (None, the first failing check)."""
    from jsonschema import Draft202012Validator

    try:
        answer = json.loads(_first_object(text))
        request, raw_calls = answer["request"], answer["calls"]
        calls = [(c["name"], c["arguments"]) for c in raw_calls]
        if not isinstance(request, str) or not all(isinstance(n, str) and isinstance(a, dict) for n, a in calls):
            return None, "unparsed"
    except (ValueError, KeyError, TypeError):
        return None, "unparsed"
    if [n for n, _ in calls] != [s.name for s in specs]:
        return None, "wrong_tools"
    for i, ((_, arguments), spec) in enumerate(zip(calls, specs, strict=True)):
        instance = {k: _stand_in(v, spec.properties.get(k, {})) for k, v in arguments.items()}
        if not Draft202012Validator(spec.parameters).is_valid(instance):
            return None, "invalid_arguments"
        if not all(_resolves(ref, i, specs) for ref in _refs(arguments)):
            return None, "bad_reference"
    text_lower = " ".join(request.lower().split())
    if not all(_occurs(v, text_lower) for _, arguments in calls for v in _literals(arguments)):
        return None, "ungrounded_value"
    if len(request.split()) < 3:
        return None, "short_request"
    tool_calls = tuple(ToolCall.with_inferred_deps(name, arguments) for name, arguments in calls)
    return Task(id="candidate", query=" ".join(request.split()), calls=tool_calls, source="teacher"), ""


def synthesize_catalogue_tasks(
    catalogue: ToolDataset, teacher: TeacherBackend, out_dir: Path, config: CatalogueTaskConfig = CatalogueTaskConfig(),
    log: Callable[[str], None] = print,
) -> dict[str, Any]:  # fmt: skip
    """Run the job (module docstring) into `out_dir` (`dataset/`, `summary.json`, shards); returns the summary."""
    out_dir = Path(out_dir)
    tools = catalogue.tools
    items = plan_items(tools, config)
    ids = [f"{i}:{'+'.join(names)}" for i, names in enumerate(items)]
    cache = PromptCache(out_dir / "cache")

    def process(indices: list[int]) -> list[dict[str, Any]]:
        specs = [[tools[n] for n in items[i]] for i in indices]
        prompts = teacher.chat([task_messages(s) for s in specs])
        texts = []
        for prompt, s in zip(prompts, specs, strict=True):  # one schema per item: one request each
            schema = json.dumps(answer_schema(s)) if config.structured else ""
            sampling = Sampling(max_tokens=config.max_tokens, temperature=config.temperature, seed=config.seed,
                                json_schema=schema)  # fmt: skip
            texts += cached_generate(teacher, cache, [prompt], sampling)
        return [{"item": i, "tools": list(items[i]), "text": t} for i, t in zip(indices, texts, strict=True)]

    job = {"kind": "catalogue_tasks", "teacher": teacher.model_name, "config": asdict(config)}
    records = run_sharded(out_dir, ids, config.shard_size, process, 1, job, log)
    counts: Counter = Counter()
    kept: list[Task] = []
    seen: set[str] = set()
    for record in sorted(records, key=lambda r: r["item"]):
        task, failed = check_answer(record["text"], [tools[n] for n in record["tools"]])
        if task is not None and task.query.lower() in seen:
            task, failed = None, "duplicate"
        if task is None:
            counts[failed] += 1
            continue
        seen.add(task.query.lower())
        kept.append(Task(f"synth-{record['item']}", task.query, task.calls, domain=tools[task.calls[0].name].domain,
                         source=f"teacher:{teacher.model_name}"))  # fmt: skip
    summary = {
        "planned": len(items),
        "kept": len(kept),
        "pass_rate": len(kept) / max(len(items), 1),
        "multi_call_kept": sum(len(t.calls) > 1 for t in kept),
        "with_references_kept": sum(any(c.depends_on for c in t.calls) for t in kept),
        "failed": {k: counts[k] for k in (*CHECKS, "duplicate") if counts[k]},
        "teacher": teacher.model_name,
        "structured": config.structured,
    }
    info = catalogue.info | {"catalogue_tasks": summary}
    ToolDataset(dict(tools), kept, info, catalogue.report).save(out_dir / DATASET)
    atomic_write_text(out_dir / SUMMARY, json.dumps(summary, indent=2) + "\n")
    return summary


def _first_object(text: str) -> str:
    """The text from its first `{` to the matching last `}` (models add prose around JSON)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object")
    return text[start : end + 1]


def _stand_in(value: Any, schema: dict[str, Any]) -> Any:
    """A reference replaced by a valid-looking value of the parameter's type (its value is not known yet)."""
    if is_result_ref(value):
        kind = schema.get("type", "string")
        return schema["enum"][0] if schema.get("enum") else _PLACEHOLDER.get(kind, "x")
    return map_refs(value, lambda _: "x")


def _refs(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def keep(ref: dict[str, Any]) -> Any:
        found.append(ref)
        return ref

    map_refs(value, keep)
    return found


def _resolves(ref: dict[str, Any], index: int, specs: list[ToolSpec]) -> bool:
    k, path = ref.get(REF_KEY), ref.get("path", "")
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < index or not isinstance(path, str):
        return False
    fields = (specs[k].returns or {}).get("properties")
    return not path or not fields or path.split(".")[0] in fields


def _literals(value: Any) -> list[Any]:
    if is_result_ref(value):
        return []
    if isinstance(value, dict):
        return [x for v in value.values() for x in _literals(v)]
    if isinstance(value, list):
        return [x for v in value for x in _literals(v)]
    return [] if value is None or isinstance(value, bool) else [value]


def _occurs(value: Any, text: str) -> bool:
    """Does the literal value occur in the (lower-cased, space-normalised) request? Numbers also as 1,000 / 3.0."""
    forms = {" ".join(str(value).lower().split())}
    if isinstance(value, int | float):
        forms |= {f"{value:,}", f"{value:g}"} | ({str(int(value))} if float(value).is_integer() else set())
    return any(f and re.search(rf"(?<![\w.]){re.escape(f)}(?![\w])", text) for f in forms)
