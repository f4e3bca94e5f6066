"""Tool documents (what a tool is embedded by) and the segmentation of multi-part queries."""

from __future__ import annotations

from raytool.proposer.documents import query_segments, split_query, tool_document
from raytool.tools.spec import ToolSpec
from tests.proposer.catalogue import tool


def test_tool_document_lists_parameters_with_descriptions_in_schema_order() -> None:
    spec = tool("book_flight", "Travel", "Book a flight", {"origin": "Departure airport", "when": "Travel date"})
    assert tool_document(spec) == "book_flight: Book a flight Parameters: origin: Departure airport; when: Travel date"


def test_tool_document_without_parameters_or_descriptions() -> None:
    assert tool_document(ToolSpec("ping", "Check the server")) == "ping: Check the server"
    bare = ToolSpec("f", "Does f", {"type": "object", "properties": {"x": {"type": "string"}}, "required": []})
    assert tool_document(bare) == "f: Does f Parameters: x"


def test_split_query_splits_sentences_and_drops_tiny_fragments() -> None:
    query = "Book a flight to Rome! What is the weather there? Ok. Then; convert 5 euros to yen."
    assert split_query(query) == [
        "Book a flight to Rome!",
        "What is the weather there?",
        "Then;",
        "convert 5 euros to yen.",
    ]
    assert split_query("  Convert 100 dollars to euros.  ") == ["Convert 100 dollars to euros."]
    assert split_query("Hi. Ok.") == ["Hi. Ok."]  # every part too short: the whole query stays


def test_query_segments_whole_query_first_then_sentences() -> None:
    query = "Book a flight to Rome. Then tell me the weather in Rome."
    assert query_segments(query) == [query, "Book a flight to Rome.", "Then tell me the weather in Rome."]
    assert query_segments("Convert 100 dollars to euros.") == ["Convert 100 dollars to euros."]


def test_query_segments_appends_the_history_to_the_whole_query_only() -> None:
    query = "Book a flight to Rome. Then tell me the weather in Rome."
    segments = query_segments(query, history=("book_flight", "get_weather"))
    assert segments[0] == f"{query} Called so far: book_flight, get_weather."
    assert segments[1:] == ["Book a flight to Rome.", "Then tell me the weather in Rome."]
    assert query_segments("Convert dollars.", history=["convert_currency"]) == [
        "Convert dollars. Called so far: convert_currency."
    ]


def test_query_segments_without_segmentation_is_one_segment() -> None:
    query = "Book a flight to Rome. Then tell me the weather in Rome."
    assert query_segments(query, segment=False) == [query]
    assert query_segments(query, ("a",), segment=False) == [f"{query} Called so far: a."]
