"""Resolving result references: values found along their paths, and a typed error naming the argument otherwise."""

from __future__ import annotations

import pytest

from raytool.envs.binder import PastCall, UnresolvedReference, bind_arguments, resolve_arguments
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
