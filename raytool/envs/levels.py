"""Complexity levels of generated tasks (the build pipeline's complexity-scaling step).

| level | calls per task | required parameter types          | output nesting | optional args | distractors | domains |
|-------|----------------|-----------------------------------|----------------|---------------|-------------|---------|
| 1     | 1              | string, integer                   | depth <= 2     | never         | 0           | 1       |
| 2     | 2-3            | + number, boolean, enums          | depth <= 2     | 30%           | 0           | 1       |
| 3     | 3-4            | + arrays, objects                 | any (nested)   | 50%           | 10          | 1       |
| 4     | 4-6            | all                               | any (nested)   | 50%           | 20          | 2       |

Output depth: a scalar is 0, a flat object 1, an object holding a list of scalars 2, a list of objects 3+.
Distractors are tools of other suites added to a task's pool; level 4 tasks span two suites (two chains).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LevelSpec:
    """One row of the table in the module docstring."""

    level: int
    min_calls: int
    max_calls: int
    param_types: frozenset[str]
    max_output_depth: int
    optional_rate: float
    distractors: int
    domains: int


_BASIC = frozenset({"string", "integer"})
_SCALAR = _BASIC | {"number", "boolean", "enum"}
_ALL = _SCALAR | {"array", "object"}
LEVELS = {
    1: LevelSpec(1, 1, 1, _BASIC, 2, 0.0, 0, 1),
    2: LevelSpec(2, 2, 3, _SCALAR, 2, 0.3, 0, 1),
    3: LevelSpec(3, 3, 4, _ALL, 99, 0.5, 10, 1),
    4: LevelSpec(4, 4, 6, _ALL, 99, 0.5, 20, 2),
}


def level_spec(level: int) -> LevelSpec:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level}; levels are {sorted(LEVELS)}")
    return LEVELS[level]


def schema_depth(schema: dict[str, Any] | None) -> int:
    """Nesting depth of a JSON schema (module docstring)."""
    if not schema:
        return 0
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        return 1 + max((schema_depth(p) for p in props.values()), default=0)
    if schema.get("type") == "array":
        return 1 + schema_depth(schema.get("items"))
    return 0
