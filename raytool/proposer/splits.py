"""Held-out-field splits: test tasks whose tools never appear in training.

The catalogue's fields (the top level of a tool's domain, e.g. "Chemical Engineering" of
"Chemical Engineering/Forensic engineering") are shuffled with a seed and held out one by one until they hold
`held_out_fraction` of the tools. Test tasks are those whose gold tools all lie in held-out fields; training
tasks those whose gold tools all lie in kept fields; tasks that mix both are dropped. The test queries are then
ranked against the *whole* catalogue, so the proposer must find tools of fields it never trained on among
thousands it did.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


@dataclass(frozen=True)
class FieldSplit:
    train: list[Task]
    test: list[Task]
    held_out_fields: tuple[str, ...]
    held_out_tools: int
    dropped: int


def top_field(spec: ToolSpec) -> str:
    return spec.domain.split("/")[0].strip() or "(none)"


def field_split(
    tasks: Sequence[Task], catalogue: dict[str, ToolSpec], held_out_fraction: float = 0.3, seed: int = 0
) -> FieldSplit:
    """Split `tasks` by the fields of their gold tools (module docstring)."""
    if not 0 < held_out_fraction < 1:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    sizes = Counter(top_field(s) for s in catalogue.values())
    fields = sorted(sizes)
    random.Random(seed).shuffle(fields)
    held: list[str] = []
    while sum(sizes[f] for f in held) < held_out_fraction * len(catalogue):
        held.append(fields[len(held)])
    held_set = set(held)
    train, test, dropped = [], [], 0
    for task in tasks:
        inside = {top_field(catalogue[n]) in held_set for n in task.tool_names}
        if inside == {True}:
            test.append(task)
        elif inside == {False}:
            train.append(task)
        else:
            dropped += 1
    return FieldSplit(train, test, tuple(sorted(held)), sum(sizes[f] for f in held), dropped)
