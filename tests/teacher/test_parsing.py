"""Teacher answer parsers never raise on garbage and report documented failure codes; pi_LLM maths is exact."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import scipy.special

from raytool.teacher.distributions import combine_distributions, likelihood_distribution, ranking_distribution
from raytool.teacher.parsing import (
    Decomposition,
    Ranking,
    Rationale,
    ToolSelection,
    extract_json,
    parse_decomposition,
    parse_ranking,
    parse_rationale,
    parse_tool_selection,
)

TOOLS = ["get_weather", "send_email", "book_hotel", "getWeatherForecast"]
CANDS = ["book_hotel", "send_email", "get_weather"]
DOMAINS = ["cpn", "travel", "finance"]
SELECTION_CODES = {"", "empty", "no_known_tool", "no_json", "bad_schema"}
RATIONALE_CODES = {"", "empty", "bad_schema"}
RANKING_CODES = {"", "empty", "no_known_tool", "no_json", "bad_schema", "partial"}
DECOMPOSITION_CODES = {"", "empty", "no_subtasks", "no_json", "bad_schema", "bad_ids", "bad_dependency"}

GARBAGE = [
    "",
    "   \n\t  ",
    None,
    12345,
    b"\xff\xfe\x00binary{[\x00",
    bytes(range(256)),
    "\x00\x01\x02\x7f\x1b[31m",
    "x" * 100_000,
    "{" * 50_000 + "}" * 50_000,
    "[" * 100_000,
    "{]" * 30_000 + '{"tools": [',
    '{"tools": ["get_weather", "send_em',
    '{"rationale": "unterminated',
    '```json\n```json\n{"tools": ["get_weather"]}\n```\n```',
    '{"tools": "get_weather"}',
    '{"tools": {"a": 1}}',
    '{"tools": 7, "ranking": null, "subtasks": "do it"}',
    '{"tools": [1, 2.5, null, true, {"x": []}, [["nested"]]]}',
    '{"tools": ["send_email"], "tools": ["get_weather"]}',
    "{'tools': ['get_weather',], 'ok': True, 'x': None}",
    'ツール: 天気を取得 🌦️ {"tools": ["天気"]} ✉️',
    '[1, 2, 3] ["a"] {"b": [}',
    '{"subtasks": [{"id": "x", "depends_on": {"a": 1}}, 5, null, {"text": ""}]}',
    "'''''\"\"\"\"\"```````",
    "\\" * 1000 + '"' * 1001,
    '{"subtasks": [{"id": [[[1]]], "text": "a", "depends_on": ' + "[" * 900 + "]" * 900 + "}]}",
    '{"tools": ' + "[" * 900 + '"get_weather"' + "]" * 900 + "}",
]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_never_raises_and_gives_documented_codes(text) -> None:
    extract_json(text)
    sel = parse_tool_selection(text, TOOLS, max_tools=3)
    assert isinstance(sel, ToolSelection) and sel.failure in SELECTION_CODES and sel.ok == (sel.failure == "")
    assert set(sel.tools) <= set(TOOLS) and len(sel.tools) <= 3 and len(sel.rationale) <= 603
    rat = parse_rationale(text)
    assert isinstance(rat, Rationale) and rat.failure in RATIONALE_CODES and rat.ok == (rat.failure == "")
    rank = parse_ranking(text, CANDS)
    assert isinstance(rank, Ranking) and rank.failure in RANKING_CODES and rank.ok == (rank.failure == "")
    assert sorted(rank.order) == sorted(CANDS)
    dec = parse_decomposition(text, DOMAINS)
    assert isinstance(dec, Decomposition) and dec.failure in DECOMPOSITION_CODES and dec.ok == (dec.failure == "")
    for k, sub in enumerate(dec.subtasks, start=1):
        assert sub.id == k and all(d < k for d in sub.depends_on) and sub.domain in (None, *DOMAINS)


@pytest.mark.parametrize("text", ["", "  \n ", None, b"", 3.5])
def test_empty_inputs_are_empty(text) -> None:
    assert parse_tool_selection(text, TOOLS).failure == "empty"
    assert parse_rationale(text).failure == "empty"
    assert parse_ranking(text, CANDS).failure == "empty"
    assert parse_ranking(text, CANDS).order == CANDS
    assert parse_decomposition(text, DOMAINS).failure == "empty"


def test_large_inputs_are_fast() -> None:
    start = time.perf_counter()
    for text in ("get weather " * 10_000, "[{" * 50_000, '{"a": "' + "x" * 100_000):
        parse_tool_selection(text, TOOLS)
        parse_decomposition(text, DOMAINS)
    assert time.perf_counter() - start < 10


# --- extract_json -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure! Here it is:\n```json\n{"a": [1, 2]}\n```\nHope that helps {', {"a": [1, 2]}),
        ("{'a': 'it\\'s', 'b': \"say 'hi'\"}", {"a": "it's", "b": "say 'hi'"}),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
        ("{'a': True, 'b': False, 'c': None}", {"a": True, "b": False, "c": None}),
        ("{tools: [get_weather, send email]}", {"tools": ["get_weather", "send email"]}),
        ('{"a": "brackets } ] inside"}', {"a": "brackets } ] inside"}),
        ('I\'d say [1, 2] but really {"x": "y"}', {"x": "y"}),
        ("only a list: [\"a\", 'b']", ["a", "b"]),
        ('{"a": "line\nbreak"}', {"a": "line\nbreak"}),
        ('{"a": 1, "a": 2}', {"a": 2}),
        ('{"a": {"b": [1, {"c": "d"', {"a": {"b": [1, {"c": "d"}]}}),
        ('{"text": "caf\u00e9 \u2603 \U0001f600"}', {"text": "caf\u00e9 \u2603 \U0001f600"}),
    ],
)
def test_extract_json_repairs(text, expected) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "{not: json: at all}", "[[[", "}{", "True", "'just a string'"])
def test_extract_json_gives_none(text) -> None:
    assert extract_json(text) is None


def test_extract_json_never_evaluates() -> None:
    assert extract_json("{'a': __import__('os').system('echo hi')}") is None


# --- tool selection ----------------------------------------------------------------------------------------


def test_selection_clean_json_parses_exactly() -> None:
    text = json.dumps({"rationale": "Weather first, then the email.", "tools": ["get_weather", "send_email"]})
    assert parse_tool_selection(text, TOOLS) == ToolSelection(
        ["get_weather", "send_email"], "Weather first, then the email.", True, ""
    )


def test_selection_fenced_python_style_answer() -> None:
    text = "Let me think.\n```json\n{'rationale': 'need both', 'tools': ['Get Weather', 'sendEmail',],}\n```"
    sel = parse_tool_selection(text, TOOLS)
    assert (sel.tools, sel.rationale, sel.ok) == (["get_weather", "send_email"], "need both", True)


def test_selection_unknown_names_are_dropped_and_counted() -> None:
    sel = parse_tool_selection('{"tools": ["get_weather", "fly_to_mars", "get_weather", "send_email"]}', TOOLS)
    assert sel.tools == ["get_weather", "send_email"] and sel.unknown == ["fly_to_mars"] and sel.ok
    sel = parse_tool_selection('{"tools": ["fly_to_mars"]}', TOOLS)
    assert (sel.tools, sel.unknown, sel.failure) == ([], ["fly_to_mars"], "no_known_tool")


def test_selection_wrong_types_are_coerced_as_bad_schema() -> None:
    sel = parse_tool_selection('{"tools": "get_weather, then send_email"}', TOOLS)
    assert (sel.tools, sel.failure) == (["get_weather", "send_email"], "bad_schema")
    sel = parse_tool_selection('{"tools": {"name": "book_hotel"}}', TOOLS)
    assert (sel.tools, sel.failure) == (["book_hotel"], "bad_schema")
    sel = parse_tool_selection('{"tools": [{"name": "send_email", "arguments": {}}]}', TOOLS)
    assert (sel.tools, sel.failure) == (["send_email"], "")
    sel = parse_tool_selection('{"rationale": "I would use send_email."}', TOOLS)
    assert (sel.tools, sel.failure, sel.rationale) == (["send_email"], "bad_schema", "I would use send_email.")
    assert parse_tool_selection('{"tools": 42}', TOOLS).failure == "no_known_tool"


def test_selection_fallback_scans_in_order_of_appearance() -> None:
    text = "First I send_email... no wait. Use get weather, then sendEmail again, and book_hotel."
    sel = parse_tool_selection(text, TOOLS)
    assert sel.tools == ["send_email", "get_weather", "book_hotel"] and sel.failure == "no_json" and not sel.ok
    assert parse_tool_selection("nothing useful here", TOOLS).failure == "no_known_tool"


def test_selection_fallback_rationale_drops_the_tool_list() -> None:
    sel = parse_tool_selection("The forecast comes first.\nTools: get_weather, send_email", TOOLS)
    assert sel.tools == ["get_weather", "send_email"] and sel.rationale == "The forecast comes first."


def test_selection_truncated_json_is_closed() -> None:
    sel = parse_tool_selection('{"rationale": "weather then mail", "tools": ["get_weather", "send_email"', TOOLS)
    assert (sel.tools, sel.rationale, sel.ok) == (["get_weather", "send_email"], "weather then mail", True)


def test_selection_prefers_the_object_with_tools() -> None:
    sel = parse_tool_selection('Format: {"a": "[{]"}. Answer: {"tools": ["book_hotel"]}', TOOLS)
    assert (sel.tools, sel.ok) == (["book_hotel"], True)


def test_selection_max_tools_and_rationale_cap() -> None:
    text = json.dumps({"rationale": "word " * 1000, "tools": ["send_email", "get_weather", "book_hotel"]})
    sel = parse_tool_selection(text, TOOLS, max_tools=2)
    assert sel.tools == ["send_email", "get_weather"] and len(sel.rationale) <= 600 and sel.ok


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("get_weather", "get_weather"),
        ("GET_WEATHER", "get_weather"),
        ("get weather", "get_weather"),
        ("getWeather", "get_weather"),
        ("Get-Weather", "get_weather"),
        ("`get_weather()`", "get_weather"),
        ("get_weather_forecast", "getWeatherForecast"),
        ("GetWeatherForecast", "getWeatherForecast"),
    ],
)
def test_selection_name_normalisation(name, expected) -> None:
    assert parse_tool_selection(json.dumps({"tools": [name]}), TOOLS).tools == [expected]


def test_scan_prefers_exact_spelling_and_longest_name_and_respects_word_boundaries() -> None:
    known = ["getWeather", "get_weather", "get_weather_forecast", "requestFirst Aid Assistance"]
    assert parse_tool_selection("call get_weather now", known).tools == ["get_weather"]
    assert parse_tool_selection("call getWeather now", known).tools == ["getWeather"]
    assert parse_tool_selection("use get_weather_forecast", known).tools == ["get_weather_forecast"]
    assert parse_tool_selection("use request first aid assistance", known).tools == ["requestFirst Aid Assistance"]
    assert parse_tool_selection("use get_weather_daily or forget weather", ["get_weather"]).tools == []


# --- rationale ---------------------------------------------------------------------------------------------


def test_rationale_variants() -> None:
    assert parse_rationale('{"rationale": "Because X."}') == Rationale("Because X.", True, "")
    assert parse_rationale("Rationale: the forecast is needed first.") == Rationale(
        "the forecast is needed first.", True, ""
    )
    assert parse_rationale('```json\n{"reason": "short"}\n```') == Rationale("short", True, "")
    assert parse_rationale('{"rationale": "cut off mid sent').text == "cut off mid sent"
    assert parse_rationale('{"answer": 1} and then some prose') == Rationale("and then some prose", False, "bad_schema")
    assert parse_rationale('{"answer": 1}').failure == "empty"
    assert parse_rationale('{"rationale": "..."}').failure == "empty"
    assert parse_rationale('{"rationale": "<your explanation>"}').failure == "empty"  # the echoed format
    assert len(parse_rationale("why " * 1000).text) <= 600


# --- ranking -----------------------------------------------------------------------------------------------


def test_ranking_clean_and_complete() -> None:
    rank = parse_ranking('{"ranking": ["send_email", "get_weather", "book_hotel"]}', CANDS)
    assert rank.order == ["send_email", "get_weather", "book_hotel"] and rank.complete and rank.ok
    assert rank.ranked_indices(CANDS) == [1, 2, 0]


def test_ranking_all_but_one_is_complete_and_fewer_is_partial() -> None:
    rank = parse_ranking('{"ranking": ["get weather", "sendEmail"]}', CANDS)
    assert rank.order == ["get_weather", "send_email", "book_hotel"] and rank.complete
    rank = parse_ranking('{"ranking": ["send_email"]}', CANDS)
    assert rank.order == ["send_email", "book_hotel", "get_weather"]
    assert (rank.complete, rank.failure, rank.ranked) == (False, "partial", ["send_email"])


def test_ranking_numbers_unknowns_and_duplicates() -> None:
    rank = parse_ranking('{"ranking": [3, "teleport", "get_weather", 1, 99]}', CANDS)
    assert rank.ranked == ["get_weather", "book_hotel"] and rank.unknown == ["teleport", "99"] and rank.complete


def test_ranking_fallbacks() -> None:
    rank = parse_ranking("Best is send_email, then book_hotel.", CANDS)
    assert rank.order == ["send_email", "book_hotel", "get_weather"] and rank.failure == "no_json"
    assert not rank.complete
    rank = parse_ranking('{"ranking": "get_weather > send_email"}', CANDS)
    assert rank.failure == "bad_schema" and not rank.complete
    rank = parse_ranking("no idea", CANDS)
    assert (rank.order, rank.failure) == (CANDS, "no_known_tool")


# --- decomposition -----------------------------------------------------------------------------------------


def test_decomposition_clean() -> None:
    text = json.dumps(
        {
            "subtasks": [
                {"id": 1, "text": "Find flights", "domain": "travel", "depends_on": []},
                {"id": 2, "text": "Pay", "domain": "Finance", "depends_on": [1]},
            ]
        }
    )
    dec = parse_decomposition(text, DOMAINS)
    assert dec.ok and [(s.id, s.text, s.domain, s.depends_on) for s in dec.subtasks] == [
        (1, "Find flights", "travel", []),
        (2, "Pay", "finance", [1]),
    ]


def test_decomposition_drops_cycles_forward_and_unknown_dependencies() -> None:
    text = json.dumps(
        {
            "subtasks": [
                {"id": 1, "text": "a", "domain": "CPN", "depends_on": [2, 1]},
                {"id": 2, "text": "b", "domain": "cpn", "depends_on": [1, 9]},
                {"id": 3, "text": "c", "domain": "cpn", "depends_on": [2, 3]},
            ]
        }
    )
    dec = parse_decomposition(text, DOMAINS)
    assert [s.depends_on for s in dec.subtasks] == [[], [1], [2]]
    assert (dec.failure, dec.dropped_dependencies, dec.ok) == ("bad_dependency", 4, False)


def test_decomposition_remaps_ids_and_reports_unknown_domains() -> None:
    text = '{"subtasks": [{"id": 10, "text": "x", "domain": "weather"}, {"id": "20", "text": "y", "depends_on": "10"}]}'
    dec = parse_decomposition(text, DOMAINS)
    assert [(s.id, s.domain, s.depends_on) for s in dec.subtasks] == [(1, None, []), (2, None, [1])]
    assert dec.unknown_domains == ["weather"] and dec.ok
    dec = parse_decomposition('{"subtasks": [{"id": 1, "text": "x"}, {"id": 1, "text": "y"}]}', DOMAINS)
    assert dec.failure == "bad_ids" and [s.id for s in dec.subtasks] == [1, 2]


def test_decomposition_line_fallback() -> None:
    dec = parse_decomposition("Plan:\n1. Find the hotel\n2) Pay for it\n- Email Ana\nThanks!", DOMAINS)
    assert [(s.id, s.text, s.domain, s.depends_on) for s in dec.subtasks] == [
        (1, "Find the hotel", None, []),
        (2, "Pay for it", None, [1]),
        (3, "Email Ana", None, [2]),
    ]
    assert dec.failure == "no_json"
    assert parse_decomposition('{"plan": 5}\n* step one', DOMAINS).failure == "bad_schema"
    assert parse_decomposition("just prose", DOMAINS).failure == "no_subtasks"
    assert parse_decomposition('{"subtasks": []}', DOMAINS).failure == "no_subtasks"


# --- distributions -----------------------------------------------------------------------------------------


def test_likelihood_distribution_matches_softmax() -> None:
    rng = np.random.default_rng(0)
    for temperature in (0.3, 1.0, 4.0):
        x = rng.normal(size=7) * 20 - 500
        pi = likelihood_distribution(x, temperature)
        assert pi.shape == (7,) and np.isclose(pi.sum(), 1)
        np.testing.assert_allclose(pi, scipy.special.softmax(x / temperature), rtol=1e-12)


def test_likelihood_distribution_edge_cases() -> None:
    pi = likelihood_distribution(np.array([-np.inf, -1.0, np.nan, -2.0]))
    assert pi[0] == 0 and pi[2] == 0 and np.isclose(pi.sum(), 1)
    np.testing.assert_allclose(pi[[1, 3]], scipy.special.softmax([-1.0, -2.0]))
    np.testing.assert_array_equal(likelihood_distribution(np.full(4, -np.inf)), np.full(4, 0.25))
    np.testing.assert_array_equal(likelihood_distribution(np.array([1e308, -1e308])), [1.0, 0.0])
    np.testing.assert_array_equal(likelihood_distribution(np.array([np.inf, 0.0, np.inf])), [0.5, 0.0, 0.5])
    assert likelihood_distribution(np.array([])).shape == (0,)
    with pytest.raises(ValueError):
        likelihood_distribution(np.zeros(3), temperature=0)


def test_ranking_distribution_weights() -> None:
    pi = ranking_distribution([2, 0, 1, 3], 4, decay=0.5)
    np.testing.assert_allclose(pi, np.array([0.5, 0.25, 1.0, 0.125]) / 1.875)
    pi = ranking_distribution([3, 1], 5, decay=0.5)
    order = [3, 1, 0, 2, 4]
    assert np.isclose(pi.sum(), 1) and all(pi[a] >= pi[b] for a, b in zip(order, order[1:], strict=False))
    assert pi[0] == pi[2] == pi[4] < pi[1] < pi[3]
    np.testing.assert_allclose(pi[[0, 2, 4]].sum() * 1.9375, 0.25 + 0.125 + 0.0625)
    np.testing.assert_allclose(ranking_distribution([], 4), np.full(4, 0.25))
    np.testing.assert_allclose(ranking_distribution([1, 0], 2, decay=1.0), [0.5, 0.5])
    for bad in ([0, 0], [5]):
        with pytest.raises(ValueError):
            ranking_distribution(bad, 3)


def test_combine_distributions() -> None:
    pl = likelihood_distribution(np.array([-1.0, -2.0, -0.5, -np.inf]))
    pr = ranking_distribution([1, 0, 2, 3], 4)
    np.testing.assert_array_equal(combine_distributions(pl, None, 0.7), pl)
    np.testing.assert_allclose(combine_distributions(pl, pr, 0.0), pl)
    np.testing.assert_allclose(combine_distributions(pl, pr, 1.0), pr)
    mixed = combine_distributions(pl, pr, 0.5)
    expected = np.sqrt(pl * pr) / np.sqrt(pl * pr).sum()
    np.testing.assert_allclose(mixed, expected)
    assert np.isclose(mixed.sum(), 1) and (mixed >= 0).all() and mixed[3] == 0
    np.testing.assert_array_equal(combine_distributions(np.array([1.0, 0]), np.array([0, 1.0]), 0.5), [1.0, 0])
    with pytest.raises(ValueError):
        combine_distributions(pl, pr[:2], 0.5)


def test_parsed_ranking_feeds_the_distributions() -> None:
    rank = parse_ranking('{"ranking": ["get_weather", "book_hotel"]}', CANDS)
    assert rank.complete
    pr = ranking_distribution(rank.ranked_indices(CANDS), len(CANDS))
    assert pr.argmax() == CANDS.index("get_weather")


# --- echoes of the prompt (what the 135M teacher often writes) ---------------------------------------------


ECHO = (
    "Tools:\n- get_weather: Weather forecast for a city on a date.\n- send_email: Send an email to a person.\n"
    "- book_hotel: Book a hotel room in a city.\nRequest: What will the weather be in Paris tomorrow?\n"
)


def test_echoed_tool_listing_is_not_a_selection_or_a_rationale() -> None:
    sel = parse_tool_selection(ECHO, TOOLS)
    assert (sel.tools, sel.failure, sel.rationale) == ([], "no_known_tool", "")
    sel = parse_tool_selection(ECHO + "I will call send_email.", TOOLS)
    assert (sel.tools, sel.failure, sel.rationale) == (["send_email"], "no_json", "I will call send_email.")
    assert parse_rationale(ECHO, TOOLS).failure == "empty"
    assert parse_rationale(ECHO + "Weather first, then mail.", TOOLS).text == "Weather first, then mail."
    numbered = "1. get_weather: for the forecast\n2. send_email: to tell Ana"
    assert parse_tool_selection(numbered, TOOLS).tools == ["get_weather", "send_email"]


def test_list_entries_that_are_not_names_are_scanned() -> None:
    sel = parse_tool_selection('{"tools": ["get_weather then send_email", "the end"]}', TOOLS)
    assert (sel.tools, sel.unknown, sel.ok) == (["get_weather", "send_email"], ["the end"], True)


def test_invented_names_in_an_echoed_listing_are_dropped_too() -> None:
    text = "- convert_to_other: Convert money.\n- sendText: Text someone.\n- First: get weather."
    assert parse_rationale(text).text == "- First: get weather."
    assert parse_tool_selection(text + " Then send_email.", TOOLS).tools == ["get_weather", "send_email"]
