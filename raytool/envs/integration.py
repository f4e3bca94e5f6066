"""Function integration: find tools of a suite whose functionality overlaps, by running them, and merge them.

Two tools are candidates when their required parameters have the same signature (kinds, else types). Random
walks of composed chains run on fresh worlds; whenever one candidate runs, its partner runs on a copy of
the same world state with the same arguments. A pair overlaps when on every such input both succeed and one
output subsumes the other (every field of the smaller equals the larger's), with at least `min_agreements`
agreeing inputs (inputs both reject with the same error count neither way). The tool with the richer output
is kept; the other is merged away and reported (`Merge`).
"""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from raytool.envs.binder import PastCall, bind_arguments, resolve_arguments
from raytool.envs.compose import grow_chain, param_level_type
from raytool.envs.docgen import KIND_KEY
from raytool.envs.suite import SuiteTool, ToolError, ToolSuite


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
    return tuple(sorted(props[p].get(KIND_KEY) or param_level_type(props[p]) for p in tool.spec.required))


def find_overlaps(suite: ToolSuite, seed: int = 0, walks: int = 300, min_agreements: int = 3) -> list[Merge]:
    """Overlapping pairs of `suite` (module docstring), merged away tools never kept twice."""
    groups: dict[tuple[str, ...], list[SuiteTool]] = defaultdict(list)
    for tool in suite.tools.values():
        groups[signature(tool)].append(tool)
    partners = {t.name: [p for p in g if p is not t] for g in groups.values() if len(g) > 1 for t in g}
    if not partners:
        return []
    agree: dict[tuple[str, str], int] = defaultdict(int)
    disagree: dict[tuple[str, str], int] = defaultdict(int)
    tools = list(suite.tools.values())
    rng = random.Random(seed)
    for _ in range(walks):
        world_seed = rng.randrange(2**31)
        slots: dict[str, Any] = {}
        chain = grow_chain(suite, tools, suite.make_world(world_seed), rng.randint(1, 5), 0.0, rng, slots)
        if chain:
            _compare_along(suite, chain, slots, suite.make_world(world_seed), partners, agree, disagree)
    merges, gone = [], set()
    for (a, b), n in sorted(agree.items()):
        if n >= min_agreements and not disagree[(a, b)] and not disagree[(b, a)] and a < b:
            kept, merged = (a, b) if _richness(suite.tools[a]) >= _richness(suite.tools[b]) else (b, a)
            if kept not in gone and merged not in gone:
                merges.append(Merge(suite.name, kept, merged, n + agree.get((b, a), 0)))
                gone.add(merged)
    return merges


def _compare_along(suite, chain, slots, world, partners, agree, disagree) -> None:
    history: list[PastCall] = []
    outputs: list[Any] = []
    for tool in chain:
        arguments = resolve_arguments(bind_arguments(tool.spec, slots, history), outputs)
        for partner in partners.get(tool.name, []):
            mapped = _map_arguments(tool, partner, arguments)
            if mapped is None:
                continue
            mine, theirs = (
                _run(suite, copy.deepcopy(world), tool, arguments),
                _run(suite, copy.deepcopy(world), partner, mapped),
            )
            key = (tool.name, partner.name)
            if mine[0] == theirs[0] == "error" and mine[1] == theirs[1]:
                continue  # both rejected the input alike: no evidence either way
            if _subsumes(mine, theirs) or _subsumes(theirs, mine):
                agree[key] += 1
            else:
                disagree[key] += 1
        try:
            output = suite.call(world, tool.name, arguments)
        except ToolError:
            return
        history.append(PastCall(tool.spec, True, output))
        outputs.append(output)


def _map_arguments(tool: SuiteTool, partner: SuiteTool, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """The partner's required arguments, matched to `tool`'s by signature element in order."""
    pool: dict[str, list[Any]] = defaultdict(list)
    for name in tool.spec.required:
        schema = tool.spec.properties[name]
        pool[schema.get(KIND_KEY) or param_level_type(schema)].append(arguments.get(name))
    mapped = {}
    for name in partner.spec.required:
        schema = partner.spec.properties[name]
        values = pool.get(schema.get(KIND_KEY) or param_level_type(schema))
        if not values:
            return None
        mapped[name] = values.pop(0)
    return mapped


def _run(suite: ToolSuite, world: Any, tool: SuiteTool, arguments: dict[str, Any]) -> Any:
    try:
        return ("ok", suite.call(world, tool.name, arguments))
    except ToolError as err:
        return ("error", err.code)


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
