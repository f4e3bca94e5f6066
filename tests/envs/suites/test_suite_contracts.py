"""Contracts every executable suite of this folder keeps: documentation, bindable parameters, composable chains,
determinism, planted overlaps only, unique names. Suite-specific behaviour lives in test_<suite>.py."""

from __future__ import annotations

import copy
import importlib
import json
import random
from typing import Any

import pytest

from raytool.envs.compose import grow_chain, replay
from raytool.envs.docgen import KIND_KEY
from raytool.envs.integration import find_overlaps
from raytool.envs.levels import schema_depth
from raytool.envs.suite import ToolSuite
from raytool.envs.suites import get_suite

SUITES = ("travel", "finance")


def produced_kinds(schema: dict[str, Any] | None) -> set[str]:
    """Kinds of the fields anywhere inside a result schema."""
    if not schema:
        return set()
    kinds = {schema[KIND_KEY]} if KIND_KEY in schema else set()
    for child in schema.get("properties", {}).values():
        kinds |= produced_kinds(child)
    return kinds | produced_kinds(schema.get("items"))


def grow(suite: ToolSuite, seed: int, length: int, optional_rate: float, rng: random.Random):
    slots: dict[str, Any] = {}
    chain = grow_chain(suite, list(suite.tools.values()), suite.make_world(seed), length, optional_rate, rng, slots)
    return chain, slots


@pytest.fixture(params=SUITES)
def suite(request) -> ToolSuite:
    return get_suite(request.param)


def test_suite_shape(suite: ToolSuite) -> None:
    package = importlib.import_module(f"raytool.envs.suites.{suite.name}")
    assert package.SUITE is suite and suite.domain == suite.name
    assert 22 <= len(suite.tools) <= 30
    assert len(suite.stages) == 4 and {t.stage for t in suite.tools.values()} == set(suite.stages)
    assert len(package.PLANTED_OVERLAPS) == 2
    for kept, merged in package.PLANTED_OVERLAPS:
        assert kept in suite.tools and merged in suite.tools


def test_every_tool_and_parameter_is_documented(suite: ToolSuite) -> None:
    for tool in suite.tools.values():
        spec = tool.spec
        assert spec.description and spec.description[0].isupper() and spec.domain == suite.domain, spec.name
        for name, schema in spec.properties.items():
            assert schema.get("description"), f"{spec.name}.{name} has no description"
        for name in spec.required:
            assert "{" + name + "}" in tool.question, f"{spec.name}: question lacks required {name}"
        tool.question.format(**{name: "x" for name in spec.required})  # only required parameters are named
        assert spec.returns and spec.returns["type"] == "object" and spec.returns["properties"], spec.name


def test_required_parameters_can_be_sampled_or_produced(suite: ToolSuite) -> None:
    world = suite.make_world(0)
    produced = set().union(*(produced_kinds(t.spec.returns) for t in suite.tools.values()))
    for tool in suite.tools.values():
        for name in tool.spec.required:
            schema = tool.spec.properties[name]
            kind = schema.get(KIND_KEY)
            if kind:
                assert world.values(kind) or kind in produced, f"{tool.name}.{name}: kind {kind} has no source"
            elif "enum" not in schema and schema["type"] in ("integer", "number"):
                assert "minimum" in schema and "maximum" in schema, f"{tool.name}.{name} needs a Range"
            else:
                assert "enum" in schema or schema["type"] == "boolean", f"{tool.name}.{name} cannot be sampled"


def test_kinds_only_tools_create_are_not_listed(suite: ToolSuite) -> None:
    world = suite.make_world(0)
    produced_only = {
        "travel": ["fare_id", "booking_id", "reservation_id", "rental_id", "seat_number"],
        "finance": ["order_id", "transfer_id", "loan_quote_id", "loan_id"],
    }[suite.name]
    produced = set().union(*(produced_kinds(t.spec.returns) for t in suite.tools.values()))
    for kind in produced_only:
        assert kind in produced and world.values(kind) == []
    assert world.values("no_such_kind") == []
    kinds = {s.get(KIND_KEY) for t in suite.tools.values() for s in t.spec.properties.values()} - {None}
    for kind in kinds - set(produced_only):
        listed = world.values(kind)
        assert listed and listed == sorted(listed), kind


def test_parameters_of_one_name_share_one_schema(suite: ToolSuite) -> None:
    """Task slots are keyed by parameter name, so a name must mean the same values in every tool."""
    seen: dict[str, tuple[str, dict]] = {}
    for tool in suite.tools.values():
        for name, schema in tool.spec.properties.items():
            shape = {k: v for k, v in schema.items() if k not in ("description", "default")}
            first = seen.setdefault(name, (tool.name, shape))
            assert first[1] == shape, f"{name}: {first[0]} and {tool.name} disagree"


def test_types_cover_floats_bools_lists_enums_and_nested_results(suite: ToolSuite) -> None:
    params = [s for t in suite.tools.values() for s in t.spec.properties.values()]
    for json_type in ("number", "boolean", "array", "integer"):
        assert any(s["type"] == json_type for s in params), json_type
    assert any("enum" in s for s in params)
    nested = [t.name for t in suite.tools.values() if schema_depth(t.spec.returns) >= 3]
    assert len(nested) >= 6, nested


def test_random_chains_compose_and_replay_deterministically(suite: ToolSuite) -> None:
    rng = random.Random(11)
    attempts, grown, covered = 0, 0, set()
    for _ in range(60):
        seed, length = rng.randrange(1000), rng.randint(4, 6)
        chain, slots = grow(suite, seed, length, 0.4, rng)
        attempts += 1
        if chain is None:
            continue
        grown += 1
        covered |= {t.name for t in chain}
        runs = []
        for _ in range(2):
            world = suite.make_world(seed)
            runs.append(replay(chain, slots, lambda name, args, world=world: suite.call(world, name, args)))
        assert runs[0] == runs[1]
        assert json.loads(json.dumps(runs[0][1])) == runs[0][1]  # JSON-native outputs
        assert all(c.depends_on for c in runs[0][0][1:]), "every later call consumes an earlier output"
    assert grown / attempts >= 0.75, f"{grown}/{attempts} chains grew"
    assert len(covered) >= 0.7 * len(suite.tools), sorted(set(suite.tools) - covered)


def test_worlds_are_deterministic_and_deep_copyable(suite: ToolSuite) -> None:
    a, b, c = suite.make_world(5), suite.make_world(5), suite.make_world(6)
    assert a == b and a != c
    assert copy.deepcopy(a) == a


def test_planted_overlaps_are_the_only_overlaps(suite: ToolSuite) -> None:
    package = importlib.import_module(f"raytool.envs.suites.{suite.name}")
    merges = find_overlaps(suite, seed=3, walks=150)
    assert {(m.kept, m.merged) for m in merges} == set(package.PLANTED_OVERLAPS)


def test_tool_names_are_unique_across_suites() -> None:
    names = [name for suite_name in SUITES for name in get_suite(suite_name).tools]
    assert len(names) == len(set(names))
    assert all(name.isidentifier() and name.islower() for name in names)
