"""Requests in varied language: same calls and values as the template form, spans that locate each call's clause."""

from __future__ import annotations

import random
import re

import pytest

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.phrasing import (
    FRONTED,
    LISTED,
    NUMBER_WORD,
    REORDER,
    SMALL_NUMBERS,
    TOPICS,
    chains_of,
    natural_query,
    text_order,
)
from raytool.envs.suites import SUITE_NAMES, get_suite
from raytool.tools.call import is_result_ref

TOOLS = {name: tool for suite in SUITE_NAMES for name, tool in get_suite(suite).tools.items()}


@pytest.fixture(scope="module")
def level4():
    config = BuildConfig(tuple(SUITE_NAMES), level=4, num_tasks=12, seed=5, integration_walks=0)
    return build_tasks(config, log=lambda _: None), build_tasks(
        BuildConfig(tuple(SUITE_NAMES), level=4, num_tasks=12, seed=5, integration_walks=0, phrasing=1.0),
        log=lambda _: None,
    )


def _ends(task) -> list[int]:
    return [k - 1 for k, c in enumerate(task.calls) if k > 0 and not c.depends_on] + [len(task.calls) - 1]


def _render(task, seed: int):
    return natural_query([TOOLS[c.name] for c in task.calls], task.calls, _ends(task), random.Random(seed))


def test_phrasing_changes_the_words_and_nothing_else(level4) -> None:
    template, natural = level4
    for a, b in zip(template.tasks, natural.tasks, strict=True):
        assert a.calls == b.calls and a.answer == b.answer and a.tools == b.tools
        assert a.query != b.query
        assert "from step" in a.query and "from step" not in b.query
        assert not re.search(r"\b(First|Finally),", b.query)


def test_each_span_holds_its_calls_literal_values_and_references_are_described(level4) -> None:
    template, _ = level4
    for seed, task in enumerate(template.tasks):
        text, spans = _render(task, seed)
        written = sorted(spans)  # the calls' spans in the order the text writes them
        assert all(a < b for a, b in spans)
        assert all(end <= start for (_, end), (start, _) in zip(written, written[1:], strict=False))
        for call, (start, end) in zip(task.calls, spans, strict=True):
            clause = text[start:end]
            for name, value in (call.arguments or {}).items():
                if is_result_ref(value):
                    assert "step" not in clause
                elif isinstance(value, bool):
                    label = name.replace("_", " ")
                    assert label in clause and (("no " + label in clause) != value)
                elif not isinstance(value, list):
                    small = isinstance(value, int) and value < len(SMALL_NUMBERS)
                    words = [str(value)] + ([SMALL_NUMBERS[value]] if small else [])
                    assert any(w in clause for w in words), (task.id, name, value, clause)


def test_the_same_seed_gives_the_same_text_and_another_seed_usually_another(level4) -> None:
    template, _ = level4
    task = template.tasks[0]
    assert _render(task, 1) == _render(task, 1)
    assert len({_render(task, s)[0] for s in range(10)}) > 5


CONTINUE_ONLY = (", then ", " and then ", "; once that's done, ", ". After that, ", ". Then ", ", and after that ")


def test_independent_parts_are_reordered_and_each_chain_stays_whole_and_in_order(level4) -> None:
    template, _ = level4
    tasks = [t for t in template.tasks if len(chains_of(len(t.calls), _ends(t))) > 1]
    assert tasks, "level 4 composes two suites' chains"
    reordered = 0
    for task in tasks:
        chains = chains_of(len(task.calls), _ends(task))
        for seed in range(20):
            text, spans = _render(task, seed)
            written = sorted(range(len(spans)), key=lambda k: spans[k][0])
            for chain in chains:
                start = written.index(chain[0])  # written whole, in its own order: its references point back
                assert written[start : start + len(chain)] == chain
                before = text[: spans[chain[0]][0]]  # joined as a new part, never as a continuation
                assert not before.endswith(CONTINUE_ONLY), (before[-20:], text)
            reordered += written != sorted(written)
    share = reordered / (20 * len(tasks))
    assert abs(share - REORDER) <= 0.1, share


def test_a_request_with_one_chain_keeps_its_order() -> None:
    assert chains_of(5, [1]) == [[0, 1], [2, 3, 4]] and chains_of(3, []) == [[0, 1, 2]]
    for seed in range(50):
        assert text_order(4, [3], random.Random(seed)) == [0, 1, 2, 3]
        assert text_order(5, [1, 4], random.Random(seed)) in ([0, 1, 2, 3, 4], [2, 3, 4, 0, 1])


