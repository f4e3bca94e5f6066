"""`distill instructions --tools`: every check rejects what it should, and the job is sharded and resumable."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from raytool.distill.catalogue_tasks import (
    CatalogueTaskConfig,
    answer_schema,
    check_answer,
    plan_items,
    synthesize_catalogue_tasks,
)
from raytool.teacher.backend import Sampling
from raytool.tools.dataset import ToolDataset
from raytool.tools.importers import import_dataset

CATALOGUE = Path(__file__).parents[2] / "examples" / "catalogues" / "helpdesk.mcp.json"


@pytest.fixture(scope="module")
def tools():
    return import_dataset("mcp", CATALOGUE).tools


def _answer(request: str, *calls: tuple[str, dict]) -> str:
    return "Sure! " + json.dumps({"request": request, "calls": [{"name": n, "arguments": a} for n, a in calls]})


GOOD = (
    "Find the account of ana@example.com and open a high priority ticket about a failed login for them",
    ("find_customer", {"email": "ana@example.com"}),
    ("create_ticket", {"customer_id": {"$ref": 0, "path": "customer_id"}, "subject": "failed login",
                       "priority": "high"}),
)  # fmt: skip


def test_a_grounded_answer_with_a_reference_passes(tools) -> None:
    task, failed = check_answer(_answer(*GOOD), [tools["find_customer"], tools["create_ticket"]])
    assert failed == "" and task is not None
    assert task.calls[1].depends_on == (0,) and task.calls[0].arguments == {"email": "ana@example.com"}


@pytest.mark.parametrize(
    ("answer", "specs", "reason"),
    [
        ("not json at all", ["find_customer"], "unparsed"),
        (_answer("Look up ana@example.com please", ("get_ticket", {"ticket_id": "ana@example.com"})),
         ["find_customer"], "wrong_tools"),
        (_answer(GOOD[0], GOOD[2], GOOD[1]), ["find_customer", "create_ticket"], "wrong_tools"),  # order matters
        (_answer("open an urgent-ish ticket for c-9 about login", ("create_ticket", {"customer_id": "c-9",
         "subject": "login", "priority": "urgent-ish"})), ["create_ticket"], "invalid_arguments"),  # not in enum
        (_answer("show my 3 orders", ("list_orders", {"limit": 3})), ["list_orders"], "invalid_arguments"),  # required
        (_answer("find ana@example.com", ("find_customer", {"email": {"$ref": 0, "path": "x"}})),
         ["find_customer"], "bad_reference"),  # a reference to itself
        (_answer(GOOD[0], GOOD[1], ("create_ticket", {"customer_id": {"$ref": 0, "path": "phone"},
         "subject": "failed login"})), ["find_customer", "create_ticket"], "bad_reference"),  # no such field
        (_answer("Find the customer with that email", ("find_customer", {"email": "bob@example.com"})),
         ["find_customer"], "ungrounded_value"),  # invented
        (_answer("ana@example.com", ("find_customer", {"email": "ana@example.com"})), ["find_customer"],
         "short_request"),
    ],
)  # fmt: skip
def test_each_check_rejects(tools, answer: str, specs: list[str], reason: str) -> None:
    task, failed = check_answer(answer, [tools[n] for n in specs])
    assert task is None and failed == reason


def test_numbers_are_grounded_in_their_written_forms(tools) -> None:
    ok = _answer("Refund 1,250 of order O-5531", ("refund_order", {"order_id": "O-5531", "amount": 1250}))
    assert check_answer(ok, [tools["refund_order"]])[1] == ""
    partial = _answer("Refund 12 of order O-5531", ("refund_order", {"order_id": "O-5531", "amount": 125}))
    assert check_answer(partial, [tools["refund_order"]])[1] == "ungrounded_value"  # "12" is not "125"


def test_plan_pairs_tools_whose_inputs_use_the_first_result(tools) -> None:
    items = plan_items(tools, CatalogueTaskConfig(num=200, multi_share=1.0, seed=0))
    assert all(len(i) == 2 and i[0] != i[1] for i in items)
    after_find = {second for first, second in items if first == "find_customer"}
    assert after_find and after_find <= {"create_ticket", "list_orders", "update_plan"}  # they take customer_id
    assert plan_items(tools, CatalogueTaskConfig(num=20, seed=3)) == plan_items(
        tools, CatalogueTaskConfig(num=20, seed=3)
    )


def test_answer_schema_constrains_tools_order_arguments_and_references(tools) -> None:
    from jsonschema import Draft202012Validator

    schema = answer_schema([tools["find_customer"], tools["create_ticket"]])
    Draft202012Validator.check_schema(schema)
    valid = json.loads(_answer(*GOOD).removeprefix("Sure! "))
    check = Draft202012Validator(schema).is_valid
    assert check(valid)
    assert list(schema["properties"]) == ["calls", "request"]  # the request is written after the values
    assert not check(valid | {"calls": valid["calls"][:1]})
    assert not check(valid | {"calls": valid["calls"][::-1]})  # order
    second = valid["calls"][1]
    assert not check(valid | {"calls": [valid["calls"][0], second | {"arguments": {"subject": "x"}}]})  # required
    bad_enum = second | {"arguments": second["arguments"] | {"priority": "whenever"}}
    assert not check(valid | {"calls": [valid["calls"][0], bad_enum]})
    bad_ref = second | {"arguments": second["arguments"] | {"customer_id": {"$ref": 0, "path": "phone"}}}
    assert not check(valid | {"calls": [valid["calls"][0], bad_ref]})  # find_customer returns no "phone"
    first_ref = {"name": "find_customer", "arguments": {"email": {"$ref": 0, "path": "name"}}}
    assert not check(valid | {"calls": [first_ref, second]})  # the first call has nothing to refer to


class ScriptedTeacher:
    """Answers each prompt by the planned tools it names: good for find_customer alone, ungrounded otherwise."""

    model_name = "scripted"

    def __init__(self) -> None:
        self.prompts = 0

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return [conv[-1]["content"] for conv in conversations]

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        self.prompts += len(prompts)
        out = []
        for prompt in prompts:
            names = [t["name"] for t in json.loads(prompt.removeprefix("Tools: "))]
            assert json.loads(sampling.json_schema)["properties"]["calls"]["minItems"] == len(names)
            if names == ["find_customer"]:
                out.append(
                    _answer("Please find the customer ana@example.com", ("find_customer", {"email": "ana@example.com"}))
                )
            else:
                out.append(_answer("do the thing for me", *((n, {"x": "invented"}) for n in names)))
        return out

    def score(self, prompts, candidates):
        raise AssertionError("not used")

    def close(self) -> None:
        pass


def test_job_counts_checks_dedups_and_resumes(tmp_path: Path) -> None:
    catalogue = import_dataset("mcp", CATALOGUE)
    config = CatalogueTaskConfig(num=30, multi_share=0.5, seed=1, shard_size=10)
    teacher = ScriptedTeacher()
    summary = synthesize_catalogue_tasks(catalogue, teacher, tmp_path / "out", config, log=lambda _: None)
    singles = sum(i == ("find_customer",) for i in plan_items(catalogue.tools, config))
    assert singles >= 2  # the seed plans the good item more than once: one kept, the others duplicates
    assert summary["kept"] == 1 and summary["failed"]["duplicate"] == singles - 1
    assert sum(summary["failed"].values()) + summary["kept"] == summary["planned"] == 30
    assert set(summary["failed"]) <= {"invalid_arguments", "wrong_tools", "duplicate", "ungrounded_value"}
    saved = ToolDataset.load(tmp_path / "out" / "dataset")
    assert [t.query for t in saved.tasks] == ["Please find the customer ana@example.com"]
    assert len(saved.tools) == 10
    again = ScriptedTeacher()  # a second run reads the finished shards: no teacher call
    assert synthesize_catalogue_tasks(catalogue, again, tmp_path / "out", config, log=lambda _: None) == summary
    assert again.prompts == 0
