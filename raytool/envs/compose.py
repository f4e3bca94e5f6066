"""Scenario composition: multi-step tasks built from sub-questions linked by a dependency graph.

A chain starts with a tool whose required arguments can all be sampled from the world (`world.values(kind)`,
enums, booleans, numeric ranges); every later tool must consume an earlier output (a parameter whose kind
an earlier output holds), so each step is a sub-question that depends on the previous ones. Arguments are
always what the binder (`raytool.envs.binder`) gives for the task's slots, and the whole task is replayed on
fresh worlds before it is kept, so replaying the gold calls reproduces the answer by construction.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from raytool.envs.binder import PastCall, bind_arguments, latest_of_kind, resolve_arguments
from raytool.envs.docgen import KIND_KEY
from raytool.envs.levels import LevelSpec, schema_depth
from raytool.envs.suite import SuiteTool, ToolError, ToolSuite
from raytool.tools.call import REF_KEY, ToolCall, is_result_ref

UNSAMPLEABLE = object()


@dataclass
class ComposedTask:
    """Gold calls (references by index), their outputs, the slots and the tool of each call."""

    tools: list[SuiteTool]
    calls: list[ToolCall]
    outputs: list[Any]
    slots: dict[str, Any]
    chain_ends: list[int]


def param_level_type(schema: dict[str, Any]) -> str:
    """The type a level's table speaks of: `enum` for enumerated strings, else the JSON type."""
    return "enum" if "enum" in schema else schema.get("type", "string")


def eligible_tools(suite: ToolSuite, spec: LevelSpec, exclude: set[str] = frozenset()) -> list[SuiteTool]:
    """Tools allowed at a level: required parameter types and output nesting within its limits."""
    out = []
    for tool in suite.tools.values():
        if tool.name in exclude:
            continue
        required = [tool.spec.properties[p] for p in tool.spec.required]
        if all(param_level_type(s) in spec.param_types for s in required):
            if schema_depth(tool.spec.returns) <= spec.max_output_depth:
                out.append(tool)
    return out


def sample_value(schema: dict[str, Any], world: Any, rng: random.Random) -> Any:
    """A literal for a parameter: a world value of its kind, an enum member, a bool, a number in range.

    Returns `UNSAMPLEABLE` for free text and objects (such parameters must come from earlier outputs).
    """
    kind = schema.get(KIND_KEY)
    if kind:
        values = world.values(kind)
        return rng.choice(values) if values else UNSAMPLEABLE
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind_of = schema.get("type")
    if kind_of == "boolean":
        return rng.random() < 0.5
    if kind_of == "integer":
        return rng.randint(int(schema.get("minimum", 1)), int(schema.get("maximum", 10)))
    if kind_of == "number":
        return round(rng.uniform(float(schema.get("minimum", 1.0)), float(schema.get("maximum", 100.0))), 2)
    if kind_of == "array":
        items = schema.get("items", {})
        picks = [sample_value(items, world, rng) for _ in range(rng.randint(1, 2))]
        if any(p is UNSAMPLEABLE for p in picks):
            return UNSAMPLEABLE
        return list(dict.fromkeys(picks)) if all(isinstance(p, str) for p in picks) else picks
    return UNSAMPLEABLE


def grow_chain(
    suite: ToolSuite,
    tools: Sequence[SuiteTool],
    world: Any,
    length: int,
    optional_rate: float,
    rng: random.Random,
    slots: dict[str, Any],
) -> list[SuiteTool] | None:
    """Pick and run `length` linked tools on `world`, adding sampled literals to `slots`; None on a dead end.

    Later steps favour tools that take ids earlier tools created, consume the latest output and stay in the
    same or a later service stage (`_affinity`), so chains flow through the suite's stages; a tool that fails
    is replaced by another.
    """
    history: list[PastCall] = []
    outputs: list[Any] = []
    chosen: list[SuiteTool] = []
    for step in range(length):
        options = [t for t in tools if t not in chosen and _fits(t, history, world, step > 0)]
        for _ in range(5):
            if not options:
                return None
            tool = rng.choices(options, weights=[_affinity(t, chosen, history, suite, world) for t in options])[0]
            options.remove(tool)
            added = _sample_slots(tool, history, world, optional_rate, rng, slots)
            arguments = bind_arguments(tool.spec, slots, history)
            try:
                output = suite.call(world, tool.name, resolve_arguments(arguments, outputs))
                break
            except ToolError:
                for name in added:
                    del slots[name]
        else:
            return None
        history.append(PastCall(tool.spec, True, output))
        outputs.append(output)
        chosen.append(tool)
    return chosen