def test_phrasing_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="phrasing"):
        BuildConfig(("cpn",), level=2, num_tasks=1, phrasing=1.5)


def test_optional_values_are_written_before_after_or_without_their_name(level4) -> None:
    """An optional string value (not in the question template) is phrased "{label} {value}", "{value} {label}" or
    the value alone: all three forms occur, so readers learn either order ("sla tier gold", "gold sla tier") and
    values people write without the parameter's name ("5 GPUs (A100)")."""
    template, _ = level4
    forms = set()
    for seed, task in enumerate(template.tasks * 4):
        text, spans = _render(task, seed)
        for call, (start, end) in zip(task.calls, spans, strict=True):
            tool, clause = TOOLS[call.name], text[start:end]
            for name, value in (call.arguments or {}).items():
                optional = name not in tool.spec.required and "{" + name + "}" not in tool.question
                if optional and isinstance(value, str) and not is_result_ref(value):
                    label = name.replace("_", " ")
                    forms.add("after" if f"{label} {value}" in clause else "before" if f"{value} {label}" in clause
                              else "alone" if value in clause else clause)  # fmt: skip
    assert forms == {"after", "before", "alone"}


def test_small_counts_are_sometimes_written_as_words(level4) -> None:
    """An integer 0..12 of a call is written as its word for about `NUMBER_WORD` of the renderings ("one GPU")."""
    template, _ = level4
    worded = total = 0
    for seed, task in enumerate(template.tasks * 4):
        text, spans = _render(task, seed)
        for call, (start, end) in zip(task.calls, spans, strict=True):
            clause = text[start:end]
            for name, value in (call.arguments or {}).items():
                if name in TOOLS[call.name].spec.required and type(value) is int and value < len(SMALL_NUMBERS):
                    total += 1
                    worded += re.search(rf"\b{SMALL_NUMBERS[value]}\b", clause) is not None
    assert total >= 20 and abs(worded / total - NUMBER_WORD) <= 0.15, (worded, total)


def test_a_question_with_a_colon_is_sometimes_written_values_first_in_one_clause(level4) -> None:
    """The question "submit a demand for {tenant_id}: {cpu_cores} cores, ..." is written "helix-bio needs 32
    cores, ...: submit the demand" for about `FRONTED` of its renderings: subject and values first, the action after
    the colon, all in the call's one span; the subject keeps its case even at the start of the request."""
    template, _ = level4
    fronted = total = 0
    for seed, task in enumerate(template.tasks * 16):
        text, spans = _render(task, seed)
        for call, (start, end) in zip(task.calls, spans, strict=True):
            tenant = (call.arguments or {}).get("tenant_id")
            if call.name != "submit_demand" or is_result_ref(tenant):
                continue
            total += 1
            clause = text[start:end]
            if clause.startswith(tenant + " "):
                fronted += 1
                assert re.fullmatch(rf"{re.escape(tenant)} (needs|wants|is asking for) .+: submit .+", clause), clause
            else:
                assert re.search(rf"submit a demand for {re.escape(tenant)}: ", clause, re.I), clause
    assert total >= 15 and abs(fronted / total - FRONTED) <= 0.2, (fronted, total)


def test_a_topic_connector_names_the_suite_of_the_part_it_starts(level4) -> None:
    """A connector ". On the compute side, ..." starts a part of the cpn suite (`TOPICS`), never a continuation."""
    template, _ = level4
    topic_of = {word: suite for suite, words in TOPICS.items() for word in words}
    seen = 0
    for seed, task in enumerate(template.tasks * 6):
        text, spans = _render(task, seed)
        for call, (start, _) in zip(task.calls, spans, strict=True):
            match = re.search(r"On the (\w+) side, $", text[:start])
            if match:
                seen += 1
                assert topic_of[match.group(1)] == TOOLS[call.name].suite and not call.depends_on, text
    assert seen >= 3


def test_a_chain_is_sometimes_written_as_a_list_of_actions(level4) -> None:
    """About `LISTED` of a chain's continuations are joined by a comma alone ("look up X, pull Y, and sell Z"); a
    new part never is."""
    template, _ = level4
    listed = total = 0
    for seed, task in enumerate(template.tasks * 4):
        text, spans = _render(task, seed)
        written = sorted(range(len(spans)), key=lambda k: spans[k][0])
        for before, call in zip(written, written[1:], strict=False):
            gap = text[spans[before][1] : spans[call][0]]
            if call > 0 and call - 1 not in _ends(task):  # a continuation of its chain
                total += 1
                listed += gap == ", "
            else:
                assert gap != ", ", text
    assert total >= 50 and abs(listed / total - LISTED) <= 0.1, (listed, total)
