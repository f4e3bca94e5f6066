"""Teacher-written call arguments: only values the request states are kept (with the reason for each drop), the
synth job writes them into its records and a `teacher_calls/` dataset, and the filler learns from them without
reading a missing value as "absent"."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from raytool.distill.call_arguments import PARTIAL, parse_arguments, stated_arguments, teacher_call_dataset
from raytool.distill.shards import read_shards
from raytool.distill.synth import TEACHER_CALLS, SynthConfig, synthesize
from raytool.filler.data import request_examples
from raytool.filler.encoder import HashSpanEncoder
from raytool.tools.call import ToolCall
from raytool.tools.dataset import ToolDataset
from raytool.tools.importers import import_dataset
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task
from tests.distill.fake_teacher import FakeTeacher

PROPS = {"city": {"type": "string"}, "seats": {"type": "integer"}, "cabin": {"type": "string", "enum": ["eco", "biz"]},
         "extras": {"type": "array", "items": {"type": "string"}}, "meta": {"type": "object"}}  # fmt: skip
BOOK = ToolSpec("book", "Book seats", {"type": "object", "properties": PROPS, "required": ["city"]})
QUERY = "Book 3 seats to Lima in first class with wifi and meals"


def test_only_values_the_request_states_are_kept_each_drop_with_its_reason() -> None:
    raw = {"city": "Lima", "seats": 3, "cabin": "first", "extras": ["wifi", "meals"], "meta": {"a": 1},
           "date": "2024-01-01", "note": None}  # fmt: skip
    kept, dropped = stated_arguments(raw, BOOK, QUERY)
    assert kept == {"city": "Lima", "seats": 3, "extras": ["wifi", "meals"]}
    unknown = {"date": "unknown parameter", "note": "unknown parameter"}
    assert dropped == {"cabin": "enum", "meta": "not a value"} | unknown
    empty = {"city": "not a value", "extras": "not a value"}
    assert stated_arguments({"city": None, "extras": []}, BOOK, QUERY)[1] == empty
    assert stated_arguments({"city": "Paris"}, BOOK, QUERY) == ({}, {"city": "not stated"})  # made up
    assert stated_arguments({"seats": "three"}, BOOK, "three seats") == ({"seats": 3}, {})  # a number word, stated
    assert stated_arguments({"seats": "three"}, BOOK, "two seats")[1] == {"seats": "not stated"}
    assert stated_arguments({"seats": "eighty"}, BOOK, "eighty seats")[1] == {"seats": "not an integer"}


def test_the_teachers_json_is_read_after_the_prefill_and_repaired_when_cut_off() -> None:
    assert parse_arguments('city": "Lima", "seats": 3}') == {"city": "Lima", "seats": 3}
    assert parse_arguments('city": "Lima", "seats": 3') == {"city": "Lima", "seats": 3}
    assert parse_arguments("no json at all") is None


def test_synth_writes_teacher_calls_and_a_partial_dataset(shared_data: Path, tmp_path: Path) -> None:
    data = import_dataset("seal_tools", shared_data / "seal_tools" / "dev.jsonl")
    data.tasks = data.tasks[195:201]
    summary = synthesize(data, tmp_path / "out", FakeTeacher(), SynthConfig(shard_size=3), lambda _: None)
    records = read_shards(tmp_path / "out")
    calls = [c for r in records for c in r["teacher_calls"]]
    assert len(calls) == sum(len(r["teacher_tools"]) for r in records) == summary["argument_calls"] > 0
    for record in records:
        for call in record["teacher_calls"]:  # the fake writes the request's first word and an unknown parameter
            assert call["parsed"] and call["dropped"]["zz_not_a_parameter"] == "unknown parameter"
            for value in call["arguments"].values():
                assert str(value).lower() in record["query"].lower()
    assert summary["argument_dropped_by_reason"]["unknown parameter"] == len(calls)
    teacher_calls = ToolDataset.load(tmp_path / "out" / TEACHER_CALLS)
    assert teacher_calls.info["arguments"] == PARTIAL and teacher_calls.info["teacher"] == "fake-teacher"
    assert len(teacher_calls.tasks) == sum(any(c["arguments"] for c in r["teacher_calls"]) for r in records)


@pytest.mark.parametrize("partial", [False, True])
def test_a_parameter_a_teacher_call_leaves_out_gives_no_example_when_partial(partial: bool) -> None:
    task = Task("t", QUERY, (ToolCall("book", {"city": "Lima"}),))
    counts: Counter = Counter()
    examples = request_examples([task], {"book": BOOK}, HashSpanEncoder(), counts, partial=partial)
    params = len(examples[0].params)
    if partial:
        assert params == 1 and counts["unknown"] == 4 and counts["used_absent"] == 0
    else:
        assert params >= 2 and counts["used_absent"] >= 1 and counts["unknown"] == 0
    records = [{"task_id": "t", "query": QUERY, "teacher_calls": [{"name": "book", "arguments": {"city": "Lima"}}]},
               {"task_id": "u", "query": "hi", "teacher_calls": [{"name": "book", "arguments": {}}]}]  # fmt: skip
    dataset = teacher_call_dataset(records, {"book": BOOK}, "t")
    assert [t.id for t in dataset.tasks] == ["t"] and list(dataset.tools) == ["book"]
