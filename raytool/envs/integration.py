"""Function integration: find tools of a suite whose functionality overlaps, by running them, and merge them.

Tools are grouped by the signature of their required parameters (their kinds, else their types). Random
walks of composed chains run on fresh worlds; at the start of a walk (groups whose inputs the world lists)
and after each call that creates a new id (groups that take it), every tool of the group runs on a copy of
the same world state with the same inputs. A pair overlaps when one output subsumes the other (every field
of the smaller equals the larger's) on at least `min_agreements` inputs and never disagrees (inputs both
reject with the same error count neither way). The tool with the richer output is kept; the other is
merged away and reported (`Merge`).
"""

from __future__ import annotations

import copy
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from raytool.envs.binder import PastCall, bind_arguments, latest_of_kind, resolve_arguments, resolve_path
from raytool.envs.compose import UNSAMPLEABLE, grow_chain, param_level_type, sample_value
from raytool.envs.docgen import KIND_KEY
from raytool.envs.suite import SuiteTool, ToolError, ToolSuite
from raytool.tools.call import REF_KEY


@dataclass(frozen=True)
class Merge:
    """`merged` is folded into `kept`: same inputs, and `kept`'s output subsumes `merged`'s on all samples."""

    suite: str
    kept: str
    merged: str
    agreements: int

    def to_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "kept": self.kept, "merged": self.merged, "agreements": self.agreements}


def signature(tool: SuiteTool) -> tuple[str, ...]:
    """Sorted kinds (or level types) of the required parameters."""
    props = tool.spec.properties
    return tuple(sorted(_element(props[p]) for p in tool.spec.required))


def find_overlaps(
    suite: ToolSuite, seed: int = 0, walks: int = 100, min_agreements: int = 5, world_walks: int = 20
) -> list[Merge]:
    """Overlapping pairs of `suite` (module docstring); a tool is merged away at most once."""
    groups: dict[tuple[str, ...], list[SuiteTool]] = defaultdict(list)
    for tool in suite.tools.values():
        groups[signature(tool)].append(tool)
    groups = {sig: tools for sig, tools in groups.items() if len(tools) > 1}
    if not groups:
        return []
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (a, b) -> [agree, disagree]
    rng = random.Random(seed)
    tools = list(suite.tools.values())
    for walk in range(walks):
        world_seed = rng.randrange(2**31)
        slots: dict[str, Any] = {}
        chain = grow_chain(suite, tools, suite.make_world(world_seed), rng.randint(1, 7), 0.0, rng, slots) or []
        world, history, outputs = suite.make_world(world_seed), [], []
        if walk < world_walks:
            for sig, members in groups.items():
                if all(world.values(k) or k in _TYPES for k in sig):
                    _compare(suite, members, world, history, rng, tally)
        for tool in chain:
            arguments = resolve_arguments(bind_arguments(tool.spec, slots, history), outputs)
            try:
                output = suite.call(world, tool.name, arguments)
            except ToolError:
                break
            history.append(PastCall(tool.spec, True, output))
            outputs.append(output)
            created = {s.get(KIND_KEY) for s in (tool.spec.returns or {}).get("properties", {}).values()}
            created = {k for k in created if k and not world.values(k)}
            for sig, members in groups.items():
                if created & set(sig):
                    _compare(suite, members, world, history, rng, tally)
    return _merges(suite, tally, min_agreements)


_TYPES = ("string", "integer", "number", "boolean", "enum", "array", "object")


def _element(schema: dict[str, Any]) -> str:
    return schema.get(KIND_KEY) or param_level_type(schema)


def _compare(suite: ToolSuite, members: list[SuiteTool], world: Any, history: list[PastCall], rng, tally) -> None:
    """Run every member on a copy of `world` with shared inputs; tally agreement of each pair."""
    values: dict[str, list[Any]] = {}
    for name in members[0].spec.required:
        schema = members[0].spec.properties[name]
        element = _element(schema)
        ref = latest_of_kind(history, element) if KIND_KEY in schema else None
        value = resolve_path(history[ref[REF_KEY]].output, ref["path"]) if ref else sample_value(schema, world, rng)
        if value is UNSAMPLEABLE:
            return
        values.setdefault(element, []).append(value)
    results = {}
    for tool in members:
        pool = {k: list(v) for k, v in values.items()}
        arguments = {p: pool[_element(tool.spec.properties[p])].pop(0) for p in tool.spec.required}
        try:
            results[tool.name] = ("ok", suite.call(copy.deepcopy(world), tool.name, arguments))
        except ToolError as err:
            results[tool.name] = ("error", err.code)
    for a, b in itertools.combinations(sorted(results), 2):
        ra, rb = results[a], results[b]
        if ra[0] == rb[0] == "error" and ra[1] == rb[1]:
            continue  # both rejected the input alike: no evidence either way
        tally[(a, b)][0 if _subsumes(ra, rb) or _subsumes(rb, ra) else 1] += 1


def _merges(suite: ToolSuite, tally, min_agreements: int) -> list[Merge]:
    merges, gone = [], set()
    for (a, b), (agree, disagree) in sorted(tally.items()):
        if agree >= min_agreements and not disagree:
            kept, merged = (a, b) if _richness(suite.tools[a]) >= _richness(suite.tools[b]) else (b, a)
            if kept not in gone and merged not in gone:
                merges.append(Merge(suite.name, kept, merged, agree))
                gone.add(merged)
    return merges


def _subsumes(big: Any, small: Any) -> bool:
    """Both succeeded and every field of `small` equals `big`'s (dicts), or the outputs are equal."""
    if big[0] != "ok" or small[0] != "ok":
        return False
    a, b = big[1], small[1]
    if isinstance(a, dict) and isinstance(b, dict):
        return all(k in a and a[k] == v for k, v in b.items())
    return a == b


def _richness(tool: SuiteTool) -> int:
    return len((tool.spec.returns or {}).get("properties", {}))