def _sample_slots(tool: SuiteTool, history, world, optional_rate: float, rng: random.Random, slots) -> list[str]:
    """Sample literals for the parameters no earlier output or slot covers; returns the names added."""
    added = []
    for name, schema in tool.spec.properties.items():
        kind = schema.get(KIND_KEY)
        if name in slots or (kind and latest_of_kind(history, kind) is not None):
            continue
        if name in tool.spec.required or rng.random() < optional_rate:
            value = sample_value(schema, world, rng)
            if value is not UNSAMPLEABLE:
                slots[name] = value
                added.append(name)
    return added


def _affinity(tool: SuiteTool, chosen: list[SuiteTool], history: list[PastCall], suite: ToolSuite, world) -> float:
    """Selection weight favouring progress through a scenario: x10 for creating an id kind the chain has not
    made yet (a kind the world does not list), x3 for consuming an id an earlier tool created, x2 for staying
    in the same or a later service stage. First steps favour the first stage (x3)."""
    stages = suite.stages
    weight = 1.0
    made = {k for past in history for k in _top_kinds(past.spec.returns)}
    if any(not world.values(k) for k in _top_kinds(tool.spec.returns) - made):
        weight *= 10.0
    if not chosen:
        return weight * (3.0 if stages and tool.stage == stages[0] else 1.0)
    kinds = {tool.spec.properties[p].get(KIND_KEY) for p in tool.spec.required} - {None}
    if any(not world.values(k) and latest_of_kind(history, k) is not None for k in kinds):
        weight *= 3.0
    if stages and stages.index(tool.stage) >= stages.index(chosen[-1].stage):
        weight *= 2.0
    return weight


def _top_kinds(schema: dict[str, Any] | None) -> set[str]:
    """Kinds of the top-level fields of an object schema (what a tool creates or returns by id, not lists)."""
    props = (schema or {}).get("properties", {})
    return {p[KIND_KEY] for p in props.values() if KIND_KEY in p}


def _fits(tool: SuiteTool, history: list[PastCall], world: Any, must_link: bool) -> bool:
    """Every required parameter can be bound, and (after the first step) one is fed by an earlier output."""
    linked = False
    for name in tool.spec.required:
        schema = tool.spec.properties[name]
        kind = schema.get(KIND_KEY)
        if kind and latest_of_kind(history, kind) is not None:
            linked = True
        elif sample_value(schema, world, random.Random(0)) is UNSAMPLEABLE:
            return False
    return linked or not must_link


def replay(
    tools: Sequence[SuiteTool], slots: dict[str, Any], call: Callable[[str, dict[str, Any]], Any]
) -> tuple[list[ToolCall], list[Any]]:
    """Bind and run `tools` in order with `slots`; `call(name, resolved_arguments)` raises `ToolError` on failure."""
    history: list[PastCall] = []
    calls: list[ToolCall] = []
    outputs: list[Any] = []
    for tool in tools:
        arguments = bind_arguments(tool.spec, slots, history)
        output = call(tool.name, resolve_arguments(arguments, outputs))
        calls.append(ToolCall.with_inferred_deps(tool.name, arguments))
        history.append(PastCall(tool.spec, True, output))
        outputs.append(output)
    return calls, outputs


def render_query(tools: Sequence[SuiteTool], calls: Sequence[ToolCall], chain_ends: Sequence[int]) -> str:
    """The task's text: one sub-question per call from the tool's question template, in order."""
    return render_query_spans(tools, calls, chain_ends)[0]


def render_query_spans(
    tools: Sequence[SuiteTool], calls: Sequence[ToolCall], chain_ends: Sequence[int]
) -> tuple[str, list[tuple[int, int]]]:
    """`render_query`'s text and each call's (start, end) character span (its sub-question, markers excluded)."""
    text, spans = "", []
    for i, (tool, call) in enumerate(zip(tools, calls, strict=True)):
        args = call.arguments or {}
        shown = {name: _render(value, tool, name) for name, value in args.items()}
        for name in tool.spec.required:
            shown.setdefault(name, name.replace("_", " "))
        part = tool.question.format(**shown)
        extras = [
            f"{k.replace('_', ' ')} {shown[k]}"
            for k in args
            if k not in tool.spec.required and f"{{{k}}}" not in tool.question
        ]
        if extras:
            part += " (" + ", ".join(extras) + ")"
        opener = "First, " if i == 0 else ("Finally, " if i == len(calls) - 1 else "Then ")
        if i > 0 and i - 1 in chain_ends:
            opener = "Separately, "
        text += (" " if i else "") + opener
        spans.append((len(text), len(text) + len(part)))
        text += part if part.endswith((".", "?")) else part + "."
    return text, spans


def _render(value: Any, tool: SuiteTool, name: str) -> str:
    if is_result_ref(value):
        kind = tool.spec.properties[name].get(KIND_KEY) or name
        return f"the {kind.replace('_', ' ')} from step {value[REF_KEY] + 1}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
