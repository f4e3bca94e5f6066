"""Prompt builders: well-formed messages, every tool and the query present, fair continuations, examples parse."""

from __future__ import annotations

import pytest

from raytool.teacher import prompts
from raytool.teacher.parsing import parse_decomposition, parse_ranking, parse_rationale, parse_tool_selection
from raytool.tools.spec import ToolSpec

QUERY = "Transfer 20 EUR to Bob and tell him by SMS."
TOOLS = [
    ToolSpec(
        "transfer_money",
        "Move money between accounts.\nSecond line of the description.",
        {
            "type": "object",
            "properties": {"to": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["to", "amount"],
        },
    ),
    ToolSpec("sendSMS", "Send a text message."),
    ToolSpec("requestFirst Aid Assistance", "x" * 500),
]
NAMES = [t.name for t in TOOLS]
DOMAINS = {"cpn": "contacts, phone and notes", "finance": "banking and payments", "travel": "trips"}

BUILT = {
    "selection": prompts.tool_selection_messages(QUERY, TOOLS, max_tools=2),
    "rationale": prompts.rationalization_messages(QUERY, TOOLS, NAMES),
    "ranking": prompts.ranking_messages(QUERY, ["transfer_money"], TOOLS),
    "next_tool": prompts.next_tool_prompt_messages(QUERY, ["transfer_money"], TOOLS),
}


@pytest.mark.parametrize("kind", [*BUILT, "decomposition"])
def test_messages_are_well_formed(kind) -> None:
    messages = BUILT.get(kind) or prompts.decomposition_messages(QUERY, DOMAINS)
    assert isinstance(messages, list) and [m["role"] for m in messages] == ["system", "user"]
    for m in messages:
        assert set(m) == {"role", "content"} and isinstance(m["content"], str) and m["content"].strip()
    assert QUERY in messages[-1]["content"] and messages[-1]["content"].rstrip().endswith("Answer:")
    assert "Example" in messages[0]["content"]


@pytest.mark.parametrize("kind", list(BUILT))
def test_every_tool_name_is_listed_once_per_line(kind) -> None:
    user = BUILT[kind][-1]["content"]
    for name in NAMES:
        assert f"- {name}" in user
    assert "Second line" in user and "\n- Second" not in user  # descriptions are one line
    assert "x" * 200 not in user  # and capped


def test_selection_shows_required_params_and_limit() -> None:
    system, user = (m["content"] for m in BUILT["selection"])
    assert "(needs: to, amount)" in user and "at most 2" in system
    with pytest.raises(ValueError):
        prompts.tool_selection_messages(QUERY, TOOLS, max_tools=0)


def test_history_is_shown() -> None:
    for kind in ("ranking", "next_tool"):
        assert "Already called: transfer_money" in BUILT[kind][-1]["content"]
    assert "Already called: nothing yet" in prompts.ranking_messages(QUERY, [], TOOLS)[-1]["content"]


def test_rationale_prompt_lists_gold_in_order_even_when_unknown() -> None:
    user = prompts.rationalization_messages(QUERY, TOOLS, ["sendSMS", "mystery_tool"])[-1]["content"]
    assert user.index("- sendSMS") < user.index("- mystery_tool")
    assert "transfer_money" not in user


def test_decomposition_lists_domains() -> None:
    user = prompts.decomposition_messages(QUERY, DOMAINS)[-1]["content"]
    for name, desc in DOMAINS.items():
        assert f"- {name}: {desc}" in user
    assert "- cpn" in prompts.decomposition_messages(QUERY, ["cpn"])[-1]["content"]


def test_continuations_are_fair() -> None:
    conts = prompts.candidate_continuations(TOOLS)
    assert conts == prompts.candidate_continuations(NAMES)
    assert len(set(conts)) == len(conts) == len(TOOLS)
    assert prompts.NEXT_TOOL_PREFIX.endswith(":") and not prompts.NEXT_TOOL_PREFIX.endswith(" ")
    for cont, name in zip(conts, NAMES, strict=True):
        assert cont == f" {name}{prompts.NEXT_TOOL_END}" and cont.strip() == name
    templated = "<|im_start|>assistant\n"
    assert prompts.next_tool_scoring_prompt(templated) == templated + "Next tool:"
    with pytest.raises(ValueError):
        prompts.candidate_continuations(["a", "a"])
    with pytest.raises(ValueError):
        prompts.candidate_continuations(["a", " "])


def test_next_tool_example_is_prefix_plus_continuation() -> None:
    ex = prompts.NEXT_TOOL_EXAMPLE
    chosen = prompts.candidate_continuations(["send_email"])[0]
    assert ex.answer.startswith(prompts.NEXT_TOOL_PREFIX + chosen)
    system = prompts.next_tool_prompt_messages(QUERY, [], TOOLS)[0]["content"]
    assert ex.answer in system and prompts.NEXT_TOOL_PREFIX in system


def test_examples_round_trip_through_the_parsers() -> None:
    ex = prompts.SELECTION_EXAMPLE
    sel = parse_tool_selection(ex.answer, [t.name for t in ex.tools])
    assert sel.ok and sel.tools == ["get_weather", "send_email"] and sel.rationale
    assert ex.answer in BUILT["selection"][0]["content"]

    ex = prompts.RATIONALE_EXAMPLE
    assert parse_rationale(ex.answer).ok and ex.answer in BUILT["rationale"][0]["content"]

    ex = prompts.RANKING_EXAMPLE
    rank = parse_ranking(ex.answer, [t.name for t in ex.tools])
    assert rank.complete and rank.order == ["send_email", "book_hotel"]
    assert ex.answer in BUILT["ranking"][0]["content"]

    ex = prompts.DECOMPOSITION_EXAMPLE
    dec = parse_decomposition(ex.answer, [name for name, _ in ex.domains])
    assert dec.ok and [s.domain for s in dec.subtasks] == ["hotels", "weather", "mail"]
    assert dec.subtasks[2].depends_on == [1, 2]
    assert ex.answer in prompts.decomposition_messages(QUERY, DOMAINS)[0]["content"]
