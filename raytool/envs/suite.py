"""Executable tool suites: plain deterministic Python functions over a seeded world, registered with types.

A suite is a `ToolSuite` with a world factory (`seed -> world`) and tools declared by a decorator:

    finance = ToolSuite("finance", domain="finance", make_world=FinanceWorld.generate)

    @finance.tool(stage="market_data", question="what is the latest price of {ticker}")
    def get_quote(world: FinanceWorld, ticker: Annotated[str, Kind("ticker")]) -> Quote:
        '''Latest price of a listed stock.

        Args:
            ticker: exchange ticker symbol, e.g. "ACME".
        '''
        stock = world.stocks.get(ticker) or raise_not_found("ticker", ticker)
        return {"ticker": ticker, "price": stock.price}

Types carry meaning: `Annotated[str, Kind("ticker")]` says the value is a ticker, so an output field of kind
`ticker` can feed this parameter; `Range(lo, hi)` bounds a number. The tool's `ToolSpec` (its documentation)
is generated from the signature, the annotations and the docstring (`raytool.envs.docgen`). Tools raise
`ToolError` subclasses for realistic failures; results are JSON-native (TypedDicts, lists, numbers, strings).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from raytool.tools.spec import ToolSpec


@dataclass(frozen=True)
class Kind:
    """Semantic type of a value (`"node_id"`, `"city"`): outputs of a kind can feed parameters of that kind.

    The world must be able to list the existing values of a kind that tasks may mention
    (`world.values(kind)`), unless the kind is only ever produced by tools.
    """

    name: str


@dataclass(frozen=True)
class Range:
    """Inclusive bounds for a numeric parameter; task generation samples inside them."""

    lo: float
    hi: float


class ToolError(Exception):
    """A tool's documented failure; the executor turns it into an error observation."""

    code = "tool_error"


class NotFound(ToolError):
    code = "not_found"


class InvalidArgument(ToolError):
    code = "invalid_argument"


class QuotaExceeded(ToolError):
    code = "quota_exceeded"


class Conflict(ToolError):
    code = "conflict"


def raise_not_found(what: str, value: Any) -> Any:
    """Raise `NotFound` for `what` = `value` (usable in expressions: `x or raise_not_found(...)`)."""
    raise NotFound(f"no {what} {value!r}")


@dataclass(frozen=True)
class SuiteTool:
    """One executable tool: its function, generated spec, service stage and sub-question template."""

    fn: Callable[..., Any]
    spec: ToolSpec
    stage: str
    question: str
    suite: str

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class ToolSuite:
    """A named set of executable tools over one kind of world.

    name: suite id used on the CLI (`--suite cpn`).
    domain: the domain label its tasks and tools carry.
    make_world: `seed -> world`, deterministic; every task replays on a fresh world from its seed.
    stages: ordered service stages (documentation and task composition prefer this order).
    """

    name: str
    domain: str
    make_world: Callable[[int], Any]
    stages: tuple[str, ...] = ()
    tools: dict[str, SuiteTool] = field(default_factory=dict)

    def tool(self, stage: str, question: str, name: str | None = None) -> Callable[[Callable], Callable]:
        """Register a function as a tool of this suite (the function is returned unchanged)."""
        from raytool.envs.docgen import spec_from_function

        def register(fn: Callable) -> Callable:
            spec = spec_from_function(fn, name=name, domain=self.domain)
            if spec.name in self.tools:
                raise ValueError(f"suite {self.name!r}: tool {spec.name!r} is registered twice")
            if self.stages and stage not in self.stages:
                raise ValueError(f"suite {self.name!r}: tool {spec.name!r} has unknown stage {stage!r}")
            _check_question(spec, question)
            self.tools[spec.name] = SuiteTool(fn, spec, stage, question, self.name)
            return fn

        return register

    def call(self, world: Any, name: str, arguments: dict[str, Any]) -> Any:
        """Run tool `name` on `world` after checking `arguments` against its spec (see `check_arguments`)."""
        tool = self.tools.get(name)
        if tool is None:
            raise NotFound(f"suite {self.name!r} has no tool {name!r}")
        check_arguments(tool.spec, arguments)
        return tool.fn(world, **arguments)


_JSON_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def check_arguments(spec: ToolSpec, arguments: dict[str, Any], unchecked: Collection[str] = ()) -> None:
    """Raise `InvalidArgument` for unknown, missing required, wrongly typed or out-of-enum arguments.

    Keys in `unchecked` count as present but their values are not checked (unresolved result references).
    """
    props = spec.properties
    for key, value in arguments.items():
        if key not in props:
            raise InvalidArgument(f"{spec.name}: unknown argument {key!r}")
        if key in unchecked:
            continue
        schema = props[key]
        check = _JSON_CHECKS.get(schema.get("type", ""))
        if check is not None and not check(value):
            raise InvalidArgument(f"{spec.name}: argument {key!r} must be {schema['type']}, got {type(value).__name__}")
        if "enum" in schema and value not in schema["enum"]:
            raise InvalidArgument(f"{spec.name}: argument {key!r} must be one of {schema['enum']}, got {value!r}")
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidArgument(f"{spec.name}: argument {key!r} must lie in [{low}, {high}], got {value!r}")
    missing = [p for p in spec.required if p not in arguments]
    if missing:
        raise InvalidArgument(f"{spec.name}: missing required argument(s) {missing}")


def _check_question(spec: ToolSpec, question: str) -> None:
    import string

    fields = {f for _, f, _, _ in string.Formatter().parse(question) if f}
    unknown = fields - set(spec.properties)
    if unknown:
        raise ValueError(f"tool {spec.name!r}: question template names unknown parameters {sorted(unknown)}")
