"""ToolSpec, ToolCall and Task: validation, OpenAI shapes, and lossless dict round trips."""

from __future__ import annotations

import json

import pytest

from raytool.tools import FieldError, Task, ToolCall, ToolSpec, result_ref

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather in a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
    returns={"type": "object", "properties": {"temp_c": {"type": "number"}}},
    domain="travel",
)


def test_toolspec_openai_shape_and_round_trip() -> None:
    entry = WEATHER.to_openai()
    assert entry["type"] == "function"
    assert entry["function"]["name"] == "get_weather"
    assert entry["function"]["parameters"]["required"] == ["city"]
    assert ToolSpec.from_dict(WEATHER.to_dict()) == WEATHER
    assert ToolSpec.from_dict(json.loads(json.dumps(entry))).parameters == WEATHER.parameters
    assert WEATHER.required == ["city"]


def test_toolspec_openai_name_is_sanitised() -> None:
    spec = ToolSpec(name="requestFirst Aid Assistance", description="")
    assert spec.openai_name == "requestFirst_Aid_Assistance"
    assert spec.to_dict()["name"] == "requestFirst Aid Assistance"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 3}, "name"),
        ({"parameters": {"type": "array"}}, "parameters.type"),
        ({"parameters": {"type": "object", "properties": {"a": {"type": "str"}}}}, "parameters.properties.a.type"),
        ({"parameters": {"type": "object", "properties": {}, "required": ["x"]}}, "parameters.required[0]"),
        ({"description": None}, "description"),
    ],
)
def test_toolspec_rejects_malformed_fields(kwargs: dict, field: str) -> None:
    base = {"name": "t", "description": "d"} | kwargs
    with pytest.raises(FieldError) as info:
        ToolSpec(**base)
    assert info.value.field == field


def test_toolcall_reference_needs_dependency() -> None:
    call = ToolCall.with_inferred_deps("b", {"x": result_ref(0, "temp_c"), "y": [1, {"z": result_ref(2)}]})
    assert call.depends_on == (0, 2)
    with pytest.raises(FieldError, match="depends_on"):
        ToolCall("b", {"x": result_ref(1)})
    assert ToolCall.from_dict(call.to_dict()) == call


def test_toolcall_openai_shape() -> None:
    shape = ToolCall("get_weather", {"city": "Paris"}).to_openai("call_0")
    assert shape["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_task_validates_dependency_order_and_candidates() -> None:
    first = ToolCall("get_weather", {"city": "Paris"})
    second = ToolCall.with_inferred_deps("get_weather", {"city": result_ref(0, "city")})
    task = Task(
        id="t1",
        query="weather twice",
        calls=(first, second),
        tools=("get_weather",),
        answer={"ok": 1},
        env={"suites": ["x"], "world_seed": 3},
    )
    assert Task.from_dict(json.loads(json.dumps(task.to_dict()))) == task
    with pytest.raises(FieldError, match="not earlier calls"):
        Task(id="t2", query="q", calls=(ToolCall("a", {"x": result_ref(0)}, (0,)),))
    with pytest.raises(FieldError) as info:
        Task(id="t3", query="q", calls=(first,), tools=("other",))
    assert info.value.field == "calls[0].name"
    with pytest.raises(FieldError, match="empty query"):
        Task(id="t4", query="  ")


def test_task_from_dict_names_nested_field() -> None:
    with pytest.raises(FieldError) as info:
        Task.from_dict({"id": "x", "query": "q", "calls": [{"name": "a", "arguments": []}]})
    assert info.value.field == "calls[0].arguments"
    assert "expected dict or NoneType, got list" in str(info.value)
