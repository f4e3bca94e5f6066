"""`Task`: a query, the tools it may use, and the gold calls in order with their dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from raytool.tools.call import ToolCall
from raytool.tools.errors import FieldError, expect_type, require

_FIELDS = {"id", "query", "calls", "tools", "domain", "difficulty", "ordered", "answer", "source", "env"}


@dataclass(frozen=True)
class Task:
    """One tool-use task.

    id: unique within a dataset.
    query: the user's request.
    calls: gold calls in order; call i may depend only on calls j < i.
    tools: the candidate list offered with this task; () means the dataset's whole tool catalogue.
    domain: the task's field or category ("" when unknown).
    difficulty: the source's label ("easy", "difficult", "single", "multi", "level-3", ...).
    ordered: whether the order of `calls` matters (False for unordered gold sets such as ToolBench's
        relevant APIs or MetaTool's multi-tool queries).
    answer: an optional checkable final answer (JSON-native), for executable suites.
    source: the dataset the task came from.
    env: for executable tasks, how to rebuild the world the gold calls run on
        (`{"suites": ["cpn"], "world_seed": 7}`); None for dataset tasks.
    """

    id: str
    query: str
    calls: tuple[ToolCall, ...] = ()
    tools: tuple[str, ...] = ()
    domain: str = ""
    difficulty: str = ""
    ordered: bool = True
    answer: Any = None
    source: str = ""
    env: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        expect_type(self.id, str, "id")
        if not self.id:
            raise FieldError("id", "empty task id")
        expect_type(self.query, str, "query")
        if not self.query.strip():
            raise FieldError("query", "empty query")
        expect_type(self.calls, tuple, "calls")
        expect_type(self.tools, tuple, "tools")
        for key in ("domain", "difficulty", "source"):
            expect_type(getattr(self, key), str, key)
        expect_type(self.ordered, bool, "ordered")
        if self.env is not None:
            expect_type(self.env, dict, "env")
        for i, call in enumerate(self.calls):
            expect_type(call, ToolCall, f"calls[{i}]")
            late = [d for d in call.depends_on if not 0 <= d < i]
            if late:
                raise FieldError(f"calls[{i}].depends_on", f"calls {late} are not earlier calls (0..{i - 1})")
        if self.tools:
            offered = set(self.tools)
            for i, call in enumerate(self.calls):
                if call.name not in offered:
                    raise FieldError(
                        f"calls[{i}].name", f"unknown tool {call.name!r} (not among the task's tools)", "unknown_tool"
                    )

    @property
    def tool_names(self) -> list[str]:
        """Names of the gold tools, in call order, without repeats."""
        return list(dict.fromkeys(call.name for call in self.calls))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "query": self.query, "calls": [c.to_dict() for c in self.calls]}
        if self.tools:
            out["tools"] = list(self.tools)
        for key in ("domain", "difficulty", "source"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if not self.ordered:
            out["ordered"] = False
        if self.answer is not None:
            out["answer"] = self.answer
        if self.env is not None:
            out["env"] = self.env
        return out

    @classmethod
    def from_dict(cls, record: Any) -> Task:
        expect_type(record, dict, "")
        unknown = set(record) - _FIELDS
        if unknown:
            raise FieldError(sorted(unknown)[0], "unknown field of a task")
        raw_calls = require(record, "calls", list)
        calls = []
        for i, raw in enumerate(raw_calls):
            try:
                calls.append(ToolCall.from_dict(raw))
            except FieldError as err:
                raise err.nested(f"calls[{i}]") from None
        tools = record.get("tools", [])
        expect_type(tools, list, "tools")
        for i, name in enumerate(tools):
            expect_type(name, str, f"tools[{i}]")
        return cls(
            id=require(record, "id", str),
            query=require(record, "query", str),
            calls=tuple(calls),
            tools=tuple(tools),
            domain=record.get("domain", ""),
            difficulty=record.get("difficulty", ""),
            ordered=record.get("ordered", True),
            answer=record.get("answer"),
            source=record.get("source", ""),
            env=record.get("env"),
        )
