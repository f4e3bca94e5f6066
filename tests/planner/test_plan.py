"""Rule decomposition, routing, job allocation in waves, and the planner's usability checks."""

from __future__ import annotations

import json

from raytool.planner.domain_router import BM25DomainRouter, domain_pools
from raytool.planner.plan import SubTask, allocate
from raytool.planner.planner import PlannerConfig, plan_episode, unusable
from raytool.planner.rules import sentence_dependencies, split_sentences
from raytool.teacher.lockstep import drive
from raytool.teacher.parsing import parse_decomposition
from raytool.tools.spec import ToolSpec
from tests.teacher.test_lockstep import CountingTeacher

QUERY = (
    "First, has tenant uni-lyon committed more than 6.07% of its budget. Then what is the resource quota of "
    "tenant the tenant id from step 1. Separately, place an order in account ac-1002 for 200 shares of RHNE "
    "(limit price 158.32). Then what is the beta of the ticker from step 3 against the RTX Composite index."
)
TOOLS = [
    ToolSpec("check_budget_alerts", "Check whether a tenant committed more than a share of its budget.", domain="cpn"),
    ToolSpec("check_tenant_quota", "The resource quota of a tenant.", domain="cpn"),
    ToolSpec("place_stock_order", "Place an order for shares in an account.", domain="finance"),
    ToolSpec("compute_beta", "The beta of a ticker against an index.", domain="finance"),
]


def test_sentences_keep_decimals_and_ids_whole_and_follow_step_references() -> None:
    sentences = split_sentences(QUERY)
    assert len(sentences) == 4 and "6.07%" in sentences[0] and "158.32)." in sentences[2]
    assert sentence_dependencies(sentences) == [(), (1,), (), (3,)]
    assert sentence_dependencies(["Book it.", "Then pay.", "Also check the weather."]) == [(), (1,), ()]


def test_allocation_chains_same_domain_subtasks_and_orders_waves() -> None:
    subtasks = [SubTask(1, "a", "cpn"), SubTask(2, "b", "cpn", (1,)), SubTask(3, "c", "finance"),
                SubTask(4, "d", "finance", (3,)), SubTask(5, "e", "travel", (2, 4))]  # fmt: skip
    jobs = allocate(subtasks)
    assert [(j.domain, j.subtasks, j.after, j.wave) for j in jobs] == [
        ("cpn", (1, 2), (), 0),
        ("finance", (3, 4), (), 0),
        ("travel", (5,), (0, 1), 1),
    ]
    assert jobs[0].text == "a b"
    assert [j.parts for j in jobs] == [("a", "b"), ("c", "d"), ("e",)]  # the proxy ranks candidates per part

    from raytool.agent.agent import job_payload
    from raytool.tools.task import Task

    catalogue = {t.name: t for t in TOOLS}
    payload = job_payload(Task(id="r", query="a b c d e", calls=()), jobs[0], {"cpn": TOOLS[:2]}, catalogue)
    assert payload["parts"] == ["a", "b"] and payload["pool"] == ["check_budget_alerts", "check_tenant_quota"]


def test_neighbours_of_one_domain_share_a_job_even_without_a_link() -> None:
    """A sub-task the planner did not link ("tell me the status of the transfer") joins the job of the same-domain
    sub-task written right before it, so its call can still refer to that job's outputs; one of the same domain
    further away, past another domain's, stays a job of its own."""
    subtasks = [SubTask(1, "pay", "finance"), SubTask(2, "transfer status", "finance"), SubTask(3, "quota", "cpn"),
                SubTask(4, "positions", "finance")]  # fmt: skip
    jobs = allocate(subtasks)
    assert [(j.domain, j.subtasks, j.wave) for j in jobs] == [("finance", (1, 2), 0), ("cpn", (3,), 0),
                                                               ("finance", (4,), 0)]  # fmt: skip


def test_rule_plan_routes_each_sentence_and_runs_the_two_chains_in_one_wave() -> None:
    router = BM25DomainRouter(domain_pools(TOOLS))
    teacher = CountingTeacher()  # answers with garbage: the rule takes over
    (plan,), (ledger,) = drive([plan_episode(QUERY, {"cpn": "", "finance": ""}, router)], teacher)
    assert ledger.teacher_calls == 1 and plan.source == "rule" and plan.failure
    assert [s.domain for s in plan.subtasks] == ["cpn", "cpn", "finance", "finance"]
    assert [(j.domain, j.subtasks, j.wave) for j in plan.jobs] == [("cpn", (1, 2), 0), ("finance", (3, 4), 0)]


def test_single_domain_needs_no_teacher_call() -> None:
    router = BM25DomainRouter(domain_pools(TOOLS[:2]))
    (plan,), (ledger,) = drive([plan_episode(QUERY, {"cpn": ""}, router)], None)
    assert ledger.teacher_calls == 0 and plan.source == "single" and len(plan.jobs) == 1


def test_a_grounded_covering_decomposition_is_used_and_an_invented_one_is_not() -> None:
    sentences = split_sentences(QUERY)
    entries = [
        {"id": i + 1, "text": s, "domain": "cpn" if i < 2 else "finance", "depends_on": [i] if i in (1, 3) else []}
        for i, s in enumerate(sentences)
    ]
    good = json.dumps({"subtasks": entries})
    assert unusable(parse_decomposition(good, ["cpn", "finance"]), QUERY, PlannerConfig()) == ""
    invented = json.dumps({"subtasks": [{"id": 1, "text": "The company's growth rate is 1.1%", "domain": "finance"}]})
    assert unusable(parse_decomposition(invented, ["cpn", "finance"]), QUERY, PlannerConfig()) == "ungrounded_subtask"
    partial = json.dumps({"subtasks": [{"id": 1, "text": sentences[0], "domain": "cpn"}]})
    assert unusable(parse_decomposition(partial, ["cpn", "finance"]), QUERY, PlannerConfig()) == "incomplete_cover"
