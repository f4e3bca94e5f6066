"""Resolving result references: values found along their paths, and a typed error naming the argument otherwise."""

from __future__ import annotations

import pytest

from raytool.envs.binder import PastCall, UnresolvedReference, bind_arguments, resolve_arguments, same_shape
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
