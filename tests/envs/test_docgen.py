"""Document generation from signatures, annotations and docstrings; argument checking of suite tools."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

import pytest

from raytool.envs.docgen import KIND_KEY, spec_from_function
from raytool.envs.suite import InvalidArgument, Kind, NotFound, Range, ToolSuite, raise_not_found


class Node(TypedDict):
    node_id: Annotated[str, Kind("node_id")]
    gpus: int


class NodeList(TypedDict):
    region: str
    nodes: list[Node]


demo = ToolSuite("demo", domain="demo", make_world=lambda seed: {"eu": [("n1", 4), ("n2", 0)]})


@demo.tool(stage="discovery", question="list the nodes in {region} with at least {min_gpus} GPUs")
def list_nodes(
    world: dict,
    region: Annotated[str, Kind("region")],
    min_gpus: Annotated[int, Range(0, 8)] = 0,
    sort: Literal["gpus", "name"] = "name",
    tags: list[str] | None = None,
) -> NodeList:
    """List the compute nodes of a region.

    Longer explanation that is not part of the description.

    Args:
        region: region code, e.g. "eu".
        min_gpus: smallest number of free GPUs
            a node must have.
        sort: result order.
    """
    nodes = world.get(region) or raise_not_found("region", region)
    return {"region": region, "nodes": [{"node_id": n, "gpus": g} for n, g in nodes if g >= min_gpus]}


def test_spec_is_generated_from_the_implementation() -> None:
    spec = demo.tools["list_nodes"].spec
    assert spec.description == "List the compute nodes of a region."
    props = spec.parameters["properties"]
    assert spec.required == ["region"]
    assert props["region"] == {"type": "string", KIND_KEY: "region", "description": 'region code, e.g. "eu".'}
    assert props["min_gpus"]["minimum"] == 0 and props["min_gpus"]["maximum"] == 8 and props["min_gpus"]["default"] == 0
    assert props["min_gpus"]["description"] == "smallest number of free GPUs a node must have."
    assert props["sort"]["enum"] == ["gpus", "name"]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    node = spec.returns["properties"]["nodes"]["items"]
    assert node["properties"]["node_id"][KIND_KEY] == "node_id"
    assert spec.returns["required"] == ["nodes", "region"]


def test_call_checks_arguments_and_runs() -> None:
    world = demo.make_world(0)
    out = demo.call(world, "list_nodes", {"region": "eu", "min_gpus": 1})
    assert out == {"region": "eu", "nodes": [{"node_id": "n1", "gpus": 4}]}
    for bad in (
        {},
        {"region": 3},
        {"region": "eu", "min_gpus": 9},
        {"region": "eu", "sort": "size"},
        {"region": "eu", "x": 1},
    ):
        with pytest.raises(InvalidArgument):
            demo.call(world, "list_nodes", bad)
    with pytest.raises(NotFound, match="no region 'us'"):
        demo.call(world, "list_nodes", {"region": "us"})


def test_registration_errors() -> None:
    def undocumented(world: dict, x: int) -> int:
        return x

    with pytest.raises(ValueError, match="needs a docstring"):
        spec_from_function(undocumented)
    with pytest.raises(ValueError, match="unknown parameters"):
        demo.tool(stage="discovery", question="use {y}")(_other)
    with pytest.raises(ValueError, match="unknown stage"):
        ToolSuite("staged", "d", dict, stages=("a",)).tool(stage="b", question="use {x}")(_other)


def _other(world: dict, x: int) -> int:
    """Other tool."""
    return x
