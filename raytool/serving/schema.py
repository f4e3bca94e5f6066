"""The HTTP API's request and response bodies (pydantic): what a client may send, what the router returns.

Limits are part of the schema so that oversized input is a 422 naming the field, not work for the proxies.
Tool calls come back in the OpenAI tool-call shape: {"id", "type": "function", "function": {"name", "arguments"}}
with `arguments` a JSON string.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_QUERY_CHARS = 4000
MAX_TOOLS = 256


class ToolIn(BaseModel):
    """A tool of a client-supplied catalogue: the OpenAI tools entry `{"type": "function", "function": {name,
    description, parameters}}` as clients send it to chat completions, or its flattened `{name, description,
    parameters}`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = Field("", max_length=2000)
    parameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _unwrap_openai(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("type") == "function" and set(value) == {"type", "function"}:
            return value["function"]
        return value


class SolveOptions(BaseModel):
    """execute: return each call's status and output (calls run on the executable suites either way: the decider
    chains on their outputs). planner: when to ask the teacher to decompose (`raytool.planner.planner`; by
    default `auto` on servers with a planner, `never` otherwise).
    world_seed: the suites' world for bare requests. timeout_s: the request's budget inside the router."""

    model_config = ConfigDict(extra="forbid")

    execute: bool = False
    planner: Literal["never", "auto", "always"] | None = None  # None: auto with a served planner, else never
    world_seed: int = Field(0, ge=0, le=2**31 - 1)
    timeout_s: float = Field(30.0, gt=0, le=120)


class SolveRequest(BaseModel):
    """A task: the query, optionally a domain to send it to whole, optionally the client's own tool catalogue."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    domain: str | None = Field(None, min_length=1, max_length=64)
    tools: list[ToolIn] | None = Field(None, min_length=1, max_length=MAX_TOOLS)
    options: SolveOptions = Field(default_factory=SolveOptions)

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the query is blank")
        return value


class FunctionCall(BaseModel):
    name: str
    arguments: str  # JSON


class OpenAIToolCall(BaseModel):
    """A call in the OpenAI chat-completions `tool_calls` shape (not `raytool.tools.call.ToolCall`, the project's own
    call record)."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ExecutedCall(BaseModel):
    """With `options.execute`: a call's status and output on the request's simulated world."""

    id: str
    status: str
    output: Any = None


class MissingValues(BaseModel):
    """A call made without required values the request does not give: reported, never invented."""

    id: str
    parameters: list[str]


class SolveResponse(BaseModel):
    """The `/v1/solve` answer (`results` only with `options.execute`; `request_id` added by the router)."""

    tool_calls: list[OpenAIToolCall]
    domains: list[str]
    plan: str
    missing: list[MissingValues] = []
    no_tool: bool = False
    results: list[ExecutedCall] | None = None
    timings: dict[str, float]
    request_id: str | None = None
