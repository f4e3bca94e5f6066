"""The hand-written natural-language test set: its gold calls execute, its phrasing is not the builder's, and its
annotations are consistent with the calls."""

from __future__ import annotations

import re

import pytest

from raytool.envs.build import verify_tasks
from raytool.envs.natural import gold_plan, load_requests, task_of, template_segments, write_natural
from raytool.envs.sandbox import InlineExecutor
from raytool.tools.dataset import ToolDataset

RECORDS = load_requests()
TEMPLATE_WORDS = re.compile(r"\b(from step \d|First,|Separately,|Finally,)")


def test_the_set_has_forty_requests_single_and_multi_domain() -> None:
    assert len(RECORDS) >= 40
    multi = [r for r in RECORDS if "+" in r["domain"]]
    assert len(multi) >= 25 and len(RECORDS) - len(multi) >= 10
    assert len({r["id"] for r in RECORDS}) == len(RECORDS)
    assert len({r["twin"]["id"] for r in RECORDS}) == len(RECORDS)


@pytest.mark.parametrize("templated", [False, True])
def test_every_gold_call_executes_and_reproduces_the_answer(templated: bool) -> None:
    tasks = [task_of(r, templated) for r in RECORDS]
    with InlineExecutor() as executor:
        verified, failures = verify_tasks(tasks, executor)
    assert failures == []
    assert verified == len(RECORDS)


def test_natural_requests_are_not_templated_and_their_twins_are() -> None:
    for record in RECORDS:
        assert not TEMPLATE_WORDS.search(record["query"]), record["id"]
        assert TEMPLATE_WORDS.search(record["twin"]["query"]), record["twin"]["id"]
        assert record["query"] != record["twin"]["query"]


def test_segments_are_spans_of_the_request_one_per_call_in_request_order() -> None:
    for record in RECORDS:
        segments, query = record["segments"], record["query"]
        assert sorted(s["call"] for s in segments) == list(range(len(record["calls"]))), record["id"]
        starts = [query.find(s["text"]) for s in segments]
        assert all(start >= 0 for start in starts), record["id"]
        assert starts == sorted(starts), record["id"]  # listed in the order the request says them


def test_numbers_and_identifiers_of_the_gold_calls_are_in_the_natural_request() -> None:
    # literal values, except the ones written as words on purpose ("no GPUs", "one A100 GPU", booleans)
    words = {("gpu_count", 0), ("gpu_count", 1)}
    for record in RECORDS:
        tokens = {t.rstrip(".") for t in re.findall(r"[\w.]+", record["query"].lower())}
        for call in record["calls"]:
            for name, value in call["arguments"].items():
                if isinstance(value, (dict, bool)) or (name, value) in words:
                    continue
                text = str(int(value) if isinstance(value, float) and value.is_integer() else value).lower()
                assert all(part in tokens for part in re.findall(r"[\w.]+", text)), (record["id"], name, value)


def test_gold_plans_take_domains_and_dependencies_from_the_calls(tmp_path) -> None:
    natural, templated = write_natural(tmp_path)
    for directory in (natural, templated):
        dataset = ToolDataset.load(directory)
        assert len(dataset.tasks) == len(RECORDS)
    domains = {name: spec.domain for name, spec in ToolDataset.load(natural).tools.items()}
    record = next(r for r in RECORDS if r["twin"]["id"] == "cpn+travel-L4-s21-0")
    plan = gold_plan(record, domains)
    assert [s.domain for s in plan] == ["cpn", "cpn", "travel", "travel"]
    assert [s.depends_on for s in plan] == [(), (0,), (), (2,)]
    assert plan[1].text == "tell me how much that tenant has spent so far"
    twin = gold_plan(record, domains, templated=True)
    assert twin[3].text == "what is the weather forecast for Singapore on the date from step 3"


def test_template_segments_split_on_the_builders_markers_only() -> None:
    query = "First, pay 5410.1 from account ac-1008. Then what is the status. Separately, show X. Finally, do Y."
    assert template_segments(query) == ["pay 5410.1 from account ac-1008", "what is the status", "show X", "do Y"]
