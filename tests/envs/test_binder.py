"""Resolving result references: values found along their paths, and a typed error naming the argument otherwise."""

from __future__ import annotations

import pytest

from raytool.envs.binder import (
    PastCall,
    UnresolvedReference,
    bind_arguments,
    kind_examples,
    resolve_arguments,
    same_shape,
    taken_as_other_kind,
    written_like_example,
)
from raytool.tools.call import result_ref
from raytool.tools.spec import ToolSpec

OUTPUTS = [{"booking": {"id": "B-7", "seats": [{"no": "12A"}]}}, None]


def test_references_resolve_along_their_paths_inside_lists_and_objects() -> None:
    arguments = {"id": result_ref(0, "booking.id"), "seat": {"first": result_ref(0, "booking.seats[0].no")},
                 "all": [result_ref(0, "booking")], "note": "keep"}  # fmt: skip
    assert resolve_arguments(arguments, OUTPUTS) == {
        "id": "B-7", "seat": {"first": "12A"}, "all": [OUTPUTS[0]["booking"]], "note": "keep"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"id": result_ref(0, "booking.code")}, "arguments.id", "has no field 'booking.code'"),
        ({"x": {"y": result_ref(0, "booking.seats[3].no")}}, "arguments.x.y", "has no field"),
        ({"id": result_ref(1, "id")}, "arguments.id", "call 1's output has no field 'id'"),  # a failed call: None
        ({"ids": [1, result_ref(5, "id")]}, "arguments.ids[1]", "refers to call 5; 2 calls"),
    ],
)
def test_a_reference_to_a_missing_output_field_is_a_typed_error_naming_the_argument(arguments, field, words) -> None:
    with pytest.raises(UnresolvedReference) as info:
        resolve_arguments(arguments, OUTPUTS)
    assert info.value.field == field and words in info.value.message
    assert isinstance(info.value, LookupError)  # rollouts count it as a malformed call


TICKER = {"type": "string", "x-kind": "ticker"}
SELL = ToolSpec("sell", "Sell shares", {"type": "object", "properties": {"ticker": TICKER}, "required": ["ticker"]})
POSITIONS = ToolSpec(
    "positions",
    "An account's positions",
    {"type": "object", "properties": {}},
    returns={"type": "object", "properties": {"positions": {"type": "array", "items": {
        "type": "object", "properties": {"ticker": TICKER}}}}},
)  # fmt: skip


def test_a_value_the_request_states_comes_before_an_earlier_outputs_field_of_its_kind_when_asked() -> None:
    """Predicted arguments (`stated_first`): "sell BLZE" after a positions lookup sells BLZE, not the account's first
    position; without a stated value ("sell it") the kind match still binds; gold slots keep the kind match first;
    a kind match on a single field (not into a list) still comes before a stated value."""
    history = [PastCall(POSITIONS, True, {"positions": [{"ticker": "KRNL"}]})]
    first = result_ref(0, "positions[0].ticker")
    assert bind_arguments(SELL, {"ticker": "BLZE"}, history) == {"ticker": first}
    assert bind_arguments(SELL, {"ticker": "BLZE"}, history, stated_first=True) == {"ticker": "BLZE"}
    assert bind_arguments(SELL, {}, history, stated_first=True) == {"ticker": first}
    quote = ToolSpec("quote", "A quote", {"type": "object", "properties": {}},
                     returns={"type": "object", "properties": {"ticker": TICKER}})  # fmt: skip
    single = [PastCall(quote, True, {"ticker": "ACME"})]
    assert bind_arguments(SELL, {"ticker": "BLZE"}, single, stated_first=True) == {"ticker": result_ref(0, "ticker")}


def test_a_stated_value_written_unlike_the_lists_value_is_a_misreading_and_the_earlier_output_wins() -> None:
    """The filler read a traveller id or a date where the request means an earlier list's first element ("the
    weather for the first of them", "a fare for the first flight"): the kind match binds, not the misreading."""
    history = [PastCall(POSITIONS, True, {"positions": [{"ticker": "KRNL"}]})]
    first = result_ref(0, "positions[0].ticker")
    assert bind_arguments(SELL, {"ticker": "tr-104"}, history, stated_first=True) == {"ticker": first}
    assert bind_arguments(SELL, {"ticker": "2025-09-29"}, history, stated_first=True) == {"ticker": first}
    assert bind_arguments(SELL, {"ticker": "ACME"}, history, stated_first=True) == {"ticker": "ACME"}


def test_values_of_the_same_shape() -> None:
    assert same_shape("BLZE", "KRNL") and same_shape("tr-104", "tr-1") and same_shape("Singapore", "Madrid")
    assert same_shape("eu-west", "ap-east") and same_shape(3, 4.5) and same_shape("BR176-2025-09-29", "AF1-2025-1-2")
    assert not same_shape("tr-104", "Singapore") and not same_shape("2025-09-29", "BR176-2025-09-29")
    assert not same_shape("network", "eu-west") and not same_shape("RTX Value", "RTXV") and not same_shape("3", 3)
    assert not same_shape(True, 1) and not same_shape(2, False) and not same_shape(None, "x")


def _described(example: str, **extra) -> dict:
    return {"type": "string", "description": f'the thing, e.g. "{example}".', **extra}


