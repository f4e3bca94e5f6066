"""Argument values of a bare request, read off the suites' sub-question templates."""

from __future__ import annotations

from raytool.agent.slots import request_calls
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.suites import SUITE_NAMES, get_suite
from raytool.tools.call import is_result_ref

TOOLS = [t for name in SUITE_NAMES for t in get_suite(name).tools.values()]


def test_a_generated_request_gives_back_its_literal_arguments() -> None:
    dataset = build_tasks(BuildConfig(("travel", "finance"), level=4, num_tasks=4, seed=2, integration_walks=0),
                          log=lambda _: None)  # fmt: skip
    for task in dataset.tasks:
        calls = request_calls(task.query, TOOLS)
        assert len(calls) == len(task.calls), task.query
        for got, gold in zip(calls, task.calls, strict=True):
            literal = {k: v for k, v in (gold.arguments or {}).items() if not is_result_ref(v)}
            assert {k: got.arguments.get(k) for k in literal} == literal, task.query


def test_types_extras_and_references() -> None:
    text = ("First, get a fare quote for a seat on flight BR176-2025-04-30. Finally, book the quoted fare the fare id "
            "from step 1 for traveller tr-104 (seat preference any).")  # fmt: skip
    quote, book = request_calls(text, TOOLS)
    assert quote.name == "quote_flight_fare" and quote.arguments == {"flight_id": "BR176-2025-04-30"}
    assert book.name == "book_flight" and book.arguments == {"traveller_id": "tr-104", "seat_preference": "any"}
    assert request_calls("Tell me a joke.", TOOLS) == ()