@pytest.mark.parametrize(
    ("value", "schema", "name", "plausible"),
    [
        ("bk-0042", _described("bk-0001"), "booking_id", True),  # a prefixed serial id: same prefix, any number
        ("BK-7", _described("bk-0001"), "booking_id", True),
        ("tr-103", _described("bk-0001"), "booking_id", False),  # a traveller id is no booking id
        ("cancel", _described("rsv-0001"), "reservation_id", False),
        ("fra-dc1-n02", _described("par-dc1-n01"), "node_id", True),  # an identifier mixing letters and digits
        ("kepler-institute", _described("par-dc1-n01"), "node_id", False),
        ("2025-07-07", _described("AT104-2025-03-10"), "flight_id", False),
        ("jupyter-datascience", _described("pytorch-2.3-cuda12"), "image", True),  # no identifier: free form
        ("KRNL", _described("ACME"), "ticker", True),  # a code in capitals
        ("Ion Battery", _described("ACME"), "ticker", False),
        ("New York", _described("Lisbon"), "city", True),  # a free-form example judges nothing
        ("A10G", _described("A100", enum=["A100", "A10G"]), "gpu_model", True),  # an enum is checked elsewhere
        ("anything", {"type": "string"}, "booking_id", True),  # no example: nothing to judge by
        ("tr-103", {"type": "string", "examples": ["bk-0001"]}, "booking_id", False),  # JSON Schema `examples`
        (7, _described("bk-0001"), "booking_id", True),  # not a string: the schema check's business
    ],
)
def test_a_stated_value_is_judged_by_its_parameters_documented_example(value, schema, name, plausible) -> None:
    assert written_like_example(value, schema, name=name) is plausible


def test_a_parameter_without_an_example_is_judged_by_its_kinds() -> None:
    """`kind_examples`: the first example any parameter of a kind documents serves the parameters of that kind that
    document none (`cancel_reservation`'s reservation_id is described "the reservation to cancel.")."""
    kind = "x-kind"
    specs = [
        ToolSpec("cancel", "", {"type": "object", "properties": {"rid": {"type": "string", kind: "reservation"}}}),
        ToolSpec(
            "get",
            "",
            {
                "type": "object",
                "properties": {"rid": _described("rsv-0001", **{kind: "reservation"}), "day": _described("2025-01-01")},
            },
        ),  # fmt: skip
    ]
    examples = kind_examples(specs)
    assert examples == {"reservation": "rsv-0001"}
    schema = specs[0].properties["rid"]
    assert written_like_example("cancel", schema) is True  # no example of its own
    assert written_like_example("cancel", schema, examples["reservation"]) is False
    assert written_like_example("rsv-0009", schema, examples["reservation"]) is True


def test_no_gold_value_of_the_suites_is_judged_unlike_its_example() -> None:
    """The checks never reject a value the builder's verified tasks use (levels 1-4, every suite): neither the
    example's form nor `taken_as_other_kind` against the task's earlier gold calls. They can only skip calls that
    would fail."""
    from raytool.envs.build import BuildConfig, build_tasks
    from raytool.envs.docgen import KIND_KEY
    from raytool.envs.suites import SUITE_NAMES, get_suite
    from raytool.tools.call import is_result_ref

    specs = {name: tool.spec for suite in SUITE_NAMES for name, tool in get_suite(suite).tools.items()}
    examples = kind_examples(list(specs.values()))
    checked = 0
    for level in (1, 2, 3, 4):
        for task in build_tasks(BuildConfig(tuple(SUITE_NAMES), level, 60, 900 + level, integration_walks=0),
                                log=lambda _: None).tasks:  # fmt: skip
            earlier = []
            for call in task.calls:
                for name, value in (call.arguments or {}).items():
                    schema = specs[call.name].properties[name]
                    if not is_result_ref(value):
                        checked += 1
                        assert written_like_example(value, schema, examples.get(schema.get(KIND_KEY, "")), name), (
                            call.name, name, value)  # fmt: skip
                        assert not taken_as_other_kind(value, schema.get(KIND_KEY), earlier), (call.name, name, value)
                earlier.append((specs[call.name], call.arguments or {}))
    assert checked > 500


def test_a_value_taken_as_one_kind_clashes_only_with_another_kind() -> None:
    """`taken_as_other_kind`: "USD" passed as a `currency` clashes with a `nationality`, not with another currency
    parameter, and never with a parameter without a kind (or after calls whose parameters have none)."""
    kind = "x-kind"
    fx = ToolSpec("fx", "", {"type": "object", "properties": {
        "base": {"type": "string", kind: "currency"}, "note": {"type": "string"}}})  # fmt: skip
    earlier = [(fx, {"base": "USD", "note": "Brazil"})]
    assert taken_as_other_kind("USD", "nationality", earlier) is True
    assert taken_as_other_kind(" usd ", "nationality", earlier) is True  # one mention, however it is cased
    assert taken_as_other_kind("USD", "currency", earlier) is False
    assert taken_as_other_kind("USD", None, earlier) is False
    assert taken_as_other_kind("Brazil", "nationality", earlier) is False  # "note" has no kind
    assert taken_as_other_kind("EUR", "nationality", earlier) is False
    assert taken_as_other_kind("USD", "nationality", []) is False
